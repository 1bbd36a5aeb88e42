"""content/ is the store: imports are idempotent, updates keep the id, hand edits are kept."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import Run, project, read_page, snapshot, write

DUMP = """Menu

Search

Moscow and Beijing agree to expand rail freight

By Ivan Example

March 3, 2024

MOSCOW, March 3 (Reuters) - Russia and China agreed on Sunday to expand rail freight across their border, officials in Moscow said.

The new schedule adds four trains a week between the two countries, according to the statement.

Related stories

Other headline about something else
"""


def only_article(root: Path) -> Path:
    (path,) = (root / "content" / "articles").rglob("*.md")
    return path


def article_id(path: Path) -> str:
    match = re.search(r"^id: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match
    return match.group(1)


def test_import_once_then_nothing_changes(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(root / "content" / "inbox" / "rail.txt", DUMP)
    first = digest("build", "-C", root)
    assert first.code == 0, first.err
    assert "1 new" in first.out
    before = snapshot(root / "content") | snapshot(root / "site")
    second = digest("build", "-C", root)
    assert "0 new, 0 updated, 1 unchanged" in second.out
    assert snapshot(root / "content") | snapshot(root / "site") == before


def test_inbox_files_are_never_modified(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    inbox = write(root / "content" / "inbox" / "rail.txt", DUMP)
    digest_before = hashlib.sha256(inbox.read_bytes()).hexdigest()
    mtime = inbox.stat().st_mtime_ns
    digest("build", "-C", root)
    digest("build", "-C", root)
    assert hashlib.sha256(inbox.read_bytes()).hexdigest() == digest_before
    assert inbox.stat().st_mtime_ns == mtime


def test_changed_inbox_file_updates_its_article_in_place(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    inbox = write(root / "content" / "inbox" / "rail.txt", DUMP)
    digest("build", "-C", root)
    stored = only_article(root)
    old_id = article_id(stored)

    inbox.write_text(
        DUMP.replace(
            "according to the statement.",
            "according to the statement.\n\nA third paragraph was added by the outlet later on.",
        ),
        encoding="utf-8",
    )
    result = digest("build", "-C", root)
    assert "0 new, 1 updated" in result.out
    assert only_article(root) == stored
    assert article_id(stored) == old_id
    assert "A third paragraph was added by the outlet later on." in stored.read_text("utf-8")


def test_hand_edit_is_never_overwritten(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    inbox = write(root / "content" / "inbox" / "rail.txt", DUMP)
    digest("build", "-C", root)
    stored = only_article(root)
    edited = stored.read_text("utf-8").replace("four trains a week", "five trains a week")
    stored.write_text(edited, encoding="utf-8")

    result = digest("build", "-C", root)
    assert stored.read_text("utf-8") == edited
    assert "edited by hand" not in result.err  # the inbox did not change: nothing to say
    (page,) = (root / "site").rglob("moscow-and-beijing*/index.html")
    assert "five trains a week" in read_page(page).text

    inbox.write_text(DUMP.replace("Sunday", "Monday"), encoding="utf-8")
    result = digest("build", "-C", root)
    assert result.code == 0
    assert stored.read_text("utf-8") == edited
    shown = stored.relative_to(root).as_posix()
    assert f"{shown}: edited by hand, so not updated from the changed content/inbox/rail.txt" in (
        result.err
    )


def test_article_placed_by_hand_keeps_a_stable_id_and_is_not_rewritten(
    tmp_path: Path, digest: Run
) -> None:
    root = project(tmp_path)
    note = write(
        root / "content" / "articles" / "notes" / "my-note.md",
        "---\ntitle: A note on Moscow and Beijing\ndate: 2024-04-01\n---\n\n"
        "Russia and China talk. Moscow and Beijing agree.\n",
    )
    with_url = write(
        root / "content" / "articles" / "linked.md",
        "---\ntitle: Linked\ndate: 2024-04-02\nurl: https://news.example/a\n---\n\nText.\n",
    )
    before = (note.read_bytes(), with_url.read_bytes())
    digest("build", "-C", root)
    feed = (root / "site" / "feed.xml").read_text("utf-8")
    guids = re.findall(r"<guid isPermaLink=\"false\">(.+?)</guid>", feed)
    digest("build", "-C", root)
    feed = (root / "site" / "feed.xml").read_text("utf-8")
    assert re.findall(r"<guid isPermaLink=\"false\">(.+?)</guid>", feed) == guids
    assert (note.read_bytes(), with_url.read_bytes()) == before
    assert len(set(guids)) == 2
    # A note without a topics line gets topics by the rules (in the site, not on disk).
    page = read_page(root / "site" / "notes" / "my-note" / "index.html")
    assert "Russia–China relations" in page.text


def test_id_comes_from_url_else_path(tmp_path: Path, digest: Run) -> None:
    from digest.model import mint_id

    root = project(tmp_path)
    write(root / "content" / "articles" / "a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nx\n")
    write(
        root / "content" / "articles" / "b.md",
        "---\ntitle: B\ndate: 2024-01-02\nurl: https://news.example/b\n---\ny\n",
    )
    digest("build", "-C", root)
    feed = (root / "site" / "feed.xml").read_text("utf-8")
    assert f">{mint_id('path:a.md')}<" in feed
    assert f">{mint_id('url:https://news.example/b')}<" in feed


def test_broken_front_matter_is_reported_and_the_rest_is_built(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(
        root / "content" / "articles" / "good.md", "---\ntitle: Good\ndate: 2024-01-01\n---\nok\n"
    )
    write(
        root / "content" / "articles" / "bad.md",
        "---\ntitle: Fine\ndate: 2024-01-01\nauthors: [unclosed\n---\nbody\n",
    )
    write(root / "content" / "articles" / "nodate.md", "---\ntitle: No date\n---\nbody\n")
    # YAML timestamps datetime cannot hold: PyYAML raises ValueError, not a YAMLError.
    write(root / "content" / "articles" / "feb.md", "---\ntitle: Feb\ndate: 2024-02-30\n---\nx\n")
    write(
        root / "content" / "articles" / "zone.md",
        "---\ntitle: Zone\ndate: 2024-05-01T10:00:00+99:00\n---\nx\n",
    )
    result = digest("build", "-C", root)
    assert result.code == 0
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert any(
        ln.startswith("skipped: content/articles/bad.md:")
        and "front matter is not valid YAML" in ln
        and " — " in ln
        for ln in lines
    ), result.err
    assert "skipped: content/articles/nodate.md:2: missing date — add a line such as" in result.err
    for name in ("feb", "zone"):
        assert f"skipped: content/articles/{name}.md:2: front matter has a date that does" in (
            result.err
        )
    assert (root / "site" / "good" / "index.html").is_file()
    assert "1 articles" in result.out


def test_strict_turns_a_problem_into_exit_1_and_writes_nothing(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(root / "content" / "articles" / "bad.md", "---\ntitle: [oops\n---\nbody\n")
    result = digest("build", "--strict", "-C", root)
    assert result.code == 1
    assert result.err.startswith("error: content/articles/bad.md:2: front matter is not valid YAML")
    assert "Traceback" not in result.err
    assert not (root / "site").exists()


def test_copied_file_with_the_same_id_is_reported(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    text = "---\nid: fixed-id\ntitle: One\ndate: 2024-01-01\n---\nbody\n"
    write(root / "content" / "articles" / "one.md", text)
    write(root / "content" / "articles" / "two.md", text)
    result = digest("build", "-C", root)
    assert "content/articles/two.md: id fixed-id is already used by one.md" in result.err
    assert "1 articles" in result.out


def test_broken_imported_article_is_not_imported_twice(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(root / "content" / "inbox" / "rail.txt", DUMP)
    digest("build", "-C", root)
    stored = only_article(root)
    text = stored.read_text("utf-8")
    stored.write_text(text.replace("title: ", "title: [unclosed ", 1), "utf-8")
    result = digest("build", "-C", root)
    assert "front matter is not valid YAML" in result.err
    assert "not imported again: its article file is broken" in result.err
    assert len(list((root / "content" / "articles").rglob("*.md"))) == 1
    stored.write_text(text, "utf-8")  # fixed: back to one article, no duplicate id
    result = digest("build", "-C", root)
    assert result.err == ""
    assert "1 articles" in result.out
