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
    secs, peak = timed_scan([*cmd, *extra], cores, kill_after)
    return secs, peak, None if kill_after is not None else json.loads(out.read_text())


def timed_scan(cmd: list[str], cores: str, kill_after: float | None = None) -> tuple[float, int]:
    """(seconds, peak RSS of all its processes) of a `vigil scan` pinned to `cores`; with
    `kill_after`, its process group is killed (SIGKILL) after that many seconds."""
    start = time.perf_counter()
    with PeakRss() as rss:
        proc = subprocess.Popen(
            ["taskset", "-c", cores, *cmd], stdout=subprocess.DEVNULL, start_new_session=True
        )
        rss.watch(proc.pid)
        if kill_after is not None:
            time.sleep(kill_after)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        elif proc.wait() != 0:
            sys.exit("error: vigil scan failed")
    return time.perf_counter() - start, rss.peak


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


REPEATS = 3  # runs of each tool in the hashdeep race
SCALE_ROOT = Path.home() / ".cache" / "vigil-bench"
SMALL_WORDS = b"the of and to in is it that for on with as was at by an be this from or have not are".split()


def build_small_tree(root: Path, files: int, pictures: float) -> None:
    """`files` small files (200-4,000 bytes: text and binary, as logs, configs and caches are), a
    `pictures` share of them small JPEGs made from the corpus photos (each a different size and
    quality, so a picture and its copies are near, not exact, twins); 1,000 files a folder.
    Deterministic; rebuilt only when missing or of another layout. Contents are slices at random
    offsets of one generated text and one random buffer (fast to write millions)."""
    stamp = root / ".layout"
    layout = f"small-2:{files}:{pictures}"
    if stamp.exists() and stamp.read_text() == layout:
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(files)
    photos = sorted((CORPUS / "photos").glob("*.jpg"))
    if pictures and not photos:
        sys.exit("error: no corpus photos; run ../shared/corpus/build.sh first")
    sources = [Image.open(p).convert("RGB") for p in photos[:60]] if pictures else []
    every = round(1 / pictures) if pictures else 0
    text = b" ".join(rng.choice(SMALL_WORDS) for _ in range(1 << 20))
    noise = rng.randbytes(4 << 20)
    print(f"building {files:,} small files in {root} ...", file=sys.stderr)
    start = time.perf_counter()
    for i in range(files):
        folder = f"{root}/d{i // 100_000:03}/s{i // 1000 % 100:02}"
        if i % 1000 == 0:
            os.makedirs(folder, exist_ok=True)
            if i and i % 500_000 == 0:
                print(f"  {i:,} files, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        if every and i % every == every // 2:
            im = sources[rng.randrange(len(sources))]
            side = rng.randint(160, 400)
            data, name = jpeg(im.resize((side, side * 3 // 4)), rng.randint(60, 95)), f"IMG_{i:07}.jpg"
        else:
            size = rng.randint(200, 4000)
            pool, name = (text, f"f{i:07}.txt") if i % 2 else (noise, f"f{i:07}.bin")
            at = rng.randrange(len(pool) - size)
            data = pool[at : at + size]
        fd = os.open(f"{folder}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
    stamp.write_text(layout)


def vigil_scan(tree: Path, workers: int, cores: str, work: Path, db: str, case: str, kill_after=None):
    """(seconds, peak RSS of all processes, case summary or None when killed) of `vigil scan`."""
    exe = str(Path(sys.executable).parent / "vigil")
    cmd = [exe, "scan", str(tree), "--case", case, "--db", db, "--workers", str(workers), "--replace"]
    return (*timed_scan(cmd, cores, kill_after), None)


def bytes_per_item(db: str, case: str) -> float:
    import sqlite3

    with sqlite3.connect(db) as conn:
        items = conn.execute(
            "select count(*) from case_items i join cases c on c.id = i.case_id where c.name = ?", (case,)
        ).fetchone()[0]
        pages, free, size = (
            conn.execute(f"pragma {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
        empty = conn.execute("select count(*) from case_items").fetchone()[0] == items
    return (pages - free) * size / items if empty else float("nan")


def scale(sizes: list[int], pictures: float, versus: int, resume_at: int | None) -> None:
    """The scale table: peak memory, speed and storage of `vigil scan` on trees of small files."""
    exe = str(Path(sys.executable).parent / "vigil")
    rows, mem = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        known = work / "known.txt"
        known.write_text("".join(random.Random(5).randbytes(16).hex() + "\n" for _ in range(1000)))
        for n in sizes:
            tree = SCALE_ROOT / f"small-{n}"
            build_small_tree(tree, n, pictures)
            db = str(work / f"scale-{n}.db")
            subprocess.run(
                [exe, "hashset", "import", str(known), "--name", "md5", "--db", db],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(
                ["hashdeep", "-r", "-c", "md5", "-j", "2", str(tree)], stdout=subprocess.DEVNULL, check=True
            )  # warm
            secs, peak, _ = vigil_scan(tree, 2, "0,1", work, db, "scale")
            per_item = bytes_per_item(db, "scale")
            mem.append((n, peak))
            rows.append(
                [
                    f"{n:,}",
                    f"{secs:.1f}",
                    f"{n / secs:,.0f}",
                    f"{peak / 2**20:,.0f}",
                    f"{per_item:.0f}",
                    "≤ 1,024" if peak <= 2**30 else "OVER 1,024",
                ]
            )
            if resume_at == n:
                _, _, _ = vigil_scan(tree, 2, "0,1", work, db, "resumed", kill_after=secs / 2)
                exe_cmd = [
                    exe,
                    "scan",
                    str(tree),
                    "--case",
                    "resumed",
                    "--db",
                    db,
                    "--workers",
                    "2",
                    "--resume",
                ]
                start = time.perf_counter()
                subprocess.run(["taskset", "-c", "0,1", *exe_cmd], check=True, stdout=subprocess.DEVNULL)
                r_s = time.perf_counter() - start
                resumed_row = [
                    f"{n:,}",
                    f"{secs:.1f}",
                    f"{secs / 2:.1f}",
                    f"{r_s:.1f}",
                    f"{(secs / 2 + r_s) / secs - 1:+.1%}",
                ]
            os.unlink(db)
    print_table(
        f"Scale: `vigil scan --workers 2` on trees of small files (200-4,000 bytes, {pictures:.0%} "
        "pictures), warm cache",
        ["files", "seconds", "files/s", "peak RSS MB (all processes)", "case DB bytes/item", "target"],
        rows,
    )
    if len(mem) > 1:
        (n0, p0), (n1, p1) = mem[0], mem[-1]
        print(
            f"memory slope: {(p1 - p0) / 2**20 / ((n1 - n0) / 1e6):+.1f} MB per million files "
            f"({n0:,} -> {n1:,} files)"
        )
    if resume_at:
        print_table(
            "Resume: killed (SIGKILL) half-way, then `--resume`",
            ["files", "uninterrupted s", "killed after s", "resume s", "overhead"],
            [resumed_row],
        )
    if versus:
        versus_hashdeep(versus)


def versus_hashdeep(n: int) -> None:
    """`vigil scan` against `hashdeep -c md5,sha1,sha256 -r -j N` on a tree with no pictures, N = 1, 2."""
    tree = SCALE_ROOT / f"small-{n}-plain"
    build_small_tree(tree, n, 0)
    rows = []
    exe = str(Path(sys.executable).parent / "vigil")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            ["hashdeep", "-r", "-c", "md5", "-j", "2", str(tree)], stdout=subprocess.DEVNULL, check=True
        )  # warm
        known = work / "known.txt"  # matched too: hashdeep only hashes
        known.write_text("".join(random.Random(5).randbytes(16).hex() + "\n" for _ in range(1000)))
        hashdeep = ["hashdeep", "-c", "md5,sha1,sha256", "-r"]
        for workers, cores in ((1, "0"), (2, "0,1")):
            h_times, v_times, v_peak = [], [], 0
            for i in range(REPEATS):  # alternated, best of each: this machine's file I/O speed drifts
                start = time.perf_counter()
                with PeakRss() as rss:
                    run([*hashdeep, "-j", str(workers), str(tree)], cores, rss)
                h_times.append(time.perf_counter() - start)
                db = str(work / f"v{workers}-{i}.db")  # a fresh database each run
                subprocess.run(
                    [exe, "hashset", "import", str(known), "--name", "md5", "--db", db],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                v_s, v_rss, _ = vigil_scan_plain(tree, workers, cores, db)
                v_times.append(v_s)
                v_peak = max(v_peak, v_rss)
            h_s, v_s, v_rss = min(h_times), min(v_times), v_peak
            rows.append(
                [
                    workers,
                    f"{h_s:.1f}",
                    f"{n / h_s:,.0f}",
                    f"{v_s:.1f}",
                    f"{n / v_s:,.0f}",
                    f"{v_rss / 2**20:,.0f}",
                    f"{h_s / v_s:.2f}x",
                    "≥ 1.5x",
                ]
            )
    print_table(
        f"{n:,} small files, no pictures, warm cache: hashdeep -c md5,sha1,sha256 -j N against "
        f"`vigil scan --workers N` (pinned to N cores; best of {REPEATS} alternated runs each)",
        [
            "N",
            "hashdeep s",
            "hashdeep files/s",
            "vigil s",
            "vigil files/s",
            "vigil peak RSS MB",
            "vigil x hashdeep",
            "target",
        ],
        rows,
    )


def vigil_scan_plain(tree: Path, workers: int, cores: str, db: str):
    exe = str(Path(sys.executable).parent / "vigil")
    cmd = [
        exe,
        "scan",
        str(tree),
        "--case",
        "plain",
        "--db",
        db,
        "--workers",
        str(workers),
        "--allow-no-sets",
        "--replace",
    ]
    start = time.perf_counter()
    with PeakRss() as rss:
        run(cmd, cores, rss)
    return time.perf_counter() - start, rss.peak, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument(
        "--resume-only", action="store_true", help="only the 2-worker kill-and-resume measure"
    )
    parser.add_argument("--scale", help="scale mode: tree sizes, e.g. 100000,1000000,3000000")
    parser.add_argument("--pictures", type=float, default=0.01, help="scale mode: share of pictures")
    parser.add_argument(
        "--versus", type=int, default=200_000, help="scale mode: files of the hashdeep race (0: none)"
    )
    parser.add_argument("--resume-at", type=int, help="scale mode: the tree size to kill and resume")
    args = parser.parse_args()
    if shutil.which("hashdeep") is None:
        sys.exit("error: hashdeep not found (Debian package hashdeep)")
    if args.scale:
        scale([int(n) for n in args.scale.split(",")], args.pictures, args.versus, args.resume_at)
        return
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
