"""De-duplication is atomic (issue 11): the same report sent at the same moment through several
processes (as several `vigil serve` workers receive it) and several threads of each is stored once
as `new`; every other copy is a `repeat` of it. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import multiprocessing
import uuid

from tests.api.conftest import example
from vigil.reports.accounts import Accounts
from vigil.store import open_database

PROCESSES, THREADS = 4, 4


def _send(db_url: str, token: str, body: dict, start, out) -> None:
    """One 'worker': its own app over the database, THREADS requests released together."""
    import threading

    from fastapi.testclient import TestClient

    from vigil.api.app import create_app

    with TestClient(create_app(db_url)) as client:
        barrier = threading.Barrier(THREADS)
        answers: list = []

        def post():
            barrier.wait()
            r = client.post("/v1/reports", json=body, headers={"Authorization": f"Bearer {token}"})
            answers.append((r.status_code, r.json().get("status"), r.json().get("repeat_of"), r.json()["id"]))

        start.wait()  # every process is ready: send now
        threads = [threading.Thread(target=post) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.put(answers)


def test_the_same_report_at_once_is_new_once(db_url, client):
    accounts = Accounts(open_database(db_url))
    org = f"race-{uuid.uuid4().hex[:8]}"
    accounts.create_org(org, "hotline", "NL")
    accounts.create_user(f"a@{org}.example", org, "analyst", "correct horse battery staple")
    token = accounts.create_token(f"a@{org}.example")
    body = copy.deepcopy(example(0))
    body["channel"] = {"kind": "web", "urls": [f"https://race.example/{uuid.uuid4().hex}"]}
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_send, args=(db_url, token, body, start, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    answers = [a for _ in procs for a in out.get(timeout=120)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(answers) == PROCESSES * THREADS and {a[0] for a in answers} == {201}
    new = [a for a in answers if a[1] == "new"]
    assert len(new) == 1, answers
    first = new[0][3]
    assert all(a[1] == "repeat" and a[2] == first for a in answers if a is not new[0])
    assert first == min(a[3] for a in answers)
