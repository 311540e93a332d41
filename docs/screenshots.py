"""The README's screenshots, from the benign demo data: `make demo`, then
`.venv/bin/python docs/screenshots.py` (needs the test extras and Debian's chromium)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.browser import CHROMIUM, FLAGS, serve  # noqa: E402
from vigil.demo_ui import PASSWORD, populate  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright

    demo = ROOT / ".demo"
    populate(demo)
    server, base = serve(str(demo / "vigil.db"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768}, base_url=base)
            page.goto("/signin")
            page.get_by_label("E-mail address").fill("analyst@demo.example")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url("**/")
            page.screenshot(path=str(ROOT / "docs" / "queue.png"))
            page.goto(page.locator("table.queue tbody tr").first.get_attribute("data-href"))
            page.screenshot(path=str(ROOT / "docs" / "report.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print("docs/queue.png and docs/report.png written")


if __name__ == "__main__":
    main()
