"""Sign-in, sign-out, and the user's own page: password change and wellbeing settings.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from vigil.errors import VigilError
from vigil.reports import wellbeing
from vigil.reports.sessions import SignInRefused
from vigil.web.context import CsrfRefused, Web, next_path
from vigil.web.forms import read_form
from vigil.web.render import page


def _cookie(web: Web, response: Response, request: Request, value: str, max_age: int | None) -> None:
    response.set_cookie(
        web.cookie,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=web.cookie_secure(request),
        path="/",
    )


def install(app: FastAPI, web: Web) -> None:
    @app.get("/signin")
    def sign_in_page(request: Request, next: str = "/"):
        if web.signed_in(request) is not None:
            return RedirectResponse(next_path(next), status_code=303)
        return page("signin.html", error=None, email="", next=next_path(next), **web.frame(None, "signin"))

    @app.post("/signin")
    async def sign_in(request: Request):
        if not web.same_origin(request):  # no signing a browser in to someone else's account
            raise CsrfRefused
        form = await read_form(request)
        email, target = form.get("email"), next_path(form.get("next", "/"))
        client = request.client.host if request.client else "?"
        try:  # Argon2id takes ~50 ms of CPU: off the event loop
            cookie, _ = await run_in_threadpool(web.sessions.sign_in, email, form.get("password"), client)
        except SignInRefused as exc:
            return page(
                "signin.html",
                401,
                error=str(exc),
                email=email[:320],
                next=target,
                **web.frame(None, "signin"),
            )
        response = RedirectResponse(target, status_code=303)
        _cookie(web, response, request, cookie, None)  # a browser-session cookie; the server ends it too
        return response

    @app.post("/signout")
    async def sign_out(request: Request):
        current = web.current(request)
        await web.checked_form(request, current)
        web.sessions.sign_out(current)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(web.cookie, path="/", secure=web.cookie_secure(request))
        return response

    @app.get("/account")
    def account(request: Request):
        current = web.current(request)
        return page("account.html", message=None, error=None, **web.frame(current, "account"))

    @app.post("/account/password")
    async def change_password(request: Request):
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            await run_in_threadpool(
                web.sessions.change_password,
                current,
                form.get("current"),
                form.get("new"),
                form.get("confirm"),
            )
        except VigilError as exc:
            return page("account.html", 422, message=None, error=str(exc), **web.frame(current, "account"))
        message = "Password changed. Your other sessions have been signed out."
        return page("account.html", message=message, error=None, **web.frame(current, "account"))

    @app.post("/account/prefs")
    async def save_prefs(request: Request):
        current = web.current(request)
        form = await web.checked_form(request, current)
        try:
            wellbeing.save(web.db, current.principal, wellbeing.check(form.as_dict()))
        except VigilError as exc:
            return page("account.html", 422, message=None, error=str(exc), **web.frame(current, "account"))
        return page("account.html", message="Settings saved.", error=None, **web.frame(current, "account"))
