"""In-memory exact index: fine for a case's own hashes or a small list; the store has an SQL one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class DictExactIndex:
    def __init__(self) -> None:
        self._ids: dict[tuple[str, bytes], list[int]] = defaultdict(list)

    def add(self, signal: str, value: bytes, id_: int) -> None:
        self._ids[(signal, value)].append(id_)

    def lookup(self, signal: str, values: Iterable[bytes]) -> dict[bytes, list[int]]:
        found = {}
        for value in values:
            ids = self._ids.get((signal, value))
            if ids:
                found[value] = list(ids)
        return found
