"""`vigil scan --dask ADDRESS`: the same scan on a Dask distributed cluster (a LocalCluster of two
worker processes here) gives the same case as local worker processes."""

from __future__ import annotations

import json

import pytest

from tests.scan.conftest import cli, import_hotline


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as local:
        yield local.scheduler_address


def test_dask_scan_equals_local_scan(tmp_path, evidence, cluster):
    ev, lists, _, _ = evidence
    db = import_hotline(tmp_path, lists)
    local, remote = tmp_path / "local.json", tmp_path / "dask.json"
    assert cli("scan", str(ev), "--case", "local", "--json", str(local), "--db", db) == 0
    assert cli("scan", str(ev), "--case", "dask", "--json", str(remote), "--db", db, "--dask", cluster) == 0
    a, b = json.loads(local.read_text()), json.loads(remote.read_text())
    assert a["items"] == b["items"] and a["summary"] == b["summary"]
    assert a["summary"]["matched_exact"] == 4


def test_unreachable_scheduler_is_a_clear_error(tmp_path, evidence):
    ev, lists, _, _ = evidence
    db = import_hotline(tmp_path, lists)
    assert cli("scan", str(ev), "--case", "x", "--db", db, "--dask", "tcp://127.0.0.1:1") == 2
