"""`POST /v1/hash-check` against hash sets in the store, intake's automatic check, and the
hash-chained audit log with `vigil audit verify`."""

from __future__ import annotations

import copy
import hashlib

from sqlalchemy import delete, select, update

from tests.api.conftest import database, example
from vigil.hashsets import Entry
from vigil.store import open_database
from vigil.store.audit import verify
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import AuditEntry

PDQ = "3c1e0f8a77d2b4e96a0c5f1e2d3b4a5968778695a4b3c2d1e0f1e2d3c4b5a697"  # not in the schema examples


def near(hex_hash: str, bits: int) -> str:
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def test_hash_check_and_automatic_labels(client, make_org, db_url):
    org = make_org()
    md5 = hashlib.md5(b"known file").hexdigest()
    sha1 = hashlib.sha1(b"another").hexdigest()
    repo = HashsetRepository(database(db_url))
    name = f"national-{org.name}"
    repo.import_entries(
        name,
        [
            Entry("md5", bytes.fromhex(md5), "csam"),
            Entry("sha1", bytes.fromhex(sha1), None),
            Entry("pdq", bytes.fromhex(PDQ), "csam"),
        ],
        fmt="text",
        category="child_exploitive",
    )
    unknown = hashlib.md5(b"new").hexdigest()
    body = {"hashes": [md5, unknown, sha1.upper(), near(PDQ, 5)], "signal": None}
    r = client.post("/v1/hash-check", json={"hashes": body["hashes"]}, headers=org.h())
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["hash"] for x in results] == [md5, unknown, sha1, near(PDQ, 5)]
    ours = [[m for m in x["matches"] if m["hashset"] == name] for x in results]
    assert ours[0] == [{"hashset": name, "signal": "md5", "distance": 0, "category": "csam"}]
    assert ours[1] == []
    assert ours[2] == [{"hashset": name, "signal": "sha1", "distance": 0, "category": "child_exploitive"}]
    assert ours[3] == [{"hashset": name, "signal": "pdq", "distance": 5, "category": "csam"}]
    assert (
        client.post(
            "/v1/hash-check", json={"hashes": [near(PDQ, 5)], "signal": "sha256"}, headers=org.h()
        ).json()["results"][0]["matches"]
        == []
    )
    too_many = client.post("/v1/hash-check", json={"hashes": [md5] * 10_001}, headers=org.h())
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "/hashes"
    bad = client.post("/v1/hash-check", json={"hashes": ["xyz"]}, headers=org.h())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/hashes/0"
    # intake: a file on a hash set is labelled with the set's category and counts as known
    report = copy.deepcopy(example(1))
    report["files"][0]["hashes"] = {"md5": md5}
    made = client.post("/v1/reports", json=report, headers=org.h()).json()
    assert {"hashset": name, "signal": "md5", "distance": 0, "category": "csam"} in made["files"][0][
        "matches"
    ]
    assert "new_content" not in {r["rule"] for r in made["priority"]["rules"]}


def test_every_report_access_is_audited_and_tampering_detected(client, make_org, db_url):
    org = make_org()
    report = client.post("/v1/reports", json=example(0), headers=org.h()).json()["id"]
    client.get(f"/v1/reports/{report}", headers=org.h("supervisor"))
    db = database(db_url)
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.object == f"report:{report}")
        ).all()
    assert [tuple(r) for r in rows] == [
        (f"analyst@{org.name}.example", "report.create"),
        (f"supervisor@{org.name}.example", "report.read"),
    ]
    count, problems, _ = verify(db)
    assert problems == [] and count >= 2


def test_audit_verify_finds_changed_and_deleted_rows(tmp_path):
    from tests.scan.conftest import cli
    from vigil.reports.accounts import Accounts

    db_path = str(tmp_path / "audit.db")
    accounts = Accounts(open_database(db_path))
    for i in range(5):
        accounts.create_org(f"o{i}", "ngo", "FR")
    assert cli("audit", "verify", "--db", db_path) == 0
    db = open_database(db_path)
    with db.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == 3).values(detail='{"name":"forged"}'))
    _, problems, _ = verify(db)
    assert problems == ["row 3: its content was changed after it was written"]
    assert cli("audit", "verify", "--db", db_path) == 2
    with db.engine.begin() as conn:
        conn.execute(
            update(AuditEntry).where(AuditEntry.id == 3).values(detail='{"name":"o2","sector":"ngo"}')
        )
    assert verify(db)[1] == []
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.id == 2))
    _, problems, _ = verify(db)
    assert problems == [
        "row 3: does not follow row 1 (a row between them was deleted, or one of them changed)"
    ]


def test_audit_verify_reads_the_chain_not_the_ids(db_url):
    """A transaction that appended audit rows and then rolled back leaves a gap in the ids on
    PostgreSQL (sequence numbers are not given back); the chain is intact, so verify finds nothing.
    A gap made by hand on either database is no problem either; a changed link still is."""
    from vigil.store.audit import append

    db = database(db_url)
    with db.engine.begin() as conn:
        append(conn, "t", None, "test.before", "n:1")
    try:
        with db.engine.begin() as conn:
            append(conn, "t", None, "test.rolled-back", "n:2")
            append(conn, "t", None, "test.rolled-back", "n:3")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    with db.engine.begin() as conn:
        append(conn, "t", None, "test.after", "n:4")
    with db.engine.connect() as conn:
        ids = list(conn.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(2)).scalars())
    if db.engine.dialect.name == "postgresql":
        assert ids[0] - ids[1] == 3  # the two rolled-back rows' ids are gone for good
    with db.engine.begin() as conn:  # a gap by hand: the last row moves up; its links are unchanged
        conn.execute(update(AuditEntry).where(AuditEntry.id == ids[0]).values(id=ids[0] + 1000))
    assert verify(db)[1] == []
    with db.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.id == ids[0] + 1000).values(prev_hash="0" * 64))
    problems = verify(db)[1]
    assert problems[0].startswith(f"row {ids[0] + 1000}: does not follow row {ids[1]}")
    with db.engine.begin() as conn:  # leave the shared test database's chain as it was
        conn.execute(delete(AuditEntry).where(AuditEntry.id == ids[0] + 1000))


def _append_many(db_path: str, who: str) -> None:
    from vigil.store.audit import append

    db = open_database(db_path)
    for i in range(300):
        with db.engine.begin() as conn:
            append(conn, who, None, "test.append", f"n:{i}")


def test_concurrent_writers_keep_one_chain(tmp_path):
    """Two processes appending at once (as two API workers do) never fork the chain."""
    import multiprocessing

    db_path = str(tmp_path / "race.db")
    open_database(db_path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(db_path, f"p{k}")) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    count, problems, _ = verify(open_database(db_path))
    assert (count, problems) == (1200, [])
