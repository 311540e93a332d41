"""The web UI over HTTP: sign-in and sessions, CSRF, each role, another organisation, and pages that
show hostile text as text."""

import uuid

import pytest

from tests.web.conftest import PASSWORD, distinct, example, sign_in, submit

PAGES = ["/", "/account", "/cases", "/hashsets", "/dashboard"]


def test_no_session_is_sent_to_sign_in(client):
    for path in [*PAGES, "/reports/1", "/admin"]:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin?next=")


def test_sign_in_refuses_wrong_password_and_limits_attempts(app, team):
    email = team["analyst"].email
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        for _ in range(5):
            answer = c.post("/signin", data={"email": email, "password": "wrong password!"})
            assert answer.status_code == 401
            assert "not right" in answer.text
        answer = c.post("/signin", data={"email": email, "password": PASSWORD})
        assert answer.status_code == 401 and "too many attempts" in answer.text
        assert "vigil_session" not in c.cookies


def test_session_cookie_is_http_only_and_strict(app, team):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        answer = c.post("/signin", data={"email": team["supervisor"].email, "password": PASSWORD})
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    with TestClient(
        app, base_url="https://vigil.test", raise_server_exceptions=False, follow_redirects=False
    ) as c:
        answer = c.post("/signin", data={"email": team["supervisor"].email, "password": PASSWORD})
        assert "secure" in answer.headers["set-cookie"].lower()


def test_sign_in_goes_back_only_to_a_local_page(app, team):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        answer = c.post(
            "/signin", data={"email": team["admin"].email, "password": PASSWORD, "next": "//evil.example/x"}
        )
        assert answer.headers["location"] == "/"


@pytest.mark.parametrize("role", ["analyst", "supervisor", "admin"])
def test_every_page_renders_for_every_role(team, role):
    b = team[role]
    for path in PAGES:
        answer = b.client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert "Content-Security-Policy" in answer.headers
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
    assert b.client.get("/admin").status_code == (200 if role == "admin" else 403)


def test_a_form_without_the_csrf_token_is_refused(team):
    b = team["analyst"]
    answer = b.client.post("/account/prefs", data={"blur": "20", "reveal_seconds": "5", "break_after": "40"})
    assert answer.status_code == 403 and "security token" in answer.text
    answer = b.client.post(
        "/account/prefs", data={"csrf": "forged", "blur": "20", "reveal_seconds": "5", "break_after": "40"}
    )
    assert answer.status_code == 403
    other = team["admin"]  # another session's token is not this session's
    answer = b.client.post("/signout", data={"csrf": other.csrf})
    assert answer.status_code == 403
    assert b.client.get("/").status_code == 200  # still signed in


