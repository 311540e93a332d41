"""Hash look-ups without files: the one function behind `vigil match` and `POST /v1/hash-check`.

Both give the same answer for the same input: one result per hash, in the order given,

    {"hash": lower-case hex, "matches": [{"hashset", "signal", "distance", "category"}]}

(`vigil match --json` also writes `query`, the field's old name, with the same value). A hash is
looked up as every registered signal of its length (64 hex digits: SHA-256 exactly and PDQ within
`threshold`) unless `signal` names one; each hash set gives at most one match per signal and
category, at its smallest distance; matches are sorted by distance, set and signal. The threshold is
0 to the signal's `max_threshold` (PDQ: 0-63, default 31, from the signal registry).

Everything is answered from the memory-mapped set indexes (`vigil.store.setfolder.OpenSets`): no
database query per look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vigil.errors import VigilError
from vigil.signals import (
    SignalType,
    all_signals,
    describe_lengths,
    get_signal,
    lookup_lengths,
    lookup_signals,
)
from vigil.store.setfolder import OpenSets, open_current_sqlite

MAX_HASHES = 10_000
_PLAIN_PARSE = SignalType.parse.__func__


class HashInputError(VigilError):
    """Hashes that cannot be looked up; `problems` name each one ({"field", "message"})."""

    def __init__(self, problems: list[dict], title: str = "the hashes cannot be looked up"):
        self.problems, self.title = problems[:100], title
        first = problems[0]
        super().__init__(f"{first['field']}: {first['message']}")


def _patterns() -> tuple[str, str]:
    """Regular expressions for a hash the look-up takes, and for a signal name it looks up."""
    names = [s.name for s in all_signals() if s.lookup]
    return "|".join(f"^[0-9a-fA-F]{{{n}}}$" for n in lookup_lengths()), f"^({'|'.join(names)})$"


HEX_PATTERN, SIGNAL_PATTERN = _patterns()  # as registered when the API starts


def default_threshold() -> int:
    return max((s.default_threshold for s in all_signals() if s.lookup and s.metric == "hamming"), default=0)


def max_threshold() -> int:
    return max((s.max_threshold for s in all_signals() if s.lookup), default=0)


def check_threshold(threshold: int | None, name: str = "threshold") -> int:
    if threshold is None:
        return default_threshold()
    top = max_threshold()
    if not 0 <= threshold <= top:
        raise VigilError(f"{name} must be 0-{top}, got {threshold}")
    return threshold


def _field(where: Sequence[str] | None, i: int) -> str:
    return where[i] if where is not None else f"/hashes/{i}"


def parse(hashes: Sequence[str], signal: str | None = None, where: Sequence[str] | None = None):
    """[(lower-case hex, {signal name: bytes})] for each hash; HashInputError naming every bad one
    (by `where[i]`, else `/hashes/i`)."""
    fixed = get_signal(signal) if signal else None
    if fixed is not None and not fixed.lookup:
        raise VigilError(f"signal {fixed.name!r} cannot be looked up by hash")
    out, problems = [], []
    by_length: dict[int, tuple] = {}  # hex length -> (signals, are they all plain hex?)
    for i, text in enumerate(hashes):
        value = text.strip().lower()
        n = len(value)
        known = by_length.get(n)
        if known is None:
            signals = (fixed,) if fixed else lookup_signals(n)
            plain = all(getattr(s.parse, "__func__", None) is _PLAIN_PARSE for s in signals)
            known = by_length[n] = (signals, plain, tuple(s.name for s in signals))
        signals, plain, names = known
        if fixed and len(value) != fixed.hex_length:
            problems.append(
                {
                    "field": _field(where, i),
                    "message": f"{len(value)} hex digits is not a {fixed.name} hash ({fixed.name} has "
                    f"{fixed.hex_length}; see /signal)",
                }
            )
            continue
        if not signals:
            problems.append(
                {"field": _field(where, i), "message": f"expected {describe_lengths()}, got {text[:100]!r}"}
            )
            continue
        if plain:  # the common case: one hex decoding serves every signal of this length
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raw = b""
            if 2 * len(raw) == n:
                out.append((value, dict.fromkeys(names, raw)))
                continue
        try:
            out.append((value, {s.name: s.parse(value) for s in signals}))
        except VigilError as exc:
            problems.append({"field": _field(where, i), "message": str(exc)})
    if problems:
        title = f"the hashes are not all {fixed.name}" if fixed else "the hashes cannot be looked up"
        raise HashInputError(problems, title)
    return out


def lookup(
    sets: OpenSets,
    hashes: Sequence[str],
    signal: str | None = None,
    threshold: int | None = None,
    where: Sequence[str] | None = None,
) -> list[dict]:
    """Look `hashes` up in the open set indexes (see the module's docstring for the answer)."""
    return answer(sets, parse(hashes, signal, where), check_threshold(threshold))


def answer(sets: OpenSets, parsed: list[tuple[str, dict[str, bytes]]], threshold: int) -> list[dict]:
    """`lookup` on hashes already parsed (`parse`) and a checked threshold."""
    found: dict[tuple[str, bytes], list[dict]] = {}
    wanted: dict[str, set[bytes]] = {}
    for _, values in parsed:
        for name, value in values.items():
            wanted.setdefault(name, set()).add(value)
    for name, values in wanted.items():
        sig = get_signal(name)
        ordered = sorted(values)
        if sig.index == "exact":
            for value, opinions in sets.exact(name, ordered).items():
                found[(name, value)] = [
                    {"hashset": h, "signal": name, "distance": 0, "category": c} for h, c in opinions
                ]
        elif sig.index == "mih":
            hits = sets.near(name, [[v] for v in ordered], min(threshold, sig.max_threshold))
            for value, row in zip(ordered, hits, strict=True):
                if row:
                    found[(name, value)] = [
                        {"hashset": h, "signal": name, "distance": d, "category": c} for h, d, c in row
                    ]
    results = []
    for text, values in parsed:
        matches = [{**m} for name, value in values.items() for m in found.get((name, value), ())]
        if len(matches) > 1:
            matches.sort(key=lambda m: (m["distance"], m["hashset"], m["signal"], m["category"] or ""))
        results.append({"hash": text, "matches": matches})
    return results


def open_sets(target: str | None, index_dir: str | None = None) -> OpenSets:
    """The set indexes of database `target` (path or URL; None: the default), for reading. An SQLite
    database whose index folder is current is read without SQLAlchemy (one small query, then the
    memory-mapped folder); otherwise the database is opened (never created) and the index synced."""
    from vigil.store.db import default_db_path

    target = target or default_db_path()
    if "://" not in target:
        path = Path(target).expanduser()
        if path.is_file():
            sets = open_current_sqlite(path)
            if sets is not None:
                return sets
    from vigil.store import open_database
    from vigil.store.setindex import SetIndexStore

    return SetIndexStore(open_database(target, create=False, index_dir=index_dir)).open_sets()


def match_hashes(
    target: str | None,
    queries: Sequence[tuple[str, str]],
    threshold: int | None,
    signal: str | None = None,
    index_dir: str | None = None,
) -> list[dict]:
    """`vigil match`: each (hex, where it came from) looked up in database `target`. Malformed input
    is an error naming where the query came from; nothing is opened or looked up then."""
    threshold = check_threshold(threshold, "--threshold")
    parsed = parse([q for q, _ in queries], signal, [w for _, w in queries])
    return answer(open_sets(target, index_dir), parsed, threshold)
