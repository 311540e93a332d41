"""Errors meant for people.

Every error a user can cause is a `VigilError` whose message names the input, the place (file, line,
field) and what was expected. The CLI prints it as one `error:` line and exits 2; nothing catches it
to print a traceback.
"""


class VigilError(Exception):
    """A user-facing error: bad input, missing file, unknown name."""


class InputFormatError(VigilError):
    """An input file does not follow its format; the message starts with `FILE:LINE:` or a JSON path."""

    def __init__(self, source: str, where: str | int | None, what: str):
        self.source, self.where, self.what = source, where, what
        place = f"{source}:{where}" if where not in (None, "") else source
        super().__init__(f"{place}: {what}")


class NotFoundError(VigilError):
    """A named thing (hash set, case) does not exist."""
