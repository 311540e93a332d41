from __future__ import annotations

import hashlib
import io

from hypothesis import given
from hypothesis import strategies as st

from vigil.signals.crypto import digest_bytes, digest_stream


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_streaming_digests_equal_one_shot_hashlib(data, chunk):
    digests, size = digest_stream(io.BytesIO(data), chunk=chunk)
    assert size == len(data)
    assert digests == {
        "md5": hashlib.md5(data).digest(),
        "sha1": hashlib.sha1(data).digest(),
        "sha256": hashlib.sha256(data).digest(),
    }
    assert digest_bytes(data) == digests


def test_large_stream_reads_in_bounded_chunks():
    class Counting(io.RawIOBase):
        """A 50 MB stream of zeros that remembers the largest read it was asked for."""

        def __init__(self, total):
            self.left, self.largest = total, 0

        def read(self, n=-1):
            self.largest = max(self.largest, n)
            n = min(n, self.left)
            self.left -= n
            return bytes(n)

    stream = Counting(50 << 20)
    digests, size = digest_stream(stream)
    assert size == 50 << 20
    assert stream.largest <= 1 << 20
    assert digests["md5"].hex() == hashlib.md5(bytes(50 << 20)).hexdigest()
