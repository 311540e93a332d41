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

and three for HEIC (phone photos), whose fast path hashes the container's thumbnail (`--only heic`
prints these alone; `--heic-12mp N` sets how many 12 MP pictures). The photos are converted to HEIC
with a 320 px thumbnail (bench/heicfiles.py; cached beside PHOTOS_DIR in heic/), once with libheif's
own thumbnail (nearest-neighbour scaled) and once with a filtered one as a camera makes; and N of them
upscaled to 12 MP (4032x3024, light grain, 512 px grid tiles, 320x240 thumbnail) as an iPhone writes:
4. Speed: seconds per picture, decode + PDQ from bytes in memory, this process pinned to one core,
   full decode against the thumbnail fast path, as a ratio to the 0.1 s target; the same 12 MP
   pictures as JPEG (reduced DCT decode) for scale.
5. Fidelity: the fast path's PDQ against the full decode's of the same file (bits apart), and the
   thumbnail hashed as a picture of its own, which the full-size kernel replaces.
6. Matching: transformed copies (as in 3, made from the photo) matched at <= 31 bits against the HEIC
   original's hash (8 rotations/mirrors), through the full decode and through the thumbnail.
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

from heicfiles import heic, with_filtered_thumbnail
from tables import print_table as table
from vigil.media import images as vigil_images
from vigil.scan.hashing import hash_bytes
from vigil.signals.pdq import PdqHash, PdqSignal, pdq_from_luma

THRESHOLD = 31
HEIC_TARGET_S = 0.1  # per 12 MP HEIC on one core (issue "Triage at disk scale")
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
    parser.add_argument("--only", choices=["all", "heic"], default="all")
    parser.add_argument("--heic-12mp", type=int, default=6, help="12 MP HEIC pictures to make and time")
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

    if args.only == "heic":
        heic_tables(files, Path(args.photos).parent / "heic", args.heic_12mp, args.repeat)
        return

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
    heic_tables(files, Path(args.photos).parent / "heic", args.heic_12mp, args.repeat)


# HEIC ---------------------------------------------------------------------------------------------


def cached(path: Path, make) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
    return path.read_bytes()


def heic_sets(files: list[str], cache: Path, n12: int) -> dict[str, list[tuple[bytes, bytes, bytes]]]:
    """Per set, per picture: (HEIC with libheif's thumbnail, with a filtered one, JPEG q90)."""
    sets: dict[str, list[tuple[bytes, bytes, bytes]]] = {"photos": [], "12 MP": []}
    for f in files:
        im, stem = Image.open(f).convert("RGB"), Path(f).stem
        nn = cached(cache / f"{stem}.t320-nn.heic", lambda im=im: heic(im, 320))
        filtered = cached(
            cache / f"{stem}.t320-lanczos.heic", lambda im=im, nn=nn: with_filtered_thumbnail(nn, im)
        )
        sets["photos"].append((nn, filtered, Path(f).read_bytes()))
    rng = np.random.default_rng(12)
    for f in files[:: max(1, len(files) // max(1, n12))][:n12]:
        im, stem = Image.open(f).convert("RGB"), Path(f).stem
        big = im.resize((4032, 3024) if im.width >= im.height else (3024, 4032), Image.BICUBIC)
        grain = rng.normal(0, 2.0, (big.height, big.width, 1)).astype(np.float32)  # sensor noise
        big = Image.fromarray(np.clip(np.asarray(big, np.float32) + grain, 0, 255).astype(np.uint8))
        nn = cached(cache / f"{stem}.12mp-t320-nn.heic", lambda big=big: heic(big, 320, tile=512))
        filtered = cached(
            cache / f"{stem}.12mp-t320-lanczos.heic", lambda big=big, nn=nn: with_filtered_thumbnail(nn, big)
        )
        sets["12 MP"].append((nn, filtered, jpeg(big)))
    return sets


def heic_pdq(data: bytes, mime: str = "image/heic", thumbnail: bool = True, dihedral: bool = False):
    luma = vigil_images.decode_luma(data, mime, thumbnail=thumbnail)
    return pdq_from_luma(luma.pixels, luma.full_height, luma.full_width, luma.k, dihedral=dihedral), luma


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bits(a: PdqHash, b: PdqHash) -> int:
    return PdqSignal.distance(a.value, b.value)


def heic_tables(files: list[str], cache: Path, n12: int, repeat: int) -> None:
    sets = heic_sets(files, cache, n12)
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(affinity)})  # one core, as the scan's workers each have
    try:
        heic_speed(sets, repeat)
    finally:
        os.sched_setaffinity(0, affinity)
    heic_fidelity(sets)
    heic_matching(sets["photos"], files)


