"""Known-good elimination in a worker process: is this file's digest on a known set (NSRL)?

The digests of all known sets are sorted per signal and memory-mapped (`<signal>.npy`, a void array
of 16/20/32-byte values, with `<signal>.sets.npy`, uint16 positions in the manifest's `names`), so
every worker shares one copy and a lookup is a binary search: no database in the workers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FORMAT = "vigil-known-index"
VERSION = 1
SIGNALS = ("md5", "sha1", "sha256")


class KnownDigests:
    def __init__(self, names: list[str], arrays: dict[str, tuple[np.ndarray, np.ndarray]]):
        self.names, self.arrays = names, arrays

    @classmethod
    def open(cls, folder: Path) -> KnownDigests:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ValueError(f"{folder}: not a {FORMAT} v{VERSION} folder")
        arrays = {}
        for signal in SIGNALS:
            path = folder / f"{signal}.npy"
            if path.exists():
                arrays[signal] = (np.load(path, mmap_mode="r"), np.load(folder / f"{signal}.sets.npy"))
        return cls(manifest["names"], arrays)

    @staticmethod
    def write(folder: Path, names: list[str], values: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """`values[signal]` = ((N, width) uint8 digests, (N,) set positions), in any order."""
        for signal, (digests, sets) in values.items():
            if not len(digests):
                continue
            keys = np.ascontiguousarray(digests).view(f"V{digests.shape[1]}").ravel()
            order = np.argsort(keys, kind="stable")
            np.save(folder / f"{signal}.npy", keys[order])
            np.save(folder / f"{signal}.sets.npy", sets[order].astype(np.uint16))

    def lookup(self, digests: dict[str, bytes]) -> str | None:
        """The name of a known set listing any of these digests, or None."""
        for signal, (keys, sets) in self.arrays.items():
            value = digests.get(signal)
            if value is None:
                continue
            probe = np.frombuffer(value, dtype=keys.dtype)
            at = int(np.searchsorted(keys, probe)[0])
            if at < len(keys) and keys[at] == probe[0]:
                return self.names[int(sets[at])]
        return None
