"""The token cache (issue 11): an authenticated token costs no query for a few seconds, and yet a
revocation is honoured within that bound (at once in the revoking process), expiry at once."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from vigil.reports.accounts import Accounts, AuthError, token_digest
from vigil.store import open_database
from vigil.store.models import ApiToken


def _user(accounts: Accounts) -> str:
    org = f"cache-{uuid.uuid4().hex[:8]}"
    accounts.create_org(org, "hotline", "NL")
    accounts.create_user(f"a@{org}.example", org, "analyst", "correct horse battery staple")
    return f"a@{org}.example"


def test_a_cached_token_needs_no_query_and_revocation_is_bounded(db_url):
    db = open_database(db_url)
    server, admin = Accounts(db, cache_seconds=0.5), Accounts(db)
    token = admin.create_token(_user(admin))
    assert server.authenticate(token).email.startswith("a@")
    queries = []
    from sqlalchemy import event

    def count(*_):
        queries.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert server.authenticate(token) == server.cached(token)
        assert queries == []  # answered from the cache
        admin.revoke_token(token)  # another process: the server's cache still knows the token
        deadline = time.monotonic() + 0.5 + 0.2
        while time.monotonic() < deadline:
            try:
                server.authenticate(token)
            except AuthError:
                break
            time.sleep(0.05)
        with pytest.raises(AuthError):
            server.authenticate(token)  # refused within cache_seconds
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_the_revoking_process_and_expiry_act_at_once(db_url):
    db = open_database(db_url)
    accounts = Accounts(db, cache_seconds=60)
    email = _user(accounts)
    token = accounts.create_token(email)
    accounts.authenticate(token)
    accounts.revoke_token(token)
    with pytest.raises(AuthError):
        accounts.authenticate(token)
    expiring = accounts.create_token(email, expires_days=1)
    accounts.authenticate(expiring)
    with db.engine.begin() as conn:
        conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(expiring))
            .values(expires_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1))
        )
    accounts._cache[token_digest(expiring)] = (
        accounts._cache[token_digest(expiring)][0],
        datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1),
        accounts._cache[token_digest(expiring)][2],
    )  # the cached expiry time passes: refused without asking the database
    with pytest.raises(AuthError, match="expired"):
        accounts.authenticate(expiring)
