"""Web UI tests use the API tests' app and databases (SQLite and the real PostgreSQL): each test makes
its own organisation and users, and signs in through the sign-in form as a browser would."""

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, app, client, db_url, example, make_org  # noqa: F401
from vigil.reports.accounts import Accounts
from vigil.store import open_database

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Browser:
    """A signed-in TestClient of its own (its own cookie jar) and the CSRF token of its session."""

    client: TestClient
    email: str
    org: str
    csrf: str
    token: str  # the user's API token, to make reports through the API

    def post(self, path: str, data: dict | None = None, **kw):
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)


def sign_in(application, email: str, password: str = PASSWORD) -> TestClient:
    c = TestClient(application, raise_server_exceptions=False, follow_redirects=False)
    c.__enter__()
    answer = c.post("/signin", data={"email": email, "password": password, "next": "/"})
    assert answer.status_code == 303, answer.text
    return c


@pytest.fixture
def team(app, db_url, client):  # noqa: F811 - fixtures of tests.api.conftest
    """One organisation with an analyst, a supervisor and an admin, each signed in."""
    yield from make_team(app, db_url)


def make_team(application, url: str, tokens: bool = True):
    """(A generator for fixtures) the team, signed in; signed out after the `yield`."""
    accounts = Accounts(open_database(url))
    name = f"org-{uuid.uuid4().hex[:8]}"
    accounts.create_org(name, "hotline", "NL")
    out = {}
    for role in ("analyst", "supervisor", "admin"):
        email = f"{role}@{name}.example"
        accounts.create_user(email, name, role, PASSWORD)
        c = sign_in(application, email)
        csrf = CSRF.search(c.get("/account").text).group(1)
        out[role] = Browser(c, email, name, csrf, accounts.create_token(email) if tokens else "")
    yield out
    for b in out.values():
        b.client.__exit__(None, None, None)


def distinct(report: dict | None = None) -> dict:
    """The example report (or `report`) with a URL and file hashes of its own: not a repeat."""
    report = report or example()
    tag = uuid.uuid4().hex
    report["channel"]["urls"] = [f"https://images.example.org/{tag}"]
    for f in report["files"]:
        f["hashes"] = {"md5": tag}
    return report


def submit(api: TestClient, browser: Browser, report: dict | None = None) -> int:
    answer = api.post(
        "/v1/reports", json=distinct(report), headers={"Authorization": f"Bearer {browser.token}"}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]
