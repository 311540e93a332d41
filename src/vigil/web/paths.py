"""Names typed by people (cases, hash sets) as one path segment that no decoding can split.

A name is percent-escaped down to unreserved characters (`/`, `?`, `#`, `%`, spaces, markup,
everything but letters, digits and `-._`), then `%` is written `~`: servers and clients decode `%2F`
to `/` before routing (a test client decodes twice), but leave `~` alone, so a case named `x/mark`
is never the mark route of case `x`, and a hash set named `a/diff` never the diff of set `a`."""

from __future__ import annotations

from urllib.parse import quote, unquote

from vigil.errors import NotFoundError


def segment(name: str) -> str:
    once = quote(name, safe="").replace("~", "%7E")
    if set(once) == {"."}:  # `.` and `..` would be taken as a path step
        once = once.replace(".", "%2E")
    return once.replace("%", "~")


def name_of(segment_text: str, what: str) -> str:
    """The name a segment made by `segment` stands for (typed `my%20case` works too); `what` names
    the kind of thing in the 404 page's message."""
    try:
        return unquote(segment_text.replace("~", "%"), errors="strict")
    except UnicodeDecodeError:
        raise NotFoundError(f"no {what} has this name: it is not UTF-8 text") from None
