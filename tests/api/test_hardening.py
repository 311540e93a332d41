"""Hostile input at the HTTP boundary (issue 10): URLs parsed by one library, batches all or nothing,
nesting and size bounded before parsing, nothing large echoed back, hash-check widths, link views from
both sides, malformed JSON a 400, and the docs served without a CDN. Every error is problem+json."""

from __future__ import annotations

import copy
import json
import re

import pytest

from tests.api.conftest import example
from vigil.api.guard import too_deep
from vigil.reports import urls
from vigil.reports.template import validate

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def public(db_url, client):
    """A second app on the same database whose public form allows many reports a minute."""
    from fastapi.testclient import TestClient

    from vigil.api.app import create_app

    with TestClient(create_app(db_url, public_org="public-desk", public_rate="100000/60")) as c:
        yield c


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == PROBLEM
    return r.json()


def _with_urls(*web: str) -> dict:
    body = copy.deepcopy(example(1))
    body["channel"] = {"kind": "web", "urls": list(web)}
    return body


# -- 2: URLs and batches ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://b.example:99999/x", "port must be a number 0-65535"),
        ("javascript:alert(1)", "web address"),
        ("data:text/html,<b>x</b>", "web address"),
        ("file:///etc/passwd", "web address"),
        ("//b.example/x", "without a scheme"),
        ("http://exa mple.example/", "space"),
        ("http://a..b/", "not a valid host"),
        ("http:///x", "no host"),
    ],
)
def test_bad_urls_are_422_naming_the_field(client, public, make_org, url, why):
    org = make_org()
    r = client.post("/v1/reports", json=_with_urls("https://ok.example/", url), headers=org.h())
    errors = _problem(r, 422)["errors"]
    assert [e["field"] for e in errors] == ["/channel/urls/1"], errors
    assert why in errors[0]["message"]
    person = copy.deepcopy(example(0))
    person["reportedPerson"]["profileUrl"] = url
    r = public.post("/v1/public/reports", json=person)
    assert "/reportedPerson/profileUrl" in {e["field"] for e in _problem(r, 422)["errors"]}


def test_urls_are_normalised_by_the_library():
    assert urls.normalise("HTTP://Bücher.Example:80/%7euser/a%2fb/?q=%e4#frag") == (
        "http://xn--bcher-kva.example/~user/a%2Fb?q=%E4"
    )
    assert urls.normalise("https://user:secret@h.example:443/x/") == "https://h.example/x"
    assert urls.normalise("https://h.example:8443") == "https://h.example:8443/"
    assert urls.normalise("http://[::1]:0/") == "http://[::1]:0/"
    for bad in ("http://h.example:65536/", "http://h.example:-1/", "ftp://h.example/", "mailto:a@b.example"):
        with pytest.raises(ValueError):
            urls.normalise(bad)
    # the template check and the link key use the same parser: what one accepts the other does
    ok = _with_urls("https://BÜCHER.example/a/")
    assert validate(ok) == []


def test_idna_and_userinfo_urls_link_reports(client, make_org):
    org = make_org()
    first = client.post("/v1/reports", json=_with_urls("https://bücher.example/a"), headers=org.h()).json()
    second = copy.deepcopy(example(0))
    second["channel"] = {"kind": "web", "urls": ["HTTPS://someone@XN--BCHER-KVA.example:443/a/#x"]}
    linked = client.post("/v1/reports", json=second, headers=org.h())
    assert linked.status_code == 201, linked.text
    assert first["id"] in linked.json()["linked_to"]


def test_a_batch_with_a_bad_url_stores_nothing(client, make_org):
    org = make_org()
    good = _with_urls("https://ok.example/1")
    r = client.post(
        "/v1/reports", json={"reports": [good, _with_urls("http://b.example:99999/x")]}, headers=org.h()
    )
    assert [e["field"] for e in _problem(r, 422)["errors"]] == ["/reports/1/channel/urls/0"]
    assert client.get("/v1/queue", headers=org.h()).json()["reports"] == []


def test_a_batch_is_one_transaction(app, client, make_org, monkeypatch):
    """A failure while storing the third report of a batch leaves none of the batch stored (SQLite
    and PostgreSQL): the database refuses the third report's audit row (no hash), the last write of
    the transaction, after the batch's reports, files and link keys were sent."""
    from vigil.store import audit

    org = make_org()
    calls = []
    real = audit.chained

    def failing(prev, rows):
        calls.append(rows)
        chained = real(prev, rows)
        if len(calls) == 1:
            chained[2]["hash"] = None  # NOT NULL: the database fails the statement
        return chained

    monkeypatch.setattr(audit, "chained", failing)
    batch = {"reports": [_with_urls(f"https://batch.example/{i}") for i in range(4)]}
    r = client.post("/v1/reports", json=batch, headers=org.h())
    assert _problem(r, 500)["title"] == "internal error" and len(calls) == 1
    monkeypatch.undo()
    assert client.get("/v1/queue", headers=org.h()).json()["reports"] == []
    ok = client.post("/v1/reports", json=batch, headers=org.h())
    assert ok.status_code == 201 and len(ok.json()["results"]) == 4
    # reports of one batch link to each other as separate requests would
    same = {"reports": [_with_urls("https://same.example/x"), _with_urls("https://same.example/x/")]}
    results = client.post("/v1/reports", json=same, headers=org.h()).json()["results"]
    assert results[1]["status"] == "repeat" and results[1]["repeat_of"] == results[0]["id"]


