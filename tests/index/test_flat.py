from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.index import FlatPdqIndex

hashes = st.binary(min_size=32, max_size=32)


def flip(value: bytes, bits: list[int]) -> bytes:
    n = int.from_bytes(value, "big")
    for b in set(bits):
        n ^= 1 << b
    return n.to_bytes(32, "big")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(hashes, max_size=40),
    st.lists(st.tuples(st.integers(0, 39), st.lists(st.integers(0, 255), max_size=40)), max_size=10),
    st.integers(0, 63),
)
def test_search_equals_brute_force(indexed, perturb, threshold):
    indexed = indexed + indexed[:3]  # duplicates must each be returned
    queries = [flip(indexed[i % len(indexed)], bits) for i, bits in perturb] if indexed else []
    queries.append(b"\x00" * 32)
    index = FlatPdqIndex(indexed, [100 + i for i in range(len(indexed))])
    assert len(index) == len(indexed)
    for query, hits in zip(queries, index.search(queries, threshold), strict=True):
        expected = sorted(
            (100 + i, d)
            for i, h in enumerate(indexed)
            if (d := (int.from_bytes(h, "big") ^ int.from_bytes(query, "big")).bit_count()) <= threshold
        )
        assert sorted((h.id, h.distance) for h in hits) == expected


def test_exactly_at_threshold_is_a_match():
    base = bytes(32)
    index = FlatPdqIndex([flip(base, list(range(31))), flip(base, list(range(32)))])
    assert [(h.id, h.distance) for h in index.search([base], 31)[0]] == [(0, 31)]


def test_empty_index():
    assert FlatPdqIndex().search([bytes(32)], 31) == [[]]
