"""Notice and takedown, end to end against a real (local) host: a small HTTP server in a thread that
serves a benign file at a reported URL, receives the notices at its abuse endpoint, and removes and
restores the file as the story needs. Times are passed to the runner (`now`), never slept through.
Runs on SQLite and, with VIGIL_TEST_POSTGRES_URL, on the real PostgreSQL (the API tests' fixtures)."""

import hashlib
import json
import os
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.api.conftest import database, example
from vigil.api import notice_routes
from vigil.cli import notice_cmd
from vigil.exchange import notices
from vigil.exchange.availability import HttpChecker, HttpSender
from vigil.reports.accounts import Accounts
from vigil.store.db import utcnow
from vigil.store.models import AuditEntry

BENIGN = os.urandom(4096)  # stands in for a reported file: random bytes, whose hashes are in the report
SHA256 = hashlib.sha256(BENIGN).hexdigest()
MD5 = hashlib.md5(BENIGN).hexdigest()
HOUR = timedelta(hours=1)


class Host:
    """A hosting provider: `pages` maps a path to (status, headers, body or a chunk generator);
    what is POSTed to /abuse is kept in `received`; /broken refuses notices."""

    def __init__(self):
        self.pages: dict[str, tuple] = {}
        self.received: list[dict] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                status, headers, body = host.pages.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()  # HTTP/1.0: the body ends when the connection closes
                try:
                    for chunk in [body] if isinstance(body, bytes) else body():
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the checker stopped reading: what a bounded reader does

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path == "/abuse":
                    host.received.append(json.loads(data))
                    self.send_response(202)
                else:
                    self.send_response(500)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"


@pytest.fixture
def host():
    h = Host()
    yield h
    h.server.shutdown()
    h.server.server_close()


CHECK = HttpChecker(allow_private=True, timeout=5, deadline=20)  # the host is on 127.0.0.1
SEND = HttpSender(allow_private=True, timeout=5)


def _who(db):
    """The app's bearer-token dependency, as create_app makes it (for install() in these tests)."""
    accounts = Accounts(db)
    bearer = HTTPBearer(auto_error=False)

    def principal(creds: HTTPAuthorizationCredentials | None = Depends(bearer)):
        return accounts.authenticate(creds.credentials if creds else None)

    return principal


@pytest.fixture(scope="session")
def routes(app):
    """The notice routes on the API tests' app (until create_app installs them itself)."""
    if not any(getattr(r, "path", None) == "/v1/notices" for r in app.router.routes):
        notice_routes.install(app, app.state.service.db, _who(app.state.service.db))
    return app


def _principal(db_url, org, role="analyst"):
    return Accounts(database(db_url)).authenticate(org.tokens[role])


def _report(client, org, urls_: list[str]) -> int:
    body = example(0)
    body["channel"]["urls"] = urls_
    body["files"][0]["hashes"] = {"sha256": SHA256, "md5": MD5}
    response = client.post("/v1/reports", json=body, headers=org.h())
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _create(client, org, report_id, url, contact, **extra) -> dict:
    payload = {"report": report_id, "url": url, "provider": "Example Hosting", "hosting_country": "nl"}
    response = client.post("/v1/notices", json={**payload, "contact": contact, **extra}, headers=org.h())
    assert response.status_code == 201, response.text
    return response.json()


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.removesuffix("Z"))


def _org_id(db_url, org) -> int:
    return _principal(db_url, org).org_id


def _run(db_url, org, now, **kw) -> dict:
    kw = {"checker": CHECK, "sender": SEND, **kw}
    return notices.run_due(database(db_url), now=now, org_id=_org_id(db_url, org), **kw)


