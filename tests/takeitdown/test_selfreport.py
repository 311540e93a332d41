"""Take it down's server side, over HTTP on SQLite and the real PostgreSQL: hashes in, a case code
out; the self-reported set and the feed; replay, flood, malformed and oversized submissions refused
with nothing stored; the status counts through the network's readers and opinions."""

import hashlib
import json
import secrets
import uuid

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.api.conftest import database, db_url  # noqa: F401 - the backends' fixture
from tests.takeitdown.harness import picture
from vigil.api.app import create_app
from vigil.exchange import feeds, rulebook, selfreport
from vigil.exchange.rules import Receiver
from vigil.reports.accounts import Accounts
from vigil.store.models import FeedItem, FeedOpinion, SelfReport, SelfReportHash


@pytest.fixture(scope="module")
def desk(db_url):  # noqa: F811
    """An organisation offering take it down, an app for it, a client (rate limit out of the way)."""
    name = f"desk-{uuid.uuid4().hex[:6]}"
    accounts = Accounts(database(db_url))
    accounts.create_org(name, "hotline", "NL")
    app = create_app(db_url, public_org=name, public_rate="100000/60")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, name, accounts.org_id(name)


def video(seed: str, frames: int = 3) -> dict:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return {
        "kind": "video", "md5": h[:32], "sha256": h,
        "vpdq": [
            {"frame": 25 * i, "quality": 80, "pdq": hashlib.sha256(f"{seed}{i}".encode()).hexdigest(),
             "timestamp": i}
            for i in range(frames)
        ],
    }  # fmt: skip


def send(client, items: list, submission: str | None = None):
    body = {"submission": submission or secrets.token_hex(16), "items": items}
    return client.post("/v1/takeitdown/submissions", json=body)


def counts(db_url: str, org_id: int) -> tuple[int, int, int]:  # noqa: F811
    with database(db_url).engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table).where(table.org_id == org_id)).scalar()
            for table in (SelfReport, SelfReportHash, FeedItem)
        )


def test_hashes_in_a_case_code_out_and_the_set_matches_them(desk, db_url):  # noqa: F811
    client, name, org_id = desk
    tag = uuid.uuid4().hex
    answer = send(client, [picture(tag), video(tag + "v")])
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert selfreport.normalise_code(made["code"]) and made["hashes"] == made["new"] == 3 + 2 + 3
    assert selfreport.rebuild_sets(database(db_url)) >= 1
    assert selfreport.rebuild_sets(database(db_url)) == 0  # nothing new: not rebuilt again
    token = _analyst_token(db_url, name)
    check = client.post(
        "/v1/hash-check", json={"hashes": [picture(tag)["md5"]]}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    hit = check["results"][0]["matches"][0]
    assert hit["hashset"] == f"self-reported/{name}" and hit["category"] == "self_reported"
    again = send(client, [picture(tag)])  # the same picture, another day: a case of its own, no new hash
    assert again.status_code == 201 and again.json()["new"] == 0 and again.json()["code"] != made["code"]
    with database(db_url).engine.connect() as conn:
        opinions = set(conn.execute(select(FeedItem.opinion).where(FeedItem.org_id == org_id)).scalars())
    assert opinions == {"self_reported"}


def _analyst_token(db_url: str, org: str) -> str:  # noqa: F811
    accounts = Accounts(database(db_url))
    email = f"a-{uuid.uuid4().hex[:6]}@{org}.example"
    accounts.create_user(email, org, "analyst", "correct horse battery staple")
    return accounts.create_token(email)


def test_a_replayed_submission_is_refused_and_stores_nothing(desk, db_url):  # noqa: F811
    client, _, org_id = desk
    sid = secrets.token_hex(16)
    assert send(client, [picture(uuid.uuid4().hex)], sid).status_code == 201
    before = counts(db_url, org_id)
    replay = send(client, [picture(uuid.uuid4().hex)], sid)
    assert replay.status_code == 409 and replay.headers["content-type"] == "application/problem+json"
    assert "received already" in replay.json()["detail"]
    assert counts(db_url, org_id) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"submission": "x", "items": [picture("a")]}, "submission"),
        ({"submission": "0" * 32, "items": []}, "items"),
        ({"submission": "0" * 32, "items": [{**picture("a"), "md5": "zz" * 16}]}, "md5"),
        ({"submission": "0" * 32, "items": [{**picture("a"), "pdq": "ab"}]}, "pdq"),
        ({"submission": "0" * 32, "items": [{**picture("a"), "image": "/9j/4AAQSkZJRg=="}]}, "image"),
        ({"submission": "0" * 32, "items": [{**picture("a"), "pdq": None}]}, "pdq"),
        ({"submission": "0" * 32, "items": [{**video("a"), "vpdq": []}]}, "vpdq"),
        ({"submission": "0" * 32, "items": [picture(str(i)) for i in range(21)]}, "items"),
        ({"submission": "0" * 32, "items": [picture("a")], "name": "Alice"}, "name"),
    ],
)
def test_malformed_submissions_name_the_field_and_store_nothing(desk, db_url, body, field):  # noqa: F811
    """Only hashes pass: a field holding anything else (picture bytes, a name) is refused."""
    client, _, org_id = desk
    before = counts(db_url, org_id)
    answer = client.post("/v1/takeitdown/submissions", json=body)
    assert answer.status_code == 422, answer.text
    assert field in json.dumps(answer.json()["errors"])
    assert counts(db_url, org_id) == before


