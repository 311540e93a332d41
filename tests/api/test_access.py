"""Every endpoint as every role, as another organisation, and without valid credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.api.conftest import PASSWORD, example
from vigil.reports.accounts import Accounts, token_digest
from vigil.store import open_database
from vigil.store.models import ApiToken

LABELS = {"labels": {"assessment": "not_illegal"}}


def calls(report_id: int, target_org: str):
    """(name, method, path, json) of every authenticated endpoint."""
    return [
        ("submit", "post", "/v1/reports", example(1)),
        ("read", "get", f"/v1/reports/{report_id}", None),
        ("queue", "get", "/v1/queue", None),
        ("classify", "post", f"/v1/reports/{report_id}/classifications", LABELS),
        ("share", "post", f"/v1/reports/{report_id}/shares", {"organisation": target_org}),
        ("hash-check", "post", "/v1/hash-check", {"hashes": ["d41d8cd98f00b204e9800998ecf8427e"]}),
    ]


EXPECTED = {  # role -> endpoint -> status, for the report's own organisation
    "analyst": {"submit": 201, "read": 200, "queue": 200, "classify": 201, "share": 403, "hash-check": 200},
    "supervisor": {
        "submit": 201,
        "read": 200,
        "queue": 200,
        "classify": 201,
        "share": 201,
        "hash-check": 200,
    },
    "admin": {"submit": 201, "read": 200, "queue": 200, "classify": 201, "share": 201, "hash-check": 200},
}


@pytest.mark.parametrize("role", ["analyst", "supervisor", "admin"])
def test_roles_of_the_owning_organisation(client, make_org, role):
    owner, other = make_org(), make_org()
    report = client.post("/v1/reports", json=example(0), headers=owner.h()).json()["id"]
    for name, method, path, body in calls(report, other.name):
        r = client.request(method, path, json=body, headers=owner.h(role))
        assert r.status_code == EXPECTED[role][name], (role, name, r.text)


@pytest.mark.parametrize("role", ["analyst", "supervisor", "admin"])
def test_another_organisation_sees_nothing_until_shared(client, make_org, role):
    owner, outsider = make_org(), make_org(sector="law_enforcement", country="DE")
    report = client.post("/v1/reports", json=example(0), headers=owner.h()).json()["id"]
    for name, method, path, body in calls(report, owner.name):
        r = client.request(method, path, json=body, headers=outsider.h(role))
        if name == "share" and role == "analyst":
            assert r.status_code == 403, r.text  # analysts may not share at all
        elif name in ("read", "classify", "share"):
            assert r.status_code == 404, (name, r.text)  # the same answer as for a report that does not exist
            assert str(report) in r.json()["detail"]
    assert report not in [
        q["id"] for q in client.get("/v1/queue", headers=outsider.h(role)).json()["reports"]
    ]
    assert (
        client.post(
            f"/v1/reports/{report}/shares",
            json={"organisation": outsider.name},
            headers=owner.h("supervisor"),
        ).status_code
        == 201
    )
    assert client.get(f"/v1/reports/{report}", headers=outsider.h(role)).status_code == 200
    queue = client.get("/v1/queue", headers=outsider.h(role)).json()["reports"]
    assert [q["shared"] for q in queue if q["id"] == report] == [True]
    # sharing with one's own organisation is a mistake, said as one
    mine = {"organisation": owner.name}
    own = client.post(f"/v1/reports/{report}/shares", json=mine, headers=owner.h("supervisor"))
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "/organisation"
    # a shared report cannot be re-shared by the organisation it was shared with
    assert (
        client.post(
            f"/v1/reports/{report}/shares", json={"organisation": owner.name}, headers=outsider.h("admin")
        ).status_code
        == 404
    )


def test_no_token_bad_token_revoked_expired_and_scoped(client, make_org, db_url):
    org = make_org()
    report = client.post("/v1/reports", json=example(0), headers=org.h()).json()["id"]
    accounts = Accounts(open_database(db_url))
    email = f"analyst@{org.name}.example"
    revoked = accounts.create_token(email)
    accounts.revoke_token(revoked)
    expired = accounts.create_token(email, expires_days=1)
    with open_database(db_url).engine.begin() as conn:
        conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(expired))
            .values(expires_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1))
        )
    for headers in (
        {},
        {"Authorization": "Bearer vgl_made-up"},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Basic {PASSWORD}"},
    ):
        for _, method, path, body in calls(report, org.name):
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (path, headers, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"] == "Bearer"
    read_only = {"Authorization": f"Bearer {accounts.create_token(email, ['reports:read'])}"}
    statuses = {
        name: client.request(m, p, json=b, headers=read_only).status_code
        for name, m, p, b in calls(report, org.name)
    }
    assert statuses == {
        "submit": 403,
        "read": 200,
        "queue": 200,
        "classify": 403,
        "share": 403,
        "hash-check": 403,
    }


def test_tokens_are_stored_hashed(client, make_org, db_url):
    org = make_org()
    from sqlalchemy import select

    with open_database(db_url).engine.connect() as conn:
        stored = set(conn.execute(select(ApiToken.token_hash)).scalars())
    for token in org.tokens.values():
        assert token not in stored and token_digest(token) in stored
