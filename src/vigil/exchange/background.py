"""What `vigil serve` does between requests for the network: deliver the outbox, pull subscribed
feeds, check and send the notices that are due, and rebuild the self-reported sets of take it down,
every `exchange_interval` seconds. One process
does it at a time, across workers and machines (PostgreSQL: a session advisory lock; SQLite: a lock
file beside the database), so a set is never rebuilt twice at once; a round that fails is logged and
the next one tries again."""

from __future__ import annotations

import fcntl
import logging
import threading
from contextlib import contextmanager
from pathlib import Path

from vigil.store.db import Database

log = logging.getLogger("vigil.exchange")
_LOCK = 4242_0002


@contextmanager
def _exclusive(db: Database):
    """True while this process holds the network's round; False if another does."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            mine = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_LOCK})").scalar()
            conn.commit()
            try:
                yield bool(mine)
            finally:
                if mine:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_LOCK})")
                    conn.commit()
        return
    path = Path(db.engine.url.database or "vigil.db")
    with open(path.with_name(path.name + ".exchange-lock"), "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def one_round(db: Database, allow_private: bool = False) -> dict:
    from vigil.exchange import inbox, notices, outbox, selfreport, subscribe

    with _exclusive(db) as mine:
        if not mine:
            return {}
        delivered = outbox.deliver(db)
        pulled = subscribe.sync(db)
        checked = notices.run_due(db, allow_private=allow_private)
        inbox.forget_nonces(db)
        rebuilt = selfreport.rebuild_sets(db)
    return {
        "self_reported_sets": rebuilt,
        "delivered": delivered.sent,
        "failed": delivered.failed,
        "pulled": pulled.pulled,
        "notices": checked,
    }


def run_in_background(db: Database, interval: float, allow_private: bool = False) -> threading.Event | None:
    """Start the rounds on a daemon thread (none when `interval` is 0); set the event to stop them."""
    if interval <= 0:
        return None
    stop = threading.Event()

    def rounds() -> None:
        while not stop.wait(interval):
            try:
                one_round(db, allow_private)
            except Exception:  # a round must never end the thread: the next one retries
                log.exception("exchange round failed")

    threading.Thread(target=rounds, name="vigil-exchange", daemon=True).start()
    return stop
