"""The whole story across three real `vigil serve` processes on loopback, each with its own database
(B on PostgreSQL when the tests have one): a public report at hotline A is classified and forwarded
by A's routes to police B (down at that moment: SIGKILLed, then restarted) and hotline C; B's
feedback reaches A; A's notice goes to a local "host", the content is removed and A confirms it; C
subscribes to A's hash feed, matches with it, and sends an opinion back. Nothing is lost or
duplicated, and every audit chain verifies."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import update

from tests.api.conftest import PASSWORD, _postgres_database, example
from tests.web.browser import free_port as _free_port
from vigil.store import open_database

CONTENT = b"an ordinary benign test file, standing in for a reported picture\n"
MD5 = hashlib.md5(CONTENT).hexdigest()


def _env(db: str) -> dict:
    """Each instance's own index folder: beside its SQLite file, or its own for PostgreSQL (the API
    tests' session may have set VIGIL_INDEX_DIR for theirs)."""
    env = {k: v for k, v in os.environ.items() if k != "VIGIL_INDEX_DIR"}
    if db.startswith("postgresql"):
        env["VIGIL_INDEX_DIR"] = INDEX_DIRS.setdefault(db, tempfile.mkdtemp(prefix="vigil-index-"))
    return env


INDEX_DIRS: dict[str, str] = {}


