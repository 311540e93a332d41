"""Take it down's two anonymous routes: the page sends the hashes it computed on the person's device
(`POST /v1/takeitdown/submissions`) and asks a case's status by its code (`POST
/v1/takeitdown/status`: the code in the body, not in a URL that logs and histories keep). Both are
rate-limited per address (the address is not stored); the models admit hashes and nothing else.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from typing import Annotated, Literal

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vigil.api.problems import problem
from vigil.api.ratelimit import PublicRateLimit, refusal
from vigil.exchange import selfreport
from vigil.signals.vpdq import VpdqFrame

Hex32 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frame: int = Field(ge=0, le=100_000_000)
    quality: int = Field(ge=0, le=100)
    pdq: Hex64
    timestamp: float = Field(ge=0, le=1_000_000)


class Item(BaseModel):
    """One picture (its PDQ and quality) or one video (its vPDQ frames), with MD5 and SHA-256."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["image", "video"]
    md5: Hex32
    sha256: Hex64
    pdq: Hex64 | None = None
    quality: int | None = Field(None, ge=0, le=100)
    vpdq: list[Frame] | None = Field(None, max_length=selfreport.MAX_FRAMES)


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    submission: str = Field(pattern=r"^[0-9a-f]{32}$", description="a random id the page makes once")
    items: list[Item] = Field(min_length=1, max_length=selfreport.MAX_ITEMS)


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)


def _item(i: Item) -> selfreport.Item:
    frames = tuple(VpdqFrame(f.frame, f.quality, bytes.fromhex(f.pdq), f.timestamp) for f in i.vpdq or ())
    return selfreport.Item(i.kind, i.md5, i.sha256, i.pdq, i.quality, frames)


def install(app: FastAPI, db, org_id_of, limiter: PublicRateLimit) -> None:
    """`org_id_of()`: the organisation that offers take it down here, or None (not offered)."""

    @app.post("/v1/takeitdown/submissions", status_code=201, tags=["take it down"])
    async def takeitdown_submit(body: Submission, request: Request):
        """Hashes of a person's own pictures and videos, computed on their device; answers the case
        code (shown once) and how many hashes were new here. A submission id sent twice is a 409."""
        org_id = org_id_of()
        if org_id is None:
            return problem(404, "not offered here", "this instance does not offer take it down")
        refused = await refusal(limiter, "takeitdown", request, "submissions")
        if refused is not None:
            return refused
        items = [_item(i) for i in body.items]
        try:
            return await run_in_threadpool(selfreport.submit, db, org_id, body.submission, items)
        except selfreport.Replayed as exc:
            return problem(409, "submitted already", str(exc))

    @app.post("/v1/takeitdown/status", tags=["take it down"])
    async def takeitdown_status(body: StatusRequest, request: Request):
        """Counts only: how many members receive and hold the case's hashes, and how many reported
        matches and action."""
        refused = await refusal(limiter, "takeitdown-status", request, "look-ups")
        if refused is not None:
            return refused
        return await run_in_threadpool(selfreport.status, db, body.code)
