"""digest serve as a person meets it: the real command, real headless Chromium, files saved on disk.

Nothing is done in the browser after it opens the page: every change comes from a save.
Chromium is Debian's ``chromium`` (``.ci/run`` installs it); without it these tests skip,
except under CI, where they fail.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.conftest import Run, start_cli, write

ARTICLE = "content/articles/2022/09/russia-china-strengthen-relations-with-high-level-meetings-amid-war-in-ukraine.md"
PAGE = "2022/09/russia-china-strengthen-relations-with-high-level-meetings-amid-war-in-ukraine/"
VISIBLE = 2000  # ms: a save must show in the open page within 2 s


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The real ``digest serve`` on a free port; stopped with Ctrl-C, which must exit 0."""
    process = start_cli(root, "--port", "0")
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.match(r"serving (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        process.kill()
        pytest.fail(f"digest serve did not start: {line}{process.communicate()[1]}")
    try:
        yield match[1]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "Traceback" not in err


NOTE = "content/articles/2022/09/live-note.md"
NOTE_PAGE = "2022/09/live-note/"
NOTE_TEXT = """---
title: A note written by hand
date: 2022-09-21
source: The editors
---

The first draft of this note mentions Moscow and Beijing.
"""


@pytest.fixture
def built(example: Path, digest: Run) -> Path:
    """The example, built, with an article written by hand (no inbox file behind it)."""
    write(example / NOTE, NOTE_TEXT)
    assert digest("build", "-C", example).code == 0
    return example


def overlay(page: Page) -> tuple[str, str]:
    """What the overlay names, and what it says (Playwright's locators see into its shadow root)."""
    return page.locator("digest-overlay .where").inner_text(), page.locator(
        "digest-overlay .message"
    ).inner_text()


def test_a_save_shows_in_the_open_page_and_a_broken_file_in_an_overlay(
    built: Path, chromium: BrowserContext
) -> None:
    article = built / NOTE
    with serving(built) as url:
        page = chromium.new_page()
        page.goto(url + NOTE_PAGE)
        main = page.locator("main")
        expect(main).to_contain_text("The first draft of this note")

        edited = NOTE_TEXT.replace("The first draft", "The second draft")
        article.write_text(edited, encoding="utf-8")
        expect(main).to_contain_text("The second draft of this note", timeout=VISIBLE)

        # Break the front matter: it is never closed.
        article.write_text(edited.replace("\n---\n", "\n\n", 1), encoding="utf-8")
        expect(page.locator("digest-overlay .where")).to_have_text(f"{NOTE}:1", timeout=VISIBLE)
        _, message = overlay(page)
        assert message == "front matter is not closed"
        expect(page.locator("digest-overlay [role=alert]")).to_be_visible()
        # styled, under the page's Content-Security-Policy
        expect(page.locator("digest-overlay .panel")).to_have_css("position", "fixed")
        expect(main).to_contain_text("The second draft")  # the page is still there, under it

        article.write_text(edited.replace("second draft", "third draft"), encoding="utf-8")
        expect(page.locator("digest-overlay")).to_have_count(0, timeout=VISIBLE)
        expect(main).to_contain_text("The third draft of this note", timeout=VISIBLE)
        assert page.url == url + NOTE_PAGE
        page.close()
    on_disk = b"".join(p.read_bytes() for p in (built / "site").rglob("*") if p.is_file())
    assert b"/.digest/" not in on_disk
    assert b"digest-overlay" not in on_disk


def test_a_broken_template_or_config_shows_in_the_overlay_and_the_site_stays(
    built: Path, chromium: BrowserContext
) -> None:
    config = built / "digest.toml"
    good = config.read_text(encoding="utf-8")
    with serving(built) as url:
        page = chromium.new_page()
        page.goto(url + PAGE)
        expect(page.locator("h1")).to_contain_text("Russia, China strengthen")

        write(built / "templates" / "article.html", '{% extends "base.html" %}\n{% block main %}\n')
        expect(page.locator("digest-overlay .where")).to_contain_text(
            "article.html", timeout=VISIBLE
        )
        expect(page.locator("h1")).to_contain_text("Russia, China strengthen")
        (built / "templates" / "article.html").unlink()
        expect(page.locator("digest-overlay")).to_have_count(0, timeout=VISIBLE)

        config.write_text(good + "\nper_page = 'many'\n", encoding="utf-8")
        expect(page.locator("digest-overlay .where")).to_contain_text(
            "digest.toml:", timeout=VISIBLE
        )
        config.write_text(good, encoding="utf-8")
        expect(page.locator("digest-overlay")).to_have_count(0, timeout=VISIBLE)
        expect(page.locator("h1")).to_contain_text("Russia, China strengthen")
        page.close()


def test_a_stylesheet_save_is_swapped_in_without_a_reload(
    built: Path, chromium: BrowserContext
) -> None:
    # The project's own stylesheet, which overrides the theme's.
    stylesheet = write(built / "templates" / "static" / "style.css", "body { color: red; }\n")
    with serving(built) as url:
        page = chromium.new_page()
        page.goto(url + PAGE)
        page.evaluate("window.notReloaded = true")
        stylesheet.write_text("body { background: rgb(1, 2, 3); }\n", encoding="utf-8")
        # A locator, not wait_for_function: the pages' Content-Security-Policy forbids eval.
        expect(page.locator("body")).to_have_css(
            "background-color", "rgb(1, 2, 3)", timeout=VISIBLE
        )
        assert page.evaluate("window.notReloaded") is True
        page.close()
