"""Hash feeds, the subscriber's side. A subscription is a hash set fed by a peer's feed: pulled from
its checkpoint in pages (signed requests), each page applied with the new checkpoint in one
transaction (an interrupted sync resumes where it stopped, nothing applied twice), then the set
rebuilt for matching. A checkpoint the publisher no longer knows (HTTP 410) means a full resync, as
Meta's exchange API does. Matching shows the set, so whose opinion it was. The set holds the
positive and disputed hashes (a disputed one with category `disputed`); negatives are kept in the
subscription's state, not matched. Opinions go back through the outbox (reliably, in order)."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import NotFoundError, VigilError
from vigil.exchange import messages, peers
from vigil.exchange import store as xs
from vigil.hashsets import Entry
from vigil.signals import get_signal
from vigil.store.audit import append
from vigil.store.db import Database, insert_or, utcnow
from vigil.store.models import Hashset, Organisation, Peer, Subscription, SubscriptionHash

FORMAT = "feed"


def subscribe(db: Database, peer: str, feed: str, set_name: str, org: str | None = None) -> int:
    """Subscribe to `feed` at `peer` into hash set `set_name`, for organisation `org` here (the one
    the peer knows this instance as; needed only when this instance has several)."""
    with db.engine.begin() as conn:
        peer_id = conn.execute(select(Peer.id).where(Peer.name == peer)).scalar()
        if peer_id is None:
            raise NotFoundError(f"no peer named {peer[:100]!r} (vigil exchange peers)")
        org_id = _local_org(conn, org)
        _check_set_name(conn, set_name)
        try:
            with conn.begin_nested():
                sub_id = conn.execute(
                    insert(Subscription).values(
                        peer_id=peer_id,
                        org_id=org_id,
                        feed=feed,
                        set_name=set_name,
                        checkpoint=0,
                        dirty=True,
                        created_at=utcnow(),
                    )
                ).inserted_primary_key[0]
        except IntegrityError:
            raise VigilError(f"the hash set {set_name!r} is already fed by a subscription") from None
        append(
            conn,
            "admin-cli",
            None,
            "exchange.subscribe",
            f"subscription:{sub_id}",
            {"peer": peer, "feed": feed, "set": set_name},
        )
    return sub_id


@dataclass
class SyncResult:
    pulled: dict[str, int] = field(default_factory=dict)  # set: items applied
    errors: dict[str, str] = field(default_factory=dict)


def sync(db: Database, client=None) -> SyncResult:
    """Pull every subscription from its checkpoint and rebuild the sets that changed."""
    import httpx

    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False)
    signer, result = peers.signer(db), SyncResult()
    with db.engine.connect() as conn:
        subs = conn.execute(
            select(Subscription.id, Subscription.feed, Subscription.set_name, Peer.url, Peer.name)
            .join(Peer, Peer.id == Subscription.peer_id)
            .order_by(Subscription.id)
        ).all()
    try:
        for sub in subs:
            try:
                result.pulled[sub.set_name] = _pull(db, client, signer, sub)
                _rebuild(db, sub.id, sub.set_name, f"peer {sub.name}, feed {sub.feed}")
                _state(db, sub.id, None)
            except (_PullError, VigilError) as exc:  # one subscription's trouble never stops the others
                result.errors[sub.set_name] = str(exc)
                _state(db, sub.id, str(exc)[:2000])
    finally:
        if own:
            client.close()
    return result


class _PullError(Exception):
    pass


class _Stale(Exception):
    """The publisher no longer knows the checkpoint (HTTP 410): resync from the start."""


def _fetch(client, signer, sub, checkpoint: int) -> tuple[int, list, bool]:
    """One page after `checkpoint`: (its checkpoint, items, whether more follow)."""
    import httpx

    url = f"{sub.url}/v1/feeds/{quote(sub.feed, safe='')}?since={checkpoint}"
    try:
        response = client.get(url, headers=signer.headers("GET", url, b""))
    except httpx.HTTPError as exc:
        raise _PullError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    if response.status_code == 410:
        raise _Stale
    if response.status_code != 200:
        raise _PullError(f"HTTP {response.status_code} from {sub.name}: {response.text[:300]}")
    try:
        page = response.json()
        new_checkpoint, items, more = int(page["checkpoint"]), page["items"], bool(page["more"])
    except (ValueError, KeyError, TypeError):
        raise _PullError(f"{sub.name} answered something that is not a feed page") from None
    if new_checkpoint < checkpoint:
        raise _PullError(f"{sub.name} went back in time (checkpoint {new_checkpoint} < {checkpoint})")
    if not isinstance(items, list):
        raise _PullError(f"{sub.name} answered something that is not a feed page")
    return new_checkpoint, items, more


def _pull(db, client, signer, sub) -> int:
    """Pages from the subscription's checkpoint to the end; the next page is fetched while this one
    is applied (the publisher reading and the subscriber writing overlap), pages applied in order."""
    from concurrent.futures import ThreadPoolExecutor

    applied = 0
    with ThreadPoolExecutor(1) as pool:
        while True:
            with db.engine.connect() as conn:
                checkpoint = conn.execute(
                    select(Subscription.checkpoint).where(Subscription.id == sub.id)
                ).scalar()
            try:
                pending = pool.submit(_fetch, client, signer, sub, checkpoint)
                while True:
                    new_checkpoint, items, more = pending.result()
                    if more:
                        pending = pool.submit(_fetch, client, signer, sub, new_checkpoint)
                    applied += _apply(db, sub.id, checkpoint, new_checkpoint, items)
                    checkpoint = new_checkpoint
                    if not more:
                        return applied
            except _Stale:
                _reset(db, sub.id)


def _reset(db: Database, sub_id: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(SubscriptionHash).where(SubscriptionHash.subscription_id == sub_id))
        conn.execute(
            update(Subscription)
            .where(Subscription.id == sub_id)
            .values(checkpoint=0, dirty=True, base_dirty=True, base_checkpoint=0)
        )


def _parse(items: list, old: int) -> dict[tuple[str, str], tuple[str, str | None]]:
    """The page's last word on each hash: (opinion, category); a tombstone is opinion `deleted`."""
    latest: dict[tuple[str, str], tuple[str, str | None]] = {}
    for n, item in enumerate(items):
        try:
            signal, value = item["signal"], item["value"].lower()
            if len(value) != get_signal(signal).width * 2:
                raise ValueError
            bytes.fromhex(value)
            if item.get("deleted"):
                latest[(signal, value)] = ("deleted", None)
                continue
            known = ("positive", "negative", "disputed", "self_reported")
            opinion = item["opinion"] if item["opinion"] in known else "disputed"
            latest[(signal, value)] = (
                opinion,
                (item.get("category") or None) and str(item["category"])[:100],
            )
        except (KeyError, TypeError, ValueError, AttributeError, VigilError):
            raise _PullError(
                f"feed item {n} after checkpoint {old} is not a hash of a known signal"
            ) from None
    return latest


