"""Talking to hosting providers: is a reported URL still online, and sending them a notice.

Both are pluggable (any callable of the same shape), so a hotline can check through its own crawler
or send through its ticketing system, and tests can run against a local server. The defaults:

- `HttpChecker` fetches the URL and hashes the body *in memory* as it streams in (MD5, SHA-1,
  SHA-256), compares the digests with the report's file hashes and throws the bytes away: nothing is
  ever written to disk or kept. The body is bounded (`max_bytes`), every network wait is bounded, and
  so is the whole check (`deadline`). Redirects are not followed blindly: one to another host means
  the content "moved" (a person decides where the next notice goes); one on the same host is followed.
- `HttpSender` POSTs a small JSON notice (references, URL, hashes: never content) to an http(s)
  abuse endpoint; an e-mail address is recorded as "to be sent by e-mail" for a person to send.

Reported URLs are hostile: by default neither talks to a loopback, private, link-local or otherwise
non-public address (a report naming http://127.0.0.1/... or a cloud metadata address would otherwise
make Vigil probe its own network). The address is checked when the host name is resolved; a host
that resolves differently a moment later (DNS rebinding) is not caught here, so run the checker
where it can reach only the Internet."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import httpx

from vigil.reports import urls

STATES = ("online", "removed", "unavailable", "moved", "error")
MAX_BYTES = 50 * 1024 * 1024  # a body larger than this is not read to the end (and not compared)
TIMEOUT = 10.0  # seconds for any one network wait (connect, each read)
DEADLINE = 60.0  # seconds for a whole check, redirects included (a server dripping bytes is cut off)
MAX_REDIRECTS = 5  # on the same host
USER_AGENT = "Vigil notice-and-takedown (availability check)"
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_DIGESTS = ("md5", "sha1", "sha256")


@dataclass(frozen=True)
class CheckResult:
    state: str  # one of STATES
    detail: str  # for a person: what was seen (never content)
    location: str | None = None  # where a "moved" URL now points


@dataclass(frozen=True)
class SendResult:
    ok: bool
    channel: str  # http | email
    detail: str


class Checker(Protocol):
    def __call__(self, url: str, hashes: Iterable[str]) -> CheckResult: ...


class Sender(Protocol):
    def __call__(self, contact: str, notice: dict) -> SendResult: ...


def is_email(contact: str) -> bool:
    return bool(EMAIL.fullmatch(contact or ""))


def _same_host(a: str, b: str) -> bool:
    """One host, whatever the scheme or port; `www.` is not another host."""

    def host(url: str) -> str:
        name = (urls.parse(url).raw_host or "").lower().rstrip(".")
        return name[4:] if name.startswith("www.") else name

    return host(a) == host(b)


def non_public_address(url: str) -> str | None:
    """Why `url` must not be fetched (its host resolves to a non-public address), or None."""
    host = urls.parse(url).raw_host or ""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None  # unresolvable: the fetch itself fails and says so
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            return f"{host} resolves to {address}, which is not a public address; not contacted"
    return None


def _location(current: str, header: str | None) -> str | None:
    """The absolute http(s) URL a redirect points to, or None when it names none."""
    if not header:
        return None
    try:
        target = str(httpx.URL(current).join(header.strip()))
        urls.parse(target)
    except (ValueError, httpx.InvalidURL):
        return None
    return target


def _client(timeout: float, proxy: str | None) -> httpx.Client:
    """Redirects never followed by the client (the checker decides), no settings from the environment."""
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, proxy=proxy)


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


class HttpChecker:
    """The default availability check (module docstring). `allow_private`: for tests and for hosts on
    the hotline's own network. `proxy`: the proxy to check through (hotlines often check from an
    address that is not theirs); the environment's proxy settings and .netrc are not used."""

    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
        deadline: float = DEADLINE,
        allow_private: bool = False,
        proxy: str | None = None,
    ):
        self.max_bytes, self.timeout, self.deadline = max_bytes, timeout, deadline
        self.allow_private, self.proxy = allow_private, proxy

    def __call__(self, url: str, hashes: Iterable[str]) -> CheckResult:
        wanted = {h.lower() for h in hashes if h}
        until = time.monotonic() + self.deadline
        current = url
        try:
            with _client(self.timeout, self.proxy) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    refused = None if self.allow_private else non_public_address(current)
                    if refused:
                        return CheckResult("error", refused)
                    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
                    with client.stream("GET", current, headers=headers) as response:
                        if not response.is_redirect:
                            return self._judge(response, wanted, until)
                        target = _location(current, response.headers.get("location"))
                    if target is None:
                        return CheckResult("unavailable", f"answers {response.status_code} without a target")
                    if not _same_host(url, target):
                        return CheckResult("moved", f"redirects to another host: {target}", target)
                    current = target
        except httpx.TimeoutException:
            return CheckResult("unavailable", "timed out")
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            return CheckResult("unavailable", f"cannot be fetched ({type(exc).__name__})")
        except _TooSlow:
            return CheckResult("error", f"took longer than {self.deadline:g} s; not compared")
        except _TooLarge:
            return CheckResult("error", f"the body is larger than {self.max_bytes} bytes; not compared")
        return CheckResult("error", f"more than {MAX_REDIRECTS} redirects on the same host")

    def _judge(self, response: httpx.Response, wanted: set[str], until: float) -> CheckResult:
        """What the answer says: 404/410 (and 451, blocked on legal grounds) removed; other errors
        unavailable; a body among the reported files online; any other body removed (changed)."""
        status = response.status_code
        if status in (404, 410, 451):
            return CheckResult("removed", f"answers {status}")
        if not 200 <= status < 300:
            return CheckResult("unavailable", f"answers {status}")
        digests = self._digests(response, until)
        if digests is None:  # a reported empty file (MD5 d41d8cd9...) must not match an empty page
            return CheckResult("removed", f"answers {status} with an empty body")
        if not wanted:
            return CheckResult("online", f"answers {status} (the report has no file hash to compare)")
        found = sorted(name for name, value in digests.items() if value in wanted)
        if found:
            return CheckResult("online", f"serves a reported file ({', '.join(found)} match)")
        return CheckResult("removed", f"answers {status}, but with none of the reported files")

    def _digests(self, response: httpx.Response, until: float) -> dict[str, str] | None:
        """MD5, SHA-1 and SHA-256 of the body, hashed chunk by chunk as it arrives (never stored);
        None for an empty body."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge
        hashers = {name: hashlib.new(name) for name in _DIGESTS}
        size = 0
        for chunk in response.iter_bytes(chunk_size=64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            if time.monotonic() > until:
                raise _TooSlow
            for hasher in hashers.values():
                hasher.update(chunk)
        return {name: hasher.hexdigest() for name, hasher in hashers.items()} if size else None


class HttpSender:
    """The default way a notice goes out (module docstring)."""

    def __init__(self, timeout: float = TIMEOUT, allow_private: bool = False, proxy: str | None = None):
        self.timeout, self.allow_private, self.proxy = timeout, allow_private, proxy

    def __call__(self, contact: str, notice: dict) -> SendResult:
        if is_email(contact):
            return SendResult(True, "email", f"to be sent by e-mail to {contact} by a person")
        refused = None if self.allow_private else non_public_address(contact)
        if refused:
            return SendResult(False, "http", refused)
        try:
            with _client(self.timeout, self.proxy) as client:
                response = client.post(contact, json=notice, headers={"User-Agent": USER_AGENT})
        except httpx.HTTPError as exc:
            return SendResult(False, "http", f"cannot be delivered ({type(exc).__name__})")
        if 200 <= response.status_code < 300:
            return SendResult(True, "http", f"delivered (the endpoint answered {response.status_code})")
        return SendResult(False, "http", f"refused (the endpoint answered {response.status_code})")
