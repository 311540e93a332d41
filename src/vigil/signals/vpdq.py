"""vPDQ (Meta's video PDQ): a PDQ hash per sampled frame, and Meta's rule for two videos matching.

Text form, as Meta's tools write it: one `frame_number,quality,pdq_hex,timestamp` line per frame.
Two videos match when enough of their frames match: after dropping frames of quality below 50 and
repeated hashes, a query frame matches when some frame of the other video is within 31 bits; the
query matches when >= 80% of its frames do (Meta's defaults; the known video's own percentage is
reported too, and a trimmed copy has a low one, which is why it is not required).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from vigil.errors import VigilError
from vigil.signals.base import SignalType, register

FRAME_DISTANCE = 31
MIN_QUALITY = 50
QUERY_MATCH_PERCENT = 80.0


class VpdqFrame(NamedTuple):
    number: int
    quality: int
    pdq: bytes  # 32 bytes
    timestamp: float  # seconds


class VpdqFormatError(ValueError):
    """A vPDQ text line is not `frame_number,quality,pdq_hex,timestamp`."""


def parse_line(line: str) -> VpdqFrame:
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 4:
        raise VpdqFormatError(f"expected frame_number,quality,pdq_hex,timestamp; got {len(parts)} fields")
    number, quality, hexed, timestamp = parts
    if len(hexed) != 64:
        raise VpdqFormatError(f"PDQ hash must be 64 hex digits, got {len(hexed)}")
    try:
        frame = VpdqFrame(int(number), int(quality), bytes.fromhex(hexed), float(timestamp))
    except ValueError as exc:
        raise VpdqFormatError(f"not a number or hex: {exc}") from None
    if frame.number < 0 or not 0 <= frame.quality <= 100 or not frame.timestamp >= 0:
        raise VpdqFormatError("frame number and timestamp must be >= 0, quality 0-100")
    return frame


def format_line(frame: VpdqFrame) -> str:
    return f"{frame.number},{frame.quality},{frame.pdq.hex()},{frame.timestamp:.3f}"


def to_text(frames: Iterable[VpdqFrame]) -> str:
    return "".join(format_line(f) + "\n" for f in frames)


PACKED = 32 + 1 + 4 + 8  # pdq, quality, frame number, timestamp (float64) — the stored form


def pack(frames: Sequence[VpdqFrame]) -> bytes:
    """Frames as one byte string (how a vPDQ entry is stored: 45 bytes a frame)."""
    import struct

    return b"".join(f.pdq + struct.pack("<BId", f.quality, f.number, f.timestamp) for f in frames)


def unpack(blob: bytes) -> list[VpdqFrame]:
    import struct

    if len(blob) % PACKED:
        raise ValueError("not a packed vPDQ value")
    out = []
    for at in range(0, len(blob), PACKED):
        quality, number, timestamp = struct.unpack_from("<BId", blob, at + 32)
        out.append(VpdqFrame(number, quality, blob[at : at + 32], timestamp))
    return out


def usable(frames: Iterable[VpdqFrame]) -> list[VpdqFrame]:
    """Frames that take part in matching: quality >= 50, first of each repeated hash."""
    seen, out = set(), []
    for f in frames:
        if f.quality >= MIN_QUALITY and f.pdq not in seen:
            seen.add(f.pdq)
            out.append(f)
    return out


def distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def match_percent(query: Sequence[VpdqFrame], target: Sequence[VpdqFrame]) -> tuple[float, float]:
    """(% of query frames matched, % of target frames matched), both over usable frames; brute force,
    the reference the indexed matcher is tested against."""
    q, t = usable(query), usable(target)
    if not q or not t:
        return 0.0, 0.0
    q_hit = sum(1 for a in q if any(distance(a.pdq, b.pdq) <= FRAME_DISTANCE for b in t))
    t_hit = sum(1 for b in t if any(distance(a.pdq, b.pdq) <= FRAME_DISTANCE for a in q))
    return 100.0 * q_hit / len(q), 100.0 * t_hit / len(t)


def ranges(timestamps: Sequence[float], step: float, duration: float) -> list[list[float]]:
    """Time ranges [start, end] covered by matched frames sampled every `step` seconds: frames no more
    than 1.5 steps apart join one range; a range ends one step after its last frame (or at the end)."""
    out: list[list[float]] = []
    for ts in sorted(timestamps):
        if out and ts - out[-1][1] <= step * 0.5 + 1e-9:
            out[-1][1] = min(duration, ts + step) if duration else ts + step
        else:
            out.append([ts, min(duration, ts + step) if duration else ts + step])
    return [[round(a, 3), round(b, 3)] for a, b in out]


@register
class VpdqSignal(SignalType):
    """A video's frames. The value is the packed frames (45 bytes each, see `pack`); its hex form is
    that, hex-encoded. The distance of two videos is 100 minus the percentage of the first one's
    usable frames that have a frame of the second within FRAME_DISTANCE bits, so the default
    threshold (20) is Meta's 80% rule. Written as Meta's vPDQ text files (hashsets/vpdq.py)."""

    name = "vpdq"
    width = None
    hex_length = None
    metric = "vpdq"
    default_threshold = int(100 - QUERY_MATCH_PERCENT)
    index = "vpdq"
    lookup = False
    guess_by_length = False
    unpack = staticmethod(unpack)
    # (PDQ example seeds of the frames, one a second; packed frames)
    examples = (
        (
            (1, 2),
            "753c40a3ff3c40a3ff3c00abff3c00a3aa03bf145523ff14552b007eaad13b7c64000000000000000000000000"
            "aa93eadcab93eadcaa93aadcaa93aadc03831503aa9cff83aa95003b556a152b6401000000000000000000f03f",
        ),
        (
            (3, 4),
            "ea94f56baa94546baa94547baa94507baa94aa83aa83ff84aa97003f556aaabc64000000000000000000000000"
            "fa93fd3caa93d53caa93553caa93543eaac3afc400032ac3aa942ab7556caa936401000000000000000000f03f",
        ),
    )

    @classmethod
    def example_hash(cls, example_input: object) -> str:
        from vigil.signals.pdq import example_luma, pdq_from_luma

        frames = []
        for n, seed in enumerate(example_input):
            h = pdq_from_luma(example_luma(seed))
            frames.append(VpdqFrame(n, h.quality, h.value, float(n)))
        return pack(frames).hex()

    @classmethod
    def parse(cls, text: str) -> bytes:
        value = text.strip().lower()
        if not value or len(value) % (2 * PACKED):
            raise VigilError(
                f"vpdq must be packed frames, a multiple of {2 * PACKED} hex digits, "
                f"got {len(value)} characters"
            )
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise VigilError(f"vpdq must be hex digits 0-9a-f, got {text.strip()[:100]!r}") from None

    @classmethod
    def distance(cls, a: bytes, b: bytes) -> int:
        query, _ = match_percent(unpack(a), unpack(b))
        return round(100 - query)
