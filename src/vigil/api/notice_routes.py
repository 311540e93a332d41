"""Notice and takedown over HTTP: thin routes over vigil.exchange.notices (the calls the CLI makes).

`install(app, db, principal)` adds them to an app whose error handlers (vigil.api.problems) are
installed: another organisation's notice answers 404 like a missing one, bad input 422 naming the
field. Listing and statistics need the scope reports:read; creating a notice and recording an action
need reports:classify (deciding that a host must take content down is part of the assessment).

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.exchange import notices
from vigil.reports import urls
from vigil.reports.accounts import Principal
from vigil.store.db import Database

NoticeId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a notice id")]
State = Literal[notices.STATES]  # the names are the service's (one registry)
Outcome = Literal[notices.OUTCOMES]


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: int = Field(..., ge=1, le=2**31 - 1, description="the report the URL is in")
    url: str = Field(..., min_length=1, max_length=urls.MAX_LENGTH, description="one of the report's URLs")
    provider: str = Field(..., min_length=1, max_length=200, description="the hosting provider's name")
    hosting_country: str = Field(..., pattern=r"^[A-Za-z]{2}$", description="ISO 3166 code, e.g. NL")
    contact: str = Field(
        ...,
        min_length=1,
        max_length=urls.MAX_LENGTH,
        description="the host's abuse endpoint (http/https: notices are POSTed there) or an e-mail "
        "address (notices are recorded for a person to send)",
    )


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    note: str | None = Field(None, max_length=notices.MAX_NOTE)
    at: datetime | None = Field(None, description="when it happened, if earlier (UTC); default: now")

    @field_validator("at")
    @classmethod
    def _a_real_time(cls, value: datetime | None) -> datetime | None:
        """Naive UTC, as the database keeps time; a time that cannot be one (year 1, an offset past
        the calendar's edge) is a 422 naming the field, not an OverflowError."""
        try:
            value = _naive_utc(value)
        except (OverflowError, ValueError):
            raise ValueError("not a time that can be converted to UTC") from None
        if value is not None and not 1990 <= value.year <= 2200:
            raise ValueError("must be between 1990 and 2200")
        return value


def _naive_utc(value: datetime | None) -> datetime | None:
    """How the database keeps time: naive UTC (a time without zone is taken as UTC)."""
    if value is None or value.tzinfo is None:
        return value
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None)


def install(app: FastAPI, db: Database, principal) -> None:
    """Add the routes; `principal` is the app's dependency that turns a bearer token into a Principal
    (create_app's `principal`)."""
    Who = Annotated[Principal, Depends(principal)]

    @app.get("/v1/notices", tags=["notices"])
    def list_notices(
        who: Who,
        state: State | None = Query(None, description="only notices in this state"),
        country: str | None = Query(None, pattern=r"^[A-Za-z]{2}$", description="hosting country"),
        limit: int = Query(100, ge=1, le=notices.MAX_LIST),
    ) -> dict:
        """The organisation's notices, newest first."""
        return {"notices": notices.list_notices(db, who, state, country, limit)}

    @app.post("/v1/notices", status_code=201, tags=["notices"])
    def create_notice(request: NoticeRequest, who: Who) -> dict:
        """A notice-and-takedown for one of a report's URLs: checked and sent to the host about an
        hour from now, repeated every 24 hours while the content stays online."""
        return notices.create_notice(
            db, who, request.report, request.url, request.provider, request.hosting_country, request.contact
        )

    @app.get("/v1/notices/stats", tags=["notices"])
    def notice_stats(
        who: Who,
        since: Literal["report", "notice"] = Query("report", description="time counted from"),
    ) -> dict:
        """Time to removal (median and 90th percentile, hours) per hosting country and provider."""
        return notices.stats(db, who, since)

    @app.get("/v1/notices/{notice_id}", tags=["notices"])
    def read_notice(notice_id: NoticeId, who: Who) -> dict:
        """One notice with everything that happened to it."""
        return notices.get_notice(db, who, notice_id)

    @app.post("/v1/notices/{notice_id}/actions", status_code=201, tags=["notices"])
    def record_action(notice_id: NoticeId, request: ActionRequest, who: Who) -> dict:
        """Record what was done by hand or learnt (the outcomes hotlines record)."""
        return notices.record_action(db, who, notice_id, request.outcome, request.note, request.at)
