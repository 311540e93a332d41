"""Hash look-ups without files: `vigil match`, and later the API's hash check, share this."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.errors import VigilError
from vigil.index import search_dihedral
from vigil.signals import PdqSignal, get_signal
from vigil.store import Database
from vigil.store.hashsets import HashsetRepository

_BY_LENGTH = {32: ("md5",), 40: ("sha1",), 64: ("sha256", "pdq")}


def match_hashes(db: Database, queries: Sequence[tuple[str, str]], threshold: int) -> list[dict]:
    """For each (hex, where) query: every hash set that lists it, exactly or (PDQ) within threshold.

    Malformed input is an error naming where the query came from; nothing is looked up then.
    """
    parsed: list[tuple[str, dict[str, bytes]]] = []
    for text, where in queries:
        value = text.strip().lower()
        signals = _BY_LENGTH.get(len(value))
        if signals is None:
            raise VigilError(
                f"{where}: expected md5 (32), sha1 (40), sha256 or pdq (64 hex digits), got {text!r}"
            )
        try:
            parsed.append((value, {s: get_signal(s).parse(value) for s in signals}))
        except VigilError as exc:
            raise VigilError(f"{where}: {exc}") from None
    repo = HashsetRepository(db)
    results = [{"query": value, "matches": []} for value, _ in parsed]
    for signal in ("md5", "sha1", "sha256"):
        values = [v[signal] for _, v in parsed if signal in v]
        if not values:
            continue
        found = repo.exact_opinions(signal, values)
        for result, (_, v) in zip(results, parsed, strict=True):
            for opinion in found.get(v.get(signal), []):
                result["matches"].append(
                    {
                        "hashset": opinion.hashset,
                        "signal": signal,
                        "distance": 0,
                        "category": opinion.category,
                    }
                )
    pdq = [(i, v["pdq"]) for i, (_, v) in enumerate(parsed) if "pdq" in v]
    if pdq:
        index = repo.pdq_index()
        queries = [[value] for _, value in pdq]
        hits = search_dihedral(index, queries, threshold) if len(index) else [[] for _ in queries]
        opinions = repo.opinions_by_id({m.id for h in hits for m in h})
        for (i, _), matches in zip(pdq, hits, strict=True):
            for m in matches:
                o = opinions[m.id]
                entry = {
                    "hashset": o.hashset,
                    "signal": PdqSignal.name,
                    "distance": m.distance,
                    "category": o.category,
                }
                if entry not in results[i]["matches"]:
                    results[i]["matches"].append(entry)
    for r in results:
        r["matches"].sort(key=lambda m: (m["distance"], m["hashset"], m["signal"]))
    return results
