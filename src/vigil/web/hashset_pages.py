"""Hash sets: the list of sets (current and, on request, archived versions), one set with its
versions and the diff of two of them, enabling and disabling a set, and importing a list by upload.

The upload is `PUT /hashsets/upload` with the file as the raw body, sent by static/upload.js with
the CSRF token in X-CSRF-Token (BodyGuard lets this one route through unbuffered): the session, role
and token are checked before a byte of the body is read, the body is streamed to a private
temporary folder with a size limit (never held in memory), imported on a worker thread, and the
folder is removed whatever happens. A file name from the browser is only ever shown, as text.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse, Response

from vigil.classify import normalise_label
from vigil.errors import NotFoundError, VigilError
from vigil.hashsets import KNOWN_BY_DEFAULT, detect_format, read_entries
from vigil.reports.errors import Forbidden
from vigil.reports.sessions import csrf_matches
from vigil.safetext import visible
from vigil.store import setweb
from vigil.store.hashsets import HashsetInfo, HashsetRepository
from vigil.store.setadmin import SEPARATOR, SetAdmin
from vigil.web.context import CsrfRefused, Web, next_path
from vigil.web.forms import whole
from vigil.web.paths import name_of, segment
from vigil.web.render import page

log = logging.getLogger("vigil.web")

MAX_UPLOAD = 2 * 1024**3  # bytes of one uploaded list (tests make it small)
UPLOAD_DIR: str | None = None  # where temporary upload folders go (None: the system's temp folder)
DIFF_SHOWN = 50  # entries of each kind a diff page lists
DIFF_MAX_ENTRIES = 2_000_000  # two versions larger than this together are compared with the CLI
MAX_NAME = 190  # Hashset.name holds 200; an archived version's name adds `@VERSION`
MAX_SOURCE = 500
MAX_CATEGORY = 100
MANAGERS = ("supervisor", "admin")
KNOWN_CHOICES = ("auto", "0", "1")
Version = Annotated[int | None, Query(ge=1, le=1_000_000)]

_importing = threading.Lock()  # one import at a time in this process (each replaces a whole set)


class UploadRefused(Exception):
    """The upload cannot be imported: `status` and a message naming the problem."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def href(name: str) -> str:
    """The set's page (the name escaped as `vigil.web.paths` explains: `a/diff` is a set's name)."""
    return "/hashsets/" + segment(name)


def _row(info: HashsetInfo, signals: dict[str, int] | None = None) -> dict:
    return {**info.__dict__, "href": href(info.name), "signals": signals}


def _require_manager(who, what: str) -> None:
    if who.role not in MANAGERS:
        raise Forbidden(f"{what} is for supervisors and administrators")


