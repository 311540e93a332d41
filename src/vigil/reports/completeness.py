"""How complete a report is, and what is missing and why it matters — returned to the reporter at
intake, so the next report is better (police's first complaint is reports they cannot act on)."""

from __future__ import annotations

from typing import NamedTuple


class Check(NamedTuple):
    field: str
    weight: int
    why: str


CHECKS = (
    Check(
        "/files/*/hashes",
        25,
        "no file hash: no automatic match against known material, every file must be viewed",
    ),
    Check(
        "/incident/time", 15, "no time of the incident: IP addresses and provider logs cannot be tied to it"
    ),
    Check("/channel/urls", 10, "no URL: the content cannot be located, preserved or taken down"),
    Check(
        "/reportedPerson", 10, "no reported person or account: the offender cannot be identified or linked"
    ),
    Check(
        "/reportedPerson/ipEvents",
        10,
        "no IP address with time: no lawful request to the provider is possible",
    ),
    Check("/jurisdiction", 10, "no country: the report cannot be routed to the competent hotline or police"),
    Check("/victim/ageBand", 10, "no age band: priority cannot take the child's age into account"),
    Check(
        "/files/*/industryClassification",
        10,
        "files not classified by the reporter: each needs assessing from scratch",
    ),
)


def _present(body: dict, field: str) -> bool:
    files = body.get("files") or []
    person = body.get("reportedPerson") or {}
    if field == "/files/*/hashes":
        return bool(files) and all(f.get("hashes") for f in files)
    if field == "/files/*/industryClassification":
        return bool(files) and all(f.get("industryClassification") for f in files)
    if field == "/incident/time":
        return bool((body.get("incident") or {}).get("time"))
    if field == "/channel/urls":
        channel = body.get("channel") or {}
        return bool(channel.get("urls")) or channel.get("kind") not in (None, "web")
    if field == "/reportedPerson":
        return any(person.get(k) for k in ("screenName", "profileUrl", "email"))
    if field == "/reportedPerson/ipEvents":
        return bool(person.get("ipEvents"))
    if field == "/jurisdiction":
        return bool(body.get("jurisdiction") or person.get("countryCode"))
    if field == "/victim/ageBand":
        return (body.get("victim") or {}).get("ageBand") not in (None, "unknown")
    raise ValueError(field)


def assess(body: dict) -> tuple[int, list[dict]]:
    """(score 0-100, [{"field", "why"}] of what is missing, heaviest first)."""
    missing = [c for c in CHECKS if not _present(body, c.field)]
    total = sum(c.weight for c in CHECKS)
    score = round(100 * (total - sum(c.weight for c in missing)) / total)
    return score, [{"field": c.field, "why": c.why} for c in sorted(missing, key=lambda c: -c.weight)]
