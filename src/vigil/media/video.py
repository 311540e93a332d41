"""vPDQ of a video: Meta's per-frame PDQ, computed from frames decoded by PyAV with Vigil's own PDQ.

Meta's `vpdq` package does the same through a C++ extension that must be compiled against FFmpeg's
development libraries; PyAV ships its FFmpeg in the wheel, so Vigil hashes videos with nothing but
`pip install`. The frame choice follows vpdq: every decoded frame is counted, one frame every
`seconds_per_hash` (every int(fps * seconds) frames, starting with frame 0) is converted to RGB, to
luma with PDQ's weights and hashed; its timestamp is frame number / frame rate. A test checks the
result against `vpdq` itself where that package is installed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from vigil.errors import VigilError
from vigil.signals.pdq import pdq_from_luma
from vigil.signals.vpdq import VpdqFrame

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class VideoError(VigilError):
    """The file claims to be a video but cannot be decoded."""


@dataclass(frozen=True)
class VideoHash:
    frames: tuple[VpdqFrame, ...]
    duration: float  # seconds


def _frame_rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return 25.0


def vpdq_hash(source: str | bytes, seconds_per_hash: float = 1.0) -> VideoHash:
    """The vPDQ frames of a video file (path) or of its bytes."""
    import av

    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(f"cannot open video: {exc}") from None
    frames: list[VpdqFrame] = []
    with container:
        if not container.streams.video:
            raise VideoError("no video stream in the file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = _frame_rate(stream)
        every = max(1, int(fps * seconds_per_hash)) if seconds_per_hash > 0 else 1
        number = 0
        try:
            for frame in container.decode(stream):
                if number % every == 0:
                    rgb = frame.to_ndarray(format="rgb24")
                    luma = rgb.astype(np.float32) @ _LUMA
                    pdq = pdq_from_luma(luma)
                    frames.append(VpdqFrame(number, pdq.quality, pdq.value, number / fps))
                number += 1
        except (av.FFmpegError, ValueError) as exc:
            if not frames:
                raise VideoError(f"cannot decode video: {exc}") from None
            # a truncated tail: the frames before it are still evidence
    if not frames:
        raise VideoError("video has no decodable frames")
    return VideoHash(tuple(frames), number / fps)
