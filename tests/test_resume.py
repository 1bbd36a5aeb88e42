"""`digest build` after a few edits resumes from the last build's plan (digest.rebuild).

Whichever way a build goes, resumed or full, the site must be byte for byte
what a cold build of the same files gives; and an edit the saved plan cannot
answer for (a date, the topics, a new file, a template) must take the full way.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from digest import archive, build, output, rebuild
from digest.memory import Memory
from digest.model import Report
from tests.conftest import project, write
from tests.test_rebuild import article, cold, files

RULED = (
    "---\nid: ruled\ntitle: Talks\ndate: 2024-02-02T10:00:00Z\n---\n\n"
    "Moscow and Beijing held talks on trade.\n"
)
"""No topics line: the Russia–China rule gives it its topic, from its body."""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = project(tmp_path / "p", "[stories]\nenabled = false\n")  # stories: test_stories_build
    for n in range(40):
        write(root / f"content/articles/a{n:03d}.md", article(n))
    write(root / "content/articles/ruled.md", RULED)
    build.build(root, workers=1)
    return root


def edit(root: Path, name: str, text: str) -> Path:
    return write(root / "content/articles" / name, text)


def resumed(root: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    """A build that must not read the archive: it resumes, or the test fails."""
    with monkeypatch.context() as patch:
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("a full build"))
        return build.build(root, workers=1)


SHORT = {  # edits that move no article in any listing
    "a body": ("a005.md", article(5, body="A body, *edited*.")),
    "the newest's body (in every feed)": ("a035.md", article(35, body="New.")),
    "a summary": ("a007.md", article(7, summary="Shown in listings.")),
    "a title": ("a011.md", article(11, title="Retitled")),
    "the body of a ruled article, keeping its topic": (
        "ruled.md",
        RULED.replace("on trade", "on energy"),
    ),
}


@pytest.mark.parametrize("name", SHORT)
def test_an_edit_that_moves_nothing_resumes_and_gives_the_cold_site(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    edit(site, *SHORT[name])
    report = resumed(site, monkeypatch)
    assert report.written > 0
    assert report.articles == 41
    assert files(site / "site") == cold(site, tmp_path)
    assert resumed(site, monkeypatch).written == 0  # and the next build has nothing to do


LONG = {  # edits the saved plan cannot answer for
    "a date": ("a005.md", article(5).replace("2024-02-06", "2025-01-01")),
    "the topics": ("a007.md", article(7).replace("[Trade, Energy]", "[Security]")),
    "a rule's topic lost by a body edit": ("ruled.md", RULED.replace("Beijing", "Paris")),
    "an id": ("a009.md", article(9).replace("id: id-9", "id: id-nine")),
    "a new file": ("new.md", article(90)),
    "a broken file": ("a003.md", "---\ntitle: [unclosed\n---\n"),
}


@pytest.mark.parametrize("name", LONG)
def test_an_edit_that_moves_an_article_builds_in_full(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    target, text = LONG[name]
    old = site / "content/articles" / target
    assert not old.exists() or text != old.read_text("utf-8")
    edit(site, target, text)
    with pytest.raises(pytest.fail.Exception):
        resumed(site, monkeypatch)
    report = build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)
    if name == "a broken file":
        assert report.problems
    else:
        assert resumed(site, monkeypatch).written == 0  # the full build saved a new plan


def test_a_deleted_file_a_template_or_the_settings_build_in_full(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for change in (
        lambda: (site / "content/articles/a004.md").unlink(),
        lambda: write(site / "templates/404.html", "<p>Lost.</p>\n"),
        lambda: write(site / "digest.toml", "per_page = 5\n" + (site / "digest.toml").read_text()),
    ):
        change()
        with pytest.raises(pytest.fail.Exception):
            resumed(site, monkeypatch)
        build.build(site, workers=1)
        assert files(site / "site") == cold(site, tmp_path)


def test_a_site_written_by_digest_serve_is_not_resumed(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve writes the output from its own plan: the saved one no longer describes it."""
    memory = Memory(kept=True)
    build.build(site, memory=memory, workers=1)
    edit(site, "a020.md", article(20, title="Seen in serve"))
    build.build(site, memory=memory, workers=1)
    edit(site, "a020.md", article(20, title="Seen in serve", body="Then edited again."))
    with pytest.raises(pytest.fail.Exception):
        resumed(site, monkeypatch)
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


