"""A scan killed (SIGKILL, workers and all) at any moment and resumed gives exactly the result of an
uninterrupted scan: no file lost, none twice, nothing recorded redone."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import image_bytes
from tests.diskimages import fat
from tests.scan.conftest import cli, digests
from vigil.demo import picture


@pytest.fixture(scope="module")
def evidence(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    ev = root / "evidence"
    for i in range(240):
        folder = ev / f"dir{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        im = picture(i % 40, (480, 360))
        (folder / f"img{i:03}.jpg").write_bytes(image_bytes(im, "JPEG"))
        (folder / f"note{i:03}.txt").write_text(f"note {i}\n")
    with zipfile.ZipFile(ev / "bundle.zip", "w") as z:
        for i in range(30):
            z.writestr(f"in/{i}.png", image_bytes(picture(100 + i, (320, 240)), "PNG"))
    # a camera card: its files become tasks only once the workers have found it and the walk's
    # tasks are done (vigil.scan.imagetasks), so a kill may fall between the two
    card = {f"DCIM/IMG_{i}.jpg": image_bytes(picture(200 + i, (320, 240)), "JPEG") for i in range(12)}
    fat(ev / "dir3" / "card.img", card)
    known = root / "known.txt"
    known.write_text(digests((ev / "dir0" / "img000.jpg").read_bytes())["md5"] + "\n")
    db = str(root / "v.db")
    assert cli("hashset", "import", str(known), "--name", "k", "--db", db) == 0
    out = root / "full.json"
    assert cli("scan", str(ev), "--case", "full", "--json", str(out), "--db", db, "--workers", "2") == 0
    return ev, db, json.loads(out.read_text())


def scan_process(ev, db, case, out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "vigil.cli.main", "scan", str(ev), "--case", case, "--json", str(out),
         "--db", db, "--workers", "2", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def recorded(db: str, case: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "select count(*) from case_items i join scan_runs r on r.case_id = i.case_id"
            " where r.case_name = ? and i.task",
            (case,),
        ).fetchone()
    return row[0]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delay=st.floats(0.5, 4.0))
def test_kill_anywhere_then_resume_equals_an_uninterrupted_scan(tmp_path, evidence, delay):
    ev, db, full = evidence
    case, out = f"killed-{delay:.3f}", tmp_path / f"{delay}.json"
    proc = scan_process(ev, db, case, out)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the scan and its worker processes, no clean-up
    proc.wait()
    before = recorded(db, case)
    resumed = scan_process(ev, db, case, out, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    result = json.loads(out.read_text())
    assert result["items"] == full["items"] and result["summary"] == full["summary"]
    assert recorded(db, case) >= before  # what was recorded before the kill was kept, not redone


def test_resume_of_another_folder_is_refused(tmp_path, evidence):
    ev, db, _ = evidence
    assert cli("scan", str(tmp_path), "--case", "full", "--resume", "--db", db) == 2


def test_resume_after_a_finished_scan_does_nothing_new(tmp_path, evidence):
    ev, db, full = evidence
    out = tmp_path / "again.json"
    assert cli("scan", str(ev), "--case", "full", "--resume", "--json", str(out), "--db", db) == 0
    assert json.loads(out.read_text())["items"] == full["items"]


class Killed(BaseException):
    """Stands for a kill: nothing in the scan catches it."""


def test_killed_before_the_disk_images_files_then_resumed_lists_the_image_again(
    tmp_path, evidence, monkeypatch
):
    from vigil.scan.imagetasks import FoundImages

    ev, db, full = evidence
    out = tmp_path / "resumed.json"

    def killed(self):
        raise Killed
        yield

    monkeypatch.setattr(FoundImages, "tasks", killed)
    with pytest.raises(Killed):
        cli("scan", str(ev), "--case", "cut", "--db", db, "--workers", "1")
    monkeypatch.undo()
    assert any(p.endswith("card.img") for p in recorded_paths(db, "cut"))  # the image itself is done
    assert not any("card.img!" in p for p in recorded_paths(db, "cut"))  # its files are not
    assert (
        cli("scan", str(ev), "--case", "cut", "--resume", "--json", str(out), "--db", db, "--workers", "1")
        == 0
    )
    result = json.loads(out.read_text())
    assert result["items"] == full["items"] and result["summary"] == full["summary"]
    assert sum("card.img!" in it["path"] for it in result["items"]) == 12


def recorded_paths(db: str, case: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select i.path from case_items i join scan_runs r on r.case_id = i.case_id where r.case_name = ?",
            (case,),
        ).fetchall()
    return [r[0] for r in rows]