# -- the story --------------------------------------------------------------------------------------
def test_notices_until_removal_then_reappearance(routes, client, make_org, db_url, host):
    org = make_org()
    host.pages["/gallery/1.png"] = (200, {"Content-Type": "image/png"}, BENIGN)
    url = host.url("/gallery/1.png")
    report_id = _report(client, org, [url])
    notice = _create(client, org, report_id, url, host.url("/abuse"))
    assert notice["state"] == "pending" and notice["hosting_country"] == "NL"
    t = _at(notice["created_at"])

    assert _run(db_url, org, t + 30 * timedelta(minutes=1))["due"] == 0  # not before the hour
    first = _run(db_url, org, t + 61 * timedelta(minutes=1))
    assert (first["checked"], first["sent"]) == (1, 1)
    sent = host.received[0]
    assert sent["reference"] == notice["reference"] and sent["url"] == url and sent["notice"] == 1
    assert {"sha256": SHA256, "md5": MD5} in sent["hashes"]
    assert BENIGN.hex() not in json.dumps(sent)  # hashes and references, never content

    assert _run(db_url, org, t + 3 * HOUR)["due"] == 0  # the repeat waits 24 hours
    repeat = _run(db_url, org, t + 26 * HOUR)
    assert repeat["sent"] == 1 and host.received[1]["notice"] == 2

    del host.pages["/gallery/1.png"]  # the host takes it down
    removed = _run(db_url, org, t + 51 * HOUR)
    assert (removed["removed"], removed["sent"]) == (1, 0)
    shown = client.get(f"/v1/notices/{notice['id']}", headers=org.h()).json()
    assert shown["state"] == "removed" and _at(shown["removed_at"]) == t + 51 * HOUR
    assert shown["notices_sent"] == 2 and len(host.received) == 2

    still = _run(db_url, org, t + 76 * HOUR)  # watched: still gone, nothing sent
    assert (still["checked"], still["sent"], still["reappeared"]) == (1, 0, 0)

    host.pages["/gallery/1.png"] = (200, {}, BENIGN)  # ... and it is back
    back = _run(db_url, org, t + 101 * HOUR)
    assert (back["reappeared"], back["sent"]) == (1, 1)
    shown = client.get(f"/v1/notices/{notice['id']}", headers=org.h()).json()
    assert shown["state"] == "reappeared" and shown["reappearances"] == 1 and shown["removed_at"] is None
    assert len(host.received) == 3 and host.received[2]["notice"] == 3
    actions = [e["action"] for e in shown["events"]]
    assert actions == [
        "created",
        *("check_online", "notice_to_host") * 2,
        "check_removed",
        "content_removed",
        "check_removed",
        "check_online",
        "reappeared",
        "notice_to_host",
    ]
    with database(db_url).engine.connect() as conn:
        audited = conn.execute(
            select(AuditEntry.action).where(AuditEntry.object == f"notice:{notice['id']}")
        ).scalars()
        assert list(audited).count("notice.run") == 5  # every check, audited


def test_the_check_just_before_a_notice_decides(routes, client, make_org, db_url, host):
    """Content already gone at the first check: confirmed removed, no notice sent; content changed
    (another body at the URL) counts as removed too."""
    org = make_org()
    host.pages["/a"] = (200, {}, b"something else entirely")
    url_a, url_b = host.url("/a"), host.url("/b")
    report_id = _report(client, org, [url_a, url_b])
    a = _create(client, org, report_id, url_a, host.url("/abuse"))
    _create(client, org, report_id, url_b, host.url("/abuse"))
    summary = _run(db_url, org, _at(a["created_at"]) + 2 * HOUR)
    assert (summary["checked"], summary["removed"], summary["sent"]) == (2, 2, 0)
    assert host.received == []
    listed = client.get("/v1/notices?state=removed", headers=org.h()).json()["notices"]
    assert len(listed) == 2


def test_unreachable_host_and_refused_notice_are_retried(routes, client, make_org, db_url, host):
    org = make_org()
    host.pages["/x"] = (200, {}, BENIGN)
    report_id = _report(client, org, [host.url("/x"), "http://127.0.0.1:9/gone"])
    refused = _create(client, org, report_id, host.url("/x"), host.url("/broken"))
    down = _create(client, org, report_id, "http://127.0.0.1:9/gone", host.url("/abuse"))
    now = _at(refused["created_at"]) + 2 * HOUR
    summary = _run(db_url, org, now)
    assert (summary["failed"], summary["unavailable"], summary["sent"]) == (1, 1, 0)
    for notice in (refused, down):
        shown = client.get(f"/v1/notices/{notice['id']}", headers=org.h()).json()
        assert shown["state"] == "pending" and shown["notices_sent"] == 0
        assert _at(shown["next_check_at"]) == now + HOUR


