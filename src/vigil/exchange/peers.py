"""This instance's signing key and its peers: other Vigil instances, each pinned with its public key
and the organisation it speaks for (`vigil exchange peer-add`). An organisation at a peer is an
organisation row with the peer's id: rules, forwarding and feedback name it like a local one, and
what is sent to it goes through the outbox."""

from __future__ import annotations

import re

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import VigilError
from vigil.exchange import signing
from vigil.reports.accounts import SECTORS
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import InstanceKey, Organisation, OutboxMessage, Peer, Report, User

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def private_key_pem(db: Database) -> str:
    """This instance's Ed25519 key, made on first use (kept in the database: whoever holds the
    database can sign as this instance; back it up and protect it like the audit log)."""
    with db.engine.begin() as conn:
        row = conn.execute(select(InstanceKey.private_key).order_by(InstanceKey.id.desc())).first()
        if row is not None:
            return row.private_key
        pem = signing.new_private_key_pem()
        conn.execute(insert(InstanceKey).values(private_key=pem, created_at=utcnow()))
        append(conn, "admin-cli", None, "exchange.key-create", "instance-key", {})
    return private_key_pem(db)  # the first one written wins if two made one at once


def signer(db: Database) -> signing.Signer:
    return signing.Signer(private_key_pem(db))


def public_key(db: Database) -> str:
    return signing.public_key_text(signer(db).public)


def _check_url(url: str) -> str:
    from yarl import URL

    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or len(url) > 2000
        or parsed.user is not None
        or parsed.password is not None
        or parsed.query_string
        or parsed.fragment
    ):
        raise VigilError(
            "--url must be the peer's http(s) base URL such as https://vigil.example.org (no user, "
            f"password, query or fragment), got {url[:200]!r}"
        )
    return str(parsed).rstrip("/")


def add_peer(
    db: Database,
    name: str,
    url: str,
    key: str,
    org: str,
    sector: str | None = None,
    country: str | None = None,
) -> int:
    """Pin a peer; `org` is the organisation it speaks for: an existing organisation not yet tied to
    a peer, or a new one (then `sector` and `country` are needed)."""
    if not _NAME.fullmatch(name or ""):
        raise VigilError(f"peer name must be letters, digits, . _ - (at most 100), got {name[:100]!r}")
    url, public = _check_url(url), signing.parse_public_key(key)
    with db.engine.begin() as conn:
        try:
            peer_id = conn.execute(
                insert(Peer).values(
                    name=name, url=url, public_key=signing.public_key_text(public), created_at=utcnow()
                )
            ).inserted_primary_key[0]
        except IntegrityError:
            raise VigilError(f"a peer named {name!r} exists already") from None
        org_id = _peer_org(conn, org, sector, country, peer_id)
        detail = {"url": url, "key": signing.key_id(public), "org": org}
        append(conn, "admin-cli", org_id, "exchange.peer-add", f"peer:{peer_id}", detail)
    return peer_id


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _peer_org(conn, org: str, sector: str | None, country: str | None, peer_id: int) -> int:
    """The organisation the peer speaks for: an existing one that is nobody's here (no users, no
    reports: pinning a peer for a local organisation would send its reports off the machine), or a
    new one recorded with `sector` and `country`."""
    if not org or len(org) > 200 or _CONTROL.search(org):
        raise VigilError(f"--org must be 1 to 200 characters without control characters, got {org[:200]!r}")
    found = conn.execute(
        select(Organisation.id, Organisation.peer_id).where(Organisation.name == org)
    ).first()
    if found is not None:
        if found.peer_id is not None:
            raise VigilError(f"organisation {org!r} is already spoken for by another peer")
        local = (
            conn.execute(select(User.id).where(User.org_id == found.id).limit(1)).first()
            or conn.execute(select(Report.id).where(Report.org_id == found.id).limit(1)).first()
        )
        if local is not None:
            raise VigilError(
                f"organisation {org!r} is this instance's own (it has users or reports here): "
                "a peer cannot speak for it; give the peer's organisation its own name"
            )
        conn.execute(update(Organisation).where(Organisation.id == found.id).values(peer_id=peer_id))
        return found.id
    if sector is None and country is None:
        raise VigilError(
            f"no organisation named {org!r} yet: give --sector ({', '.join(SECTORS)}) and --country (two "
            "letters) to record it as this peer's"
        )
    if sector not in SECTORS:
        raise VigilError(f"--sector must be one of {', '.join(SECTORS)}, got {str(sector)[:100]!r}")
    if not re.fullmatch(r"[A-Z]{2}", country or ""):
        raise VigilError(
            f"--country must be a two-letter ISO 3166 code such as NL, got {str(country)[:100]!r}"
        )
    return conn.execute(
        insert(Organisation).values(
            name=org, sector=sector, country=country, created_at=utcnow(), peer_id=peer_id
        )
    ).inserted_primary_key[0]


def list_peers(db: Database) -> list[dict]:
    with db.engine.connect() as conn:
        pending = dict(
            conn.execute(
                select(OutboxMessage.peer_id, func.count())
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.rejected_at.is_(None))
                .group_by(OutboxMessage.peer_id)
            ).all()
        )
        orgs: dict[int, list[str]] = {}
        for name, peer_id in conn.execute(
            select(Organisation.name, Organisation.peer_id).where(Organisation.peer_id.is_not(None))
        ):
            orgs.setdefault(peer_id, []).append(name)
        return [
            {
                "name": p.name,
                "url": p.url,
                "key": signing.key_id(signing.parse_public_key(p.public_key)),
                "organisations": sorted(orgs.get(p.id, [])),
                "pending": pending.get(p.id, 0),
                "last_attempt_at": _iso(p.last_attempt_at),
                "last_success_at": _iso(p.last_success_at),
                "last_error": p.last_error,
            }
            for p in conn.execute(select(Peer.__table__).order_by(Peer.name))
        ]


def _iso(at) -> str | None:
    return at.isoformat() + "Z" if at else None


def keys(db: Database) -> dict:
    """{key id: public key} of every peer, and {key id: peer id}: what the inbox verifies against."""
    with db.engine.connect() as conn:
        rows = conn.execute(select(Peer.id, Peer.public_key)).all()
    out, ids = {}, {}
    for peer_id, text in rows:
        key = signing.parse_public_key(text)
        out[signing.key_id(key)] = key
        ids[signing.key_id(key)] = peer_id
    return {"keys": out, "peers": ids}
