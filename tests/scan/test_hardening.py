"""Hostile names and honest results (issue 10): names are data on the terminal, in CSV, JSON and HTML;
locations read back exactly; nothing is skipped in silence; a scan says what it searched with, never
creates a database and refuses to report "matched 0" with nothing to match against."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import image_bytes
from tests.media.test_containers import make_zip
from tests.scan.conftest import cli, import_hotline
from vigil.cli.scan_cmd import print_summary
from vigil.scan import locations, walk
from vigil.scan.locate import read_logical
from vigil.scan.reporting import CSV_COLUMNS, write_csv

FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _hotline_for(tmp_path: Path, data: bytes) -> str:
    lists = tmp_path / "lists"
    lists.mkdir(exist_ok=True)
    (lists / "md5.txt").write_text(hashlib.md5(data).hexdigest() + "\n")
    return import_hotline(tmp_path, lists)


def _scan_json(tmp_path: Path, ev: Path, db: str, *more) -> dict:
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "c", "--json", str(out), "--db", db, "--workers", "1", *more) == 0
    return json.loads(out.read_text())


def _csv_rows(text: str) -> list[list[str]]:
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    return list(csv.reader(io.StringIO(body, newline="")))


def test_markup_in_names_is_printed_as_it_is(tmp_path, pictures, capsys):
    """Item 1 and 5: `dir[/x].jpg` crashed the summary (MarkupError); `[bold]hi.jpg` was shown as `hi.jpg`."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    (ev / "dir[").mkdir(parents=True)
    # an encrypted member: listed under "could not be read" (a truncated photo is only flagged now)
    (ev / "dir[" / "x].zip").write_bytes(make_zip({"y.jpg": photo}, {"y.jpg"}).getvalue())
    (ev / "[bold]hi.jpg").write_bytes(photo)  # a hit
    db = _hotline_for(tmp_path, photo)
    capsys.readouterr()
    assert cli("scan", str(ev), "--case", "[red]c", "--db", db, "--workers", "1") == 0
    out = capsys.readouterr().out
    assert "dir[/x].zip!y.jpg" in out and "[bold]hi.jpg" in out and "case [red]c" in out


def test_terminal_escapes_controls_and_folds_paths_between_components(tmp_path, pictures):
    """Item 5: escape sequences and newlines in names are shown as backslash escapes, never sent raw;
    at 80 columns a long path is folded after a `/` or `!`, not inside a name."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    deep = ev / "Downloads" / "a-rather-long-folder-name" / "another-long-folder-name-here"
    deep.mkdir(parents=True)
    (ev / "evil\x1b[2J\nline.jpg").write_bytes(photo)
    (deep / "holiday-pictures-2019.zip").write_bytes(_zip({"photos/summer/beach-0001.jpg": photo}))
    (ev / "tab\there.zip").write_bytes(make_zip({"x.jpg": photo}, {"x.jpg"}).getvalue())  # an error
    db = _hotline_for(tmp_path, photo)
    report = _scan_json(tmp_path, ev, db)
    buf = io.StringIO()
    print_summary(Console(file=buf, width=80, color_system=None), report)
    text = buf.getvalue()
    assert "\x1b" not in text and "\t" not in text
    assert "evil\\x1b[2J\\x0aline.jpg" in text and "tab\\x09here.zip!x.jpg" in text
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    long = "Downloads/a-rather-long-folder-name/another-long-folder-name-here/holiday-pictures-2019.zip!"
    long += "photos/summer/beach-0001.jpg"
    start = next(i for i, line in enumerate(lines) if line.startswith("  Downloads/"))
    folded = [line.strip() for line in lines[start : start + 3]]
    assert "".join(folded[:2]) == long or "".join(folded) == long
    pieces = folded[:2] if "".join(folded[:2]) == long else folded
    assert len(pieces) > 1 and all(p.endswith(("/", "!")) for p in pieces[:-1])


def test_csv_cells_never_start_a_formula(tmp_path, pictures):
    """Item 6: `=HYPERLINK(...)`, `+SUM(A1)`, `@x`, `-x`, tab-led names are written with a `'` first."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    ev.mkdir()
    names = ['=HYPERLINK("x.invalid","y").jpg', "+SUM(A1).png", "@x.jpg", "-x.jpg", "\tt.jpg", "'q.jpg"]
    for name in names:
        (ev / name).write_bytes(photo)
    db = _hotline_for(tmp_path, photo)
    out = tmp_path / "case.csv"
    assert cli("scan", str(ev), "--case", "c", "--csv", str(out), "--db", db, "--workers", "1") == 0
    rows = _csv_rows(out.read_text(encoding="utf-8"))
    assert rows[0] == list(CSV_COLUMNS)
    for row in rows:
        for value in row:
            assert not value.startswith(FORMULA), row
    paths = sorted(row[0][1:] if row[0].startswith("'") else row[0] for row in rows[1:])
    assert paths == sorted(names)  # one leading ' removed gives the name back


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_bang_in_names_is_unambiguous_and_read_back(tmp_path, pictures):
    """Item 7: `!` in a name is escaped in `path` (`\\!`), `location` lists the exact components, and
    both read back to the file — so the HTML report has a thumbnail for it."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "a!b.jpg").write_bytes(photo)
    (ev / "c!d.zip").write_bytes(_zip({"e!f/g\\h!.jpg": photo}))
    (ev / "back\\slash.jpg").write_bytes(photo)
    db = _hotline_for(tmp_path, photo)
    html = tmp_path / "r.html"
    report = _scan_json(tmp_path, ev, db, "--html", str(html))
    items = {it["path"]: it for it in report["items"]}
    assert items["a\\!b.jpg"]["location"] == ["a!b.jpg"]
    assert items["back\\\\slash.jpg"]["location"] == ["back\\\\slash.jpg"]
    member = items["c\\!d.zip!e\\!f/g\\\\h\\!.jpg"]  # a zip member's name exactly as stored
    assert member["location"] == ["c!d.zip", "e!f/g\\\\h!.jpg"]
    for it in report["items"]:
        assert locations.names(it["location"]) == locations.split(it["path"])
        if it["type"] == "image/jpeg":
            assert read_logical(ev, it["location"]) == photo
            assert read_logical(ev, it["path"]) == photo
    assert read_logical(ev, ["back\\slash.jpg"]) is None  # components are escaped: `\\` is one backslash
    assert html.read_text().count('<img class="thumb"') == 3  # every hit, `!` or not


def test_location_escape_round_trips_any_name():
    raw = [os.fsdecode(b"\xff\xfe!x\\y\x1b\n"), "z!/q", "plain"]
    path = locations.path_of(raw)
    assert path == "\\xff\\xfe\\!x\\\\y\x1b\n!z\\!/q!plain"
    assert locations.split(path) == raw
    assert locations.location(path) == ["\\xff\\xfe!x\\\\y\x1b\n", "z!/q", "plain"]
    assert locations.names(locations.location(path)) == raw
    assert os.fsencode(locations.names(locations.location(path))[0]) == b"\xff\xfe!x\\y\x1b\n"


def test_nothing_is_skipped_in_silence(tmp_path, pictures, monkeypatch, capsys):
    """Item 8: links (never followed), a loop, a dangling link, a FIFO, a device and an unreadable
    folder are counted and listed with the reason in JSON, CSV, HTML and on the terminal."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = tmp_path / "ev"
    (ev / "locked").mkdir(parents=True)
    (ev / "locked" / "inside.jpg").write_bytes(photo)
    (ev / "real.jpg").write_bytes(photo)
    os.symlink("real.jpg", ev / "link.jpg")
    os.symlink("nowhere.jpg", ev / "dangling.jpg")
    os.symlink("loop2", ev / "loop1")
    os.symlink("loop1", ev / "loop2")
    os.symlink("/", ev / "root-link")
    os.mkfifo(ev / "pipe")
    expected = {"link.jpg", "dangling.jpg", "loop1", "loop2", "root-link", "pipe", "locked"}
    try:
        os.mknod(ev / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected.add("null")
    except (PermissionError, OSError):
        pass  # not allowed here (a container without CAP_MKNOD): the rest still shows the rule
    real_scandir = os.scandir

    def scandir(path):  # root reads every folder: an unreadable one is simulated
        if str(path).endswith("/locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    db = _hotline_for(tmp_path, photo)
    out = {k: tmp_path / f"case.{k}" for k in ("json", "csv", "html")}
    capsys.readouterr()
    args = ["--json", str(out["json"]), "--csv", str(out["csv"]), "--html", str(out["html"])]
    assert cli("scan", str(ev), "--case", "c", "--db", db, "--workers", "1", *args) == 0
    terminal = capsys.readouterr().out
    report = json.loads(out["json"].read_text())
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == expected
    assert report["summary"]["skipped"] == len(expected)
    assert [it["path"] for it in report["items"]] == ["real.jpg"]
    assert reasons["link.jpg"] == "symbolic link (to real.jpg): not followed"
    assert reasons["dangling.jpg"].startswith("dangling symbolic link")
    assert reasons["loop1"].startswith("symbolic link loop")
    assert reasons["pipe"] == "named pipe (FIFO): not read"
    assert reasons["locked"] == "folder cannot be listed: Permission denied"
    if "null" in expected:
        assert reasons["null"] == "character device: not read"
    rows = _csv_rows(out["csv"].read_text())
    skipped_rows = {r[0]: r[-1] for r in rows[1:] if r[-1]}
    assert skipped_rows == reasons
    page = out["html"].read_text()
    assert f"Not examined ({len(expected)})" in page and "named pipe (FIFO): not read" in page
    assert f"not examined (skipped): {len(expected)} entries" in terminal and "loop1" in terminal


def test_unreadable_folder_as_an_unprivileged_user(tmp_path, pictures):
    """Item 8 for real where possible: run the walk as `nobody` (setpriv) over a chmod 000 folder."""
    import shutil
    import subprocess
    import sys
    import tempfile

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    top = Path(tempfile.mkdtemp(prefix="vigil-nobody-"))  # pytest's tmp_path is private to root
    ev = top / "ev"
    (ev / "locked").mkdir(parents=True)
    (ev / "locked" / "x.jpg").write_bytes(b"x")
    (ev / "open.txt").write_text("x")
    for p in (top, ev):
        p.chmod(0o755)
    (ev / "locked").chmod(0)
    code = (
        "import json, sys; from pathlib import Path; from vigil.scan.tasks import list_tasks; s = []; "
        "t = list_tasks(Path(sys.argv[1]), s); print(json.dumps([[x.key for x in t], s]))"
    )
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    cmd += [sys.executable, "-c", code, str(ev)]
    try:
        probe = subprocess.run([*cmd[:4], sys.executable, "-c", "import vigil"], capture_output=True, cwd="/")
        if probe.returncode != 0:
            pytest.skip(f"cannot run Vigil as nobody here: {probe.stderr.decode().strip()[-200:]}")
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    finally:
        (ev / "locked").chmod(0o700)
        shutil.rmtree(top)
    assert proc.returncode == 0, proc.stderr
    keys, skipped = json.loads(proc.stdout)
    assert keys == ["open.txt"]
    assert skipped == [["locked", "folder cannot be listed: Permission denied"]]


def test_no_enabled_set_is_an_error_and_the_scan_never_creates_a_database(tmp_path, pictures, capsys):
    """Item 9 (scan half)."""
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "a.jpg").write_bytes(image_bytes(pictures[0], "JPEG"))
    missing = tmp_path / "typo" / "vigil.db"
    capsys.readouterr()
    assert cli("scan", str(ev), "--case", "c", "--db", str(missing)) == 2
    assert "no such database" in capsys.readouterr().err
    assert not missing.exists() and not missing.parent.exists()
    assert cli("case", "export", "c", "--db", str(missing)) == 2
    assert not missing.parent.exists()

    db = str(tmp_path / "v.db")  # exists, but holds only a known-good set
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "good.txt").write_text("0" * 32 + "\n")
    assert cli("hashset", "import", str(lists / "good.txt"), "--name", "nsrl", "--known", "--db", db) == 0
    capsys.readouterr()
    assert cli("scan", str(ev), "--case", "c", "--db", db, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert "no enabled hash set" in err and "--allow-no-sets" in err
    report = _scan_json(tmp_path, ev, db, "--allow-no-sets")
    assert report["summary"]["files"] == 1 and report["scan"]["options"]["allow_no_sets"] is True
    assert "no hash set was searched" in capsys.readouterr().out


def test_the_case_records_what_it_was_searched_with(tmp_path, evidence):
    """Item 10: JSON, CSV comment lines, HTML and the VICS export carry version, times, hash sets
    (version, file SHA-256), thresholds, options, examiner and reference."""
    import vigil

    ev, lists, _, _ = evidence
    db = import_hotline(tmp_path, lists)
    out = {k: tmp_path / f"case.{k}" for k in ("json", "csv", "html")}
    args = ["--json", str(out["json"]), "--csv", str(out["csv"]), "--html", str(out["html"])]
    who = ["--examiner", "A. Examiner\x1b[31m", "--reference", "=REF-2026/1"]
    assert cli("scan", str(ev), "--case", "c", "--db", db, "--workers", "1", *args, *who) == 0
    scan = json.loads(out["json"].read_text())["scan"]
    assert scan["vigil_version"] == vigil.__version__
    assert scan["started_at"].endswith("Z") and scan["finished_at"] >= scan["started_at"]
    assert scan["examiner"] == "A. Examiner\x1b[31m" and scan["reference"] == "=REF-2026/1"
    file_sha = hashlib.sha256((lists / "md5.txt").read_bytes()).hexdigest()
    assert [(s["name"], s["version"], s["file_sha256"], s["known"]) for s in scan["hashsets"]] == [
        ("hotline", 1, file_sha, False)
    ]
    assert scan["thresholds"]["pdq_distance"] == 31
    assert scan["options"] == {
        "workers": 1,
        "resume": False,
        "dask": None,
        "replace": False,
        "allow_no_sets": False,
    }

    text = out["csv"].read_text()
    assert "# examiner: A. Examiner\\x1b[31m\n" in text and "# reference: =REF-2026/1\n" in text
    assert f"file_sha256 {file_sha}" in text and f"# vigil_version: {vigil.__version__}\n" in text
    page = out["html"].read_text()
    assert file_sha in page and "A. Examiner\\x1b[31m" in page and scan["started_at"] in page

    vics = tmp_path / "case.vics.json"
    assert cli("case", "export", "c", "--output", str(vics), "--db", db) == 0
    case = json.loads(vics.read_text())["value"][0]
    assert case["VigilScan"] == scan and case["SourceApplicationVersion"] == vigil.__version__
    assert case["VigilSkipped"] == []


def test_write_csv_neutralises_every_cell():
    report = {
        "case": "=c",
        "source": "/x",
        "scan": {"examiner": "x\ny", "hashsets": []},
        "summary": {},
        "skipped": [{"path": "@link", "reason": "symbolic link (to =x): not followed"}],
        "items": [
            {"path": "-x", "location": ["-x"], "size": -1, "type": None, "md5": None, "sha1": None,
             "sha256": None, "pdq": None, "pdq_quality": None, "duplicate_group": None, "known": "+k",
             "disputed": False, "flags": [], "error": "=err",
             "matches": [{"hashset": "@s", "signal": "md5", "distance": 0, "category": "-c"}]}
        ],
    }  # fmt: skip
    buf = io.StringIO()
    write_csv(report, buf)
    assert "# examiner: x\\x0ay\n" in buf.getvalue()  # a name cannot forge a line
    for row in _csv_rows(buf.getvalue()):
        assert not any(v.startswith(FORMULA) and not _number(v) for v in row), row


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True  # a spreadsheet reads -1 as the number it is, not as a formula


def test_evidence_folder_with_undecodable_bytes(tmp_path, pictures, capsys):
    """The evidence folder's own name may not be UTF-8: `source` shows the bytes as \\xHH; a case
    name, examiner or reference that is not text is refused (they are typed again later)."""
    photo = image_bytes(pictures[0], "JPEG")
    ev = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"ev\xff")))
    ev.mkdir()
    (ev / "a.jpg").write_bytes(photo)
    db = _hotline_for(tmp_path, photo)
    report = _scan_json(tmp_path, ev, db)
    assert report["source"].endswith("/ev\\xff") and report["summary"]["matched_exact"] == 1
    capsys.readouterr()
    assert cli("scan", str(ev), "--case", os.fsdecode(b"c\xff"), "--db", db) == 2
    assert "not valid UTF-8" in capsys.readouterr().err
