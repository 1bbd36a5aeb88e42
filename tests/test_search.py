"""The search index: terms in any script, and an index kept up to date article by article."""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from digest import build
from digest.model import Article
from digest.render import search
from tests.conftest import project, write


def test_words_are_lowercased_common_ones_dropped_and_cjk_split_into_pairs() -> None:
    assert search.words("The Kremlin and ПЕКИН") == ["kremlin", "пекин"]
    assert sorted(search.words("撒马尔罕峰会")) == sorted(["撒马", "马尔", "尔罕", "罕峰", "峰会"])
    assert sorted(search.words("习 x")) == ["x", "习"]
    assert search.words("ｆｕｌｌ-width_words") == ["full", "width", "words"]  # NFKC, _ splits
    assert search.words("a" * 41) == []


def test_a_term_weighs_its_occurrences_in_each_field_and_fields_do_not_run_together() -> None:
    article = Article(
        "x",
        "Harbour Grain",
        datetime(2024, 3, 4, tzinfo=UTC),
        "",
        source="Ostwire",
        summary="deal harbour",
        topics=("Ports", "Grain"),
    )
    counts = search.weights(article, "harbour ΟΔΟΣ harbour")
    assert counts["harbour"] == 5 + 2 + 2 * 1  # title, summary, body twice
    assert counts["grain"] == 5 + 3 and counts["ports"] == 3 and counts["ostwire"] == 3
    assert counts["οδος"] == 1 and counts["source:Ostwire"] == 1 and counts["topic:Ports"] == 1
    assert (
        "graindeal" not in counts and "ostwireports" not in counts and "grainharbour" not in counts
    )


def test_a_term_goes_to_the_shard_of_its_crc32() -> None:
    assert search.shard_of("пекин", 64) == zlib.crc32("пекин".encode()) % 64


def shard_entries(site: Path, term: str) -> list[str]:
    page = (site / "search" / "index.html").read_text("utf-8")
    count = int(page.split('data-shards="')[1].split('"')[0])
    table = json.loads((site / "search" / "t" / f"{search.shard_of(term, count)}.json").read_text())
    return list(table.get(term, [[]])[0])


def test_an_edit_reindexes_its_words_and_deleting_an_article_removes_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    one = write(
        root / "content/articles/one.md",
        "---\ntitle: Grain deal\ndate: 2024-03-04\nsource: Wire\n---\n\nA zanzibar harbour.\n",
    )
    write(
        root / "content/articles/two.md",
        "---\ntitle: Gas deal\ndate: 2024-03-05\n---\n\nA harbour pipeline.\n",
    )
    build.build(root)
    site = root / "site"
    assert len(shard_entries(site, "harbour")) == 2
    assert len(shard_entries(site, "zanzibar")) == 1
    assert len(shard_entries(site, "source:Wire")) == 1
    one.write_text(one.read_text("utf-8").replace("zanzibar", "mombasa"), "utf-8")
    build.build(root)
    assert shard_entries(site, "zanzibar") == []
    assert len(shard_entries(site, "mombasa")) == 1
    assert len(shard_entries(site, "harbour")) == 2
    one.unlink()
    build.build(root)
    assert shard_entries(site, "mombasa") == []
    assert len(shard_entries(site, "harbour")) == 1
    assert len(list((site / "search" / "d").iterdir())) == 1
    cards = [json.loads(p.read_text("utf-8")) for p in (site / "search" / "d").iterdir()]
    assert cards[0]["title"] == "Gas deal" and cards[0]["url"] == "two/"
    assert cards[0]["text"] == "A harbour pipeline."


def test_a_word_in_more_articles_than_a_shard_lists_is_kept_whole_for_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard file lists a word's heaviest articles only; the kept index has the rest,
    so deleting a listed one brings the next in, as a cold build of the same archive does."""
    monkeypatch.setattr(search, "KEPT", 2)
    root = project(tmp_path / "kept")
    for n, times in enumerate((4, 3, 2, 1)):
        body = " ".join(["harbour"] * times)
        write(
            root / f"content/articles/a{n}.md",
            f"---\nid: port-{n}\ntitle: Port {n}\ndate: 2024-03-0{n + 1}\n---\n\nThe {body}.\n",
        )
    build.build(root)
    site = root / "site"
    assert shard_entries(site, "harbour") == [
        search.card_name("port-0"),
        search.card_name("port-1"),
    ]
    (root / "content/articles/a0.md").unlink()
    build.build(root)
    assert shard_entries(site, "harbour") == [
        search.card_name("port-1"),
        search.card_name("port-2"),
    ]
    cold = project(tmp_path / "cold")
    shutil.copytree(root / "content", cold / "content")
    build.build(cold)
    for shard in (site / "search" / "t").iterdir():
        assert shard.read_bytes() == (cold / "site/search/t" / shard.name).read_bytes()


def _tier_of(site: Path, term: str) -> dict[str, list[str]]:
    """The cards listed for ``term`` in each tier's shard."""
    page = (site / "search" / "index.html").read_text("utf-8")
    counts = {
        "t": int(page.split('data-shards="')[1].split('"')[0]),
        "r": int(page.split('data-recent="')[1].split('"')[0]),
    }
    found = {}
    for tier, count in counts.items():
        shard = site / "search" / tier / f"{search.shard_of(term, count)}.json"
        found[tier] = list(json.loads(shard.read_text())[term][0]) if count else []
    return found


