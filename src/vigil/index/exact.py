"""Exact look-up of cryptographic digests: sorted, memory-mapped arrays, one segment per hash set.

A segment keeps, for each of md5, sha1 and sha256, the set's digests sorted (`<signal>.npy`, a void
array of 16/20/32-byte values, compared as bytes) and each one's category (`<signal>.cat.npy`,
uint16 positions in `segment.json`'s `categories`). A look-up is a binary search, so a database
needs no index on hash values (which made every import a random B-tree insert) and worker
processes can check known-good sets without a database.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

FORMAT = "vigil-exact"
VERSION = 1
WIDTHS = {"md5": 16, "sha1": 20, "sha256": 32}


class ExactBuilder:
    """Collects a set's digests while they stream past (bounded: the digests themselves)."""

    def __init__(self) -> None:
        self.values: dict[str, bytearray] = {s: bytearray() for s in WIDTHS}
        self.cats: dict[str, array] = {s: array("H") for s in WIDTHS}
        self.categories: dict[str | None, int] = {}

    def add(self, signal: str, value: bytes, category: str | None) -> None:
        if signal not in WIDTHS:
            return
        self.values[signal] += value
        code = self.categories.get(category)
        if code is None:
            code = self.categories[category] = len(self.categories)
        self.cats[signal].append(code)

    def add_batch(self, entries: list, default: str | None = None) -> None:
        """Entries (signal, value, category, ...) of one import batch, category falling back to
        `default`; done per signal with C-level joins rather than entry by entry."""
        for signal in WIDTHS:
            mine = [e for e in entries if e[0] == signal]
            if not mine:
                continue
            self.values[signal] += b"".join(e[1] for e in mine)
            codes = self.categories
            cats = self.cats[signal]
            for e in mine:
                label = e[2] or default
                code = codes.get(label)
                if code is None:
                    code = codes[label] = len(codes)
                cats.append(code)

    def add_all(self, rows: Iterable[tuple[str, bytes, str | None]]) -> None:
        for signal, value, category in rows:
            self.add(signal, value, category)

    def save(self, folder: Path) -> dict[str, int]:
        folder.mkdir(parents=True, exist_ok=True)
        counts = {}
        for signal, width in WIDTHS.items():
            raw = self.values[signal]
            if not raw:
                continue
            keys = np.frombuffer(raw, dtype=f"V{width}")
            order = np.argsort(keys, kind="stable")
            np.save(folder / f"{signal}.npy", keys[order])
            np.save(folder / f"{signal}.cat.npy", np.frombuffer(self.cats[signal], np.uint16)[order])
            counts[signal] = len(keys)
            del keys, order
            self.values[signal], self.cats[signal] = bytearray(), array("H")  # free as we go
        names = [None] * len(self.categories)
        for label, code in self.categories.items():
            names[code] = label
        with open(folder / "exact.json", "w") as fh:
            json.dump({"format": FORMAT, "version": VERSION, "counts": counts, "categories": names}, fh)
        return counts


class ExactSegment:
    def __init__(self, categories: list[str | None], arrays: dict[str, tuple[np.ndarray, np.ndarray]]):
        self.categories, self.arrays = categories, arrays

    @classmethod
    def open(cls, folder: Path) -> ExactSegment:
        meta = json.loads((folder / "exact.json").read_text())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"{folder}: not a {FORMAT} v{VERSION} segment")
        arrays = {
            s: (np.load(folder / f"{s}.npy", mmap_mode="r"), np.load(folder / f"{s}.cat.npy", mmap_mode="r"))
            for s in meta["counts"]
        }
        return cls(meta["categories"], arrays)

    def lookup(self, signal: str, values: list[bytes]) -> dict[bytes, str | None]:
        """For each of `values` the segment holds: its category (first one, if listed twice)."""
        if signal not in self.arrays or not values:
            return {}
        keys, cats = self.arrays[signal]
        probe = np.frombuffer(b"".join(values), dtype=keys.dtype)
        at = np.searchsorted(keys, probe)
        found = {}
        for value, i, p in zip(values, at.tolist(), probe, strict=True):
            if i < len(keys) and keys[i] == p:
                found[value] = self.categories[int(cats[i])]
        return found

    def contains_any(self, digests: dict[str, bytes]) -> bool:
        return any(self.lookup(s, [v]) for s, v in digests.items() if s in self.arrays)
