"""The output folder: replaced atomically, byte-stable, with readable and unique URLs."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from digest import archive, build, output
from digest.render.plan import Job
from tests.conftest import Run, project, snapshot, write


def test_a_crash_while_writing_leaves_the_old_site(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest("build", "-C", example)
    before = snapshot(example / "site")
    (example / "digest.toml").write_text(
        (example / "digest.toml").read_text("utf-8").replace("Russia–China Watch", "Renamed"),
        encoding="utf-8",
    )
    written = []
    real = output._write

    def failing_write(path: Path, data: bytes) -> None:
        written.append(path)
        if len(written) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of writing
        real(path, data)

    monkeypatch.setattr(output, "_write", failing_write)
    result = digest("build", "-C", example)
    assert result.code == 130
    assert "interrupted" in result.err
    assert snapshot(example / "site") == before
    assert sorted(p.name for p in example.iterdir()) == [
        ".digest",
        "content",
        "digest.toml",
        "site",
    ]

    monkeypatch.undo()
    assert digest("build", "-C", example).code == 0
    assert "Renamed" in (example / "site" / "index.html").read_text("utf-8")


def test_hidden_entries_of_the_output_folder_survive(example: Path, digest: Run) -> None:
    assert digest("build", "-C", example).code == 0
    write(example / "site" / ".git" / "HEAD", "ref: refs/heads/gh-pages\n")
    write(example / "site" / "stale.html", "old page")
    (example / ".digest" / "pages.sqlite").unlink()  # no record: a full build and a swap
    assert digest("build", "-C", example).code == 0
    assert (example / "site" / ".git" / "HEAD").read_text("utf-8") == "ref: refs/heads/gh-pages\n"
    assert not (example / "site" / "stale.html").exists()


def test_unchanged_files_keep_their_timestamps(example: Path, digest: Run) -> None:
    digest("build", "-C", example)
    before = snapshot(example / "site")
    write(
        example / "content" / "articles" / "extra.md",
        "---\ntitle: Extra\ndate: 2020-01-01\n---\nAn old, unrelated note.\n",
    )
    digest("build", "-C", example)
    after = snapshot(example / "site")
    css = "static/style.css"
    assert after[css] == before[css]
    assert after["index.html"][1] != before["index.html"][1]


def test_publish_refuses_paths_outside(tmp_path: Path) -> None:
    for path in ("../escape.html", "/etc/x", "a/../../b", "a\\b"):
        with pytest.raises(ValueError, match="outside the output folder"):
            output.publish(tmp_path / "site", [Job(path, "k", lambda: b"x")], tmp_path / ".digest")
    assert not (tmp_path / "escape.html").exists()


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Россия и Китай подписали соглашение", "rossiia-i-kitai-podpisali-soglashenie"),
        ("中俄关系进入新阶段", "zhong-e-guan-xi-jin-ru-xin-jie-duan"),
        ("Ελλάδα και Κίνα", "ellada-kai-kina"),
    ],
)
def test_non_latin_titles_give_readable_urls(
    tmp_path: Path, digest: Run, title: str, slug: str
) -> None:
    root = project(tmp_path)
    write(root / "content" / "inbox" / "2024-03-01-note.md", f"# {title}\n\nТекст 文本 text.\n")
    assert digest("build", "-C", root).code == 0
    page = root / "site" / "2024" / "03" / slug / "index.html"
    assert page.is_file(), sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html"))
    assert title in page.read_text("utf-8")


def test_same_titles_get_unique_urls(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(root / "content" / "inbox" / "2024-03-01-a.md", "# Same title\n\nFirst text.\n")
    write(root / "content" / "inbox" / "2024-03-02-b.md", "# Same title\n\nSecond text.\n")
    write(root / "content" / "inbox" / "2024-03-03-c.md", "# 🙂🙂\n\nEmoji title.\n")
    assert digest("build", "-C", root).code == 0
    pages = sorted(p.parent.name for p in (root / "site" / "2024" / "03").glob("*/index.html"))
    assert len(pages) == 3
    assert "same-title" in pages
    assert all(p and p != "-" for p in pages)


def assert_as_cold(root: Path) -> None:
    """The site's bytes are those of a cold build of a copy without site/ and .digest/."""
    twin = root.parent / "twin"
    shutil.copytree(root, twin, ignore=shutil.ignore_patterns("site", ".digest"))
    build.build(twin, workers=1)
    assert {k: v[1] for k, v in snapshot(root / "site").items()} == {
        k: v[1] for k, v in snapshot(twin / "site").items()
    }


