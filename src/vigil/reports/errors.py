"""The report service's errors: wrong input (422) and not allowed (403). Not found is
vigil.errors.NotFoundError (404: another organisation's report answers like a missing one)."""

from __future__ import annotations

from vigil.errors import VigilError
from vigil.reports import template


class InvalidInput(VigilError):
    """The input breaks the template or the classification schema; `problems` name each field."""

    def __init__(self, problems: list[dict], title: str = "the report does not follow the template"):
        problems = problems[: template.MAX_PROBLEMS]
        self.problems, self.title = problems, title
        super().__init__(f"{title}: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]))


class Forbidden(VigilError):
    """Authenticated, but not allowed to do this (HTTP 403)."""


def require(principal, scope: str, message: str) -> None:
    """Forbidden unless `principal` holds `scope`."""
    if not principal.can(scope):
        raise Forbidden(message)
