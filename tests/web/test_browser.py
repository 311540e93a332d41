"""The web UI in a real browser (Debian's Chromium through Playwright) against `vigil serve`: sign
in, work through the queue with the keyboard, classify, account settings, admin, sign out — with a
screenshot of every page and an axe-core check (no serious or critical finding) of each."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.web.browser import CHROMIUM, FLAGS, need_browser, serious_violations, serve, shoot
from tests.web.conftest import PASSWORD, distinct
from vigil.reports.accounts import Accounts
from vigil.store import open_database

ORG = "Demo Hotline"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_browser()
    db = str(tmp_path_factory.mktemp("browser") / "vigil.db")
    accounts = Accounts(open_database(db))
    accounts.create_org(ORG, "hotline", "NL")
    users = {}
    for role in ("analyst", "admin"):
        users[role] = f"{role}@hotline.example"
        accounts.create_user(users[role], ORG, role, PASSWORD)
    token = accounts.create_token(users["analyst"])
    case = _case(open_database(db), tmp_path_factory.mktemp("evidence"))
    server, base = serve(db)
    ids = []
    for _ in range(3):
        answer = httpx.post(
            f"{base}/v1/reports", json=distinct(), headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    yield {"base": base, "users": users, "ids": ids, "db": db, "case": case}
    server.terminate()
    server.wait(10)


def _case(db, evidence) -> str:
    """A scanned case of generated pictures: a hit (its MD5 on a set) and a group of three copies."""
    import hashlib

    from vigil.demo import jpeg, picture
    from vigil.hashsets import Entry
    from vigil.scan.pipeline import run_scan
    from vigil.store.hashsets import HashsetRepository
    from vigil.web.case_pages import case_url

    pictures = [jpeg(picture(seed, (320, 240))) for seed in (21, 22, 23)]
    (evidence / "hit.jpg").write_bytes(pictures[0])
    for name in ("copy_a.jpg", "copy_b.jpg", "copy_c.jpg"):
        (evidence / name).write_bytes(pictures[1])
    (evidence / "other.jpg").write_bytes(pictures[2])
    entry = Entry("md5", hashlib.md5(pictures[0]).digest(), "csam")
    HashsetRepository(db).import_entries("browser-hits", [entry], fmt="text")
    run_scan(db, evidence, "seized laptop", workers=1)
    return case_url("seized laptop")


@pytest.fixture(scope="module")
def browser(site):
    sync = need_browser()
    with sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=site["base"])
    tab = context.new_page()
    outside = []
    tab.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith((site["base"], "data:")) else None
    )
    yield tab
    context.close()
    assert not outside, f"the page reached outside the server: {outside[:5]}"


def sign_in(page, email: str) -> None:
    page.goto("/")
    assert "/signin" in page.url
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")


def check(page, name: str) -> None:
    shoot(page, name)
    assert serious_violations(page) == [], name


def test_sign_in_queue_by_keyboard_classify_and_sign_out(page, site):
    page.goto("/signin")
    check(page, "signin")
    sign_in(page, site["users"]["analyst"])
    check(page, "queue")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "current" in (rows.nth(0).get_attribute("class") or "")
    first = rows.nth(0).get_attribute("data-href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{first}")
    check(page, "report")
    page.keyboard.press("?")
    assert page.locator("#keys").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    assert page.evaluate("document.activeElement.id") == "c-file"
    page.get_by_label("ICCAM assessment (required)").select_option("baseline")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**/reports/*")
    assert page.url.split("/")[-1] != first.split("/")[-1]  # the next report opened by itself
    page.goto("/")
    assert page.locator("table.queue tbody tr").count() == 2
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    page.goto("/")
    assert "/signin" in page.url


def test_account_and_admin_pages(page, site):
    sign_in(page, site["users"]["admin"])
    page.goto("/account")
    check(page, "account")
    page.get_by_label("Blur strength (4–40)").fill("24")
    page.get_by_role("button", name="Save settings").click()
    assert page.get_by_text("Settings saved.").is_visible()
    assert page.locator("body").get_attribute("data-blur") == "24"
    page.goto("/admin")
    check(page, "admin")
    page.goto(f"/reports/{site['ids'][-1]}")
    check(page, "report-admin")
    page.goto("/reports/999999")
    assert page.get_by_role("heading", name="Not found").is_visible()
    check(page, "not-found")


def test_the_session_ends_when_idle(browser, site):
    """The server ends an idle session: the next click leads to the sign-in page."""
    from datetime import timedelta

    from sqlalchemy import update

    from vigil.store.db import utcnow
    from vigil.store.models import WebSession

    context = browser.new_context(base_url=site["base"])
    tab = context.new_page()
    sign_in(tab, site["users"]["analyst"])
    with open_database(site["db"]).engine.begin() as conn:
        conn.execute(update(WebSession).values(seen_at=utcnow() - timedelta(hours=1)))
    tab.goto("/account")
    assert "/signin" in tab.url and uuid.UUID  # sent to sign in, with the way back kept
    assert "next=%2Faccount" in tab.url
    context.close()


def test_case_grid_reveal_reblur_and_mark_a_group_by_keyboard(page, site):
    sign_in(page, site["users"]["analyst"])
    page.goto("/account")
    page.get_by_label("A revealed preview blurs again after (seconds, 1–30)").fill("1")
    page.get_by_role("button", name="Save settings").click()
    page.goto("/cases")
    check(page, "cases")
    page.goto(site["case"])
    check(page, "case")
    first = page.locator(".grid .preview").first
    blurred_src = first.get_attribute("src")
    assert "blurred" in (first.get_attribute("class") or "")
    page.locator(".grid .tile").first.focus()
    page.keyboard.press("r")  # reveal the selected picture on purpose
    expect = need_browser().expect  # (no page script: the CSP forbids evaluating strings)
    expect(first).to_have_attribute("src", re.compile("^data:image/jpeg"))
    assert "blurred" not in (first.get_attribute("class") or "")
    assert page.locator("#reveal-count").inner_text() == "1 revealed today"
    expect(first).to_have_class(re.compile("blurred"), timeout=5000)  # blurred again by itself
    assert first.get_attribute("src") == blurred_src
    group = page.locator(".grid .tile", has_text="copy_")  # the group's one representative
    assert group.count() == 1
    group.focus()
    page.keyboard.press("1")  # VICS 1: the whole group at once
    expect(page.locator(".grid .tile.assessed")).to_have_count(1)
    from sqlalchemy import select

    from vigil.store.models import CaseItem

    with open_database(site["db"]).engine.connect() as conn:
        marked = conn.execute(
            select(CaseItem.path, CaseItem.category).where(CaseItem.category.is_not(None))
        ).all()
    assert sorted(marked) == [("copy_a.jpg", "csam"), ("copy_b.jpg", "csam"), ("copy_c.jpg", "csam")]
    check(page, "case-marked")


def test_hash_set_upload_with_progress_and_dashboard(page, site, tmp_path):
    sign_in(page, site["users"]["admin"])
    page.goto("/hashsets")
    check(page, "hashsets")
    listing = tmp_path / "unit-list.txt"
    listing.write_text("".join(f"{uuid.uuid4().hex}\n" for _ in range(500)))
    page.locator("input[type=file]").set_input_files(str(listing))
    page.locator("input[name=name]").fill("unit-list")
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_text("500").first.wait_for(timeout=30_000)
    check(page, "hashset-uploaded")
    page.goto("/hashsets")
    assert page.get_by_role("link", name="unit-list").count() >= 1
    page.goto("/dashboard")
    check(page, "dashboard")
    assert page.locator("svg[role=img]").count() >= 3