def test_email_contact_is_recorded_for_a_person(routes, client, make_org, db_url, host):
    org = make_org()
    host.pages["/e"] = (200, {}, BENIGN)
    report_id = _report(client, org, [host.url("/e")])
    notice = _create(client, org, report_id, host.url("/e"), "abuse@hosting.example.net")
    assert _run(db_url, org, _at(notice["created_at"]) + 2 * HOUR)["sent"] == 1
    shown = client.get(f"/v1/notices/{notice['id']}", headers=org.h()).json()
    sent = [e for e in shown["events"] if e["action"] == "notice_to_host"]
    assert (
        sent[0]["detail"]["channel"] == "email" and "abuse@hosting.example.net" in sent[0]["detail"]["detail"]
    )
    assert shown["state"] == "notified" and host.received == []


def test_moved_to_another_host_stops_the_notices(routes, client, make_org, db_url, host):
    org = make_org()
    host.pages["/m"] = (302, {"Location": "https://elsewhere.example.net/x.png"}, b"")
    report_id = _report(client, org, [host.url("/m")])
    notice = _create(client, org, report_id, host.url("/m"), host.url("/abuse"))
    assert _run(db_url, org, _at(notice["created_at"]) + 2 * HOUR)["moved"] == 1
    shown = client.get(f"/v1/notices/{notice['id']}", headers=org.h()).json()
    assert shown["state"] == "moved" and shown["next_check_at"] is None and host.received == []
    assert shown["events"][-1]["detail"]["location"] == "https://elsewhere.example.net/x.png"


# -- the checker --------------------------------------------------------------------------------------
def test_checker_answers(host):
    def serve_big():
        for _ in range(48):  # 3 MB, no length declared
            yield b"\0" * 65536

    host.pages.update(
        {
            "/ok": (200, {}, BENIGN),
            "/gone": (404, {}, b"nope"),
            "/legal": (410, {}, b""),
            "/empty": (200, {}, b""),
            "/same-host": (301, {"Location": "/ok"}, b""),
            "/elsewhere": (302, {"Location": "http://www.127.0.0.1.example/ok"}, b""),
            "/big": (200, {}, serve_big),
            "/declared": (200, {"Content-Length": str(10**12)}, b"short"),
            "/error": (503, {}, b""),
        }
    )
    check = HttpChecker(allow_private=True, timeout=5, deadline=20, max_bytes=1024 * 1024)
    hashes = [SHA256, MD5]
    assert check(host.url("/ok"), hashes).state == "online"
    assert check(host.url("/ok"), []).state == "online"  # nothing to compare: it answers
    assert check(host.url("/gone"), hashes).state == "removed"
    assert check(host.url("/legal"), hashes).state == "removed"
    assert check(host.url("/empty"), ["d41d8cd98f00b204e9800998ecf8427e"]).state == "removed"
    assert check(host.url("/same-host"), hashes).state == "online"  # followed on the same host
    moved = check(host.url("/elsewhere"), hashes)
    assert moved.state == "moved" and moved.location == "http://www.127.0.0.1.example/ok"
    big = check(host.url("/big"), hashes)
    assert big.state == "error" and "larger than 1048576 bytes" in big.detail
    assert check(host.url("/declared"), hashes).state == "error"
    assert check(host.url("/error"), hashes).state == "unavailable"
    assert check("http://127.0.0.1:9/", hashes).state == "unavailable"  # nothing listens there


def test_default_checker_and_sender_never_contact_private_addresses(host):
    host.pages["/ok"] = (200, {}, BENIGN)
    result = HttpChecker()(host.url("/ok"), [SHA256])
    assert result.state == "error" and "not a public address" in result.detail
    sent = HttpSender()(host.url("/abuse"), {"reference": "x"})
    assert not sent.ok and host.received == []


