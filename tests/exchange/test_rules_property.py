"""Sharing rules, property-tested: deny wins, nothing is allowed without a rule, more denials never
let more through; and through the API, whatever the rules and labels, an item the rules deny never
reaches the receiver by any endpoint (queue, report, exchange history), and is refused with the rule."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import PASSWORD, database, example
from vigil.exchange import rulebook
from vigil.exchange.rules import ANY, Receiver, Rule, decide
from vigil.reports.accounts import Accounts

FIELDS = {
    "assessment": ["baseline", "nationally_illegal", "not_illegal"],
    "age_band": ["infant_toddler", "prepubescent", "pubescent", "unknown"],
    "ai_generated": ["yes", "no", "unknown"],
}
SECTORS = ["hotline", "law_enforcement", "industry", "ngo"]
RECEIVER = "receiver"


@st.composite
def rules(draw, max_size=6):
    out = []
    for i in range(draw(st.integers(0, max_size))):
        label = draw(st.sampled_from(sorted(FIELDS)))
        value = draw(st.sampled_from([*FIELDS[label], ANY]))
        effect = draw(st.sampled_from(["allow", "deny"]))
        if draw(st.booleans()):
            out.append(Rule(i + 1, label, value, effect, sector=draw(st.sampled_from(SECTORS))))
        else:
            out.append(
                Rule(i + 1, label, value, effect, to_org=draw(st.sampled_from([RECEIVER, "someone-else"])))
            )
    return out


labels = st.fixed_dictionaries(
    {"assessment": st.sampled_from(FIELDS["assessment"])},
    optional={k: st.sampled_from(v) for k, v in FIELDS.items() if k != "assessment"},
)
receivers = st.builds(Receiver, st.just(RECEIVER), st.sampled_from(SECTORS))


def _matches(rule: Rule, item: dict, to: Receiver) -> bool:
    if item.get(rule.label) is None or rule.value not in (ANY, item[rule.label]):
        return False
    return (rule.to_org == to.name) if rule.to_org else (rule.sector == to.sector)


@given(rules(), labels, receivers)
def test_deny_wins_and_nothing_is_allowed_by_default(ruleset, item, to):
    verdict = decide(ruleset, item, to)
    applicable = [r for r in ruleset if _matches(r, item, to)]
    expected = any(r.effect == "allow" for r in applicable) and not any(
        r.effect == "deny" for r in applicable
    )
    assert verdict.allowed == expected
    if not verdict.allowed and applicable:
        assert verdict.rule is not None and verdict.rule.effect == "deny"
    assert not decide(ruleset, {}, to).allowed  # an unclassified item never leaves


@given(rules(), rules(), labels, receivers)
def test_more_denials_never_let_more_through(ruleset, more, item, to):
    denials = [Rule(r.id + 100, r.label, r.value, "deny", r.sector, r.to_org) for r in more]
    if not decide(ruleset, item, to).allowed:
        assert not decide(ruleset + denials, item, to).allowed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ruleset=rules(max_size=4), item=labels, sector=st.sampled_from(SECTORS))
def test_what_a_rule_denies_cannot_be_read_by_the_receiver(client, db_url, ruleset, item, sector):
    db = database(db_url)
    accounts = Accounts(db)
    sender, receiver = f"s-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:8]}"
    tokens = {}
    for name, kind in ((sender, "hotline"), (receiver, sector)):
        accounts.create_org(name, kind, "NL")
        accounts.create_user(f"boss@{name}.example", name, "supervisor", PASSWORD)
        tokens[name] = {"Authorization": f"Bearer {accounts.create_token(f'boss@{name}.example')}"}
    for r in ruleset:
        to = receiver if r.to_org == RECEIVER else (None if r.sector else sender)
        if to == sender:
            continue  # a rule about the sender itself cannot apply to a forward
        rulebook.add_rule(db, sender, f"{r.label}={r.value}", r.effect, r.sector, to)
    stored = [Rule(r.id, r.label, r.value, r.effect, r.sector, receiver if r.to_org == RECEIVER else None)
              for r in ruleset if r.to_org != "someone-else"]  # fmt: skip
    report_id = client.post("/v1/reports", json=example(0), headers=tokens[sender]).json()["id"]
    client.post(f"/v1/reports/{report_id}/classifications", json={"labels": item}, headers=tokens[sender])
    sent = client.post(f"/v1/reports/{report_id}/forward", json={"to": receiver}, headers=tokens[sender])
    queue = client.get("/v1/queue", headers=tokens[receiver]).json()["reports"]
    if decide(stored, item, Receiver(receiver, sector)).allowed:
        assert sent.status_code == 201 and len(queue) == 1
    else:
        assert sent.status_code == 403 and queue == []
        for path in (f"/v1/reports/{report_id}", f"/v1/reports/{report_id}/exchange"):
            assert client.get(path, headers=tokens[receiver]).status_code == 404
        for guess in range(report_id + 1, report_id + 3):  # the ids after it, where a copy would be
            assert client.get(f"/v1/reports/{guess}", headers=tokens[receiver]).status_code == 404
