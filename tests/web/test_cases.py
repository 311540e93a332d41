"""The cases pages over HTTP: a real scan of generated benign pictures (a hit, a duplicate group, a
hostile file name), the grid, blurred previews and reveals, marking a group, a hash set of the
assessed files, the exports, and hostile or missing names."""

import io
import json
import re
import uuid

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from tests.api.conftest import database
from tests.web.conftest import make_team
from vigil.demo import jpeg, picture
from vigil.hashsets import Entry
from vigil.scan.pipeline import run_scan
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import AuditEntry, Case, CaseItem
from vigil.web.case_pages import case_url


@pytest.fixture(scope="module")
def team(app, db_url, client):  # noqa: F811 - the conftest's `team`, made once for the module
    """One organisation with an analyst, a supervisor and an admin, each signed in (cases belong to
    the instance, not to an organisation: one team serves every test here, and signing in three
    users per test would be most of the module's time)."""
    yield from make_team(app, db_url, tokens=False)


@pytest.fixture(scope="module")
def scanned(db_url, tmp_path_factory):
    """A case of six pictures: `hit.jpg` (its MD5 on a hash set, csam), three copies of one picture
    (a duplicate group), `other.png`, a file named like markup, and a text file."""
    import hashlib

    ev = tmp_path_factory.mktemp("evidence")
    pictures = [jpeg(picture(seed, (320, 240))) for seed in (11, 12, 13, 14)]
    (ev / "sub").mkdir()
    (ev / "hit.jpg").write_bytes(pictures[0])
    for name in ("dup_a.jpg", "dup_b.jpg", "sub/dup_c.jpg"):
        (ev / name).write_bytes(pictures[1])
    other = io.BytesIO()
    picture(13, (320, 240)).save(other, "PNG")
    (ev / "other.png").write_bytes(other.getvalue())
    (ev / "<script>x<").mkdir()
    (ev / "<script>x<" / "script>.jpg").write_bytes(pictures[3])
    (ev / "notes.txt").write_text("nothing to see\n")
    db = database(db_url)
    hit_set = f"hits-{uuid.uuid4().hex[:8]}"
    md5 = hashlib.md5(pictures[0]).digest()
    HashsetRepository(db).import_entries(hit_set, [Entry("md5", md5, "csam")], fmt="text")
    name = f"<b>case</b>/mark {uuid.uuid4().hex[:6]}"  # markup, and a `/` that is not a route
    run_scan(db, ev, name, workers=1)
    with db.engine.connect() as conn:
        case_id = conn.execute(select(Case.id).where(Case.name == name)).scalar_one()
        items = dict(
            conn.execute(select(CaseItem.path, CaseItem.id).where(CaseItem.case_id == case_id)).all()
        )
    return {"name": name, "url": case_url(name), "items": items, "evidence": ev, "db": db, "set": hit_set}


def _item(scanned, path: str) -> int:
    return scanned["items"][path]


def _grid(html: str) -> str:
    return html.split('id="grid-h"', 1)[1]


def _neighbour_difference(image: Image.Image) -> float:
    pixels = np.asarray(image.convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(pixels, axis=1)).mean())


def test_list_and_case_page_show_hits_first_and_escape_names(team, scanned):
    b = team["analyst"]
    listing = b.client.get("/cases")
    assert listing.status_code == 200
    assert "&lt;b&gt;case&lt;/b&gt;" in listing.text and "<b>case</b>" not in listing.text
    assert scanned["url"] in listing.text
    page = b.client.get(scanned["url"])
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    grid = _grid(page.text)
    paths = re.findall(r'<p class="path" id="path-\d+">([^<]*)</p>', grid)
    assert paths[0] == "hit.jpg"  # the hit first
    assert "&lt;script&gt;x&lt;/script&gt;.jpg" in paths
    assert "<script>x</script>" not in page.text
    assert "notes.txt" not in grid  # not a picture
    copies = [p for p in paths if "dup_" in p]
    assert copies == ["dup_a.jpg"]  # a duplicate group once, by its representative
    assert "3 copies" in grid
    assert 'data-key="1" data-value="csam"' in grid and 'data-key="0" data-value="non_pertinent"' in grid
    assert 'hx-target="closest .tile"' in grid and "style=" not in page.text and "onclick" not in page.text
    legacy = b.client.get(scanned["url"] + "?scheme=legacy")
    assert 'data-value="legacy_category_1"' in legacy.text
    assert b.client.get(scanned["url"] + "?scheme=nope").status_code == 400


