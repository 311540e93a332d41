"""Benchmark: Vigil's hashing against Meta's threatexchange PdqSignal, in one run.

    python bench/hashing.py [PHOTOS_DIR] [--repeat N]

PHOTOS_DIR defaults to ~/.cache/vigil-corpus/photos (built by ../shared/corpus/build.sh: ~200 real,
benign photos, long side <= 1024 px). Prints three tables:

1. Speed: whole processes pinned to one core (taskset -c 0), start-up included: `vigil hash --json`
   over every photo (md5 + sha1 + sha256 + PDQ) against a Python process that imports threatexchange
   and calls PdqSignal.hash_from_file on every photo (PDQ only). Best of --repeat runs.
2. Fidelity: Vigil's PDQ (reduced JPEG decode) against the full-size reference (`pdqhash` on the
   full RGB decode, which is what PdqSignal computes).
3. Matching: the share of transformed copies (JPEG q30, resize 50%, crop 5%, watermark text,
   gamma 0.6, mirror) whose PDQ is within 31 bits of the original's, for threatexchange, for Vigil,
   and for Vigil decoding at full size (showing the reduced decode costs no matches).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageOps

from tables import print_table as table
from vigil.media import images as vigil_images
from vigil.scan.hashing import hash_bytes
from vigil.signals.pdq import PdqSignal, pdq_from_luma

THRESHOLD = 31
TE_SCRIPT = """
import sys, pathlib
from threatexchange.signal_type.pdq.signal import PdqSignal
for p in sys.argv[1:]:
    print(PdqSignal.hash_from_file(pathlib.Path(p)), p)