# -- 3 and 16: nesting and size ------------------------------------------------------------------
def test_deep_nesting_is_refused_before_parsing(client, make_org):
    deep = b"[" * 100_000 + b"]" * 100_000
    for path, headers in (("/v1/public/reports", {}), ("/v1/reports", make_org().h())):
        r = client.post(path, content=b'{"incident": ' + b"[" * 50 + b"]" * 50 + b"}", headers=headers)
        assert _problem(r, 422)["errors"] == [{"field": "/", "message": "JSON nested deeper than 32 levels"}]
        r = client.post(path, content=deep[:60_000], headers=headers)  # fits the public form's size
        assert r.status_code in (413, 422) and r.headers["content-type"] == PROBLEM
    r = client.post("/v1/hash-check", content=b"[" * 60_000, headers=make_org().h())
    assert _problem(r, 422)["title"] == "the body is nested too deeply"


def test_depth_scan_on_raw_bytes():
    assert not too_deep(json.dumps({"reports": [example(0)] * 50}).encode())
    assert not too_deep(b"[" * 32 + b"]" * 32)
    assert too_deep(b"[" * 33 + b"]" * 33)
    assert too_deep(b'{"a":' * 20 + b"[" * 13 + b"]" * 13 + b"}" * 20)
    assert too_deep(b"[" * 100_000)  # never closed: still nested
    assert not too_deep(b'["' + b"[{" * 1000 + b'", "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]')  # in strings


def test_bodies_are_bounded_while_read(client, make_org):
    org = make_org()
    big = {"incident": {"type": "other", "summary": "x" * (5 * 1024 * 1024)}}
    r = client.post("/v1/public/reports", json=big)
    assert "VIGIL_MAX_PUBLIC_BODY" in _problem(r, 413)["detail"] and len(r.content) < 1000
    # without Content-Length too (chunked): the guard counts what it reads
    r = client.post("/v1/public/reports", content=iter([b'{"incident": "', b"x" * 70_000, b'"}']))
    _problem(r, 413)
    # without a token the public form's limit applies everywhere
    assert client.post("/v1/reports", json=big).status_code == 413
    # with one, batches may be large (16 MiB by default) but 5 MB of one field is answered briefly
    r = client.post("/v1/reports", json=big, headers=org.h())
    answer = _problem(r, 422)
    assert len(r.content) < 2000, len(r.content)
    assert any(e["field"] == "/incident/summary" for e in answer["errors"])


def test_errors_never_echo_large_input(client, make_org):
    org = make_org()
    body = copy.deepcopy(example(0))
    body["incident"]["type"] = "t" * 40_000
    body["files"][0]["hashes"]["md5"] = "z" * 40_000
    body["channel"]["urls"] = ["javascript:" + "a" * 1900]
    body["x" * 40_000] = 1
    r = client.post("/v1/reports", json=body, headers=org.h())
    answer = _problem(r, 422)
    assert len(r.content) < 4000, len(r.content)
    assert {"/incident/type", "/files/0/hashes/md5", "/channel/urls/0", "/"} <= {
        e["field"] for e in answer["errors"]
    }
    labels = {"y" * 50_000: "z" * 50_000}
    r = client.post("/v1/reports/1/classifications", json={"labels": labels}, headers=org.h())
    assert r.status_code in (404, 422) and len(r.content) < 2000


def test_limits_are_configurable(db_url, monkeypatch):
    from fastapi.testclient import TestClient

    from vigil.api.app import create_app
    from vigil.errors import VigilError

    monkeypatch.setenv("VIGIL_MAX_PUBLIC_BODY", "1KiB")
    with TestClient(create_app(db_url, public_org="public-desk")) as c:
        r = c.post("/v1/public/reports", json={"incident": {"type": "other", "summary": "d" * 2000}})
        assert r.status_code == 413 and "1024 bytes" in r.json()["detail"]
    monkeypatch.setenv("VIGIL_MAX_BODY", "lots")
    with pytest.raises(VigilError, match="VIGIL_MAX_BODY: expected a size in bytes"):
        create_app(db_url)