def _dated(root: Path, name: str, day: str, words: str) -> None:
    write(
        root / f"content/articles/{name}.md",
        f"---\nid: {name}\ntitle: {name.title()}\ndate: {day}\n---\n\nThe harbour {words}.\n",
    )


def test_a_large_archive_keeps_its_latest_articles_in_a_small_tier_that_new_ones_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chromium: BrowserContext
) -> None:
    """The oldest whole blocks of articles are in the older tier, the rest in the recent
    one; a newer article rewrites recent shards only, and a cold build divides alike."""
    for name, value in (("RECENT_FROM", 4), ("BLOCK", 2), ("LEAST", 1), ("RECENT_SHARDS", 4)):
        monkeypatch.setattr(search, name, value)
    root = project(tmp_path / "tiers")
    for n, name in enumerate("abcde"):
        _dated(root, name, f"2024-03-0{n + 1}", "zanzibar" if name == "a" else "mombasa")
    build.build(root)
    site = root / "site"
    cards = {name: search.card_name(name) for name in "abcdefg"}
    assert _tier_of(site, "harbour") == {"t": [cards[n] for n in "dcba"], "r": [cards["e"]]}
    older = {p.name: p.read_bytes() for p in (site / "search" / "t").iterdir()}
    _dated(root, "f", "2024-03-06", "mombasa")
    build.build(root)
    assert {p.name: p.read_bytes() for p in (site / "search" / "t").iterdir()} == older
    assert _tier_of(site, "harbour")["r"] == [cards["f"], cards["e"]]
    cold = project(tmp_path / "cold")
    shutil.copytree(root / "content", cold / "content")
    build.build(cold)
    for shard in (*(site / "search" / "t").iterdir(), *(site / "search" / "r").iterdir()):
        assert shard.read_bytes() == (cold / "site" / shard.relative_to(site)).read_bytes()
    # A block more: the two articles of the recent tier move to the older one.
    _dated(root, "g", "2024-03-07", "mombasa")
    build.build(root)
    assert _tier_of(site, "harbour") == {"t": [cards[n] for n in "fedcba"], "r": [cards["g"]]}
    page = chromium.new_page()
    with _serving(root / "site", _Quiet) as url:
        try:
            page.goto(url + "search/")
            page.locator("#q").fill("harbour")
            expect(page.locator("#status")).to_have_text("7 articles match.")
            page.locator("#q").fill("harbour mombasa")
            expect(page.locator("#status")).to_have_text("6 articles match.")
        finally:
            page.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(site: Path, handler: type[SimpleHTTPRequestHandler]) -> Iterator[str]:
    """``site`` served on 127.0.0.1 while the block runs; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_results_show_in_rank_order_as_their_cards_come(
    tmp_path: Path, chromium: BrowserContext
) -> None:
    """A slow card holds back the results below it, not those above it; the count comes
    with the last result."""
    root = project(tmp_path)
    for n, times in enumerate((4, 3, 2, 1)):
        write(
            root / f"content/articles/a{n}.md",
            f"---\nid: port-{n}\ntitle: Port {n}\ndate: 2024-03-0{n + 1}\n---\n\n"
            + "The harbour. " * times,
        )
    build.build(root)
    held = f"/search/d/{search.card_name('port-2')}.json"
    release = threading.Event()

    class Holding(_Quiet):
        def do_GET(self) -> None:
            if self.path == held:
                release.wait(30)
            super().do_GET()

    page = chromium.new_page()
    with _serving(root / "site", Holding) as url:
        try:
            page.goto(url + "search/")
            page.locator("#q").fill("harbour")
            titles = page.locator("#results h2")
            expect(titles).to_have_text(["Port 0", "Port 1"])
            expect(page.locator("#status")).not_to_contain_text("match")
            release.set()
            expect(titles).to_have_text(["Port 0", "Port 1", "Port 2", "Port 3"])
            expect(page.locator("#status")).to_have_text("4 articles match.")
        finally:
            release.set()
            page.close()


def test_a_card_carries_only_a_language_tag_shaped_like_one() -> None:
    moment = datetime(2024, 5, 1, tzinfo=UTC)

    def lang(value: object) -> object:
        article = Article(id="x", title="t", published=moment, body="", extra={"language": value})
        return json.loads(search.card(article, "text", "a/", "2024-05-01")).get("lang")

    assert lang("ru") == "ru"
    assert lang("zh-Hant-TW") == "zh-Hant-TW"
    for hostile in ('en" onload="alert(5)', "ру", "e", ["ru"], "en-" + "x" * 40):
        assert lang(hostile) is None, hostile


def test_weighing_that_fails_on_this_side_ends_with_the_error_not_a_hang() -> None:
    """The forked half blocks writing a batch nobody reads: leaving early must stop it."""
    import signal

    def terms(n: int) -> dict[str, int]:
        if n == 5:
            raise ValueError("article 5 changed while the site was being built")
        return {f"word{k}": 1 for k in range(300)}

    docs = [search.Doc(str(n), "key", 1, functools.partial(terms, n)) for n in range(2000)]

    def hung(*_: object) -> None:
        raise TimeoutError("weighing hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(ValueError, match="article 5"):
            list(search._weighed(docs, 2))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
