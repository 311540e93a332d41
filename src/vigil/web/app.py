"""The web UI as a FastAPI sub-application mounted at `/` by vigil.api.app (after the API's routes,
so /v1, /schema and /federation stay the API's). Its own error pages: another organisation's report
is the same 404 page as one that does not exist; no error is ever a traceback.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import logging
import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from vigil.errors import NotFoundError, VigilError
from vigil.reports.accounts import Accounts
from vigil.reports.errors import Forbidden, InvalidInput
from vigil.reports.service import ReportService
from vigil.reports.sessions import Attempts, Sessions
from vigil.settings import Settings
from vigil.web import (
    account_pages,
    admin_pages,
    case_pages,
    dashboard_pages,
    hashset_pages,
    report_pages,
    takeitdown_pages,
)
from vigil.web.context import CsrfRefused, SignInRequired, Web, sign_in_url
from vigil.web.render import HEADERS, page

log = logging.getLogger("vigil.web")


class StaticAssets(StaticFiles):
    """The package's assets (htmx, stylesheet, script, icons) with the page headers and a day's cache."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update({k: v for k, v in HEADERS.items() if k != "Cache-Control"})
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


class ServerTiming:
    """`Server-Timing: app;dur=MS` on every page: the time the server spent on it (bench/web.py
    reads it; a browser's developer tools show it)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed(message):
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - started) * 1000
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"server-timing", f"app;dur={spent:.2f}".encode()),
                ]
            await send(message)

        await self.app(scope, receive, timed)


def create_web(service: ReportService, settings: Settings, accounts: Accounts | None = None) -> FastAPI:
    """`accounts`: the API's (one token cache per process: a token revoked on a page stops working
    for the API at once)."""
    web = Web(service, Sessions(service.db, attempts=Attempts(settings.redis_url)), settings)
    web.accounts = accounts or Accounts(service.db)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticAssets(packages=[("vigil.web", "static")]), name="static")
    app.add_middleware(ServerTiming)
    _errors(app, web)
    account_pages.install(app, web)
    report_pages.install(app, web)
    case_pages.install(app, web)
    hashset_pages.install(app, web)
    dashboard_pages.install(app, web)
    admin_pages.install(app, web)
    takeitdown_pages.install(app, web)
    return app


API_PREFIXES = ("/v1/", "/schema/", "/federation/", "/docs/")
API_PATHS = ("/healthz", "/openapi.json", "/docs", "/redoc")


def _problem(status: int, title: str, detail: str) -> Response:
    """RFC 9457 problem details, as the API answers (vigil.api.problems; that layer is above this one)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _api_path(path: str) -> bool:
    """A path of the API (vigil.api), reached here only when no API route took the request."""
    return path.startswith(API_PREFIXES) or path in API_PATHS


def _error(web: Web, request: Request, status: int, title: str, detail: str) -> Response:
    current = None
    try:
        current = web.signed_in(request)
    except Exception:  # noqa: BLE001 - an error page must render even when the database cannot
        current = None
    return page("error.html", status, title=title, detail=detail, **web.frame(current))


def _errors(app: FastAPI, web: Web) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired):
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": sign_in_url(request)})
        return RedirectResponse(sign_in_url(request), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused):
        detail = (
            "The form was not sent from this page (its security token did not match). "
            "Reload the page and try again."
        )
        return _error(web, request, 403, "Form refused", detail)

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError):
        return _error(web, request, 404, "Not found", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if _api_path(request.url.path):  # the API's paths answer problem+json even when unrouted
            status = 405 if request.method not in ("GET", "HEAD", "POST") else exc.status_code
            title = "method not allowed" if status == 405 else "not found"
            return _problem(status, title, f"{request.method} {request.url.path[:200]}: {title}")
        if exc.status_code == 404:
            return _error(web, request, 404, "Not found", "There is no page at this address.")
        return _error(web, request, exc.status_code, "Refused", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = "/".join(str(p) for p in first.get("loc", ())[1:])[:100]
        return _error(web, request, 400, "Bad request", f"{where}: {str(first.get('msg', ''))[:200]}")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return _error(web, request, 403, "Not allowed", str(exc))

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, exc: InvalidInput):
        named = "; ".join(f"{p.get('field', '')}: {p.get('message', '')}" for p in exc.problems[:5])
        return _error(web, request, 422, str(exc.title), named[:1000])

    @app.exception_handler(VigilError)
    async def _vigil(request: Request, exc: VigilError):
        return _error(web, request, 400, "Not done", str(exc))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("web page %s failed", request.url.path)
        return _error(
            web, request, 500, "Something went wrong", "The server could not show this page; it is logged."
        )
