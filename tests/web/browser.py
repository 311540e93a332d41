"""A real browser for the web UI tests: Debian's Chromium driven by Playwright (no browser download:
`executable_path`), headless, with the flags this closed network needs; a served instance of
`vigil serve` on a temporary database; screenshots written to the test run's output folder
(VIGIL_TEST_OUTPUT, default `test-output/`), and an axe-core check of each page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("VIGIL_TEST_OUTPUT", "test-output")) / "screenshots"


def need_browser():
    """Playwright's module, or a skip naming what to install (`.ci/run` installs both)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    return pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args: str, env: dict | None = None, tries: int = 300) -> tuple[subprocess.Popen, str]:
    """`vigil serve ARGS` on a free port, once it answers /healthz: (the process, its base URL)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli.main", "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return server, base
        except httpx.TransportError:
            if server.poll() is not None:
                raise AssertionError(server.stderr.read().decode()) from None
            time.sleep(0.1)
    server.kill()
    raise AssertionError("vigil serve did not answer")


def serve(db: str, env: dict | None = None, *args: str) -> tuple[subprocess.Popen, str]:
    """The UI's server on `db`: no access log, no background network rounds unless `env` asks."""
    return start("--no-access-log", "--db", db, *args, env={"VIGIL_EXCHANGE_INTERVAL": "0", **(env or {})})


def shoot(page, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page, as `rule: target` lines."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]
