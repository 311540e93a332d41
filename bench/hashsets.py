"""Benchmark: hash-list imports against SQLite's own `.import` of the same hashes, one run.

    python bench/hashsets.py [--text 10000000] [--vics 1000000] [--nsrl 10000000] [--dir DIR]

Generates (once, cached in DIR) a text list of MD5s, a VICS v2 file (MD5 + SHA1 + PDQ per media) and
an NSRL RDS v3-shaped SQLite file; imports each with `vigil hashset import` into a fresh database
(a child process, so its peak RSS is its own) and, as the reference, loads the same hashes with the
sqlite3 shell's `.import` into a bare one-column table. Prints entries/s, peak RSS and the ratio.
Targets (issue 4): text >= 50% of the bare `.import`; VICS >= 100,000 entries/s; RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tables import print_table

V2 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


def make_text(path: Path, n: int) -> None:
    rng = random.Random(1)
    with open(path, "w") as fh:
        for _ in range(n):
            fh.write(f"{rng.getrandbits(128):032x}\n")


def make_vics(path: Path, n: int) -> None:
    rng = random.Random(2)
    with open(path, "w") as fh:
        fh.write(f'{{"@odata.context": "{V2}", "value": [')
        for i in range(n):
            md5 = f"{rng.getrandbits(128):032X}"
            media = {
                "MediaID": i,
                "MD5": md5,
                "SHA1": f"{rng.getrandbits(160):040X}",
                "Category": "1",
                "VictimIdentified": "false",
                "AlternativeHashes": [
                    {"MD5": md5, "HashName": "PDQ", "HashValue": f"{rng.getrandbits(256):064x}"}
                ],
            }
            fh.write(("," if i else "") + json.dumps(media))
        fh.write("]}")


def make_nsrl(path: Path, n: int) -> None:
    rng = random.Random(3)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT, file_name TEXT, "
        "file_size INTEGER, package_id INTEGER)"
    )
    batch = []
    for i in range(n):
        batch.append(
            (
                f"{rng.getrandbits(256):064X}",
                f"{rng.getrandbits(160):040X}",
                f"{rng.getrandbits(128):032X}",
                "00000000",
                f"file{i}.dll",
                i,
                i % 1000,
            )
        )
        if len(batch) == 100_000:
            conn.executemany("INSERT INTO FILE VALUES (?,?,?,?,?,?,?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO FILE VALUES (?,?,?,?,?,?,?)", batch)
    conn.commit()
    conn.close()


def timed(cmd: list[str], stdin: str | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of a child process, via GNU time."""
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "RSS %M", *cmd], input=stdin, capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    rss = int(re.findall(r"RSS (\d+)", out.stderr)[-1]) / 1024
    return seconds, rss


def sqlite_reference(work: Path, values_file: Path) -> tuple[float, float]:
    db = work / "bare.db"
    db.unlink(missing_ok=True)
    script = f"CREATE TABLE h (value TEXT);\n.mode csv\n.import {values_file} h\n"
    return timed(["sqlite3", str(db)], script)


def vigil_import(work: Path, path: Path, name: str, fmt: str) -> tuple[float, float]:
    db = work / f"vigil-{name}.db"
    for p in work.glob(f"vigil-{name}.db*"):
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    vigil = str(Path(sys.executable).parent / "vigil")
    return timed([vigil, "hashset", "import", str(path), "--name", name, "--format", fmt, "--db", str(db)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text", type=int, default=10_000_000)
    parser.add_argument("--vics", type=int, default=1_000_000)
    parser.add_argument("--nsrl", type=int, default=10_000_000)
    parser.add_argument("--dir", default=str(Path.home() / ".cache" / "vigil-bench"))
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    text, vics, nsrl = (
        work / f"md5-{args.text}.txt",
        work / f"vics-{args.vics}.json",
        work / f"nsrl-{args.nsrl}.db",
    )
    for path, make, n in (
        (text, make_text, args.text),
        (vics, make_vics, args.vics),
        (nsrl, make_nsrl, args.nsrl),
    ):
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            tmp = path.with_suffix(".tmp")
            make(tmp, n)
            os.replace(tmp, path)
    # the reference: SQLite's shell loading the same hash values into a bare table
    vics_values, nsrl_values = work / "vics-values.txt", work / "nsrl-values.txt"
    if not vics_values.exists():
        with open(vics_values, "w") as out:
            for m in re.finditer(r'"(?:MD5|SHA1|HashValue)": "([0-9A-Fa-f]+)"', vics.read_text()):
                out.write(m.group(1) + "\n")
    if not nsrl_values.exists():
        with sqlite3.connect(nsrl) as conn, open(nsrl_values, "w") as out:
            for (sha1,) in conn.execute("select distinct sha1 from FILE"):
                out.write(sha1 + "\n")
    rows = []
    for label, path, fmt, entries, values in (
        ("text (MD5)", text, "text", args.text, text),
        ("VICS v2 (MD5+SHA1+PDQ)", vics, "vics", 3 * args.vics, vics_values),
        ("NSRL RDS v3 (SQLite)", nsrl, "nsrl", args.nsrl, nsrl_values),
    ):
        print(f"importing {label} ...", file=sys.stderr)
        ref_s, ref_rss = sqlite_reference(work, values)
        s, rss = vigil_import(work, path, fmt, fmt)
        rows.append(
            [
                label,
                f"{entries:,}",
                f"{entries / s:,.0f}",
                f"{rss:,.0f}",
                f"{entries / ref_s:,.0f}",
                f"{ref_rss:,.0f}",
                f"{ref_s / s:.0%}",
            ]
        )
    header = [
        "file",
        "entries",
        "vigil entries/s",
        "vigil peak RSS MB",
        "sqlite .import rows/s",
        "sqlite RSS MB",
        "vigil / sqlite",
    ]
    print_table(None, header, rows)


if __name__ == "__main__":
    main()
