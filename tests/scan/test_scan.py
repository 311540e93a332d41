"""A scan checked item by item: exact hits, altered copies, misnamed files, archives, errors, groups."""

from __future__ import annotations

import io
import json
import zipfile

from tests.conftest import image_bytes
from tests.scan.conftest import cli, digests, import_hotline
from vigil.scan.hashing import hash_bytes
from vigil.scan.pipeline import hash_evidence


def test_scan_json_item_by_item(tmp_path, evidence, pictures):
    ev, lists, files, known = evidence
    db = import_hotline(tmp_path, lists)
    # picture 2 is known by the PDQ of its JPEG; the evidence holds only a mirrored PNG of it
    pdq_list = tmp_path / "lists" / "pdq.txt"
    pdq_list.write_text("pdq,category\n" + hash_bytes(known[2], "k").pdq + ",CSAM\n")
    assert cli("hashset", "import", str(pdq_list), "--name", "national-pdq", "--db", db) == 0
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "case-1", "--json", str(out), "--db", db, "--workers", "2") == 0
    report = json.loads(out.read_text())
    assert report["case"] == "case-1"
    assert report["source"] == str(ev.resolve())
    items = {it["path"]: it for it in report["items"]}
    assert list(items) == sorted(items)
    expected_paths = sorted(
        [*files, "g_archive.zip!inner/known.jpg", "g_archive.zip!inner/readme.txt", "h_backup.tar.gz!x/y.jpg"]
    )
    assert list(items) == expected_paths

    for path, data in files.items():
        item = items[path]
        assert item["size"] == len(data)
        assert {k: item[k] for k in ("md5", "sha1", "sha256")} == digests(data), path
    assert set(items["a_exact.jpg"]) == {
        "path",
        "location",
        "size",
        "type",
        "md5",
        "sha1",
        "sha256",
        "pdq",
        "pdq_quality",
        "matches",
        "duplicate_group",
        "error",
        "known",
        "disputed",
        "flags",
        "vpdq_frames",
        "duration",
    }

    def sigs(path):
        return [(m["hashset"], m["signal"], m["category"]) for m in items[path]["matches"]]

    # exact hits, including inside archives and under a misleading name
    assert sigs("a_exact.jpg") == [("hotline", "md5", "csam")]
    assert items["sub/misnamed.txt"]["type"] == "image/jpeg"
    assert items["sub/misnamed.txt"]["flags"] == ["extension-mismatch"]
    assert ("hotline", "md5", "csam") in sigs("sub/misnamed.txt")
    assert sigs("g_archive.zip!inner/known.jpg") == [("hotline", "md5", "csam")]
    assert ("hotline", "md5", "csam") in sigs("h_backup.tar.gz!x/y.jpg")
    # altered copy: the mirror of a known picture matches its PDQ through the dihedral variants
    mirror = items["b_mirror.png"]["matches"]
    assert [(m["hashset"], m["signal"], m["category"]) for m in mirror] == [("national-pdq", "pdq", "csam")]
    assert mirror[0]["distance"] <= 16
    # nothing else matches
    for path in (
        "c_unknown.jpg",
        "c_unknown_copy.jpg",
        "e_notes.txt",
        "g_archive.zip!inner/readme.txt",
        "c_unknown_marked.webp",
        "f_near_of_unknown.jpg",
        "g_archive.zip",
        "h_backup.tar.gz",
    ):
        assert items[path]["matches"] == [], path
    # types from content, PDQ only for images; a truncated photo is digested and flagged, no error
    assert items["e_notes.txt"]["type"] == "text/plain" and items["e_notes.txt"]["pdq"] is None
    assert items["g_archive.zip"]["type"] == "application/zip"
    assert items["h_backup.tar.gz"]["type"] == "application/gzip"
    truncated = items["d_truncated.jpg"]
    assert truncated["flags"] == ["not-a-valid-jpeg"] and truncated["pdq"] is None
    assert all(it["error"] is None for it in items.values())
    assert all(it["pdq_quality"] >= 50 for it in items.values() if it["pdq"])
    # duplicates: exact copies (a_exact + zip member), a copy and its archive twin, near copies
    groups = {}
    for path, it in items.items():
        if it["duplicate_group"] is not None:
            groups.setdefault(it["duplicate_group"], set()).add(path)
    assert sorted(groups.values(), key=sorted) == [
        {"a_exact.jpg", "g_archive.zip!inner/known.jpg"},
        {"c_unknown.jpg", "c_unknown_copy.jpg"},
        {"c_unknown_marked.webp", "f_near_of_unknown.jpg"},
        {"h_backup.tar.gz!x/y.jpg", "sub/misnamed.txt"},
    ]
    # groups are numbered in path order
    assert items["a_exact.jpg"]["duplicate_group"] == 1 and items["c_unknown.jpg"]["duplicate_group"] == 2
    assert report["summary"] == {
        "files": len(expected_paths),
        "images": 10,
        "videos": 0,
        "known": 0,
        "errors": 0,  # d_truncated.jpg is not a valid JPEG: flagged (hashing.not_valid), not an error
        "invalid": 1,
        "matched_exact": 4,
        "matched_near": 1,
        "hidden": 1,  # sub/misnamed.txt
        "encrypted": 0,
        "deleted": 0,
        "duplicate_groups": 4,
        "disputed": 0,
        "empty": 0,
        "skipped": 0,
    }
    assert items["b_mirror.png"]["flags"] == ["altered-copy"]


