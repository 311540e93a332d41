"""The web UI in a real browser (Debian's Chromium through Playwright) against `vigil serve`: sign
in, work through the queue with the keyboard, classify, account settings, admin, sign out — with a
screenshot of every page and an axe-core check (no serious or critical finding) of each."""

from __future__ import annotations

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
    server, base = serve(db)
    ids = []
    for _ in range(3):
        answer = httpx.post(
            f"{base}/v1/reports", json=distinct(), headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    yield {"base": base, "users": users, "ids": ids, "db": db}
    server.terminate()
    server.wait(10)


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
