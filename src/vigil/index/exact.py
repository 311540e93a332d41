"""Exact look-up of cryptographic digests: sorted, memory-mapped arrays, one segment per hash set.

A segment keeps, for each signal the registry indexes as "exact" (md5, sha1, sha256, ...), the set's
digests sorted (`<signal>.npy`, a void array of `width`-byte values, compared as bytes) and each
one's category (`<signal>.cat.npy`, uint16 positions in `segment.json`'s `categories`). A look-up
is a binary search, so a database needs no index on hash values (which made every import a random
B-tree insert) and worker processes can check known-good sets without a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from vigil.signals import indexed_by

FORMAT = "vigil-exact"
VERSION = 1


def exact_widths() -> dict[str, int]:
    """Bytes per value of each signal kept in exact segments, from the signal registry."""
    return {s.name: s.width for s in indexed_by("exact")}


class ExactBuilder:
    """Collects a set's digests while they stream past, in bounded memory: each digest with its
    2-byte category code, packed in one buffer per signal and sorted in place at the end."""

    CHUNK = 1 << 20  # rows copied at a time into the output files

    def __init__(self) -> None:
        self.widths = exact_widths()
        self.records: dict[str, bytearray] = {s: bytearray() for s in self.widths}
        self.categories: dict[str | None, bytes] = {}  # label -> its 2-byte code

    def _code(self, label: str | None) -> bytes:
        code = self.categories.get(label)
        if code is None:
            code = self.categories[label] = len(self.categories).to_bytes(2, "little")
        return code

    def add(self, signal: str, value: bytes, category: str | None) -> None:
        if signal in self.widths:
            self.records[signal] += value + self._code(category)

    def add_batch(self, entries: list, default: str | None = None) -> None:
        """Entries (signal, value, category, ...) of one import batch, category falling back to
        `default`; one C-level join per signal."""
        code = self._code
        for signal in self.widths:
            mine = [e for e in entries if e[0] == signal]
            if mine:
                self.records[signal] += b"".join([e[1] + code(e[2] or default) for e in mine])

    def add_block(self, signal: str, values: bytes, category: str | None) -> None:
        """Many values of one signal and category, concatenated."""
        if signal not in self.widths or not values:
            return
        width = self.widths[signal]
        rows = np.empty((len(values) // width, width + 2), np.uint8)
        rows[:, :width] = np.frombuffer(values, np.uint8).reshape(-1, width)
        rows[:, width:] = np.frombuffer(self._code(category), np.uint8)
        self.records[signal] += rows.tobytes()

    def add_all(self, rows: Iterable[tuple[str, bytes, str | None]]) -> None:
        for signal, value, category in rows:
            self.add(signal, value, category)

    def save(self, folder: Path) -> dict[str, int]:
        folder.mkdir(parents=True, exist_ok=True)
        counts = {}
        for signal, width in self.widths.items():
            raw = self.records[signal]
            if not raw:
                continue
            rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width + 2)
            rows.view(f"V{width + 2}").ravel().sort()  # in place: by digest, then category code
            n = len(rows)
            _write_npy(folder / f"{signal}.npy", f"V{width}", rows, slice(0, width), self.CHUNK)
            _write_npy(folder / f"{signal}.cat.npy", "<u2", rows, slice(width, width + 2), self.CHUNK)
            del rows
            counts[signal] = n
            self.records[signal] = bytearray()  # free as we go
        names = [None] * len(self.categories)
        for label, code in self.categories.items():
            names[int.from_bytes(code, "little")] = label
        with open(folder / "exact.json", "w") as fh:
            json.dump({"format": FORMAT, "version": VERSION, "counts": counts, "categories": names}, fh)
        return counts


def _write_npy(path: Path, dtype: str, rows: np.ndarray, columns: slice, chunk: int) -> None:
    """Write `rows[:, columns]` as a 1-D .npy of `dtype`, a chunk at a time (no full-size copy,
    and plain writes rather than a mapping, whose dirty pages would count as memory)."""
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": (len(rows),),
    }
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        for at in range(0, len(rows), chunk):
            fh.write(np.ascontiguousarray(rows[at : at + chunk, columns]).tobytes())


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
