"""Administration for an organisation's admins: the organisations this instance knows, the
organisation's users (create), API tokens (issue: shown once; revoke), and the network's sharing
rules, routes and peers. Every change is audited with the admin's e-mail as the actor.

No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime."""

from typing import Annotated

from fastapi import FastAPI, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from vigil.errors import VigilError
from vigil.exchange import peers, rulebook
from vigil.reports.accounts import ROLES, SCOPES, Accounts
from vigil.reports.errors import Forbidden
from vigil.reports.sessions import Current
from vigil.web.context import Web
from vigil.web.forms import whole
from vigil.web.render import page

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def install(app: FastAPI, web: Web) -> None:
    accounts = web.accounts or Accounts(web.db)

    def admin(request: Request) -> Current:
        current = web.current(request)
        if current.principal.role != "admin":
            raise Forbidden("the admin pages are for administrators")
        return current

    def render(
        current: Current, status: int = 200, message: str | None = None, error: str | None = None, **extra
    ):
        who = current.principal
        with web.db.engine.connect() as conn:
            rules = rulebook.share_rules(conn, who.org_id)
            routes = rulebook.routes(conn, who.org_id)
        return page(
            "admin.html",
            status,
            message=message,
            error=error,
            organisations=accounts.organisations(),
            users=accounts.users(who.org_id),
            tokens=accounts.tokens(who.org_id),
            rules=rules,
            routes=routes,
            peers=peers.list_peers(web.db),
            roles=ROLES,
            scopes=SCOPES,
            new_token=extra.get("new_token"),
            **web.frame(current, "admin"),
        )

    @app.get("/admin")
    def admin_page(request: Request):
        return render(admin(request))

    @app.post("/admin/users")
    async def create_user(request: Request):
        current = admin(request)
        form = await web.checked_form(request, current)
        email = form.get("email").strip()
        try:
            await run_in_threadpool(
                accounts.create_user,
                email,
                current.principal.org_name,
                form.get("role"),
                form.get("password"),
                current.principal.email,
            )
        except VigilError as exc:
            return render(current, 422, error=f"User not created: {exc}")
        return render(current, message=f"User {email} created.")

    @app.post("/admin/tokens")
    async def issue_token(request: Request):
        current = admin(request)
        form = await web.checked_form(request, current)
        days = form.get("expires_days").strip()
        try:
            issued = accounts.issue_token(
                form.get("email").strip(),
                form.getlist("scope") or None,
                whole(days, 5),
                actor=current.principal.email,
                org_id=current.principal.org_id,
            )
        except VigilError as exc:
            return render(current, 422, error=f"Token not issued: {exc}")
        return render(
            current, message="Token issued: copy it now, it is not shown again.", new_token=issued.token
        )

    @app.post("/admin/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, token_id: TokenId):
        current = admin(request)
        await web.checked_form(request, current)
        accounts.revoke_token_id(current.principal.org_id, token_id, current.principal.email)
        return RedirectResponse("/admin#tokens", status_code=303)

    @app.post("/admin/rules")
    async def add_rule(request: Request):
        current = admin(request)
        form = await web.checked_form(request, current)
        kind, target = form.get("target_kind"), form.get("target").strip()
        sector, to = (target, None) if kind == "sector" else (None, target)
        try:
            if form.get("kind") == "route":
                rulebook.add_route(
                    web.db, current.principal.org_name, form.get("label"), sector, to,
                    web.settings.classification_extra, current.principal.email,
                )  # fmt: skip
            else:
                rulebook.add_rule(
                    web.db, current.principal.org_name, form.get("label"), form.get("effect"), sector, to,
                    web.settings.classification_extra, current.principal.email,
                )  # fmt: skip
        except VigilError as exc:
            return render(current, 422, error=f"Not added: {exc}")
        return render(current, message="Added.")
