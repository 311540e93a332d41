"""A national hash-check service: several `vigil serve` machines on one PostgreSQL, each with its own
index folder. What one machine's import, replacement, disabling or deletion of a set changes, every
server answers within the documented bound; a server started on an empty index folder builds what it
needs from the database before it answers."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from tests.api.conftest import _postgres_database
from tests.api.test_serve_cli import _serve, vigil

BOUND_SECONDS = 5.0  # README, "Several servers on one PostgreSQL": a change is answered within this
A, B, C = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", "00" * 16

pytestmark = pytest.mark.skipif(
    not os.environ.get("VIGIL_TEST_POSTGRES_URL"), reason="needs VIGIL_TEST_POSTGRES_URL (.ci/run sets it)"
)


@pytest.fixture
def database():
    url, drop = _postgres_database(os.environ["VIGIL_TEST_POSTGRES_URL"])
    yield url
    drop()


def _cli(db: str, index: os.PathLike, *args: str, stdin: str | None = None):
    env_before = os.environ.get("VIGIL_INDEX_DIR")
    os.environ["VIGIL_INDEX_DIR"] = str(index)  # this machine's own index folder
    try:
        result = vigil(*args, "--db", db, stdin=stdin)
    finally:
        if env_before is None:
            os.environ.pop("VIGIL_INDEX_DIR")
        else:
            os.environ["VIGIL_INDEX_DIR"] = env_before
    assert result.returncode == 0, result.stderr
    return result.stdout


def _import(db, index, tmp_path, name, *hashes):
    lst = tmp_path / f"{name}-{len(hashes)}-{time.monotonic_ns()}.txt"
    lst.write_text("".join(h + "\n" for h in hashes))
    _cli(db, index, "hashset", "import", str(lst), "--name", name, "--category", "csam")


def _sets_knowing(base: str, token: str) -> dict[str, list[str]]:
    answer = httpx.post(
        f"{base}/v1/hash-check", json={"hashes": [A, B, C]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return {r["hash"]: sorted(m["hashset"] for m in r["matches"]) for r in answer.json()["results"]}


def _within_bound(servers, token, expected) -> None:
    """Every server answers `expected` within the bound (polled)."""
    deadline = time.monotonic() + BOUND_SECONDS + 1.0  # + the poll's own latency
    for base in servers:
        while True:
            seen = _sets_knowing(base, token)
            if seen == expected:
                break
            assert time.monotonic() < deadline, (base, seen, expected)
            time.sleep(0.2)


def test_two_servers_on_one_database_answer_the_same(database, tmp_path):
    admin = tmp_path / "admin-index"
    _cli(database, admin, "admin", "org-create", "NCMEC-like", "--sector", "ngo", "--country", "US")
    _cli(database, admin, "admin", "user-create", "svc@h.example", "--org", "NCMEC-like", "--role",
         "supervisor", stdin="a sufficiently long pass\n")  # fmt: skip
    token = _cli(database, admin, "admin", "token-create", "svc@h.example", "--scope", "hashes:check").strip()
    _import(database, admin, tmp_path, "national", A)

    servers, procs = [], []
    try:
        for n in (1, 2):  # each on an empty index folder of its own
            proc, base = _serve("--db", database, env={"VIGIL_INDEX_DIR": str(tmp_path / f"server{n}")})
            procs.append(proc)
            servers.append(base)
        # built from the database before the first answer: no waiting here
        for base in servers:
            assert _sets_knowing(base, token) == {A: ["national"], B: [], C: []}

        _import(database, admin, tmp_path, "national", B)  # replaced: A gone, B in
        _within_bound(servers, token, {A: [], B: ["national"], C: []})
        _import(database, admin, tmp_path, "unit", B, C)  # a second set
        _within_bound(servers, token, {A: [], B: ["national", "unit"], C: ["unit"]})
        _cli(database, admin, "hashset", "disable", "national")
        _within_bound(servers, token, {A: [], B: ["unit"], C: ["unit"]})
        _cli(database, admin, "hashset", "enable", "national")
        _within_bound(servers, token, {A: [], B: ["national", "unit"], C: ["unit"]})
        _cli(database, admin, "hashset", "delete", "unit")
        _within_bound(servers, token, {A: [], B: ["national"], C: []})
    finally:
        for proc in procs:
            proc.terminate()
            proc.communicate(timeout=10)