def test_views_are_audited(team, scanned, db_url):
    b = team["supervisor"]
    assert b.client.get(scanned["url"]).status_code == 200
    with database(db_url).engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.actor == b.email, AuditEntry.action == "case.view")
        ).all()
    assert rows and json.loads(rows[-1].detail)["case"] == scanned["name"]


def test_preview_is_blurred_and_missing_ones_are_404(team, scanned):
    b = team["analyst"]
    item = _item(scanned, "other.png")
    answer = b.client.get(f"{scanned['url']}/items/{item}/preview")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in answer.headers
    blurred = Image.open(io.BytesIO(answer.content))
    assert blurred.mode == "L"  # greyscale in its pixels
    clear = picture(13, (320, 240))
    clear.thumbnail(blurred.size)
    assert _neighbour_difference(blurred) < _neighbour_difference(clear) / 4
    text = _item(scanned, "notes.txt")
    assert b.client.get(f"{scanned['url']}/items/{text}/preview").status_code == 404
    assert b.client.get(f"{scanned['url']}/items/999999999/preview").status_code == 404
    assert b.client.get(f"{scanned['url']}/items/abc/preview").status_code == 400
    assert b.client.get(f"{scanned['url']}/items/0/preview").status_code == 400
    assert b.client.get(f"/cases/no-such-case-{uuid.uuid4().hex}/items/{item}/preview").status_code == 404


