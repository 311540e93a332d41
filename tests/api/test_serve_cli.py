"""`vigil admin ...` creates the first organisation, user and token; `vigil serve` answers over real
HTTP in a subprocess with them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.api.conftest import example
from tests.web.browser import free_port, start


def vigil(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_admin_commands_then_a_served_request(tmp_path):
    db = str(tmp_path / "serve.db")
    assert (
        vigil(
            "admin", "org-create", "Hotline NL", "--sector", "hotline", "--country", "NL", "--db", db
        ).returncode
        == 0
    )
    bad = vigil("admin", "org-create", "X", "--sector", "bakery", "--country", "NL", "--db", db)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --sector must be one of hotline")
    short = vigil(
        "admin",
        "user-create",
        "a@h.example",
        "--org",
        "Hotline NL",
        "--role",
        "analyst",
        "--db",
        db,
        stdin="short\n",
    )
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    ok = vigil(
        "admin",
        "user-create",
        "a@h.example",
        "--org",
        "Hotline NL",
        "--role",
        "analyst",
        "--db",
        db,
        stdin="a sufficiently long pass\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "a sufficiently long pass" not in (tmp_path / "serve.db").read_bytes().decode("latin-1")
    unknown = vigil("admin", "token-create", "nobody@h.example", "--db", db)
    assert unknown.returncode == 2 and "no user" in unknown.stderr
    token = vigil("admin", "token-create", "a@h.example", "--expires", "30", "--db", db).stdout.strip()
    assert token.startswith("vgl_")

    server, base = _serve("--db", db)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        made = httpx.post(f"{base}/v1/reports", json=example(0), headers=auth)
        assert made.status_code == 201, made.text
        assert (
            httpx.get(f"{base}/v1/reports/{made.json()['id']}", headers=auth).json()["id"]
            == made.json()["id"]
        )
        assert httpx.get(f"{base}/v1/queue").status_code == 401
        assert httpx.get(f"{base}/v1/reports/abc", headers=auth).status_code == 422
        big = httpx.post(f"{base}/v1/public/reports", content=b"[" + b"0," * 50_000 + b"0]")
        assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert vigil("audit", "verify", "--db", db).stdout.startswith("audit log intact: 5 entries")
    # the start-up line: address, database kind, workers; then one line per request, no personal data
    lines = err.decode().splitlines()
    start = next(line for line in lines if "vigil serve:" in line)
    assert base in start and "database sqlite" in start and "1 worker," in start, start
    requests = [line for line in lines if "vigil serve:" not in line and "ms" in line]
    report_id = made.json()["id"]
    for expected in (
        "POST /v1/reports 201 ",
        f"GET /v1/reports/{report_id} 200 ",
        "GET /v1/queue 401 ",
        "GET /v1/reports/{report_id} 422 ",  # not an id: the route's template, not what was typed
        "POST /v1/public/reports 413 ",  # refused while reading, before routing
    ):
        assert any(expected in line for line in requests), (expected, requests)
    joined = "\n".join(requests)
    for secret in (token, "127.0.0.1", "images.example.org", "abc", "Bearer"):
        assert secret not in joined, secret


def _serve(*args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    return start(*args, env=env, tries=200)


def test_serve_refuses_an_unknown_public_org(tmp_path):
    db = str(tmp_path / "serve.db")
    started = vigil("serve", "--port", str(free_port()), "--public-org", "No Such Desk", "--db", db)
    assert started.returncode == 2
    assert started.stderr.startswith("error: --public-org: no organisation named 'No Such Desk'")
    assert len(started.stderr.strip().splitlines()) == 1, started.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", "serve", "--db", db],
        env={**os.environ, "VIGIL_PUBLIC_RATE": "lots", "VIGIL_PUBLIC_ORG": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: VIGIL_PUBLIC_RATE must be"), bad.stderr


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running at 127.0.0.1:6379")
def test_public_rate_limit_holds_across_servers(tmp_path):
    """Two `vigil serve` processes on one database share the public form's limit through Redis."""
    db = str(tmp_path / "serve.db")
    desk = f"desk-{uuid.uuid4().hex[:8]}"  # the limit is counted per receiving organisation
    assert (
        vigil("admin", "org-create", desk, "--sector", "hotline", "--country", "NL", "--db", db).returncode
        == 0
    )
    env = {"VIGIL_REDIS_URL": "redis://127.0.0.1:6379/0", "VIGIL_PUBLIC_RATE": "3/60"}
    one, base_one = _serve("--db", db, "--public-org", desk, "--workers", "2", env=env)
    try:
        two, base_two = _serve("--db", db, "--public-org", desk, env=env)
        try:
            body = {"incident": {"type": "other"}}
            codes = [
                httpx.post(f"{base}/v1/public/reports", json=body).status_code
                for base in (base_one, base_two) * 3
            ]
            assert sorted(codes) == [201, 201, 201, 429, 429, 429], codes
            late = httpx.post(f"{base_two}/v1/public/reports", json=body)
            assert late.status_code == 429 and late.headers["content-type"] == "application/problem+json"
            assert late.headers["retry-after"] == "60"
        finally:
            two.terminate()
            _, err = two.communicate(timeout=10)
        assert "counted in redis at 127.0.0.1:6379" in err.decode()
    finally:
        one.terminate()
        one.communicate(timeout=10)


def test_serve_refuses_an_unreachable_redis(tmp_path):
    db = str(tmp_path / "serve.db")
    started = subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", "serve", "--port", str(free_port()), "--db", db],
        env={**os.environ, "VIGIL_REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2 and started.stderr.startswith(
        "error: VIGIL_REDIS_URL: Redis does not answer"
    )
    assert "hunter2" not in started.stderr


def test_start_up_line_names_the_database_kind_never_its_password():
    from vigil.cli.serve_cmd import database_kind

    line = database_kind("postgresql+psycopg://vigil:s3cret@db.example:5433/reports")
    assert line == "postgresql on db.example:5433/reports"
    assert database_kind("/var/lib/vigil/vigil.db") == "sqlite /var/lib/vigil/vigil.db"
