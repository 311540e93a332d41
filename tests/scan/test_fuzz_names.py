"""Hypothesis-generated file names — any bytes a Linux file system allows in a name (not `/`, not NUL,
1-255 bytes, invalid UTF-8 included), with `!`, `[`, newlines, escape sequences, formula starts and
HTML — in folders, zips, tars and 7z, through the scan pipeline to terminal, JSON, CSV and HTML: no
crash, every name round-trips through the JSON location, nothing of a name runs in the HTML or the
spreadsheet, nothing of it reaches the terminal raw."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tarfile
import tempfile
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import py7zr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.conftest import image_bytes
from tests.scan.conftest import cli, digests
from vigil.cli.scan_cmd import print_summary, write_json
from vigil.demo import picture
from vigil.scan import locations
from vigil.scan.locate import read_logical
from vigil.scan.pipeline import run_scan
from vigil.scan.reporting import html_report, write_csv
from vigil.store import open_database

PHOTO = image_bytes(picture(7, (160, 120)).resize((64, 48)), "JPEG")
FORMULA = ("=", "+", "-", "@", "\t", "\r")
PIECES = [
    b"!", b"[", b"]", b"[bold]", b"[/x]", b"\n", b"\r", b"\t", b"\x1b[2J", b"\x1b]0;x\x07", b"=", b"+", b"-",
    b"@", b"'", b"\\", b"\\!", b'"', b"&amp;", b"<script>alert(1)</script>", b"<img src=x onerror=y>",
    b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x80\xae", b"\xc2\x85", b"a", b"photo.jpg", b".", b" ",
]  # fmt: skip
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "b", "table", "tr", "td", "th",
    "div", "figure", "figcaption", "svg", "text", "rect", "span", "img", "details", "summary", "a", "ul",
    "li", "code",
}  # fmt: skip


def _name(parts: list[bytes]) -> bytes:
    raw = b"".join(parts).replace(b"/", b"_").replace(b"\x00", b"_")[:255]
    return raw if raw not in (b"", b".", b"..") else b"x" + raw


PART = st.one_of(st.sampled_from(PIECES), st.binary(min_size=1, max_size=6))
NAMES = st.lists(st.lists(PART, min_size=1, max_size=8).map(_name), min_size=1, max_size=4, unique=True)


def _member_name(raw: bytes) -> str:
    """What an archive format can hold as a name: zip and 7z store text (undecodable bytes replaced)."""
    return raw.decode("utf-8", "replace")


def _clean(name: str) -> str:
    """A name py7zr will write (it refuses `..` and absolute names, and reads `\\` as `/`)."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", ".", ".."))


def _evidence(ev: Path, names: list[bytes]) -> None:
    files, dirs = ev / "files", ev / "dirs"
    files.mkdir(parents=True)
    dirs.mkdir()
    for raw in names:
        _write(files, raw, PHOTO)
        sub = os.path.join(os.fsencode(dirs), raw)
        os.mkdir(sub)
        with open(os.path.join(sub, raw), "wb") as fh:
            fh.write(b"text\n")
        os.symlink(b"nowhere", os.path.join(sub, raw[:250] + b".lnk"))  # dangling: listed as skipped
    with zipfile.ZipFile(ev / "z.zip", "w") as z:
        for raw in names:
            z.writestr(_member_name(raw), PHOTO)
    gnu = {"format": tarfile.GNU_FORMAT, "encoding": "utf-8", "errors": "surrogateescape"}
    with tarfile.open(ev / "t.tar", "w", **gnu) as t:
        for raw in names:
            info = tarfile.TarInfo(os.fsdecode(raw))
            info.size = len(PHOTO)
            t.addfile(info, io.BytesIO(PHOTO))
    with py7zr.SevenZipFile(ev / "s.7z", "w") as s:
        for raw in names:
            name = _clean(_member_name(raw))
            if name:
                s.writestr(PHOTO, name)


def _write(folder: Path, raw: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), raw), "wb") as fh:
        fh.write(data)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    handle_startendtag = handle_starttag


