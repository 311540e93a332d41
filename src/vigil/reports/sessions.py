"""Signed-in browser sessions for the web UI. The cookie is 32 random bytes; the database keeps its
SHA-256 (a stolen database signs no one in), a per-session CSRF token, and when it was last used:
sign-out, a password change and the idle time-out end a session at once, in every worker process.

Sign-in attempts are limited per e-mail address and per client address (a moving window in this
process, or in Redis when the servers share one), and a failed attempt costs the same Argon2id work
whether or not the address exists (no way to tell which accounts exist by timing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update

from vigil.reports.accounts import ROLE_SCOPES, Principal
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import Organisation, User, WebSession

IDLE = timedelta(minutes=30)  # a session not used for this long is over
LONGEST = timedelta(hours=12)  # a working day: sign in again after it, whatever the activity
TOUCH_EVERY = timedelta(seconds=60)  # `seen_at` is written at most this often (not on every page)
ATTEMPTS_PER_EMAIL = (5, 300)  # five failures per address per five minutes
ATTEMPTS_PER_CLIENT = (20, 300)
_DUMMY = None  # an Argon2id hash to verify against when the address is unknown (same cost)


class SignInRefused(Exception):
    """Wrong e-mail or password, or too many attempts (the message says which, never which part)."""


@dataclass(frozen=True)
class Current:
    principal: Principal
    csrf: str
    session_id: str
    idle_seconds: int


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        from argon2 import PasswordHasher

        _DUMMY = PasswordHasher().hash(secrets.token_urlsafe(16))
    return _DUMMY


def verify_password(stored: str | None, password: str) -> bool:
    """Argon2id check; an unknown user (`stored` None) costs the same as a wrong password."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        ok = PasswordHasher().verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


class Attempts:
    """Failed sign-ins in a moving window, per e-mail address and per client address."""

    def __init__(self, redis_url: str | None = None):
        from limits import RateLimitItemPerSecond
        from limits.storage import MemoryStorage, RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        storage = RedisStorage(redis_url, key_prefix="vigil-signin") if redis_url else MemoryStorage()
        self.limiter = MovingWindowRateLimiter(storage)
        self.per_email = RateLimitItemPerSecond(*ATTEMPTS_PER_EMAIL)
        self.per_client = RateLimitItemPerSecond(*ATTEMPTS_PER_CLIENT)
        self.salt = secrets.token_bytes(16)

    def _key(self, text: str) -> str:
        return hmac.new(self.salt, text.lower().encode(), hashlib.sha256).hexdigest()[:32]

    def allowed(self, email: str, client: str) -> bool:
        """Per address *from this client* (a stranger's failures cannot lock an analyst out from
        their own desk) and per client."""
        return self.limiter.test(self.per_email, self._key(f"{email}\n{client}")) and self.limiter.test(
            self.per_client, self._key(client)
        )

    def failed(self, email: str, client: str) -> None:
        self.limiter.hit(self.per_email, self._key(f"{email}\n{client}"))
        self.limiter.hit(self.per_client, self._key(client))


class Sessions:
    def __init__(self, db: Database, idle: timedelta = IDLE, attempts: Attempts | None = None):
        self.db, self.idle = db, idle
        self.attempts = attempts or Attempts()

    def sign_in(self, email: str, password: str, client: str) -> tuple[str, str]:
        """(cookie, csrf) of a new session; SignInRefused otherwise (audited either way)."""
        email = email.strip()[:320]
        if not self.attempts.allowed(email, client):
            raise SignInRefused("too many attempts: wait five minutes and try again")
        with self.db.engine.connect() as conn:
            user = conn.execute(
                select(User.id, User.org_id, User.password_hash).where(User.email == email)
            ).first()
        if not verify_password(user.password_hash if user else None, password[:1024]):
            self.attempts.failed(email, client)
            with self.db.engine.begin() as conn:
                append(conn, "web", user.org_id if user else None, "session.refused", "session", {})
            raise SignInRefused("the e-mail address or the password is not right")
        cookie, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), utcnow()
        with self.db.engine.begin() as conn:
            conn.execute(
                insert(WebSession).values(
                    id=_digest(cookie), user_id=user.id, csrf=csrf, created_at=now, seen_at=now
                )
            )
            append(conn, email, user.org_id, "session.start", f"user:{user.id}")
        return cookie, csrf

    def current(self, cookie: str | None) -> Current | None:
        """The signed-in user of `cookie`, or None (no such session, ended, idle too long, or older
        than a working day). Marks the session used."""
        if not cookie or len(cookie) > 100:
            return None
        now = utcnow()
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(
                    WebSession.id, WebSession.csrf, WebSession.created_at, WebSession.seen_at,
                    WebSession.ended_at, User.id.label("user_id"), User.email, User.role, User.org_id,
                    Organisation.name, Organisation.country,
                )
                .join(User, User.id == WebSession.user_id)
                .join(Organisation, Organisation.id == User.org_id)
                .where(WebSession.id == _digest(cookie))
            ).first()  # fmt: skip
        if row is None or row.ended_at is not None:
            return None
        if now - row.seen_at > self.idle or now - row.created_at > LONGEST:
            self._end(row.id, row.email, row.org_id, "session.expired")
            return None
        if now - row.seen_at > TOUCH_EVERY:
            with self.db.engine.begin() as conn:
                conn.execute(update(WebSession).where(WebSession.id == row.id).values(seen_at=now))
        scopes = ROLE_SCOPES.get(row.role, frozenset())
        principal = Principal(row.user_id, row.email, row.org_id, row.name, row.country, row.role, scopes)
        return Current(principal, row.csrf, row.id, int(self.idle.total_seconds()))

    def sign_out(self, current: Current) -> None:
        self._end(current.session_id, current.principal.email, current.principal.org_id, "session.end")

    def _end(self, session_id: str, actor: str, org_id: int, action: str) -> None:
        with self.db.engine.begin() as conn:
            done = conn.execute(
                update(WebSession)
                .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
                .values(ended_at=utcnow())
            ).rowcount
            if done:
                append(conn, actor, org_id, action, "session")

    def change_password(self, current: Current, old: str, new: str, confirm: str) -> None:
        """Check the old password, set the new one (Argon2id), end every other session of the user."""
        from argon2 import PasswordHasher

        from vigil.errors import VigilError

        who = current.principal
        if new != confirm:
            raise VigilError("the new password and its repetition differ")
        if len(new) < 12:
            raise VigilError("the new password must have at least 12 characters")
        if len(new) > 1024:
            raise VigilError("the new password must have at most 1,024 characters")
        with self.db.engine.connect() as conn:
            stored = conn.execute(select(User.password_hash).where(User.id == who.user_id)).scalar()
        if not verify_password(stored, old[:1024]):
            raise VigilError("the current password is not right")
        with self.db.engine.begin() as conn:
            conn.execute(
                update(User).where(User.id == who.user_id).values(password_hash=PasswordHasher().hash(new))
            )
            conn.execute(
                update(WebSession)
                .where(
                    WebSession.user_id == who.user_id,
                    WebSession.id != current.session_id,
                    WebSession.ended_at.is_(None),
                )
                .values(ended_at=utcnow())
            )
            append(conn, who.email, who.org_id, "user.password", f"user:{who.user_id}")


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
