"""The cases pages: the list of cases (scans), a case's summary, hits, flagged files, duplicate groups
and its grid of blurred previews to assess (by mouse, by keyboard through vigil.js, or without
script: each tile's form is a plain POST too), previews and reveals, the exports, and a hash set made
of the assessed files. All through the service vigil.scan.assess.

Case names and paths are written by suspects: they reach the page through the autoescaped templates
(`shown`), URLs through `quote`, file names of downloads as an ASCII slug.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import FastAPI, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from vigil.errors import NotFoundError, VigilError
from vigil.reports import wellbeing
from vigil.reports.accounts import ROLES
from vigil.reports.errors import Forbidden
from vigil.scan import assess
from vigil.web.context import Web
from vigil.web.forms import whole
from vigil.web.paths import name_of, segment
from vigil.web.render import HEADERS, page

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CaseName = Annotated[str, Path(min_length=1, max_length=4 * assess.MAX_NAME)]  # longer: a 400
Scheme = Annotated[str, Query(max_length=20)]
MAX_ITEMS = 1_000  # item ids in one mark
EXPORTS = {
    "json": "application/json",
    "csv": "text/csv",
    "html": "text/html",
    "vics.json": "application/json",
}
PLACEHOLDER = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">'
    b'<rect width="128" height="128" fill="#e5e7eb"/>'
    b'<text x="64" y="68" font-family="sans-serif" font-size="12" text-anchor="middle" fill="#4b5563">'
    b"no preview</text></svg>"
)


def case_url(name: str) -> str:
    """The case's page (the name escaped as `vigil.web.paths` explains)."""
    return "/cases/" + segment(name)


def _name(text: str) -> str:
    return name_of(text, "case")


