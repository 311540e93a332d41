"""Sharing rules, as INHOPE Connect describes them: per classification label and value, which sectors
and which named organisations may receive an item. Deny wins; nothing allows by default. Pure: the
decision is a function of the rules, the item's labels and the receiver, so it can be property-tested
and is the same for every path out of an organisation (forwarding, feedback, feeds, federation)."""

from __future__ import annotations

from dataclasses import dataclass

ANY = "*"  # a rule's value that matches any value of its label
EFFECTS = ("allow", "deny")


@dataclass(frozen=True)
class Rule:
    id: int
    label: str
    value: str  # or ANY
    effect: str  # allow | deny
    sector: str | None = None  # the rule names a sector ...
    to_org: str | None = None  # ... or an organisation (by name)

    def describe(self) -> str:
        who = f"sector {self.sector}" if self.sector else f"organisation {self.to_org}"
        return f"rule {self.id}: {self.effect} {self.label}={self.value} to {who}"


@dataclass(frozen=True)
class Receiver:
    name: str
    sector: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: Rule | None  # the rule that decided; None: no rule matched (denied by default)

    @property
    def why(self) -> str:
        if self.rule is None:
            return "no rule allows it (sharing is denied unless a rule allows it)"
        return self.rule.describe()


def applies(rule: Rule, labels: dict[str, str], receiver: Receiver) -> bool:
    """Does the rule speak about this item and this receiver?"""
    if rule.label not in labels or rule.value not in (ANY, labels[rule.label]):
        return False
    return rule.to_org == receiver.name if rule.to_org is not None else rule.sector == receiver.sector


def decide(rules: list[Rule], labels: dict[str, str], receiver: Receiver) -> Decision:
    """May an item classified `labels` go to `receiver`? Deny wins over allow; no rule that applies
    means no. An item without labels (not classified) matches no rule, so it never leaves."""
    allow = None
    for rule in rules:
        if applies(rule, labels, receiver):
            if rule.effect == "deny":
                return Decision(False, rule)
            allow = allow or rule
    return Decision(allow is not None, allow)