def heic_speed(sets, repeat: int) -> None:
    rows = []
    for name, pictures in sets.items():
        if not pictures:
            continue
        size = Image.open(io.BytesIO(pictures[0][2])).size
        label = f"{len(pictures)} {name} ({'x'.join(map(str, size)) if name == '12 MP' else '<= 1024 px'})"
        kinds = {
            "HEIC full decode": lambda p: heic_pdq(p[0], thumbnail=False),
            "HEIC thumbnail (fast path)": lambda p: heic_pdq(p[1]),
            "the same as JPEG (reduced decode)": lambda p: heic_pdq(p[2], "image/jpeg"),
        }
        full = None
        for kind, fn in kinds.items():
            seconds = np.array([best_time(lambda p=p, fn=fn: fn(p), repeat) for p in pictures])
            median = float(np.median(seconds))
            full = full or median
            rows.append(
                [
                    label,
                    kind,
                    f"{median:.3f}",
                    f"{np.percentile(seconds, 95):.3f}",
                    f"{median / HEIC_TARGET_S:.2f}x",
                    f"{full / median:.1f}x",
                ]
            )
    table(
        f"HEIC speed: seconds per picture, decode + PDQ, one core (best of {repeat})",
        ["pictures", "path", "median s", "p95 s", f"median / {HEIC_TARGET_S} s target", "speed-up"],
        rows,
    )


def heic_fidelity(sets) -> None:
    rows = []
    for name, pictures in sets.items():
        if not pictures:
            continue
        for index, writer in ((0, "libheif (nearest)"), (1, "filtered (camera)")):
            dist, own, qdiff, used, shapes = [], [], [], 0, set()
            for p in pictures:
                full, _ = heic_pdq(p[index], thumbnail=False)
                fast, luma = heic_pdq(p[index])
                if luma.source != vigil_images.HEIF_THUMBNAIL:
                    continue  # decoded in full (a picture < 512 px): the same hash, not counted
                used += 1
                shapes.add(max(luma.pixels.shape))
                dist.append(bits(fast, full))
                own.append(bits(pdq_from_luma(luma.pixels), full))
                qdiff.append(abs(fast.quality - full.quality))
            dist, own = np.array(dist), np.array(own)
            rows.append(
                [
                    f"{len(pictures)} {name}",
                    f"{writer}, {'/'.join(map(str, sorted(shapes)))} px",
                    f"{used}/{len(pictures)}",
                    f"{dist.mean():.1f}",
                    f"{np.percentile(dist, 95):.0f}",
                    f"{dist.max()}",
                    f"{(dist <= 8).mean():.1%}",
                    f"{np.percentile(qdiff, 95):.0f}",
                    f"{own.mean():.1f} / {np.percentile(own, 95):.0f} / {own.max()}",
                ]
            )
    table(
        "HEIC fidelity: fast path's PDQ vs the full decode's, same file (bits apart)",
        [
            "pictures",
            "thumbnail",
            "fast path",
            "mean",
            "p95",
            "max",
            "<= 8 bits",
            "quality diff p95",
            "thumbnail as own picture: mean / p95 / max",
        ],
        rows,
    )


def heic_matching(pictures, files: list[str]) -> None:
    paths = {"full decode": (0, False), "thumbnail, libheif's": (0, True), "thumbnail, filtered": (1, True)}
    names = list(transforms(jpeg(Image.new("RGB", (64, 64)))))
    hits = {path: dict.fromkeys(names, 0) for path in paths}
    for p, f in zip(pictures, files, strict=True):
        originals = {
            path: [int.from_bytes(v, "big") for v in heic_pdq(p[i], thumbnail=t, dihedral=True)[0].dihedral]
            for path, (i, t) in paths.items()
        }
        for name, copy in transforms(Path(f).read_bytes()).items():
            value = int.from_bytes(heic_pdq(copy, "image/jpeg")[0].value, "big")
            for path, variants in originals.items():
                hits[path][name] += min((v ^ value).bit_count() for v in variants) <= THRESHOLD
    n = len(pictures)
    rows = [[name, *(f"{hits[path][name] / n:.1%}" for path in paths)] for name in names]
    rows.append(["all", *(f"{sum(hits[path].values()) / (n * len(names)):.1%}" for path in paths)])
    table(
        f"HEIC originals: transformed copies matched at distance <= {THRESHOLD} (8 rotations/mirrors)",
        ["transform", *paths],
        rows,
    )


if __name__ == "__main__":
    main()
