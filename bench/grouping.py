"""Benchmark: near-duplicate grouping of a case's pictures (`vigil.index.clusters.near_components`)
against today's way (one `MihPdqIndex` look-up per variant through `search_dihedral`, then a
union-find in Python over the hits), same data, one run.

    python bench/grouping.py [--sizes 100000,300000,1000000] [--anchor 30000] [--threads 2]

Data (seed 7): N PDQ hashes, each with 8 variants (variant 0 the hash, then 7 random hashes: real
rotations and mirrors come from the picture, and random ones are the worst case for the search, as
nothing is near anything). 10% of the hashes are planted near copies of another hash or of one of
its variants (a rotated copy), 1-20 random bit flips; so the expected groups are known: each
planted copy with its source, every other hash alone. Threshold 31.

Each row runs in its own process. Columns: seconds for the grouping (the data already in memory:
N x 8 x 32 bytes of variants), CPU seconds (all threads), the process's peak RSS during the grouping
and that peak's rise over the RSS before it (what the grouping itself holds at most), the number of
groups of more than one hash, whether the labels equal the planted groups exactly, and the
speed-up over today's way at the anchor's N (the anchor searches every variant, as
`assign_duplicate_groups` does). The load average is printed with the table: on a shared machine
wall time is CPU time divided by the cores actually free. Target: 1,000,000 hashes in <= 60 s on a
2-core machine, memory bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from tables import print_table

THRESHOLD = 31
VARIANTS = 8


def status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last `reset_peak`) of this process, in MB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the peak of the run


def reset_peak() -> None:
    """Start the peak RSS over from now (Linux: /proc/self/clear_refs), so it is the grouping's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def dataset(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, variants, expected labels)."""
    rng = np.random.default_rng(7)
    variants = rng.integers(0, 256, (n, VARIANTS, 32), dtype=np.uint8)
    copies = n // 10
    originals = n - copies
    source = rng.integers(0, originals, copies)
    kind = rng.integers(0, VARIANTS, copies)  # 0: a near copy of the picture; else of a rotation
    near = variants[source, kind]
    for at in range(0, copies, 4096):  # 1-20 distinct bits flipped in each copy
        rows = near[at : at + 4096]
        bits = np.argsort(rng.random((len(rows), 256)), axis=1)[:, :20]
        flips = rng.integers(1, 21, len(rows))
        keep = np.arange(20) < flips[:, None]
        r, b = np.nonzero(keep)
        bit = bits[r, b]
        np.bitwise_xor.at(rows, (r, bit // 8), (1 << (7 - bit % 8)).astype(np.uint8))
    variants[originals:, 0] = near
    expected = np.arange(n, dtype=np.int64)
    expected[originals:] = source
    return np.ascontiguousarray(variants[:, 0]), variants, expected


def run_clusters(n: int, threads: int) -> dict:
    from vigil.index.clusters import near_components

    codes, variants, expected = dataset(n)
    reset_peak()
    before = status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    labels = near_components(codes, variants, THRESHOLD, threads=threads)
    return report(labels, expected, time.perf_counter() - wall, time.process_time() - cpu, before)


def run_anchor(n: int, threads: int) -> dict:
    """Today's way: every variant looked up in a MihPdqIndex, hits merged per picture, union-find."""
    from vigil.index import MihPdqIndex, search_dihedral

    codes, variants, expected = dataset(n)
    reset_peak()
    before = status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    index = MihPdqIndex.build(codes, np.arange(n))
    queries = [[v.tobytes() for v in group] for group in variants]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, hits in enumerate(search_dihedral(index, queries, THRESHOLD)):
        for hit in hits:
            a, b = find(i), find(hit.id)
            if a != b:
                parent[max(a, b)] = min(a, b)
    labels = np.array([find(i) for i in range(n)], dtype=np.int64)
    return report(labels, expected, time.perf_counter() - wall, time.process_time() - cpu, before)


def report(labels: np.ndarray, expected: np.ndarray, wall: float, cpu: float, before: float) -> dict:
    peak = status_mb("VmHWM")
    _, sizes = np.unique(labels, return_counts=True)
    return {
        "s": round(wall, 2),
        "cpu": round(cpu, 1),
        "rss": round(peak),
        "over": round(peak - before),
        "groups": int((sizes > 1).sum()),
        "wrong": int((labels != expected).sum()),
    }


def child(who: str, n: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", who, str(n), str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--anchor", type=int, default=30_000, help="N for the anchor rows (0: skip)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--child", nargs=3, metavar=("WHO", "N", "THREADS"))
    args = parser.parse_args()
    if args.child:
        who, n, threads = args.child
        run = run_clusters if who == "clusters" else run_anchor
        print(json.dumps(run(int(n), int(threads))))
        return
    rows, anchor = [], None
    if args.anchor:
        print(f"anchor: MihPdqIndex + search_dihedral, N={args.anchor:,} ...", file=sys.stderr)
        anchor = child("anchor", args.anchor, args.threads)
        rows.append(("today: MihPdqIndex + search_dihedral", args.anchor, anchor))
        rows.append(("near_components", args.anchor, child("clusters", args.anchor, args.threads)))
    for n in (int(s) for s in args.sizes.split(",") if s):
        print(f"near_components, N={n:,} ...", file=sys.stderr)
        rows.append(("near_components", n, child("clusters", n, args.threads)))
    header = ["method", "N", "queries", "s", "CPU s", "peak RSS MB", "RSS over data MB", "groups > 1"]
    header += ["labels = planted", f"x anchor (N={args.anchor:,})" if anchor else "x anchor"]
    table = []
    for name, n, r in rows:
        speedup = f"{anchor['s'] / r['s']:.0f}x" if anchor and n == args.anchor else ""
        ok = "exact" if not r["wrong"] else f"{r['wrong']} wrong"
        table.append(
            [
                name,
                f"{n:,}",
                f"{n * VARIANTS:,}",
                r["s"],
                r["cpu"],
                r["rss"],
                r["over"],
                f"{r['groups']:,}",
                ok,
            ]
            + [speedup]
        )
    print_table(
        f"Near-duplicate grouping, threshold {THRESHOLD}, {VARIANTS} variants a hash, "
        f"{args.threads} thread(s), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
        header,
        table,
    )


if __name__ == "__main__":
    main()
