"""The queue and the report page: reading, classifying (one decision per screen: after a decision on
the whole report the next report of the queue opens), linking, forwarding, sharing, notices and
feedback.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import FastAPI, Path, Query, Request
from starlette.responses import RedirectResponse

from vigil.errors import NotFoundError, VigilError
from vigil.exchange import feedback, feeds, forward, messages, notices
from vigil.reports import classification, links
from vigil.reports import queue as queue_case
from vigil.reports.errors import Forbidden, InvalidInput
from vigil.web.context import Web
from vigil.web.forms import whole
from vigil.web.render import page

PAGE = 50
FILES_PER_PAGE = 200  # a report of 10,000 files is read a page at a time
ReportId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _filters(status: str, label: str, country: str, source: str, days: int) -> queue_case.Filters:
    return queue_case.Filters(status, label[:200], country.strip().upper()[:2], source, days)


def install(app: FastAPI, web: Web) -> None:
    def fields() -> dict:
        return classification.schema(web.settings.classification_extra)["fields"]

    @app.get("/")
    def queue(
        request: Request,
        status: str = Query("new", max_length=20),
        label: str = Query("", max_length=200),
        country: str = Query("", max_length=10),
        source: str = Query("", max_length=20),
        days: int = Query(0, ge=0, le=3650),
        offset: int = Query(0, ge=0, le=10_000_000),
    ):
        current = web.current(request)
        filters = _filters(status, label, country, source, days)
        problems = filters.problems(fields())
        rows, total = ([], 0)
        if not problems:
            rows, total = queue_case.filtered(web.db, current.principal, filters, PAGE, offset)
        reports = [
            {
                "id": r.id,
                "received_at": r.received_at,
                "priority": r.priority,
                "rules": json.loads(r.priority_rules),
                "completeness": r.completeness,
                "repeats": r.repeats,
                "status": r.status,
                "channel": r.channel,
                "jurisdiction": r.jurisdiction,
                "shared": r.org_id != current.principal.org_id,
            }
            for r in rows
        ]
        kept = {k: v for k, v in filters.__dict__.items() if v not in ("", 0)}
        pages = {
            "previous": urlencode({**kept, "offset": max(0, offset - PAGE)}) if offset else None,
            "next": urlencode({**kept, "offset": offset + PAGE}) if offset + PAGE < total else None,
        }
        return page(
            "queue.html",
            reports=reports,
            total=total,
            offset=offset,
            filters=filters,
            problems=problems,
            fields=fields(),
            statuses=queue_case.STATUSES,
            channels=queue_case.CHANNELS,
            pages=pages,
            **web.frame(current, "queue"),
        )

    @app.get("/reports/next")
    def next_report(request: Request):
        """The highest-priority new report: where a decision on the whole report leads."""
        current = web.current(request)
        rows, _ = queue_case.filtered(web.db, current.principal, queue_case.Filters(), 1, 0)
        return RedirectResponse(f"/reports/{rows[0].id}" if rows else "/?done=1", status_code=303)

    def _report_page(request: Request, report_id: int, status: int = 200, error: str | None = None, **extra):
        """The report page, its files `FILES_PER_PAGE` at a time from `?files=FIRST`."""
        current = web.current(request)
        first = request.query_params.get("files", "0")
        first = whole(first, 6) or 0
        who = current.principal
        report = web.service.get(who, report_id)  # 404 when not this organisation's: the same page
        network = feedback.history(web.db, who, report_id)
        own, by_hand = links.for_page(web.db, who.org_id, report_id)
        return page(
            "report.html",
            status,
            report=report,
            shown_files=report["files"][first : first + FILES_PER_PAGE],
            first=first,
            per_page=FILES_PER_PAGE,
            without_files={k: v for k, v in report["report"].items() if k != "files"},
            network=network,
            fields=fields(),
            outcomes=messages.OUTCOMES,
            error=error,
            can_forward=who.role in ("supervisor", "admin"),
            own=own,
            by_hand=by_hand,
            message=extra.get("message"),
            **web.frame(current, "queue"),
        )

    @app.get("/reports/{report_id}")
    def report(request: Request, report_id: ReportId):
        return _report_page(request, report_id)

    @app.post("/reports/{report_id}/classify")
    async def classify(request: Request, report_id: ReportId):
        current = web.current(request)
        form = await web.checked_form(request, current)
        labels = {name: form.get(name) for name in fields() if form.get(name)}
        target = form.get("file", "")
        file = whole(target, 5)
        try:
            web.service.classify(current.principal, report_id, labels, file)
        except InvalidInput as exc:
            named = "; ".join(
                f"{p['field'].removeprefix('/labels/')}: {p['message']}" for p in exc.problems[:5]
            )
            return _report_page(request, report_id, 422, f"Not recorded: {named}")
        if file is not None:
            return RedirectResponse(f"/reports/{report_id}#files", status_code=303)
        feeds.after_classification(web.service, current.principal, report_id, whole=True)
        return RedirectResponse("/reports/next", status_code=303)

    @app.post("/reports/{report_id}/forward")
    async def forward_report(request: Request, report_id: ReportId):
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            sent = forward.forward(web.service, current.principal, report_id, form.get("to").strip(), None)
        except VigilError as exc:
            return _report_page(request, report_id, 422, f"Not forwarded: {exc}")
        return _report_page(request, report_id, message=f"Forwarded to {sent.get('to', form.get('to'))}.")

    @app.post("/reports/{report_id}/notice")
    async def send_notice(request: Request, report_id: ReportId):
        """A notice-and-takedown for one of the report's URLs (checked and sent by `vigil serve`'s
        notice rounds, repeated while the content stays online)."""
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            made = notices.create_notice(
                web.db, current.principal, report_id, form.get("url"), form.get("provider"),
                form.get("hosting_country"), form.get("contact"),
            )  # fmt: skip
        except NotFoundError:
            raise  # not this organisation's report (create_notice checks): the 404 page
        except VigilError as exc:
            return _report_page(request, report_id, 422, f"Notice not made: {exc}")
        return _report_page(
            request, report_id, message=f"Notice {made['reference']} made: it is checked and sent shortly."
        )

    @app.post("/reports/{report_id}/share")
    async def share_report(request: Request, report_id: ReportId):
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            web.service.share(current.principal, report_id, form.get("organisation").strip()[:200])
        except Forbidden:
            raise  # the 403 page: this role may not share
        except VigilError as exc:
            return _report_page(request, report_id, 422, f"Not shared: {exc}")
        return _report_page(
            request, report_id, message=f"Shared with {form.get('organisation').strip()[:200]}."
        )

    async def _links(request: Request, report_id: int, unlink: bool):
        """Link or unlink this report and another of the organisation's, by hand (intake links what it
        can see); to link, the other report's number as typed (`#12` too), to unlink the page's own."""
        current = web.current(request)
        form = await web.checked_form(request, current)
        typed = form.get("report")
        other = whole(typed if unlink else typed.strip().removeprefix("#"))
        try:
            if other is None:
                raise InvalidInput([{"field": "/report", "message": "give the other report's number"}])
            if unlink:
                web.service.unlink(current.principal, report_id, other)
            else:
                reason = form.get("reason").strip() or None
                new = web.service.link(current.principal, report_id, other, reason)["new"]
        except NotFoundError:
            raise  # not this organisation's report: the 404 page
        except VigilError as exc:
            return _report_page(request, report_id, 422, f"Not {'un' if unlink else ''}linked: {exc}")
        said = "Unlinked from" if unlink else "Linked to" if new else "Already linked to"
        return _report_page(request, report_id, message=f"{said} report #{other}.")

    @app.post("/reports/{report_id}/link")
    async def link_report(request: Request, report_id: ReportId):
        return await _links(request, report_id, unlink=False)

    @app.post("/reports/{report_id}/unlink")
    async def unlink_report(request: Request, report_id: ReportId):
        return await _links(request, report_id, unlink=True)

    @app.post("/reports/{report_id}/feedback")
    async def give_feedback(request: Request, report_id: ReportId):
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            feedback.give(
                web.service, current.principal, report_id, form.get("outcome"), form.get("reason") or None
            )
        except VigilError as exc:
            return _report_page(request, report_id, 422, f"Feedback not sent: {exc}")
        return _report_page(request, report_id, message="Feedback sent to the organisation it came from.")
