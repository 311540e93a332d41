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
from vigil.store.models import InstanceKey, Organisation, OutboxMessage, Peer

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
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host or len(url) > 2000:
        raise VigilError(
            f"--url must be the peer's http(s) base URL such as https://vigil.example.org, got {url[:200]!r}"
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
        found = conn.execute(
            select(Organisation.id, Organisation.peer_id).where(Organisation.name == org)
        ).first()
        if found is None:
            if sector not in SECTORS or not re.fullmatch(r"[A-Z]{2}", country or ""):
                raise VigilError(
                    f"no organisation named {org[:200]!r} yet: give --sector ({', '.join(SECTORS)}) and "
                    "--country (two letters) to record it as this peer's"
                )
            org_id = conn.execute(
                insert(Organisation).values(
                    name=org, sector=sector, country=country, created_at=utcnow(), peer_id=peer_id
                )
            ).inserted_primary_key[0]
        elif found.peer_id is not None:
            raise VigilError(f"organisation {org[:200]!r} is already spoken for by another peer")
        else:
            org_id = found.id
            conn.execute(update(Organisation).where(Organisation.id == org_id).values(peer_id=peer_id))
        detail = {"url": url, "key": signing.key_id(public), "org": org}
        append(conn, "admin-cli", org_id, "exchange.peer-add", f"peer:{peer_id}", detail)
    return peer_id


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
