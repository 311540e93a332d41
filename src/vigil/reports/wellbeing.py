"""Staff wellbeing: each analyst's preview settings (blur strength, greyscale, how long a revealed
preview stays clear, after how many reveals a day to suggest a break) and the count of previews
they revealed today. A reveal is recorded as who and when only; which file was revealed is in the
audit log entry the reveal writes, like any other access to evidence."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, time

from sqlalchemy import func, insert, select, update

from vigil.errors import VigilError
from vigil.reports.accounts import Principal
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Reveal, UserPrefs

LIMITS = {"blur": (4, 40), "reveal_seconds": (1, 30), "break_after": (5, 500)}


@dataclass(frozen=True)
class Prefs:
    blur: int = 16
    greyscale: bool = True
    reveal_seconds: int = 5
    break_after: int = 40

    def as_dict(self) -> dict:
        return asdict(self)


def prefs(db: Database, user_id: int) -> Prefs:
    with db.engine.connect() as conn:
        row = conn.execute(select(UserPrefs.__table__).where(UserPrefs.user_id == user_id)).first()
    if row is None:
        return Prefs()
    return Prefs(row.blur, bool(row.greyscale), row.reveal_seconds, row.break_after)


def check(values: dict) -> Prefs:
    """Prefs from form values (strings); a VigilError naming the field and its range otherwise."""
    out = {}
    for name, (low, high) in LIMITS.items():
        text = str(values.get(name, "")).strip()
        if not re.fullmatch(r"[0-9]{1,4}", text) or not low <= int(text) <= high:
            raise VigilError(
                f"{name.replace('_', ' ')}: a whole number from {low} to {high}, got {text[:20]!r}"
            )
        out[name] = int(text)
    return Prefs(greyscale=str(values.get("greyscale", "")) in ("on", "true", "1"), **out)


def save(db: Database, who: Principal, new: Prefs) -> None:
    with db.engine.begin() as conn:
        done = conn.execute(update(UserPrefs).where(UserPrefs.user_id == who.user_id).values(**new.as_dict()))
        if not done.rowcount:
            conn.execute(insert(UserPrefs).values(user_id=who.user_id, **new.as_dict()))
        append(conn, who.email, who.org_id, "user.prefs", f"user:{who.user_id}", new.as_dict())


def _today() -> datetime:
    return datetime.combine(utcnow().date(), time())


def revealed_today(db: Database, user_id: int) -> int:
    with db.engine.connect() as conn:
        query = select(func.count()).where(Reveal.user_id == user_id, Reveal.at >= _today())
        return conn.execute(query).scalar() or 0


def reveal(db: Database, who: Principal, what: str) -> int:
    """Record one reveal of `what` (an audit object such as `case:3/item:17`); today's count after it."""
    with db.engine.begin() as conn:
        conn.execute(insert(Reveal).values(user_id=who.user_id, at=utcnow()))
        append(conn, who.email, who.org_id, "preview.reveal", what[:100])
        query = select(func.count()).where(Reveal.user_id == who.user_id, Reveal.at >= _today())
        return conn.execute(query).scalar() or 0