def test_a_crash_after_the_moves_before_the_record_of_keys_is_not_trusted(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new files are in, without their new keys: the next build must not trust the old."""
    build.build(example, workers=1)
    note = next((example / "content" / "articles").rglob("editor-s-note*.md"))
    original = note.read_text("utf-8")
    assert "date: 2022-09-20 " in original
    note.write_text(original.replace("date: 2022-09-20 ", "date: 2022-09-10 "), "utf-8")
    save = output._save

    def cut(state: Path, out: Path, keys: dict[str, str], gone: list[str], **how: Any) -> None:
        if any(keys.values()):  # the moved files' new keys; before the moves, they had none
            raise SystemExit("power cut")
        save(state, out, keys, gone, **how)

    with monkeypatch.context() as patch:
        patch.setattr(output, "_save", cut)
        with pytest.raises(SystemExit):
            build.build(example, workers=1)
    note.write_text(original, "utf-8")  # back to what the record of keys describes
    build.build(example, workers=1)
    assert_as_cold(example)


def test_a_damaged_record_of_keys_is_started_again(example: Path) -> None:
    build.build(example, workers=1)
    record = example / ".digest" / "pages.sqlite"
    record.write_bytes(b"not a database")
    note = next((example / "content" / "articles").rglob("*.md"))
    note.write_text(note.read_text("utf-8") + "\nA line more.\n", "utf-8")
    build.build(example, workers=1)
    assert_as_cold(example)
    assert build.build(example, workers=1).written == 0  # and the record is whole again


def test_a_record_of_keys_found_damaged_mid_rebuild_is_not_left_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started again with only this build's keys, it would hide the other pages from the
    next build, which would then never delete them."""
    root = project(tmp_path / "p")
    for n in range(4):
        write(root / f"content/articles/a{n}.md", f"---\nid: a{n}\ntitle: A {n}\n"
              f"date: 2024-01-0{n + 1}T10:00:00Z\n---\n\nText {n}.\n")  # fmt: skip
    build.build(root, workers=1)
    keys, damage = output._write_keys, [1]

    def damaged(db: sqlite3.Connection, *, whole: bool, **rest: Any) -> None:
        if not whole and damage:  # found damaged once; started again, it works
            damage.pop()
            error = sqlite3.DatabaseError("database disk image is malformed")
            error.sqlite_errorname = "SQLITE_CORRUPT"
            raise error
        keys(db, whole=whole, **rest)

    with monkeypatch.context() as patch:
        patch.setattr(output, "_write_keys", damaged)
        write(root / "content/articles/a1.md", "---\nid: a1\ntitle: A one\n"
              "date: 2024-01-02T10:00:00Z\n---\n\nText 1.\n")  # fmt: skip
        build.build(root, workers=1, full=True)  # --full: no resume to fall back from
    (root / "content/articles/a3.md").unlink()
    build.build(root, workers=1)
    assert_as_cold(root)


def test_a_broken_link_among_the_articles_is_reported(example: Path) -> None:
    (example / "content" / "articles").mkdir(parents=True, exist_ok=True)
    (example / "content" / "articles" / "gone.md").symlink_to("nowhere.md")
    report = build.build(example, workers=1)
    assert any("gone.md" in str(p) and "cannot read" in str(p) for p in report.problems)


def test_a_crash_while_moving_files_in_is_finished_by_the_next_run(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest("build", "-C", example)
    note = next((example / "content" / "articles").rglob("editor-s-note*.md"))
    note.write_text(
        note.read_text("utf-8").replace("What to watch next", "What to watch now"), "utf-8"
    )
    moved: list[Path] = []
    real = Path.replace

    def crash_after_one(self: Path, target: str | Path) -> Path:
        if ".site.stage" in str(self) and ".journal" not in str(self):
            if moved:
                raise SystemExit("power cut")  # the process dies between two moves
            moved.append(self)
        return real(self, target)

    monkeypatch.setattr(Path, "replace", crash_after_one)
    with pytest.raises(SystemExit):
        build.build(example, workers=1)
    monkeypatch.undo()
    assert (example / ".site.stage" / ".journal.json").is_file()
    digest("build", "-C", example)
    assert not (example / ".site.stage").exists()
    assert_as_cold(example)


def test_output_is_the_same_whatever_the_workers_and_the_cache(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_FORK_FROM", 1)  # a site this small renders in one process
    forked: list[int] = []
    real = output._render_forked

    def counted(*args: Any, **kwargs: Any) -> int:
        forked.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(output, "_render_forked", counted)
    build.build(example, workers=2)
    assert forked
    first = {k: v[1] for k, v in snapshot(example / "site").items()}
    shutil.rmtree(example / ".digest")
    shutil.rmtree(example / "site")
    build.build(example, workers=1)
    assert {k: v[1] for k, v in snapshot(example / "site").items()} == first


def test_a_build_with_no_changed_input_reads_nothing_else(
    example: Path, digest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = digest("build", "-C", example)
    assert first.code == 0
    with monkeypatch.context() as patch:
        patch.setattr(archive, "load", lambda *a, **k: pytest.fail("archive read"))
        result = digest("build", "-C", example)
    assert result.code == 0
    assert "2 articles in 2 topics; site unchanged" in result.out
    note = next((example / "content" / "articles").rglob("editor-s-note*.md"))
    note.write_text(
        note.read_text("utf-8").replace("What to watch next", "What to watch now"), "utf-8"
    )
    result = digest("build", "-C", example)
    assert "wrote" in result.out
    page = next((example / "site").rglob("editor-s-note*/index.html"))
    assert "What to watch now" in page.read_text("utf-8")


def test_files_deleted_from_the_site_come_back(example: Path, digest: Run) -> None:
    """A build trusts site/ as it left it, but sees a folder or a listing deleted by hand;
    --full checks every file."""
    digest("build", "-C", example)
    listing = example / "site" / "topics" / "index.html"
    listing.unlink()
    assert digest("build", "-C", example).code == 0
    assert listing.is_file()
    folder = next((example / "site").rglob("editor-s-note*/"))
    shutil.rmtree(folder)
    assert digest("build", "-C", example).code == 0
    assert (folder / "index.html").is_file()
    page = next((example / "site").rglob("editor-s-note*/index.html"))
    page.unlink()  # inside its own folder: not seen without --full
    assert digest("build", "-C", example).code == 0
    assert not page.is_file()
    result = digest("build", "--full", "-C", example)
    assert result.code == 0
    assert "wrote 1 of" in result.out
    assert page.is_file()
