"""Errors as RFC 9457 `application/problem+json`, each naming the field and what is wrong."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from vigil.errors import NotFoundError, VigilError
from vigil.reports.accounts import AuthError
from vigil.reports.service import Forbidden, InvalidInput

PROBLEM = "application/problem+json"


class BadRequest(VigilError):
    """The body cannot be read as JSON at all (HTTP 400); `problems` name where."""

    def __init__(self, message: str, problems: list[dict]):
        self.problems = problems
        super().__init__(message)


def problem(
    status: int, title: str, detail: str = "", errors: list | None = None, headers=None
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc) -> str:
    """A JSON pointer (RFC 6901) to the field, each part cut to 100 characters."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return "/" + "/".join(str(p)[:100].replace("~", "~0").replace("/", "~1") for p in loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            reason = next(e for e in raw if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
            message = f"not JSON: {reason}"[:200]
            return problem(400, "the body is not JSON", message, [{"field": "/", "message": message}])
        # pydantic's messages name the rule, never the input; only the pointer is cut short
        errors = [{"field": _field(e["loc"]), "message": str(e["msg"])[:200]} for e in raw[:100]]
        return problem(
            422, "invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]), errors
        )

    @app.exception_handler(BadRequest)
    async def _bad_request(_: Request, exc: BadRequest):
        return problem(400, "the body is not JSON", str(exc), exc.problems)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(_: Request, exc: InvalidInput):
        return problem(422, exc.title, str(exc), exc.problems)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError):
        return problem(401, "not authenticated", str(exc), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden):
        return problem(403, "forbidden", str(exc))

    @app.exception_handler(NotFoundError)
    async def _missing(_: Request, exc: NotFoundError):
        return problem(404, "not found", str(exc))

    @app.exception_handler(VigilError)
    async def _vigil(_: Request, exc: VigilError):
        return problem(400, "bad request", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException):
        return problem(
            exc.status_code, str(exc.detail), str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception):
        return problem(
            500, "internal error", f"{type(exc).__name__}: the server could not handle this request"
        )