def _check_outputs(ev: Path, report: dict, names: list[bytes]) -> None:
    # JSON: written, parsed back, every location read back to its names
    buf = io.StringIO()
    write_json(report, buf)
    back = json.loads(buf.getvalue())
    seen = set()
    for it in back["items"]:
        pairs = locations.parts(it["location"])
        assert pairs == locations.parts(it["path"])
        parts = [name for name, _ in pairs]
        assert parts == locations.split(it["path"]) == locations.names(it["location"])
        assert locations.path_of(parts, [o for _, o in pairs]) == it["path"]
        seen.add(tuple(parts))
        if it["type"] == "image/jpeg" and not it["error"]:
            assert read_logical(ev, it["location"]) == PHOTO, it["location"]
    for raw in names:
        assert ("files/" + os.fsdecode(raw),) in seen  # the exact bytes: os.fsencode gives them back
        assert ("dirs/" + os.fsdecode(raw) + "/" + os.fsdecode(raw),) in seen
        assert ("t.tar", os.fsdecode(raw)) in seen  # member names exactly as stored, never cleaned
        assert ("z.zip", _member_name(raw)) in seen
    skipped = [tuple(locations.split(s["path"])) for s in back["skipped"]]
    assert len(skipped) == len(names) == back["summary"]["skipped"]  # the dangling links, listed

    # CSV: no cell a spreadsheet would run
    buf = io.StringIO()
    write_csv(report, buf)
    body = "".join(line for line in buf.getvalue().splitlines(keepends=True) if not line.startswith("#"))
    for row in csv.reader(io.StringIO(body, newline="")):
        for value in row:
            assert not value.startswith(FORMULA) or value.lstrip("-").isdigit(), value

    # HTML: only the report's own elements and attributes, no script, no handler
    parser = _Tags()
    parser.feed(html_report(report, ev))
    assert parser.tags <= ALLOWED_TAGS, parser.tags - ALLOWED_TAGS
    assert not any(a.startswith("on") for a in parser.attrs), parser.attrs

    # terminal: nothing raw
    buf = io.StringIO()
    print_summary(Console(file=buf, width=80, color_system=None), report)
    for line in buf.getvalue().split("\n"):
        assert len(line) <= 80
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in line), repr(line)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(names=NAMES)
def test_any_file_name_survives_every_output(names):
    top = Path(tempfile.mkdtemp(prefix="vigil-fuzz-"))
    try:
        lists = top / "lists"
        lists.mkdir()
        (lists / "md5.txt").write_text(digests(PHOTO)["md5"] + "\n")
        db_path = str(top / "v.db")
        assert cli("hashset", "import", str(lists / "md5.txt"), "--name", "h[/x]", "--db", db_path) == 0
        ev = top / "ev"
        _evidence(ev, names)
        db = open_database(db_path, create=False)
        result = run_scan(db, ev, "case\x1b[2J[bold]", workers=1, examiner="=x\n", reference="[/r]")
        db.engine.dispose()
        _check_outputs(ev, result.report(), names)
    finally:
        shutil.rmtree(top)


def test_hostile_names_through_the_cli(tmp_path):
    """One real `vigil scan` run through Typer's runner, writing every output."""
    from typer.testing import CliRunner

    from vigil.cli.main import app

    ev = tmp_path / "ev"
    names = [b"a!b[bold].jpg", b"\x1b[2J\nx.jpg", b"=HYPERLINK(1).jpg", b"\xff\xfe.jpg", b"<script>.jpg"]
    _evidence(ev, names)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "md5.txt").write_text(digests(PHOTO)["md5"] + "\n")
    db = str(tmp_path / "v.db")
    assert cli("hashset", "import", str(lists / "md5.txt"), "--name", "h", "--db", db) == 0
    out = {k: tmp_path / f"c.{k}" for k in ("json", "csv", "html")}
    args = ["scan", str(ev), "--case", "c", "--db", db, "--workers", "1"]
    args += ["--json", str(out["json"]), "--csv", str(out["csv"]), "--html", str(out["html"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b[2J\\x0ax.jpg" in result.output
    report = json.loads(out["json"].read_text(encoding="utf-8"))
    assert ["files/\\xff\\xfe.jpg"] in [it["location"] for it in report["items"]]
    assert os.fsencode(locations.names(["files/\\xff\\xfe.jpg"])[0]) == b"files/\xff\xfe.jpg"
    parser = _Tags()
    parser.feed(out["html"].read_text(encoding="utf-8"))
    assert "script" not in parser.tags