def _slug(name: str) -> str:
    """An ASCII file name of a download: a hostile case name never reaches the header as it is."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "case")[:80]


def _ids(values: list[str]) -> list[int]:
    if len(values) > MAX_ITEMS:
        raise VigilError(f"at most {MAX_ITEMS:,} files can be marked at once, got {len(values):,}")
    out = []
    for v in values:
        if whole(v, 10) is None or not 1 <= int(v) <= 2**31 - 1:
            raise VigilError(f"item: a file number, got {v[:20]!r}")
        out.append(int(v))
    return out


def _can_assess(who) -> None:
    if who.role not in ROLES:  # every role is an analyst or above today; a future viewer role is not
        raise Forbidden("assessing a case's files needs the role analyst or above")


def install(app: FastAPI, web: Web) -> None:
    def actor(current) -> assess.Actor:
        return assess.Actor(current.principal.email, current.principal.org_id)

    def view(request: Request, name: str, pg: int, scheme: str, status: int = 200, **extra):
        current = web.current(request)
        scheme = assess.scheme_of(scheme)
        shown = assess.case_page(web.db, name, pg, actor(current))
        base = case_url(shown["case"]["name"])
        kept = {"scheme": scheme} if scheme != assess.DEFAULT_SCHEME else {}
        pages = {
            "previous": urlencode({**kept, "page": shown["page"] - 1}) if shown["page"] > 1 else None,
            "next": urlencode({**kept, "page": shown["page"] + 1})
            if shown["page"] < shown["pages"]
            else None,
        }
        return page(
            "case.html",
            status,
            base=base,
            scheme=scheme,
            schemes=sorted(assess.SCHEMES),
            choices=assess.choices(scheme),
            links=pages,
            exports=EXPORTS,
            can_assess=current.principal.role in ROLES,
            message=extra.get("message"),
            error=extra.get("error"),
            per_page=assess.PAGE,
            **shown,
            **web.frame(current, "cases"),
        )

    @app.get("/cases")
    def case_index(request: Request):
        current = web.current(request)
        rows = assess.cases(web.db)
        for r in rows:
            r["url"] = case_url(r["name"])
        return page("case_index.html", cases=rows, **web.frame(current, "cases"))

    @app.get("/cases/{name}/export.{fmt}")
    def case_export(request: Request, name: CaseName, fmt: str):
        current = web.current(request)
        if fmt not in EXPORTS:
            raise NotFoundError(f"no export of a case as {fmt[:20]!r}: {', '.join(EXPORTS)}")
        key = "vics" if fmt == "vics.json" else fmt
        report = assess.case_report(web.db, _name(name), actor(current), key)
        body = assess.export(report, key)
        headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{_slug(report["case"])}.{fmt}"'}
        return Response(body, media_type=EXPORTS[fmt], headers=headers)

    @app.get("/cases/{name}/items/{item_id}/preview")
    def case_preview(request: Request, name: CaseName, item_id: ItemId):
        web.current(request)
        case = assess.header(web.db, _name(name))
        data = assess.preview(web.db, case, item_id)
        if data is None:
            return Response(PLACEHOLDER, status_code=404, media_type="image/svg+xml", headers=dict(HEADERS))
        return Response(data, media_type="image/jpeg", headers=dict(HEADERS))

    @app.post("/cases/{name}/items/{item_id}/reveal")
    async def case_reveal(request: Request, name: CaseName, item_id: ItemId):
        current = web.current(request)
        await web.checked_form(request, current)
        case = assess.header(web.db, _name(name))
        src = await run_in_threadpool(assess.clear_preview, web.db, case, item_id)  # reads evidence
        if src is None:
            return JSONResponse(
                {"error": "this file cannot be read back"}, status_code=404, headers=dict(HEADERS)
            )
        count = wellbeing.reveal(web.db, current.principal, f"case:{case['id']}/item:{item_id}")
        return JSONResponse({"src": src, "revealed": count}, headers=dict(HEADERS))

    @app.post("/cases/{name}/mark")
    async def case_mark(request: Request, name: CaseName):
        current = web.current(request)
        form = await web.checked_form(request, current)
        _can_assess(current.principal)
        scheme = assess.scheme_of(form.get("scheme") or None)
        chosen = [v for v in form.getlist("category") if v]  # the hidden field (keys) or the button
        ids = _ids(form.getlist("item"))
        group = form.get("group") == "1"
        case, _ = assess.mark(
            web.db, _name(name), ids, chosen[-1] if chosen else "", scheme, actor(current), group
        )
        base = case_url(case["name"])
        if request.headers.get("hx-request"):
            shown = assess.item(web.db, case, ids[0])
            return page(
                "case_tile.html",
                t=shown,
                base=base,
                scheme=scheme,
                choices=assess.choices(scheme),
                page_number=form.get("page", "1")[:6],
                can_assess=True,
                csrf=current.csrf,
            )
        kept = {"scheme": scheme} if scheme != assess.DEFAULT_SCHEME else {}
        back = form.get("page", "1")
        query = urlencode({**kept, "page": whole(back, 6) or 1})
        return RedirectResponse(f"{base}?{query}#item-{ids[0]}", status_code=303)

    @app.post("/cases/{name}/export-set")
    async def case_export_set(request: Request, name: CaseName):
        current = web.current(request)
        form = await web.checked_form(request, current)
        if current.principal.role not in ("supervisor", "admin"):  # a set is matched for everyone
            raise Forbidden("making a hash set needs a supervisor or admin (as importing one does)")
        everything = form.get("everything") in ("1", "on")
        try:
            info = await run_in_threadpool(
                assess.export_set, web.db, _name(name), form.get("set"), actor(current), everything
            )
        except NotFoundError:
            raise  # no such case: the 404 page
        except VigilError as exc:
            return view(request, _name(name), 1, "", 422, error=f"Not added: {exc}")
        done = f"Hash set {info.name} version {info.version}: {info.entries:,} hashes of the assessed files."
        return view(request, _name(name), 1, "", message=done)

    @app.get("/cases/{name}")
    def case_detail(
        request: Request, name: CaseName, page: int = Query(1, ge=1, le=10_000_000), scheme: Scheme = ""
    ):
        return view(request, _name(name), page, scheme)
