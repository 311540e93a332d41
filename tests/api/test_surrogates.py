"""A lone UTF-16 surrogate escape (`"\\ud800"`) is valid JSON but not text: it cannot be stored in
PostgreSQL, serialised back or logged. Found by a hostile review: the public form stored such a report
(201), and every later read of it was a 500 — nobody could open it, and later genuine reports of the
same URL were filed as its repeats. Refused at the boundary with a 422 naming the field."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import example
from tests.api.test_hardening import _problem, public  # noqa: F401 - the fixture

POISON = "poison\ud800"


def _body(obj) -> bytes:
    return json.dumps(obj).encode()  # ensure_ascii: the surrogate goes as the escape \ud800


def _set(report: dict, pointer: str, value: str) -> dict:
    *parents, last = pointer.strip("/").split("/")
    node = report
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[last] = value
    return report


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/v1/public/reports", "/incident/summary", POISON),
        ("/v1/reports", "/reportedPerson/screenName", POISON),
        ("/v1/reports", "/files/0/fileName", "\udc00.jpg"),
    ],
)
def test_lone_surrogates_are_refused_at_the_boundary(public, make_org, path, field, value):  # noqa: F811
    org = make_org()
    report = _set(json.loads(json.dumps(example(1))), field, value)
    headers = {"Content-Type": "application/json", **({} if "public" in path else org.h())}
    answer = _problem(public.post(path, content=_body(report), headers=headers), 422)
    assert answer["errors"][0]["field"] == field


def test_a_surrogate_in_a_key_is_named_escaped(public, make_org):  # noqa: F811
    org = make_org()
    body = _body({"labels": {"x\ud800": "baseline"}})
    r = public.post(
        "/v1/reports/1/classifications", content=body, headers={**org.h(), "Content-Type": "application/json"}
    )
    assert _problem(r, 422)["errors"][0]["field"] == "/labels/x\\ud800"


def test_escaped_pairs_are_text(public, make_org):  # noqa: F811
    org = make_org()
    report = json.loads(json.dumps(example(1)))
    report["incident"]["summary"] = "a pair is one emoji: \U0001f600"
    r = public.post(
        "/v1/reports", content=_body(report), headers={**org.h(), "Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text
    read = public.get(f"/v1/reports/{r.json()['id']}", headers=org.h())
    assert read.status_code == 200 and "\U0001f600" in read.text
