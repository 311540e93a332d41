"""Project VIC / VICS JSON (OData) hash sets, v1 (`odata.metadata`) and v2 (`@odata.context`).

Streams `#Media` exports (`value` is a list of media) and `#Cases` exports (`value` is a list of
cases, each with a `Media` list) with ijson, so a file of millions of media is read in bounded memory.
Each media gives one entry per hash it carries: the keys and `AlternativeHashes` names the signal
registry declares (`vics_key`, `vics_names`: `MD5`, `SHA1`, and `HashName` MD5, SHA1, SHA256 or
PDQ). PhotoDNA is proprietary and skipped. Booleans written as
strings and a missing `Category` (uncategorised) are accepted, as real exports contain both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ijson

from vigil.classify import vics_category
from vigil.errors import InputFormatError, VigilError
from vigil.hashsets.entry import Entry
from vigil.hashsets.jsondepth import MAX_DEPTH, max_depth
from vigil.signals import all_signals, get_signal

_META_KEYS = ("@odata.context", "odata.metadata")


def _vics_names() -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """From the registry: (top-level Media key, signal) pairs ("MD5", "md5"), and lower-cased
    AlternativeHashes HashName -> signal ("sha-256" -> "sha256")."""
    signals = all_signals()
    keys = tuple((s.vics_key, s.name) for s in signals if s.vics_key)
    alt = {n.lower(): s.name for s in signals for n in s.vics_names}
    return keys, alt


def _kind(path: Path, source: str) -> str:
    """'Media' or 'Cases', from the metadata URL; a clear error for any other JSON, and for a `value`
    that is not a list (an object there would otherwise import nothing, silently)."""
    kind = None
    with open(path, "rb") as fh:
        _, too_deep = max_depth(fh)
        if too_deep >= 0:  # before any parser: its memory grows with the square of the depth
            raise InputFormatError(
                source, f"byte {too_deep}", f"JSON nested more than {MAX_DEPTH} levels (a hash list nests 6)"
            )
        fh.seek(0)
        try:
            for prefix, event, value in ijson.parse(fh):
                if prefix in _META_KEYS and event == "string":
                    tail = value.rsplit("#", 1)[-1]
                    if tail not in ("Media", "Cases"):
                        raise InputFormatError(
                            source, prefix, f"expected a '#Media' or '#Cases' metadata URL, got {value!r}"
                        )
                    kind = tail
                elif prefix == "value" and event not in ("start_array", "map_key"):
                    what = {"start_map": "an object", "null": "null"}.get(event, f"a {event}")
                    raise InputFormatError(source, "value", f"expected a list of media, got {what}")
                if prefix == "value" and event == "start_array":
                    break
        except ijson.JSONError as exc:
            raise InputFormatError(source, None, f"invalid JSON: {exc}") from None
    if kind is None:
        raise InputFormatError(
            source, None, "not a VICS file: no '@odata.context' or 'odata.metadata' key before 'value'"
        )
    return kind


def read_vics(path: Path, scheme: str = "us") -> Iterator[Entry]:
    source = str(path)
    try:
        kind = _kind(path, source)
    except OSError as exc:
        raise VigilError(f"{source}: cannot read: {exc.strerror}") from None
    prefix, where = (
        ("value.item", "value[{}]") if kind == "Media" else ("value.item.Media.item", "value[].Media[{}]")
    )
    names = _vics_names()
    with open(path, "rb") as fh:
        index = -1
        try:
            for index, media in enumerate(ijson.items(fh, prefix, use_float=True)):
                yield from _media_entries(media, source, index, where, scheme, names)
        except ijson.JSONError as exc:
            raise InputFormatError(source, where.format(index + 1), f"invalid JSON: {exc}") from None


def _hash(signal: str, value: object, source: str, where: str) -> bytes:
    if not isinstance(value, str):
        raise InputFormatError(source, where, f"expected a {signal} hex string, got {value!r}")
    try:
        return get_signal(signal).parse(value)
    except VigilError as exc:
        raise InputFormatError(source, where, str(exc)) from None


def _segments(media: dict, source: str, where: str) -> str | None:
    """A video's `Segments` (index, start, end, category), kept as JSON for export."""
    segments = media.get("Segments")
    if segments in (None, []):
        return None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise InputFormatError(source, f"{where}.Segments", "expected a list of segment objects")
    return json.dumps({"Segments": segments}, sort_keys=True)


_categories: dict[tuple, str] = {}


def _value(signal: str, text: object) -> bytes | None:
    """The common case, fast: a hex string of the right length. None sends it to `_hash` for the error."""
    width = get_signal(signal).width
    if type(text) is str and len(text) == 2 * width:
        try:
            value = bytes.fromhex(text)
        except ValueError:
            return None
        if len(value) == width:  # fromhex skips spaces; a spaced string came out short
            return value
    return None


def _category(media: dict, scheme: str, source: str, where: str) -> str:
    raw = media.get("Category")
    key = (raw, scheme)
    try:
        return _categories[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable Category (a list...) is an error below
        key = None
    try:
        label = vics_category(raw, scheme)
    except VigilError as exc:
        raise InputFormatError(source, f"{where}.Category", str(exc)) from None
    if key is not None:
        _categories[key] = label
    return label


def _media_entries(
    media: object, source: str, index: int, where_fmt: str, scheme: str, names
) -> Iterator[Entry]:
    keys, alt_names = names
    at = where_fmt.format(index)
    if not isinstance(media, dict):
        raise InputFormatError(source, at, f"expected a Media object, got {type(media).__name__}")
    category = _category(media, scheme, source, at)
    ref = media.get("MediaID")
    ref = str(ref) if ref not in (None, "") else at
    series = media.get("Series") or None
    comment = media.get("Comments") or None
    extra = _segments(media, source, at) if "Segments" in media else None
    found = False
    seen: set[tuple[str, bytes]] = set()
    for key, signal in keys:
        text = media.get(key)
        if text:
            value = _value(signal, text) or _hash(signal, text, source, f"{at}.{key}")
            seen.add((signal, value))
            found = True
            yield Entry(signal, value, category, series, comment, ref, extra)
    alternatives = media.get("AlternativeHashes") or []
    if not isinstance(alternatives, list):
        raise InputFormatError(source, f"{at}.AlternativeHashes", "expected a list")
    for n, alt in enumerate(alternatives):
        if not isinstance(alt, dict):
            raise InputFormatError(
                source, f"{at}.AlternativeHashes[{n}]", "expected an object with HashName and HashValue"
            )
        signal = alt_names.get(str(alt.get("HashName", "")).strip().lower())
        if signal is None:  # PhotoDNA and unknown algorithms: not ours to compute or match
            continue
        text = alt.get("HashValue")
        value = _value(signal, text) or _hash(signal, text, source, f"{at}.AlternativeHashes[{n}].HashValue")
        if (signal, value) not in seen:
            seen.add((signal, value))
            found = True
            yield Entry(signal, value, category, series, comment, ref, extra)
    if not found and not alternatives:
        raise InputFormatError(source, at, "media has no MD5, SHA1 or AlternativeHashes")