def test_a_resumed_build_records_the_keys_of_what_it_wrote(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Then a full build renders nothing: the record of keys says what site/ holds."""
    edit(site, "a011.md", article(11, title="Retitled"))
    assert resumed(site, monkeypatch).written > 0
    rendered: list[object] = []
    render = output._render

    def counted(jobs: list[object], *args: Any, **how: Any) -> int:
        rendered.extend(jobs)
        return render(jobs, *args, **how)  # type: ignore[arg-type]

    monkeypatch.setattr(output, "_render", counted)
    assert build.build(site, workers=1, full=True).written == 0
    assert rendered == []


def no_fork() -> int:
    raise BlockingIOError(11, "Resource temporarily unavailable")


@pytest.mark.parametrize("why", ["missing", "failing"])
def test_without_fork_the_walk_is_done_in_process(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """Where os.fork is missing (Windows) or fails, the articles are walked when asked for."""
    if why == "missing":
        monkeypatch.delattr(os, "fork")
    else:
        monkeypatch.setattr(os, "fork", no_fork)
    edit(site, "a012.md", article(12, title="Walked here"))
    assert resumed(site, monkeypatch).written > 0
    assert files(site / "site") == cold(site, tmp_path)


def test_a_walk_that_fails_in_its_child_means_a_full_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent, walk = os.getpid(), archive.walk

    def failing(top: Path) -> list[tuple[str, os.stat_result]]:
        if os.getpid() != parent:
            raise PermissionError(top)
        return walk(top)

    monkeypatch.setattr(archive, "walk", failing)
    edit(site, "a013.md", article(13, title="Walked twice"))
    with pytest.raises(pytest.fail.Exception):
        resumed(site, monkeypatch)
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


def test_the_walking_child_is_waited_for_whichever_way_the_build_goes(site: Path) -> None:
    """No child left behind: not after a resume, nor when the plan is given up unread."""
    edit(site, "a014.md", article(14, body="Resumed."))
    build.build(site, workers=1)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    write(site / "templates/404.html", "<p>Gone.</p>\n")  # the plan is given up unread
    build.build(site, workers=1)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_damaged_plan_or_parse_cache_means_a_full_build(site: Path, tmp_path: Path) -> None:
    plan = site / ".digest/plan.sqlite"
    with sqlite3.connect(plan) as db:
        db.execute("DELETE FROM listing")
    edit(site, "a005.md", article(5, title="Edited"))
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)
    plan.write_bytes(b"not a database")
    edit(site, "a006.md", article(6, title="Edited"))
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)
    (site / ".digest/articles.sqlite").unlink()  # where the plan finds the records
    edit(site, "a007.md", article(7, title="Edited"))
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


KILLED_WRITE = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA cache_size=1")  # so that the write spills to the file, behind a journal
db.execute("BEGIN")
db.execute("UPDATE listing SET data = zeroblob(length(data))")
db.execute("UPDATE article SET data = zeroblob(length(data))")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_plan_write_killed_midway_spoils_no_later_plan(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its journal must not be played back into the plan the next full build saves."""
    plan = site / ".digest/plan.sqlite"
    subprocess.run([sys.executable, "-c", KILLED_WRITE, plan], check=False)
    assert (site / ".digest/plan.sqlite-journal").is_file()
    # --full: the old plan is not opened (which would play its journal back into it)
    edit(site, "a005.md", article(5).replace("2024-02-06", "2024-02-27"))  # last in February
    build.build(site, workers=1, full=True)
    for n in (9, 13, 17, 21, 25, 29):  # February's others: their listings were reordered
        edit(site, f"a{n:03d}.md", article(n, title=f"Retitled {n}"))
    resumed(site, monkeypatch)
    assert files(site / "site") == cold(site, tmp_path)


def test_random_edits_end_where_a_cold_build_ends(site: Path, tmp_path: Path) -> None:
    """Twelve random edits of one to three files each, short and long mixed."""
    chosen = random.Random(7)  # noqa: S311 - a fixed sequence of edits, not a secret
    for _ in range(12):
        for n in chosen.sample(range(40), chosen.randint(1, 3)):
            kind = chosen.choice(["body", "title", "summary", "date", "topics"])
            text = {
                "body": article(n, body=f"Body {chosen.random()}."),
                "title": article(n, title=f"Title {chosen.random()}"),
                "summary": article(n, summary=f"Summary {chosen.random()}."),
                "date": article(n).replace("2024-", "2023-"),
                "topics": article(n).replace("topics: [", "topics: [Extra, "),
            }[kind]
            edit(site, f"a{n:03d}.md", text)
        build.build(site, workers=1)
        assert files(site / "site") == cold(site, tmp_path)


def test_an_edit_its_stat_does_not_show_is_read_again(site: Path, tmp_path: Path) -> None:
    """Two saves in one tick of a coarse file system clock, of the same size: the file was
    modified as the last build started, so this build reads it again."""
    target = site / "content/articles/a005.md"
    before = target.stat()
    text = target.read_text("utf-8")
    target.write_text(text.replace("Article number 5", "Article number V"), encoding="utf-8")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_mtime_ns, target.stat().st_size) == (
        before.st_mtime_ns,
        before.st_size,
    )
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


