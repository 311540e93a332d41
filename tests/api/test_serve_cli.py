"""`vigil admin ...` creates the first organisation, user and token; `vigil serve` answers over real
HTTP in a subprocess with them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from tests.api.conftest import example


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

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli.main", "serve", "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        made = httpx.post(f"{base}/v1/reports", json=example(0), headers=auth)
        assert made.status_code == 201, made.text
        assert (
            httpx.get(f"{base}/v1/reports/{made.json()['id']}", headers=auth).json()["id"]
            == made.json()["id"]
        )
        assert httpx.get(f"{base}/v1/queue").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert vigil("audit", "verify", "--db", db).stdout.startswith("audit log intact: 5 entries")