def vigil(*args: str, db: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli.main", *args, "--db", db],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(db),
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()


class Host:
    """A hosting provider: serves the reported file until told to remove it, takes notices."""

    def __init__(self):
        self.online, self.notices = True, []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = CONTENT if host.online and self.path == "/file.bin" else b"gone"
                self.send_response(200 if body is CONTENT else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                host.notices.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Instance:
    def __init__(self, name: str, org: str, sector: str, country: str, db: str):
        self.name, self.org, self.db = name, org, db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        vigil("admin", "org-create", org, "--sector", sector, "--country", country, db=db)
        vigil(
            "admin",
            "user-create",
            f"boss@{name}.example",
            "--org",
            org,
            "--role",
            "supervisor",
            db=db,
            stdin=PASSWORD + "\n",
        )
        token = vigil("admin", "token-create", f"boss@{name}.example", db=db)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.key = vigil("exchange", "key-show", db=db)
        self.process = None

    def start(self, *args: str) -> None:
        env = {**_env(self.db), "VIGIL_EXCHANGE_INTERVAL": "0.3", "VIGIL_ALLOW_PRIVATE_HOSTS": "1"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigil.cli.main",
                "serve",
                "--port",
                str(self.port),
                "--db",
                self.db,
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.args = args
        wait(lambda: _healthy(self.url), f"{self.name} to start", self.process)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str) -> dict:
        response = httpx.get(self.url + path, headers=self.auth, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict, status: int = 201) -> dict:
        response = httpx.post(self.url + path, json=body, headers=self.auth, timeout=60)
        assert response.status_code == status, response.text
        return response.json()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait(condition, what: str, process=None, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the server exited: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def network(tmp_path):
    base = os.environ.get("VIGIL_TEST_POSTGRES_URL")
    b_db, drop = _postgres_database(base) if base else (str(tmp_path / "b.db"), lambda: None)
    a = Instance("a", "hotline-a", "hotline", "NL", str(tmp_path / "a.db"))
    b = Instance("b", "police-b", "law_enforcement", "NL", b_db)
    c = Instance("c", "hotline-c", "hotline", "DE", str(tmp_path / "c.db"))
    for me, other, sector, country in (
        (a, b, "law_enforcement", "NL"),
        (a, c, "hotline", "DE"),
        (b, a, "hotline", "NL"),
        (c, a, "hotline", "NL"),
    ):
        vigil(
            "exchange",
            "peer-add",
            other.name,
            "--url",
            other.url,
            "--key",
            other.key,
            "--org",
            other.org,
            "--sector",
            sector,
            "--country",
            country,
            db=me.db,
        )
    yield a, b, c
    for one in (a, b, c):
        one.stop()
    drop()


def test_the_whole_story(network):
    a, b, c = network
    host = Host()
    for rule in (("--sector", "law_enforcement"), ("--sector", "hotline")):
        vigil(
            "exchange", "rule-add", "hotline-a", "--label", "assessment=baseline", "--allow", *rule, db=a.db
        )
    vigil(
        "exchange",
        "route-add",
        "hotline-a",
        "--label",
        "assessment=baseline",
        "--sector",
        "law_enforcement",
        db=a.db,
    )
    vigil(
        "exchange", "route-add", "hotline-a", "--label", "assessment=baseline", "--to", "hotline-c", db=a.db
    )
    vigil(
        "exchange", "rule-add", "police-b", "--label", "assessment=*", "--allow", "--to", "hotline-a", db=b.db
    )
    vigil("exchange", "subscribe", "a", "hotline-a", "--name", "from-a", db=c.db)
    a.start("--public-org", "hotline-a")
    b.start()
    c.start()

    b.kill()  # the police instance goes down before anything is sent to it
    body = {
        **example(0),
        "jurisdiction": "NL",
        "channel": {"kind": "web", "urls": [host.url + "/file.bin"]},
        "files": [{"hashes": {"md5": MD5}}],
    }
    public = httpx.post(a.url + "/v1/public/reports", json=body, timeout=30)
    assert public.status_code == 201, public.text
    report = public.json()["id"]
    classified = a.post(f"/v1/reports/{report}/classifications", {"labels": {"assessment": "baseline"}})
    assert sorted(f["to"] for f in classified["forwarded"] if f["sent"]) == ["hotline-c", "police-b"]

    wait(lambda: c.get("/v1/queue")["reports"], "the report at C")
    wait(lambda: "Connect" in str(_peer(a, "b")["last_error"]), "a failed delivery to B")
    b.start()
    at_b = wait(lambda: b.get("/v1/queue")["reports"], "the report at B after its restart")
    time.sleep(1.0)  # more rounds: a message sent again must not make a second report
    assert len(b.get("/v1/queue")["reports"]) == 1 and _peer(a, "b")["pending"] == 0
    seen = b.get(f"/v1/reports/{at_b[0]['id']}/exchange")["received"]
    assert seen["from"] == "hotline-a" and seen["classification"]["report"] == {"assessment": "baseline"}

    b.post(f"/v1/reports/{at_b[0]['id']}/feedback", {"outcome": "case_opened"})
    feedback = wait(lambda: a.get(f"/v1/reports/{report}/exchange")["feedback"], "B's feedback at A")
    assert [(f["from"], f["outcome"]) for f in feedback] == [("police-b", "case_opened")]

    notice = a.post(
        "/v1/notices",
        {
            "report": report,
            "url": host.url + "/file.bin",
            "provider": "Host Ltd",
            "hosting_country": "NL",
            "contact": host.url + "/abuse",
        },
    )
    _time_passes(a.db)  # the hour before the first notice
    vigil("notices", "run", db=a.db)
    assert len(host.notices) == 1 and notice["reference"].encode() in host.notices[0]
    assert CONTENT not in host.notices[0]
    host.online = False
    _time_passes(a.db)  # the day before the next check
    vigil("notices", "run", db=a.db)
    assert a.get(f"/v1/notices/{notice['id']}")["state"] == "removed"

    match = lambda: httpx.post(c.url + "/v1/hash-check", json={"hashes": [MD5]}, headers=c.auth).json()  # noqa: E731
    found = wait(lambda: match()["results"][0]["matches"], "A's feed matching at C")
    # the base set, or its `+recent` part when C had built the base before the hash reached A's feed
    assert found[0]["hashset"] in ("from-a", "from-a+recent")
    vigil("exchange", "opinion", "from-a", MD5, "--signal", "md5", "--opinion", "negative", db=c.db)
    wait(lambda: match()["results"][0]["matches"][0]["category"] == "disputed", "the opinion back at A and C")

    for one in (a, b, c):
        one.stop()
        verified = subprocess.run(
            [sys.executable, "-m", "vigil.cli.main", "audit", "verify", "--db", one.db],
            env=_env(one.db),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, (one.name, verified.stdout, verified.stderr)


def _peer(instance, name: str) -> dict:
    import json

    listed = json.loads(vigil("exchange", "peers", "--json", db=instance.db))
    return next(p for p in listed if p["name"] == name)


def _time_passes(db: str) -> None:
    """Whatever the notice waits for is due now."""
    from vigil.exchange.notices import notices

    database = open_database(db)
    with database.engine.begin() as conn:
        conn.execute(update(notices).values(next_check_at=datetime.utcnow() - timedelta(seconds=1)))
