"""Shared helpers: a copy of the bundled example, a CLI runner and an HTML reader."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

from digest.cli import main

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared(*parts: str) -> Path:
    """A path in ../shared; skip the test when it is absent, except in CI, where that fails."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (../shared is not next to this checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's Chromium through Playwright, which never downloads a browser of its own.

    Skips without /usr/bin/chromium, except in CI, where that fails.
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield context
        context.close()


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def digest(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the ``digest`` command in-process: ``digest("build", "-C", root)``."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors and --version
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of the bundled example: its config and inbox, no archive, no site."""
    root = tmp_path / "example"
    (root / "content").mkdir(parents=True)
    shutil.copy(REPO / "digest.toml", root)
    shutil.copytree(REPO / "content" / "inbox", root / "content" / "inbox")
    return root


def start_cli(root: Path, *args: str) -> subprocess.Popen[str]:
    """The real ``digest serve -C root ARGS`` in a subprocess; read its first line for the URL."""
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "-C", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C reaches it even when the tests run with SIGINT ignored (as a background job).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(root: Path, extra: str = "") -> Path:
    """A minimal project with one Russia–China topic rule."""
    write(
        root / "digest.toml",
        'title = "Test digest"\nbase_url = "https://example.org/d/"\n'
        '[[topics]]\ntitle = "Russia–China relations"\n'
        'require = [["Russia", "Moscow"], ["China", "Beijing"]]\n' + extra,
    )
    return root


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``folder``: modification time and content hash."""
    return {
        path.relative_to(folder).as_posix(): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


Element = tuple[str, dict[str, str]]


class Page(HTMLParser):
    """What a test needs from an HTML page: its elements, links and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text_parts: list[str] = []
        self._stack: list[Element] = []
        self._texts: dict[int, list[str]] = {}
        self._ancestors: dict[int, set[int]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = (tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        self._ancestors[id(element)] = {id(e) for e in self._stack}
        if tag not in ("meta", "link", "br", "img", "hr", "input"):
            self._stack.append(element)
            self._texts[id(element)] = []

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            element = self._stack.pop()
            if element[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        for element in self._stack:
            self._texts[id(element)].append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e[0] == tag and all(attrs[k] in e[1].get(k, "").split() for k in attrs)
        ]

    def within(self, container: Element, tag: str) -> list[Element]:
        """The ``tag`` elements inside ``container``."""
        return [e for e in self.elements if e[0] == tag and id(container) in self._ancestors[id(e)]]

    def text_of(self, element: Element) -> str:
        return " ".join("".join(self._texts.get(id(element), [])).split())

    def links(self) -> list[str]:
        return [e[1][a] for e in self.elements for a in ("href", "src") if a in e[1]]


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def broken_links(site: Path, base_url: str) -> list[str]:
    """Internal links (relative, or under ``base_url`` or its path) whose target does not exist."""
    broken = []
    root = urlsplit(base_url).path
    for html in sorted(site.rglob("*.html")):
        for link in read_page(html).links():
            if link.startswith((base_url, root)) and not link.startswith("//"):
                target = site / unquote(urlsplit(link).path.removeprefix(root))
            elif urlsplit(link).scheme or link.startswith(("#", "//")):
                continue
            else:
                target = html.parent / unquote(urlsplit(link).path)
            if link.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.resolve().is_file():
                broken.append(f"{html.relative_to(site)} → {link}")
    return broken


def reachable(site: Path) -> set[str]:
    """Every page reached by following relative links from the home page."""
    seen: set[str] = set()
    todo = [site / "index.html"]
    while todo:
        page = todo.pop()
        rel = page.relative_to(site).as_posix()
        if rel in seen or not page.is_file():
            continue
        seen.add(rel)
        for link in read_page(page).links():
            if urlsplit(link).scheme or link.startswith("#"):
                continue
            target = Path(os.path.normpath(page.parent / unquote(urlsplit(link).path)))
            if link.endswith("/"):
                target = target / "index.html"
            if target.suffix == ".html":
                todo.append(target)
    return seen
