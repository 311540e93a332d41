"""NSRL RDS v3 (SQLite) and v2 (NSRLFile.txt, also zipped), built here in the NSRL shapes."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hashsets.conftest import assert_reads_or_fails_cleanly
from vigil.errors import InputFormatError
from vigil.hashsets import detect_format, read_entries

FILES = [b"kernel32.dll", b"notepad.exe", b"readme.txt"]
V2_HEADER = '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest().upper()


def make_rds3(path, rows):
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT, file_name TEXT, "
        "file_size INTEGER, package_id INTEGER)"
    )
    conn.execute("CREATE TABLE PKG (package_id INTEGER, name TEXT)")
    conn.executemany("INSERT INTO FILE VALUES (?, ?, ?, '00000000', ?, 1, ?)", rows)
    conn.commit()
    conn.close()


def v2_text(files=FILES):
    lines = [V2_HEADER] + [
        f'"{sha1(f)}","{hashlib.md5(f).hexdigest().upper()}","00000000","{f.decode()}",1,1,"WIN",""'
        for f in files
    ]
    return "\n".join(lines) + "\n"


def test_rds3_distinct_sha1(tmp_path):
    path = tmp_path / "RDS_modern_minimal.db"
    rows = [
        (hashlib.sha256(f).hexdigest().upper(), sha1(f), hashlib.md5(f).hexdigest().upper(), f.decode(), pkg)
        for pkg in (1, 2)
        for f in FILES
    ]  # every file in two packages
    make_rds3(path, rows)
    assert detect_format(path) == "nsrl"
    got = list(read_entries(path))
    assert sorted(e.value.hex().upper() for e in got) == sorted(sha1(f) for f in FILES)
    assert {e.signal for e in got} == {"sha1"}


def test_rds3_bad_row_and_wrong_database(tmp_path):
    bad = tmp_path / "bad.db"
    make_rds3(bad, [("", "NOT-A-HASH", "", "x", 1)])
    with pytest.raises(InputFormatError, match=r"bad.db:FILE row 1: expected a SHA-1"):
        list(read_entries(bad, "nsrl"))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    with pytest.raises(InputFormatError, match="no FILE table"):
        list(read_entries(other, "nsrl"))


def test_rds2_text_and_zip(tmp_path):
    text = tmp_path / "NSRLFile.txt"
    text.write_text(v2_text())
    assert detect_format(text) == "nsrl"
    got = list(read_entries(text))
    assert [(e.value.hex().upper(), e.comment, e.ref) for e in got] == [
        (sha1(f), f.decode(), str(n)) for n, f in enumerate(FILES, start=2)
    ]
    zipped = tmp_path / "NSRLFile.txt.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("RDS/NSRLFile.txt", v2_text())
    assert detect_format(zipped) == "nsrl"
    assert [e.value for e in read_entries(zipped)] == [e.value for e in got]


def test_rds2_bad_line_names_the_line(tmp_path):
    text = tmp_path / "NSRLFile.txt"
    text.write_text(v2_text() + '"XYZ","","","f",1,1,"",""\n')
    with pytest.raises(InputFormatError, match=r"NSRLFile.txt:5: expected a SHA-1"):
        list(read_entries(text))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_nsrl_reader_fails_only_with_vigil_errors(tmp_path_factory, data):
    assert_reads_or_fails_cleanly(tmp_path_factory, V2_HEADER.encode() + b"\n" + data, "NSRLFile.txt", "nsrl")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_nsrl_sqlite_garbage(tmp_path_factory, data):
    assert_reads_or_fails_cleanly(tmp_path_factory, b"SQLite format 3\x00" + data, "x.db", "nsrl")


def test_rds3_blocks_equal_entries_and_still_name_a_bad_row(tmp_path):
    from vigil.hashsets import EntryBlock

    path = tmp_path / "rds.db"
    make_rds3(path, [("", sha1(f), "", f.decode(), 1) for f in FILES])
    blocks = list(read_entries(path, blocks=True))
    assert all(isinstance(b, EntryBlock) for b in blocks)
    assert [e.value for b in blocks for e in b.entries()] == [e.value for e in read_entries(path)]
    bad = tmp_path / "bad.db"
    make_rds3(bad, [("", sha1(b"x"), "", "x", 1), ("", "ZZ", "", "y", 1)])
    with pytest.raises(InputFormatError, match="FILE row 2"):
        list(read_entries(bad, blocks=True))


def test_rds3_quarterly_delta_is_applied_without_changing_the_base(tmp_path):
    base = tmp_path / "RDS_2026.09.db"
    make_rds3(base, [("", sha1(f), "", f.decode(), 1) for f in FILES])
    before = hashlib.sha256(base.read_bytes()).hexdigest()
    delta = tmp_path / "RDS_2026.12_delta.sql"
    delta.write_text(
        "-- quarterly delta\n"
        f"INSERT INTO FILE VALUES ('', '{sha1(b'new.dll')}', '', '00000000', 'new.dll', 1, 3);\n"
        f"DELETE FROM FILE\n  WHERE sha1 = '{sha1(b'notepad.exe')}';\n"
        f"UPDATE FILE SET sha1 = '{sha1(b'readme2.txt')}' WHERE file_name = 'readme.txt';\n"
        "-- end of delta\n"
    )
    got = {e.value.hex().upper() for e in read_entries(base, "nsrl", delta=delta)}
    assert got == {sha1(b"kernel32.dll"), sha1(b"new.dll"), sha1(b"readme2.txt")}
    assert hashlib.sha256(base.read_bytes()).hexdigest() == before
    assert {e.value.hex().upper() for e in read_entries(base, "nsrl")} == {sha1(f) for f in FILES}


@pytest.mark.parametrize(
    ("sql", "line", "what"),
    [
        ("SELECT 1;\n", 1, "expected INSERT, UPDATE or DELETE"),
        ("INSERT INTO FILE VALUES (1);\n", 1, "statement failed"),
        ("-- c\nDELETE FROM FILE WHERE sha1 = 'x';\nINSERT INTO FILE VALUES (\n", 3, "incomplete"),
    ],
)
def test_bad_delta_names_its_line_and_leaves_the_base(tmp_path, sql, line, what):
    base = tmp_path / "RDS.db"
    make_rds3(base, [("", sha1(f), "", f.decode(), 1) for f in FILES])
    before = hashlib.sha256(base.read_bytes()).hexdigest()
    delta = tmp_path / "delta.sql"
    delta.write_text(sql)
    with pytest.raises(InputFormatError, match=rf"delta.sql:{line}: .*{what}"):
        list(read_entries(base, "nsrl", delta=delta))
    assert hashlib.sha256(base.read_bytes()).hexdigest() == before
