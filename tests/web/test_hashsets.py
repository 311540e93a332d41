"""The hash sets pages: the list, one set's versions and their diff, enabling and disabling (audited,
supervisors and admins only), and importing a list by upload (streamed, bounded, CSRF-checked, one
transaction: a broken file changes nothing)."""

import hashlib
import json
import uuid

import pytest
from sqlalchemy import func, select

from tests.api.conftest import database
from vigil.hashsets import Entry
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import AuditEntry, Hashset
from vigil.web import hashset_pages


def md5s(*words: str) -> list[str]:
    return [hashlib.md5(w.encode()).hexdigest() for w in words]


def unique(prefix: str = "set") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def upload(browser, body: bytes, name: str, csrf: str | None = None, **query):
    params = {"name": name, "source": "test hotline", "known": "0", "filename": "list.txt", **query}
    headers = {"X-CSRF-Token": browser.csrf if csrf is None else csrf}
    return browser.client.put("/hashsets/upload", params=params, content=body, headers=headers)


def sets_named(db_url, name: str) -> list[tuple]:
    with database(db_url).engine.connect() as conn:
        rows = conn.execute(
            select(Hashset.name, Hashset.version, Hashset.entry_count, Hashset.enabled)
            .where((Hashset.name == name) | Hashset.name.like(f"{name}@%"))
            .order_by(Hashset.version)
        )
        return [tuple(r) for r in rows]


def audit_rows(db_url, action: str, name: str) -> int:
    with database(db_url).engine.connect() as conn:
        query = select(func.count()).where(
            AuditEntry.action == action, AuditEntry.object == f"hashset:{name}"
        )
        return conn.execute(query).scalar()


