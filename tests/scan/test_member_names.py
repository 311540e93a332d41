"""A hostile review of the scan's names and places (after issue 10): every location is unique and
reads back exactly the member the scan hashed (duplicate names, `../x` beside `x`, `a\\b` beside
`a/b`); member names are shown as stored, never resolved, and suspicious ones flagged; one bad name
does not lose a zip; thumbnails open each container once; a case is not replaced in silence; paths
are escaped once in the HTML; the VICS export splits the location, not the escaped path."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import tarfile
import zipfile

import numpy as np
import py7zr
from PIL import Image

from tests.conftest import image_bytes
from tests.scan.conftest import cli, digests
from vigil.demo import picture
from vigil.media import containers
from vigil.scan import locations
from vigil.scan.hashing import FLAGS, Hasher
from vigil.scan.locate import read_logical
from vigil.scan.reporting import THUMBNAIL_PX


def _pictures(n: int, offset: int = 0) -> list[bytes]:
    return [image_bytes(picture(offset + i, (320, 240)), "JPEG") for i in range(n)]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _hotline(tmp_path, datas: list[bytes]) -> str:
    db = str(tmp_path / "v.db")
    path = tmp_path / "md5.txt"
    path.write_text("md5,category\n" + "".join(f"{digests(d)['md5']},csam\n" for d in datas))
    assert cli("hashset", "import", str(path), "--name", "hotline", "--db", db) == 0
    return db


def _scan(tmp_path, ev, db, *extra, case="c") -> dict:
    out = tmp_path / f"{case}.json"
    assert cli("scan", str(ev), "--case", case, "--json", str(out), "--db", db, "--workers", "1", *extra) == 0
    return json.loads(out.read_text())


def _hit_thumbnails(page: str) -> dict[str, Image.Image]:
    """path cell text (unescaped HTML) → its thumbnail, for each hit row."""
    rows = re.findall(
        r'<td><img class="thumb"[^>]*src="data:image/jpeg;base64,([^"]+)"[^>]*></td>\s*'
        r'<td class="path">(.*?)</td>',
        page,
        flags=re.S,
    )
    return {html.unescape(path): Image.open(io.BytesIO(base64.b64decode(b))) for b, path in rows}


def _grey(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    return np.asarray(im.convert("L"), dtype=np.float32)


def _closest(thumb: Image.Image, candidates: dict[str, bytes]) -> str:
    """The md5 of the candidate picture the thumbnail shows."""
    a = np.asarray(thumb.convert("L"), dtype=np.float32)
    scores = {}
    for md5, data in candidates.items():
        b = _grey(data)
        if b.shape == a.shape:
            scores[md5] = float(np.abs(a - b).mean())
    return min(scores, key=scores.get)


# A: unique locations, each read back to its own member ----------------------------------------


def test_lookalike_and_duplicate_member_names_read_back_their_own_picture(tmp_path):
    pics = _pictures(8)
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "e.zip").write_bytes(
        _zip(
            [
                ("dup.jpg", pics[0]),
                ("dup.jpg", pics[1]),
                ("../x.jpg", pics[2]),
                ("x.jpg", pics[3]),
                ("a\\b.jpg", pics[4]),
                ("a/b.jpg", pics[5]),
            ]
        )
    )
    (ev / "t.tar").write_bytes(_tar([("same.jpg", pics[6]), ("same.jpg", pics[7])]))
    db = _hotline(tmp_path, pics)
    page = tmp_path / "r.html"
    report = _scan(tmp_path, ev, db, "--html", str(page), "--html-clear-thumbnails")
    members = [it for it in report["items"] if len(it["location"]) == 2]
    paths = [it["path"] for it in members]
    assert len(paths) == len(set(paths)) == 8  # every location unique
    assert {tuple(it["location"]) for it in members} >= {
        ("e.zip", "dup.jpg"),
        ("e.zip", "dup.jpg\\#2"),
        ("e.zip", "../x.jpg"),
        ("e.zip", "x.jpg"),
        ("e.zip", "a\\\\b.jpg"),
        ("e.zip", "a/b.jpg"),
        ("t.tar", "same.jpg"),
        ("t.tar", "same.jpg\\#2"),
    }
    assert len({it["md5"] for it in members}) == 8  # each its own picture
    for it in members:
        assert digests(read_logical(ev, it["location"]))["md5"] == it["md5"], it["path"]
        assert digests(read_logical(ev, it["path"]))["md5"] == it["md5"], it["path"]
    thumbs = _hit_thumbnails(page.read_text())
    by_md5 = {digests(p)["md5"]: p for p in pics}
    assert set(thumbs) == set(paths)
    for it in members:  # the picture beside each hit is the one whose md5 the item has
        assert _closest(thumbs[it["path"]], by_md5) == it["md5"], it["path"]


def test_ordinals_round_trip_through_both_forms():
    path = locations.join("e.zip", "dup!.jpg", 3)
    assert path == "e.zip!dup\\!.jpg\\#3"
    assert locations.parts(path) == [("e.zip", 1), ("dup!.jpg", 3)]
    assert locations.location(path) == ["e.zip", "dup!.jpg\\#3"]
    assert locations.parts(locations.location(path)) == locations.parts(path)
    assert locations.path_of(["e.zip", "dup!.jpg"], [1, 3]) == path
    # a name's own backslash is doubled, so `\\#2` in a name is never an ordinal
    assert locations.parts(locations.join("e.zip", "x\\#2")) == [("e.zip", 1), ("x\\#2", 1)]


# B: names as stored, suspicious ones flagged ----------------------------------------------------


def test_member_names_are_shown_as_stored_and_suspicious_ones_flagged(tmp_path):
    names = ["back\\slash.jpg", "../escape.jpg", "/abs.jpg", "..", "./.", "a/..", "//", "C:evil.jpg"]
    data = _zip([(n, f"member {i}".encode()) for i, n in enumerate(names)])
    items = Hasher().data(data, "e.zip")
    got = {locations.parts(it.path)[1][0]: it for it in items[1:]}
    assert set(got) == set(names)  # nothing cleaned, nothing dropped (`//` holds data: an item)
    suspicious = {n for n, it in got.items() if "suspicious-name" in it.flags}
    assert suspicious == {"../escape.jpg", "/abs.jpg", "..", "a/..", "//", "C:evil.jpg"}
    assert "suspicious-name" in FLAGS
    assert items[1].report()["location"][1] in {"..", "../escape.jpg"}  # sorted: `..` first
    assert "e.zip!back\\\\slash.jpg" in {it.path for it in items}


def test_folder_entries_without_data_are_not_items():
    items = Hasher().data(_zip([("folder/", b""), ("folder/x.txt", b"x")]), "e.zip")
    assert [it.path for it in items] == ["e.zip", "e.zip!folder/x.txt"]


# C: one bad name does not lose the zip; 7z names ----------------------------------------------


def _with_bad_utf8_name(good: bytes, bad: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("good.jpg", good)
        z.writestr("bad\u00e9.jpg", bad)  # non-ASCII: written with the UTF-8 flag
        z.writestr(zipfile.ZipInfo("cp437\u00a0.jpg"), b"cp")
    raw = buf.getvalue()
    raw = raw.replace("bad\u00e9".encode(), b"bad\xff\xfe")  # same length: not UTF-8 any more
    return raw


def test_a_zip_with_one_undecodable_name_keeps_its_good_members(tmp_path):
    good, bad = _pictures(2)
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "e.zip").write_bytes(_with_bad_utf8_name(good, bad))
    db = _hotline(tmp_path, [good, bad])
    report = _scan(tmp_path, ev, db)
    items = {it["path"]: it for it in report["items"]}
    assert items["e.zip"]["error"] is None
    assert items["e.zip!good.jpg"]["md5"] == digests(good)["md5"]
    assert items["e.zip!bad\\xff\\xfe.jpg"]["md5"] == digests(bad)["md5"]
    assert items["e.zip!bad\\xff\\xfe.jpg"]["location"] == ["e.zip", "bad\\xff\\xfe.jpg"]
    assert read_logical(ev, ["e.zip", "bad\\xff\\xfe.jpg"]) == bad


def test_a_zip_name_without_the_utf8_flag_keeps_its_bytes():
    zi = zipfile.ZipInfo("n.jpg")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zi, b"data")
    raw = buf.getvalue().replace(b"n.jpg", b"\xff.jpg")  # cp437 would read \xff as U+00A0
    (member,) = containers.members(io.BytesIO(raw), "application/zip")
    assert member.name == "\udcff.jpg" and member.data == b"data"
    assert locations.component(member.name) == "\\xff.jpg"


def test_7z_members_are_read_by_entry_whatever_their_names(tmp_path):
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as z:
        z.writestr(b"first", "d.txt")
        z.writestr(b"second", "d.txt")
        z.writestr(b"slash", "a\\b.txt")
    got = [
        (m.name, m.ordinal, m.data, m.error)
        for m in containers.members(io.BytesIO(buf.getvalue()), "application/x-7z-compressed")
    ]
    assert got == [
        ("a/b.txt", 1, b"slash", None),  # py7zr reads a 7z name's `\` as `/` (documented)
        ("d.txt", 1, b"first", None),
        ("d.txt", 2, b"second", None),
    ]
    (tmp_path / "s.7z").write_bytes(buf.getvalue())
    assert read_logical(tmp_path, ["s.7z", "d.txt\\#2"]) == b"second"


# D: thumbnails open each container once ---------------------------------------------------------


def test_thumbnails_open_each_container_once(tmp_path, monkeypatch):
    pics = _pictures(12)
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "many.zip").write_bytes(_zip([(f"{i:02}.jpg", p) for i, p in enumerate(pics)]))
    (ev / "nested.zip").write_bytes(_zip([("inner.zip", _zip([("a.jpg", pics[0]), ("b.jpg", pics[1])]))]))
    db = _hotline(tmp_path, pics)
    report = _scan(tmp_path, ev, db)
    calls: list[str] = []
    real = containers.members

    def counting(source, mime, *args, **kwargs):
        calls.append(mime)
        return real(source, mime, *args, **kwargs)

    monkeypatch.setattr(containers, "members", counting)
    from vigil.scan.reporting import html_report

    page = html_report(report, ev, clear_thumbnails=True)
    assert page.count('<img class="thumb"') == 14
    assert len(calls) == 3  # many.zip, nested.zip, inner.zip: once each, not once per hit


# E: a case is not replaced in silence -----------------------------------------------------------


def test_an_existing_case_is_not_replaced_without_replace(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "one.txt").write_text("one")
    (b / "two.txt").write_text("two")
    db = _hotline(tmp_path, _pictures(1))
    assert cli("scan", str(a), "--case", "x", "--db", db, "--workers", "1") == 0
    capsys.readouterr()
    assert cli("scan", str(b), "--case", "x", "--db", db, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert "case 'x' already exists" in err and str(a) in err and "--replace" in err and "scanned 20" in err
    assert cli("scan", str(a), "--case", "x", "--db", db, "--workers", "1") == 2  # same source too
    out = tmp_path / "x.json"
    assert cli("case", "export", "x", "--output", str(out), "--db", db) == 0
    assert json.loads(out.read_text())["value"][0]["EvidenceSource"] == str(a.resolve())
    assert cli("scan", str(b), "--case", "x", "--replace", "--db", db, "--workers", "1") == 0
    assert cli("case", "export", "x", "--output", str(out), "--db", db) == 0
    assert json.loads(out.read_text())["value"][0]["EvidenceSource"] == str(b.resolve())


def test_resume_of_an_interrupted_rescan_still_works(tmp_path):
    from vigil.store import open_database
    from vigil.store.scanruns import ScanRunRepository

    a = tmp_path / "a"
    a.mkdir()
    (a / "one.txt").write_text("one")
    db = _hotline(tmp_path, _pictures(1))
    assert cli("scan", str(a), "--case", "x", "--db", db, "--workers", "1") == 0
    # a `--replace` re-scan killed before it finished: its run is recorded, unfinished
    ScanRunRepository(open_database(db, create=False)).start(
        "x", str(a.resolve()), resume=False, threshold=31
    )
    assert cli("scan", str(a), "--case", "x", "--resume", "--db", db, "--workers", "1") == 0


# F: paths escaped once in the HTML ---------------------------------------------------------------


def test_html_shows_each_path_in_its_escaped_form_once(tmp_path):
    import os

    (photo,) = _pictures(1)
    ev = tmp_path / "ev"
    ev.mkdir()
    for raw in (b"bad\xff\xfe.jpg", b"bang!x.jpg", b"back\\slash.jpg"):
        with open(os.path.join(os.fsencode(ev), raw), "wb") as fh:
            fh.write(photo)
    db = _hotline(tmp_path, [photo])
    page = tmp_path / "r.html"
    report = _scan(tmp_path, ev, db, "--html", str(page))
    cells = [html.unescape(c) for c in re.findall(r'<td class="path">(.*?)</td>', page.read_text(), re.S)]
    paths = {it["path"] for it in report["items"]}
    assert paths == {"bad\\xff\\xfe.jpg", "bang\\!x.jpg", "back\\\\slash.jpg"}
    assert paths <= set(cells)


# G: the VICS export splits the location ---------------------------------------------------------


def test_vics_export_names_the_file_and_where_it_is(tmp_path):
    (photo,) = _pictures(1)
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "ev[bold]!.zip").write_bytes(_zip([("in/bang!x.jpg", photo), ("top.jpg", photo)]))
    (ev / "sub").mkdir()
    (ev / "sub" / "p.jpg").write_bytes(photo)
    db = _hotline(tmp_path, [photo])
    _scan(tmp_path, ev, db)
    out = tmp_path / "vics.json"
    assert cli("case", "export", "c", "--output", str(out), "--db", db) == 0
    md5 = digests(photo)["md5"].upper()
    (media,) = [m for m in json.loads(out.read_text())["value"][0]["Media"] if m["MD5"] == md5]
    files = {(f["FilePath"], f["FileName"]): f["VigilLocation"] for f in media["MediaFiles"]}
    assert files == {
        ("ev[bold]\\!.zip!in", "bang!x.jpg"): ["ev[bold]!.zip", "in/bang!x.jpg"],
        ("ev[bold]\\!.zip", "top.jpg"): ["ev[bold]!.zip", "top.jpg"],
        ("sub", "p.jpg"): ["sub/p.jpg"],
    }


# H: small ones ----------------------------------------------------------------------------------


def test_workers_are_bounded(tmp_path, capsys):
    ev = tmp_path / "ev"
    ev.mkdir()
    db = _hotline(tmp_path, _pictures(1))
    for bad in ("-1", "100000"):
        assert cli("scan", str(ev), "--case", "w", "--db", db, "--workers", bad) == 2
        assert "--workers must be 0" in capsys.readouterr().err


def test_a_symlink_loop_as_the_scan_root_says_what_it_is(tmp_path, capsys):
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    db = _hotline(tmp_path, _pictures(1))
    assert cli("scan", str(tmp_path / "loop1"), "--case", "l", "--db", db) == 2
    err = capsys.readouterr().err
    assert "symbolic link loop" in err and "no such" not in err


def test_hash_json_escapes_names_as_the_scan_does_and_names_a_fifo(tmp_path, capsys):
    import os

    ev = tmp_path / "ev"
    ev.mkdir()
    with open(os.path.join(os.fsencode(ev), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"x")
    assert cli("hash", "--json", str(ev)) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["path"] == str(ev) + "/bad\\xff.txt"
    os.mkfifo(tmp_path / "fifo[bold]")
    assert cli("hash", str(tmp_path / "fifo[bold]")) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and "named pipe" in err


def test_a_closed_pipe_ends_the_scan_quietly(tmp_path):
    import subprocess
    import sys

    ev = tmp_path / "ev"
    ev.mkdir()
    for i, p in enumerate(_pictures(3)):
        (ev / f"{i}.jpg").write_bytes(p)
    db = _hotline(tmp_path, _pictures(3))
    cmd = [
        sys.executable,
        "-m",
        "vigil.cli.main",
        "scan",
        str(ev),
        "--case",
        "p",
        "--db",
        db,
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert err.strip() == "" or "hashing" in err  # the progress bar only, no error


def test_a_deleted_file_beside_a_live_one_of_the_same_path_is_its_own_task(tmp_path, monkeypatch):
    from vigil.media import diskimage
    from vigil.scan import locate, tasks

    (tmp_path / "usb.dd").write_bytes(bytes(4096))
    files = [
        diskimage.ImageFile("p1/x.jpg", 0, 11, 4, False),
        diskimage.ImageFile("p1/x.jpg", 0, 12, 4, True),  # deleted, same path
    ]
    content = {11: b"live", 12: b"gone"}
    monkeypatch.setattr(tasks, "is_disk_image", lambda fs_path: fs_path.endswith("usb.dd"))
    monkeypatch.setattr(locate, "is_disk_image", lambda fs_path: fs_path.endswith("usb.dd"))
    monkeypatch.setattr(diskimage, "list_files", lambda fs_path: files)
    monkeypatch.setattr(diskimage, "read_file", lambda fs_path, offset, inode, limit: content[inode])
    keys = [t.key for t in tasks.list_tasks(tmp_path)]
    assert keys == ["usb.dd", "usb.dd!p1/x.jpg", "usb.dd!p1/x.jpg\\#2"]
    assert read_logical(tmp_path, "usb.dd!p1/x.jpg") == b"live"
    assert read_logical(tmp_path, ["usb.dd", "p1/x.jpg\\#2"]) == b"gone"


def test_a_nul_in_a_zip_member_name_is_kept_escaped_and_read_back(tmp_path):
    data = _zip([("a\x01b.txt", b"one"), ("a\x01c.txt", b"two")]).replace(b"a\x01", b"a\x00")
    (tmp_path / "n.zip").write_bytes(data)
    items = Hasher().data(data, "n.zip")
    assert [it.path for it in items] == ["n.zip", "n.zip!a\\x00b.txt", "n.zip!a\\x00c.txt"]
    assert items[2].report()["location"] == ["n.zip", "a\\x00c.txt"]
    assert read_logical(tmp_path, ["n.zip", "a\\x00c.txt"]) == b"two"