# -- the API ------------------------------------------------------------------------------------------
def test_another_organisation_cannot_see_or_act(routes, client, make_org):
    a, b = make_org(), make_org()
    url = "https://images.example.org/gallery/9"
    report_id = _report(client, a, [url])
    notice = _create(client, a, report_id, url, "abuse@images.example.org")
    for response in (
        client.get(f"/v1/notices/{notice['id']}", headers=b.h()),
        client.post(f"/v1/notices/{notice['id']}/actions", json={"outcome": "not_illegal"}, headers=b.h()),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/notices", headers=b.h()).json()["notices"] == []
    theirs = _report(client, b, [url])
    refused = client.post(
        "/v1/notices",
        json={
            "report": report_id,
            "url": url,
            "provider": "P",
            "hosting_country": "NL",
            "contact": "a@b.example",
        },
        headers=b.h(),
    )
    assert refused.status_code == 404  # A's report, not shared with B
    _create(client, b, theirs, url, "abuse@images.example.org")  # B follows the URL on its own
    assert client.get(f"/v1/notices/{notice['id']}", headers=a.h()).json()["state"] == "pending"


GOOD = {"provider": "Example Hosting", "hosting_country": "NL", "contact": "https://host.example/abuse"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hosting_country": "Netherlands"}, "/hosting_country"),
        ({"provider": "x" * 201}, "/provider"),
        ({"provider": "line\nbreak"}, "/provider"),
        ({"contact": "javascript:alert(1)"}, "/contact"),
        ({"url": "javascript:alert(1)"}, "/url"),
        ({"url": "https://images.example.org/not-in-the-report"}, "/url"),
        ({"extra": 1}, "/extra"),
        ({"report": 0}, "/report"),
        ({"report": "x"}, "/report"),
    ],
)
def test_bad_notices_are_422_naming_the_field(routes, client, make_org, change, field):
    org = make_org()
    url = "https://images.example.org/gallery/1"
    report_id = _report(client, org, [url])
    response = client.post(
        "/v1/notices", json={"report": report_id, "url": url, **GOOD, **change}, headers=org.h()
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


def test_actions_filters_scopes_and_duplicates(routes, client, make_org, db_url):
    org = make_org()
    urls_ = ["https://a.example.org/1", "https://b.example.de/2"]
    report_id = _report(client, org, urls_)
    nl = _create(client, org, report_id, urls_[0], "abuse@a.example.org")
    _create(client, org, report_id, urls_[1], "abuse@b.example.de", hosting_country="DE")
    again = client.post(
        "/v1/notices", json={"report": report_id, "url": urls_[0] + "/", **GOOD}, headers=org.h()
    )  # the same URL once normalised
    assert again.status_code == 422 and nl["reference"] in again.json()["detail"]
    bad = [
        ("/v1/notices?state=bogus", None, "/state"),
        ("/v1/notices?country=Dutch", None, "/country"),
        (f"/v1/notices/{nl['id']}/actions", {"outcome": "nuked"}, "/outcome"),
        (f"/v1/notices/{nl['id']}/actions", {"outcome": "moved", "at": "2999-01-01T00:00:00Z"}, "/at"),
        (f"/v1/notices/{nl['id']}/actions", {"outcome": "moved", "at": "2001-01-01T00:00:00Z"}, "/at"),
        (f"/v1/notices/{nl['id']}/actions", {"outcome": "moved", "at": "0001-01-01T00:00:00+00:01"}, "/at"),
        ("/v1/notices/0/actions", {"outcome": "moved"}, "/notice_id"),
    ]
    for path, body, field in bad:
        response = (
            client.post(path, json=body, headers=org.h()) if body else client.get(path, headers=org.h())
        )
        assert response.status_code == 422, (path, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]
    assert [n["url"] for n in client.get("/v1/notices?country=de", headers=org.h()).json()["notices"]] == [
        urls_[1]
    ]
    done = client.post(
        f"/v1/notices/{nl['id']}/actions",
        json={"outcome": "content_removed", "note": "host replied"},
        headers=org.h(),
    )
    assert done.status_code == 201 and done.json()["state"] == "removed"
    last = done.json()["events"][-1]
    assert (last["action"], last["by"], last["detail"]) == (
        "content_removed",
        f"analyst@{org.name}.example",
        {"note": "host replied"},
    )
    reader = Accounts(database(db_url)).create_token(f"analyst@{org.name}.example", ["reports:read"])
    forbidden = client.post(
        "/v1/notices",
        json={"report": report_id, "url": "https://a.example.org/x", **GOOD},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert forbidden.status_code == 403
    assert client.get("/v1/notices", headers={"Authorization": f"Bearer {reader}"}).status_code == 200


# -- statistics ---------------------------------------------------------------------------------------
def test_time_to_removal_statistics(routes, client, make_org, db_url):
    """Known timings: NL/Alpha removed after 2, 4, 6, 8 and 10 hours (one still online), DE/Beta
    after 30 and 200 hours: medians 6 and 115, nearest-rank 90th percentiles 10 and 200."""
    org = make_org()
    db, who = database(db_url), _principal(db_url, org)
    timings = [("NL", "Alpha", h) for h in (2, 4, 6, 8, 10, None)] + [("DE", "Beta", h) for h in (30, 200)]
    links = [f"https://files{i}.example.org/x" for i in range(len(timings))]
    report_id = _report(client, org, links)
    t0 = utcnow().replace(microsecond=0) - timedelta(days=60)
    with db.engine.begin() as conn:  # the report arrived two hours before the notices were made
        conn.execute(
            text("UPDATE reports SET received_at = :t WHERE id = :id"), {"t": t0 - 2 * HOUR, "id": report_id}
        )
    for link, (country, provider, hours) in zip(links, timings, strict=True):
        made = notices.create_notice(db, who, report_id, link, provider, country, "abuse@x.example", now=t0)
        if hours is not None:
            notices.record_action(db, who, made["id"], "content_removed", at=t0 + hours * HOUR)
    by_notice = notices.stats(db, who, since="notice")
    rows = {r["key"]: r for r in by_notice["by_country"]}
    assert rows["NL"] == {
        "key": "NL",
        "notices": 6,
        "removed": 5,
        "removed_within_7_days": 5,
        "median_hours": 6.0,
        "p90_hours": 10.0,
    }
    assert (rows["DE"]["median_hours"], rows["DE"]["p90_hours"], rows["DE"]["removed_within_7_days"]) == (
        115.0,
        200.0,
        1,
    )
    assert [r["key"] for r in by_notice["by_provider"]] == ["Alpha", "Beta"]
    assert (by_notice["overall"]["notices"], by_notice["overall"]["removed"]) == (8, 7)
    by_report = client.get("/v1/notices/stats", headers=org.h()).json()
    assert {r["key"]: r["median_hours"] for r in by_report["by_country"]} == {"DE": 117.0, "NL": 8.0}
    shown = notice_cmd.render_stats(by_notice)
    assert "Per hosting country" in shown and "Alpha" in shown and "█" in shown and "░" in shown
    assert "115 / 200 h" in shown


def test_cli_list_stats_and_run(routes, client, make_org, db_url, host):
    org = make_org()
    report_id = _report(client, org, ["https://images.example.org/c/1"])
    _create(client, org, report_id, "https://images.example.org/c/1", "abuse@images.example.org")
    runner = CliRunner()
    listed = runner.invoke(notice_cmd.app, ["list", "--org", org.name, "--db", db_url])
    assert listed.exit_code == 0, listed.output
    assert "pending" in listed.output and "NL" in listed.output
    stats = runner.invoke(notice_cmd.app, ["stats", "--org", org.name, "--db", db_url])
    assert stats.exit_code == 0 and "no removals yet" in stats.output
    ran = runner.invoke(notice_cmd.app, ["run", "--org", org.name, "--db", db_url, "--json"])
    assert ran.exit_code == 0 and json.loads(ran.output.strip().splitlines()[-1])["due"] == 0
