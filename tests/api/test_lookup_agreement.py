"""`vigil match --json` and `POST /v1/hash-check` are one look-up (vigil.scan.lookup): on random
hashes — some listed by a set, PDQs at random distances from listed ones, random thresholds — they
give the same answer, field for field."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import database
from vigil.cli.main import run
from vigil.hashsets import Entry
from vigil.store.hashsets import HashsetRepository

WIDTHS = {"md5": 16, "sha1": 20, "sha256": 32, "pdq": 32}
_rng = random.Random(11)
LISTED = {s: [_rng.randbytes(w) for _ in range(6)] for s, w in WIDTHS.items()}


@pytest.fixture(scope="module")
def listed(db_url, client):
    repo = HashsetRepository(database(db_url))
    for n, category in enumerate(("csam", "child_exploitive", None)):
        entries = [
            Entry(signal, value, category if i % 2 else None)
            for signal, values in LISTED.items()
            for i, value in enumerate(values)
            if (i + n) % 3
        ]
        repo.import_entries(f"agree-{n}", entries, fmt="text", category="cgi_animation")
    return db_url


def flip(value: bytes, bits: list[int]) -> bytes:
    n = int.from_bytes(value, "big")
    for b in bits:
        n ^= 1 << b
    return n.to_bytes(len(value), "big")


@st.composite
def a_hash(draw) -> str:
    signal = draw(st.sampled_from(list(WIDTHS)))
    kind = draw(st.sampled_from(["listed", "random", "near"] if signal == "pdq" else ["listed", "random"]))
    if kind == "random":
        value = draw(st.binary(min_size=WIDTHS[signal], max_size=WIDTHS[signal]))
    else:
        value = draw(st.sampled_from(LISTED[signal]))
        if kind == "near":
            value = flip(value, draw(st.lists(st.integers(0, 255), max_size=64, unique=True)))
    text = value.hex()
    return text.upper() if draw(st.booleans()) else text


def cli(capsys, db: str, hashes: list[str], threshold: int) -> list[dict]:
    capsys.readouterr()
    try:
        run(["match", *hashes, "--threshold", str(threshold), "--json", "--db", db])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hashes=st.lists(a_hash(), min_size=1, max_size=12), threshold=st.integers(0, 63))
def test_cli_and_api_give_the_same_answer(listed, client, make_org, capsys, hashes, threshold):
    org = make_org()
    r = client.post("/v1/hash-check", json={"hashes": hashes, "threshold": threshold}, headers=org.h())
    assert r.status_code == 200, r.text
    api = r.json()["results"]
    ours = cli(capsys, listed, hashes, threshold)
    assert [{"hash": x["hash"], "matches": x["matches"]} for x in ours] == api
    assert all(x["query"] == x["hash"] == h.lower() for x, h in zip(ours, hashes, strict=True))
    for result in api:  # one match per set, signal and category, at its smallest distance
        keys = [(m["hashset"], m["signal"], m["category"]) for m in result["matches"]]
        assert len(keys) == len(set(keys))
        assert all(m["distance"] <= threshold for m in result["matches"])


def test_threshold_is_checked_the_same_way(listed, client, make_org, capsys):
    org = make_org()
    r = client.post("/v1/hash-check", json={"hashes": ["0" * 64], "threshold": 64}, headers=org.h())
    assert r.status_code == 422
    with pytest.raises(SystemExit) as exc:
        run(["match", "0" * 64, "--threshold", "64", "--db", listed])
    assert exc.value.code == 2 and "--threshold must be 0-63" in capsys.readouterr().err
