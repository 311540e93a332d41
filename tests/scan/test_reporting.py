"""CSV and HTML case outputs: one CSV row per item; a self-contained HTML report whose thumbnails are
blurred until clicked, made from the evidence (archive members included), with nothing fetched."""

from __future__ import annotations

import csv
import io
import json
import re

from tests.scan.conftest import cli, import_hotline


def test_csv_and_html_reports(tmp_path, evidence):
    ev, lists, _, _ = evidence
    db = import_hotline(tmp_path, lists)
    out = {k: tmp_path / f"case.{k}" for k in ("json", "csv", "html")}
    args = ["--json", str(out["json"]), "--csv", str(out["csv"]), "--html", str(out["html"])]
    assert cli("scan", str(ev), "--case", "r", *args, "--db", db, "--workers", "1") == 0
    report = json.loads(out["json"].read_text())

    text = out["csv"].read_text()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0] == "# case: r"
    assert any(line.startswith("# hashset: hotline version 1") for line in comments)
    rows = list(csv.DictReader(io.StringIO(text[text.index("\npath,") + 1 :], newline="")))
    assert [r["path"] for r in rows] == [it["path"] for it in report["items"]]
    by_path = {r["path"]: r for r in rows}
    member = by_path["g_archive.zip!inner/known.jpg"]
    assert (member["match_hashset"], member["match_signal"], member["match_category"]) == (
        "hotline",
        "md5",
        "csam",
    )
    assert json.loads(member["matches"]) == next(
        it["matches"] for it in report["items"] if it["path"] == "g_archive.zip!inner/known.jpg"
    )
    assert by_path["sub/misnamed.txt"]["flags"] == "extension-mismatch"

    page = out["html"].read_text()
    hits = [it for it in report["items"] if it["matches"]]
    thumbs = re.findall(r'<img class="thumb"[^>]*src="data:image/jpeg;base64,', page)
    # archive members too, read back from the evidence; the misnamed hit is also under hidden content
    assert len(hits) == 4 and len(thumbs) == 5
    assert "blurred in their pixels" in page and "filter: blur(" not in page  # nothing to un-blur
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained: nothing to fetch
    assert "<svg" in page and "Hits per hash set" in page
    for it in hits:
        assert it["path"].replace("&", "&amp;") in page


def test_hostile_names_are_escaped(tmp_path):
    from vigil.scan.reporting import html_report

    report = {
        "case": "<b>c</b>",
        "source": "/x",
        "summary": {"files": 1, "duplicate_groups": 0},
        "items": [
            {"path": "<img src=x onerror=alert(1)>.jpg", "type": "image/jpeg", "error": None, "flags": [],
             "duplicate_group": None,
             "matches": [{"hashset": "<s>", "signal": "md5", "distance": 0, "category": None}]}
        ],
    }  # fmt: skip
    page = html_report(report, tmp_path)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.jpg" in page
    assert "<b>c</b>" not in page and "<s>" not in page
