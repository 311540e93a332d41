"""Hostile text made safe to show on a terminal or in a log line.

File names, archive members, set names and report fields are written by someone else, often by the
people under investigation. On a terminal, an escape sequence in a name can clear the screen, move the
cursor or rewrite what an examiner reads; a newline can forge a line of output; a right-to-left override
can make `gpj.exe` read as `exe.jpg`. `visible()` shows such characters as backslash escapes, so a name
is shown exactly — every character accounted for — and never acts on the terminal.

Rich markup is a second trap: `[bold]x` is not a name Rich will print as it is. Callers print names
as `rich.text.Text` (or with `markup=False`), never inside a markup string.
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls (ESC, CR, LF, DEL...); Cf: format characters (bidi overrides, zero-width joiners);
# Zl/Zp: line and paragraph separators; Zs: spaces other than " " (a no-break space looks like one);
# Cs: lone surrogates (undecodable bytes kept by surrogateescape); Co/Cn: private and unassigned
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Cs", "Co", "Cn"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by os.fsdecode's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str, backslash: bool = True) -> str:
    """`text` with every control, format and undecodable character escaped, and the backslash too
    (so the escaped form is unambiguous) unless `backslash` is false (messages that quote a repr)."""
    if text.isprintable() and not (backslash and "\\" in text):  # the common case, in one C call
        return text
    out = []
    for ch in text:
        if ch == "\\" and backslash:
            out.append("\\\\")
        elif ch != " " and unicodedata.category(ch) in _HIDDEN:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)