def _apply(db: Database, sub_id: int, old: int, new: int, items: list) -> int:
    """One page, with its checkpoint, in one transaction; compare-and-set on the old checkpoint so two
    syncs at once never apply a page twice. Items in order: the last word on a hash wins. A change to
    a hash that is in the base set marks the base for rebuilding; anything else only grows `recent`."""
    latest = _parse(items, old)
    with db.engine.begin() as conn:
        moved = conn.execute(
            update(Subscription)
            .where(Subscription.id == sub_id, Subscription.checkpoint == old)
            .values(checkpoint=new, dirty=Subscription.dirty | bool(latest))
        ).rowcount
        if moved != 1:
            return 0  # another sync applied it
        base = conn.execute(
            select(Subscription.base_checkpoint, Subscription.base_dirty).where(Subscription.id == sub_id)
        ).first()
        if not base.base_dirty and _touches_base(conn, sub_id, latest, base.base_checkpoint):
            conn.execute(update(Subscription).where(Subscription.id == sub_id).values(base_dirty=True))
        rows = [
            {
                "subscription_id": sub_id,
                "signal": sig,
                "value": v,
                "opinion": o,
                "category": c,
                "seq": new,
            }
            for (sig, v), (o, c) in latest.items()
        ]
        if conn.dialect.name == "postgresql":
            _copy_upsert(conn, rows)
        else:
            for i in range(0, len(rows), 5000):
                conn.execute(_upsert(conn), rows[i : i + 5000])
    return len(latest)


