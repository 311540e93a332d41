"""The admin pages: admins only; users, tokens and rules made from the page are audited with the
admin's address; tokens of other organisations cannot be revoked."""

from sqlalchemy import select

from tests.web.conftest import PASSWORD, sign_in
from vigil.store import open_database
from vigil.store.models import AuditEntry


def test_admin_pages_are_for_admins_only(team):
    for role in ("analyst", "supervisor"):
        b = team[role]
        assert b.client.get("/admin").status_code == 403
        assert (
            b.post(
                "/admin/users", {"email": "x@y.example", "role": "admin", "password": "p" * 12}
            ).status_code
            == 403
        )


def test_admin_adds_a_user_who_can_sign_in(app, team, db_url):
    b = team["admin"]
    email = f"new-{b.org}@x.example"
    answer = b.post("/admin/users", {"email": email, "role": "analyst", "password": PASSWORD})
    assert answer.status_code == 200 and "created" in answer.text
    sign_in(app, email)
    with open_database(db_url).engine.connect() as conn:
        actor = conn.execute(
            select(AuditEntry.actor).where(AuditEntry.action == "user.create").order_by(AuditEntry.id.desc())
        ).scalar()
    assert actor == b.email
    answer = b.post("/admin/users", {"email": email, "role": "analyst", "password": PASSWORD})
    assert answer.status_code == 422 and "already exists" in answer.text


def test_token_issued_once_then_revoked(client, team):
    b = team["admin"]
    answer = b.post("/admin/tokens", {"email": team["analyst"].email, "scope": "reports:read"})
    assert answer.status_code == 200
    token = answer.text.split('id="new-token" readonly size="60" value="')[1].split('"')[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/queue", headers=headers).status_code == 200
    page = b.client.get("/admin").text
    assert token not in page  # shown once
    token_id = page.split('action="/admin/tokens/')[1].split("/")[0]
    assert b.post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    assert client.get("/v1/queue", headers=headers).status_code == 401


def test_an_admin_cannot_touch_another_organisations_users(team, make_org):
    other = make_org()
    b = team["admin"]
    answer = b.post("/admin/tokens", {"email": f"analyst@{other.name}.example"})
    assert answer.status_code == 422 and "no user" in answer.text
    assert b.post("/admin/tokens/999999/revoke").status_code == 404


def test_rules_from_the_page(team):
    b = team["admin"]
    answer = b.post(
        "/admin/rules",
        {
            "kind": "rule",
            "label": "assessment=baseline",
            "effect": "allow",
            "target_kind": "sector",
            "target": "law_enforcement",
        },
    )
    assert answer.status_code == 200 and "assessment=baseline" in answer.text
    answer = b.post(
        "/admin/rules",
        {"kind": "rule", "label": "nonsense", "effect": "allow", "target_kind": "sector", "target": "x"},
    )
    assert answer.status_code == 422 and "Not added" in answer.text
