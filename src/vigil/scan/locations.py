"""Where an item is: a list of components, and the `path` string that shows them joined by `!`.

A file inside a container is `archive.zip!member/path`; a file inside a disk image `usb.dd!p1/x.jpg`;
a carved one `photo.jpg!exif-thumbnail.jpg`. Each component is a name as the evidence spells it —
which may itself hold `!`, `\\` or bytes that are not UTF-8 (a Linux name is any bytes but `/` and
NUL). So that every location reads back to exactly one file, a component is written with a small
reversible escape:

- in a component (the case JSON's `location` list): `\\` is `\\\\`, a byte that is not part of
  valid UTF-8 is `\\xHH` (HH is 80-ff), and NUL (a zip member's name can hold one) is `\\x00`;
  everything else is the name's own characters;
- in `path`, components are joined by `!` and a `!` inside a name is `\\!`.

So a name without `!`, `\\` or undecodable bytes reads the same in both, and old scripts that split
`path` on `!` keep working for them. `names()` and `split()` turn either form back into the exact
names (undecodable bytes as Python's surrogateescape code points, which `os.fsencode` turns back into
the original bytes).

A container may hold two members with the same name (a zip can, a tar appended to, a disk image's
deleted file beside a live one). The second and later ones get `\\#N` after the name, in both forms:
the Nth member of that exact name in the container's order (`e.zip!dup.jpg` is the first,
`e.zip!dup.jpg\\#2` the second). A name's own `\\` is always doubled, so `\\#` never comes from a
name. `parts()` gives (name, ordinal) pairs; the first of a name has ordinal 1 and no suffix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vigil.media.containers import SEPARATOR
from vigil.safetext import visible

_BACKSLASH = "\\"
_ORDINAL = "\\#"


def suffix(ordinal: int) -> str:
    """What follows a name that is the `ordinal`-th of that name in its container."""
    return f"{_ORDINAL}{ordinal}" if ordinal > 1 else ""


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:  # any other lone surrogate (not from a file system)
        return f"\\u{code:04x}"
    return ch


def component(name: str) -> str:
    """A name as a `location` component: `\\` doubled, undecodable bytes as `\\xHH`."""
    if _BACKSLASH in name:
        name = name.replace(_BACKSLASH, _BACKSLASH * 2)
    if "\0" in name:  # a zip member's name can hold NUL (a file name cannot): no database stores it
        name = name.replace("\0", "\\x00")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_char(ch) for ch in name)
    return name


def encodable(text: str) -> str:
    """Free text that may quote a name (an error message): undecodable bytes as `\\xHH`, so that it
    can be written as UTF-8; nothing else changes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_char(ch) for ch in text)
    return text


def segment(name: str) -> str:
    """A name as a segment of `path`: a component with `!` escaped too."""
    text = component(name)
    return text.replace(SEPARATOR, _BACKSLASH + SEPARATOR) if SEPARATOR in text else text


def join(parent: str, name: str, ordinal: int = 1) -> str:
    """The path of `name` (the `ordinal`-th of that name) inside the item at `parent`."""
    return f"{parent}{SEPARATOR}{segment(name)}{suffix(ordinal)}"


def _parse(text: str, stop: str | None) -> list[tuple[str, int]]:
    """Decode escapes into (name, ordinal) pairs; when `stop` is given, split on it where it is not
    escaped."""
    parts: list[tuple[str, int]] = []
    out: list[str] = []
    ordinal = 1
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == _BACKSLASH and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "#":
                j = i + 2
                while j < n and text[j].isdigit():
                    j += 1
                if j > i + 2 and (j == n or text[j] == stop):
                    ordinal = int(text[i + 2 : j])
                    i = j
                    continue
            if nxt == "x" and _is_hex(text[i + 2 : i + 4], 2):
                byte = int(text[i + 2 : i + 4], 16)
                out.append(chr(0xDC00 + byte) if byte >= 0x80 else chr(byte))
                i += 4
                continue
            if nxt == "u" and _is_hex(text[i + 2 : i + 6], 4):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(nxt)  # `\\`, `\!` (and, leniently, any other escaped character)
            i += 2
            continue
        if stop is not None and ch == stop:
            parts.append(("".join(out), ordinal))
            out, ordinal = [], 1
        else:
            out.append(ch)
        i += 1
    parts.append(("".join(out), ordinal))
    return parts


