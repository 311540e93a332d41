"""Pages: one Jinja2 environment (autoescaped),
the headers every page carries, and the filters templates use on hostile text.

Content-Security-Policy allows scripts, styles and images from this server only: no inline script,
no inline style, no CDN — a name in a report that smuggles markup past escaping still runs nothing,
and a page never reaches out of a police network."""

from __future__ import annotations

import json
from datetime import datetime

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from vigil.safetext import visible

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # pages hold case data: not kept by the browser or a proxy
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _when(value) -> str:
    """A stored time (naive UTC datetime or ISO text) as `2026-12-01 14:03 UTC`."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return visible(value[:40])
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _shown(value) -> str:
    """Hostile text as a person should read it: control and bidi characters shown as escapes."""
    return "" if value is None else visible(str(value))


def _label(key: str) -> str:
    """`reportedPerson` / `age_band` as `reported person` / `age band`."""
    out = "".join(" " + c.lower() if c.isupper() else c for c in str(key)).replace("_", " ")
    return out.strip()


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


ENV = Environment(
    loader=PackageLoader("vigil.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=ChainableUndefined,  # optional keys of hostile dicts render empty
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(when=_when, shown=_shown, label=_label, number=_number, tojson_attr=json.dumps)


def page(name: str, status: int = 200, headers: dict | None = None, **context) -> HTMLResponse:
    html = ENV.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})
