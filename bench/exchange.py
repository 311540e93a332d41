"""Benchmark: the network (exchange), in one run, between two real `vigil serve` instances on loopback,
each with its own database (B on PostgreSQL with --pg):
- reports carried end to end A -> B (forwarded at A, signed, delivered through the outbox, verified
  and taken in at B), beside B's plain intake rate (POST /v1/reports, one connection);
- catch-up: 10,000 reports forwarded while B is down, then delivered when it is back;
- a 1,000,000-hash feed from A synced into a new subscriber at B, then an update of 1,000 changes.
Targets (issue 12): >= 100 reports/s end to end; catch-up <= 120 s; 1M-hash feed <= 30 s; 1,000
changes <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import httpx

from api import _pg_database
from tables import print_table

PASSWORD = "a sufficiently long benchmark password"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: str):
        self.db, self.port = db, _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        env = {**os.environ, "VIGIL_EXCHANGE_INTERVAL": "0"}  # the benchmark drives delivery itself
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vigil.cli.main", "serve", "--port", str(self.port), "--db", self.db],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for _ in range(300):
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"vigil serve on {self.db} did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def _body(i: int) -> dict:
    from vigil.reports.template import report_schema

    body = json.loads(json.dumps(report_schema()["examples"][0]))
    body["files"] = [{"hashes": {"md5": f"{random.getrandbits(128):032x}"}}]
    body["channel"] = {"kind": "web", "urls": [f"https://site{random.getrandbits(40)}.example/{i}"]}
    body["reportedPerson"] = {"service": "bench", "screenName": f"user{i}-{random.getrandbits(40)}"}
    return body


def setup(a_db: str, b_db: str):
    from vigil.reports.accounts import Accounts
    from vigil.store import open_database

    a, b = open_database(a_db), open_database(b_db)
    for db, org, sector in ((a, "hotline-a", "hotline"), (b, "police-b", "law_enforcement")):
        accounts = Accounts(db)
        accounts.create_org(org, sector, "NL")
        accounts.create_user(f"boss@{org}.example", org, "supervisor", PASSWORD)
    return (
        a,
        b,
        Accounts(a).principal_of("boss@hotline-a.example"),
        Accounts(b).create_token("boss@police-b.example"),
    )


def peer_up(a, b, server_a: Server, server_b: Server) -> None:
    from vigil.exchange import peers, rulebook

    peers.add_peer(a, "b", server_b.url, peers.public_key(b), "police-b", "law_enforcement", "NL")
    peers.add_peer(b, "a", server_a.url, peers.public_key(a), "hotline-a", "hotline", "NL")
    rulebook.add_rule(a, "hotline-a", "assessment=*", "allow", "law_enforcement", None)


def assessed_reports(service, principal, n: int) -> list[int]:
    """n reports at A, classified baseline (set up in bulk: not what is measured)."""
    from sqlalchemy import insert

    from vigil.store.db import utcnow
    from vigil.store.models import Classification

    ids = []
    for start in range(0, n, 1000):
        answers = service.intake_batch(principal, [_body(start + i) for i in range(min(1000, n - start))])
        ids += [r["id"] for r in answers]
    rows = [
        {
            "report_id": rid,
            "file_id": None,
            "user_id": principal.user_id,
            "org_id": principal.org_id,
            "labels": '{"assessment": "baseline"}',
            "created_at": utcnow(),
        }
        for rid in ids
    ]
    with service.db.engine.begin() as conn:
        conn.execute(insert(Classification), rows)
    return ids


def plain_intake(server_b: Server, token: str, n: int) -> float:
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        bodies = [_body(10_000_000 + i) for i in range(n)]
        started = time.perf_counter()
        for body in bodies:
            assert client.post(server_b.url + "/v1/reports", json=body).status_code == 201
        return n / (time.perf_counter() - started)


def carried(service, principal, a, ids: list[int]) -> tuple[float, float]:
    """(seconds to forward at A, seconds to deliver to B and be taken in there)."""
    from vigil.exchange import forward, outbox

    started = time.perf_counter()
    for rid in ids:
        forward.forward(service, principal, rid, "police-b")
    forwarded = time.perf_counter()
    result = outbox.deliver(a)
    assert result.failed == 0 and result.sent == len(ids), result
    return forwarded - started, time.perf_counter() - forwarded


def feed_items(a, n: int, labels: str = '{"assessment": "baseline"}') -> None:
    """n published hashes in A's feed (as n classified files would make them), in bulk."""
    from sqlalchemy import insert, select

    from vigil.store.db import utcnow
    from vigil.store.models import FeedItem, Organisation

    with a.engine.begin() as conn:
        org = conn.execute(select(Organisation.id).where(Organisation.name == "hotline-a")).scalar()
        now = utcnow()
        for start in range(0, n, 50_000):
            rows = [
                {
                    "org_id": org,
                    "signal": "md5",
                    "value": f"{random.getrandbits(128):032x}",
                    "opinion": "positive",
                    "category": "csam",
                    "labels": labels,
                    "deleted": False,
                    "at": now,
                }
                for _ in range(min(50_000, n - start))
            ]
            conn.execute(insert(FeedItem), rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", help="PostgreSQL URL for B's database (a new database is made in it)")
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--feed", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from vigil.exchange import outbox, subscribe
    from vigil.reports.hashcheck import HashChecker
    from vigil.reports.service import ReportService

    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-exchange-"))
    pg = _pg_database(args.pg) if args.pg else None
    b_url, drop = pg or (str(tmp / "b.db"), lambda: None)
    a_db = str(tmp / "a.db")
    a, b, principal, token = setup(a_db, b_url)
    server_a, server_b = Server(a_db), Server(b_url)
    peer_up(a, b, server_a, server_b)
    service = ReportService(a, HashChecker(a))
    server_a.start()
    server_b.start()
    rows = []
    try:
        ids = assessed_reports(service, principal, args.reports)
        plain = plain_intake(server_b, token, args.reports)
        fwd, delivered = carried(service, principal, a, ids)
        rate = args.reports / (fwd + delivered)
        rows.append(
            [
                f"{args.reports} reports A -> B, end to end",
                f"{fwd + delivered:.1f} s",
                f"{rate:,.0f} reports/s",
                f"plain intake at B {plain:,.0f}/s ({rate / plain:.0%})",
                ">= 100/s",
                "met" if rate >= 100 else "MISSED",
            ]
        )

        backlog = assessed_reports(service, principal, args.backlog)
        server_b.stop()
        from vigil.exchange import forward

        for rid in backlog:
            forward.forward(service, principal, rid, "police-b")
        down = outbox.deliver(a)
        assert down.sent == 0 and down.failed > 0  # B is down: nothing delivered, everything kept
        server_b.start()
        started = time.perf_counter()
        later = None
        from datetime import datetime, timedelta

        later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)  # past the back-off
        sent = outbox.deliver(a, now=later).sent
        catch_up = time.perf_counter() - started
        assert sent == len(backlog), sent
        rows.append(
            [
                f"catch-up of {args.backlog:,} queued while B was down",
                f"{catch_up:.1f} s",
                f"{sent / catch_up:,.0f} reports/s",
                "",
                "<= 120 s",
                "met" if catch_up <= 120 else "MISSED",
            ]
        )

        feed_items(a, args.feed)
        subscribe.subscribe(b, "a", "hotline-a", "from-a")
        started = time.perf_counter()
        pulled = subscribe.sync(b)
        full = time.perf_counter() - started
        assert not pulled.errors and pulled.pulled["from-a"] == args.feed, pulled
        rows.append(
            [
                f"{args.feed:,}-hash feed into a new subscriber",
                f"{full:.1f} s",
                f"{args.feed / full:,.0f} hashes/s",
                "",
                "<= 30 s",
                "met" if full <= 30 else "MISSED",
            ]
        )
        feed_items(a, 1000)
        started = time.perf_counter()
        pulled = subscribe.sync(b)
        update = time.perf_counter() - started
        assert pulled.pulled["from-a"] == 1000, pulled
        rows.append(
            [
                "1,000 changes to that feed",
                f"{update:.2f} s",
                "",
                "",
                "<= 1 s",
                "met" if update <= 1 else "MISSED",
            ]
        )
    finally:
        server_a.stop()
        server_b.stop()
        drop()
    print_table(
        f"Exchange between two vigil serve instances (A: SQLite; B: {'PostgreSQL' if pg else 'SQLite'})",
        ["what", "time", "rate", "beside it", "target", "verdict"],
        rows,
    )


if __name__ == "__main__":
    main()
