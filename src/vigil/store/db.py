"""Opening the database: a file path (SQLite, created and migrated on first use) or a URL."""

from __future__ import annotations

import os
import re
from contextlib import closing, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.errors import VigilError

if TYPE_CHECKING:  # SQLAlchemy is imported when a database is opened, not with this module:
    from sqlalchemy import Engine  # `vigil match` on a current index never needs it
    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0015"  # the newest migration; tests check it matches the scripts


def utcnow() -> datetime:
    """Now in UTC, naive: how every DateTime column stores time (SQLite and PostgreSQL alike)."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_or(conn, model):
    """An INSERT of `model` that can say ON CONFLICT DO NOTHING / DO UPDATE: SQLite and PostgreSQL
    spell it alike, but SQLAlchemy keeps it in each dialect's own `insert`."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def default_db_path() -> str:
    """vigil.db under XDG_DATA_HOME (~/.local/share/vigil): where a database lives when neither
    `--db` nor the settings (VIGIL_DB) name one."""
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


def _postgres_settings(dbapi_conn, _record) -> None:
    """No JIT compilation: Vigil's queries are short, and a plan misjudged on a freshly loaded table
    (before autovacuum has analysed it) spent 40 ms compiling a 3 ms count of the web queue."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET jit = off")
    dbapi_conn.commit()


class Database:
    """An engine plus the knowledge of how to bring its schema up to date."""

    def __init__(self, engine: Engine, index_dir: str | None = None):
        self.engine = engine
        self.index_dir = index_dir  # where a server database's indexes live (settings.index_dir)

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
    """The stored revision, by one query (no Alembic import when the schema is current)."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return rows[0][0] if len(rows) == 1 else None


_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('[^']*'|[^&\s]*)", re.IGNORECASE)


def redact(target: str) -> str:
    """A database path or URL fit for an error message or a log line: the password replaced by ***,
    in the `user:password@` part, in a `?password=` parameter, or in a libpq `password=...` string."""
    if "://" not in target:
        return _PASSWORD_PARAM.sub(r"\1***", target)
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(target).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL: keep the scheme, hide the rest
        return target.split("://", 1)[0] + "://***"
    return _PASSWORD_PARAM.sub(r"\1***", shown)


def _must_be_vigil_sqlite(path: Path) -> None:
    """For commands that only read: the file must already be a Vigil database. Checked read-only with
    the standard library *before* SQLAlchemy connects (its connection sets WAL mode, a write), so a
    mistaken `--db` pointing at another program's database — or a seized SQLite file — is never
    changed."""
    import sqlite3

    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.Error as exc:
        raise VigilError(
            f"--db {redact(str(path))}: not a Vigil database ({exc}); nothing was changed"
        ) from None
    if found is None:
        raise VigilError(
            f"--db {redact(str(path))}: not a Vigil database (no Vigil tables); nothing was changed"
        )


def open_database(target: str | None = None, create: bool = True, index_dir: str | None = None) -> Database:
    """Open (and create/migrate) the database at a path or URL; None means the default path.
    `index_dir`: where a server database keeps its look-up indexes (default ~/.local/share/vigil).

    Commands that only read (scan, match, list, show, export) pass `create=False`: a mistyped `--db`
    is then an error naming the path, not a new empty database that reports "matched 0"."""
    target = target or default_db_path()
    shown = redact(target)
    if "://" in target:
        url = target
        if url.startswith(("postgresql://", "postgres://")):  # psycopg 3, not SQLAlchemy's psycopg2 default
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
    else:
        path = Path(target).expanduser()
        if not create and not path.is_file():
            what = "is a folder" if path.is_dir() else "no such database"
            raise VigilError(
                f"--db {shown}: {what}; check the path (or VIGIL_DB), "
                "or create it with `vigil hashset import`"
            )
        if not create:
            _must_be_vigil_sqlite(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VigilError(f"cannot create database folder {path.parent}: {exc.strerror}") from None
        if path.exists() and path.is_dir():
            raise VigilError(f"{path}: is a folder; --db takes a database file path")
        url = f"sqlite:///{path}"
    from sqlalchemy import create_engine, event

    try:
        engine = create_engine(url)
    except Exception as exc:  # noqa: BLE001 - any bad URL is a user error
        raise VigilError(f"cannot open database {shown!r}: {_redacted(exc, target)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
    db = Database(engine, index_dir)
    try:
        if not create and engine.dialect.name != "sqlite":
            with engine.connect() as conn:
                if _current_revision(conn) is None:
                    raise VigilError(
                        f"--db {shown}: not a Vigil database (no Vigil tables); nothing was changed"
                    )
        db.migrate()
    except Exception as exc:
        if isinstance(exc, VigilError):
            raise
        raise VigilError(f"cannot open database {shown!r}: {_redacted(exc, target)}") from None
    return db


def _redacted(exc: Exception, target: str) -> str:
    """The driver's message with the password taken out wherever it quotes it."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    secrets = {m.group(2).strip("'") for m in _PASSWORD_PARAM.finditer(target)}
    if "://" in target:
        from sqlalchemy.engine import make_url

        with suppress(Exception):  # an unparsable URL has no password to find
            secrets.add(make_url(target).password or "")
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(str(secret), "***")
    return _PASSWORD_PARAM.sub(r"\1***", text)
