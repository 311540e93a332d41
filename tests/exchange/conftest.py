"""Exchange tests use the API tests' databases and organisations (SQLite and the real PostgreSQL), and
pairs of instances, each with its own database, that know each other as peers."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.conftest import PASSWORD, app, client, db_url, example, make_org  # noqa: F401
from vigil.api.app import create_app
from vigil.exchange import peers, rulebook
from vigil.reports.accounts import Accounts
from vigil.store import open_database

A_URL, B_URL = "http://hotline-a.test", "http://police-b.test"


class Instance:
    def __init__(self, path, org: str, sector: str, url: str):
        self.url, self.org = url, org
        self.db = open_database(str(path))
        accounts = Accounts(self.db)
        accounts.create_org(org, sector, "NL")
        accounts.create_user(f"boss@{org}.example", org, "supervisor", PASSWORD)
        self.headers = {"Authorization": f"Bearer {accounts.create_token(f'boss@{org}.example')}"}
        self.client = TestClient(create_app(str(path)), base_url=url, raise_server_exceptions=False)

    def count(self, table) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar()


@pytest.fixture
def pair(tmp_path, monkeypatch):
    # each instance keeps its set indexes beside its own database (the PostgreSQL half of the API
    # tests points VIGIL_INDEX_DIR at its folder for the whole session)
    monkeypatch.delenv("VIGIL_INDEX_DIR", raising=False)
    a = Instance(tmp_path / "a.db", "hotline-a", "hotline", A_URL)
    b = Instance(tmp_path / "b.db", "police-b", "law_enforcement", B_URL)
    peers.add_peer(a.db, "b", B_URL, peers.public_key(b.db), "police-b", "law_enforcement", "NL")
    peers.add_peer(b.db, "a", A_URL, peers.public_key(a.db), "hotline-a", "hotline", "NL")
    rulebook.add_rule(a.db, "hotline-a", "assessment=*", "allow", "law_enforcement", None)
    rulebook.add_rule(b.db, "police-b", "assessment=*", "allow", "hotline", None)
    return a, b
