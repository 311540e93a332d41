"""A plain file's row is made without an Item (`Hasher.file_or_row`): it must be exactly what the full
path (`Hasher.data`) gives, for any content and any name — else the fast path changes results."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import image_bytes
from vigil.demo import picture
from vigil.scan.hashing import Hasher

JPEG = image_bytes(picture(3, (160, 120)), "JPEG")
NAMES = ["notes.txt", "blob.bin", "photo.jpg", "archive.zip", "noext", "page.html", "x.PNG", "d.pdf"]
PARTS = st.sampled_from(
    [
        b"",
        b"hello world\n",
        b"\x00\x01\x02",
        JPEG,
        JPEG[:40],
        b"\x1f\x8b",
        b"PK\x03\x04",
        b"%PDF-1.4\n",
        "é".encode(),
    ]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(PARTS, st.binary(max_size=300)), max_size=4), name=st.sampled_from(NAMES))
def test_a_plain_row_is_what_the_full_path_gives(tmp_path_factory, parts, name):
    data = b"".join(parts)
    path = tmp_path_factory.mktemp("f") / "f"
    path.write_bytes(data)
    listed = {hashlib.md5(b"hello world\n").digest()}  # a known-good set holding one content
    known = lambda digests: "good" if digests["md5"] in listed else None  # noqa: E731

    found = Hasher(dihedral=True, known=known).file_or_row(str(path), name)
    full = Hasher(dihedral=True, known=known).data(data, name)
    if isinstance(found, tuple):
        assert len(full) == 1 and found == full[0].row()
    else:
        assert [it.row() for it in found] == [it.row() for it in full]


def test_plain_rows_are_the_common_case_and_the_rest_are_not(tmp_path):
    (tmp_path / "a.txt").write_text("a log line\n")
    (tmp_path / "b.bin").write_bytes(bytes(range(256)))
    (tmp_path / "c.jpg").write_bytes(JPEG)
    (tmp_path / "d.txt").write_bytes(JPEG)  # a picture named .txt: flagged, never plain
    (tmp_path / "e.bin").write_bytes(b"\x00junk" + JPEG)  # a picture inside a blob: carved
    hasher = Hasher(dihedral=True)
    kinds = {
        p.name: isinstance(hasher.file_or_row(str(p), p.name), tuple) for p in sorted(tmp_path.iterdir())
    }
    assert kinds == {"a.txt": True, "b.bin": True, "c.jpg": False, "d.txt": False, "e.bin": False}


def test_a_plain_file_a_set_lists_is_matched(tmp_path):
    import json

    from tests.scan.conftest import cli

    ev = tmp_path / "ev"
    ev.mkdir()
    for i in range(40):
        (ev / f"log{i:02}.txt").write_text(f"line {i}\n")
    (ev / "log07-copy.txt").write_text("line 7\n")  # a copy in the same batch: matched too
    listed = hashlib.sha1(b"line 7\n").hexdigest()
    (tmp_path / "sha1.txt").write_text(listed + "\n")
    db, out = str(tmp_path / "v.db"), tmp_path / "case.json"
    assert (
        cli(
            "hashset",
            "import",
            str(tmp_path / "sha1.txt"),
            "--name",
            "logs",
            "--category",
            "csam",
            "--db",
            db,
        )
        == 0
    )
    assert cli("scan", str(ev), "--case", "c", "--json", str(out), "--db", db, "--workers", "2") == 0
    report = json.loads(out.read_text())
    hits = {it["path"]: it["matches"] for it in report["items"] if it["matches"]}
    assert list(hits) == ["log07-copy.txt", "log07.txt"]
    assert hits["log07.txt"][0] | {"distance": 0} == {
        "hashset": "logs",
        "signal": "sha1",
        "distance": 0,
        "category": "csam",
    }
    assert report["summary"]["matched_exact"] == 2
