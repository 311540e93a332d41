"""Signal types (hash algorithms): one module per algorithm in this package, each declaring its
types with `@register`. Every module here is imported on first use of the registry, so adding an
algorithm means adding one module; nothing else changes (tests/signals/test_registry.py shows it)."""

from __future__ import annotations

import importlib
import pkgutil

from vigil.errors import VigilError
from vigil.signals.base import _REGISTRY, SignalType, register, unregister

_loaded = False


def _load() -> dict[str, type[SignalType]]:
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            if module.name != "base" and not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return _REGISTRY


def all_signals() -> tuple[type[SignalType], ...]:
    """Every registered signal type, in registration order."""
    return tuple(_load().values())


def digest_signals() -> tuple[type[SignalType], ...]:
    """Signals computed from a file's bytes in the scan's one streaming pass (md5, sha1, sha256...)."""
    return tuple(s for s in all_signals() if s.new_digest() is not None)


def indexed_by(kind: str) -> tuple[type[SignalType], ...]:
    """Signals whose set index is of `kind`: "exact", "mih" or "vpdq"."""
    return tuple(s for s in all_signals() if s.index == kind)


def lookup_signals(hex_length: int) -> tuple[type[SignalType], ...]:
    """The signals a bare hex of this length is looked up as (64 digits: SHA-256 and PDQ)."""
    return tuple(s for s in all_signals() if s.lookup and s.hex_length == hex_length)


def lookup_lengths() -> list[int]:
    return sorted({s.hex_length for s in all_signals() if s.lookup and s.hex_length})


def get_signal(name: str) -> type[SignalType]:
    try:
        return _load()[name.lower()]
    except KeyError:
        raise VigilError(f"unknown signal {name!r}; expected one of {', '.join(_load())}") from None


def either(names) -> str:
    """'md5, sha1, sha256 or pdq'."""
    names = list(names)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def describe_lengths() -> str:
    """'md5 (32), sha1 (40), sha256 or pdq (64 hex digits)', from the registry."""
    by_length: dict[int, list[str]] = {}
    for s in all_signals():
        if s.lookup and s.hex_length:
            by_length.setdefault(s.hex_length, []).append(s.name)
    parts = [f"{' or '.join(names)} ({n}" for n, names in sorted(by_length.items())]
    return "), ".join(parts) + " hex digits)"


def guess_signal(hex_value: str, hint: str | None = None) -> type[SignalType]:
    """The signal a bare hex string belongs to: by `hint`, else by length.

    64 hex digits are either SHA-256 or PDQ; without a hint they are taken as SHA-256, the
    cryptographic reading (PDQ says `guess_by_length = False`), because a wrong PDQ guess would
    produce near matches from noise.
    """
    if hint:
        return get_signal(hint)
    n = len(hex_value.strip())
    for s in all_signals():
        if s.guess_by_length and s.hex_length == n:
            return s
    raise VigilError(f"a hash of {n} characters is none of {describe_lengths()}")


def __getattr__(name: str):
    if name == "SIGNALS":  # the registry as a dict: name -> signal type
        return _load()
    if name == "PdqSignal":
        from vigil.signals.pdq import PdqSignal

        return PdqSignal
    raise AttributeError(name)


__all__ = [
    "SIGNALS",
    "SignalType",
    "PdqSignal",
    "all_signals",
    "describe_lengths",
    "digest_signals",
    "get_signal",
    "guess_signal",
    "indexed_by",
    "lookup_lengths",
    "lookup_signals",
    "register",
    "unregister",
]
