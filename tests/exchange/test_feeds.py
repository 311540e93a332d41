"""Hash feeds between two instances: what A assesses is published in order; B subscribes through a
signed pull, the set B matches against follows A's feed incrementally (additions, changed opinions,
tombstones), a negative opinion sent back makes the hash disputed for every subscriber, a rule that
denies a label keeps those hashes from B (a hash B saw before comes as a tombstone), and a stale
checkpoint resyncs from the start."""

from __future__ import annotations

from sqlalchemy import delete

from tests.api.conftest import example
from vigil.exchange import feeds, outbox, rulebook, subscribe
from vigil.exchange.rules import Receiver
from vigil.store.models import FeedItem

MD5 = "d41d8cd98f00b204e9800998ecf8427e"  # the template example's first file


def _assess(a, labels: dict, body=None) -> int:
    report_id = a.client.post("/v1/reports", json=body or example(0), headers=a.headers).json()["id"]
    answer = a.client.post(
        f"/v1/reports/{report_id}/classifications", json={"labels": labels}, headers=a.headers
    )
    assert answer.status_code == 201, answer.text
    return report_id


def _matches(b, value: str, signal: str = "md5") -> list:
    response = b.client.post("/v1/hash-check", json={"hashes": [value], "signal": signal}, headers=b.headers)
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["matches"]


def test_feed_follows_the_publisher_incrementally(pair):
    a, b = pair
    subscribe.subscribe(b.db, "a", "hotline-a", "from-a")
    report_id = _assess(a, {"assessment": "baseline", "severity": "indecent_other"})
    first = subscribe.sync(b.db, client=a.client)
    assert first.errors == {} and first.pulled["from-a"] >= 1
    assert [(m["hashset"], m["category"]) for m in _matches(b, MD5)] == [("from-a", "csam")]
    assert subscribe.sync(b.db, client=a.client).pulled["from-a"] == 0  # nothing new, nothing applied
    # A changes its mind: not illegal -> negative, which B keeps but does not match
    answer = {"labels": {"assessment": "not_illegal"}}
    a.client.post(f"/v1/reports/{report_id}/classifications", json=answer, headers=a.headers)
    assert subscribe.sync(b.db, client=a.client).pulled["from-a"] >= 1
    assert _matches(b, MD5) == []
    [row] = subscribe.list_subscriptions(b.db)
    assert row["checkpoint"] > 0 and row["last_error"] is None


def test_an_opinion_sent_back_makes_the_hash_disputed(pair):
    a, b = pair
    subscribe.subscribe(b.db, "a", "hotline-a", "from-a")
    _assess(a, {"assessment": "baseline"})
    subscribe.sync(b.db, client=a.client)
    subscribe.send_opinion(
        b.db, "from-a", [{"signal": "md5", "value": MD5, "opinion": "negative", "reason": "ours"}]
    )
    assert outbox.deliver(b.db, client=a.client).sent == 1
    subscribe.sync(b.db, client=a.client)
    assert [m["category"] for m in _matches(b, MD5)] == ["disputed"]


def test_what_a_rule_denies_never_reaches_the_subscriber(pair):
    a, b = pair
    rulebook.add_rule(a.db, "hotline-a", "ai_generated=yes", "deny", "law_enforcement", None)
    subscribe.subscribe(b.db, "a", "hotline-a", "from-a")
    report_id = _assess(a, {"assessment": "baseline"})
    subscribe.sync(b.db, client=a.client)
    assert _matches(b, MD5)
    # now classified AI-generated: denied to B, which saw it before, so it gets a tombstone
    answer = {"labels": {"assessment": "baseline", "ai_generated": "yes"}}
    a.client.post(f"/v1/reports/{report_id}/classifications", json=answer, headers=a.headers)
    page = feeds.read(a.db, "hotline-a", Receiver("police-b", "law_enforcement"), 0)
    assert {"signal": "md5", "value": MD5, "deleted": True} in page["items"]
    subscribe.sync(b.db, client=a.client)
    assert _matches(b, MD5) == []
    # a hash only ever published AI-generated is never shown to B, not even as a tombstone
    other = {**example(1), "files": [{"hashes": {"md5": "1" * 32}}]}
    _assess(a, {"assessment": "baseline", "ai_generated": "yes"}, other)
    page = feeds.read(a.db, "hotline-a", Receiver("police-b", "law_enforcement"), 0)
    assert all(i["value"] != "1" * 32 for i in page["items"])


def test_stale_checkpoint_resyncs_and_unsigned_reads_are_refused(pair):
    a, b = pair
    subscribe.subscribe(b.db, "a", "hotline-a", "from-a")
    _assess(a, {"assessment": "baseline"})
    subscribe.sync(b.db, client=a.client)
    with a.db.engine.begin() as conn:  # A restored from an older backup: its feed is behind B's checkpoint
        conn.execute(delete(FeedItem))
    _assess(a, {"assessment": "baseline"}, {**example(1), "files": [{"hashes": {"md5": "2" * 32}}]})
    result = subscribe.sync(b.db, client=a.client)
    assert result.errors == {}
    assert _matches(b, "2" * 32) and _matches(b, MD5) == []  # the resync replaced the old state
    assert a.client.get("/v1/feeds/hotline-a").status_code == 401
    assert a.client.get("/v1/feeds/nobody", headers=a.headers).status_code == 404
