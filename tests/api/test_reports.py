"""The report API end to end over HTTP: template, intake with completeness, automatic hash check and
earlier assessments, linking and repeats, explained priority, classification, problems."""

from __future__ import annotations

import copy

from tests.api.conftest import example
from vigil.reports.template import report_schema, validate


def test_schema_examples_are_complete_and_valid(client):
    schema = client.get("/schema/report").json()
    assert schema == report_schema() and len(schema["examples"]) >= 2
    for e in schema["examples"]:
        assert validate(e) == []
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/reports",
        "/v1/reports/{report_id}",
        "/v1/queue",
        "/v1/hash-check",
        "/v1/public/reports",
        "/v1/reports/{report_id}/classifications",
        "/schema/report",
        "/healthz",
    ):
        assert path in spec["paths"], path
    assert client.get("/healthz").json() == {"status": "ok"}


def test_intake_scores_completeness_and_says_what_is_missing(client, make_org):
    org = make_org()
    full = client.post("/v1/reports", json=example(0), headers=org.h())
    assert full.status_code == 201, full.text
    assert full.json()["completeness"]["score"] == 100 and full.json()["completeness"]["missing"] == []
    thin = client.post("/v1/reports", json={"incident": {"type": "other"}}, headers=org.h()).json()
    missing = {m["field"]: m["why"] for m in thin["completeness"]["missing"]}
    assert "no automatic match" in missing["/files/*/hashes"]
    assert "IP addresses" in missing["/incident/time"]
    assert thin["completeness"]["score"] < 20


def test_bad_reports_are_problems_naming_the_field(client, make_org):
    org = make_org()
    bad = copy.deepcopy(example(0))
    bad["files"][0]["hashes"]["md5"] = "not-a-hash"
    bad["incident"]["type"] = "shouting"
    bad["colour"] = "red"
    r = client.post("/v1/reports", json=bad, headers=org.h())
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"/files/0/hashes/md5", "/incident/type", "/"}
    malformed = client.post("/v1/reports", content=b"{nope", headers=org.h())  # not JSON: 400, not 422
    assert malformed.status_code == 400 and malformed.headers["content-type"] == "application/problem+json"
    assert malformed.json()["errors"][0]["field"] == "/"
    batch = {"reports": [example(0), bad]}
    r = client.post("/v1/reports", json=batch, headers=org.h())
    assert r.status_code == 422 and "/reports/1/files/0/hashes/md5" in {
        e["field"] for e in r.json()["errors"]
    }
    assert client.get("/v1/queue", headers=org.h()).json()["reports"] == []  # nothing of the batch stored


def test_batch_intake(client, make_org):
    org = make_org()
    reports = []
    for i in range(5):
        r = copy.deepcopy(example(1))
        r["reportedPerson"]["screenName"] = f"user{i}"
        r["files"][0]["hashes"] = {"sha256": f"{i:064x}"}
        reports.append(r)
    r = client.post("/v1/reports", json={"reports": reports}, headers=org.h())
    assert r.status_code == 201 and len(r.json()["results"]) == 5
    assert len(client.get("/v1/queue", headers=org.h()).json()["reports"]) == 5


def test_repeats_are_counted_and_related_reports_linked(client, make_org):
    org = make_org()
    first = client.post("/v1/reports", json=example(0), headers=org.h()).json()
    again = client.post("/v1/reports", json=example(0), headers=org.h()).json()
    assert again["status"] == "repeat" and again["repeat_of"] == first["id"]
    related = copy.deepcopy(example(1))
    related["channel"] = {"kind": "web", "urls": ["HTTPS://Images.example.org/gallery/123/#top"]}  # same URL
    linked = client.post("/v1/reports", json=related, headers=org.h()).json()
    assert linked["status"] == "new" and linked["linked_to"] == [first["id"]]
    assert "linked_reports" in {r["rule"] for r in linked["priority"]["rules"]}
    queue = client.get("/v1/queue", headers=org.h()).json()["reports"]
    assert sorted(q["id"] for q in queue) == sorted([first["id"], linked["id"]])  # the repeat is not queued
    assert next(q for q in queue if q["id"] == first["id"])["repeats"] == 1


def test_priority_is_explained_and_orders_the_queue(client, make_org):
    org = make_org(country="NL")
    urgent = client.post("/v1/reports", json=example(0), headers=org.h()).json()
    calm = client.post("/v1/reports", json={"incident": {"type": "other"}}, headers=org.h()).json()
    rules = {r["rule"]: r for r in urgent["priority"]["rules"]}
    assert {"new_content", "severity_A", "youngest_age_band", "live_or_ongoing", "own_jurisdiction"} <= set(
        rules
    )
    assert urgent["priority"]["score"] == sum(r["weight"] for r in rules.values())
    assert all(r["why"] for r in rules.values())
    queue = client.get("/v1/queue", headers=org.h()).json()["reports"]
    assert [q["id"] for q in queue] == [urgent["id"], calm["id"]]
    assert queue[0]["rules"] == urgent["priority"]["rules"]


def test_classification_is_recorded_and_labels_the_next_report(client, make_org):
    org = make_org()
    first = client.post("/v1/reports", json=example(1), headers=org.h()).json()
    labels = {
        "assessment": "baseline",
        "age_band": "pubescent",
        "severity": "non_penetrative_sexual_activity",
    }
    r = client.post(
        f"/v1/reports/{first['id']}/classifications", json={"labels": labels, "file": 0}, headers=org.h()
    )
    assert r.status_code == 201, r.text
    assert r.json()["scales"] == {"england_wales": "B", "copine": 7, "vics": "csam"}
    bad = client.post(
        f"/v1/reports/{first['id']}/classifications",
        json={"labels": {"assessment": "maybe"}},
        headers=org.h(),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "/labels/assessment"
    # the same file again, from another report: labelled with the earlier decision, by whom
    repeat = copy.deepcopy(example(1))
    repeat["reportedPerson"]["screenName"] = "someone_else"
    second = client.post("/v1/reports", json=repeat, headers=org.h()).json()
    prior = second["files"][0]["prior"]
    assert prior["labels"] == labels and prior["by"] == f"analyst@{org.name}.example"
    assert "known_content" in {r["rule"] for r in second["priority"]["rules"]}
    shown = client.get(f"/v1/reports/{first['id']}", headers=org.h()).json()
    assert shown["classifications"][0]["labels"] == labels and shown["classifications"][0]["file"] == 0


def test_public_form_is_anonymous_and_rate_limited(client):
    body = {
        "incident": {"type": "possession_distribution"},
        "channel": {"kind": "web", "urls": ["https://a.example/x"]},
    }
    codes = [client.post("/v1/public/reports", json=body).status_code for _ in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]
