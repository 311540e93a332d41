"""The network's routes: forwarding and feedback for analysts' tokens, and the federation inbox for
peer instances (signed requests, no token). Thin: vigil.exchange does the work.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import json
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil.api.guard import FEDERATION_INBOX
from vigil.api.problems import problem
from vigil.exchange import feedback, feeds, forward, inbox, messages, stats
from vigil.reports.accounts import Principal


def _json(content) -> Response:
    return Response(json.dumps(content, separators=(",", ":")).encode(), media_type="application/json")


ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a report id")]


class ForwardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(
        ..., min_length=1, max_length=200, pattern=messages.PLAIN, description="the receiving organisation"
    )
    files: list[Annotated[int, Field(ge=0, le=10_000)]] | None = Field(
        None, max_length=10_000, description="positions of the files to send; none: every file"
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(..., max_length=40, description=" | ".join(messages.OUTCOMES))
    reason: str | None = Field(None, max_length=2000, pattern=messages.TEXT)


def install(
    app: FastAPI, service, principal_dependency, public_url: str | None, token_principal, bearer_of
) -> None:
    """`principal_dependency`: the token's Principal (a dependency); `token_principal(token)`: the
    same, awaited by hand; `bearer_of(request)`: the request's bearer token or None."""
    Who = Annotated[Principal, Depends(principal_dependency)]

    def _url(request: Request) -> str:
        """The URI the peer signed: this instance's public URL (behind a TLS proxy) or the request's."""
        if public_url:
            query = f"?{request.url.query}" if request.url.query else ""
            return public_url.rstrip("/") + request.url.path + query
        return str(request.url)

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

    @app.get("/v1/exchange/stats", tags=["exchange"])
    def exchange_stats(who: Who) -> dict:
        """What the organisation's forwards became, per receiver: forwarded, answered, outcomes,
        hours to the first answer (median, 90th percentile)."""
        return stats.feedback_stats(service.db, who)

    @app.post(FEDERATION_INBOX, tags=["federation"], include_in_schema=True)
    async def federation_inbox(request: Request):
        """A signed message from a peer instance (RFC 9421, Ed25519, pinned keys)."""
        body = await request.body()
        try:
            return await run_in_threadpool(
                inbox.accept, service, request.method, _url(request), dict(request.headers), body
            )
        except inbox.Rejected as exc:
            return problem(exc.status, "message refused", str(exc), exc.problems or None)

    @app.get("/v1/feeds/{name}", tags=["exchange"])
    async def feed(
        request: Request,
        name: str = Path(..., min_length=1, max_length=200, pattern=messages.PLAIN),
        since: int = Query(0, ge=0, le=2**62, description="the checkpoint of the last page read"),
        limit: int = Query(feeds.PAGE, ge=1, le=feeds.MAX_PAGE),
    ):
        """An organisation's hash feed after a checkpoint: what its sharing rules let the reader see
        (a token's organisation, or the organisation a signing peer speaks for). 410: resync from 0."""
        token = bearer_of(request)
        if token is not None:
            who = await token_principal(token)
            if not who.can("hashes:check"):
                return problem(403, "forbidden", "this token may not read hash feeds (scope hashes:check)")
            reader = await run_in_threadpool(feeds.reader_for_org, service.db, who.org_id)
        else:
            try:
                peer_id = await run_in_threadpool(
                    inbox.peer_of, service.db, "GET", _url(request), dict(request.headers)
                )
            except inbox.Rejected as exc:
                return problem(exc.status, "request refused", str(exc))
            reader = await run_in_threadpool(feeds.reader_for_peer, service.db, peer_id)
        try:
            page = await run_in_threadpool(feeds.read, service.db, name, reader, since, limit)
        except feeds.StaleCheckpoint as exc:
            return problem(410, "stale checkpoint", str(exc))
        return _json(page)
