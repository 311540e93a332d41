"""The FastAPI application: thin routes over vigil.reports (the same calls the CLI makes).

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import asyncio
import copy
import json
import os
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil.api import docs, exchange_routes, notice_routes, takeitdown_routes
from vigil.api.guard import AccessLog, BodyGuard
from vigil.api.problems import BadRequest, install, problem
from vigil.api.ratelimit import PublicRateLimit, refusal
from vigil.api.sockets import worker_sockets
from vigil.errors import NotFoundError, VigilError
from vigil.exchange import feeds
from vigil.exchange.background import run_in_background as exchange_in_background
from vigil.reports import classification, template
from vigil.reports.accounts import Accounts, Principal
from vigil.reports.hashcheck import MAX_HASHES, HashChecker
from vigil.reports.priority import load_rules
from vigil.reports.service import MAX_BATCH, Forbidden, InvalidInput, ReportService
from vigil.scan import lookup
from vigil.settings import SETTINGS_ENV, Settings, prepare_process
from vigil.store import open_database
from vigil.store.checkpoint import checkpoint_in_background
from vigil.web.app import create_web

MAX_FILES = 10_000  # as the template allows
ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a report id")]  # ids are 32-bit on PostgreSQL


class HashCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hashes: list[Annotated[str, Field(pattern=lookup.HEX_PATTERN)]] = Field(
        ..., min_length=1, max_length=MAX_HASHES, description="MD5, SHA-1, SHA-256 or PDQ, as hex"
    )
    signal: str | None = Field(
        None, pattern=lookup.SIGNAL_PATTERN, description="all hashes are of this signal"
    )
    threshold: int = Field(
        lookup.default_threshold(),
        ge=0,
        le=lookup.max_threshold(),
        description="PDQ match distance in bits (as `vigil match --threshold`)",
    )


class Match(BaseModel):
    hashset: str
    signal: str
    distance: int
    category: str | None


class HashResult(BaseModel):
    hash: str
    matches: list[Match]


class HashCheckResponse(BaseModel):
    results: list[HashResult]


class ClassificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: dict[str, str] = Field(..., description="field: value, per the classification schema")
    file: int | None = Field(
        None, ge=0, le=MAX_FILES, description="position of the file in the report; none: the report"
    )


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str = Field(..., min_length=1, max_length=200)


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: int = Field(..., ge=1, le=2**31 - 1, description="the other report (your organisation's own)")
    reason: str | None = Field(None, max_length=500, description="why, for the audit log")


def _openapi_report_body() -> dict:
    schema = copy.deepcopy(template.report_schema())
    examples = schema.pop("examples", [])
    for key in ("$schema", "$id", "version"):
        schema.pop(key, None)
    batch = {
        "type": "object",
        "additionalProperties": False,
        "required": ["reports"],
        "properties": {"reports": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": schema}},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [schema, batch]},
                    "examples": {f"example{i + 1}": {"value": e} for i, e in enumerate(examples)},
                }
            },
        }
    }


def _hash_check_body() -> dict:
    schema = HashCheckRequest.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _json(status: int, content) -> Response:
    """An answer of plain JSON types, encoded once (no per-field model validation on the way out)."""
    return Response(
        json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
    )


def public_org_id(accounts: Accounts, name: str, option: str = "--public-org") -> int:
    """The organisation receiving public reports; a VigilError (refuse to start) when there is none."""
    try:
        return accounts.org_id(name)
    except NotFoundError:
        raise VigilError(
            f"{option}: no organisation named {name[:100]!r}; create it first "
            f"(vigil admin org-create NAME --sector hotline --country CC) or fix the name"
        ) from None


def create_app(
    db: str | None = None,
    public_org: str | None = None,
    priority_rules: str | None = None,
    public_rate: str | None = None,
    redis_url: str | None = None,
    *,
    settings: Settings | None = None,
) -> FastAPI:
    """The app over `settings` (default: read from VIGIL_CONFIG and VIGIL_* once, here), with the
    arguments given on top: database `db`; anonymous public reports go to `public_org`, which must
    exist, at most `public_rate` (`N/SECONDS`) per address, counted in Redis when `redis_url` is
    given; body limits `max_body` and `max_public_body`. Configuration errors are VigilErrors."""
    settings = (settings or Settings.load()).with_options(
        db=db,
        public_org=public_org,
        priority_rules=priority_rules,
        public_rate=public_rate,
        redis_url=redis_url,
    )
    database = open_database(settings.db, index_dir=settings.index_dir)
    accounts = Accounts(database)
    rules = load_rules(settings.priority_rules) if settings.priority_rules else ()
    service = ReportService(database, HashChecker(database), rules, settings.classification_extra)
    public_org = settings.public_org
    public_id = public_org_id(accounts, public_org) if public_org else None
    takeitdown_id = public_id
    if settings.takeitdown_org:
        takeitdown_id = public_org_id(accounts, settings.takeitdown_org, "VIGIL_TAKEITDOWN_ORG")
    limiter = PublicRateLimit(settings.public_rate, settings.redis_url)
    max_body, max_public_body = settings.max_body, settings.max_public_body
    app = FastAPI(
        title="Vigil",
        version="1.0",
        description="Hash check and report service for child-protection hotlines, police and platforms. "
        "Reports carry hashes and metadata, never content. Errors are application/problem+json.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service, app.state.limiter = service, limiter
    install(app)
    docs.install(app)
    app.add_middleware(BodyGuard, max_body=max_body, max_public_body=max_public_body)
    app.add_middleware(AccessLog, routes=app.router.routes)
    bearer = HTTPBearer(auto_error=False)

    lookups: dict[str, asyncio.Future] = {}

    async def principal(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        return await _principal(creds.credentials if creds else None)

    async def _principal(token: str | None) -> Principal:
        """The caller: from this process's short-lived token cache (no query; Accounts says how long
        a revocation takes), else looked up in the database on a worker thread — once for all the
        requests that arrive with the same token meanwhile (when the cache entry runs out under
        load, sixteen connections make one query, not sixteen)."""
        cached = accounts.cached(token)
        if cached is not None:
            return cached
        pending = lookups.get(token or "")
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(accounts.authenticate, token))
            lookups[token or ""] = pending
            pending.add_done_callback(lambda _: lookups.pop(token or "", None))
        return await asyncio.shield(pending)

    def _bearer(request: Request) -> str | None:
        """The token of `Authorization: Bearer TOKEN` (as HTTPBearer reads it), else None."""
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None

    Who = Annotated[Principal, Depends(principal)]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/schema/report", tags=["schema"])
    def report_schema() -> dict:
        """The standard report template (JSON Schema 2020-12) with complete examples."""
        return template.report_schema()

    @app.get("/schema/classification", tags=["schema"])
    def classification_schema() -> dict:
        """The common classification: fields, values and severity mappings."""
        return classification.schema(settings.classification_extra)

    async def _body(request: Request):
        """The JSON body (BodyGuard has bounded its size and nesting already); 400 when not JSON."""
        try:
            return json.loads(await request.body())  # an empty body is not JSON either
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            message = (
                f"not JSON: {exc}"[:200] if isinstance(exc, ValueError) else "not JSON: nested too deeply"
            )
            raise BadRequest(
                f"the body is not JSON: {message}", [{"field": "/", "message": message}]
            ) from None

    async def _intake(who: Principal | None, body, channel: str, org_id: int | None) -> Response:
        """Check the request here (a batch on a worker thread: it may be large), then store it
        through the intake writer. A batch is all or nothing: one bad report stores none."""
        batch = isinstance(body, dict) and set(body) == {"reports"} and isinstance(body["reports"], list)
        bodies = body["reports"] if batch else [body]
        if len(bodies) > 1:
            job = await run_in_threadpool(service.prepare, who, bodies, channel, org_id, batch)
        else:
            job = service.prepare(who, bodies, channel, org_id, batch)
        answers = await service.submit(job)
        return _json(201, {"results": answers} if batch else answers[0])

    @app.post(
        "/v1/reports",
        status_code=201,
        tags=["reports"],
        openapi_extra={**_openapi_report_body(), "security": [{"HTTPBearer": []}]},
    )
    async def submit(request: Request) -> dict:
        """Submit one report, or `{"reports": [...]}`. The answer gives each report's id, completeness
        (what is missing and why it matters), hash matches, earlier assessments and priority."""
        # the token is read here rather than by a dependency: the busiest route skips FastAPI's
        # dependency resolution (same answers: 401 before the body is parsed)
        who = await _principal(_bearer(request))
        return await _intake(who, await _body(request), "api", None)

    @app.post("/v1/public/reports", status_code=201, tags=["reports"], openapi_extra=_openapi_report_body())
    async def public_submit(request: Request) -> dict:
        """Anonymous report from the public (no account; rate-limited per address; the address is not
        stored, nor any reporter identity unless given in the report)."""
        if public_id is None:
            return problem(503, "public reporting is not enabled", "start the server with --public-org NAME")
        refused = await refusal(limiter, public_org, request, "reports")
        if refused is not None:
            return refused
        body = await _body(request)
        if isinstance(body, dict) and "reports" in body:
            raise InvalidInput(
                [{"field": "/reports", "message": "the public form takes one report at a time"}]
            )
        return await _intake(None, body, "public", public_id)

    @app.get("/v1/reports/{report_id}", tags=["reports"])
    def read(report_id: ReportId, who: Who) -> dict:
        return service.get(who, report_id)

    @app.get("/v1/queue", tags=["reports"])
    def queue(who: Who, limit: int = Query(100, ge=1, le=1000)) -> dict:
        """The organisation's open reports (its own and those shared with it), highest priority first,
        each with the rules that set its priority."""
        return {"reports": service.queue(who, limit)}

    @app.post("/v1/reports/{report_id}/classifications", status_code=201, tags=["reports"])
    def classify(report_id: ReportId, request: ClassificationRequest, who: Who) -> dict:
        """Record a decision; one on the whole report then forwards it as the organisation's
        routing rules say (answered under `forwarded`)."""
        answer = service.classify(who, report_id, request.labels, request.file)
        forwarded = feeds.after_classification(service, who, report_id, whole=request.file is None)
        return {**answer, "forwarded": forwarded} if request.file is None else answer

    @app.post("/v1/reports/{report_id}/shares", status_code=201, tags=["reports"])
    def share(report_id: ReportId, request: ShareRequest, who: Who) -> dict:
        return service.share(who, report_id, request.organisation)

    @app.post("/v1/reports/{report_id}/links", status_code=201, tags=["reports"])
    def link(report_id: ReportId, request: LinkRequest, who: Who) -> dict:
        """Link two of the organisation's reports by hand (both ways; audited; harmless twice)."""
        return service.link(who, report_id, request.report, request.reason)

    @app.delete("/v1/reports/{report_id}/links/{other}", tags=["reports"])
    def unlink(report_id: ReportId, other: Annotated[int, Path(ge=1, le=2**31 - 1)], who: Who) -> dict:
        """Remove a hand-made link (links intake found stay)."""
        return service.unlink(who, report_id, other)

    @app.post(
        "/v1/hash-check", tags=["hashes"], response_model=HashCheckResponse, openapi_extra=_hash_check_body()
    )
    async def hash_check(request: Request, who: Who):
        """Match up to 10,000 hashes against the hash sets (MD5, SHA-1, SHA-256 exactly; PDQ within
        `threshold` bits, default 31); 64 hex digits are tried as SHA-256 and PDQ unless `signal`
        says which."""
        try:  # parsed and checked in one pass over the bytes (pydantic-core), answered as plain JSON
            checked = HashCheckRequest.model_validate_json(await request.body() or b"null")
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None
        if not who.can("hashes:check"):
            raise Forbidden("this token may not check hashes (scope hashes:check)")
        try:  # the look-up behind `vigil match` (vigil.scan.lookup): same answers, same checks
            results = service.checker.check(checked.hashes, checked.signal, checked.threshold)
        except lookup.HashInputError as exc:
            raise InvalidInput(exc.problems, exc.title) from None
        return _json(200, {"results": results})

    exchange_routes.install(app, service, principal, settings.public_url, _principal, _bearer)
    notice_routes.install(app, database, principal)
    takeitdown_routes.install(app, database, lambda: takeitdown_id, limiter)
    # the web UI answers every path the API does not (mounted last: /v1, /schema, /federation first)
    app.mount("/", create_web(service, settings, accounts))
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory vigil.api.app:app_from_env` (what `vigil serve` runs in each worker):
    the settings `vigil serve` checked and handed over (VIGIL_SETTINGS_JSON), else read here."""
    worker_sockets()
    handed = os.environ.get(SETTINGS_ENV)
    settings = Settings.from_json(handed) if handed else Settings.load()
    prepare_process(settings)
    app = create_app(settings=settings)
    app.state.service.warm()
    checkpoint_in_background(app.state.service.db)
    exchange_in_background(app.state.service.db, settings.exchange_interval, settings.allow_private_hosts)
    quiet_garbage_collector()
    return app


def quiet_garbage_collector() -> None:
    """Everything made while starting (modules, the app, SQLAlchemy's and pydantic's structures:
    hundreds of thousands of objects that live as long as the process) is moved out of the
    collector's sight, so a full collection scans only what requests made. Measured with wrk (16
    connections, intake on SQLite, one worker): p99 79 ms before, 33 ms after."""
    import gc

    gc.collect()
    gc.freeze()
