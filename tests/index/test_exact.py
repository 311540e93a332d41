"""Exact segments against a plain dict: every listed digest found with its category, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.index import ExactBuilder, ExactSegment
from vigil.index.exact import exact_widths

WIDTHS = exact_widths()

rows = st.lists(
    st.sampled_from(list(WIDTHS)).flatmap(
        lambda s: st.tuples(
            st.just(s),
            st.binary(min_size=WIDTHS[s], max_size=WIDTHS[s]),
            st.sampled_from([None, "csam", "comparison"]),
        )
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(rows, st.lists(st.binary(min_size=16, max_size=32), max_size=10))
def test_lookup_equals_a_dict(tmp_path_factory, entries, strangers):
    folder = tmp_path_factory.mktemp("exact")
    builder = ExactBuilder()
    builder.add_all(entries)
    builder.add("pdq", b"\x00" * 32, "csam")  # not an exact signal: ignored
    builder.save(folder)
    segment = ExactSegment.open(folder)
    for signal, width in WIDTHS.items():
        expected: dict[bytes, str | None] = {}
        for s, v, c in entries:
            if s == signal:
                expected.setdefault(v, c)
        queries = [v for s, v, _ in entries if s == signal] + [
            x[:width].ljust(width, b"\x01") for x in strangers
        ]
        got = segment.lookup(signal, queries)
        assert set(got) == {q for q in queries if q in expected}
        # a digest listed twice with different categories: one of its categories is reported
        for value, category in got.items():
            assert category in {c for s, v, c in entries if s == signal and v == value}
    assert segment.lookup("pdq", [b"\x00" * 32]) == {}
