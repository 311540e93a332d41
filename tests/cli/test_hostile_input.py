"""Issue 10 at the command line: names are data (never markup, never terminal control), commands that
read never create a database, imports of nothing are errors, exports carry no local paths, tokens
never exceed the role and never travel on the command line, passwords never reach an error line."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import vigil
from tests.conftest import image_bytes
from vigil.safetext import visible
from vigil.store import open_database

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _import(tmp_path, db, name, text=MD5 + "\n"):
    lst = tmp_path / "list.txt"
    lst.write_text(text)
    result = vigil("hashset", "import", lst, "--name", name, "--db", db)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("name", ["vics[/x]", "[bold]hi", "[link=http://x.example]y[/link]", "a\x1b[2Jb\nc"])
def test_hashset_list_shows_set_names_exactly(tmp_path, name):
    db = tmp_path / "v.db"
    _import(tmp_path, db, name)
    result = vigil("hashset", "list", "--db", db, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert visible(name) in result.stdout
    assert "\x1b" not in result.stdout  # an escape in a name never reaches the terminal raw


def test_error_lines_escape_control_characters(tmp_path):
    db = tmp_path / "v.db"
    _import(tmp_path, db, "real")
    result = vigil("hashset", "show", "x\x1b[2Jy\u202ez", "--db", db)
    assert result.returncode == 2
    assert result.stderr == "error: no hash set named 'x\\x1b[2Jy\\u202ez' (see `vigil hashset list`)\n"


def test_visible_escapes_what_a_terminal_would_act_on():
    assert visible("plain café.jpg") == "plain café.jpg"
    assert visible("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible("line\nbreak\r") == "line\\x0abreak\\x0d"
    assert visible("\u202egpj.exe") == "\\u202egpj.exe"  # right-to-left override
    assert visible("no\u00a0break") == "no\\xa0break"  # looks like a space, is not one
    assert visible("bad\udcffbyte") == "bad\\xffbyte"  # undecodable byte (surrogateescape)
    assert visible("back\\slash") == "back\\\\slash"  # so the escaped form is unambiguous


@pytest.mark.parametrize(
    "args",
    [
        ["match", MD5],
        ["hashset", "list"],
        ["hashset", "show", "x"],
        ["hashset", "diff", "a", "b"],
        ["hashset", "export", "x"],
        ["hashset", "disable", "x"],
        ["audit", "verify"],
        ["admin", "token-create", "a@b.example"],
    ],
)
def test_commands_that_read_never_create_a_database(tmp_path, args):
    db = tmp_path / "mistyped" / "vigl.db"
    result = vigil(*args, "--db", db)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --db {db}: no such database; check the path (or VIGIL_DB), or create it with "
        "`vigil hashset import`\n"
    )
    assert not (tmp_path / "mistyped").exists()


def test_match_on_a_database_without_sets_finds_nothing(tmp_path):
    open_database(str(tmp_path / "v.db"))
    result = vigil("match", "0" * 64, MD5, "--json", "--db", tmp_path / "v.db")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["matches"] for line in result.stdout.splitlines()] == [[], []]


def test_error_lines_never_show_a_database_password(tmp_path):
    result = vigil("match", MD5, "--db", "postgresql://vigil:Sup3rSecret@127.0.0.1:1/x")
    assert result.returncode == 2
    assert "Sup3rSecret" not in result.stderr and "vigil:***@127.0.0.1" in result.stderr


def test_vics_whose_value_is_not_a_list_is_an_error(tmp_path):
    db = tmp_path / "v.db"
    _import(tmp_path, db, "kept")
    vics = tmp_path / "odd.json"
    vics.write_text(json.dumps({"@odata.context": "http://x/$metadata#Media", "value": {"MD5": MD5}}))
    result = vigil("hashset", "import", vics, "--name", "kept", "--db", db)
    assert result.returncode == 2
    assert result.stderr == f"error: {vics}:value: expected a list of media, got an object\n"
    listed = json.loads(vigil("hashset", "list", "--json", "--db", db).stdout)
    assert [(s["name"], s["entries"], s["version"]) for s in listed] == [("kept", 1, 1)]


def test_an_import_of_nothing_is_an_error_unless_allowed(tmp_path):
    db = tmp_path / "v.db"
    _import(tmp_path, db, "kept")
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"@odata.context": "http://x/$metadata#Media", "value": []}))
    comments = tmp_path / "comments.txt"
    comments.write_text("# only a comment\n\n")
    for path in (empty, comments):
        result = vigil("hashset", "import", path, "--name", "kept", "--db", db)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: {path}: no hash entries found, nothing imported into 'kept'")
    listed = json.loads(vigil("hashset", "list", "--json", "--db", db).stdout)
    assert [(s["name"], s["entries"], s["version"]) for s in listed] == [("kept", 1, 1)]
    result = vigil("hashset", "import", comments, "--name", "blank", "--allow-empty", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "imported 0 entries" in result.stdout


def test_add_files_without_media_is_an_error_unless_allowed(tmp_path):
    db = tmp_path / "v.db"
    folder = tmp_path / "empty"
    folder.mkdir()
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    for path in (folder, text):
        result = vigil("hashset", "add-files", path, "--name", "unit", "--db", db)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: no image or video found in {path}")
    result = vigil("hashset", "add-files", folder, "--name", "unit", "--allow-empty", "--db", db)
    assert result.returncode == 0, result.stderr


def test_export_of_the_units_own_files_carries_no_local_paths(tmp_path, pictures):
    db = tmp_path / "v.db"
    known = tmp_path / "known-case-4711"
    known.mkdir()
    for n in range(2):
        (known / f"suspect-name-{n}.jpg").write_bytes(image_bytes(pictures[n], "JPEG"))
    assert vigil("hashset", "add-files", known, "--name", "unit", "--db", db).returncode == 0
    for fmt in ("vics", "text"):
        shared = vigil("hashset", "export", "unit", "--format", fmt, "--db", db)
        assert shared.returncode == 0, shared.stderr
        assert "suspect-name" not in shared.stdout and "known-case-4711" not in shared.stdout
    vics = json.loads(vigil("hashset", "export", "unit", "--format", "vics", "--db", db).stdout)
    assert sorted(m["MediaID"] for m in vics["value"]) == ["media-1", "media-2"]  # still one per file
    assert all({"MD5", "SHA1", "SHA256"} <= set(m) for m in vics["value"])
    full = vigil("hashset", "export", "unit", "--format", "vics", "--include-paths", "--db", db)
    assert "known-case-4711/suspect-name-0.jpg" in full.stdout


def _user(tmp_path, role):
    db = tmp_path / "v.db"
    org = vigil("admin", "org-create", "H", "--sector", "hotline", "--country", "nl", "--db", db)
    assert org.returncode == 0, org.stderr
    user = ["admin", "user-create", "a@h.example", "--org", "H", "--role", role, "--db", db]
    result = vigil_stdin("correct horse battery\n", *user)
    assert result.returncode == 0, result.stderr
    return db


def vigil_stdin(text, *args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", *map(str, args)], input=text, capture_output=True, text=True
    )


def test_token_scopes_beyond_the_role_are_refused(tmp_path):
    db = _user(tmp_path, "analyst")
    refused = vigil("admin", "token-create", "a@h.example", "--scope", "reports:share", "--db", db)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: --scope reports:share: an analyst may not have it")
    made = vigil("admin", "token-create", "a@h.example", "--expires", "7", "--db", db)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("vgl_") and made.stdout.count("\n") == 1  # the token alone on stdout
    scopes = "reports:read reports:write reports:classify hashes:check"
    assert made.stderr.startswith(f"scopes: {scopes}; expires: ")
    assert "reports:share" not in made.stderr
    for days in ("0", "999999999"):
        too_long = vigil("admin", "token-create", "a@h.example", "--expires", days, "--db", db)
        assert too_long.returncode == 2
        assert too_long.stderr == f"error: --expires must be 1-3650 days, got {days}\n"


def test_token_revoke_reads_the_token_from_standard_input(tmp_path):
    db = _user(tmp_path, "supervisor")
    token = vigil("admin", "token-create", "a@h.example", "--db", db).stdout.strip()
    on_command_line = vigil("admin", "token-revoke", token, "--db", db)
    assert on_command_line.returncode == 2 and token not in on_command_line.stderr
    assert vigil_stdin(token + "\n", "admin", "token-revoke", "--db", db).stdout == "revoked\n"
    again = vigil_stdin(token + "\n", "admin", "token-revoke", "--db", db)
    assert again.returncode == 2 and again.stderr == "error: no such token, or revoked already\n"


def test_version():
    from vigil import __version__

    result = vigil("--version")
    assert result.returncode == 0 and result.stdout == f"vigil {__version__}\n"


def test_hash_shows_file_names_escaped(tmp_path):
    evil = tmp_path / "a\x1b[2Jb\nc.txt"
    evil.write_bytes(b"x")
    result = vigil("hash", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "a\\x1b[2Jb\\x0ac.txt  (text/plain, 1 bytes)" in result.stdout


@pytest.mark.parametrize("content", [b"", b"not a database at all", "another program's"])
def test_commands_that_read_never_change_another_programs_file(tmp_path, content):
    import hashlib
    import sqlite3

    other = tmp_path / "evidence.sqlite"
    if isinstance(content, bytes):
        other.write_bytes(content)
    else:  # a real SQLite database of someone else's (say, a chat app's on a seized phone)
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE messages (body TEXT)")
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    for args in (["hashset", "list"], ["match", MD5], ["audit", "verify"], ["scan", tmp_path, "--case", "c"]):
        result = vigil(*args, "--db", other)
        assert result.returncode == 2, (args, result.stdout)
        assert f"error: --db {other}: not a Vigil database" in result.stderr
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.sqlite"]  # no -wal, -shm, .index


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://vigil:Sup3rSecret@127.0.0.1:1/x",
        "postgresql://vigil@127.0.0.1:1/x?password=Sup3rSecret",
        "host=127.0.0.1 password=Sup3rSecret dbname=x",
    ],
)
def test_error_lines_never_show_a_database_password_in_any_form(url):
    result = vigil("match", MD5, "--db", url)
    assert result.returncode == 2
    assert "Sup3rSecret" not in result.stderr and "***" in result.stderr, result.stderr


VICS_HEAD = b'{"@odata.context": "http://x/$metadata#Media", "value": [{"MD5": '


@pytest.mark.parametrize(("prefix", "levels"), [(b"", 0), (VICS_HEAD, 3)])
def test_deeply_nested_json_is_refused_before_parsing(tmp_path, prefix, levels):
    deep = tmp_path / "deep.json"
    deep.write_bytes(prefix + b"[" * 100_000 + b"]" * 100_000)
    result = vigil("hashset", "import", deep, "--name", "x", "--format", "vics", "--db", tmp_path / "v.db")
    assert result.returncode == 2
    at = len(prefix) + 64 - levels  # the byte of the 65th level
    message = "JSON nested more than 64 levels (a hash list nests 6)"
    assert result.stderr == f"error: {deep}:byte {at}: {message}\n"


def test_an_export_never_writes_an_empty_list_in_silence(tmp_path):
    db = tmp_path / "v.db"
    frames = tmp_path / "clip.txt"
    frames.write_text("".join(f"{n},100,{'ab' * 32},{n}.0\n" for n in range(3)))
    made = vigil("hashset", "import", frames, "--name", "videos", "--format", "vpdq", "--db", db)
    assert made.returncode == 0, made.stderr
    for fmt in ("vics", "text"):
        result = vigil("hashset", "export", "videos", "--format", fmt, "--db", db)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr == (
            "error: hash set 'videos' holds only videos (vPDQ): "
            "export it with --format vpdq --output FOLDER\n"
        )
    _import(tmp_path, db, "digests")
    out = tmp_path / "out"
    result = vigil("hashset", "export", "digests", "--format", "vpdq", "--output", out, "--db", db)
    assert result.returncode == 2 and "holds no videos (vPDQ)" in result.stderr
