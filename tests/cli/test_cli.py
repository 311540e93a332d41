"""The command line as scripts use it: names, JSON shapes, and one `error:` line with exit 2."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from tests.conftest import image_bytes


def vigil(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_hash_json(tmp_path, pictures):
    jpg = tmp_path / "photo.txt"
    jpg.write_bytes(image_bytes(pictures[0], "JPEG"))
    txt = tmp_path / "notes.md"
    txt.write_text("hello\n")
    result = vigil("hash", jpg, txt, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [
        ["path", "size", "type", "md5", "sha1", "sha256", "pdq", "pdq_quality"]
    ] * 2
    assert rows[0]["type"] == "image/jpeg" and len(rows[0]["pdq"]) == 64 and rows[0]["pdq_quality"] >= 50
    assert rows[0]["md5"] == hashlib.md5(jpg.read_bytes()).hexdigest()
    assert rows[1] == {
        "path": str(txt),
        "size": 6,
        "type": "text/plain",
        "md5": hashlib.md5(b"hello\n").hexdigest(),
        "sha1": hashlib.sha1(b"hello\n").hexdigest(),
        "sha256": hashlib.sha256(b"hello\n").hexdigest(),
        "pdq": None,
        "pdq_quality": None,
    }


def test_hash_table_output(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"\x00\x01")
    result = vigil("hash", f)
    assert result.returncode == 0 and hashlib.md5(b"\x00\x01").hexdigest() in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hash", "/no/such/file"], "error: /no/such/file: no such file"),
        (["hashset", "import"], "error: Missing argument"),
        (["hashset", "import", "/no/such/list", "--name", "x"], "error: /no/such/list: no such file"),
        (["scan", "/no/such/dir", "--case", "c"], "error: /no/such/dir: no such file or folder"),
        (["scan", ".", "--case", "c", "--threshold", "64"], "error: --threshold must be 0-63"),
        (["match", "0" * 64, "--threshold", "64"], "error: --threshold must be 0-63"),
        (
            ["hashset", "import", "LIST", "--name", "x", "--format", "csv"],
            "error: --format must be one of auto, vics, nsrl, text, pdq, vpdq, got 'csv'",
        ),
        (["frobnicate"], "error: No such command"),
    ],
)
def test_user_errors_are_one_line_exit_2(tmp_path, args, message):
    (tmp_path / "LIST").write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    args = [a.replace("LIST", str(tmp_path / "LIST")) for a in args]
    result = vigil(*args, "--db", tmp_path / "v.db") if args[0] != "hash" else vigil(*args)
    if args[0] == "frobnicate":
        result = vigil(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_bad_import_line_leaves_database_unchanged(tmp_path):
    db = tmp_path / "v.db"
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    bad.write_text("d41d8cd98f00b204e9800998ecf8427e\n\nnot-a-hash\n")
    assert vigil("hashset", "import", good, "--name", "good", "--db", db).returncode == 0
    result = vigil("hashset", "import", bad, "--name", "bad", "--db", db)
    assert result.returncode == 2
    assert (
        result.stderr == f"error: {bad}:3: expected a hex hash (md5, sha1, sha256 or pdq), got 'not-a-hash'\n"
    )
    listed = json.loads(vigil("hashset", "list", "--json", "--db", db).stdout)
    assert [(s["name"], s["entries"], s["format"]) for s in listed] == [("good", 1, "text")]
    assert listed[0]["known"] is False
    assert set(listed[0]) == {
        "version",
        "archived",
        "known",
        "name",
        "source",
        "category",
        "format",
        "entries",
        "imported_at",
        "file_sha256",
        "enabled",
    }
    assert listed[0]["file_sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()


def test_vigil_db_environment_variable(tmp_path):
    import os

    env = {**os.environ, "VIGIL_DB": str(tmp_path / "env.db")}
    lst = tmp_path / "l.txt"
    lst.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    assert vigil("hashset", "import", lst, "--name", "n", env=env).returncode == 0
    assert (tmp_path / "env.db").exists()


def test_match_json_lines_exact_and_near(tmp_path, pictures):
    from vigil.scan.hashing import hash_bytes

    known = hash_bytes(image_bytes(pictures[0], "JPEG"), "k")
    altered = hash_bytes(image_bytes(pictures[0].resize((320, 240)), "JPEG"), "a")
    lst = tmp_path / "list.csv"
    lst.write_text(f"md5,category\n{known.md5},csam\n")
    pdq = tmp_path / "pdq.txt"
    pdq.write_text(f"pdq\n{known.pdq}\n")
    db = tmp_path / "v.db"
    assert vigil("hashset", "import", lst, "--name", "md5s", "--db", db).returncode == 0
    assert vigil("hashset", "import", pdq, "--name", "pdqs", "--db", db).returncode == 0
    queries = tmp_path / "q.txt"
    queries.write_text(f"{altered.pdq}\n\n{'0' * 64}\n")
    result = vigil("match", known.md5.upper(), "--file", queries, "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {  # the API's answer shape; `query` is the old name of `hash`, kept
        "hash": known.md5,
        "query": known.md5,
        "matches": [{"hashset": "md5s", "signal": "md5", "distance": 0, "category": "csam"}],
    }
    assert lines[1]["hash"] == lines[1]["query"] == altered.pdq
    (near,) = lines[1]["matches"]
    assert near["hashset"] == "pdqs" and near["signal"] == "pdq" and 0 < near["distance"] <= 31
    assert lines[2] == {"hash": "0" * 64, "query": "0" * 64, "matches": []}
    assert len(lines) == 3
    bad = vigil("match", "--file", queries, "xyz", "--db", db)
    assert bad.returncode == 2 and bad.stderr.startswith("error: argument 1: expected md5")


def test_every_command_is_documented_in_the_readme():
    from pathlib import Path

    from vigil.cli.main import app

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    names = [c.name for c in app.registered_commands] + [
        f"{g.name} {c.name}" for g in app.registered_groups for c in g.typer_instance.registered_commands
    ]
    assert len(names) >= 5
    for name in names:
        assert f"`vigil {name} " in readme, name


def test_hashset_versions_diff_export_and_states(tmp_path):
    db = tmp_path / "v.db"
    a, b, c = (f"{i:032x}" for i in (1, 2, 3))
    v1 = tmp_path / "v1.csv"
    v1.write_text(f"md5,category\n{a},csam\n{b},csam\n")
    v2 = tmp_path / "v2.csv"
    v2.write_text(f"md5,category\n{b},non_pertinent\n{c},csam\n")
    assert "version 1" in vigil("hashset", "import", v1, "--name", "s", "--db", db).stdout
    out = vigil("hashset", "import", v2, "--name", "s", "--db", db).stdout
    assert "version 2" in out and "1 added, 1 removed, 1 changed category" in out and "s@1" in out
    diff = json.loads(vigil("hashset", "diff", "s@1", "s", "--json", "--db", db).stdout)
    assert diff == {
        "added": [{"signal": "md5", "hash": c, "category": "csam"}],
        "removed": [{"signal": "md5", "hash": a, "category": "csam"}],
        "changed": [{"signal": "md5", "hash": b, "from": "csam", "to": "non_pertinent"}],
    }
    same = json.loads(vigil("hashset", "diff", "s", "s", "--json", "--db", db).stdout)
    assert same == {"added": [], "removed": [], "changed": []}
    shown = json.loads(vigil("hashset", "show", "s", "--db", db).stdout)
    assert (shown["version"], shown["signals"], shown["archived"]) == (2, {"md5": 2}, False)
    # export round trip through the CLI, both formats
    for fmt in ("text", "vics"):
        exported = tmp_path / f"s.{fmt}"
        assert (
            vigil("hashset", "export", "s", "--format", fmt, "--output", exported, "--db", db).returncode == 0
        )
        assert vigil("hashset", "import", exported, "--name", f"copy-{fmt}", "--db", db).returncode == 0
        back = json.loads(vigil("hashset", "diff", "s", f"copy-{fmt}", "--json", "--db", db).stdout)
        assert back == {"added": [], "removed": [], "changed": []}, fmt
    assert vigil("hashset", "export", "s", "--db", db).stdout.startswith("signal,hash,category")
    # disable: matching stops at once; enable: it resumes
    assert json.loads(vigil("match", c, "--json", "--db", db).stdout)["matches"]
    assert vigil("hashset", "disable", "s", "--db", db).returncode == 0
    assert [m["hashset"] for m in json.loads(vigil("match", c, "--json", "--db", db).stdout)["matches"]] == [
        "copy-text",
        "copy-vics",
    ]
    assert vigil("hashset", "enable", "s@1", "--db", db).returncode == 2  # archived versions stay off
    assert vigil("hashset", "enable", "s", "--db", db).returncode == 0
    names = [x["name"] for x in json.loads(vigil("hashset", "list", "--all", "--json", "--db", db).stdout)]
    assert names == ["copy-text", "copy-vics", "s", "s@1"]
    assert vigil("hashset", "delete", "s", "--db", db).stdout.strip() == "deleted 's' (2 versions)"
    names = [x["name"] for x in json.loads(vigil("hashset", "list", "--all", "--json", "--db", db).stdout)]
    assert names == ["copy-text", "copy-vics"]
    missing = vigil("hashset", "show", "nope", "--db", db)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no hash set named 'nope'")


def test_a_bug_is_one_error_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    from vigil.cli import main
    from vigil.scan import hashing

    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(hashing, "hash_file", broken)
    f = tmp_path / "a.txt"
    f.write_text("a")
    monkeypatch.delenv("VIGIL_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main.run(["hash", str(f)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == "error: internal error (KeyError: 'oops'); please report it\n"
