"""How the archive is read: over processes, from its cache, and from serve's hints.

Every path must give what a plain serial read of the files gives.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest import archive, build, config, parsecache
from digest.errors import ContentError
from digest.memory import Memory
from tests.conftest import project, write

MONTHS = 6
PER_MONTH = 90  # 540 files: enough for loading to go over processes


def article(n: int, body: str = "") -> str:
    return (
        f"---\ntitle: Article {n}\ndate: 2024-{n % MONTHS + 1:02d}-{n % 27 + 1:02d}T10:00:00Z\n"
        f"id: id-{n}\ntopics: [Trade]\n---\n\n{body or f'Body of article {n}.'}\n"
    )


def archive_of(tmp_path: Path) -> tuple[config.Config, list[Path]]:
    root = project(tmp_path)
    paths = []
    for n in range(MONTHS * PER_MONTH):
        paths.append(
            write(root / f"content/articles/2024/{n % MONTHS + 1:02d}/a{n}.md", article(n))
        )
    write(root / "content/articles/2024/03/broken.md", "---\ntitle: [unclosed\n---\n\nText.\n")
    return config.load(root), paths


def summary(loaded: archive.Loaded) -> tuple[object, ...]:
    return (
        [(s.article, s.untouched, s.body_key, s.body()) for s in loaded.stored],
        [str(p) for p in loaded.problems],
    )


def test_parsing_over_processes_gives_what_one_process_gives(tmp_path: Path) -> None:
    cfg, _ = archive_of(tmp_path)
    serial = archive.load(cfg, archive.ParsedFiles(), workers=1)
    parallel = archive.load(cfg, archive.ParsedFiles(), workers=2)
    assert len(serial.stored) == MONTHS * PER_MONTH
    assert len(serial.problems) == 1 and "broken.md" in str(serial.problems[0])
    assert summary(parallel) == summary(serial)
    assert all(s.article.body == "" for s in serial.stored)  # bodies stay on disk
    assert serial.stored[0].body() == "Body of article 0.\n"


def test_the_cache_gives_what_the_files_give_and_follows_an_edit(tmp_path: Path) -> None:
    cfg, paths = archive_of(tmp_path)
    cold = archive.load(cfg, workers=2)
    assert (cfg.state / "articles.sqlite").is_file()
    warm = archive.load(cfg, workers=2)
    assert summary(warm) == summary(cold)
    write(paths[7], article(7, "An edited body."))
    paths[8].unlink()
    after = archive.load(cfg, workers=2)
    fresh = archive.load(cfg, archive.ParsedFiles(), workers=1)  # no cache at all
    assert summary(after) == summary(fresh)
    assert len(after.stored) == len(cold.stored) - 1
    (edited,) = [s for s in after.stored if s.article.id == "id-7"]
    assert edited.body() == "An edited body.\n"
    assert edited.body_key != next(s for s in cold.stored if s.article.id == "id-7").body_key


def test_a_damaged_cache_is_started_again_and_a_folder_gone_leaves_it(tmp_path: Path) -> None:
    cfg, paths = archive_of(tmp_path)
    (cfg.state / "articles.sqlite").parent.mkdir(parents=True, exist_ok=True)
    (cfg.state / "articles.sqlite").write_bytes(b"not a database")
    first = archive.load(cfg, workers=1)
    assert summary(first) == summary(archive.load(cfg, archive.ParsedFiles()))
    folders = parsecache.read(cfg)
    assert len(folders) == MONTHS
    month = paths[0].parent
    for path in month.glob("*.md"):
        path.unlink()
    archive.load(cfg, workers=1)
    gone = month.relative_to(cfg.articles).as_posix()
    assert gone in folders and set(parsecache.read(cfg)) == set(folders) - {gone}
    assert parsecache.read(cfg, [gone, "nowhere"]) == {}


def test_serve_hints_are_followed_and_a_folder_event_means_a_full_walk(tmp_path: Path) -> None:
    cfg, paths = archive_of(tmp_path)
    memory = archive.ParsedFiles()
    archive.load(cfg, memory)
    added = write(cfg.articles / "2024/01/new.md", article(9999))
    write(paths[3], article(3, "Changed."))
    paths[4].unlink()
    hinted = archive.load(
        cfg, memory, changed={added, paths[3], paths[4], cfg.root / "digest.toml"}
    )
    assert summary(hinted) == summary(archive.load(cfg, archive.ParsedFiles()))
    # A file the hint does not name stays as it was last seen: the hint is trusted...
    write(paths[5], article(5, "Unannounced."))
    os.utime(paths[5], ns=(1, 1))
    quiet = archive.load(cfg, memory, changed=set())
    assert next(s for s in quiet.stored if s.article.id == "id-5").body_key == (
        archive.body_key("Body of article 5.")
    )
    # ...but a folder that came or went means the folder is walked again.
    moved = cfg.articles / "2025"
    write(moved / "01/late.md", article(10_000))
    walked = archive.load(cfg, memory, changed={moved})
    assert summary(walked) == summary(archive.load(cfg, archive.ParsedFiles()))
    assert any(s.article.id == "id-10000" for s in walked.stored)


def test_a_file_gone_before_its_page_is_rendered_is_a_clear_error(tmp_path: Path) -> None:
    cfg, paths = archive_of(tmp_path)
    stored = archive.load(cfg, archive.ParsedFiles()).stored
    gone = next(s for s in stored if s.file == str(paths[0]))
    paths[0].unlink()
    with pytest.raises(ContentError) as caught:
        gone.body()
    assert "a0.md: cannot read" in str(caught.value.problems[0])


def test_a_body_that_changed_since_it_was_read_is_not_rendered(tmp_path: Path) -> None:
    cfg, paths = archive_of(tmp_path)
    stored = archive.load(cfg, archive.ParsedFiles()).stored
    first = next(s for s in stored if s.file == str(paths[0]))
    write(paths[0], article(0, "Saved while the site was being built."))
    with pytest.raises(ContentError) as caught:
        first.body()
    assert "changed while the site was being built" in str(caught.value.problems[0])


def test_serve_memory_starts_over_when_the_settings_move_the_articles(tmp_path: Path) -> None:
    cfg, _ = archive_of(tmp_path)
    memory = archive.ParsedFiles()
    archive.load(cfg, memory)
    write(cfg.root / "other/b1.md", article(20_001))
    toml = cfg.root / "digest.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("[[topics]]", 'articles = "other"\n[[topics]]', 1)
    )
    moved = config.load(cfg.root)
    loaded = archive.load(moved, memory, changed={toml})
    assert [s.article.id for s in loaded.stored] == ["id-20001"]


def test_the_articles_folder_itself_in_a_hint_means_a_full_walk(tmp_path: Path) -> None:
    cfg, _ = archive_of(tmp_path)
    memory = archive.ParsedFiles()
    archive.load(cfg, memory)
    cfg.articles.rename(cfg.root / "old")
    write(cfg.articles / "x.md", article(30_000))
    loaded = archive.load(cfg, memory, changed={cfg.articles})
    assert [s.article.id for s in loaded.stored] == ["id-30000"]


def test_a_front_matter_that_refers_to_itself_is_reported_not_stored(tmp_path: Path) -> None:
    cfg, _ = archive_of(tmp_path)
    write(
        cfg.articles / "2024/01/loop.md",
        "---\ntitle: Loop\ndate: 2024-01-01\nloop: &x [*x]\n---\n\nText.\n",
    )
    for _ in range(2):  # the second load goes through the cache
        loaded = archive.load(cfg, workers=1)
        assert not any(s.article.title == "Loop" for s in loaded.stored)
        found = [(p.line, p.message) for p in loaded.problems if "loop" in str(p.path)]
        assert found == [(4, "front matter uses a YAML anchor or alias (&name, *name)")]


def test_a_file_serve_is_told_of_is_read_again_whatever_its_stat(tmp_path: Path) -> None:
    """Two saves in one tick of the file system's clock, of the same size."""
    root = project(tmp_path / "p")
    target = write(
        root / "content/articles/a.md", "---\ntitle: Alpha\ndate: 2024-01-02\n---\n\nText.\n"
    )
    memory = Memory(kept=True)
    build.build(root, memory=memory, workers=1)
    before = target.stat()
    target.write_text(target.read_text("utf-8").replace("Alpha", "Omega"), encoding="utf-8")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    build.build(root, memory=memory, workers=1, changed={target})
    page = next((root / "site").rglob("a/index.html")).read_text("utf-8")
    assert "Omega" in page
