"""Benchmark: the web UI's two heaviest pages under load, in one run.

A database holding 10,000 reports (the queue page: filtered count, first page of 50 by priority)
and one report of 1,000 files (the report page: its files 200 at a time with hashes, matches and
earlier assessments, the classification form). `vigil serve --workers 2` (this machine's cores)
answers; C concurrent signed-in clients (threads, own process) request each page for D seconds.
Times are the server's own (`Server-Timing: app;dur=…`, from the first byte of the request to the
response start) and, for reference, the client's round trip.
Target: p95 server time <= 100 ms for each page on this machine.

    python bench/web.py [--clients 4] [--workers 2] [--seconds 10] [--postgres URL]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from tables import print_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TARGET_MS = 100.0
PASSWORD = "bench password 1234"


def _report(i: int, files: int = 1) -> dict:
    from vigil.reports.template import report_schema

    body = copy.deepcopy(report_schema()["examples"][0])
    tag = uuid.uuid4().hex
    body["channel"]["urls"] = [f"https://images.example.org/{tag}"]
    body["reportedPerson"]["screenName"] = f"user{i}"
    body["jurisdiction"] = ("NL", "BE", "DE", "FR")[i % 4]
    one = body["files"][0]
    body["files"] = [
        {**one, "fileName": f"img_{k:05d}.jpg", "hashes": {"md5": uuid.uuid4().hex}} for k in range(files)
    ]
    return body


def build(db_url: str) -> tuple[int, float]:
    """10,000 reports and one of 1,000 files; (the big report's id, seconds spent)."""
    from vigil.reports.accounts import Accounts
    from vigil.reports.hashcheck import HashChecker
    from vigil.reports.service import ReportService
    from vigil.store import open_database

    started = time.perf_counter()
    db = open_database(db_url)
    accounts = Accounts(db)
    accounts.create_org("Bench Hotline", "hotline", "NL")
    accounts.create_user("analyst@bench.example", "Bench Hotline", "analyst", PASSWORD)
    who = accounts.principal_of("analyst@bench.example")
    service = ReportService(db, HashChecker(db))
    for start in range(0, 10_000, 500):
        service.intake_batch(who, [_report(start + i) for i in range(500)])
    big = service.intake(who, _report(0, files=1_000))["id"]
    return big, time.perf_counter() - started


def serve(db_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    from web.browser import serve as start

    return start(db_url, None, "--workers", str(workers))


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    answer = client.post("/signin", data={"email": "analyst@bench.example", "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    return client


def load(base: str, path: str, clients: int, seconds: float) -> tuple[list[float], list[float]]:
    server_ms: list[float] = []
    client_ms: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker():
        client = signed_in(base)
        mine_s, mine_c = [], []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            answer = client.get(path)
            mine_c.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
            mine_s.append(float(answer.headers["server-timing"].split("dur=")[1]))
        with lock:
            server_ms.extend(mine_s)
            client_ms.extend(mine_c)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return server_ms, client_ms


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(label: str, db_url: str, clients: int, seconds: float, workers: int) -> list[list]:
    big, built = build(db_url)
    print(f"{label}: 10,000 reports and one of 1,000 files stored in {built:.1f} s", flush=True)
    server, base = serve(db_url, workers)
    rows = []
    try:
        for name, path in (("queue (10,000 reports)", "/"), ("report (1,000 files)", f"/reports/{big}")):
            load(base, path, 1, 1.0)  # warm
            s, c = load(base, path, clients, seconds)
            p95 = p(s, 95)
            rows.append([
                label, name, len(s), f"{p(s, 50):.1f}", f"{p95:.1f}", f"{p(c, 95):.1f}",
                f"{TARGET_MS:.0f}", f"{TARGET_MS / p95:.2f}", "met" if p95 <= TARGET_MS else "MISSED",
            ])  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="vigil serve --workers (this machine: 2 cores)"
    )
    parser.add_argument("--postgres", default=os.environ.get("VIGIL_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run("SQLite", str(Path(tmp) / "web.db"), args.clients, args.seconds, args.workers)
        if args.postgres:
            from api.conftest import _postgres_database

            url, drop = _postgres_database(args.postgres)
            os.environ["VIGIL_INDEX_DIR"] = str(Path(tmp) / "pgindex")
            try:
                rows += run("PostgreSQL", url, args.clients, args.seconds, args.workers)
            finally:
                drop()
    print_table(
        f"Web UI pages under load ({args.clients} clients, {args.workers} server workers, "
        f"{args.seconds:.0f} s each; "
        "server time from Server-Timing)",
        ["database", "page", "requests", "p50 ms", "p95 ms", "client p95 ms", "target ms", "target/p95", ""],
        rows,
    )


if __name__ == "__main__":
    main()
