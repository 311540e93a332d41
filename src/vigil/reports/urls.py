"""Web URLs in reports, parsed by one library (yarl: RFC 3986, IDNA hosts, ports 0-65535,
percent-encoding normalised) and checked here once, so the template check and the link key can never
disagree. Only http and https are web URLs: `javascript:`, `data:`, `file:` and the like are refused."""

from __future__ import annotations

import ipaddress
import re

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
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise ValueError(f"longer than {MAX_LENGTH} characters")
    if _CONTROL.search(text):
        raise ValueError("contains a space or a control character (percent-encode it)")
    try:
        url = URL(text)
        host = url.raw_host  # IDNA (punycode), lower case
        port = url.explicit_port
    except (ValueError, UnicodeError) as exc:
        reason = str(exc) or type(exc).__name__
        if "Port out of range" in reason or "port can't be converted" in reason:
            raise ValueError("the port must be a number 0-65535") from None
        raise ValueError(f"cannot be parsed ({reason})"[:200]) from None
    scheme = url.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{short(scheme, 20)} URLs" if scheme else "a URL without a scheme"
        raise ValueError(f"must be a web address (http:// or https://), not {shown}")
    if not host:
        raise ValueError("has no host name")
    if port is not None and not 0 <= port <= 65535:
        raise ValueError("the port must be a number 0-65535")
    if not _valid_host(host):
        raise ValueError(f"host {short(host, 60)} is not a valid host name or IP address")
    return url


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


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
