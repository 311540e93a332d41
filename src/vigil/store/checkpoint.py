"""SQLite writers of a server: one queue for intake, and the write-ahead log copied back into the
database by a background thread.

By default the connection whose commit takes the log past 1,000 pages copies it back (a checkpoint)
before its commit returns: with `vigil serve` that is the intake writer, holding the intake queue,
so every request of every worker waited for the copy and its flush to disk (bench/api.py: stalls of
0.2-0.9 s every few seconds at 2 workers, p99 200-900 ms). A server process instead turns automatic
checkpoints off for its own connections and runs a PASSIVE checkpoint every CHECKPOINT_SECONDS on a
connection of its own, which waits for no reader or writer and holds no lock a writer needs. While
writers keep appending, such a checkpoint never reaches the end of the log, and a log that is never
wholly copied is never started again (it grew by ~30 MB a second under load): past RESTART_PAGES,
the round is finished inside the intake queue, where only the pages written since its last pass
are left to copy. Commits stay as durable as before (WAL,
synchronous=NORMAL); only the moment of the copy moves."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

from vigil.store.db import Database

CHECKPOINT_SECONDS = 0.5
RESTART_PAGES = 4000  # ~16 MB of log
log = logging.getLogger("vigil.store")
_queues: dict[tuple, tuple] = {}  # (lock file, pid): (lock of this process's threads, the open file)
_queue_lock = threading.Lock()


def _sqlite_path(db: Database) -> str | None:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


@contextmanager
def sqlite_write_queue(db: Database | str):
    """Writers of a SQLite database file queue here (threads of this process first, then processes,
    on a lock file beside the database), woken as soon as it is free, rather than in SQLite's
    sleep-and-retry busy handler, which made the slowest requests wait tens of milliseconds with two
    workers. Other databases: nothing to do."""
    path = db if isinstance(db, str) else _sqlite_path(db)
    if not path:
        yield
        return
    lock_path = str(Path(path).with_name(Path(path).name + ".intake-lock"))
    key = (lock_path, os.getpid())  # a forked child opens its own (a shared file shares its lock)
    with _queue_lock:
        if key not in _queues:  # opened once per process: a lock is two system calls, not four
            _queues[key] = (threading.Lock(), open(lock_path, "a"))  # noqa: SIM115 - kept open
    local, fh = _queues[key]
    with local:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def checkpoint_in_background(
    db: Database, every: float = CHECKPOINT_SECONDS, restart_pages: int = RESTART_PAGES
) -> threading.Event | None:
    """For a SQLite database file: automatic checkpoints off on `db`'s connections and a daemon
    thread checkpointing every `every` seconds; returns the Event that stops it. Other databases
    (PostgreSQL checkpoints in its own processes): nothing, None."""
    path = _sqlite_path(db)
    if path is None:
        return None
    event.listen(db.engine, "connect", _no_automatic_checkpoint)
    db.engine.dispose()  # connections already pooled are opened again with the setting
    stop = threading.Event()
    threading.Thread(
        target=_checkpoints, args=(path, every, restart_pages, stop), name="vigil-checkpoint", daemon=True
    ).start()
    return stop


def _no_automatic_checkpoint(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint(conn: sqlite3.Connection, path: str, restart_pages: int = RESTART_PAGES) -> int:
    """One round: copy what the log holds without waiting; past `restart_pages`, copy again what
    was written meanwhile, then the last few pages inside the write queue, so the next writer starts
    the log again. The pages the log held."""
    pages = _passive(conn)
    if pages > restart_pages:
        _passive(conn)
        with sqlite_write_queue(path):
            _passive(conn)
    return pages


def _passive(conn: sqlite3.Connection) -> int:
    """A PASSIVE checkpoint; the pages in the log (all copied when nobody wrote meanwhile)."""
    return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0][1]


def _checkpoints(path: str, every: float, restart_pages: int, stop: threading.Event) -> None:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA wal_autocheckpoint=0")  # closing it must not checkpoint in its turn either
    conn.execute("PRAGMA journal_size_limit=67108864")  # a log started again is cut to 64 MB
    try:
        while not stop.wait(every):
            try:
                checkpoint(conn, path, restart_pages)
            except sqlite3.Error as exc:  # busy or a disk error: the next round tries again
                log.warning("SQLite checkpoint of %s: %s", path, exc)
    finally:
        conn.close()