def test_a_form_from_another_origin_is_refused(team):
    b = team["analyst"]
    answer = b.post("/signout", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert b.client.get("/").status_code == 200


def test_sign_out_ends_the_session_on_the_server(app, team):
    b = team["analyst"]
    cookie = b.client.cookies.get("vigil_session")
    assert b.post("/signout").status_code == 303
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as thief:
        thief.cookies.set("vigil_session", cookie)
        assert thief.get("/").status_code == 303  # the old cookie opens nothing


def test_idle_sessions_end(app, team, db_url):
    from datetime import timedelta

    from sqlalchemy import update

    from vigil.store import open_database
    from vigil.store.db import utcnow
    from vigil.store.models import WebSession

    b = team["analyst"]
    with open_database(db_url).engine.begin() as conn:
        conn.execute(
            update(WebSession)
            .values(seen_at=utcnow() - timedelta(minutes=31))
            .where(WebSession.ended_at.is_(None), WebSession.user_id == _user_id(db_url, b.email))
        )
    assert b.client.get("/").status_code == 303


def _user_id(db_url, email):
    from sqlalchemy import select

    from vigil.store import open_database
    from vigil.store.models import User

    with open_database(db_url).engine.connect() as conn:
        return conn.execute(select(User.id).where(User.email == email)).scalar()


def test_password_change_checks_the_old_one_and_ends_other_sessions(app, team):
    b = team["supervisor"]
    second = sign_in(app, b.email)
    answer = b.post("/account/password", {"current": "wrong", "new": "n" * 12, "confirm": "n" * 12})
    assert answer.status_code == 422 and "current password" in answer.text
    answer = b.post("/account/password", {"current": PASSWORD, "new": "n" * 12, "confirm": "m" * 12})
    assert answer.status_code == 422 and "differ" in answer.text
    answer = b.post(
        "/account/password", {"current": PASSWORD, "new": "new password 1234", "confirm": "new password 1234"}
    )
    assert answer.status_code == 200 and "Password changed" in answer.text
    assert b.client.get("/").status_code == 200  # this session goes on
    assert second.get("/", follow_redirects=False).status_code == 303  # the other one ended
    sign_in(app, b.email, "new password 1234")


def test_wellbeing_settings_are_checked_and_kept(team):
    b = team["analyst"]
    answer = b.post("/account/prefs", {"blur": "99", "reveal_seconds": "5", "break_after": "40"})
    assert answer.status_code == 422 and "blur: a whole number from 4 to 40" in answer.text
    answer = b.post("/account/prefs", {"blur": "30", "reveal_seconds": "3", "break_after": "10"})
    assert answer.status_code == 200
    page = b.client.get("/").text
    assert 'data-blur="30"' in page and 'data-greyscale="0"' in page and 'data-reveal-seconds="3"' in page


def test_queue_shows_reports_by_priority_with_reasons(client, team):
    b = team["analyst"]
    low = example()
    low["files"] = []
    first, second = submit(client, b, low), submit(client, b)
    page = b.client.get("/").text
    assert page.index(f"#{second}") < page.index(f"#{first}")
    assert 'class="reason"' in page


def test_queue_filters(client, team):
    b = team["analyst"]
    other = example()
    other["jurisdiction"] = "BE"
    nl, be = submit(client, b), submit(client, b, other)
    page = b.client.get("/?country=BE").text
    assert f"#{be}" in page and f"#{nl}<" not in page
    assert f"#{nl}" in b.client.get("/?country=nl&source=api&days=1").text
    answer = b.client.get("/?status=bogus")
    assert answer.status_code == 200 and "status: one of" in answer.text


def test_report_page_classify_then_next(client, team):
    b = team["analyst"]
    first, second = submit(client, b), submit(client, b)
    page = b.client.get(f"/reports/{first}").text
    assert "Record decision" in page and "assessment" in page
    answer = b.post(f"/reports/{first}/classify", {"assessment": "baseline", "age_band": "prepubescent"})
    assert answer.status_code == 303 and answer.headers["location"] == "/reports/next"
    nxt = b.client.get("/reports/next")
    assert nxt.status_code == 303 and nxt.headers["location"] == f"/reports/{second}"
    page = b.client.get(f"/reports/{first}").text
    assert "classified the report" in page and "assessed" in page
    answer = b.post(f"/reports/{second}/classify", {"assessment": "no-such-value"})
    assert answer.status_code == 422 and "must be one of" in answer.text


def test_another_organisations_report_is_a_404_page(client, team, make_org):
    from fastapi.testclient import TestClient

    theirs = make_org()
    answer = client.post("/v1/reports", json=example(), headers=theirs.h())
    rid = answer.json()["id"]
    b = team["analyst"]
    mine = b.client.get(f"/reports/{rid}")
    missing = b.client.get("/reports/2000000000")
    assert mine.status_code == missing.status_code == 404
    assert "no report" in mine.text
    assert b.post(f"/reports/{rid}/classify", {"assessment": "baseline"}).status_code == 404
    assert isinstance(b.client, TestClient)


def test_hostile_report_text_is_shown_as_text(client, team):
    b = team["analyst"]
    report = example()
    report["incident"]["summary"] = '<script>alert(1)</script>\u202egpj.exe "onload=x'
    report["files"][0]["fileName"] = "<img src=x onerror=alert(1)>"
    rid = submit(client, b, report)
    page = b.client.get(f"/reports/{rid}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert "\u202e" not in page  # the right-to-left override is shown as an escape


def test_unknown_page_and_bad_ids_are_error_pages_not_tracebacks(team):
    b = team["analyst"]
    for path, status in [
        ("/no/such/page", 404),
        ("/reports/abc", 400),
        ("/reports/0", 400),
        ("/reports/99999999999", 400),
    ]:
        answer = b.client.get(path)
        assert answer.status_code == status, path
        assert "text/html" in answer.headers["content-type"] and "Traceback" not in answer.text


def test_static_assets_are_served_from_the_package(client):
    for name in ("htmx.min.js", "vigil.js", "vigil.css", "icon.svg"):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200, name
    assert client.get("/static/../app.py").status_code == 404


def test_a_shared_report_does_not_show_the_owners_network(client, make_org, db_url):
    """Where the owner forwarded a report, and the feedback it got, is the owner's business: an
    organisation the report was shared with sees the report, not that history."""
    from tests.api.conftest import database
    from vigil.exchange import rulebook

    owner, police, partner = make_org(), make_org("law_enforcement"), make_org()
    rid = client.post("/v1/reports", json=distinct(), headers=owner.h()).json()["id"]
    rulebook.add_rule(database(db_url), owner.name, "assessment=*", "allow", None, police.name)
    labels = {"labels": {"assessment": "baseline"}}
    assert (
        client.post(f"/v1/reports/{rid}/classifications", json=labels, headers=owner.h()).status_code == 201
    )
    sent = client.post(f"/v1/reports/{rid}/forward", json={"to": police.name}, headers=owner.h("supervisor"))
    assert sent.status_code == 201, sent.text
    shared = client.post(
        f"/v1/reports/{rid}/shares", json={"organisation": partner.name}, headers=owner.h("supervisor")
    )
    assert shared.status_code == 201, shared.text
    assert len(client.get(f"/v1/reports/{rid}/exchange", headers=owner.h()).json()["forwarded"]) == 1
    seen = client.get(f"/v1/reports/{rid}/exchange", headers=partner.h()).json()
    assert seen == {"received": None, "forwarded": [], "feedback": []}


def test_digits_that_are_not_ascii_are_refused_not_a_crash(client, team):
    b = team["analyst"]
    rid = submit(client, b)
    assert b.client.get(f"/reports/{rid}?files=\u00b2").status_code == 200
    answer = b.post(f"/reports/{rid}/classify", {"file": "\u00b2", "assessment": "baseline"})
    assert answer.status_code == 303  # not a file position: the decision is on the whole report
    answer = b.post("/account/prefs", {"blur": "\u00b2", "reveal_seconds": "5", "break_after": "40"})
    assert answer.status_code == 422


def test_sign_in_from_another_site_is_refused(app, team):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        answer = c.post(
            "/signin",
            data={"email": team["analyst"].email, "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status_code == 403 and "vigil_session" not in c.cookies


def test_failed_sign_ins_from_elsewhere_do_not_lock_the_owner_out(app, team):
    from fastapi.testclient import TestClient

    email = team["supervisor"].email
    with TestClient(
        app, raise_server_exceptions=False, follow_redirects=False, client=("203.0.113.9", 1)
    ) as c:
        for _ in range(6):
            c.post("/signin", data={"email": email, "password": "not the password"})
        assert "too many" in c.post("/signin", data={"email": email, "password": PASSWORD}).text
    sign_in(app, email)  # from the analyst's own desk (another address): still fine


def test_notice_and_share_from_the_report_page(client, team, make_org):
    b, boss = team["analyst"], team["supervisor"]
    rid = submit(client, b)
    page = b.client.get(f"/reports/{rid}").text
    url = page.split('id="ntd-url" name="url"><option value="')[1].split('"')[0]
    answer = b.post(
        f"/reports/{rid}/notice",
        {"url": url, "provider": "Example Hosting", "hosting_country": "nl", "contact": "abuse@example.org"},
    )
    assert answer.status_code == 200 and "Notice NTD-" in answer.text
    bad = b.post(
        f"/reports/{rid}/notice", {"url": url, "provider": "", "hosting_country": "N1", "contact": "x"}
    )
    assert bad.status_code == 422 and "Notice not made" in bad.text
    partner = make_org()
    assert "Shared with" in boss.post(f"/reports/{rid}/share", {"organisation": partner.name}).text
    assert client.get(f"/v1/reports/{rid}", headers=partner.h()).status_code == 200
    assert b.post(f"/reports/{rid}/share", {"organisation": partner.name}).status_code == 403


def test_the_apis_unrouted_paths_still_answer_problem_json(client):
    """The UI answers every path the API does not, except the API's own: those stay problem+json."""
    for method, path, status in [
        ("TRACE", "/healthz", 405),
        ("GET", "/v1/no-such", 404),
        ("DELETE", "/v1/queue", 405),
    ]:
        answer = client.request(method, path)
        assert answer.status_code == status, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
    assert "text/html" in client.get("/no-such-page").headers["content-type"]


def test_link_two_reports_by_hand_and_unlink(client, team, make_org, db_url):
    """Two reports intake could not link (nothing in common) linked by an analyst: each page lists the
    other, the link is audited with the reason, and only a hand-made link can be undone."""
    from sqlalchemy import select

    from tests.api.conftest import database
    from vigil.store.models import AuditEntry

    b = team["analyst"]
    unrelated = example()
    unrelated.pop("reportedPerson", None)  # the example's account would link the two at intake
    first, second = submit(client, b), submit(client, b, unrelated)
    assert f'href="/reports/{first}"' not in b.client.get(f"/reports/{second}").text
    answer = b.post(f"/reports/{second}/link", {"report": f"#{first}", "reason": "same <b>account</b> style"})
    assert answer.status_code == 200 and f"Linked to report #{first}" in answer.text
    assert f'href="/reports/{second}"' in b.client.get(f"/reports/{first}").text
    assert "Already linked" in b.post(f"/reports/{first}/link", {"report": str(second)}).text
    api = client.get(f"/v1/reports/{first}", headers={"Authorization": f"Bearer {b.token}"}).json()
    assert api["linked_from"] == [second]
    with database(db_url).engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.detail).where(
                AuditEntry.object == f"report:{second}", AuditEntry.action == "report.link"
            )
        ).all()
    assert len(rows) == 1 and rows[0].actor == b.email and "same <b>account</b> style" in rows[0].detail
    for bad in ("", "x", "²", str(second), "999999999"):
        refused = b.post(f"/reports/{second}/link", {"report": bad})
        assert refused.status_code == 422 and "Not linked" in refused.text, bad
    other = make_org()  # another organisation's report cannot be linked to, nor link itself
    theirs = client.post("/v1/reports", json=distinct(), headers=other.h()).json()["id"]
    assert b.post(f"/reports/{second}/link", {"report": str(theirs)}).status_code == 422
    assert b.post(f"/reports/{theirs}/link", {"report": str(second)}).status_code == 404
    assert "Unlinked" in b.post(f"/reports/{first}/unlink", {"report": str(second)}).text
    assert f'href="/reports/{first}"' not in b.client.get(f"/reports/{second}").text
    assert b.post(f"/reports/{first}/unlink", {"report": str(second)}).status_code == 422
    assert (
        b.client.post(f"/reports/{first}/link", data={"report": str(second), "csrf": "forged"}).status_code
        == 403
    )


def test_link_through_the_api(client, make_org):
    org = make_org()
    lone = example()
    lone.pop("reportedPerson", None)  # the example's account would link the two at intake
    a = client.post("/v1/reports", json=distinct(), headers=org.h()).json()["id"]
    b = client.post("/v1/reports", json=distinct(lone), headers=org.h()).json()["id"]
    made = client.post(f"/v1/reports/{a}/links", json={"report": b, "reason": "same victim"}, headers=org.h())
    assert made.status_code == 201 and made.json() == {"report": a, "linked_with": b, "new": True}
    assert client.get(f"/v1/reports/{b}", headers=org.h()).json()["linked_to"] == [a]
    assert client.post(f"/v1/reports/{a}/links", json={"report": a}, headers=org.h()).status_code == 422
    assert client.post(f"/v1/reports/{a}/links", json={"report": 2**31}, headers=org.h()).status_code == 422
    assert client.delete(f"/v1/reports/{b}/links/{a}", headers=org.h()).status_code == 200
    assert client.get(f"/v1/reports/{b}", headers=org.h()).json()["linked_to"] == []
    assert client.delete(f"/v1/reports/{b}/links/{a}", headers=org.h()).status_code == 422


def test_secure_cookies_setting_makes_a_host_only_secure_cookie(db_url):
    """Behind a TLS proxy the server sees plain http: the setting makes the cookie Secure and
    `__Host-` anyway, and that is the cookie the server then reads."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from tests.api.conftest import database
    from vigil.api.app import create_app
    from vigil.reports.accounts import Accounts
    from vigil.settings import Settings

    accounts = Accounts(database(db_url))
    name = f"org-{uuid.uuid4().hex[:8]}"
    accounts.create_org(name, "hotline", "NL")
    accounts.create_user(f"a@{name}.example", name, "analyst", PASSWORD)
    application = create_app(db_url, settings=replace(Settings(), secure_cookies=True))
    with TestClient(application, base_url="https://testserver", follow_redirects=False) as c:
        answer = c.post("/signin", data={"email": f"a@{name}.example", "password": PASSWORD})
        set_cookie = answer.headers["set-cookie"]
        assert set_cookie.startswith("__Host-vigil_session=") and "Secure" in set_cookie
        assert "Domain" not in set_cookie and "Path=/" in set_cookie
        assert c.get("/").status_code == 200
