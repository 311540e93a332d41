"""One conformance test that every registered signal type passes (thorn's perception habit). It names
no signal: a new module in vigil/signals is tested here by shipping its `examples`."""

from __future__ import annotations

import pytest

from vigil.errors import VigilError
from vigil.signals import SIGNALS


@pytest.mark.parametrize("signal", SIGNALS.values(), ids=list(SIGNALS))
def test_signal_conformance(signal):
    assert signal.examples, "every signal type ships example values"
    assert signal.metric in ("equality", "hamming") or signal.index == "vpdq"
    assert signal.index in ("exact", "mih", "vpdq")
    assert 0 <= signal.default_threshold <= max(signal.max_threshold, signal.default_threshold)
    for example_input, expected in signal.examples:
        got = signal.example_hash(example_input)
        if signal.hex_length is not None:
            assert len(got) == signal.hex_length == 2 * signal.width
        # Meta calls a PDQ implementation correct within 10 bits of its reference; ours is exact here
        assert signal.distance(bytes.fromhex(got), bytes.fromhex(expected)) == 0, example_input
        # the string form round-trips, in either case
        assert signal.format(signal.parse(expected.upper())) == expected
        assert signal.distance(signal.parse(expected), signal.parse(expected)) == 0
        assert signal.matches(signal.parse(expected), signal.parse(expected))
    values = [signal.parse(e) for _, e in signal.examples]
    assert values[0] != values[1], "examples should differ, or the comparison is untested"
    assert signal.distance(values[0], values[1]) > signal.default_threshold
    assert not signal.matches(values[0], values[1])


@pytest.mark.parametrize("signal", SIGNALS.values(), ids=list(SIGNALS))
@pytest.mark.parametrize("bad", ["", "xyz", "0" * 31, "g" * 64, "0" * 65])
def test_signal_rejects_malformed_hex(signal, bad):
    if len(bad) == signal.hex_length and set(bad) <= set("0123456789abcdef"):
        pytest.skip("well-formed for this signal")
    with pytest.raises(VigilError, match=signal.name):
        signal.parse(bad)
