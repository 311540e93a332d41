"""Hash sets pages (being built).

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from fastapi import FastAPI, Request

from vigil.web.context import Web
from vigil.web.render import page


def install(app: FastAPI, web: Web) -> None:
    @app.get("/hashsets")
    def hashset_index(request: Request):
        current = web.current(request)
        return page("soon.html", title="Hash sets", **web.frame(current, "hashsets"))
