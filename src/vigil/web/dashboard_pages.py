"""The dashboard: the organisation's reports over the last 7, 30 or 90 days (`?days=`), its open queue
by age, files matched per hash set and time to removal per hosting country. Every figure comes from
vigil.reports.dashboard (the SQL is there); the charts are server-side SVG (vigil.web.charts), each
with a table or a figure beside it, so the page needs no JavaScript. Reading it is audited.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from fastapi import FastAPI, Query, Request

from vigil.reports import dashboard
from vigil.web import charts
from vigil.web.context import Web
from vigil.web.render import page

SOURCES = {"api": "API", "public": "Public form", "forward": "Forwarded"}
CHART_SETS = 15  # hash sets drawn (the table lists up to dashboard.MAX_SETS)


def age(seconds: int | None) -> str:
    """A duration for people: `45 min`, `5 h 12 min`, `3 d 4 h`."""
    if seconds is None:
        return ""
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days:,} d {hours} h" if hours else f"{days:,} d"


def hours(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f} h"


def _charts(d: dashboard.Dashboard) -> dict:
    per_day = {SOURCES.get(c, c): counts for c, counts in d.per_day.items()}
    files = d.files
    labelled = [
        ("Earlier assessment", files.prior),
        ("Hash-set match only", files.match_only),
        ("Neither (by hand)", files.by_hand),
    ]
    medians = [(r.country, r.median_hours) for r in d.removal if r.median_hours is not None]
    return {
        "per_day": charts.stacked_days(d.day_labels, per_day, title=f"Reports per day, last {d.days} days"),
        "labelled": charts.bar_chart(labelled if files.total else [], title="Files received, how labelled"),
        "queue": charts.histogram(d.queue.buckets if d.queue.open else [], title="Open reports by age"),
        "hashsets": charts.bar_chart(d.hashset_hits[:CHART_SETS], title="Files matched per hash set"),
        "removal": charts.bar_chart(medians, title="Median time to removal", unit="h"),
    }


def install(app: FastAPI, web: Web) -> None:
    @app.get("/dashboard")
    def dashboard_index(request: Request, days: int = Query(dashboard.DEFAULT_DAYS, ge=1, le=3650)):
        current = web.current(request)
        d = dashboard.summary(web.db, current.principal, dashboard.check_days(days))
        return page(
            "dashboard.html",
            d=d,
            charts=_charts(d),
            periods=dashboard.PERIODS,
            sources=SOURCES,
            day_totals=[sum(counts) for counts in zip(*d.per_day.values(), strict=True)],
            oldest_age=age(d.queue.oldest_seconds),
            hours=hours,
            chart_sets=CHART_SETS,
            max_files=dashboard.MAX_FILES,
            **web.frame(current, "dashboard"),
        )
