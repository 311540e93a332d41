"""`vigil serve`: the report and hash-check API (uvicorn, N worker processes)."""

from __future__ import annotations

import os

import typer

from vigil.cli.options import DB


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
    public_org: str = typer.Option(
        None, "--public-org", help="Organisation receiving anonymous public reports."
    ),
    priority_rules: str = typer.Option(None, "--priority-rules", help="TOML file of priority rules."),
    db: str = DB,
) -> None:
    """Serve the HTTP API: OpenAPI at /openapi.json, the report template at /schema/report."""
    import uvicorn

    from vigil.store import open_database
    from vigil.store.db import default_db_path

    target = db or default_db_path()
    open_database(target)  # create and migrate once, before the workers start
    os.environ["VIGIL_DB"] = target
    if public_org:
        os.environ["VIGIL_PUBLIC_ORG"] = public_org
    if priority_rules:
        from vigil.reports.priority import load_rules

        load_rules(priority_rules)  # a bad file is an error now, not in every worker
        os.environ["VIGIL_PRIORITY_RULES"] = priority_rules
    uvicorn.run(
        "vigil.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
