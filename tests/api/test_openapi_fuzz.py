"""Schemathesis over the OpenAPI spec: every operation (the anonymous public form included), generated
requests (valid and not), each sent twice, as an authorised supervisor and anonymously. No request
may produce a server error, and every error answer is application/problem+json.

VIGIL_FUZZ_EXAMPLES sets the examples per operation (default 500, as issue 10 asks)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from vigil.api.app import create_app
from vigil.reports.accounts import Accounts
from vigil.store import open_database

EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "500"))
_DB = str(Path(tempfile.mkdtemp(prefix="vigil-fuzz-")) / "fuzz.db")
_accounts = Accounts(open_database(_DB))
_accounts.create_org("fuzz-org", "hotline", "NL")
_accounts.create_user("sup@fuzz.example", "fuzz-org", "supervisor", "a long enough password")
TOKEN = _accounts.create_token("sup@fuzz.example")
_app = create_app(_DB, public_org="fuzz-org", public_rate="1000000/60")
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


def problem_json_errors(ctx, response, case) -> None:
    """Every 4xx/5xx answer is RFC 9457 problem+json with its status in the body."""
    if response.status_code < 400:
        return
    ctype = response.headers.get("content-type") or [""]
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    assert ctype == "application/problem+json", f"{response.status_code} answered as {ctype!r}"
    assert response.json()["status"] == response.status_code


def test_every_operation_is_fuzzed():
    operations = {f"{o.method.upper()} {o.path}" for o in (r.ok() for r in schema.get_all_operations())}
    assert {"POST /v1/public/reports", "POST /v1/reports", "POST /v1/hash-check"} <= operations


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_no_request_makes_a_server_error(case):
    checks = [not_a_server_error, problem_json_errors]
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=checks)
    case.call_and_validate(
        headers={k: v for k, v in (case.headers or {}).items() if k != "Authorization"}, checks=checks
    )