"""


def timed(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def pin(cmd: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *cmd] if shutil.which("taskset") else cmd


def reference(data: bytes) -> tuple[int, int]:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, quality = pdqhash.compute(rgb)
    return int("".join(map(str, bits)), 2), quality


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def transforms(data: bytes) -> dict[str, bytes]:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    marked = im.copy()
    draw = ImageDraw.Draw(marked)
    for i in range(3):
        draw.text((10 + i * w // 3, h - 30), "© example watermark", fill=(255, 255, 255))
    lut = [round(255 * (v / 255) ** 0.6) for v in range(256)] * 3
    dx, dy = round(w * 0.025), round(h * 0.025)
    return {
        "JPEG q30": jpeg(im, 30),
        "resize 50%": jpeg(im.resize((w // 2, h // 2), Image.BILINEAR)),
        "crop 5%": jpeg(im.crop((dx, dy, w - dx, h - dy))),
        "watermark": jpeg(marked),
        "gamma 0.6": jpeg(im.point(lut)),
        "mirror": jpeg(ImageOps.mirror(im)),
    }


def vigil_full_size(data: bytes, dihedral: bool = False):
    """Vigil's PDQ on a full-size decode (no JPEG draft), for the accuracy comparison."""
    luma = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    return pdq_from_luma(luma, dihedral=dihedral)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photos", nargs="?", default=str(Path.home() / ".cache/vigil-corpus/photos"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(str(p) for p in Path(args.photos).glob("*.jpg"))
    if not files:
        sys.exit(f"error: no .jpg photos in {args.photos}; run ../shared/corpus/build.sh first")
    datas = [Path(f).read_bytes() for f in files]
    sizes = [Image.open(io.BytesIO(d)).size for d in datas]
    print(
        f"{len(files)} photos, median {statistics.median(max(s) for s in sizes)} px long side, "
        f"{sum(map(len, datas)) / len(datas) / 1024:.0f} KB mean; cores pinned: 1"
    )

    # 1. speed -------------------------------------------------------------------------------------
    vigil_exe = str(Path(sys.executable).parent / "vigil")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(TE_SCRIPT)
    te_s = timed(pin([sys.executable, fh.name, *files]), args.repeat)
    os.unlink(fh.name)
    vigil_s = timed(pin([vigil_exe, "hash", "--json", *files]), args.repeat)
    n = len(files)
    table(
        f"Speed (whole process on one core, start-up included, best of {args.repeat})",
        ["hasher", "work per image", "seconds", "images/s", "ratio"],
        [
            ["threatexchange PdqSignal", "PDQ", f"{te_s:.2f}", f"{n / te_s:.0f}", "1.00x"],
            [
                "vigil hash --json",
                "md5+sha1+sha256+PDQ",
                f"{vigil_s:.2f}",
                f"{n / vigil_s:.0f}",
                f"{te_s / vigil_s:.2f}x",
            ],
        ],
    )

    # 2. fidelity ----------------------------------------------------------------------------------
    refs = [reference(d) for d in datas]
    ours = [hash_bytes(d, "x") for d in datas]
    dist = np.array([(r[0] ^ int(o.pdq, 16)).bit_count() for r, o in zip(refs, ours, strict=True)])
    high = np.array([r[1] >= 80 for r in refs])
    qdiff = np.array([abs(r[1] - o.pdq_quality) for r, o in zip(refs, ours, strict=True)])
    ks = [vigil_images.reduction_for(*s) for s in sizes]
    table(
        "PDQ fidelity: Vigil vs full-size reference pdqhash (bits apart)",
        [
            "median",
            "p95",
            "max",
            "<= 16 bits",
            "<= 10 bits (quality >= 80)",
            "quality diff p95",
            "JPEG decode scale",
        ],
        [
            [
                f"{np.median(dist):.0f}",
                f"{np.percentile(dist, 95):.0f}",
                f"{dist.max()}",
                f"{(dist <= 16).mean():.1%}",
                f"{(dist[high] <= 10).mean():.1%}",
                f"{np.percentile(qdiff, 95):.0f}",
                ", ".join(f"1/{k}: {ks.count(k)}" for k in sorted(set(ks))),
            ]
        ],
    )

    # 3. matching ----------------------------------------------------------------------------------
    # the hasher under PdqSignal, without its quality floor, so both sides are compared on every photo
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes as te_pdq

    names = list(transforms(datas[0]))
    hits = {who: dict.fromkeys(names, 0) for who in ("te", "vigil", "full")}
    for data in datas:
        te_orig = int(te_pdq(data)[0], 16)
        v_orig = hash_bytes(data, "o", dihedral=True)
        v_variants = [int(x, 16) for x in v_orig.dihedral]
        f_orig = vigil_full_size(data, dihedral=True)
        f_variants = [int.from_bytes(h, "big") for h in f_orig.dihedral]
        for name, copy in transforms(data).items():
            te_copy = int(te_pdq(copy)[0], 16)
            hits["te"][name] += (te_orig ^ te_copy).bit_count() <= THRESHOLD
            v_copy = int(hash_bytes(copy, "c").pdq, 16)
            hits["vigil"][name] += min((v ^ v_copy).bit_count() for v in v_variants) <= THRESHOLD
            f_copy = int.from_bytes(vigil_full_size(copy).value, "big")
            hits["full"][name] += min((v ^ f_copy).bit_count() for v in f_variants) <= THRESHOLD
    rows = []
    for name in names:
        rows.append(
            [
                name,
                f"{hits['te'][name] / n:.1%}",
                f"{hits['vigil'][name] / n:.1%}",
                f"{hits['full'][name] / n:.1%}",
            ]
        )
    total = {w: sum(h.values()) / (n * len(names)) for w, h in hits.items()}
    rows.append(["all", f"{total['te']:.1%}", f"{total['vigil']:.1%}", f"{total['full']:.1%}"])
    table(
        f"Transformed copies matched at distance <= {THRESHOLD} (Vigil matches all 8 rotations/mirrors)",
        ["transform", "threatexchange", "vigil (reduced decode)", "vigil (full-size decode)"],
        rows,
    )
    assert PdqSignal.default_threshold == THRESHOLD


if __name__ == "__main__":
    main()
