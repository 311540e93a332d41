"""API tests run against SQLite and PostgreSQL (VIGIL_TEST_POSTGRES_URL, a real server: .ci/run sets
it; without it the PostgreSQL half is skipped). Each backend gets a fresh database for the session;
each test makes its own organisations, so tests do not see each other's reports."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from vigil.api.app import create_app
from vigil.reports.accounts import Accounts
from vigil.store import open_database

PASSWORD = "correct horse battery staple"


def database(url: str):
    """The database as the app under test opens it: with the same index folder (VIGIL_INDEX_DIR for
    PostgreSQL), so a set imported here is seen by the app at once, not after its periodic check."""
    return open_database(url, index_dir=os.environ.get("VIGIL_INDEX_DIR"))


def _postgres_database(base_url: str):
    import psycopg

    name = f"vigil_test_{uuid.uuid4().hex[:10]}"
    admin_url = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = admin_url.rpartition("/")
    return f"{head}/{name}", lambda: _drop(admin_url, name)


def _drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("sqlite") / "vigil.db")
        return
    base = os.environ.get("VIGIL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("VIGIL_TEST_POSTGRES_URL is not set (.ci/run sets it to the local PostgreSQL)")
    os.environ["VIGIL_INDEX_DIR"] = str(tmp_path_factory.mktemp("pgindex"))
    url, drop = _postgres_database(base)
    yield url
    drop()


@pytest.fixture(scope="session")
def app(db_url):
    Accounts(open_database(db_url)).create_org("public-desk", "hotline", "NL")
    return create_app(db_url, public_org="public-desk", public_rate="3/60")


@pytest.fixture(scope="session")
def client(app, db_url):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Org:
    name: str
    tokens: dict  # role -> bearer token

    def h(self, role: str = "analyst") -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def make_org(db_url, client):
    accounts = Accounts(open_database(db_url))

    def make(sector: str = "hotline", country: str = "NL") -> Org:
        name = f"org-{uuid.uuid4().hex[:8]}"
        accounts.create_org(name, sector, country)
        tokens = {}
        for role in ("analyst", "supervisor", "admin"):
            email = f"{role}@{name}.example"
            accounts.create_user(email, name, role, PASSWORD)
            tokens[role] = accounts.create_token(email)
        return Org(name, tokens)

    return make


def example(i: int = 0) -> dict:
    """A copy of the template's example `i` (the template is cached: a test that changed the example
    itself changed it for every later test, and for the app serving /schema/report)."""
    import copy

    from vigil.reports.template import report_schema

    return copy.deepcopy(report_schema()["examples"][i])
