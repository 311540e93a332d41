"""Benign demo data, generated: `python -m vigil.demo DIR`.

Makes picture-like images (gradients, shapes, texture; nothing but geometry), two hash lists that
"know" some of them, and an evidence folder holding exact copies, altered copies (resized and
recompressed, cropped, mirrored, watermarked), a file with the wrong extension, duplicates, archives
and unreadable files, so one scan shows every kind of finding. No download, no real photos.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from vigil.scan.hashing import hash_bytes


def picture(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A deterministic picture-like image: a colour gradient, shapes and fine texture."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack(
        [
            rng.uniform(40, 200) + rng.uniform(-80, 80) * x / w + rng.uniform(-60, 60) * y / h
            for _ in range(3)
        ],
        axis=-1,
    )
    base += rng.normal(0, 6, size=(h, w, 3))
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(18, 30))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 3)), y0 + int(rng.integers(20, h // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(3)]
            draw.polygon(pts, fill=colour)
    return im


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def write_video(
    path: Path, seconds: range, fps: int = 10, codec: str = "libx264", size: tuple[int, int] = (320, 240)
) -> Path:
    """A benign generated video: one generated scene per second (drawn at 320x240, scaled to
    `size`, so copies at other sizes show the same picture), panning slowly."""
    import av
    import numpy as np

    out = av.open(str(path), "w")
    stream = out.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    for second in seconds:
        still = np.asarray(picture(second, (320, 240)).convert("RGB").resize(size))
        for i in range(fps):
            frame = av.VideoFrame.from_ndarray(np.roll(still, i * 2, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path


def with_exif_thumbnail(photo: bytes, thumbnail: bytes) -> bytes:
    """`photo` with an APP1 Exif segment whose IFD1 holds `thumbnail` (as a camera writes it)."""
    import struct

    thumb_at = 8 + 6 + 2 + 12 * 2 + 4
    ifd1 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    ifd1 += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + struct.pack("<HI", 0, 14) + ifd1 + thumbnail
    return photo[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + photo[2:]


def _add_hidden_and_video(root: Path, ev: Path, known: list[bytes], other: list[Image.Image]) -> None:
    """Triage cases beyond plain files: a video list and a trimmed copy, containers within
    containers, an encrypted archive, an edited photo keeping its old thumbnail, an appended image."""
    import py7zr

    from vigil.media.video import vpdq_hash
    from vigil.signals.vpdq import to_text

    (ev / "Videos").mkdir()
    full = write_video(root / "known-video.mp4", range(8))
    (root / "lists" / "unit-video.vpdq.txt").write_text(to_text(vpdq_hash(str(full)).frames))
    full.unlink()  # only its hash is kept, as a hotline keeps it
    write_video(ev / "Videos" / "clip.mp4", range(3, 7))  # four seconds cut from the known video
    write_video(ev / "Videos" / "cat.mp4", range(40, 44))
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:xz") as t:
        info = tarfile.TarInfo("2019/IMG_4411.jpg")
        info.size = len(known[6])
        t.addfile(info, io.BytesIO(known[6]))
    with py7zr.SevenZipFile(ev / "Downloads" / "stuff.7z", "w") as z:
        z.writestr(inner.getvalue(), "old/phone.tar.xz")
    with py7zr.SevenZipFile(ev / "Downloads" / "private.7z", "w", password="demo") as z:
        z.writestr(b"locked", "secret.jpg")
    thumb = io.BytesIO()
    Image.open(io.BytesIO(known[3])).convert("RGB").resize((160, 120)).save(thumb, "JPEG")
    (ev / "DCIM" / "IMG_0004.jpg").write_bytes(with_exif_thumbnail(jpeg(other[3]), thumb.getvalue()))
    (ev / "Documents" / "cover.jpg").write_bytes(
        jpeg(other[4]) + encode(Image.open(io.BytesIO(known[2])), "PNG")
    )


def build(root: Path) -> dict:
    if root.exists():
        shutil.rmtree(root)
    lists, ev = root / "lists", root / "evidence"
    for d in (lists, ev / "DCIM", ev / "Downloads", ev / "Documents", ev / "backup"):
        d.mkdir(parents=True)
    known = [jpeg(picture(seed)) for seed in range(8)]
    other = [picture(100 + seed) for seed in range(10)]

    # hash lists: a national VICS v2 export (MD5, SHA1 and PDQ) and a hotline MD5 list
    media = []
    for i, data in enumerate(known[:6]):
        item = hash_bytes(data, f"known_{i}.jpg")
        media.append(
            {
                "MediaID": i + 1,
                "MD5": item.md5.upper(),
                "SHA1": item.sha1.upper(),
                "Category": 1 if i < 5 else 2,
                "VictimIdentified": "false",
                "IsPrecategorized": "true",
                "Series": "demo-series-a" if i < 3 else None,
                "AlternativeHashes": [{"MD5": item.md5.upper(), "HashName": "PDQ", "HashValue": item.pdq}],
            }
        )
    vics = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
        "value": media,
    }
    (lists / "national.vics.json").write_text(json.dumps(vics, indent=1))
    md5s = [hash_bytes(d, "").md5 for d in known[6:]]
    (lists / "hotline-md5.txt").write_text("# demo hotline list\n" + "\n".join(md5s) + "\n")

    # evidence: exact copies, one under a misleading name
    (ev / "DCIM" / "IMG_0001.jpg").write_bytes(known[0])
    (ev / "Documents" / "notes.txt").write_bytes(known[1])
    (ev / "Downloads" / "file7.jpg").write_bytes(known[7])
    # altered copies of known pictures
    k2, k3, k4, k5 = (Image.open(io.BytesIO(known[i])) for i in (2, 3, 4, 5))
    (ev / "DCIM" / "IMG_0002.jpg").write_bytes(jpeg(k2.resize((400, 300)), quality=40))
    w, h = k3.size
    (ev / "DCIM" / "IMG_0003.jpg").write_bytes(
        jpeg(k3.crop((w // 100, h // 100, w - w // 100, h - h // 100)))
    )
    (ev / "Downloads" / "mirror.png").write_bytes(encode(ImageOps.mirror(k4), "PNG"))
    marked = k5.copy()
    ImageDraw.Draw(marked).text((20, h - 40), "shared via example.invalid", fill=(255, 255, 255))
    (ev / "Downloads" / "marked.webp").write_bytes(encode(marked, "WEBP"))
    # unrelated pictures in several formats, with an exact and a near duplicate
    for i, im in enumerate(other[:6]):
        (ev / "DCIM" / f"IMG_{100 + i}.jpg").write_bytes(jpeg(im))
    (ev / "backup" / "IMG_100.jpg").write_bytes(jpeg(other[0]))
    (ev / "backup" / "IMG_101_small.jpg").write_bytes(jpeg(other[1].resize((400, 300)), 60))
    (ev / "Documents" / "scan.tiff").write_bytes(encode(other[6], "TIFF"))
    (ev / "Documents" / "drawing.bmp").write_bytes(encode(other[7], "BMP"))
    (ev / "Documents" / "anim.gif").write_bytes(encode(other[8].convert("P"), "GIF"))
    (ev / "Documents" / "readme.txt").write_text("Shopping list: apples, bread, tea.\n")
    # archives: a zip with a known picture, a tar.gz with an altered one
    with zipfile.ZipFile(ev / "Downloads" / "holiday.zip", "w") as z:
        z.writestr("photos/beach.jpg", known[6])
        z.writestr("photos/sunset.jpg", jpeg(other[9]))
    with tarfile.open(ev / "backup" / "old.tar.gz", "w:gz") as t:
        data = jpeg(Image.open(io.BytesIO(known[0])).resize((640, 480)), quality=50)
        info = tarfile.TarInfo("phone/IMG_9999.jpg")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    # known-good files, as NIST's NSRL lists operating-system files (RDS v2 text form)
    rows = ['"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"']
    for name in ("Documents/readme.txt", "Documents/drawing.bmp"):
        item = hash_bytes((ev / name).read_bytes(), name)
        rows.append(
            f'"{item.sha1.upper()}","{item.md5.upper()}","00000000","{Path(name).name}",'
            f'{item.size},1,"DEMO",""'
        )
    (lists / "NSRLFile.txt").write_text("\n".join(rows) + "\n")
    # unreadable: a truncated JPEG and a corrupt PNG
    (ev / "DCIM" / "IMG_0666.jpg").write_bytes(jpeg(other[2])[:3000])
    (ev / "Downloads" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    _add_hidden_and_video(root, ev, known, other)
    return {"known": len(known), "evidence": sum(1 for p in ev.rglob("*") if p.is_file())}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".demo")
    counts = build(root)
    print(
        f"demo data in {root}: {counts['evidence']} evidence files, "
        f"{counts['known']} pictures on the demo hash lists (all generated, all benign)"
    )


if __name__ == "__main__":
    main()
