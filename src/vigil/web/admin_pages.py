"""Admin pages (being built).

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from fastapi import FastAPI, Request

from vigil.reports.errors import Forbidden
from vigil.web.context import Web
from vigil.web.render import page


def install(app: FastAPI, web: Web) -> None:
    @app.get("/admin")
    def admin_index(request: Request):
        current = web.current(request)
        if current.principal.role != "admin":
            raise Forbidden("the admin pages are for administrators")
        return page("soon.html", title="Admin", **web.frame(current, "admin"))
