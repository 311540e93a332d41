"""The dashboard page: reports per day and source, files labelled automatically, queue age, hits per
hash set (a hostile set name shown as text), time to removal per country; only the organisation's
reports and those shared with it; one audit row per view; a bad period is an error page."""

import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, insert, select, update

from tests.api.conftest import database
from tests.web.conftest import distinct, example, submit
from vigil.exchange.notices import notices
from vigil.hashsets import Entry
from vigil.store.db import utcnow
from vigil.store.hashsets import HashsetRepository
from vigil.store.models import AuditEntry, Report

LABELS = {"assessment": "baseline", "age_band": "pubescent", "severity": "non_penetrative_sexual_activity"}
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def post_report(client, token: str, md5: str) -> int:
    """A report (new URL) whose one file has this md5."""
    report = distinct(example())
    report["files"][0]["hashes"] = {"md5": md5}
    answer = client.post("/v1/reports", json=report, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def classify(client, token: str, report_id: int, file: int | None) -> None:
    body = {"labels": LABELS, **({"file": file} if file is not None else {})}
    answer = client.post(
        f"/v1/reports/{report_id}/classifications", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text


def cells(html: str, header: str) -> list[str]:
    """The cells of the table row headed `header` (the first such row)."""
    found = re.search(
        rf'<th scope="row">{re.escape(str(escape(header)))}</th>((?:<td class="num">[^<]*</td>)+)', html
    )
    assert found, header
    return re.findall(r'<td class="num">([^<]*)</td>', found.group(1))


def audited(db, email: str) -> int:
    with db.engine.connect() as conn:
        query = select(func.count()).where(AuditEntry.actor == email, AuditEntry.action == "dashboard.read")
        return conn.execute(query).scalar()


@pytest.fixture
def scene(team, client, db_url, make_org):
    """Seven reports of the team's organisation, at known ages and sources, two on a hash set with a
    hostile name, two with an earlier assessment; notices on three; and another organisation's
    report on the same set."""
    db = database(db_url)
    token = team["analyst"].token
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    set_name = f"<b>x</b> {uuid.uuid4().hex[:6]}"
    entries = [Entry("md5", bytes.fromhex(a), None), Entry("md5", bytes.fromhex(b), None)]
    HashsetRepository(db).import_entries(set_name, entries, fmt="text", category="csam")
    reports = {"A": post_report(client, token, a), "B": post_report(client, token, b)}  # on the set
    c_md5 = uuid.uuid4().hex
    reports["C"] = post_report(client, token, c_md5)
    classify(client, token, reports["C"], 0)  # its file: an earlier assessment for D
    classify(client, token, reports["C"], None)  # the whole report: assessed, out of the queue
    classify(client, token, reports["A"], 0)  # A's file: earlier assessment and match for G
    reports["D"] = post_report(client, token, c_md5)
    reports["E"] = submit(client, team["analyst"])
    reports["G"] = post_report(client, token, a)
    other = make_org()
    post_report(client, other.tokens["analyst"], a)  # another organisation's: never counted
    now = utcnow()
    moved = {
        "B": (now - timedelta(days=2), "public"),
        "C": (now - timedelta(hours=5), "api"),
        "D": (now - timedelta(hours=5), "api"),
        "E": (now - timedelta(days=10), "forward"),
    }
    with db.engine.begin() as conn:
        for key, (at, channel) in moved.items():
            conn.execute(
                update(Report).where(Report.id == reports[key]).values(received_at=at, channel=channel)
            )
        received = dict(
            conn.execute(select(Report.id, Report.received_at).where(Report.id.in_(reports.values()))).all()
        )
        org_id = conn.execute(select(Report.org_id).where(Report.id == reports["A"])).scalar()
        tag = uuid.uuid4().hex[:8]
        for n, (key, country, hours) in enumerate([("A", "DE", 2), ("B", "DE", 10), ("D", "US", None)]):
            at = received[reports[key]]
            conn.execute(
                insert(notices).values(
                    org_id=org_id, report_id=reports[key], url=f"https://h.example/{tag}/{n}",
                    provider="host", hosting_country=country, contact="abuse@h.example",
                    reference=f"N-{tag}-{n}", state="removed" if hours else "notified",
                    created_by=team["analyst"].email, created_at=now, notices_sent=1, reappearances=0,
                    removed_at=at + timedelta(hours=hours) if hours else None,
                )
            )  # fmt: skip
    days: dict[str, Counter] = {}
    for key, report_id in reports.items():
        channel = moved[key][1] if key in moved else "api"
        days.setdefault(received[report_id].date().isoformat(), Counter())[channel] += 1
    return {"db": db, "set": set_name, "reports": reports, "received": received, "days": days}


def test_dashboard_counts_the_organisations_reports(team, scene):
    b = team["supervisor"]
    before = audited(scene["db"], b.email)
    answer = b.client.get("/dashboard")
    assert answer.status_code == 200, answer.text[:1000]
    html = answer.text
    assert audited(scene["db"], b.email) == before + 1  # one audit row per view

    # reports per source over 30 days; per day (the table under the chart)
    assert cells(html, "API") == ["4"]
    assert cells(html, "Public form") == ["1"]
    assert cells(html, "Forwarded") == ["1"]
    assert cells(html, "All sources") == ["6"]
    for day, counts in scene["days"].items():
        expected = [counts[c] for c in ("api", "public", "forward")] + [counts.total()]
        assert cells(html, day) == [str(n) for n in expected], day

    # files: D (earlier assessment), G (earlier assessment and a match), A and B (match), C and E (by hand)
    assert cells(html, "Earlier assessment") == ["2"]
    assert cells(html, "Hash-set match only") == ["2"]
    assert cells(html, "Neither (by hand)") == ["2"]
    assert "<strong>66.7%</strong> of the 6 files" in html

    # the open queue: C is assessed; A, G now, D 5 h, B 2 d, E 10 d
    assert cells(html, "< 1 h") == ["2"]
    assert cells(html, "1–24 h") == ["1"]
    assert cells(html, "1–7 d") == ["1"]
    assert cells(html, "> 7 d") == ["1"]
    oldest = scene["reports"]["E"]
    assert f'<a href="/reports/{oldest}">#{oldest}</a>, has waited <strong>10 d' in html

    # hits per hash set: A, B and G (not the other organisation's), the name shown as text
    assert cells(html, scene["set"]) == ["3"]
    assert scene["set"] not in html and str(escape(scene["set"])) in html

    # time to removal: DE 2 h and 10 h; US not removed
    assert cells(html, "DE") == ["2", "2", "6.0 h", "10.0 h"]
    assert cells(html, "US") == ["1", "0", "—", "—"]

    # no inline style or script anywhere; a chart per section
    assert "style=" not in html and "onload" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    svgs = SVG.findall(html)
    assert len(svgs) == 5 and all("style" not in s for s in svgs)
    headings = re.findall(r"<(h[1-6])\b", html)
    assert headings[:2] == ["h1", "h2"] and set(headings[1:]) == {"h2"}  # the dialog's h2 is last

    # the last 7 days: E (10 days old) is left out, but not from the queue
    html = b.client.get("/dashboard?days=7").text
    assert 'value="7" selected' in html
    assert cells(html, "Forwarded") == ["0"] and cells(html, "All sources") == ["5"]
    assert "<strong>80.0%</strong> of the 5 files" in html
    assert cells(html, "> 7 d") == ["1"]


def test_an_empty_dashboard_and_bad_periods(team):
    b = team["admin"]
    html = b.client.get("/dashboard?days=90").text
    assert 'value="90" selected' in html
    assert cells(html, "All sources") == ["0"]
    assert "No file was received in the period." in html
    assert "No open report" in html
    assert "No file received in the period matched a hash set." in html
    assert "No notice and takedown in the period." in html
    assert "style=" not in html
    for days in ("bogus", "8", "-1", "99999999999999999999", ""):
        answer = b.client.get(f"/dashboard?days={days}")
        assert answer.status_code in (400, 422), days
        assert "Traceback" not in answer.text and "<h1" in answer.text and "days" in answer.text
