"""Schemathesis over the OpenAPI spec: every operation, generated requests (valid and not), as an
authorised supervisor; no request may produce a server error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from vigil.api.app import create_app
from vigil.reports.accounts import Accounts
from vigil.store import open_database

_DB = str(Path(tempfile.mkdtemp(prefix="vigil-fuzz-")) / "fuzz.db")
_accounts = Accounts(open_database(_DB))
_accounts.create_org("fuzz-org", "hotline", "NL")
_accounts.create_user("sup@fuzz.example", "fuzz-org", "supervisor", "a long enough password")
TOKEN = _accounts.create_token("sup@fuzz.example")
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_DB, public_org="fuzz-org"))


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_a_server_error(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