def test_rescan_replaces_the_case_and_one_worker_equals_two(tmp_path, evidence):
    ev, *_ = evidence
    one = [it.report() for it in hash_evidence(ev, workers=1)]
    two = [it.report() for it in hash_evidence(ev, workers=2)]
    assert one == two


def test_an_unexpected_failure_on_one_file_is_that_files_error(tmp_path, monkeypatch):
    from vigil.scan import pipeline, tasks

    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")

    def explode(task, known):
        if task.key == "a.txt":
            raise ZeroDivisionError("boom")
        return [pipeline.Item(path=task.key, size=1)]

    monkeypatch.setattr(tasks, "_items", explode)
    items = pipeline.hash_evidence(tmp_path, workers=1)
    assert [(it.path, it.error) for it in items] == [
        ("a.txt", "internal error while hashing: ZeroDivisionError: boom"),
        ("b.txt", None),
    ]


def test_known_good_files_are_counted_and_skipped(tmp_path, pictures):
    ev = tmp_path / "ev"
    ev.mkdir()
    system = image_bytes(pictures[0], "PNG")  # e.g. a wallpaper the operating system ships
    (ev / "wallpaper.png").write_bytes(system)
    (ev / "copy_of_wallpaper.png").write_bytes(system)
    (ev / "photo.jpg").write_bytes(image_bytes(pictures[1], "JPEG"))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("inside.png", system)
    (ev / "installer.zip").write_bytes(zbuf.getvalue())
    nsrl = tmp_path / "NSRLFile.txt"
    nsrl.write_text(
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"\n'
        f'"{digests(system)["sha1"].upper()}","","","wallpaper.png",1,1,"",""\n'
        f'"{digests(zbuf.getvalue())["sha1"].upper()}","","","installer.zip",1,1,"",""\n'
    )
    db = str(tmp_path / "v.db")
    assert cli("hashset", "import", str(nsrl), "--name", "nsrl", "--db", db) == 0
    # the same wallpaper is also on a (wrong) list of known material: known-good wins, no match
    (tmp_path / "md5.txt").write_text(digests(system)["md5"] + "\n")
    assert cli("hashset", "import", str(tmp_path / "md5.txt"), "--name", "list", "--db", db) == 0
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "k", "--json", str(out), "--db", db) == 0
    report = json.loads(out.read_text())
    items = {it["path"]: it for it in report["items"]}
    assert list(items) == ["copy_of_wallpaper.png", "installer.zip", "photo.jpg", "wallpaper.png"]
    for path in ("copy_of_wallpaper.png", "wallpaper.png", "installer.zip"):
        assert items[path]["known"] == "nsrl" and items[path]["matches"] == [], path
        assert items[path]["pdq"] is None and items[path]["md5"] is not None  # digested, not decoded
        assert items[path]["duplicate_group"] is None
    assert items["photo.jpg"]["known"] is None and items["photo.jpg"]["pdq"] is not None
    assert report["summary"]["known"] == 3 and report["summary"]["matched_exact"] == 0
    assert report["summary"]["files"] == 4  # the known installer was not expanded


def test_case_exports_as_vics_cases_and_imports_back(tmp_path, evidence):
    ev, lists, files, known = evidence
    db = import_hotline(tmp_path, lists)
    assert cli("scan", str(ev), "--case", "c-7", "--db", db, "--workers", "1") == 0
    out = tmp_path / "c-7.json"
    assert cli("case", "export", "c-7", "--format", "vics", "--output", str(out), "--db", db) == 0
    doc = json.loads(out.read_text())
    assert doc["@odata.context"].endswith("#Cases") and doc["value"][0]["CaseID"] == "c-7"
    media = {m["MD5"].lower(): m for m in doc["value"][0]["Media"]}
    exact = media[digests(known[0])["md5"]]
    assert exact["Category"] == 1
    assert sorted((f["FilePath"], f["FileName"]) for f in exact["MediaFiles"]) == [
        ("", "a_exact.jpg"),
        ("g_archive.zip!inner", "known.jpg"),
    ]
    assert any(a["HashName"] == "PDQ" for a in exact["AlternativeHashes"])
    assert "Category" not in media[digests(files["e_notes.txt"])["md5"]]
    # another unit imports it as a hash list
    assert cli("hashset", "import", str(out), "--name", "from-case", "--db", db) == 0
    assert cli("case", "export", "nope", "--db", db) == 2


def test_sets_that_disagree_mark_the_item_disputed(tmp_path, pictures):
    ev = tmp_path / "ev"
    ev.mkdir()
    data = image_bytes(pictures[0], "JPEG")
    (ev / "x.jpg").write_bytes(data)
    db = str(tmp_path / "v.db")
    for name, category in (("national", "csam"), ("partner", "non_pertinent"), ("other", "csam")):
        lst = tmp_path / f"{name}.csv"
        lst.write_text(f"md5,category\n{digests(data)['md5']},{category}\n")
        assert cli("hashset", "import", str(lst), "--name", name, "--db", db) == 0
    out = tmp_path / "case.json"
    assert cli("scan", str(ev), "--case", "d", "--json", str(out), "--db", db) == 0
    report = json.loads(out.read_text())
    (item,) = report["items"]
    assert item["disputed"] is True and report["summary"]["disputed"] == 1
    assert sorted((m["hashset"], m["category"]) for m in item["matches"]) == [
        ("national", "csam"),
        ("other", "csam"),
        ("partner", "non_pertinent"),
    ]
