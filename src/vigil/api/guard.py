"""Pure ASGI middleware at the boundary: request bodies are bounded while they are read (413 as soon
as the limit is passed, before anything is parsed) and their JSON nesting depth is checked on the raw
bytes (422) so no parser recurses on hostile input; and one access-log line per request without
personal data (method, path with ids or the route template, status, duration: no address, body,
query string or token)."""

from __future__ import annotations

import logging
import re
import time

from vigil.api.problems import problem

PUBLIC_PREFIX = "/v1/public/"
JSON_PREFIXES = ("/v1/", "/federation/")  # the routes that take JSON; the rest are the web UI's forms
FEDERATION_INBOX = "/federation/inbox"
MAX_DEPTH = 32  # the template nests 5 deep
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
# Routes that read their own body as a stream, with their own size limit and their own checks made
# before any of it is read (the web UI's hash-list upload: vigil.web.hashset_pages). Not buffered here.
STREAMED = frozenset({("PUT", "/hashsets/upload")})
TAKEITDOWN_PREFIX = "/v1/takeitdown/"
TAKEITDOWN_BODY = 256 * 1024  # anonymous, but a video's vPDQ (1,800 frames) is ~170 KB of hashes

log = logging.getLogger("vigil.api.access")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when arrays/objects in `body` nest deeper than `limit`, decided without parsing: C-speed
    byte counts, and for bodies with many brackets, strings removed and innermost pairs peeled off
    one level a round (at most `limit` + 1 rounds). Opening brackets never closed count as levels."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(_SAME_BRACKETS, _NOT_BRACKET)
    for depth in range(limit + 1):
        peeled = brackets.replace(b"[]", b"")
        if peeled == brackets:  # balanced (empty) or malformed: unclosed openings still nest
            return depth + brackets.count(b"[") > limit
        brackets = peeled
    return True


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(body: bytes) -> str | None:
    """The JSON pointer of a string holding a lone UTF-16 surrogate (`"\\ud800"`: valid JSON, not
    text — it cannot be stored, logged or sent back), or None. Only bodies with such an escape (an
    emoji escaped as a pair, say) are parsed here; the rest cost one regex search."""
    if not _SURROGATE_ESCAPE.search(body):
        return None
    import json

    try:
        value = json.loads(body)
    except ValueError:
        return None  # malformed: the route's parser says so
    return _find_lone(value, "")


def _find_lone(value, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "/"
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        text = str(key).encode("utf-8", "backslashreplace").decode()  # a bad key is shown escaped
        pointer = f"{where}/{text.replace('~', '~0').replace('/', '~1')}"
        if isinstance(key, str) and _find_lone(key, pointer) is not None:
            return pointer
        found = _find_lone(item, pointer)
        if found is not None:
            return found
    return None


class BodyGuard:
    """Reads the request body up to its limit (the public form's, or any request without an
    Authorization header: small; others: large), checks the nesting depth, then hands the app the
    body it read. Over the limit: 413 without reading further (Content-Length is trusted only to
    refuse early)."""

    def __init__(self, app, max_body: int, max_public_body: int, max_depth: int = MAX_DEPTH):
        self.app, self.max_body, self.max_public, self.max_depth = app, max_body, max_public_body, max_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            return await self.app(scope, receive, send)
        if (scope["method"], scope["path"]) in STREAMED:
            return await self.app(scope, receive, send)  # the route bounds and streams its own body
        headers = scope["headers"]
        # anonymous requests get the public form's limit, except signed requests from peers (which
        # carry forwarded reports; the inbox checks the signature once the body is in)
        signed = scope["path"] == FEDERATION_INBOX and any(k == b"signature" for k, _ in headers)
        public = scope["path"].startswith(PUBLIC_PREFIX) or not (
            signed or any(k == b"authorization" for k, _ in headers)
        )
        limit = self.max_public if public else self.max_body
        if scope["path"].startswith(TAKEITDOWN_PREFIX):
            limit = max(limit, TAKEITDOWN_BODY)
        for name, value in headers:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    return await self._too_large(scope, receive, send, limit, public)
                break
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._too_large(scope, receive, send, limit, public)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if not scope["path"].startswith(JSON_PREFIXES):
            return await self._replay(scope, receive, send, body)  # a web form: bounded, not JSON
        if not body.strip():  # every route here takes JSON; nothing is not JSON (400, not a 422 per route)
            message = "not JSON: the body is empty"
            response = problem(400, "the body is not JSON", message, [{"field": "/", "message": message}])
            return await response(scope, receive, send)
        if too_deep(body, self.max_depth):
            message = f"JSON nested deeper than {self.max_depth} levels"
            response = problem(
                422, "the body is nested too deeply", message, [{"field": "/", "message": message}]
            )
            return await response(scope, receive, send)
        lone = lone_surrogate(body)
        if lone is not None:
            message = "a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair) is not text"
            response = problem(422, "the body holds text that is not text", message, [
                {"field": lone[:200], "message": message}
            ])  # fmt: skip
            return await response(scope, receive, send)
        await self._replay(scope, receive, send, body)

    async def _replay(self, scope, receive, send, body: bytes):
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send, limit: int, public: bool):
        which = "the public form's limit (VIGIL_MAX_PUBLIC_BODY)" if public else "the limit (VIGIL_MAX_BODY)"
        response = problem(
            413,
            "request body too large",
            f"the body is larger than {limit} bytes, {which}; send less (a batch in several requests)",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class AccessLog:
    """One INFO line per request on the `vigil.api.access` logger: `POST /v1/reports 201 3.2ms`.
    `routes` (the app's) name the path of a request refused before routing (413, nesting)."""

    def __init__(self, app, routes: list | None = None):
        self.app, self.routes = app, routes or []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                self._path(scope),
                status,
                (time.perf_counter() - start) * 1000,
            )

    def _path(self, scope) -> str:
        """The path when its parameters are plain ids, else the route's template; unknown paths are
        not written (they are whatever a client typed)."""
        params = scope.get("path_params") or {}
        route = scope.get("route")
        if route is None:  # refused before routing: find the route now (only for these requests)
            for candidate in self.routes:
                match, child = candidate.matches(scope)
                if match.name != "NONE":
                    route, params = candidate, child.get("path_params") or {}
                    break
        return _path(scope, getattr(route, "path", None), params)


def _path(scope, template: str | None, params: dict) -> str:
    if template is None:
        return "(no such path)"
    if all(str(v).isdigit() and len(str(v)) <= 20 for v in params.values()):
        return scope["path"] if len(scope["path"]) <= 200 else template
    return template
