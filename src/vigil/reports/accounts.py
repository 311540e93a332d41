"""Organisations, users and API tokens. Passwords are Argon2id hashes; tokens are random, shown once,
stored as SHA-256, scoped, revocable and may expire. `authenticate` turns a bearer token into the
Principal every service call is checked against.

A token that authenticated is remembered by this process for `cache_seconds` (default 5): a request
with it then costs no query. Expiry is still checked on every request; a revocation (or a change of
the user's role) made by another process takes effect within `cache_seconds`, and at once in the
process that revoked it. Unknown, revoked and expired tokens are never remembered."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from vigil.errors import NotFoundError, VigilError
from vigil.store.audit import append
from vigil.store.db import Database, utcnow
from vigil.store.models import ApiToken, Organisation, User

SECTORS = ("hotline", "law_enforcement", "industry", "ngo")


MAX_EXPIRES_DAYS = 3650  # ten years; a token meant to last longer should not expire (omit --expires)


class IssuedToken(NamedTuple):
    token: str
    scopes: tuple[str, ...]
    expires_at: datetime | None  # naive UTC; None: never


ROLES = ("analyst", "supervisor", "admin")
SCOPES = ("reports:read", "reports:write", "reports:classify", "reports:share", "hashes:check")
ROLE_SCOPES = {
    "analyst": frozenset(SCOPES) - {"reports:share"},
    "supervisor": frozenset(SCOPES),
    "admin": frozenset(SCOPES),
}
TOKEN_PREFIX = "vgl_"


class AuthError(Exception):
    """No valid credentials (HTTP 401)."""


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    org_id: int
    org_name: str
    org_country: str
    role: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000


class Accounts:
    def __init__(self, db: Database, cache_seconds: float = CACHE_SECONDS):
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, datetime | None, float]] = {}

    def create_org(self, name: str, sector: str, country: str) -> int:
        if sector not in SECTORS:
            raise VigilError(f"--sector must be one of {', '.join(SECTORS)}, got {sector!r}")
        if not re.fullmatch(r"[A-Z]{2}", country or ""):
            raise VigilError(f"--country must be a two-letter ISO 3166 code such as NL, got {country!r}")
        if not name.strip():
            raise VigilError("organisation name must not be empty")
        try:
            with self.db.engine.begin() as conn:
                org_id = conn.execute(
                    insert(Organisation).values(
                        name=name, sector=sector, country=country, created_at=utcnow()
                    )
                ).inserted_primary_key[0]
                append(
                    conn, "admin-cli", org_id, "org.create", f"org:{org_id}", {"name": name, "sector": sector}
                )
        except IntegrityError:
            raise VigilError(f"organisation {name!r} already exists") from None
        return org_id

    def org_id(self, name: str) -> int:
        with self.db.engine.connect() as conn:
            found = conn.execute(select(Organisation.id).where(Organisation.name == name)).scalar()
        if found is None:
            raise NotFoundError(f"no organisation named {name!r}")
        return found

    def create_user(self, email: str, org: str, role: str, password: str, actor: str = "admin-cli") -> int:
        if role not in ROLES:
            raise VigilError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
            raise VigilError(f"{email!r} is not an e-mail address")
        if len(password) < 12:
            raise VigilError("the password must have at least 12 characters")
        org_id = self.org_id(org)
        try:
            with self.db.engine.begin() as conn:
                user_id = conn.execute(
                    insert(User).values(
                        email=email,
                        org_id=org_id,
                        role=role,
                        password_hash=_hasher().hash(password),
                        created_at=utcnow(),
                    )
                ).inserted_primary_key[0]
                append(
                    conn,
                    actor,
                    org_id,
                    "user.create",
                    f"user:{user_id}",
                    {"email": email, "role": role},
                )
        except IntegrityError:
            raise VigilError(f"user {email!r} already exists") from None
        return user_id

    def check_password(self, email: str, password: str) -> bool:
        from argon2.exceptions import VerificationError

        with self.db.engine.connect() as conn:
            stored = conn.execute(select(User.password_hash).where(User.email == email)).scalar()
        if stored is None:
            return False
        try:
            return _hasher().verify(stored, password)
        except VerificationError:
            return False

    def create_token(
        self, email: str, scopes: list[str] | None = None, expires_days: int | None = None
    ) -> str:
        """A new token (shown once; only its SHA-256 is kept). Default scopes: all the user's role
        allows; asking for more is refused, not silently narrowed (a token that can do nothing)."""
        return self.issue_token(email, scopes, expires_days).token

    def issue_token(
        self,
        email: str,
        scopes: list[str] | None = None,
        expires_days: int | None = None,
        actor: str = "admin-cli",
        org_id: int | None = None,
    ) -> IssuedToken:
        """A new token for `email` (of organisation `org_id` when given: an admin page issues tokens
        for its own organisation's users only)."""
        unknown = [s for s in scopes or () if s not in SCOPES]
        if unknown:
            raise VigilError(f"unknown scope {unknown[0]!r}; scopes: {', '.join(SCOPES)}")
        if expires_days is not None and not 0 < expires_days <= MAX_EXPIRES_DAYS:
            raise VigilError(f"--expires must be 1-{MAX_EXPIRES_DAYS} days, got {expires_days}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.engine.begin() as conn:
            user = conn.execute(select(User.id, User.org_id, User.role).where(User.email == email)).first()
            if user is None or (org_id is not None and user.org_id != org_id):
                raise NotFoundError(f"no user {email[:320]!r}")
            allowed = ROLE_SCOPES.get(user.role, frozenset())
            beyond = [s for s in scopes or () if s not in allowed]
            if beyond:
                article = "an" if user.role[0] in "aeiou" else "a"
                raise VigilError(
                    f"--scope {beyond[0]}: {article} {user.role} may not have it; "
                    f"{article} {user.role}'s scopes: {', '.join(s for s in SCOPES if s in allowed)}"
                )
            scopes = list(dict.fromkeys(scopes)) if scopes else [s for s in SCOPES if s in allowed]
            expires = utcnow() + timedelta(days=expires_days) if expires_days else None
            token_id = conn.execute(
                insert(ApiToken).values(
                    user_id=user.id,
                    token_hash=token_digest(token),
                    scopes=" ".join(scopes),
                    created_at=utcnow(),
                    expires_at=expires,
                )
            ).inserted_primary_key[0]
            append(
                conn,
                actor,
                user.org_id,
                "token.create",
                f"token:{token_id}",
                {"user": email, "scopes": scopes},
            )
        return IssuedToken(token, tuple(scopes), expires)

    def revoke_token(self, token: str) -> None:
        with self.db.engine.begin() as conn:
            done = conn.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            if not done:
                raise NotFoundError("no such token, or revoked already")
            self._cache.pop(token_digest(token), None)
            append(conn, "admin-cli", None, "token.revoke", "token", {})

    def cached(self, token: str | None) -> Principal | None:
        """The principal of a token that authenticated less than `cache_seconds` ago (expiry
        checked now), else None: call `authenticate`."""
        if not token:
            return None
        digest = token_digest(token)
        hit = self._cache.get(digest)
        if hit is None:
            return None
        principal, expires_at, until = hit
        if time.monotonic() > until:
            self._cache.pop(digest, None)
            return None
        if expires_at is not None and expires_at <= utcnow():
            self._cache.pop(digest, None)
            raise AuthError("the token has expired")
        return principal

    def principal_of(self, email: str) -> Principal:
        """The user as the command line acts for them (`--by EMAIL`): every scope their role has."""
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(User.id, User.email, User.role, User.org_id, Organisation.name, Organisation.country)
                .join(Organisation, Organisation.id == User.org_id)
                .where(User.email == email)
            ).first()
        if row is None:
            raise NotFoundError(f"--by: no user {email[:320]!r}")
        scopes = ROLE_SCOPES.get(row.role, frozenset())
        return Principal(row.id, row.email, row.org_id, row.name, row.country, row.role, scopes)

    def authenticate(self, token: str | None) -> Principal:
        if not token or not token.startswith(TOKEN_PREFIX):
            raise AuthError("a bearer token is required")
        principal = self.cached(token)
        if principal is not None:
            return principal
        with self.db.engine.connect() as conn:
            row = conn.execute(
                select(
                    User.id,
                    User.email,
                    User.role,
                    User.org_id,
                    Organisation.name,
                    Organisation.country,
                    ApiToken.scopes,
                    ApiToken.expires_at,
                    ApiToken.revoked_at,
                )
                .join(User, User.id == ApiToken.user_id)
                .join(Organisation, Organisation.id == User.org_id)
                .where(ApiToken.token_hash == token_digest(token))
            ).first()
        if row is None or row.revoked_at is not None:
            raise AuthError("the token is not valid or was revoked")
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise AuthError("the token has expired")
        scopes = frozenset(row.scopes.split()) & ROLE_SCOPES.get(
            row.role, frozenset()
        )  # a token never exceeds its user
        principal = Principal(row.id, row.email, row.org_id, row.name, row.country, row.role, scopes)
        if self.cache_seconds > 0:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[token_digest(token)] = (
                principal,
                row.expires_at,
                time.monotonic() + self.cache_seconds,
            )
        return principal

    # -- what the admin pages list ------------------------------------------------------------------
    def organisations(self) -> list:
        """Every organisation this instance knows (local ones and those at peers)."""
        with self.db.engine.connect() as conn:
            return conn.execute(
                select(
                    Organisation.id, Organisation.name, Organisation.sector, Organisation.country,
                    Organisation.peer_id, Organisation.created_at,
                ).order_by(Organisation.name)
            ).all()  # fmt: skip

    def users(self, org_id: int) -> list:
        with self.db.engine.connect() as conn:
            return conn.execute(
                select(User.id, User.email, User.role, User.created_at)
                .where(User.org_id == org_id)
                .order_by(User.email)
            ).all()

    def tokens(self, org_id: int) -> list:
        """The organisation's tokens (never the token: it is not kept), newest first."""
        with self.db.engine.connect() as conn:
            return conn.execute(
                select(
                    ApiToken.id, User.email, ApiToken.scopes, ApiToken.created_at, ApiToken.expires_at,
                    ApiToken.revoked_at,
                )
                .join(User, User.id == ApiToken.user_id)
                .where(User.org_id == org_id)
                .order_by(ApiToken.id.desc())
                .limit(500)
            ).all()  # fmt: skip

    def revoke_token_id(self, org_id: int, token_id: int, actor: str) -> None:
        """Revoke one of the organisation's tokens by its id (the admin page has no token to show)."""
        with self.db.engine.begin() as conn:
            mine = select(User.id).where(User.org_id == org_id)
            done = conn.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.user_id.in_(mine), ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
            if not done:
                raise NotFoundError(f"no token {token_id} of this organisation, or revoked already")
            self._cache.clear()  # this process forgets it at once; others within cache_seconds
            append(conn, actor, org_id, "token.revoke", f"token:{token_id}", {})