@pytest.fixture
def no_temp_left(tmp_path, monkeypatch):
    """Uploads go to a folder of the test's own, which must be empty afterwards."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setattr(hashset_pages, "UPLOAD_DIR", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def test_list_shows_imported_sets_with_signals(db_url, team):
    name = unique("list")
    repo = HashsetRepository(database(db_url))
    entries = [Entry("md5", bytes.fromhex(h)) for h in md5s("a", "b", "c")]
    repo.import_entries(name, entries, fmt="text", source="Test source", category="csam")
    page = team["analyst"].client.get("/hashsets")
    assert page.status_code == 200
    row = page.text[page.text.index(f">{name}<") :]
    assert "Test source" in row[:2000] and "md5 3" in row[:2000] and "csam" in row[:2000]
    assert 'id="upload-form"' not in page.text  # an analyst cannot import
    detail = team["analyst"].client.get(f"/hashsets/{name}")
    assert detail.status_code == 200 and "version 1" in detail.text and "Disable" not in detail.text
    assert team["analyst"].client.get(f"/hashsets/{unique('missing')}").status_code == 404


def test_upload_imports_then_a_new_version_shows_its_diff(db_url, team, no_temp_left):
    b, name = team["supervisor"], unique("upload")
    page = b.client.get("/hashsets").text
    assert 'id="upload-form"' in page and "/static/upload.js" in page and "<noscript>" in page
    first = md5s("one", "two", "three")
    answer = upload(b, "\n".join(first).encode() + b"\n", name)
    assert answer.status_code == 200, answer.text
    assert "Imported 3 entries" in answer.text and "version 1" in answer.text
    assert sets_named(db_url, name) == [(name, 1, 3, True)]
    assert audit_rows(db_url, "hashset.import", name) == 1

    second = [*first[1:], *md5s("four", "five")]  # "one" removed, two added
    answer = upload(b, "\n".join(second).encode(), name)
    assert answer.status_code == 200, answer.text
    assert "version 2" in answer.text and "2 added, 1 removed" in answer.text
    assert sets_named(db_url, name) == [(f"{name}@1", 1, 3, False), (name, 2, 4, True)]

    diff = b.client.get(f"/hashsets/{name}/diff", params={"a": 1, "b": 2})
    assert diff.status_code == 200
    assert md5s("four")[0] in diff.text and md5s("one")[0] in diff.text
    assert b.client.get(f"/hashsets/{name}/diff").text.count("<code>") == 3  # default: previous one
    assert b.client.get(f"/hashsets/{name}/diff", params={"a": 7}).status_code == 404
    detail = b.client.get(f"/hashsets/{name}").text
    assert f"{name}@1" in detail and "against version 1" in detail
    assert f"{name}@1" in b.client.get("/hashsets?archived=1").text
    assert f"{name}@1" not in b.client.get("/hashsets").text
    answer = b.post(f"/hashsets/{name}@1/enabled", {"enabled": "1"})
    assert answer.status_code == 400 and "archived version" in answer.text


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"value": [ {"MD5": ', "list.txt"),  # VICS (JSON) that is not JSON
        (b"%s\nnot a hash at all\n" % md5s("x")[0].encode(), "list.txt:2"),
    ],
)
def test_a_broken_file_is_a_422_naming_it_and_changes_nothing(db_url, team, no_temp_left, body, named):
    b, name = team["admin"], unique("broken")
    upload(b, md5s("kept")[0].encode(), name)
    answer = upload(b, body, name)
    assert answer.status_code == 422
    assert "Nothing imported" in answer.text and named in answer.text
    assert str(no_temp_left) not in answer.text and "Traceback" not in answer.text
    assert sets_named(db_url, name) == [(name, 1, 1, True)]  # the first version, untouched


def test_upload_needs_the_token_and_a_supervisor(db_url, client, team, no_temp_left):
    name = unique("refused")
    body = md5s("x")[0].encode()
    anonymous = client.put("/hashsets/upload", params={"name": name}, content=body, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    assert upload(team["supervisor"], body, name, csrf="").status_code == 403
    assert upload(team["supervisor"], body, name, csrf="forged").status_code == 403
    other_origin = team["supervisor"].client.put(
        "/hashsets/upload",
        params={"name": name},
        content=body,
        headers={"X-CSRF-Token": team["supervisor"].csrf, "Origin": "https://evil.example"},
    )
    assert other_origin.status_code == 403
    answer = upload(team["analyst"], body, name)
    assert answer.status_code == 403 and "supervisors" in answer.text
    assert sets_named(db_url, name) == []


def test_enable_and_disable_toggle_are_audited_and_for_supervisors(db_url, team):
    name = unique("toggle")
    HashsetRepository(database(db_url)).import_entries(
        name, [Entry("md5", bytes.fromhex(md5s("t")[0]))], fmt="text"
    )
    path = f"/hashsets/{name}/enabled"
    assert team["analyst"].post(path, {"enabled": "0"}).status_code == 403
    assert team["supervisor"].client.post(path, data={"enabled": "0"}).status_code == 403  # no token
    assert sets_named(db_url, name)[0][3] is True
    answer = team["supervisor"].post(path, {"enabled": "0", "next": "/hashsets"})
    assert answer.status_code == 303 and answer.headers["location"] == "/hashsets"
    assert sets_named(db_url, name)[0][3] is False
    assert "disabled" in team["analyst"].client.get(f"/hashsets/{name}").text
    answer = team["admin"].post(path, {"enabled": "1"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/hashsets/{name}"
    assert sets_named(db_url, name)[0][3] is True
    assert audit_rows(db_url, "hashset.disable", name) == 1
    assert audit_rows(db_url, "hashset.enable", name) == 1
    assert team["admin"].post(f"/hashsets/{unique('none')}/enabled", {"enabled": "1"}).status_code == 404


def test_hostile_names_are_text(db_url, team, no_temp_left):
    b = team["supervisor"]
    name = f"<script>alert(1)</script>/{uuid.uuid4().hex[:6]}"
    answer = upload(b, md5s("h")[0].encode(), name, filename="<img src=x onerror=alert(1)>\u202e.txt")
    assert answer.status_code == 200, answer.text
    assert "<script>alert" not in answer.text and "<img src=x" not in answer.text
    assert "&lt;img src=x" in answer.text and "\u202e" not in answer.text
    page = b.client.get("/hashsets").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'href="{hashset_pages.href(name)}"' in page
    detail = b.client.get(hashset_pages.href(name))
    assert detail.status_code == 200 and "&lt;script&gt;" in detail.text
    answer = b.post(f"{hashset_pages.href(name)}/enabled", {"enabled": "0"})
    assert answer.status_code == 303
    assert sets_named(db_url, name)[0][3] is False


def test_a_set_named_like_a_route_of_another_is_its_own_page(db_url, team):
    """`x/diff` is a name like any other: its page is its own, not the diff of set `x`."""
    b = team["supervisor"]
    base = unique("route")
    for name, tag in ((base, "a"), (f"{base}/diff", "b"), (f"{base}/enabled", "c")):
        assert upload(b, md5s(tag)[0].encode(), name).status_code == 200
    for name in (f"{base}/diff", f"{base}/enabled"):
        page = b.client.get(hashset_pages.href(name))
        assert page.status_code == 200 and "<h1" in page.text and name in page.text, name
    assert b.client.get(hashset_pages.href(base) + "/diff").status_code == 200
    answer = b.post(f"{hashset_pages.href(base + '/diff')}/enabled", {"enabled": "0"})
    assert answer.status_code == 303 and answer.headers["location"] == hashset_pages.href(base + "/diff")
    assert sets_named(db_url, base + "/diff")[0][3] is False and sets_named(db_url, base)[0][3] is True
    bad = upload(b, md5s("h")[0].encode(), "bad\u202ename")
    assert bad.status_code == 422 and "name: holds control" in bad.text


def test_an_oversized_upload_is_a_413_and_leaves_no_file(db_url, team, no_temp_left, monkeypatch):
    monkeypatch.setattr(hashset_pages, "MAX_UPLOAD", 100)
    b, name = team["admin"], unique("big")
    body = "\n".join(md5s(*map(str, range(10)))).encode()  # 329 bytes
    answer = upload(b, body, name)  # refused by its Content-Length, before reading
    assert answer.status_code == 413 and "upload limit" in answer.text

    def chunks():  # no Content-Length: refused while streaming
        for i in range(0, len(body), 40):
            yield body[i : i + 40]

    answer = b.client.put(
        "/hashsets/upload", params={"name": name}, content=chunks(), headers={"X-CSRF-Token": b.csrf}
    )
    assert answer.status_code == 413
    assert sets_named(db_url, name) == []
    assert upload(b, body[:99], name).status_code == 200  # under the limit


def test_upload_page_parts_are_served(client):
    assert client.get("/static/upload.js").status_code == 200
    assert "XMLHttpRequest" in client.get("/static/upload.js").text


def test_vics_upload(db_url, team, no_temp_left):
    b, name = team["supervisor"], unique("vics")
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    vics = {"@odata.context": context, "value": [{"MediaID": 1, "MD5": md5s("v")[0].upper(), "Category": 1}]}
    answer = upload(b, json.dumps(vics).encode(), name, filename="export.json", known="auto")
    assert answer.status_code == 200, answer.text
    assert "format vics" in answer.text and "Imported 1 entry" in answer.text