_COLUMNS = "subscription_id, signal, value, opinion, category, seq"


def _copy_upsert(conn, rows: list[dict]) -> None:
    """PostgreSQL: the page by COPY into a temporary table, then one INSERT ... ON CONFLICT from it
    (executemany of the upsert took ~25 s for a million hashes)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS feed_page "
            "(LIKE subscription_hashes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY feed_page ({_COLUMNS}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (r["subscription_id"], r["signal"], r["value"], r["opinion"], r["category"], r["seq"])
                )
        cursor.execute(
            f"INSERT INTO subscription_hashes ({_COLUMNS}) SELECT {_COLUMNS} FROM feed_page "
            "ON CONFLICT (subscription_id, signal, value) DO UPDATE SET opinion = excluded.opinion, "
            "category = excluded.category, seq = excluded.seq"
        )


def _upsert(conn):
    """INSERT ... ON CONFLICT DO UPDATE for subscription_hashes (SQLite and PostgreSQL say it alike)."""
    statement = insert_or(conn, SubscriptionHash)
    changed = {k: statement.excluded[k] for k in ("opinion", "category", "seq")}
    return statement.on_conflict_do_update(
        index_elements=["subscription_id", "signal", "value"], set_=changed
    )


def _touches_base(conn, sub_id: int, latest: dict, base_checkpoint: int) -> bool:
    """Is any of these hashes in the base set (last changed at or before the base was built)? Looked
    up by key (the primary key); the checkpoint is compared here, so no planner walks the seq index."""
    by_signal: dict[str, list[str]] = {}
    for signal, value in latest:
        by_signal.setdefault(signal, []).append(value)
    for signal, values in by_signal.items():
        for i in range(0, len(values), 500):
            seqs = conn.execute(
                select(SubscriptionHash.seq).where(
                    SubscriptionHash.subscription_id == sub_id,
                    SubscriptionHash.signal == signal,
                    SubscriptionHash.value.in_(values[i : i + 500]),
                )
            ).scalars()
            if any(seq <= base_checkpoint for seq in seqs):
                return True
    return False


RECENT = "+recent"  # the set of what arrived since the base set was built
RECENT_MAX = 20_000  # ... merged into the base when it grows beyond this (or a twentieth of the base)


def recent_name(set_name: str) -> str:
    return set_name + RECENT


def _rebuild(db: Database, sub_id: int, set_name: str, source: str) -> None:
    """Make the hash sets match the subscription's state. Like a log-structured store: the base set
    (`set_name`) is rebuilt only when a hash in it changed or the recent additions grew large; new
    hashes otherwise go to the small `set_name+recent` set, so 1,000 changes to a 1,000,000-hash feed
    rebuild 1,000 entries, not a million. Both sets are matched; matching names them."""
    from vigil.store.setadmin import SetAdmin

    with db.engine.connect() as conn:
        sub = conn.execute(select(Subscription.__table__).where(Subscription.id == sub_id)).first()
        if not sub.dirty:
            return
        recent = conn.execute(
            select(func.count()).where(
                SubscriptionHash.subscription_id == sub_id, SubscriptionHash.seq > sub.base_checkpoint
            )
        ).scalar()
        total = conn.execute(select(Hashset.entry_count).where(Hashset.name == set_name)).scalar() or 0
    if sub.base_dirty or recent > max(RECENT_MAX, total // 20):
        _import(db, set_name, _entries(db, sub_id, None), source)
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # after a bulk load: plans by key, not by a guess
                conn.exec_driver_sql("ANALYZE subscription_hashes")
            conn.execute(
                update(Subscription)
                .where(Subscription.id == sub_id)
                .values(base_checkpoint=sub.checkpoint, base_dirty=False, dirty=False)
            )
        with suppress(NotFoundError):
            SetAdmin(db).delete(recent_name(set_name))
        return
    _import(db, recent_name(set_name), _entries(db, sub_id, sub.base_checkpoint), source)
    with db.engine.begin() as conn:
        conn.execute(update(Subscription).where(Subscription.id == sub_id).values(dirty=False))


def _import(db: Database, name: str, entries, source: str) -> None:
    from vigil.store.hashsets import HashsetRepository
    from vigil.store.setadmin import SEPARATOR, SetAdmin

    info = HashsetRepository(db).import_entries(
        name, entries, fmt=FORMAT, source=source, allow_empty=True, diff=False
    )
    if info.version > 1:
        SetAdmin(db).delete(f"{name}{SEPARATOR}{info.version - 1}")  # the feed is the history


def _entries(db: Database, sub_id: int, after: int | None):
    """The hashes to match (positive, disputed and self-reported, the latter two with that as their
    category: a match says what it rests on), all or those changed after checkpoint `after`."""
    query = select(
        SubscriptionHash.signal, SubscriptionHash.value, SubscriptionHash.opinion, SubscriptionHash.category
    ).where(
        SubscriptionHash.subscription_id == sub_id,
        SubscriptionHash.opinion.in_(("positive", "disputed", "self_reported")),
    )
    if after is not None:
        query = query.where(SubscriptionHash.seq > after)
    with db.engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=50_000).execute(query)
        for signal, value, opinion, category in rows:
            yield Entry(signal, bytes.fromhex(value), category if opinion == "positive" else opinion)


def _state(db: Database, sub_id: int, error: str | None) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(Subscription)
            .where(Subscription.id == sub_id)
            .values(last_sync_at=utcnow(), last_error=error)
        )


def send_opinion(db: Database, set_name: str, items: list[dict], by: str = "admin-cli") -> str:
    """Queue opinions of hashes of a subscribed set for its publisher; the message id."""
    with db.engine.begin() as conn:
        sub = conn.execute(
            select(Subscription.peer_id, Subscription.feed, Organisation.name)
            .join(Organisation, Organisation.id == Subscription.org_id)
            .where(Subscription.set_name == set_name)
        ).first()
        if sub is None:
            raise NotFoundError(f"no subscription feeds a set named {set_name[:200]!r}")
        body = {"feed": sub.feed, "items": items, "by": by}
        message = messages.new("opinion", sub.name, sub.feed, body)
        messages.parse(message)  # the same checks the publisher makes, here, where the user can fix them
        xs.enqueue(conn, sub.peer_id, message)
        append(
            conn,
            by,
            None,
            "exchange.opinion",
            f"feed:{sub.feed}",
            {"set": set_name, "items": len(items), "message": message["id"]},
        )
    return message["id"]


def _check_set_name(conn, set_name: str) -> None:
    """A new set's name, as `hashset import` takes it, and not one in use: subscribing must never
    replace an operator's own list."""
    from vigil.store.setadmin import SEPARATOR

    if not set_name.strip() or len(set_name) > 150 or SEPARATOR in set_name or _CONTROL.search(set_name):
        raise VigilError(
            f"--name must be 1 to 150 characters, without {SEPARATOR!r} or control characters, "
            f"got {set_name[:150]!r}"
        )
    for name in (set_name, recent_name(set_name)):
        if conn.execute(select(Hashset.id).where(Hashset.name == name)).first() is not None:
            raise VigilError(f"a hash set named {name!r} exists already: choose another --name")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _local_org(conn, org: str | None) -> int:
    query = select(Organisation.id, Organisation.name).where(Organisation.peer_id.is_(None))
    if org is not None:
        found = conn.execute(query.where(Organisation.name == org)).first()
        if found is None:
            raise NotFoundError(f"--org: no organisation of this instance named {org[:200]!r}")
        return found.id
    local = conn.execute(query.limit(2)).all()
    if len(local) != 1:
        raise VigilError("this instance has several organisations: say which subscribes with --org")
    return local[0].id


def list_subscriptions(db: Database) -> list[dict]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Subscription.__table__, Peer.name.label("peer")).join(
                Peer, Peer.id == Subscription.peer_id
            )
        ).all()
        counts = dict(
            conn.execute(
                select(SubscriptionHash.subscription_id, func.count()).group_by(
                    SubscriptionHash.subscription_id
                )
            ).all()
        )
    return [
        {
            "set": r.set_name,
            "peer": r.peer,
            "feed": r.feed,
            "checkpoint": r.checkpoint,
            "hashes": counts.get(r.id, 0),
            "last_sync_at": r.last_sync_at.isoformat() + "Z" if r.last_sync_at else None,
            "last_error": r.last_error,
        }
        for r in rows
    ]
