"""A server's SQLite log: commits never copy it back (no checkpoint inside the intake queue, where it
stalled every request of every worker), and a background thread keeps it bounded while writers
write without pause (a log that is never wholly copied is never started again)."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from vigil.store import open_database
from vigil.store.checkpoint import checkpoint_in_background, sqlite_write_queue


def _write_without_pause(db, seconds: float) -> tuple[int, int]:
    """Small transactions back to back, queued as intake queues them; (the largest log seen, bytes
    written)."""
    wal = db.engine.url.database + "-wal"
    largest, end, n = 0, time.monotonic() + seconds, 0
    while time.monotonic() < end:
        with sqlite_write_queue(db), db.engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (blob) VALUES (:b)"), [{"b": os.urandom(2000)}] * 20)
        n += 1
        time.sleep(0.0005)  # as intake's writer waits for requests: other threads get their turn
        if os.path.exists(wal):
            largest = max(largest, os.path.getsize(wal))
    assert n > 50
    return largest, n * 20 * 2000


def _database(tmp_path):
    db = open_database(str(tmp_path / "v.db"))
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)"))
    return db


def test_commits_leave_the_log_to_the_background_thread(tmp_path):
    db = _database(tmp_path)
    stop = checkpoint_in_background(db, every=0.05, restart_pages=200)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        largest, written = _write_without_pause(db, 3.0)
    finally:
        stop.set()
    # 200 pages, plus what is written during a round: a small part of what was written
    assert largest < written / 3, f"the log grew to {largest} bytes of {written} written"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM filler")).scalar() > 50 * 20


def test_without_the_background_thread_such_a_log_only_grows(tmp_path):
    """The failure the thread prevents: automatic checkpoints off and nobody copying back."""
    db = _database(tmp_path)
    from sqlalchemy import event

    event.listen(db.engine, "connect", lambda c, _: c.execute("PRAGMA wal_autocheckpoint=0"))
    db.engine.dispose()
    largest, written = _write_without_pause(db, 1.5)
    assert largest > written * 0.8


def test_nothing_to_do_for_a_database_in_memory():
    db = open_database("sqlite://")  # in memory
    assert checkpoint_in_background(db) is None