def _is_hex(text: str, width: int) -> bool:
    return len(text) == width and all(c in "0123456789abcdefABCDEF" for c in text)


def name_of(text: str) -> str:
    """The exact name a `location` component stands for."""
    return text if _BACKSLASH not in text else _parse(text, None)[0][0]


def parts(where: str | Sequence[str]) -> list[tuple[str, int]]:
    """(exact name, ordinal) of each component of a `path` string or a `location` list."""
    if isinstance(where, str):
        if _BACKSLASH not in where:
            return [(name, 1) for name in where.split(SEPARATOR)]
        return _parse(where, SEPARATOR)
    return [(c, 1) if _BACKSLASH not in c else _parse(c, None)[0] for c in where]


def split(path: str) -> list[str]:
    """The exact names of the components of `path` (ordinals left out: see parts())."""
    if _BACKSLASH not in path:
        return path.split(SEPARATOR)
    return [name for name, _ in _parse(path, SEPARATOR)]


def location(path: str) -> list[str]:
    """`path` as the case JSON's `location` list (escaped components, no `!` escaping)."""
    if _BACKSLASH not in path:
        return path.split(SEPARATOR)
    return [component(name) + suffix(ordinal) for name, ordinal in _parse(path, SEPARATOR)]


def names(where: str | Sequence[str]) -> list[str]:
    """The exact names of a location given as a `path` string or as a `location` list."""
    return [name for name, _ in parts(where)]


def path_of(names_: Sequence[str], ordinals: Sequence[int] = ()) -> str:
    """The `path` of a list of exact names (and, for duplicate names, their ordinals)."""
    ords = list(ordinals) + [1] * (len(names_) - len(ordinals))
    return SEPARATOR.join(segment(n) + suffix(o) for n, o in zip(names_, ords, strict=True))


def folder_and_name(path: str) -> tuple[str, str]:
    """(where, file name) of the item at `path`, as a file-list format wants them (VICS `FilePath`,
    `FileName`): `where` is the containers and folders it is in, in `path`'s escaped form
    (`a.zip!in/sub`); the name is the real last name (undecodable bytes as `\\xHH`, nothing else
    escaped). Use the `location` list for an unambiguous form."""
    pairs = parts(path)
    folder, _, name = pairs[-1][0].rpartition("/")
    chain = path_of([n for n, _ in pairs[:-1]], [o for _, o in pairs[:-1]])
    where = SEPARATOR.join(p for p in (chain, segment(folder) if folder else "") if p)
    return where, encodable(name)


def basename(path: str) -> str:
    """The exact file name of the last component (what a lone compressed file's member is named by)."""
    return split(path)[-1].rsplit("/", 1)[-1]


def shown(path: str) -> str:
    """`path` for a terminal or a log line: the same text, with controls, bidi overrides, odd spaces
    and undecodable bytes shown as backslash escapes (vigil.safetext.visible) so nothing acts on the
    terminal; a path of printable names is shown exactly as it is."""
    if path.isprintable():
        return path
    return SEPARATOR.join(segment_shown(n) + suffix(o) for n, o in parts(path))


def segment_shown(name: str) -> str:
    text = visible(name)
    return text.replace(SEPARATOR, _BACKSLASH + SEPARATOR) if SEPARATOR in text else text


_BREAK = re.compile(r"(?<=/)|(?<=[^\\]!)")


def fold(text: str, width: int) -> list[str]:
    """`text` (a shown path) in lines of at most `width`, broken after a `/` or a `!` — between path
    components, never inside a name unless one name alone is longer than a line."""
    width = max(width, 8)
    lines: list[str] = []
    line = ""
    for part in _BREAK.split(text):
        if len(line) + len(part) <= width:
            line += part
            continue
        if line:
            lines.append(line)
        while len(part) > width:  # one name longer than the line: cut it (nothing else to do)
            lines.append(part[:width])
            part = part[width:]
        line = part
    if line or not lines:
        lines.append(line)
    return lines
