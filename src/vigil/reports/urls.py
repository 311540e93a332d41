"""Web URLs in reports, parsed by one library (yarl: RFC 3986, IDNA hosts, ports 0-65535,
percent-encoding normalised) and checked here once, so the template check and the link key can never
disagree. Only http and https are web URLs: `javascript:`, `data:`, `file:` and the like are refused."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from yarl import URL

DEFAULT_PORTS = {"http": 80, "https": 443}
SCHEMES = tuple(DEFAULT_PORTS)
MAX_LENGTH = 2000
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def short(value, limit: int = 100) -> str:
    """`repr(value)` cut to about `limit` characters: errors never echo large input."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "…"


def parse(text: str) -> URL:
    """The URL, or ValueError saying what is wrong with it (for a person: no parser jargon)."""
    if not isinstance(text, str):
        raise ValueError("must be a string")
    url, problem = _parsed(text)
    if problem is not None:
        raise ValueError(problem)
    return url


@lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[URL | None, str | None]:
    """(URL, None) or (None, what is wrong); remembered, as each URL of a report is parsed when the
    template is checked and again for its link key (4,096 URLs of at most MAX_LENGTH: a few MB)."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        return None, f"longer than {MAX_LENGTH} characters"
    if _CONTROL.search(text):
        return None, "contains a space or a control character (percent-encode it)"
    try:
        url = URL(text)
        host = url.raw_host  # IDNA (punycode), lower case
        port = url.explicit_port
    except (ValueError, UnicodeError) as exc:
        reason = str(exc) or type(exc).__name__
        if "Port out of range" in reason or "port can't be converted" in reason:
            return None, "the port must be a number 0-65535"
        return None, f"cannot be parsed ({reason})"[:200]
    scheme = url.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{short(scheme, 20)} URLs" if scheme else "a URL without a scheme"
        return None, f"must be a web address (http:// or https://), not {shown}"
    if not host:
        return None, "has no host name"
    if port is not None and not 0 <= port <= 65535:
        return None, "the port must be a number 0-65535"
    if not _valid_host(host):
        return None, f"host {short(host, 60)} is not a valid host name or IP address"
    return url, None


def _valid_host(host: str) -> bool:
    """A DNS name (checked first: the common case, and no exception raised for it) or an IP address."""
    name = host[:-1] if host.endswith(".") else host
    if 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split(".")):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def check(text) -> bool:
    """For jsonschema's format checker: True, or ValueError saying why (shown in the problem)."""
    parse(text)
    return True


def is_web_url(text) -> bool:
    """For fastjsonschema's format checker (the fast path for valid reports)."""
    try:
        parse(text)
        return True
    except ValueError:
        return False


def normalise(text: str) -> str:
    """The link key of a web URL: scheme and host lower-cased (IDNA), default port, user name,
    password and fragment dropped, percent-encoding normalised, a trailing slash trimmed."""
    url = parse(text)
    port = url.explicit_port
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[url.scheme.lower()]:
        host = f"{host}:{port}"
    path = url.raw_path.rstrip("/") or "/"
    query = f"?{url.raw_query_string}" if url.raw_query_string else ""
    return f"{url.scheme.lower()}://{host}{path}{query}"
