"""The one small interface every signal type (hash algorithm) implements, and the registry.

Borrowed from Meta's python-threatexchange and thorn's perception: metadata is declared as class
attributes, the `name` is a stable storage key, and every type ships example values that feed the
shared conformance test (tests/signals/test_conformance.py).

A signal type says everything the rest of Vigil needs to know about it, so no other module spells
out a name, a width or a format key:

- what a value is: `width` bytes (None: variable, as a video's vPDQ), `hex_length` hex digits;
- how it is computed: `new_digest()` (a hashlib-like object fed the file's bytes in the scan's one
  streaming pass) or, for perceptual hashes, from decoded pixels or frames (`example_hash`);
- how two values compare: `metric` ("equality" or "hamming"), `distance`, `default_threshold` and
  `max_threshold` (the largest threshold a look-up accepts);
- how it is indexed: `index` is "exact" (sorted digest segment), "mih" (256-bit PDQ multi-index) or
  "vpdq" (the frame index of videos);
- how it is written in each interchange format: `text_column` (the text-list header; the name),
  `vics_key` (a top-level VICS Media key such as "MD5", or None), `vics_names` (the `HashName`s of
  VICS `AlternativeHashes`, the first one written), `vics_upper` (hex written upper-case in VICS);
- whether a bare hex string of its length is taken for it (`guess_by_length`) and whether `vigil
  match` and `POST /v1/hash-check` look it up (`lookup`).
"""

from __future__ import annotations

from typing import ClassVar

from vigil.errors import VigilError


class SignalType:
    """A hash algorithm: how its values look, how two values compare, what counts as a match."""

    name: ClassVar[str]  # stable key, stored in databases and exchanged with other tools
    width: ClassVar[int | None]  # bytes per value; None: variable length (vPDQ)
    hex_length: ClassVar[int | None]  # length of the canonical lower-case hex form
    metric: ClassVar[str]  # "equality" or "hamming"
    default_threshold: ClassVar[int] = 0  # largest distance that still counts as a match
    max_threshold: ClassVar[int] = 0  # largest threshold a look-up accepts
    index: ClassVar[str] = "exact"  # "exact" | "mih" | "vpdq"
    lookup: ClassVar[bool] = True  # looked up by `vigil match` and POST /v1/hash-check
    guess_by_length: ClassVar[bool] = True  # a bare hex of hex_length is this signal (no hint needed)
    vics_key: ClassVar[str | None] = None  # top-level VICS Media key ("MD5"), if VICS has one
    vics_names: ClassVar[tuple[str, ...]] = ()  # VICS AlternativeHashes HashName spellings
    vics_upper: ClassVar[bool] = False  # VICS writes the hex upper-case
    # (input, expected hex) pairs; input is bytes for digests, a seed for perceptual hashes
    examples: ClassVar[tuple[tuple[object, str], ...]] = ()

    @classmethod
    def text_column(cls) -> str:
        return cls.name

    @classmethod
    def new_digest(cls):
        """A hashlib-like object (update, digest) computing the signal from a file's bytes, or None
        when the signal is computed from decoded pixels or frames."""
        return None

    @classmethod
    def example_hash(cls, example_input: object) -> str:
        """The hex of the signal computed on one of its `examples` inputs (conformance test)."""
        digest = cls.new_digest()
        if digest is None:
            raise NotImplementedError(f"{cls.name}: example_hash")
        digest.update(example_input)
        return digest.digest().hex()

    @classmethod
    def parse(cls, text: str) -> bytes:
        """Canonical bytes from a hex string; raises VigilError naming what was expected."""
        value = text.strip().lower()
        if len(value) != cls.hex_length:
            raise VigilError(f"{cls.name} must be {cls.hex_length} hex digits, got {len(value)} characters")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise VigilError(f"{cls.name} must be hex digits 0-9a-f, got {text.strip()!r}") from None

    @classmethod
    def format(cls, value: bytes) -> str:
        return value.hex()

    @classmethod
    def distance(cls, a: bytes, b: bytes) -> int:
        """0 for equal values; for hamming signals the number of differing bits."""
        if cls.metric == "hamming":
            return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
        return 0 if a == b else 8 * len(a or b)

    @classmethod
    def matches(cls, a: bytes, b: bytes, threshold: int | None = None) -> bool:
        limit = cls.default_threshold if threshold is None else threshold
        return cls.distance(a, b) <= limit


# -- the registry ---------------------------------------------------------------------------------
_REGISTRY: dict[str, type[SignalType]] = {}
_generation = [0]  # bumped by every change of the registry: what callers cache their plans by


def generation() -> int:
    """A number that changes whenever a signal is registered or unregistered."""
    return _generation[0]


def register(signal: type[SignalType]) -> type[SignalType]:
    """Make `signal` known to every part of Vigil (usable as a class decorator). A name is a storage
    key: registering another class under a taken name is an error."""
    taken = _REGISTRY.get(signal.name)
    if taken is not None and taken is not signal:
        raise ValueError(f"signal {signal.name!r} is already registered ({taken.__qualname__})")
    if signal.width is not None and signal.hex_length != 2 * signal.width:
        raise ValueError(f"signal {signal.name!r}: hex_length must be 2 * width")
    _REGISTRY[signal.name] = signal
    _generation[0] += 1
    return signal


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)
    _generation[0] += 1
