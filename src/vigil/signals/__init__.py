"""Signal types (hash algorithms). Adding one means adding a module and registering it here."""

from __future__ import annotations

from vigil.errors import VigilError
from vigil.signals.base import SignalType
from vigil.signals.crypto import CRYPTO_SIGNALS, Md5Signal, Sha1Signal, Sha256Signal
from vigil.signals.pdq import PdqSignal

SIGNALS: dict[str, type[SignalType]] = {s.name: s for s in (*CRYPTO_SIGNALS, PdqSignal)}

_BY_LENGTH = {32: Md5Signal, 40: Sha1Signal}


def get_signal(name: str) -> type[SignalType]:
    try:
        return SIGNALS[name.lower()]
    except KeyError:
        raise VigilError(f"unknown signal {name!r}; expected one of {', '.join(SIGNALS)}") from None


def guess_signal(hex_value: str, hint: str | None = None) -> type[SignalType]:
    """The signal a bare hex string belongs to: by `hint`, else by length.

    64 hex digits are either SHA-256 or PDQ; without a hint they are taken as SHA-256, the
    cryptographic reading, because a wrong PDQ guess would produce near matches from noise.
    """
    if hint:
        return get_signal(hint)
    n = len(hex_value.strip())
    if n in _BY_LENGTH:
        return _BY_LENGTH[n]
    if n == 64:
        return Sha256Signal
    raise VigilError(
        f"a hash of {n} characters is none of md5 (32), sha1 (40), sha256 or pdq (64 hex digits)"
    )


__all__ = ["SIGNALS", "SignalType", "PdqSignal", "get_signal", "guess_signal"]
