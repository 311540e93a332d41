"""How deeply a JSON file nests, measured on its raw bytes before any parser sees it.

A streaming parser handed `[[[[…` 100,000 levels deep builds a path string per level for every event
(ijson's prefixes): memory grows with the square of the depth, and a 200 KB file exhausted 24 GB. A
hash list nests about six levels deep, so anything past `MAX_DEPTH` is refused before parsing.

The scan is vectorised with numpy, a block at a time, over the quotes and brackets only, so it costs
a fraction of the parse: brackets count only outside strings; a quote is a string delimiter unless an
odd number of backslashes precede it; both facts carry over from one block to the next.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

MAX_DEPTH = 64
BLOCK = 256 * 1024  # small: the scan adds well under a megabyte to a streaming read

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_DELTA = np.zeros(256, dtype=np.int64)
_DELTA[[ord("["), ord("{")]] = 1
_DELTA[[ord("]"), ord("}")]] = -1
_INTERESTING = np.zeros(256, dtype=bool)
_INTERESTING[[_QUOTE, ord("["), ord("{"), ord("]"), ord("}")]] = True


def _escaped(block: bytes, quotes: np.ndarray, carried: int) -> np.ndarray:
    """Which of the quotes at `quotes` are escaped (an odd run of backslashes before them). Quotes
    after a backslash are rare in real files, so the runs are counted for those only."""
    escaped = np.zeros(quotes.size, dtype=bool)
    data = np.frombuffer(block, dtype=np.uint8)
    before = np.flatnonzero((quotes == 0) | (data[np.maximum(quotes - 1, 0)] == _BACKSLASH))
    for k in before:
        p = int(quotes[k])
        start = p
        while start > 0 and block[start - 1] == _BACKSLASH:
            start -= 1
        run = p - start + (carried if start == 0 else 0)
        escaped[k] = run % 2 == 1
    return escaped


def max_depth(fh: BinaryIO, limit: int = MAX_DEPTH) -> tuple[int, int]:
    """(deepest nesting seen, byte offset where it first passed `limit`, or -1). Stops reading as soon
    as `limit` is passed. Reads `fh` from where it is; the caller rewinds."""
    depth = deepest = 0
    in_string = False
    backslashes = 0  # the run of backslashes that ended the previous block
    offset = 0
    while block := fh.read(BLOCK):
        data = np.frombuffer(block, dtype=np.uint8)
        at = np.flatnonzero(_INTERESTING[data])  # quotes and brackets only: a small part of the bytes
        kinds = data[at]
        is_quote = kinds == _QUOTE
        delimiter = is_quote.copy()
        delimiter[is_quote] = ~_escaped(block, at[is_quote], backslashes)
        toggles = np.cumsum(delimiter) + (1 if in_string else 0)
        steps = np.where((toggles % 2 == 0) & ~delimiter, _DELTA[kinds], 0)
        levels = depth + np.cumsum(steps)
        if levels.size:
            top = int(levels.max())
            if top > limit:
                return top, offset + int(at[np.argmax(levels > limit)])
            deepest = max(deepest, top)
            depth = int(levels[-1])
            in_string = bool(toggles[-1] % 2)
        trailing = len(block) - len(block.rstrip(b"\\"))
        backslashes = trailing + (backslashes if trailing == len(block) else 0)
        offset += len(block)
    return deepest, -1