def test_files_read_again_for_their_stat_count_not_as_edits(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files written just before the last build (a day's articles, say) are all read
    again; that alone must not turn the next edit into a full build."""
    monkeypatch.setattr(rebuild, "_MOST", 5)  # fewer than the 41 files the fixture wrote
    edit(site, "a005.md", article(5, body="A body, *edited*."))
    assert resumed(site, monkeypatch).written > 0
    assert files(site / "site") == cold(site, tmp_path)


def test_full_reads_again_a_file_whose_stat_hides_an_edit(site: Path, tmp_path: Path) -> None:
    """A copy that restores the old size and modification time: --full trusts no stat."""
    target = site / "content/articles/a005.md"
    old = 1_600_000_000_000_000_000  # long before any build: not a file saved as one started
    os.utime(target, ns=(old, old))
    build.build(site, workers=1, full=True)  # the parse cache now has it, with that stat
    target.write_text(article(5).replace("Article number 5", "Article number V"), "utf-8")
    os.utime(target, ns=(old, old))
    build.build(site, workers=1, full=True)
    assert files(site / "site") == cold(site, tmp_path)


def test_a_project_whose_path_has_a_question_mark_or_hash_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reads its files from URIs, in which ? and # end the path."""
    root = project(tmp_path / "news?#50%")
    for n in range(6):
        write(root / f"content/articles/a{n:03d}.md", article(n))
    build.build(root, workers=1)
    edit(root, "a002.md", article(2, title="Retitled"))
    assert resumed(root, monkeypatch).written > 0
    assert files(root / "site") == cold(root, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cold", "news?#50%"]


KILLED_KEYS = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA cache_size=1")
db.execute("BEGIN")
db.execute("UPDATE page SET key = 'spoilt'")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_write_of_the_record_of_keys_killed_midway_is_rolled_back(
    site: Path, tmp_path: Path
) -> None:
    record = site / ".digest/pages.sqlite"
    before = record.stat()
    subprocess.run([sys.executable, "-c", KILLED_KEYS, record], check=False)
    assert (site / ".digest/pages.sqlite-journal").is_file()
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))  # as if not yet written
    edit(site, "a006.md", article(6, title="Retitled"))
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


def test_a_record_of_keys_that_cannot_be_read_means_a_full_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_known", lambda *_: None)
    edit(site, "a007.md", article(7, title="Retitled"))
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)


def test_an_offline_build_of_a_project_with_feeds_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With feeds, only a build that fetches nothing may resume; the Sources page stays."""
    root = project(
        tmp_path / "p", extra='[[feeds]]\nname = "Wire"\nurl = "http://127.0.0.1:9/feed"\n'
    )
    for n in range(12):
        write(root / f"content/articles/a{n:03d}.md", article(n))
    build.build(root, workers=1, offline=True)  # creates .digest/state.sqlite: the next is full
    build.build(root, workers=1, offline=True)
    assert (root / "site/sources/index.html").is_file()
    edit(root, "a003.md", article(3, title="Offline edit"))
    with monkeypatch.context() as patch:
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("a full build"))
        assert build.build(root, workers=1, offline=True).written > 0
    copy = tmp_path / "cold"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".digest"))
    build.build(copy, workers=1, offline=True)
    assert files(root / "site") == files(copy / "site")


def test_a_template_saved_during_a_full_build_is_seen_by_the_next(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan holds for the settings as they were when the build started."""
    from digest.render import plan

    real = plan.plan

    def edit_then_plan(*args: object, **kwargs: object) -> object:
        write(site / "templates/404.html", "<p>Saved during the build.</p>\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    write(site / "templates/404.html", "<p>Before.</p>\n")
    with monkeypatch.context() as patch:
        patch.setattr(plan, "plan", edit_then_plan)
        build.build(site, workers=1)
    with pytest.raises(pytest.fail.Exception):
        resumed(site, monkeypatch)
    build.build(site, workers=1)
    assert files(site / "site") == cold(site, tmp_path)
