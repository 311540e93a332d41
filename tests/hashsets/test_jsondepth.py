"""The raw-bytes depth scan agrees with a plain reading of JSON's rules, across block boundaries."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.hashsets import jsondepth
from vigil.hashsets.jsondepth import max_depth


def reference(data: bytes, limit: int) -> tuple[int, int]:
    """JSON's rules, one byte at a time: a quote preceded by an odd number of backslashes is escaped;
    brackets count outside strings. (Valid JSON has backslashes only inside strings; elsewhere the
    parser refuses the file anyway.)"""
    depth = deepest = run = 0
    in_string = False
    for i, byte in enumerate(data):
        ch = chr(byte)
        if ch == '"' and run % 2 == 0:
            in_string = not in_string
        elif not in_string and ch in "[{":
            depth += 1
            if depth > limit:
                return depth, i
            deepest = max(deepest, depth)
        elif not in_string and ch in "]}":
            depth -= 1
        run = run + 1 if ch == "\\" else 0
    return deepest, -1


_PIECES = st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b"\\\\", b'\\"', b"a", b",", b":", b" "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=200).map(b"".join), st.integers(1, 17), st.integers(1, 12))
def test_equals_the_reference_whatever_the_block_size(data, block, limit):
    old = jsondepth.BLOCK
    jsondepth.BLOCK = block
    try:
        got = max_depth(io.BytesIO(data), limit)
    finally:
        jsondepth.BLOCK = old
    want = reference(data, limit)
    if want[1] >= 0:  # passed the limit: where it did is what matters
        assert got[1] == want[1]
    else:
        assert got == want


_JSON = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner, max_size=4)
    ),
    max_leaves=30,
)


def _nesting(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(_JSON, st.integers(1, 9))
def test_valid_json_depth_is_its_nesting(value, block):
    import json

    old = jsondepth.BLOCK
    jsondepth.BLOCK = block
    try:
        assert max_depth(io.BytesIO(json.dumps(value).encode()), 64) == (_nesting(value), -1)
    finally:
        jsondepth.BLOCK = old


def test_brackets_in_strings_do_not_count():
    data = b'{"a": "[[[[[[", "b": ["\\"[[[", {"c": []}]}'
    assert max_depth(io.BytesIO(data), 64) == (4, -1)
