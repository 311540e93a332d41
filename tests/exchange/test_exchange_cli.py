"""`vigil exchange` as an operator types it: read commands never create a database, errors are one
line, names are shown safely."""

from __future__ import annotations

from tests.api.test_serve_cli import vigil


def test_a_mistyped_db_is_an_error_not_a_new_database(tmp_path):
    for args in (("key-show",), ("peers",), ("rules", "x"), ("subscriptions",), ("sync",)):
        missing = tmp_path / "typo.db"
        done = vigil("exchange", *args, "--db", str(missing))
        assert done.returncode == 2 and done.stderr.startswith("error:"), (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and not missing.exists(), args


def test_names_are_shown_escaped_and_huge_ids_refused(tmp_path):
    db = str(tmp_path / "v.db")
    assert (
        vigil("admin", "org-create", "desk", "--sector", "hotline", "--country", "NL", "--db", db).returncode
        == 0
    )
    evil = "E\x1b[31mvil"
    assert (
        vigil("admin", "org-create", evil, "--sector", "ngo", "--country", "NL", "--db", db).returncode == 0
    )
    added = vigil(
        "exchange", "rule-add", "desk", "--label", "assessment=*", "--allow", "--to", evil, "--db", db
    )
    assert added.returncode == 0 and "\x1b" not in added.stdout and "\\x1b" in added.stdout
    huge = vigil("exchange", "forward", "99999999999999999999", "--to", evil, "--by", "x@y", "--db", db)
    assert huge.returncode == 2 and "Traceback" not in huge.stderr
