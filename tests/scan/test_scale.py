"""A scan's memory does not grow with the number of files: 200,000 files are scanned by processes
whose data segment is capped (RLIMIT_DATA, set in the test for the scan and its workers) below what the
scan held before items were streamed (about 4 KB a file: some 800 MB here). The case is complete."""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import subprocess
import sys

from tests.scan.conftest import cli

FILES = 200_000
DATA_LIMIT = 600 << 20  # bytes of data segment a process may have: the old scan needed ~800 MB


def _cap():
    resource.setrlimit(resource.RLIMIT_DATA, (DATA_LIMIT, DATA_LIMIT))


def test_two_hundred_thousand_files_in_bounded_memory(tmp_path):
    ev = tmp_path / "ev"
    rng = random.Random(1)
    sample = {}
    for i in range(FILES):
        folder = ev / f"{i // 1000:03}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        data = rng.randbytes(rng.randint(1, 64))
        (folder / f"{i:06}.bin").write_bytes(data)
        if i % 20_011 == 0:
            sample[f"{i // 1000:03}/{i:06}.bin"] = hashlib.sha256(data).hexdigest()
    db = str(tmp_path / "v.db")
    known = tmp_path / "known.txt"
    first = (ev / "000" / "000000.bin").read_bytes()
    known.write_text(hashlib.md5(first).hexdigest() + "\n")
    assert cli("hashset", "import", str(known), "--name", "k", "--db", db) == 0
    out = tmp_path / "case.json"
    scan = [sys.executable, "-m", "vigil.cli.main", "scan", str(ev), "--case", "big", "--db", db]
    done = subprocess.run(
        [*scan, "--workers", "2", "--json", str(out), "--csv", str(tmp_path / "case.csv")],
        preexec_fn=_cap,
        capture_output=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(out.read_text())
    assert report["summary"]["files"] == FILES
    paths = [it["path"] for it in report["items"]]
    assert len(paths) == FILES and paths == sorted(paths)  # each file once, in path order
    by_path = {it["path"]: it for it in report["items"]}
    assert {p: by_path[p]["sha256"] for p in sample} == sample
    assert by_path["000/000000.bin"]["matches"][0]["hashset"] == "k"
    assert report["summary"]["matched_exact"] >= 1
    rows = (tmp_path / "case.csv").read_text().count("\n")
    assert rows > FILES  # comments, header and one row per item


def test_the_cap_is_low_enough_to_catch_a_scan_that_holds_every_item(tmp_path):
    """The limit means something: a process that keeps 4 KB for each of 200,000 files exceeds it."""
    code = "x = [bytearray(4096) for _ in range(200_000)]"
    done = subprocess.run([sys.executable, "-c", code], preexec_fn=_cap, capture_output=True)
    assert done.returncode != 0 and b"MemoryError" in done.stderr
