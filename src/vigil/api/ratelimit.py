"""The public form's rate limit, by the maintained `limits` library: a moving window of
VIGIL_PUBLIC_RATE (`N/SECONDS`, default 10/60) reports per client address, shared by every worker and
server through Redis when VIGIL_REDIS_URL is set, in this process's memory otherwise. The address is
kept only as a keyed hash (HMAC-SHA-256 under a random salt: a plain hash of an IPv4 address is
reversed by trying all 2^32), and only for the window. The salt lives where the counts do: in this
process, or in Redis (`vigil:rate-salt`, made once by whichever server starts first), so every
server counts an address under the same key."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from vigil.errors import VigilError

DEFAULT_RATE = "10/60"


class LimiterUnavailable(Exception):
    """The shared limiter (Redis) did not answer (HTTP 503)."""


def parse_rate(spec: str | None) -> tuple[int, int]:
    """(requests, seconds) of `N/SECONDS` (VIGIL_PUBLIC_RATE); a VigilError names it otherwise."""
    text = (spec or DEFAULT_RATE).strip()
    m = re.fullmatch(r"(\d{1,9})\s*/\s*(\d{1,9})", text)
    if not m or int(m[1]) < 1 or int(m[2]) < 1:
        raise VigilError(f"VIGIL_PUBLIC_RATE must be REQUESTS/SECONDS such as 10/60, got {text[:50]!r}")
    return int(m[1]), int(m[2])


def describe(redis_url: str | None) -> str:
    """Where the counts live, for the start-up line: never the URL (it may hold a password)."""
    if not redis_url:
        return "memory (per process)"
    from yarl import URL

    try:
        u = URL(redis_url)
        return f"redis at {u.host}:{u.port or 6379}"
    except ValueError:
        return "redis"


def check_redis(redis_url: str) -> None:
    """Refuse to start when VIGIL_REDIS_URL is wrong or Redis does not answer."""
    import redis

    if not re.match(r"(rediss?|unix)://", redis_url):
        raise VigilError("VIGIL_REDIS_URL must be redis://HOST:PORT[/DB] (or rediss://, unix://)")
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise VigilError(
            f"VIGIL_REDIS_URL: Redis does not answer at {describe(redis_url)} "
            f"({type(exc).__name__}); start it or unset VIGIL_REDIS_URL"
        ) from None


class PublicRateLimit:
    def __init__(self, spec: str | None = None, redis_url: str | None = None):
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import MemoryStorage, RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        self.rate, self.per = parse_rate(spec)
        self.item = RateLimitItemPerSecond(self.rate, self.per)
        self.where = describe(redis_url)
        self.salt = secrets.token_bytes(32)
        if redis_url:
            if not re.match(r"(rediss?|unix)://", redis_url):
                raise VigilError("VIGIL_REDIS_URL must be redis://HOST:PORT[/DB] (or rediss://, unix://)")
            self.salt = _shared_salt(redis_url, self.salt)
            storage = RedisStorage(
                "async+" + redis_url.replace("unix://", "redis+unix://", 1),
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="vigil",
            )
        else:
            storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(storage)

    async def allow(self, scope: str, address: str) -> bool:
        """One more request from `address` to `scope` (the receiving organisation): within the rate?"""
        from limits.errors import StorageError

        key = hmac.new(self.salt, address.encode(), hashlib.sha256).hexdigest()[:32]
        try:
            return await self.limiter.hit(self.item, "public", scope, key)
        except StorageError:
            raise LimiterUnavailable from None


async def refusal(limiter: PublicRateLimit, scope: str, request, what: str):
    """None when the request's address is within the rate for `scope`, else the problem to answer:
    429 naming the rate (`what` is counted: reports, submissions), or 503 when Redis does not answer."""
    from vigil.api.problems import problem

    try:
        allowed = await limiter.allow(scope, request.client.host if request.client else "?")
    except LimiterUnavailable:
        return problem(
            503, "the rate limiter is unavailable", "try again shortly", headers={"Retry-After": "10"}
        )
    if allowed:
        return None
    return problem(
        429,
        f"too many {what}",
        f"at most {limiter.rate} {what} per {limiter.per} seconds from one address; try again later",
        headers={"Retry-After": str(limiter.per)},
    )


def _shared_salt(redis_url: str, mine: bytes) -> bytes:
    """The salt every server uses: ours if we are first (SET NX), else the one already there."""
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.set("vigil:rate-salt", mine, nx=True)
            return client.get("vigil:rate-salt") or mine
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return mine  # Redis down now: the first request says so (503); counts are keyed per process
