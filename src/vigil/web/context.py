"""What every page route needs: the services, the signed-in user (or a redirect to sign in), the
checked form of a POST (CSRF token and origin), and the page frame's context (who, the CSRF token,
the wellbeing settings and today's reveal count)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from vigil.reports import wellbeing
from vigil.reports.accounts import Accounts
from vigil.reports.service import ReportService
from vigil.reports.sessions import Current, Sessions, csrf_matches
from vigil.settings import Settings
from vigil.web.forms import Form, read_form

COOKIE = "vigil_session"
SECURE_COOKIE = "__Host-vigil_session"  # browsers keep it only if Secure, path /, and no Domain


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page (and back afterwards)."""


class CsrfRefused(Exception):
    """A POST without this session's CSRF token, or from another origin."""


@dataclass
class Web:
    service: ReportService
    sessions: Sessions
    settings: Settings
    accounts: Accounts | None = None

    @property
    def db(self):
        return self.service.db

    @property
    def cookie(self) -> str:
        """The session cookie's name: `__Host-` when `secure_cookies` is set (behind TLS), so no
        other host or plain-http page of the domain can set or shadow it."""
        return SECURE_COOKIE if self.settings.secure_cookies else COOKIE

    def cookie_secure(self, request: Request) -> bool:
        if self.settings.secure_cookies:
            return True
        return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"

    def signed_in(self, request: Request) -> Current | None:
        return self.sessions.current(request.cookies.get(self.cookie))

    def current(self, request: Request) -> Current:
        current = self.signed_in(request)
        if current is None:
            raise SignInRequired
        return current

    async def checked_form(self, request: Request, current: Current) -> Form:
        """The POSTed form, once its CSRF token (field `csrf` or header X-CSRF-Token) and its
        origin are this session's and this server's."""
        if not self.same_origin(request):
            raise CsrfRefused
        form = await read_form(request)
        given = form.get("csrf") or request.headers.get("x-csrf-token")
        if not csrf_matches(current.csrf, given):
            raise CsrfRefused
        return form

    @staticmethod
    def same_origin(request: Request) -> bool:
        """No Origin header (an older browser, a script), or this server's own."""
        origin = request.headers.get("origin")
        return not origin or origin == "null" or urlsplit(origin).netloc == request.headers.get("host", "")

    def frame(self, current: Current | None, active: str = "") -> dict:
        """The context of the page frame (header, navigation, wellbeing counter)."""
        if current is None:
            return {"me": None, "csrf": "", "active": active, "prefs": wellbeing.Prefs(), "revealed": 0}
        who = current.principal
        return {
            "me": who,
            "csrf": current.csrf,
            "active": active,
            "prefs": wellbeing.prefs(self.db, who.user_id),
            "revealed": wellbeing.revealed_today(self.db, who.user_id),
            "idle_seconds": current.idle_seconds,
        }


def next_path(path: str) -> str:
    """A local path to come back to after signing in: never another site (`//evil`, `http:`)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 500:
        return "/"
    return path


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(next_path(here), safe="")
