"""Where an organisation keeps its sharing and routing rules: added and listed by an administrator
(`vigil exchange rule-add`, `rules`, `route-add`), read by every path out of the organisation.
Labels and values are checked against the classification schema (with the organisation's extension),
so a misspelt rule is an error, not a rule that silently never applies; `origin=self_reported` (the
self-reported hashes of take it down) is the one label beyond the schema."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from vigil.errors import NotFoundError, VigilError
from vigil.exchange.rules import ANY, EFFECTS, Rule
from vigil.reports.accounts import SECTORS
from vigil.reports.classification import schema
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Organisation, RouteRule, ShareRule

_MAX = 100
# labels an item carries that are not a classification: where it came from (take it down's
# self-reported, not assessed hashes carry origin=self_reported, and a rule decides their readers)
ORIGINS = {"origin": {"values": ["self_reported"]}}


def parse_label(text: str, extra: str | None = None) -> tuple[str, str]:
    """`KEY=VALUE` (VALUE may be `*`), checked against the classification schema."""
    key, sep, value = (text or "").partition("=")
    key, value = key.strip(), value.strip()
    fields = {**schema(extra)["fields"], **ORIGINS}
    if not sep or not key or not value:
        raise VigilError(f"--label must be KEY=VALUE such as assessment=baseline, got {text[:_MAX]!r}")
    if key not in fields:
        raise VigilError(f"--label: unknown classification field {key[:_MAX]!r}; known: {', '.join(fields)}")
    if value != ANY and value not in fields[key]["values"]:
        raise VigilError(
            f"--label: {key} has no value {value[:_MAX]!r}; one of {', '.join(fields[key]['values'])} or *"
        )
    return key, value


def _org(conn: Connection, name: str, what: str) -> int:
    found = conn.execute(select(Organisation.id).where(Organisation.name == name)).scalar()
    if found is None:
        raise NotFoundError(f"{what}: no organisation named {name[:_MAX]!r}")
    return found


def _target(conn: Connection, org_id: int, sector: str | None, to: str | None) -> dict:
    if (sector is None) == (to is None):
        raise VigilError("give exactly one of --sector SECTOR or --to ORGANISATION")
    if sector is not None and sector not in SECTORS:
        raise VigilError(f"--sector must be one of {', '.join(SECTORS)}, got {sector[:_MAX]!r}")
    to_id = _org(conn, to, "--to") if to is not None else None
    if to_id == org_id:
        raise VigilError("--to names the organisation itself: rules and routes are about other organisations")
    return {"sector": sector, "to_org_id": to_id}


def add_rule(
    db: Database,
    org: str,
    label: str,
    effect: str,
    sector: str | None,
    to: str | None,
    extra=None,
    actor: str = "admin-cli",
) -> int:
    if effect not in EFFECTS:
        raise VigilError(f"the effect must be allow or deny, got {effect!r}")
    key, value = parse_label(label, extra)
    with db.engine.begin() as conn:
        org_id = _org(conn, org, "ORG")
        row = {
            "org_id": org_id,
            "label": key,
            "value": value,
            "effect": effect,
            **_target(conn, org_id, sector, to),
        }
        rule_id = conn.execute(insert(ShareRule).values(**row, created_at=utcnow())).inserted_primary_key[0]
        append(conn, actor, org_id, "exchange.rule-add", f"rule:{rule_id}", {**row, "to": to})
    return rule_id


def add_route(
    db: Database,
    org: str,
    label: str,
    sector: str | None,
    to: str | None,
    extra=None,
    actor: str = "admin-cli",
) -> int:
    key, value = parse_label(label, extra)
    with db.engine.begin() as conn:
        org_id = _org(conn, org, "ORG")
        row = {"org_id": org_id, "label": key, "value": value, **_target(conn, org_id, sector, to)}
        route_id = conn.execute(insert(RouteRule).values(**row, created_at=utcnow())).inserted_primary_key[0]
        append(conn, actor, org_id, "exchange.route-add", f"route:{route_id}", {**row, "to": to})
    return route_id


def _rows(conn: Connection, model, org_id: int) -> list:
    """The organisation's rules of `model` (ShareRule or RouteRule), with the named receiver's name."""
    target = aliased(Organisation)
    return conn.execute(
        select(model.__table__, target.name.label("to_name"))
        .outerjoin(target, target.id == model.to_org_id)
        .where(model.org_id == org_id)
        .order_by(model.id)
    ).all()


def share_rules(conn: Connection, org_id: int) -> list[Rule]:
    return [
        Rule(r.id, r.label, r.value, r.effect, r.sector, r.to_name) for r in _rows(conn, ShareRule, org_id)
    ]


def routes(conn: Connection, org_id: int) -> list[dict]:
    return [
        {"id": r.id, "label": r.label, "value": r.value, "sector": r.sector, "to": r.to_name}
        for r in _rows(conn, RouteRule, org_id)
    ]


def list_rules(db: Database, org: str) -> dict:
    with db.engine.connect() as conn:
        org_id = _org(conn, org, "ORG")
        rules = [
            {
                "id": r.id,
                "label": r.label,
                "value": r.value,
                "effect": r.effect,
                "sector": r.sector,
                "to": r.to_org,
            }
            for r in share_rules(conn, org_id)
        ]
        return {"organisation": org, "rules": rules, "routes": routes(conn, org_id)}
