"""The take-it-down pages: no account, no identity asked, a phone's browser is enough. The person
picks pictures or videos; `static/takeitdown/page.js` hashes them on the device (hashing.js: MD5,
SHA-256, PDQ, vPDQ) and sends the hashes to `/v1/takeitdown/submissions`; the case code it answers is
shown once. `/takeitdown/status` checks a case by its code (counts only).

The pages' own Content-Security-Policy is the proof that nothing else leaves: scripts and workers
from this server only, requests to this server only (`connect-src 'self'`), no forms posting
anywhere, pictures and videos drawn from local `blob:` URLs only. Words come from
`i18n/takeitdown.toml` in the languages the organisation lists (VIGIL_TAKEITDOWN_LANGUAGES).

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

import tomllib
from functools import cache
from importlib import resources

from fastapi import FastAPI, Request

from vigil.errors import NotFoundError, VigilError
from vigil.exchange import selfreport
from vigil.web.context import Web
from vigil.web.render import HEADERS, page

CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; media-src blob:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


@cache
def catalog() -> dict[str, dict[str, str]]:
    return tomllib.loads(resources.files("vigil.web").joinpath("i18n/takeitdown.toml").read_text())


def languages(setting: str) -> list[str]:
    """The configured languages, checked against the catalog (a VigilError names the missing one)."""
    wanted = [code.strip().lower() for code in setting.split(",") if code.strip()] or ["en"]
    missing = [code for code in wanted if code not in catalog()]
    if missing:
        raise VigilError(
            f"VIGIL_TAKEITDOWN_LANGUAGES: no words for {missing[0][:10]!r}; "
            f"the page speaks {', '.join(catalog())}"
        )
    return wanted


def _chosen(request: Request, offered: list[str]) -> str:
    """?lang=xx if offered, else the browser's first offered language, else the first configured."""
    asked = request.query_params.get("lang", "")
    if asked in offered:
        return asked
    for part in request.headers.get("accept-language", "")[:200].split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in offered:
            return code
    return offered[0]


def install(app: FastAPI, web: Web) -> None:
    offered = languages(web.settings.takeitdown_languages)
    org = web.settings.takeitdown_org or web.settings.public_org

    def _page(request: Request, template: str):
        if org is None:
            raise NotFoundError("this instance does not offer take it down")
        lang = _chosen(request, offered)
        words = catalog()[lang]
        return page(
            template,
            headers={**HEADERS, "Content-Security-Policy": CSP},
            t=words,
            lang=lang,
            languages=[(code, catalog()[code]["language"]) for code in offered],
            org=org,
            max_items=selfreport.MAX_ITEMS,
            max_frames=selfreport.MAX_FRAMES,
        )

    @app.get("/takeitdown")
    def takeitdown(request: Request):
        return _page(request, "takeitdown.html")

    @app.get("/takeitdown/status")
    def takeitdown_status(request: Request):
        return _page(request, "takeitdown_status.html")
