"""Benchmark: `vigil scan` against the triage an examiner can assemble from public tools, in one run.

Evidence: a generated tree of >= 20,000 files under ~/.cache/vigil-bench/scan-evidence (made once):
the shared corpus photos in many exact copies and in altered copies (resized, recompressed, cropped,
mirrored, renamed to .dat), zips and tar.gz of photos, PDFs with an embedded photo, the corpus
videos, and small text and binary noise files. All benign.

Baseline: `hashdeep -c md5,sha1,sha256 -r` (Debian's hashdeep) over the tree, then Meta's
threatexchange PdqSignal over every file with an image extension: the usual pair of a digest tool and
a PDQ script. Run with 1 and 2 workers (hashdeep -j N; N PDQ processes), pinned to 1 and 2 cores.
Vigil: `vigil scan --workers N`, which also opens archives, carves, hashes videos and matches
against hash sets (a 1,000-line MD5 list and a PDQ list are imported).

The table gives files/s (evidence files on disk), MB/s, peak RSS (all processes of the run, summed,
sampled every 50 ms), and checks that Vigil's MD5/SHA-1/SHA-256 of every file equal hashdeep's.
Resume: the 2-worker scan is killed (SIGKILL, process group) half-way and resumed; the overhead is
(killed run + resumed run) / uninterrupted run - 1.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import psutil
from PIL import Image, ImageOps

from tables import print_table

CORPUS = Path.home() / ".cache" / "vigil-corpus"
EVIDENCE = Path.home() / ".cache" / "vigil-bench" / "scan-evidence"
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
LAYOUT_VERSION = "2"

TE_SCRIPT = r"""
import sys
from multiprocessing import Pool
from pathlib import Path
from threatexchange.signal_type.pdq.signal import PdqSignal

def one(path):
    try:
        return path, PdqSignal.hash_from_file(Path(path))
    except Exception as exc:
        return path, "error: " + type(exc).__name__

if __name__ == "__main__":
    workers, listing, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    paths = Path(listing).read_text().splitlines()
    with Pool(workers) as pool, open(out, "w") as fh:
        for path, h in pool.imap_unordered(one, paths, chunksize=16):
            fh.write(f"{path},{h}\n")
