"""Screenshots of the bundled example: home, edition, article, topic and search pages, phone
and desktop width.

    .venv/bin/python bench/screenshots.py        # writes docs/screenshots/*.png

Builds a copy of the example (offline) and opens its pages in Debian's Chromium
(/usr/bin/chromium) through Playwright, served from 127.0.0.1 (search reads its index with
fetch, which a page opened from disk may not). The example's photo lives at an example.com address
that nobody serves, so a drawn placeholder stands in for it; no request leaves the machine.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Route, sync_playwright

from digest.cli import main

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PAGES = {
    "home": "index.html",
    "edition": "editions/2022-09-16/",
    "article": "2022/09/samarkand-silk-road-city/index.html",
    "topic": "topics/russia-china-relations/index.html",
    "search": "search/?q=samarkand",
}
SIZES = {"phone": (360, 740), "desktop": (1280, 860)}
PLACEHOLDER = b"""<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="700">
<rect width="1200" height="700" fill="#c9d6df"/>
<path d="M0 520 L300 330 L520 470 L760 260 L1200 560 L1200 700 L0 700 Z" fill="#8fa7b8"/>
<circle cx="930" cy="170" r="70" fill="#f2e3c6"/>
<text x="600" y="640" font-family="sans-serif" font-size="34" text-anchor="middle" fill="#37474f">
The example's photo (a placeholder: its address is not fetched)</text>
</svg>"""


def main_() -> int:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "example"
        root.mkdir()
        shutil.copy(REPO / "digest.toml", root)
        shutil.copytree(REPO / "content", root / "content")
        if main(["build", "--offline", "-C", str(root)]) != 0:
            return 1
        OUT.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_Quiet, directory=str(root / "site"))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_address[1]}/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.route("**/*", _offline)
                for name, path in PAGES.items():
                    page.goto(origin + path)
                    page.wait_for_load_state("load")
                    if name == "search":
                        page.locator("#results li").first.wait_for()
                    target = OUT / f"{name}-{size}.png"
                    page.screenshot(path=target)
                    print(f"{target.relative_to(REPO)}: {target.stat().st_size // 1024} kB")
                page.close()
            browser.close()
        server.shutdown()
    return 0


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _offline(route: Route) -> None:
    """The local site goes through; the example's photo gets the placeholder; nothing else."""
    url = route.request.url
    if urlsplit(url).hostname == "127.0.0.1":
        route.continue_()
    elif route.request.resource_type == "image":
        route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER)
    else:
        route.abort()


if __name__ == "__main__":
    sys.exit(main_())