def _check_token(request: Request, current) -> None:
    """The CSRF checks of Web.checked_form for a request whose body is a file, not a form: the
    token comes in the X-CSRF-Token header, and the origin must be this server."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise CsrfRefused
    if not csrf_matches(current.csrf, request.headers.get("x-csrf-token")):
        raise CsrfRefused


def _text_field(label: str, value: str, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise UploadRefused(422, f"{label}: required")
    if len(value) > limit:
        raise UploadRefused(422, f"{label}: at most {limit} characters")
    if visible(value, backslash=False) != value:
        raise UploadRefused(422, f"{label}: holds control or invisible characters")
    return value


def _display_name(filename: str) -> str:
    """The browser's file name as text to show (escaped once, here; templates show it as is): its
    last path part, control and invisible characters as escapes, shortened."""
    last = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return visible(last)[:120] or "the uploaded file"


async def _receive(request: Request, folder: Path) -> Path:
    """The request body streamed into `folder/upload`, refused once it passes MAX_UPLOAD."""
    limit = MAX_UPLOAD
    declared = request.headers.get("content-length", "")
    if (whole(declared, 19) or 0) > limit:
        raise UploadRefused(413, f"the file is larger than {limit:,} bytes, the upload limit")
    path, size = folder / "upload", 0
    try:
        with open(path, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(413, f"the file is larger than {limit:,} bytes, the upload limit")
                fh.write(chunk)
    except OSError as exc:
        log.error("an uploaded hash list could not be stored: %s", exc.strerror)
        raise UploadRefused(
            507, "the server could not store the file (is its disk full?); nothing imported"
        ) from None
    if size == 0:
        raise UploadRefused(422, "the file is empty")
    return path


def install(app: FastAPI, web: Web) -> None:
    repo = HashsetRepository(web.db)

    @app.get("/hashsets")
    def hashset_index(request: Request, archived: int = Query(0, ge=0, le=1)):
        current = web.current(request)
        infos = repo.list(archived=bool(archived))
        signals = setweb.signals(web.db, infos)
        return page(
            "hashsets.html",
            sets=[_row(i, signals.get(i.name)) for i in infos],
            archived=bool(archived),
            can_manage=current.principal.role in MANAGERS,
            max_upload=MAX_UPLOAD,
            **web.frame(current, "hashsets"),
        )

    @app.put("/hashsets/upload")
    async def hashset_upload(
        request: Request,
        name: str = Query("", max_length=1000),
        source: str = Query("", max_length=1000),
        category: str = Query("", max_length=1000),
        known: str = Query("auto", max_length=10),
        filename: str = Query("", max_length=1000),
    ):
        current = web.current(request)  # signed in, allowed and the token checked: then the body
        who = current.principal
        _require_manager(who, "importing a hash set")
        _check_token(request, current)
        shown = _display_name(filename)
        folder = None
        try:
            set_name = _text_field("name", name, MAX_NAME, required=True)
            if SEPARATOR in set_name:
                raise UploadRefused(
                    422, f"name: must not contain {SEPARATOR!r} (NAME{SEPARATOR}VERSION is an old version)"
                )
            set_source = _text_field("source", source, MAX_SOURCE) or None
            label = _text_field("category", category, MAX_CATEGORY)
            set_category = normalise_label(label)[:MAX_CATEGORY] if label else None
            if known not in KNOWN_CHOICES:
                raise UploadRefused(422, "known-good: auto, 0 or 1")
            folder = Path(tempfile.mkdtemp(prefix="vigil-upload-", dir=UPLOAD_DIR))
            path = await _receive(request, folder)
            info = await run_in_threadpool(
                _import, repo, path, shown, set_name, set_source, set_category, known
            )
            await run_in_threadpool(setweb.record_upload, web.db, who.email, who.org_id, info, shown)
        except ClientDisconnect:
            return Response(status_code=400)  # the browser went away mid-upload: no one to answer
        except UploadRefused as exc:
            message = visible(exc.message, backslash=False)  # a reader's message quotes a repr already
            return _upload_page(web, current, exc.status, error=message, filename=shown)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        log.info("hash set imported from an upload: version %d, %d entries", info.version, info.entries)
        return _upload_page(web, current, 200, info=_row(info), filename=shown)

    @app.get("/hashsets/{name}/diff")
    def hashset_diff(request: Request, name: str, a: Version = None, b: Version = None):
        current = web.current(request)
        name = name_of(name, "hash set")
        base = setweb.base_name(name)
        by_version = {i.version: i for i in setweb.versions(web.db, base)}
        if not by_version:
            repo.get(base)  # NotFoundError: the 404 page
        newest = max(by_version)
        b = newest if b is None else b
        a = (b - 1 if b - 1 in by_version else b) if a is None else a
        missing = [v for v in (a, b) if v not in by_version]
        if missing:
            raise _no_version(base, missing[0])
        old, new = by_version[a], by_version[b]
        diff, too_large = None, old.entries + new.entries > DIFF_MAX_ENTRIES
        if not too_large and a != b:
            diff = SetAdmin(web.db).diff(old.name, new.name)
        return page(
            "hashset_diff.html",
            base=base,
            base_href=href(base),
            old=_row(old),
            new=_row(new),
            versions=sorted(by_version, reverse=True),
            diff=diff,
            shown=DIFF_SHOWN,
            too_large=too_large,
            max_entries=DIFF_MAX_ENTRIES,
            **web.frame(current, "hashsets"),
        )

    @app.post("/hashsets/{name}/enabled")
    async def hashset_enabled(request: Request, name: str):
        current = web.current(request)
        name = name_of(name, "hash set")
        who = current.principal
        _require_manager(who, "enabling or disabling a hash set")
        form = await web.checked_form(request, current)
        wanted = form.get("enabled")
        if wanted not in ("0", "1"):
            raise VigilError("enabled: 0 or 1")
        await run_in_threadpool(setweb.set_enabled, web.db, who.email, who.org_id, name, wanted == "1")
        back = next_path(form.get("next") or href(name))
        return RedirectResponse(back, status_code=303)

    @app.get("/hashsets/{name}")
    def hashset_detail(request: Request, name: str):
        current = web.current(request)
        name = name_of(name, "hash set")
        info = repo.get(name)  # NotFoundError: the 404 page
        versions = setweb.versions(web.db, name)
        signals = setweb.signals(web.db, [info]).get(info.name)
        return page(
            "hashset.html",
            hashset=_row(info, signals),
            versions=[_row(v) for v in versions],
            base_href=href(setweb.base_name(name)),
            can_manage=current.principal.role in MANAGERS,
            **web.frame(current, "hashsets"),
        )


def _no_version(base: str, version: int) -> NotFoundError:
    return NotFoundError(f"hash set {base!r} has no version {version}")


def _import(
    repo: HashsetRepository,
    path: Path,
    shown: str,
    name: str,
    source: str | None,
    category: str | None,
    known: str,
) -> HashsetInfo:
    """Detect the format as `vigil hashset import` does (by content), read and import in one
    transaction; a VigilError (a bad line or field) becomes a 422 naming it, with the server's
    temporary path replaced by the file's own name."""
    try:
        with _importing:
            fmt = detect_format(path)
            entries = read_entries(path, fmt, blocks=True)
            return repo.import_entries(
                name,
                entries,
                fmt=fmt,
                source=source,
                category=category,
                path=path,
                known=fmt in KNOWN_BY_DEFAULT if known == "auto" else known == "1",
            )
    except VigilError as exc:
        message = str(exc).replace(str(path), shown).replace(str(path.parent), "")
        raise UploadRefused(422, f"Nothing imported: {message}"[:2000]) from None
    except Exception:  # noqa: BLE001 - a reader's unexpected failure: logged, shown without a traceback
        log.exception("hash set import from an upload failed")
        raise UploadRefused(
            422, "Nothing imported: the file could not be read as a hash list (the error is logged)"
        ) from None


def _upload_page(web: Web, current, status: int, **context):
    headers = {"Connection": "close"} if status == 413 else None
    return page(
        "hashset_upload.html",
        status,
        headers,
        error=context.get("error"),
        info=context.get("info"),
        filename=context.get("filename"),
        max_upload=MAX_UPLOAD,
        **web.frame(current, "hashsets"),
    )