# -- 4: hash-check widths ------------------------------------------------------------------------
def test_hash_check_signal_must_fit_the_hashes(client, make_org):
    org = make_org()
    r = client.post("/v1/hash-check", json={"hashes": ["a" * 32, "b" * 64], "signal": "md5"}, headers=org.h())
    errors = _problem(r, 422)["errors"]
    assert [e["field"] for e in errors] == ["/hashes/1"] and "md5 has 32" in errors[0]["message"]
    ok = client.post("/v1/hash-check", json={"hashes": ["b" * 64], "signal": "pdq"}, headers=org.h())
    assert ok.status_code == 200


# -- 15: priority of repeats, links from both sides, malformed JSON ------------------------------
def test_a_repeat_is_not_new_content_and_links_show_both_ways(client, make_org):
    org = make_org()
    first = client.post("/v1/reports", json=example(0), headers=org.h()).json()
    assert "new_content" in {r["rule"] for r in first["priority"]["rules"]}
    again = client.post("/v1/reports", json=example(0), headers=org.h()).json()
    assert again["status"] == "repeat"
    assert "new_content" not in {r["rule"] for r in again["priority"]["rules"]}
    related = copy.deepcopy(example(1))
    related["channel"] = {"kind": "web", "urls": ["https://images.example.org/gallery/123"]}
    linked = client.post("/v1/reports", json=related, headers=org.h()).json()
    assert linked["linked_to"] == [first["id"]]
    shown = client.get(f"/v1/reports/{first['id']}", headers=org.h()).json()
    assert shown["linked_to"] == [] and shown["linked_from"] == [again["id"], linked["id"]]
    assert shown["repeats"] == 1
    later = client.get(f"/v1/reports/{linked['id']}", headers=org.h()).json()
    assert later["linked_to"] == [first["id"]] and later["linked_from"] == []
    repeat = client.get(f"/v1/reports/{again['id']}", headers=org.h()).json()
    assert repeat["repeat_of"] == first["id"]
    assert "new_content" in {r["rule"] for r in linked["priority"]["rules"]}  # its files are new
    # the same files from elsewhere: a new report, linked, but not content never seen before
    elsewhere = copy.deepcopy(example(0))
    elsewhere["channel"] = {"kind": "web", "urls": ["https://elsewhere.example/p"]}
    elsewhere["reportedPerson"] = {"screenName": "another_uploader"}
    moved = client.post("/v1/reports", json=elsewhere, headers=org.h()).json()
    assert moved["status"] == "new" and moved["linked_to"] == [first["id"]]
    assert "new_content" not in {r["rule"] for r in moved["priority"]["rules"]}
    # another organisation's links are not shown, even to one it shared a report with
    other = make_org()
    assert (
        client.post(
            f"/v1/reports/{linked['id']}/shares",
            json={"organisation": other.name},
            headers=org.h("supervisor"),
        ).status_code
        == 201
    )
    seen = client.get(f"/v1/reports/{linked['id']}", headers=other.h()).json()
    assert seen["linked_to"] == []


def test_malformed_json_is_400_everywhere(public, make_org):
    client = public
    org = make_org()
    for path, headers in (
        ("/v1/reports", org.h()),
        ("/v1/public/reports", {}),
        ("/v1/hash-check", org.h()),
        ("/v1/reports/1/classifications", org.h()),
    ):
        r = client.post(
            path, content=b'{"hashes": [', headers={**headers, "Content-Type": "application/json"}
        )
        answer = _problem(r, 400)
        assert answer["errors"][0]["field"] == "/" and answer["title"] == "the body is not JSON"
        r = client.post(path, content=b"\xff\xfe", headers={**headers, "Content-Type": "application/json"})
        assert _problem(r, 400)["errors"][0]["field"] == "/"
        r = client.post(path, content=b"", headers={**headers, "Content-Type": "application/json"})
        assert _problem(r, 400)["errors"][0]["field"] == "/"


# -- 20: docs without a CDN ----------------------------------------------------------------------
def test_docs_need_no_internet(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:)?//", html), page
        assert not re.search(r"(?i)\b(https?:)?//[a-z0-9.-]+\.(net|com|org|io)\b", html), page
        assets = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html)
        assets += re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", html)
        assert any(a.endswith(".js") for a in assets), assets
        for asset in assets:
            r = client.get(asset)
            assert r.status_code == 200 and len(r.content) > 100, asset
    assert (
        client.get("/docs-assets/swagger-ui-bundle.js")
        .headers["content-type"]
        .startswith(("application/javascript", "text/javascript"))
    )
    assert client.get("/docs-assets/../app.py").status_code == 404


def test_an_unreachable_rate_limiter_is_a_503(db_url, client):
    import socket

    from fastapi.testclient import TestClient

    from vigil.api.app import create_app

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(db_url, public_org="public-desk", redis_url=f"redis://127.0.0.1:{port}/0")
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/public/reports", json={"incident": {"type": "other"}})
        assert _problem(r, 503)["title"] == "the rate limiter is unavailable"
