"""The HTML case report for an analyst (issue 10, item 13): thumbnails blurred in their pixels unless
asked otherwise, hits first (exact before near, most severe first), duplicate groups with members,
"same picture as a hit", "+N" explained, counts that agree with the summary, empty files named so."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
from PIL import Image

from tests.conftest import image_bytes
from tests.scan.conftest import cli, digests
from vigil.scan.reporting import THUMBNAIL_PX


def _thumbs(page: str) -> list[Image.Image]:
    found = re.findall(r'<img class="thumb"[^>]*src="data:image/jpeg;base64,([^"]+)"', page)
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in found]


def _detail(image: Image.Image) -> float:
    """High-frequency energy: mean absolute Laplacian of the grey pixels."""
    a = np.asarray(image.convert("L"), dtype=np.float32)
    lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float(np.abs(lap).mean())


def _clear_thumbnail(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return im


def _import(tmp_path, db, name, md5s, category) -> None:
    path = tmp_path / f"{name}.txt"
    path.write_text("md5,category\n" + "".join(f"{m},{category}\n" for m in md5s))
    assert cli("hashset", "import", str(path), "--name", name, "--db", db) == 0


def test_thumbnails_are_blurred_in_their_pixels_unless_clear_is_asked(tmp_path, pictures):
    from vigil.scan.hashing import hash_bytes

    def pdq(image: Image.Image) -> int:
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "PNG")
        return int(hash_bytes(buf.getvalue(), "t").pdq, 16)

    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "hit.jpg").write_bytes(photo)
    db = str(tmp_path / "v.db")
    _import(tmp_path, db, "hotline", [digests(photo)["md5"]], "csam")
    blurred, clear = tmp_path / "b.html", tmp_path / "c.html"
    assert cli("scan", str(ev), "--case", "c", "--html", str(blurred), "--db", db, "--workers", "1") == 0
    args = ["--html", str(clear), "--html-clear-thumbnails", "--replace"]
    assert cli("scan", str(ev), "--case", "c", *args, "--db", db, "--workers", "1") == 0

    reference = _clear_thumbnail(photo)
    (b,) = _thumbs(blurred.read_text())
    assert b.mode == "L"  # greyscale
    assert _detail(b) < 0.15 * _detail(reference)  # what is left is mostly JPEG block noise
    distance = bin(pdq(b) ^ pdq(reference)).count("1")
    assert distance > 64  # far from the picture: not a recognisable copy of it
    page = blurred.read_text()
    assert "blurred in their pixels" in page and "clear thumbnails" not in page and "onclick" not in page

    (c,) = _thumbs(clear.read_text())
    assert _detail(c) > 0.5 * _detail(reference)
    page = clear.read_text()
    assert "<b>clear thumbnails</b>" in page and "filter: blur(" in page and "onclick" in page


class _Sections(HTMLParser):
    """Rows of each table (by class), ids and marks of the report."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, int] = {}
        self.table: str | None = None
        self.order: list[str] = []  # path cells in the order shown, per table: "class:path"
        self.in_path = False
        self.groups = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("class")
            self.rows.setdefault(self.table, -1)  # minus the header row
        elif tag == "tr" and self.table:
            self.rows[self.table] += 1
        elif tag == "td" and a.get("class") == "path":
            self.in_path = True
        elif tag == "h3" and (a.get("id") or "").startswith("group-"):
            self.groups += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "td":
            self.in_path = False

    def handle_data(self, data):
        if self.in_path and self.table:
            self.order.append(f"{self.table}:{data}")


def test_demo_report_counts_agree_with_the_summary(tmp_path):
    from vigil.demo import build

    build(tmp_path / "demo")
    lists, ev = tmp_path / "demo" / "lists", tmp_path / "demo" / "evidence"
    db = str(tmp_path / "v.db")
    assert cli("hashset", "import", str(lists / "national.vics.json"), "--name", "national", "--db", db) == 0
    md5 = ["hashset", "import", str(lists / "hotline-md5.txt"), "--name", "hotline", "--category", "csam"]
    assert cli(*md5, "--db", db) == 0
    assert cli("hashset", "import", str(lists / "NSRLFile.txt"), "--name", "nsrl", "--db", db) == 0
    (ev / "empty.jpg").write_bytes(b"")
    out, html = tmp_path / "case.json", tmp_path / "case.html"
    assert cli("scan", str(ev), "--case", "demo", "--json", str(out), "--html", str(html), "--db", db) == 0
    report = json.loads(out.read_text())
    summary = report["summary"]
    page = html.read_text()
    parsed = _Sections()
    parsed.feed(page)
    assert summary["hidden"] > 0 and summary["matched_near"] > 0
    assert parsed.rows["hits-exact"] == summary["matched_exact"]
    assert parsed.rows["hits-near"] == summary["matched_near"]
    assert parsed.rows["hidden"] == summary["hidden"]
    assert f"Hidden content ({summary['hidden']})" in page
    assert parsed.rows["errors"] == summary["errors"]
    assert parsed.groups == summary["duplicate_groups"]
    assert page.index('id="exact"') < page.index('id="near"') < page.index('id="hidden"')
    # an empty file is empty, not an extension mismatch
    empty = next(it for it in report["items"] if it["path"] == "empty.jpg")
    assert (empty["type"], empty["flags"]) == ("inode/x-empty", ["empty"])
    assert summary["empty"] == 1


def test_hits_ordered_groups_listed_same_picture_marked(tmp_path, pictures):
    a, b = image_bytes(pictures[0], "JPEG"), image_bytes(pictures[1], "JPEG")
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "a_comparison.jpg").write_bytes(a)  # first by name, least severe
    (ev / "z_csam.jpg").write_bytes(b)
    (ev / "z_csam_again.png").write_bytes(image_bytes(pictures[1], "PNG"))  # same picture, other bytes
    db = str(tmp_path / "v.db")
    _import(tmp_path, db, "hotline", [digests(b)["md5"]], "csam")
    _import(tmp_path, db, "second", [digests(b)["md5"]], "csam")
    _import(tmp_path, db, "lab", [digests(a)["md5"]], "comparison")
    html = tmp_path / "r.html"
    assert cli("scan", str(ev), "--case", "c", "--html", str(html), "--db", db, "--workers", "1") == 0
    page = html.read_text()
    parsed = _Sections()
    parsed.feed(page)
    exact = [p.split(":", 1)[1] for p in parsed.order if p.startswith("hits-exact:")]
    assert exact == ["z_csam.jpg", "a_comparison.jpg"]  # most severe first
    assert "+1 other matches" in page and "second: md5, distance 0, csam" in page
    assert parsed.groups == 1
    group = page[page.index('id="group-1"') :]
    assert "z_csam.jpg" in group and "z_csam_again.png" in group and "holds known material" in group
    assert re.search(r"z_csam_again\.png <span class=\"hitmark\">same picture as a hit</span>", page)
