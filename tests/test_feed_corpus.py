"""Acceptance: every real-world feed of ../shared/corpus/feeds, served on 127.0.0.1, in one build."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import feedparser

from tests.conftest import Run, shared, snapshot, write
from tests.feedserver import FeedServer, Route


def distinct_items(path: Path) -> int:
    """How many different items a feed holds, read independently of digest."""
    if path.suffix == ".json":
        items = json.loads(path.read_bytes())["items"]
        keys = {i.get("url") or i.get("id") or json.dumps(i, sort_keys=True) for i in items}
    else:
        entries = feedparser.parse(path.read_bytes()).entries
        keys = {e.get("link") or e.get("id") or (e.get("title"), e.get("summary")) for e in entries}
    return len(keys)


def test_every_corpus_feed_builds_and_a_second_build_costs_304s(
    tmp_path: Path, digest: Run
) -> None:
    folder = shared("corpus", "feeds")
    with (folder / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    assert len(rows) >= 80
    with FeedServer() as server:
        # Every item is counted below, so no feed is cut at the default max_items.
        text = 'title = "Corpus"\nbase_url = "https://example.org/c/"\n[fetch]\nmax_items = 10000\n'
        for row in rows:
            name = row["file"]
            kind = "application/feed+json" if name.endswith(".json") else "application/xml"
            server.routes[f"/{name}"] = Route((folder / name).read_bytes(), content_type=kind)
            text += f'[[feeds]]\nname = "{name}"\nurl = "{server.url("/" + name)}"\n'
        root = tmp_path / "corpus"
        write(root / "digest.toml", text)

        first = digest("build", "-C", root)
        assert first.code == 0, first.err
        assert "Traceback" not in first.err + first.out
        lines = {ln.split(": ", 1)[0]: ln for ln in first.out.splitlines()}

        articles = [p.read_text("utf-8") for p in (root / "content" / "articles").rglob("*.md")]
        for row in rows:
            name, url = row["file"], server.url("/" + row["file"])
            line = lines[name]
            count = sum(
                1
                for a in articles
                if f"\nfeed: {url}\n" in a
                or re.search(rf"\nalso:\n(- .*\n)*- {re.escape(name)}\n", a)
            )
            expected = distinct_items(folder / name)
            if ": error:" in line:
                assert expected == 0, line  # only feeds with nothing to read may fail
                continue
            assert count == expected, (name, count, expected, line)

        before = snapshot(root / "content")
        second = digest("build", "-C", root)
        assert second.code == 0
        assert snapshot(root / "content") == before
        for row in rows:
            answers = server.requests("/" + row["file"])
            assert len(answers) == 2
            assert answers[1].get("if-none-match"), row["file"]
        assert all(": not modified" in ln for ln in second.out.splitlines()[1:-1]), second.out
