"""Cryptographic digests (md5, sha1, sha256), computed together in one streaming pass.

Evidence files can be many gigabytes; reading each once, in fixed-size chunks, keeps memory bounded
and the disk read single. hashlib releases the GIL on large updates, so threads could overlap them,
but a scan already runs one worker process per core.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from vigil.signals.base import SignalType, generation, register

CHUNK = 1 << 20


class CryptoSignal(SignalType):
    metric = "equality"
    default_threshold = 0
    index = "exact"
    hashlib_name: ClassVar[str]

    @classmethod
    def new_digest(cls):
        return hashlib.new(cls.hashlib_name)

    @classmethod
    def compute(cls, data: bytes) -> bytes:
        return getattr(hashlib, cls.hashlib_name)(data).digest()  # hashlib.md5 etc.: no name look-up


@register
class Md5Signal(CryptoSignal):
    name = "md5"
    width = 16
    hex_length = 32
    hashlib_name = "md5"
    vics_key = "MD5"
    vics_names = ("MD5",)
    vics_upper = True
    examples = ((b"", "d41d8cd98f00b204e9800998ecf8427e"), (b"abc", "900150983cd24fb0d6963f7d28e17f72"))


@register
class Sha1Signal(CryptoSignal):
    name = "sha1"
    width = 20
    hex_length = 40
    hashlib_name = "sha1"
    vics_key = "SHA1"
    vics_names = ("SHA1", "SHA-1")
    vics_upper = True
    examples = (
        (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    )


@register
class Sha256Signal(CryptoSignal):
    name = "sha256"
    width = 32
    hex_length = 64
    hashlib_name = "sha256"
    vics_key = "SHA256"
    vics_names = ("SHA256", "SHA-256")
    examples = (
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    )


class MultiDigest:
    """Every registered signal computed from bytes (md5, sha1, sha256, ...) of one byte stream, fed
    once."""

    def __init__(self, signals: Iterable[type[SignalType]] | None = None):
        if signals is None:
            from vigil.signals import digest_signals

            signals = digest_signals()
        self._hashers = {s.name: s.new_digest() for s in signals}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for h in self._hashers.values():
            h.update(chunk)

    def digests(self) -> dict[str, bytes]:
        return {name: h.digest() for name, h in self._hashers.items()}


_plan: tuple[int, tuple] = (-1, ())  # (registry generation, how each byte signal is computed)


def digest_bytes(data: bytes) -> dict[str, bytes]:
    """Every registered signal computed from `data`, held whole: one call per signal. Which signals
    those are is worked out once per state of the registry, not once per file (a scan's hot path:
    a million small files)."""
    global _plan
    if _plan[0] != generation():
        from vigil.signals import all_signals

        signals = all_signals()  # may register the signal modules: the generation after it
        _plan = (generation(), tuple((s.name, _computer(s)) for s in signals if s.new_digest() is not None))
    return {name: compute(data).digest() for name, compute in _plan[1]}


def _computer(signal):
    """A function of the bytes that returns an object with `.digest()`: hashlib's own constructor
    for md5, sha1, sha256 (no Python frame between)."""
    if issubclass(signal, CryptoSignal):
        return getattr(hashlib, signal.hashlib_name)

    def compute(data: bytes):
        digest = signal.new_digest()
        digest.update(data)
        return digest

    return compute


def digest_stream(stream: BinaryIO, chunk: int = CHUNK) -> tuple[dict[str, bytes], int]:
    """Digests and size of everything left in `stream`, read in `chunk`-byte pieces."""
    m = MultiDigest()
    while block := stream.read(chunk):
        m.update(block)
    return m.digests(), m.size
