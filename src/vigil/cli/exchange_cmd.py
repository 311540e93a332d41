"""`vigil exchange ...`: this instance's key, its peers, an organisation's sharing and routing rules,
forwarding by hand, and delivering the outbox now (`vigil serve` delivers it continuously)."""

from __future__ import annotations

import json

import typer

from vigil.cli.options import DB, JSON

app = typer.Typer(help="The network: peers, sharing rules, forwarding and delivery.", no_args_is_help=True)


def _db(db):
    from vigil.cli.options import open_database

    return open_database(db)


@app.command("key-show")
def key_show(db: str = DB) -> None:
    """Print this instance's public key (made on first use), for peers to pin with peer-add."""
    from vigil.exchange import peers

    typer.echo(peers.public_key(_db(db)))


@app.command("peer-add")
def peer_add(
    name: str = typer.Argument(..., help="A short name for the peer instance."),
    url: str = typer.Option(..., "--url", help="Its base URL, e.g. https://vigil.police.example"),
    key: str = typer.Option(..., "--key", help="Its public key, as its `vigil exchange key-show` prints it."),
    org: str = typer.Option(..., "--org", help="The organisation it speaks for."),
    sector: str = typer.Option(None, "--sector", help="That organisation's sector, if new here."),
    country: str = typer.Option(None, "--country", help="That organisation's country, if new here."),
    db: str = DB,
) -> None:
    """Pin a peer instance's key and the organisation it speaks for (no trust on first use)."""
    from vigil.exchange import peers

    peers.add_peer(_db(db), name, url, key, org, sector, country.upper() if country else None)
    typer.echo(f"peer {name!r} pinned; it speaks for {org!r}")


@app.command("peers")
def peers_list(db: str = DB, as_json: bool = JSON) -> None:
    """The peers, the organisations they speak for, and their delivery state."""
    from rich.console import Console
    from rich.table import Table

    from vigil.exchange import peers
    from vigil.safetext import visible

    rows = peers.list_peers(_db(db))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("peer", "url", "organisations", "pending", "last success", "last error")
    for p in rows:
        table.add_row(
            visible(p["name"]), visible(p["url"]), visible(", ".join(p["organisations"])), str(p["pending"]),
            p["last_success_at"] or "-", visible(p["last_error"] or "-"),
        )  # fmt: skip
    Console().print(table)


@app.command("rule-add")
def rule_add(
    org: str = typer.Argument(..., help="The organisation whose items the rule governs."),
    label: str = typer.Option(
        ..., "--label", help="KEY=VALUE of the classification, e.g. assessment=baseline (VALUE may be *)."
    ),
    allow: bool = typer.Option(None, "--allow/--deny", help="Allow or deny."),
    sector: str = typer.Option(None, "--sector", help="Receivers of this sector ..."),
    to: str = typer.Option(None, "--to", help="... or this organisation."),
    db: str = DB,
) -> None:
    """Add a sharing rule. Deny wins; nothing is shared unless a rule allows it."""
    from vigil.cli.options import settings
    from vigil.errors import VigilError
    from vigil.exchange import rulebook

    if allow is None:
        raise VigilError("say --allow or --deny")
    effect = "allow" if allow else "deny"
    rule_id = rulebook.add_rule(_db(db), org, label, effect, sector, to, settings().classification_extra)
    typer.echo(f"rule {rule_id}: {effect} {label} to {('sector ' + sector) if sector else to}")


@app.command("route-add")
def route_add(
    org: str = typer.Argument(...),
    label: str = typer.Option(..., "--label", help="KEY=VALUE of the report's classification."),
    sector: str = typer.Option(
        None, "--sector", help="Forward to this sector in the report's hosting country ..."
    ),
    to: str = typer.Option(None, "--to", help="... or to this organisation."),
    db: str = DB,
) -> None:
    """Forward reports automatically once classified so (each forward still checked by the sharing rules)."""
    from vigil.cli.options import settings
    from vigil.exchange import rulebook

    route_id = rulebook.add_route(_db(db), org, label, sector, to, settings().classification_extra)
    typer.echo(
        f"route {route_id}: {label} to {('sector ' + sector + ' of the hosting country') if sector else to}"
    )


@app.command("rules")
def rules_list(org: str = typer.Argument(...), db: str = DB, as_json: bool = JSON) -> None:
    """An organisation's sharing rules and routes."""
    from rich.console import Console
    from rich.table import Table

    from vigil.exchange import rulebook
    from vigil.safetext import visible

    found = rulebook.list_rules(_db(db), org)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("rule", "effect", "label", "to", title=f"sharing rules of {visible(org)} (default: deny)")
    for r in found["rules"]:
        who = f"sector {r['sector']}" if r["sector"] else visible(r["to"] or "")
        table.add_row(str(r["id"]), r["effect"], f"{r['label']}={r['value']}", who)
    Console().print(table)
    if found["routes"]:
        routes = Table("route", "label", "forward to", title="routes")
        for r in found["routes"]:
            who = f"{r['sector']} of the hosting country" if r["sector"] else visible(r["to"] or "")
            routes.add_row(str(r["id"]), f"{r['label']}={r['value']}", who)
        Console().print(routes)


def service(db):
    from vigil.cli.options import settings
    from vigil.reports.hashcheck import HashChecker
    from vigil.reports.priority import load_rules
    from vigil.reports.service import ReportService

    current = settings()
    rules = load_rules(current.priority_rules) if current.priority_rules else ()
    return ReportService(db, HashChecker(db), rules, current.classification_extra)


@app.command("forward")
def forward_cmd(
    report_id: int = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="The receiving organisation."),
    file: list[int] = typer.Option(None, "--file", help="Position of a file to send (repeat); default: all."),
    by: str = typer.Option(..., "--by", help="The supervisor or admin forwarding it (e-mail)."),
    db: str = DB,
) -> None:
    """Forward a report (or chosen files) if the sharing rules allow it."""
    from vigil.exchange import forward
    from vigil.reports.accounts import Accounts

    database = _db(db)
    principal = Accounts(database).principal_of(by)
    outcome = forward.forward(service(database), principal, report_id, to, file or None)
    typer.echo(json.dumps(outcome, indent=2))


@app.command("sync")
def sync(db: str = DB) -> None:
    """Deliver the outbox to the peers now."""
    from vigil.exchange import outbox
    from vigil.safetext import visible

    result = outbox.deliver(_db(db))
    typer.echo(f"delivered {result.sent}, failed {result.failed}")
    for peer, error in result.errors.items():
        typer.echo(f"  {visible(peer)}: {visible(error)}", err=True)
