"""Adding an algorithm means adding one module (DESIGN.md): a toy signal defined here, in the test
module only, flows through text-list import -> `vigil match` -> `vigil scan` -> export (text and
VICS) -> import again, without any other file naming it."""

from __future__ import annotations

import hashlib
import json

import pytest

from vigil.cli.main import run
from vigil.signals import SIGNALS, SignalType, all_signals, register, unregister


class Blake64Signal(SignalType):
    """A toy: the first 8 bytes of BLAKE2b, computed from the file's bytes like md5."""

    name = "blake64"
    width = 8
    hex_length = 16
    metric = "equality"
    index = "exact"
    vics_names = ("BLAKE2B-64",)
    examples = ((b"", "e4a6a0577479b2b4"), (b"abc", "d8bb14d833d59559"))

    @classmethod
    def new_digest(cls):
        return hashlib.blake2b(digest_size=8)


@pytest.fixture
def toy():
    all_signals()  # the built-in ones first
    register(Blake64Signal)
    yield Blake64Signal
    unregister(Blake64Signal.name)


def vigil(capsys, *args) -> str:
    """The command in this process (where the toy is registered); its standard output."""
    capsys.readouterr()
    try:
        run([str(a) for a in args])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return capsys.readouterr().out


def test_a_signal_registered_in_one_module_flows_through_import_match_scan_export(tmp_path, capsys, toy):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "known.bin").write_bytes(b"benign bytes the unit has seen before")
    (evidence / "other.bin").write_bytes(b"other benign bytes")
    known = hashlib.blake2b(b"benign bytes the unit has seen before", digest_size=8).hexdigest()
    assert toy.name in SIGNALS and toy.example_hash(b"abc") == "d8bb14d833d59559"

    listing = tmp_path / "toy.csv"
    listing.write_text(f"blake64,category\n{known},csam\n")
    db = tmp_path / "v.db"
    vigil(capsys, "hashset", "import", listing, "--name", "toy", "--db", db)

    (line,) = vigil(capsys, "match", known.upper(), "--json", "--db", db).splitlines()
    expected = [{"hashset": "toy", "signal": "blake64", "distance": 0, "category": "csam"}]
    assert json.loads(line) == {"hash": known, "query": known, "matches": expected}
    assert json.loads(vigil(capsys, "match", "0" * 16, "--json", "--db", db))["matches"] == []

    case = tmp_path / "case.json"
    vigil(capsys, "scan", evidence, "--case", "c", "--json", case, "--workers", 1, "--db", db)
    items = {it["path"]: it for it in json.loads(case.read_text())["items"]}
    assert items["known.bin"]["blake64"] == known
    assert items["known.bin"]["matches"] == expected
    assert items["other.bin"]["matches"] == []

    text_export = tmp_path / "export.csv"
    vigil(capsys, "hashset", "export", "toy", "--format", "text", "--output", text_export, "--db", db)
    assert f"blake64,{known},csam" in text_export.read_text()
    vics_export = tmp_path / "export.json"
    vigil(capsys, "hashset", "export", "toy", "--format", "vics", "--output", vics_export, "--db", db)
    (media,) = json.loads(vics_export.read_text())["value"]
    assert media["AlternativeHashes"] == [{"HashName": "BLAKE2B-64", "HashValue": known}]
    for name, exported in (("again-text", text_export), ("again-vics", vics_export)):
        vigil(capsys, "hashset", "import", exported, "--name", name, "--db", db)
    (line,) = vigil(capsys, "match", known, "--json", "--db", db).splitlines()
    assert [m["hashset"] for m in json.loads(line)["matches"]] == ["again-text", "again-vics", "toy"]


def test_a_name_is_registered_once():
    class Impostor(SignalType):
        name, width, hex_length, metric = "md5", 16, 32, "equality"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
