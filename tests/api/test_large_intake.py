"""Large requests link like small ones: a batch of 300 reports (900 link keys) and a report of 700
files were refused on SQLite (at most 500 terms in a compound SELECT), found by bench/exchange.py."""

from __future__ import annotations

from tests.api.conftest import example


def _file(i: int) -> dict:
    return {"hashes": {"md5": f"{i:032x}"}}


def test_a_batch_of_300_reports_is_stored_and_linked(client, make_org):
    org = make_org()
    reports = [{**example(0), "files": [_file(1_000_000 + i)]} for i in range(300)]
    answer = client.post("/v1/reports", json={"reports": reports}, headers=org.h())
    assert answer.status_code == 201, answer.text[:500]
    results = answer.json()["results"]
    assert len(results) == 300
    first = results[0]["id"]
    assert all(r["linked_to"][:1] == [first] for r in results[1:])  # the same URL links them


def test_a_report_of_700_files_links_to_one_sharing_a_file(client, make_org):
    org = make_org()
    big = {**example(1), "files": [_file(2_000_000 + i) for i in range(700)]}
    first = client.post("/v1/reports", json=big, headers=org.h())
    assert first.status_code == 201, first.text[:500]
    again = client.post("/v1/reports", json=big, headers=org.h()).json()
    # every key is on the first report, though they were looked up in two pieces
    assert again["status"] == "repeat" and again["repeat_of"] == first.json()["id"]
    one = {**example(1), "files": [_file(2_000_000 + 699)]}
    linked = client.post("/v1/reports", json=one, headers=org.h()).json()
    assert first.json()["id"] in linked["linked_to"]
