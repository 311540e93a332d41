"""What the service gives away without being asked: the docs page calls no validator on the Internet;
the public form's rate-limit keys cannot be reversed into client addresses."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import os

import pytest

from vigil.api.ratelimit import PublicRateLimit


def test_docs_disable_swaggers_online_validator(client):
    html = client.get("/docs").text
    assert '"validatorUrl": null' in html


def _keys_after_one_hit(redis_url: str | None) -> tuple[PublicRateLimit, str]:
    limiter = PublicRateLimit("5/60", redis_url)
    assert asyncio.run(limiter.allow("desk", "192.0.2.7"))
    return limiter, hashlib.sha256(b"192.0.2.7").hexdigest()[:32]


def test_rate_limit_keys_are_keyed_hashes_in_memory():
    limiter, plain = _keys_after_one_hit(None)
    stored = repr(limiter.limiter.storage.events)  # the memory store's keys
    keyed = hmac.new(limiter.salt, b"192.0.2.7", hashlib.sha256).hexdigest()[:32]
    assert keyed in stored and plain not in stored and "192.0.2.7" not in stored
    # every IPv4 address tried against the stored key finds nothing without the salt
    assert all(
        hashlib.sha256(str(ip).encode()).hexdigest()[:32] not in stored
        for ip in ipaddress.ip_network("192.0.2.0/24")
    )


def test_rate_limit_keys_in_redis_are_keyed_and_shared():
    redis = pytest.importorskip("redis")
    url = os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.skip("no Redis at " + url)
    first, plain = _keys_after_one_hit(url)
    second = PublicRateLimit("5/60", url)
    assert first.salt == second.salt  # two servers count an address under one key
    keys = b" ".join(client.keys("*"))
    assert plain.encode() not in keys and b"192.0.2.7" not in keys and keys
    client.flushdb()
