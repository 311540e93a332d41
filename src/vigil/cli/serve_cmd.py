"""`vigil serve`: the report and hash-check API (uvicorn, N worker processes).

Everything that can be wrong with the configuration (the database, --public-org, VIGIL_PUBLIC_RATE,
VIGIL_MAX_BODY, VIGIL_MAX_PUBLIC_BODY, VIGIL_REDIS_URL) is checked before the server starts: one
`error:` line and exit 2, not a server that fails on its first request. The start-up line and the
per-request lines (stderr) carry no personal data and no secret."""

from __future__ import annotations

import logging
import logging.config
import os

import typer

from vigil.cli.options import DB

LOG_FORMAT = "%(asctime)s %(message)s"


def log_config(access_log: bool) -> dict:
    """uvicorn applies it in every worker: Vigil's start-up and access lines, uvicorn's warnings."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "vigil.api": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "vigil.api.access": {"level": "INFO" if access_log else "WARNING"},
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def database_kind(target: str) -> str:
    """`sqlite FILE` or `postgresql on HOST:PORT/NAME`: never the user or the password."""
    if "://" not in target or target.startswith("sqlite"):
        return f"sqlite {target.split(':///', 1)[-1]}"
    from yarl import URL

    try:
        url = URL(target)
        return f"{url.scheme.split('+')[0]} on {url.host}:{url.port or 5432}{url.path}"
    except ValueError:
        return target.split(":", 1)[0]


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    public_org: str = typer.Option(
        None, "--public-org", help="Organisation receiving anonymous public reports (must exist)."
    ),
    priority_rules: str = typer.Option(None, "--priority-rules", help="TOML file of priority rules."),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="One line per request (no address, body or token)."
    ),
    db: str = DB,
) -> None:
    """Serve the HTTP API: OpenAPI at /openapi.json, docs at /docs, the report template at /schema/report."""
    import uvicorn

    from vigil.api.app import public_org_id
    from vigil.api.ratelimit import check_redis, describe, parse_rate
    from vigil.cli.options import settings as current
    from vigil.reports.accounts import Accounts
    from vigil.settings import SETTINGS_ENV
    from vigil.store import open_database
    from vigil.store.db import default_db_path

    settings = current().with_options(db=db, public_org=public_org, priority_rules=priority_rules)
    settings = settings.with_options(db=settings.db or default_db_path())
    target = settings.db
    database = open_database(target, index_dir=settings.index_dir)  # created and migrated once, now
    public_org = settings.public_org
    if public_org:
        public_org_id(Accounts(database), public_org)  # no such organisation: refuse to start
    max_body, max_public_body = settings.max_body, settings.max_public_body
    rate, per = parse_rate(settings.public_rate)
    redis_url = settings.redis_url
    if redis_url:
        check_redis(redis_url)
    if settings.priority_rules:
        from vigil.reports.priority import load_rules

        load_rules(settings.priority_rules)  # a bad file is an error now, not in every worker
    # every worker process builds its app from exactly these settings (checked above)
    os.environ[SETTINGS_ENV] = settings.to_json()
    config = log_config(access_log)
    logging.config.dictConfig(config)
    public = (
        f"public form to {public_org!r} ({rate} per {per} s per address, counted in {describe(redis_url)})"
        if public_org
        else "public form off"
    )
    logging.getLogger("vigil.api").info(
        "vigil serve: http://%s:%d, database %s, %d worker%s, %s, body limit %d bytes (public form %d)",
        f"[{host}]" if ":" in host else host,
        port,
        database_kind(target),
        workers,
        "" if workers == 1 else "s",
        public,
        max_body,
        max_public_body,
    )
    uvicorn.run(
        "vigil.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=config,
        access_log=False,
    )
