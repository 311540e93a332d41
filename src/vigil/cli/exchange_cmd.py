"""`vigil exchange ...`: this instance's key, its peers, an organisation's sharing and routing rules,
forwarding by hand, and delivering the outbox now (`vigil serve` delivers it continuously)."""

from __future__ import annotations

import json

import typer

from vigil.cli.options import DB, JSON
from vigil.safetext import visible

app = typer.Typer(help="The network: peers, sharing rules, forwarding and delivery.", no_args_is_help=True)


def _db(db):
    """An existing database only: a mistyped --db is an error, not a new database (and a new key)."""
    from vigil.cli.options import open_database

    return open_database(db, create=False)


def _table(*columns: str, **options):
    """A Rich table whose cells fold rather than end in `…` (piped output keeps every character)."""
    from rich.table import Table

    table = Table(*columns, **options)
    for column in table.columns:
        column.overflow = "fold"
    return table


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
    typer.echo(visible(f"peer {name!r} pinned; it speaks for {org!r}"))


@app.command("peers")
def peers_list(db: str = DB, as_json: bool = JSON) -> None:
    """The peers, the organisations they speak for, and their delivery state."""
    from rich.console import Console

    from vigil.exchange import peers

    rows = peers.list_peers(_db(db))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = _table("peer", "url", "organisations", "pending", "last success", "last error")
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
    who = f"sector {sector}" if sector else to
    typer.echo(visible(f"rule {rule_id}: {effect} {label} to {who}"))


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

    from vigil.exchange import rulebook

    found = rulebook.list_rules(_db(db), org)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = _table("rule", "effect", "label", "to", title=f"sharing rules of {visible(org)} (default: deny)")
    for r in found["rules"]:
        who = f"sector {r['sector']}" if r["sector"] else visible(r["to"] or "")
        table.add_row(str(r["id"]), r["effect"], f"{r['label']}={r['value']}", who)
    Console().print(table)
    if found["routes"]:
        routes = _table("route", "label", "forward to", title="routes")
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
    report_id: int = typer.Argument(..., min=1, max=2**31 - 1),
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
    """Deliver the outbox to the peers (waiting messages too: their back-off is skipped) and pull
    every subscribed feed, now."""
    from vigil.exchange import outbox, subscribe

    database = _db(db)
    result = outbox.deliver(database, force=True)
    typer.echo(f"delivered {result.sent}, refused {result.rejected}, failed {result.failed}")
    for peer, error in result.errors.items():
        typer.echo(f"  {visible(peer)}: {visible(error)}", err=True)
    pulled = subscribe.sync(database)
    for name, count in pulled.pulled.items():
        typer.echo(f"feed into {visible(name)}: {count} changes")
    for name, error in pulled.errors.items():
        typer.echo(f"  feed into {visible(name)}: {visible(error)}", err=True)
    if result.failed or pulled.errors:
        raise typer.Exit(1)


@app.command("subscribe")
def subscribe_cmd(
    peer: str = typer.Argument(..., help="The peer that publishes the feed."),
    feed: str = typer.Argument(..., help="The feed: the publishing organisation's name."),
    name: str = typer.Option(..., "--name", help="The hash set it feeds here."),
    org: str = typer.Option(
        None, "--org", help="The organisation subscribing (if this instance has several)."
    ),
    db: str = DB,
) -> None:
    """Subscribe to a peer's hash feed; `vigil exchange sync` (or `vigil serve`) keeps the set current."""
    from vigil.exchange import subscribe

    subscribe.subscribe(_db(db), peer, feed, name, org)
    typer.echo(
        visible(f"subscribed: {feed!r} at {peer!r} feeds hash set {name!r} (vigil exchange sync pulls it)")
    )


@app.command("opinion")
def opinion_cmd(
    set_name: str = typer.Argument(..., help="A subscribed hash set."),
    value: str = typer.Argument(..., help="The hash (hex)."),
    signal: str = typer.Option(..., "--signal", help="md5, sha1, sha256 or pdq."),
    opinion: str = typer.Option(
        ...,
        "--opinion",
        help="positive, negative (e.g. a false positive here), seen (a match here) or actioned "
        "(removed or blocked here).",
    ),
    reason: str = typer.Option(None, "--reason"),
    db: str = DB,
) -> None:
    """Send the publisher your opinion of one of its hashes (delivered by the outbox)."""
    from vigil.errors import VigilError
    from vigil.exchange import messages, subscribe

    item = {"signal": signal, "value": value.lower(), "opinion": opinion, "reason": reason}
    try:
        message_id = subscribe.send_opinion(_db(db), set_name, [item])
    except messages.BadMessage as exc:
        raise VigilError(str(exc).replace("/body/items/0/", "")) from None
    typer.echo(f"queued opinion {message_id} for the publisher")


@app.command("subscriptions")
def subscriptions_cmd(db: str = DB, as_json: bool = JSON) -> None:
    """The subscribed feeds, their checkpoints and state."""
    from rich.console import Console

    from vigil.exchange import subscribe

    rows = subscribe.list_subscriptions(_db(db))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = _table("set", "peer", "feed", "checkpoint", "hashes", "last sync", "last error")
    for r in rows:
        table.add_row(
            visible(r["set"]),
            visible(r["peer"]),
            visible(r["feed"]),
            str(r["checkpoint"]),
            str(r["hashes"]),
            r["last_sync_at"] or "-",
            visible(r["last_error"] or "-"),
        )
    Console().print(table)
