"""Explained priority: rules from a TOML file the organisation edits (data/priority.toml is the
default; VIGIL_PRIORITY_RULES or `vigil serve --priority-rules` points at another). Each rule names a
built-in test and a weight; a report's score is the sum of the weights of the rules that fire, and
the list of those rules (name, weight, why) is stored and shown with it."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from vigil.errors import VigilError


@dataclass(frozen=True)
class Context:
    """What the rules look at: the report, what the hash check found, the links, the organisation."""

    body: dict
    known_files: int  # files that matched a hash set or an earlier assessment
    linked_reports: int
    org_country: str
    seen_files: int | None = None  # known files plus those in an earlier report (None: known_files)

    @property
    def seen(self) -> int:
        return self.known_files if self.seen_files is None else max(self.seen_files, self.known_files)


def _files(c: Context) -> list:
    return c.body.get("files") or []


TESTS: dict[str, Callable[[Context], bool]] = {
    "has_unknown_files": lambda c: len(_files(c)) > c.seen,
    "all_files_known": lambda c: bool(_files(c)) and c.known_files >= len(_files(c)),
    "severity_a": lambda c: any(f.get("industryClassification") == "A1" for f in _files(c)),
    "infant_or_prepubescent": lambda c: (
        (c.body.get("victim") or {}).get("ageBand") in ("infant_toddler", "prepubescent")
        or any("infant" in (f.get("annotations") or []) for f in _files(c))
    ),
    "identification_cues": lambda c: bool((c.body.get("victim") or {}).get("identificationCues")),
    "live_or_ongoing": lambda c: (
        bool(
            {"live_streaming", "ongoing_abuse"} & set((c.body.get("incident") or {}).get("annotations") or [])
        )
        or any("live_streaming" in (f.get("annotations") or []) for f in _files(c))
    ),
    "prior_reports": lambda c: (
        c.linked_reports > 0 or ((c.body.get("reportedPerson") or {}).get("priorReports") or 0) > 0
    ),
    "works_with_children": lambda c: bool((c.body.get("reportedPerson") or {}).get("worksWithChildren")),
    "files_at_least_10": lambda c: len(_files(c)) >= 10,
    "reporter_reliable": lambda c: (c.body.get("reporter") or {}).get("reliability") == "high",
    "in_jurisdiction": lambda c: (
        c.org_country
        in (
            (c.body.get("jurisdiction") or ""),
            ((c.body.get("reportedPerson") or {}).get("countryCode") or ""),
        )
    ),
    "escalated": lambda c: bool((c.body.get("incident") or {}).get("escalateToHighPriority")),
}


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    weight: float
    why: str


def load_rules(path: str | Path | None = None) -> tuple[Rule, ...]:
    """The rules of `path` (the settings' priority_rules), or the packaged defaults; errors name the
    rule."""
    try:
        text = (
            Path(path).read_text()
            if path
            else resources.files("vigil.reports").joinpath("data/priority.toml").read_text()
        )
        data = tomllib.loads(text)
    except OSError as exc:
        raise VigilError(f"{path}: cannot read priority rules: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise VigilError(f"{path}: not valid TOML: {exc}") from None
    rules = []
    for i, raw in enumerate(data.get("rules", []), 1):
        where = f"{path or 'priority.toml'}: rule {i}"
        if not isinstance(raw, dict) or raw.get("when") not in TESTS:
            raise VigilError(f"{where}: 'when' must be one of {', '.join(sorted(TESTS))}")
        if not isinstance(raw.get("weight"), int | float):
            raise VigilError(f"{where}: 'weight' must be a number")
        rules.append(
            Rule(
                str(raw.get("name") or raw["when"]),
                raw["when"],
                float(raw["weight"]),
                str(raw.get("why", "")),
            )
        )
    return tuple(rules)


@cache
def default_rules() -> tuple[Rule, ...]:
    return load_rules()


def score(context: Context, rules: tuple[Rule, ...]) -> tuple[float, list[dict]]:
    fired = [r for r in rules if TESTS[r.when](context)]
    return sum(r.weight for r in fired), [{"rule": r.name, "weight": r.weight, "why": r.why} for r in fired]
