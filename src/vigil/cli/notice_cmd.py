"""`vigil notices run | list | stats`: notice and takedown from the server's command line.

`run` is what a timer (cron, a systemd timer) calls every few minutes: every due notice is checked
and sent (vigil.exchange.notices.run_due). `list` and `stats` act for one organisation (`--org`),
audited as admin-cli. Names and URLs come from reports and are shown escaped (vigil.safetext)."""

from __future__ import annotations

import json

import typer

from vigil.cli.options import DB, JSON

app = typer.Typer(help="Notice and takedown: notices to hosting providers until content is removed.")
ORG = typer.Option(..., "--org", help="The organisation whose notices these are.")


@app.command("run")
def run(
    first_after: float = typer.Option(
        1.0, "--first-after", min=0, help="Hours from creation to the first notice."
    ),
    repeat_every: float = typer.Option(
        24.0, "--repeat-every", min=0.1, help="Hours between notices while online."
    ),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many notices in this run."),
    org: str = typer.Option(None, "--org", help="Only this organisation's notices (default: all)."),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """Check every notice that is due now and send the notices due (each after a fresh check); print
    what happened."""
    from datetime import timedelta

    from rich.progress import BarColumn, MofNCompleteColumn

    from vigil.cli.options import open_database, progress_bar, settings
    from vigil.exchange.notices import Schedule, operator, run_due

    schedule = Schedule(
        first_notice_after=timedelta(hours=first_after), repeat_every=timedelta(hours=repeat_every)
    )
    database = open_database(db, create=False)
    org_id = operator(database, org).org_id if org else None
    with progress_bar("checking", BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("checking", total=None)
        summary = run_due(
            database,
            schedule=schedule,
            limit=limit,
            org_id=org_id,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            allow_private=settings().allow_private_hosts,
        )
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(", ".join(f"{k} {v}" for k, v in summary.items()))


@app.command("list")
def list_(
    org: str = ORG,
    state: str = typer.Option(None, "--state", help="Only notices in this state."),
    country: str = typer.Option(None, "--country", help="Only this hosting country (ISO code)."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """The organisation's notices, newest first."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from vigil.cli.options import open_database
    from vigil.exchange import notices
    from vigil.safetext import visible

    database = open_database(db, create=False)
    found = notices.list_notices(database, notices.operator(database, org), state, country, limit)
    if as_json:
        typer.echo(json.dumps(found, indent=1))
        return
    table = Table()
    for name in ("id", "reference", "state", "country", "provider", "sent", "removed", "url"):
        table.add_column(name)
    for n in found:
        removed = (n["removed_at"] or "")[:16]
        shown = (n["id"], n["reference"], n["state"], n["hosting_country"], n["provider"], n["notices_sent"])
        table.add_row(*(Text(visible(str(v))) for v in (*shown, removed, n["url"])))
    Console().print(table)


@app.command("stats")
def stats(
    org: str = ORG,
    since: str = typer.Option("report", "--since", help="report (received) or notice (created)."),
    as_json: bool = JSON,
    db: str = DB,
) -> None:
    """Time to removal per hosting country and provider (median, 90th percentile) and a chart."""
    from vigil.cli.options import open_database
    from vigil.exchange import notices

    database = open_database(db, create=False)
    result = notices.stats(database, notices.operator(database, org), since)
    typer.echo(json.dumps(result, indent=1) if as_json else render_stats(result))


def _table(title: str, rows: list[dict]):
    from rich.table import Table
    from rich.text import Text

    from vigil.safetext import visible

    table = Table(title=title, title_justify="left")
    for name in ("", "notices", "removed", "≤ 7 days", "median h", "p90 h"):
        table.add_column(name, justify="right" if name else "left")
    for r in rows:
        shown = [r["notices"], r["removed"], r["removed_within_7_days"], r["median_hours"], r["p90_hours"]]
        table.add_row(Text(visible(r["key"])), *("–" if v is None else str(v) for v in shown))
    return table


def chart(rows: list[dict], width: int = 40) -> list[str]:
    """One bar per row: █ up to the median, ░ on to the 90th percentile, all on one scale."""
    from vigil.safetext import visible

    timed = [r for r in rows if r["p90_hours"] is not None]
    if not timed:
        return ["(no removals yet)"]
    top = max(r["p90_hours"] for r in timed) or 1.0
    names = [visible(r["key"])[:24] for r in timed]
    label = max(len(n) for n in names)
    lines = []
    for name, r in zip(names, timed, strict=True):
        median = round(width * r["median_hours"] / top)
        p90 = max(median, round(width * r["p90_hours"] / top))
        bar = "█" * median + "░" * (p90 - median)
        lines.append(f"{name:<{label}}  {bar:<{width}}  {r['median_hours']:g} / {r['p90_hours']:g} h")
    return lines


def render_stats(result: dict, width: int = 100) -> str:
    """The statistics for a person: a table per hosting country and per provider, then a chart of
    time to removal per hosting country (plain text: no colour, no terminal codes)."""
    import io

    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False)
    since = "report received" if result["since"] == "report" else "notice created"
    overall = result["overall"]
    console.print(
        f"Time to removal, from {since}: {overall['removed']} of {overall['notices']} URLs removed",
        markup=False,
    )
    console.print(_table("Per hosting country", result["by_country"]))
    console.print(_table("Per provider", result["by_provider"]))
    console.print(
        "Hours to removal per hosting country (█ median, ░ on to the 90th percentile)", markup=False
    )
    for line in chart(result["by_country"]):
        console.print(line, markup=False, soft_wrap=True)
    return out.getvalue().rstrip("\n")
