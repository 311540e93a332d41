from __future__ import annotations

import sqlite3

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from vigil.errors import InputFormatError, VigilError
from vigil.hashsets import Entry, read_entries
from vigil.store import open_database
from vigil.store.db import HEAD_REVISION, MIGRATIONS
from vigil.store.hashsets import HashsetRepository


def test_head_revision_constant_matches_the_migration_scripts():
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION


def test_database_is_created_on_first_use_in_wal_mode(tmp_path):
    path = tmp_path / "nested" / "v.db"
    open_database(str(path))
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert {"hashsets", "hash_entries", "cases", "case_items", "alembic_version"} <= tables
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    open_database(str(path))  # a second open finds it migrated


def test_db_path_that_is_a_folder_is_a_user_error(tmp_path):
    with pytest.raises(VigilError, match="is a folder"):
        open_database(str(tmp_path))


def entries(n, signal="md5"):
    return [Entry(signal, i.to_bytes(16, "big"), "csam") for i in range(n)]


def test_import_and_lookup(db):
    repo = HashsetRepository(db)
    info = repo.import_entries("a", entries(5), fmt="text", source="src", category="csam")
    assert (info.name, info.entries, info.source) == ("a", 5, "src")
    found = repo.exact_opinions("md5", [(3).to_bytes(16, "big"), (99).to_bytes(16, "big")])
    assert list(found) == [(3).to_bytes(16, "big")]
    assert found[(3).to_bytes(16, "big")][0].hashset == "a"


def test_failed_import_leaves_the_database_unchanged(db, tmp_path):
    repo = HashsetRepository(db)
    repo.import_entries("a", entries(3), fmt="text")
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join([f"{i:032x}" for i in range(30_000)] + ["nothex"]))
    for name in ("a", "b"):  # replacing an existing set, and creating a new one
        with pytest.raises(InputFormatError, match=r"bad.txt:30001:"):
            repo.import_entries(name, read_entries(bad), fmt="text")
    assert [(i.name, i.entries, i.version) for i in repo.list(archived=True)] == [("a", 3, 1)]
    assert repo.count_by_signal() == {"md5": 3}


def test_reimport_makes_a_new_version_and_reports_the_changes(db):
    repo = HashsetRepository(db)
    first = repo.import_entries("a", entries(3), fmt="text")
    assert (first.version, first.changes) == (1, None)
    recategorised = [Entry("md5", (1).to_bytes(16, "big"), "non_pertinent")]
    second = repo.import_entries("a", entries(3)[2:] + recategorised + entries(6)[4:], fmt="text")
    assert second.version == 2
    assert second.changes == {"added": 2, "removed": 1, "changed": 1}
    assert [(i.name, i.entries) for i in repo.list()] == [("a", 4)]
    assert [(i.name, i.archived, i.enabled) for i in repo.list(archived=True)] == [
        ("a", False, True),
        ("a@1", True, False),
    ]
    assert repo.count_by_signal() == {"md5": 4}
    # the old version no longer matches
    found = repo.exact_opinions("md5", [(0).to_bytes(16, "big"), (5).to_bytes(16, "big")])
    assert list(found) == [(5).to_bytes(16, "big")]


@pytest.mark.parametrize(
    ("fmt", "name", "content"),
    [
        ("text", "list.txt", b"d41d8cd98f00b204e9800998ecf8427e\nzz\n"),
        ("pdq", "list.txt", b"0" * 64 + b"\n" + b"1" * 63 + b"\n"),
        (
            "vics",
            "x.json",
            b'{"@odata.context": "x#Media", "value": '
            b'[{"MD5": "D41D8CD98F00B204E9800998ECF8427E"}, {"MD5": 7}]}',
        ),
        (
            "vics",
            "y.json",
            b'{"@odata.context": "x#Media", "value": [{"MD5": "D41D8CD98F00B204E9800998ECF8427E"}',
        ),
        ("nsrl", "NSRLFile.txt", b'"SHA-1","MD5"\n"' + b"A" * 40 + b'",""\n"XYZ",""\n'),
        ("nsrl", "rds.db", b"SQLite format 3\x00" + b"\x00" * 200),
    ],
)
def test_broken_input_of_every_format_leaves_the_database_unchanged(db, tmp_path, fmt, name, content):
    repo = HashsetRepository(db)
    repo.import_entries("keep", entries(2), fmt="text")
    before = [(i.name, i.entries, i.version) for i in repo.list(archived=True)]
    path = tmp_path / name
    path.write_bytes(content)
    for target in ("keep", "new"):
        with pytest.raises(VigilError):
            repo.import_entries(target, read_entries(path, fmt, blocks=True), fmt=fmt)
    assert [(i.name, i.entries, i.version) for i in repo.list(archived=True)] == before
    assert repo.count_by_signal() == {"md5": 2}
