"""The multi-index search against brute force: every hash within the threshold, nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.index import FlatPdqIndex, MihPdqIndex, Segment, search_dihedral


def flip(value: bytes, bits) -> bytes:
    n = int.from_bytes(value, "big")
    for b in set(bits):
        n ^= 1 << int(b)
    return n.to_bytes(32, "big")


def brute(indexed, ids, query, threshold):
    q = int.from_bytes(query, "big")
    return sorted(
        (i, d)
        for i, h in zip(ids, indexed, strict=True)
        if (d := (int.from_bytes(h, "big") ^ q).bit_count()) <= threshold
    )


@st.composite
def index_and_queries(draw):
    base = draw(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=30))
    threshold = draw(st.sampled_from([0, 1, 15, 16, 31, 32, 47, 48, 63]))
    # near copies at exactly the threshold, just inside and just outside it, and exact duplicates
    derived = []
    for h in base[:8]:
        for k in {threshold, max(0, threshold - 1), threshold + 1}:
            derived.append(flip(h, draw(st.lists(st.integers(0, 255), min_size=k, max_size=k, unique=True))))
    indexed = base + derived + base[:3]
    queries = base[:5] + [flip(h, draw(st.lists(st.integers(0, 255), max_size=70))) for h in base[:5]]
    queries.append(draw(st.binary(min_size=32, max_size=32)))
    return indexed, queries, threshold


@settings(max_examples=80, deadline=None)
@given(index_and_queries())
def test_mih_equals_brute_force(case):
    indexed, queries, threshold = case
    ids = [1000 + i for i in range(len(indexed))]
    index = MihPdqIndex.build(indexed, ids)
    for query, hits in zip(queries, index.search(queries, threshold), strict=True):
        assert sorted((h.id, h.distance) for h in hits) == brute(indexed, ids, query, threshold)


@settings(max_examples=30, deadline=None)
@given(index_and_queries(), st.data())
def test_removing_and_readding_a_segment_equals_a_fresh_build(case, data):
    indexed, queries, threshold = case
    cut = data.draw(st.integers(0, len(indexed)))
    a = Segment.build(np.frombuffer(b"".join(indexed[:cut]), np.uint8), np.arange(cut))
    b = Segment.build(np.frombuffer(b"".join(indexed[cut:]), np.uint8), np.arange(cut, len(indexed)))
    fresh = MihPdqIndex.build(indexed, list(range(len(indexed))))
    together = MihPdqIndex([a, b])
    assert [sorted(h) for h in together.search(queries, threshold)] == [
        sorted(h) for h in fresh.search(queries, threshold)
    ]
    without_b = MihPdqIndex([a])  # the set withdrawn: its hashes are gone, the others stay
    for query, hits in zip(queries, without_b.search(queries, threshold), strict=True):
        assert sorted((h.id, h.distance) for h in hits) == brute(indexed[:cut], range(cut), query, threshold)
    readded = MihPdqIndex([b, a])
    assert [sorted(h) for h in readded.search(queries, threshold)] == [
        sorted(h) for h in fresh.search(queries, threshold)
    ]


def test_segment_round_trips_through_documented_npy_files(tmp_path):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (500, 32), dtype=np.uint8)
    Segment.build(codes, np.arange(500) * 7).save(tmp_path / "seg")
    assert sorted(p.name for p in (tmp_path / "seg").iterdir()) == [
        "codes.npy",
        "ids.npy",
        "offsets.npy",
        "perms.npy",
        "segment.json",
    ]
    assert json.loads((tmp_path / "seg" / "segment.json").read_text()) == {
        "format": "vigil-pdq-mih",
        "version": 1,
        "count": 500,
    }
    opened = Segment.open(tmp_path / "seg")
    assert isinstance(opened.codes, np.memmap)
    queries = [codes[3].tobytes(), flip(codes[9].tobytes(), range(20))]
    got = MihPdqIndex([opened]).search(queries, 31)
    assert [[(h.id, h.distance) for h in hits] for hits in got] == [[(21, 0)], [(63, 20)]]


def test_flat_and_mih_agree_on_a_large_random_set():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    queries = [flip(codes[i].tobytes(), rng.choice(256, 31, replace=False)) for i in range(0, 20_000, 400)]
    mih = MihPdqIndex.build(codes, np.arange(20_000))
    flat = FlatPdqIndex(codes)
    assert [sorted(h) for h in mih.search(queries, 31)] == [sorted(h) for h in flat.search(queries, 31)]
    assert all(len(h) >= 1 for h in mih.search(queries, 31))


def test_dihedral_search_takes_the_closest_variant():
    a, b = bytes(32), b"\xff" * 32
    index = MihPdqIndex.build([a, b], [1, 2])
    assert search_dihedral(index, [[flip(a, range(5)), flip(a, range(3))], [b]], 31) == [[(1, 3)], [(2, 0)]]


def test_threshold_limits():
    index = MihPdqIndex.build([bytes(32)], [1])
    with pytest.raises(ValueError):
        index.search([bytes(32)], 64)
    assert index.search([], 31) == []
    assert MihPdqIndex().search([bytes(32)], 31) == [[]]


def test_a_large_batch_searched_on_threads_gives_the_same_results(monkeypatch):
    import vigil.index.mih as mih

    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    segment = mih.Segment.build(codes, np.arange(5000, dtype=np.uint32))
    queries = codes[:300].copy()
    queries[::2, 3] ^= 0x0F
    blob = queries.tobytes()
    one = segment.search_raw(blob, 31)
    monkeypatch.setattr(mih, "PARALLEL_QUERIES", 50)
    monkeypatch.setattr(mih, "_cores", lambda: 4)
    sliced = segment.search_raw(blob, 31)

    def rows(found):
        return sorted(zip(*(a.tolist() for a in found), strict=True))

    assert rows(sliced) == rows(one) and len(one[0]) >= 300
