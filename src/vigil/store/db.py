"""Opening the database: a file path (SQLite, created and migrated on first use) or a URL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

from vigil.errors import VigilError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0008"  # the newest migration; tests check it matches the scripts


def utcnow() -> datetime:
    """Now in UTC, naive: how every DateTime column stores time (SQLite and PostgreSQL alike)."""
    return datetime.now(UTC).replace(tzinfo=None)


def default_db_path() -> str:
    """VIGIL_DB, else vigil.db under XDG_DATA_HOME (~/.local/share/vigil)."""
    if os.environ.get("VIGIL_DB"):
        return os.environ["VIGIL_DB"]
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "vigil" / "vigil.db")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the single writer
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache
    cur.close()


class Database:
    """An engine plus the knowledge of how to bring its schema up to date."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def migrate(self) -> None:
        with self.engine.begin() as conn:
            if _current_revision(conn) == HEAD_REVISION:
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def open_database(target: str | None = None) -> Database:
    """Open (and create/migrate) the database at a path or URL; None means the default path."""
    target = target or default_db_path()
    if "://" in target:
        url = target
        if url.startswith(("postgresql://", "postgres://")):  # psycopg 3, not SQLAlchemy's psycopg2 default
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
    else:
        path = Path(target).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VigilError(f"cannot create database folder {path.parent}: {exc.strerror}") from None
        if path.exists() and path.is_dir():
            raise VigilError(f"{path}: is a folder; --db takes a database file path")
        url = f"sqlite:///{path}"
    try:
        engine = create_engine(url)
    except Exception as exc:  # noqa: BLE001 - any bad URL is a user error
        raise VigilError(f"cannot open database {target!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(engine)
    try:
        db.migrate()
    except Exception as exc:
        if isinstance(exc, VigilError):
            raise
        raise VigilError(f"cannot open database {target!r}: {exc}") from None
    return db