def test_an_oversized_body_is_a_413_and_stores_nothing(desk, db_url):  # noqa: F811
    client, _, org_id = desk
    before = counts(db_url, org_id)
    huge = {"submission": "0" * 32, "items": [{**picture("a"), "padding": "x" * 300_000}]}
    answer = client.post("/v1/takeitdown/submissions", json=huge)
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    assert counts(db_url, org_id) == before


def test_a_flood_from_one_address_is_refused(db_url):  # noqa: F811
    name = f"flood-{uuid.uuid4().hex[:6]}"
    Accounts(database(db_url)).create_org(name, "hotline", "NL")
    with TestClient(
        create_app(db_url, public_org=name, public_rate="3/60"), raise_server_exceptions=False
    ) as c:
        answers = [send(c, [picture(uuid.uuid4().hex)]).status_code for _ in range(5)]
    assert answers == [201, 201, 201, 429, 429]


def test_not_offered_without_an_organisation(db_url):  # noqa: F811
    with TestClient(create_app(db_url), raise_server_exceptions=False) as c:
        answer = send(c, [picture("a")])
    assert answer.status_code == 404 and "does not offer" in answer.json()["detail"]


def test_status_counts_readers_holders_and_opinions(desk, db_url):  # noqa: F811
    """Members the sharing rules let read self-reported hashes, those that have fetched past them,
    and those that sent a match (`seen`) or action (`actioned`) back: counts, never names."""
    client, name, org_id = desk
    db = database(db_url)
    tag = uuid.uuid4().hex
    code = send(client, [picture(tag)]).json()["code"]
    platforms = []
    for _ in range(3):
        p = f"platform-{uuid.uuid4().hex[:6]}"
        Accounts(db).create_org(p, "industry", "NL")
        platforms.append(p)
    rulebook.add_rule(db, name, "origin=self_reported", "allow", "industry", None)
    seen = client.post("/v1/takeitdown/status", json={"code": code.lower().replace("-", " ")})
    assert seen.status_code == 200, seen.text
    assert seen.json()["members_holding"] == 0
    for p in platforms[:2]:  # two of the three fetch the feed
        page = feeds.read(db, name, Receiver(p, "industry"))
        assert {i["opinion"] for i in page["items"]} == {"self_reported"}
    feeds.read(db, name, Receiver("police-x", "law_enforcement"))  # reads, but may not see them
    with db.engine.begin() as conn:
        ids = [Accounts(db).org_id(p) for p in platforms[:2]]
        conn.execute(
            FeedOpinion.__table__.insert(),
            [
                {"org_id": org_id, "from_org_id": ids[0], "signal": "md5", "value": picture(tag)["md5"],
                 "opinion": "seen", "at": selfreport.utcnow()},
                {"org_id": org_id, "from_org_id": ids[1], "signal": "pdq", "value": picture(tag)["pdq"],
                 "opinion": "actioned", "at": selfreport.utcnow()},
            ],
        )  # fmt: skip
    status = client.post("/v1/takeitdown/status", json={"code": code}).json()
    assert status["hashes"] == 3 and status["members_holding"] == 2
    assert status["members_reporting_matches"] == 2 and status["members_acted"] == 1
    assert status["members_receiving"] >= 2  # readers of this module's other tests may count too
    unknown = client.post("/v1/takeitdown/status", json={"code": selfreport.new_code()})
    assert unknown.status_code == 404 and "no case has this code" in unknown.json()["detail"]
    assert client.post("/v1/takeitdown/status", json={"code": "<script>"}).status_code == 404


def test_without_a_rule_nobody_receives_self_reported_hashes(db_url):  # noqa: F811
    db = database(db_url)
    name = f"quiet-{uuid.uuid4().hex[:6]}"
    Accounts(db).create_org(name, "hotline", "NL")
    org_id = Accounts(db).org_id(name)
    made = selfreport.submit(
        db, org_id, secrets.token_hex(16), [selfreport.Item("image", "a" * 32, "b" * 64, "c" * 64, 90)]
    )
    assert feeds.read(db, name, Receiver("anyone", "industry"))["items"] == []
    assert selfreport.status(db, made["code"])["members_receiving"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_typed_code_is_a_code_or_none_never_an_error(text):
    raw = selfreport.normalise_code(text)
    assert raw is None or (len(raw) == 16 and raw.isalnum())


def test_codes_survive_how_people_type_them():
    code = selfreport.new_code()
    typed = [code, code.lower(), code.replace("-", " "), code.removeprefix("TD-").replace("0", "O")]
    assert {selfreport.normalise_code(t) for t in typed} == {selfreport.normalise_code(code)}
