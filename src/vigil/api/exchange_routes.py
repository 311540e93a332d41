"""The network's routes: forwarding and feedback for analysts' tokens, and the federation inbox for
peer instances (signed requests, no token). Thin: vigil.exchange does the work.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.guard import FEDERATION_INBOX
from vigil.api.problems import problem
from vigil.exchange import feedback, forward, inbox, messages
from vigil.reports.accounts import Principal

ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a report id")]


class ForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(..., min_length=1, max_length=200, description="the receiving organisation")
    files: list[Annotated[int, Field(ge=0, le=10_000)]] | None = Field(
        None, max_length=10_000, description="positions of the files to send; none: every file"
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(..., max_length=40, description=" | ".join(messages.OUTCOMES))
    reason: str | None = Field(None, max_length=2000)


def install(app: FastAPI, service, principal_dependency, public_url: str | None) -> None:
    Who = Annotated[Principal, Depends(principal_dependency)]

    @app.post("/v1/reports/{report_id}/forward", status_code=201, tags=["exchange"])
    def forward_report(report_id: ReportId, request: ForwardRequest, who: Who) -> dict:
        """Forward the report (or the chosen files) to another organisation, here or at a peer
        instance, if the sharing rules allow it; 403 with the deciding rule if they do not."""
        return forward.forward(service, who, report_id, request.to, request.files)

    @app.post("/v1/reports/{report_id}/feedback", status_code=201, tags=["exchange"])
    def give_feedback(report_id: ReportId, request: FeedbackRequest, who: Who) -> dict:
        """Tell the organisation that forwarded the report what came of it."""
        return feedback.give(service, who, report_id, request.outcome, request.reason)

    @app.get("/v1/reports/{report_id}/exchange", tags=["exchange"])
    def report_exchange(report_id: ReportId, who: Who) -> dict:
        """Where the report came from (the whole chain), where it went, and the feedback."""
        return feedback.history(service.db, who, report_id)

    @app.post(FEDERATION_INBOX, tags=["federation"], include_in_schema=True)
    async def federation_inbox(request: Request):
        """A signed message from a peer instance (RFC 9421, Ed25519, pinned keys)."""
        body = await request.body()
        url = (public_url.rstrip("/") + FEDERATION_INBOX) if public_url else str(request.url)
        try:
            return await run_in_threadpool(
                inbox.accept, service, request.method, url, dict(request.headers), body
            )
        except inbox.Rejected as exc:
            return problem(exc.status, "message refused", str(exc), exc.problems or None)