def test_reveal_needs_the_csrf_token_and_is_counted_and_audited(team, scanned, db_url):
    b = team["analyst"]
    item = _item(scanned, "hit.jpg")
    url = f"{scanned['url']}/items/{item}/reveal"
    assert b.client.post(url).status_code == 403
    first = b.post(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.json()
    assert body["src"].startswith("data:image/jpeg;base64,")
    second = b.client.post(url, headers={"X-CSRF-Token": b.csrf})
    assert second.json()["revealed"] == body["revealed"] + 1
    with database(db_url).engine.connect() as conn:
        objects = conn.execute(
            select(AuditEntry.object).where(
                AuditEntry.actor == b.email, AuditEntry.action == "preview.reveal"
            )
        ).all()
    assert len(objects) == 2 and objects[0].object.endswith(f"/item:{item}")
    assert b.post(f"{scanned['url']}/items/{_item(scanned, 'notes.txt')}/reveal").status_code == 404


def test_marking_a_representative_marks_its_group(team, scanned, db_url):
    b = team["analyst"]
    rep = _item(scanned, "dup_a.jpg")
    answer = b.post(f"{scanned['url']}/mark", {"item": rep, "group": "1", "category": "child_exploitive"})
    assert answer.status_code == 303 and answer.headers["location"].endswith(f"#item-{rep}")
    members = [_item(scanned, p) for p in ("dup_a.jpg", "dup_b.jpg", "sub/dup_c.jpg")]
    with database(db_url).engine.connect() as conn:
        rows = conn.execute(
            select(CaseItem.category, CaseItem.assessed_by).where(CaseItem.id.in_(members))
        ).all()
        audited = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.actor == b.email, AuditEntry.action == "case.assess")
        ).all()
    assert rows == [("child_exploitive", b.email)] * 3
    assert json.loads(audited[-1].detail)["items"] == 3
    # by htmx (the keyboard fills the hidden field): the tile comes back, marked
    other = _item(scanned, "other.png")
    answer = b.client.post(
        f"{scanned['url']}/mark",
        data={"csrf": b.csrf, "category": "non_pertinent", "item": other},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text[:300]
    assert f'id="item-{other}"' in answer.text and "tile assessed" in answer.text
    assert 'aria-pressed="true" class="chosen"' in answer.text and "<html" not in answer.text


def test_a_bad_category_or_item_is_refused(team, scanned, db_url):
    b = team["analyst"]
    item = _item(scanned, "<script>x</script>.jpg")
    for form in (
        {"item": item, "category": "not-a-category"},
        {"item": item, "category": "legacy_category_1"},  # not a VICS US label
        {"item": "12x", "category": "csam"},
        {"category": "csam"},
    ):
        answer = b.post(f"{scanned['url']}/mark", form)
        assert answer.status_code == 400, form
        assert "Traceback" not in answer.text
    assert b.post(f"{scanned['url']}/mark", {"item": 999999999, "category": "csam"}).status_code == 404
    assert b.client.post(f"{scanned['url']}/mark", data={"item": item, "category": "csam"}).status_code == 403
    with database(db_url).engine.connect() as conn:
        assert conn.execute(select(CaseItem.category).where(CaseItem.id == item)).scalar() is None
    answer = b.post(
        f"{scanned['url']}/mark", {"item": item, "category": "legacy_category_1", "scheme": "legacy"}
    )
    assert answer.status_code == 303 and "scheme=legacy" in answer.headers["location"]


def test_assessed_files_make_a_hash_set(team, scanned, db_url):
    b = team["supervisor"]
    hit = _item(scanned, "hit.jpg")
    assert b.post(f"{scanned['url']}/mark", {"item": hit, "category": "csam"}).status_code == 303
    name = f"from-case-{uuid.uuid4().hex[:6]}"
    answer = b.post(f"{scanned['url']}/export-set", {"set": name})
    assert answer.status_code == 200 and "hashes of the assessed files" in answer.text, answer.text[:500]
    repo = HashsetRepository(database(db_url))
    info = repo.get(name)
    assert info.format == "case" and info.source == f"case {scanned['name']}"
    data = (scanned["evidence"] / "hit.jpg").read_bytes()
    import hashlib

    opinions = repo.exact_opinions("md5", [hashlib.md5(data).digest()])
    assert [o.category for o in next(iter(opinions.values())) if o.hashset == name] == ["csam"]
    signals = repo.signals_of(name)
    assert signals["md5"] >= 2 and signals["sha256"] == signals["md5"]  # hit + the group (child_exploitive)
    # a set not made from a case is never replaced
    answer = b.post(f"{scanned['url']}/export-set", {"set": scanned["set"]})
    assert answer.status_code == 422 and "not made from a case" in answer.text
    assert repo.get(scanned["set"]).format == "text"
    assert b.post(f"{scanned['url']}/export-set", {"set": ""}).status_code == 422


def test_exports(team, scanned):
    b = team["analyst"]
    answer = b.client.get(f"{scanned['url']}/export.json")
    assert answer.status_code == 200
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"', answer.headers["content-disposition"])
    report = answer.json()
    assert report["case"] == scanned["name"] and report["summary"]["files"] == 7
    first = report["items"][0]
    assert list(first)[:3] == ["path", "location", "size"] and "disputed" in first
    csv_text = b.client.get(f"{scanned['url']}/export.csv").text
    assert csv_text.startswith("# case: ") and "\npath,size,type" in csv_text
    html = b.client.get(f"{scanned['url']}/export.html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    assert "<script>x</script>" not in html.text
    vics = b.client.get(f"{scanned['url']}/export.vics.json").json()
    assert vics["value"][0]["CaseID"] == scanned["name"] and vics["value"][0]["Media"]
    assert b.client.get(f"{scanned['url']}/export.exe").status_code == 404


def test_missing_cases_and_bad_addresses(team, scanned):
    b = team["admin"]
    for path in (
        f"/cases/{uuid.uuid4().hex}",
        f"/cases/{uuid.uuid4().hex}/export.json",
        "/cases/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/cases/~ff~fe",  # not UTF-8 once decoded
        "/cases/" + "x" * 300,
    ):
        answer = b.client.get(path)
        assert answer.status_code == 404, path
        assert "<script>alert" not in answer.text
    assert b.post(f"/cases/{uuid.uuid4().hex}/mark", {"item": 1, "category": "csam"}).status_code == 404
    assert b.client.get(scanned["url"] + "?page=0").status_code == 400
    assert b.client.get(scanned["url"] + "?page=999").status_code == 200  # the last page
