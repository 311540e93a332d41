"""Vigil's browser-side hashing (src/vigil/web/static/takeitdown/hashing.js) in a real browser, for
tests and benchmarks: a tiny HTTP server on 127.0.0.1 (a secure context, so `crypto.subtle` works)
serving the static folder and the files to hash, and Debian's Chromium driven by Playwright.

    with browser_page() as page:
        result = hash_in_browser(page, "photo.jpg")          # {md5, sha256, pdq, quality, ..., timings}
        video = hash_in_browser(page, "clip.mp4", kind="video")

The page is served with the self-report page's Content-Security-Policy (`script-src 'self'; worker-src
'self'; media-src blob:` ...), so anything in the library that the real page would block (eval, an
inline script, a CDN) fails here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import statistics
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

from tests.web.browser import CHROMIUM, FLAGS, need_browser

STATIC = Path(__file__).resolve().parents[2] / "src" / "vigil" / "web" / "static"
try:  # the self-report page's own policy, where that page exists
    from vigil.web.takeitdown_pages import CSP
except ImportError:
    CSP = (
        "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; "
        "img-src 'self'; media-src blob:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
PAGE = b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>hashing</title></head></html>"
_SERVED: set[str] = set()  # only files registered by hash_in_browser are served


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/":
            return self._send(PAGE, "text/html; charset=utf-8")
        if url.path == "/favicon.ico":
            return self._send(b"", "image/x-icon")
        if url.path == "/file":
            path = parse_qs(url.query).get("p", [""])[0]
            if path in _SERVED:
                kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return self._send(Path(path).read_bytes(), kind)
        elif url.path.startswith("/static/"):
            target = (STATIC / url.path.removeprefix("/static/")).resolve()
            if target.is_file() and target.is_relative_to(STATIC):
                kind = "text/javascript" if target.suffix == ".js" else mimetypes.guess_type(target.name)[0]
                return self._send(target.read_bytes(), kind or "application/octet-stream")
        self.send_error(404)

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def static_server() -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT) of a server thread, stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser_page() -> Iterator[object]:
    """A Playwright page on the server's blank page, with hashing.js imported as `window.hashing`."""
    sync = need_browser()
    with static_server() as base, sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(base + "/")
            page.evaluate("async () => { window.hashing = await import('/static/takeitdown/hashing.js'); }")
            page.console_errors = errors  # CSP violations show up here
            yield page
        finally:
            browser.close()


def file_url(path: str | Path) -> str:
    path = str(Path(path).resolve())
    _SERVED.add(path)
    return "/file?p=" + quote(path)


def hash_in_browser(page, path: str | Path, kind: str = "image", **options) -> dict:
    """hashImage / hashVideo of a file in the page, with `timings` (ms): `fetch` (reading the file
    from the local server, not part of hashing) and the library's own breakdown.

    Options go to the library (`sequential=True` for a per-stage image breakdown; `worker=True` to hash
    an image in the Web Worker; `decoder="createImageBitmap"` or `"canvas"` for the paths of other
    browsers; `fps`, `secondsPerHash` for videos)."""
    return page.evaluate(
        """async ([url, kind, options]) => {
            const t0 = performance.now();
            const blob = await (await fetch(url)).blob();
            const fetched = performance.now() - t0;
            let result;
            if (kind === "video") result = await window.hashing.hashVideo(blob, options);
            else if (options.worker) {
                window.hashWorker ??= window.hashing.createHashWorker();
                result = await window.hashWorker.hashImage(blob);
            } else result = await window.hashing.hashImage(blob, options);
            result.timings = {fetch: fetched, ...(result.timings || {})};
            return result;
        }""",
        [file_url(path), kind, options],
    )


def time_image(page, path: str | Path, runs: int = 5, **options) -> dict:
    """Median timings (ms) of `runs` hashImage calls on one file, after one warm-up call; with
    sequential=True (the default here) every stage runs alone, so the stages add up to the total."""
    options = {"sequential": True, **options}
    hash_in_browser(page, path, **options)
    samples = [hash_in_browser(page, path, **options)["timings"] for _ in range(runs)]
    flat = [{k: v for k, v in s.items() if isinstance(v, int | float)} for s in samples]
    stages = {k: statistics.median(s[k] for s in flat) for k in flat[0]}
    decoder = [s.get("decoder", {}) for s in samples]
    stages["decoder"] = {k: statistics.median(d[k] for d in decoder) for k in decoder[0]}
    return stages


def picture(seed: str) -> dict:
    """The hashes the page would send for one picture (made-up values derived from `seed`): for
    tests and the benchmark of the server's side."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return {
        "kind": "image",
        "md5": h[:32],
        "sha256": h,
        "pdq": hashlib.sha256(h.encode()).hexdigest(),
        "quality": 90,
    }