"""


def jpeg(im: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def build_evidence(root: Path, target: int) -> None:
    """The evidence tree (deterministic); rebuilt only when missing or of another layout."""
    stamp = root / ".layout"
    if stamp.exists() and stamp.read_text() == f"{LAYOUT_VERSION}:{target}":
        return
    shutil.rmtree(root, ignore_errors=True)
    photos = sorted((CORPUS / "photos").glob("*.jpg"))
    videos = sorted((CORPUS / "videos").glob("*"))
    if not photos:
        sys.exit("error: no corpus photos; run ../shared/corpus/build.sh first")
    rng = random.Random(7)
    datas = [p.read_bytes() for p in photos]
    count = 0

    def put(rel: str, data: bytes) -> None:
        nonlocal count
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        count += 1

    print(f"building evidence in {root} ...", file=sys.stderr)
    for copy in range(25):  # exact copies: the same photo in many folders
        for i, data in enumerate(datas):
            put(f"user{copy % 5}/Pictures/set{copy}/IMG_{i:04}.jpg", data)
    for i, data in enumerate(datas):  # altered copies
        im = Image.open(io.BytesIO(data)).convert("RGB")
        w, h = im.size
        put(f"altered/resized/{i:04}.jpg", jpeg(im.resize((w // 2, h // 2)), 80))
        put(f"altered/recompressed/{i:04}.jpg", jpeg(im, 30))
        put(f"altered/cropped/{i:04}.jpg", jpeg(im.crop((w // 40, h // 40, w - w // 40, h - h // 40))))
        put(f"altered/mirrored/{i:04}.png", _png(ImageOps.mirror(im.resize((w // 2, h // 2)))))
        put(f"altered/renamed/{i:04}.dat", data)
    for a in range(150):  # archives of photos
        picks = rng.sample(range(len(datas)), 6)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for j in picks:
                z.writestr(f"photos/{j:04}.jpg", datas[j])
        put(f"archives/zip_{a:03}.zip", buf.getvalue())
    for a in range(50):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            for j in rng.sample(range(len(datas)), 4):
                info = tarfile.TarInfo(f"backup/{j:04}.jpg")
                info.size = len(datas[j])
                t.addfile(info, io.BytesIO(datas[j]))
        put(f"archives/backup_{a:03}.tar.gz", buf.getvalue())
    for d in range(300):  # documents with an embedded photo
        photo = datas[d % len(datas)]
        pdf = (
            b"%PDF-1.4\n1 0 obj << /Filter /DCTDecode /Length " + str(len(photo)).encode() + b" >>\nstream\n"
        )
        put(f"Documents/report_{d:03}.pdf", pdf + photo + b"\nendstream\nendobj\n%%EOF\n")
    for copy in range(5):
        for v in videos:
            put(f"Videos/{copy}/{v.name}", v.read_bytes())
    n = 0
    while count < target:  # noise: logs, configs, caches
        if n % 3:
            text = "".join(f"line {k} of file {n}: {rng.random():.6f}\n" for k in range(rng.randint(5, 200)))
            put(f"noise/{n % 97:02}/file_{n:05}.txt", text.encode())
        else:
            put(f"noise/{n % 97:02}/cache_{n:05}.bin", rng.randbytes(rng.randint(512, 48_000)))
        n += 1
    stamp.write_text(f"{LAYOUT_VERSION}:{target}")


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


class PeakRss:
    """Peak of the summed RSS of a process and all its descendants, sampled every 50 ms."""

    def __init__(self):
        self.peak, self._stop, self._pids = 0, threading.Event(), []

    def watch(self, pid: int) -> None:
        self._pids.append(pid)

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in list(self._pids):
                try:
                    proc = psutil.Process(pid)
                    total += sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run(cmd: list[str], cores: str, rss: PeakRss, env=None, stdout=None) -> None:
    proc = subprocess.Popen(["taskset", "-c", cores, *cmd], stdout=stdout or subprocess.DEVNULL, env=env)
    rss.watch(proc.pid)
    if proc.wait() != 0:
        sys.exit(f"error: {' '.join(cmd[:3])} failed")


def baseline(workers: int, cores: str, work: Path) -> tuple[float, int, dict]:
    digests_out = work / "hashdeep.txt"
    images = [str(p) for p in sorted(EVIDENCE.rglob("*")) if p.suffix.lower() in IMAGE_EXTENSIONS]
    listing = work / "images.txt"
    listing.write_text("\n".join(images) + "\n")
    script = work / "te_pdq.py"
    script.write_text(TE_SCRIPT)
    start = time.perf_counter()
    with PeakRss() as rss, open(digests_out, "w") as fh:
        run(
            ["hashdeep", "-c", "md5,sha1,sha256", "-r", "-j", str(workers), str(EVIDENCE)],
            cores,
            rss,
            stdout=fh,
        )
        run([sys.executable, str(script), str(workers), str(listing), str(work / "te.csv")], cores, rss)
    seconds = time.perf_counter() - start
    hashes = {}
    for row in csv.reader(line for line in digests_out.open() if not line.startswith(("%", "#"))):
        md5, sha1, sha256, path = row[1], row[2], row[3], ",".join(row[4:])
        hashes[Path(path).relative_to(EVIDENCE).as_posix()] = (md5, sha1, sha256)
    return seconds, rss.peak, hashes


def vigil(workers: int, cores: str, work: Path, db: str, case: str, extra=(), kill_after=None):
    exe = str(Path(sys.executable).parent / "vigil")
    out = work / f"{case}.json"
    cmd = [
        exe,
        "scan",
        str(EVIDENCE),
        "--case",
        case,
        "--db",
        db,
        "--workers",
        str(workers),
        "--json",
        str(out),
    ]
    start = time.perf_counter()
    with PeakRss() as rss:
        proc = subprocess.Popen(
            ["taskset", "-c", cores, *cmd, *extra], stdout=subprocess.DEVNULL, start_new_session=True
        )
        rss.watch(proc.pid)
        if kill_after is not None:
            time.sleep(kill_after)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return time.perf_counter() - start, rss.peak, None
        if proc.wait() != 0:
            sys.exit("error: vigil scan failed")
    return time.perf_counter() - start, rss.peak, json.loads(out.read_text())


def prepare_db(work: Path) -> str:
    """A database with a 1,000-line MD5 list (200 corpus photos among random ones) and a PDQ list."""
    exe = str(Path(sys.executable).parent / "vigil")
    db = str(work / "vigil.db")
    rng = random.Random(3)
    photos = sorted((CORPUS / "photos").glob("*.jpg"))
    import hashlib

    md5s = [hashlib.md5(p.read_bytes()).hexdigest() for p in photos[:200]]
    md5s += [rng.randbytes(16).hex() for _ in range(800)]
    (work / "md5.txt").write_text("\n".join(md5s) + "\n")
    subprocess.run(
        [exe, "hashset", "import", str(work / "md5.txt"), "--name", "md5", "--db", db],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pdqs = json.loads(
        subprocess.run(
            [exe, "hash", "--json", *map(str, photos[200:])], check=True, capture_output=True
        ).stdout
    )
    (work / "pdq.txt").write_text("pdq\n" + "".join(p["pdq"] + "\n" for p in pdqs))
    subprocess.run(
        [exe, "hashset", "import", str(work / "pdq.txt"), "--name", "pdq", "--db", db],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument(
        "--resume-only", action="store_true", help="only the 2-worker kill-and-resume measure"
    )
    args = parser.parse_args()
    if shutil.which("hashdeep") is None:
        sys.exit("error: hashdeep not found (Debian package hashdeep)")
    build_evidence(EVIDENCE, args.files)
    files = [p for p in EVIDENCE.rglob("*") if p.is_file() and p.name != ".layout"]
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    print(f"evidence: {len(files):,} files, {total_mb:,.0f} MB ({EVIDENCE})")
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = prepare_db(work)
        subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        resume_row = None
        for workers, cores in ((1, "0"), (2, "0,1")):
            if args.resume_only and workers == 1:
                continue
            b_s, b_rss, b_hashes = baseline(workers, cores, work) if not args.resume_only else (1.0, 0, {})
            v_s, v_rss, report = vigil(workers, cores, work, db, f"w{workers}")
            top = {
                it["path"]: (it["md5"], it["sha1"], it["sha256"])
                for it in report["items"]
                if "!" not in it["path"]
            }
            top.pop(".layout", None)
            b_hashes.pop(".layout", None)
            same = top == b_hashes or args.resume_only
            if not same:
                diff = sorted(set(top.items()) ^ set(b_hashes.items()))[:5]
                checks.append(f"  differences (first 5): {diff}")
            checks.append(
                f"{workers} worker(s): Vigil's MD5/SHA-1/SHA-256 equal hashdeep's for "
                f"{len(b_hashes):,} files: {'yes' if same else 'NO'}"
            )
            s = report["summary"]
            measured = (("baseline hashdeep + threatexchange PDQ", b_s, b_rss), ("vigil scan", v_s, v_rss))
            for name, secs, rss in measured if not args.resume_only else ():
                rows.append(
                    [
                        name,
                        workers,
                        f"{secs:.1f}",
                        f"{len(files) / secs:,.0f}",
                        f"{total_mb / secs:.1f}",
                        f"{rss / 2**20:,.0f}",
                        f"{b_s / secs:.2f}x",
                    ]
                )
            if workers == 2:
                _, _, _ = vigil(workers, cores, work, db, "resumed", kill_after=v_s / 2)
                r_s, _, resumed = vigil(workers, cores, work, db, "resumed", extra=["--resume"])
                equal = resumed["items"] == report["items"]
                resume_row = [
                    f"{v_s:.1f}",
                    f"{v_s / 2:.1f}",
                    f"{r_s:.1f}",
                    f"{(v_s / 2 + r_s) / v_s - 1:+.1%}",
                    "yes" if equal else "NO",
                ]
        print(
            f"vigil found: {s['files']:,} items ({s['images']:,} images, {s['videos']} videos, "
            f"{s['matched_exact']:,} exact and {s['matched_near']:,} near matches, {s['hidden']:,} hidden, "
            f"{s['duplicate_groups']:,} duplicate groups)"
        )
    if rows:
        print_table(
            "End-to-end triage of the evidence tree (pinned cores; files/s and MB/s of evidence on disk)",
            ["tool", "workers", "seconds", "files/s", "MB/s", "peak RSS MB", "x baseline"],
            rows,
        )
        for line in checks:
            print(line)
    print_table(
        "Resume: the 2-worker scan killed (SIGKILL) half-way, then `--resume`",
        ["uninterrupted s", "killed after s", "resume s", "overhead", "same result"],
        [resume_row],
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
