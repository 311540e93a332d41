"""Video matching at scale: every usable frame of every known video in one PDQ multi-index.

A scanned video's usable frames are searched in one batched call; hits are grouped by known video,
and a known video matches when >= 80% of the scanned video's usable frames have a frame of it within
31 bits (Meta's vpdq rule, `vigil.signals.vpdq.match_percent` is the brute-force reference). The
folder holds the frame segment (`frames/`) and, per frame row, the entry id of its video.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vigil.index.mih import Segment
from vigil.signals.vpdq import FRAME_DISTANCE, QUERY_MATCH_PERCENT, VpdqFrame, usable


class VideoMatch(NamedTuple):
    entry_id: int
    query_percent: float  # of the scanned video's usable frames, how many match this known video
    target_percent: float  # of the known video's usable frames, how many were matched
    matched: frozenset[bytes]  # the scanned video's frame hashes that matched
    distance: int  # median distance of the matched frames to their closest known frame


class VpdqIndex:
    def __init__(self, frames: Segment, frame_entry: np.ndarray):
        self.frames, self.frame_entry = frames, frame_entry
        ids, counts = np.unique(frame_entry, return_counts=True)
        self.entry_frames = dict(zip(ids.tolist(), counts.tolist(), strict=True))

    def __len__(self) -> int:
        return len(self.entry_frames)

    @classmethod
    def build(cls, videos: Iterable[tuple[int, Sequence[VpdqFrame]]]) -> VpdqIndex:
        codes, owners = [], []
        for entry_id, frames in videos:
            for f in usable(frames):
                codes.append(f.pdq)
                owners.append(entry_id)
        blob = (
            np.frombuffer(b"".join(codes), np.uint8).reshape(-1, 32) if codes else np.zeros((0, 32), np.uint8)
        )
        segment = Segment.build(blob, np.arange(len(owners), dtype=np.uint32))
        return cls(segment, np.asarray(owners, dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.frames.save(folder / "frames")
        np.save(folder / "frame_entry.npy", self.frame_entry)

    @classmethod
    def open(cls, folder: Path) -> VpdqIndex:
        return cls(Segment.open(folder / "frames"), np.load(folder / "frame_entry.npy"))

    def match(self, query: Sequence[VpdqFrame], min_percent: float = QUERY_MATCH_PERCENT) -> list[VideoMatch]:
        """Known videos that `query` matches, best first."""
        q = usable(query)
        if not q or not len(self.frames):
            return []
        qi, pos, dist = self.frames.search_raw(b"".join(f.pdq for f in q), FRAME_DISTANCE)
        owners = self.frame_entry[self.frames.ids[pos]]
        per_entry: dict[int, tuple[dict[int, int], set[int]]] = {}
        for query_at, row, owner, d in zip(
            qi.tolist(), pos.tolist(), owners.tolist(), dist.tolist(), strict=True
        ):
            best, rows = per_entry.setdefault(owner, ({}, set()))
            best[query_at] = min(d, best.get(query_at, 256))
            rows.add(row)
        out = []
        for owner, (best, rows) in per_entry.items():
            query_percent = 100.0 * len(best) / len(q)
            if query_percent < min_percent:
                continue
            target_percent = 100.0 * len(rows) / self.entry_frames[owner]
            distance = int(np.median(list(best.values())))
            matched = frozenset(q[i].pdq for i in best)
            out.append(
                VideoMatch(owner, round(query_percent, 1), round(target_percent, 1), matched, distance)
            )
        return sorted(out, key=lambda m: (-m.query_percent, m.distance, m.entry_id))
