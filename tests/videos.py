"""Generated benign test videos (moving gradients), written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from vigil.demo import picture


def scene(second: int, size: tuple[int, int]) -> np.ndarray:
    """An RGB picture that changes every second of the video (a new generated scene), drawn at
    320x240 and scaled to `size`, so a copy at another size shows the same picture."""
    return np.asarray(picture(second, (320, 240)).convert("RGB").resize(size))


def write_video(
    path: Path,
    seconds: range,
    fps: int = 10,
    codec: str = "libx264",
    size: tuple[int, int] = (320, 240),
    container_format: str | None = None,
) -> Path:
    out = av.open(str(path), "w", format=container_format)
    stream = out.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    for second in seconds:
        still = scene(second, size)
        for i in range(fps):
            moving = np.roll(still, i * 2, axis=1)  # a slow pan inside each second
            for packet in stream.encode(av.VideoFrame.from_ndarray(moving, format="rgb24")):
                out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path
