"""The command line as a user meets it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, project, write

SEED = REPO / "content" / "inbox" / "2022-09-19-upi-russia-china-relations.txt"


def test_clean_prints_the_article_with_front_matter(digest: Run) -> None:
    result = digest("clean", "-C", REPO, SEED)
    assert result.code == 0, result.err
    head, body = result.out.split("\n---\n\n", 1)
    assert head.startswith("---\n")
    assert (
        "title: Russia, China strengthen relations with high-level meetings amid war in Ukraine"
        in head
    )
    assert "source: UPI" in head
    assert "- Russia–China relations" in head
    assert body.startswith("A Russian security delegation is in China this week")
    assert "Advertisement" not in body
    assert "year 2022 inferred" in result.err


def test_clean_works_outside_a_project(tmp_path: Path, digest: Run) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>A page</title></head><body><article><h1>A page</h1>"
        + "<p>This paragraph is long enough to be taken as the main text of the page by the extractor.</p>"
        * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    result = digest("clean", "-C", tmp_path, page)
    assert result.code == 0, result.err
    assert "main text of the page" in result.out


def test_clean_rejects_unknown_files(tmp_path: Path, digest: Run) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    result = digest("clean", "-C", tmp_path, tmp_path / "x.pdf")
    assert result.code == 1
    assert "not a .txt, .html or .md file" in result.err


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "digest", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("digest ")


def test_the_command_says_all_it_printed_and_gives_its_code(example: Path, tmp_path: Path) -> None:
    """The command exits without Python's teardown: what it wrote to a pipe must arrive."""
    command = [sys.executable, "-m", "digest", "build", "-C"]
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    built = subprocess.run(
        [*command, example], capture_output=True, text=True, check=False, env=buffered
    )
    assert built.returncode == 0, built.stderr
    assert re.search(r"^\d+ articles in \d+ topics; wrote \d+ of \d+ files$", built.stdout, re.M)
    broken = write(tmp_path / "broken" / "digest.toml", "title = [\n")
    failed = subprocess.run([*command, broken.parent], capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert "digest.toml" in failed.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_summary_that_cannot_be_written_is_not_a_success(example: Path) -> None:
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with Path("/dev/full").open("w") as full:  # every write: no space left on device
        result = subprocess.run(
            [sys.executable, "-m", "digest", "build", "-C", example],
            stdout=full,
            stderr=subprocess.DEVNULL,
            check=False,
            env=buffered,
        )
    assert result.returncode == 120


def test_unknown_command_exits_2_with_usage(digest: Run) -> None:
    result = digest("publish")
    assert result.code == 2
    assert "usage: digest" in result.err


def test_options_work_before_and_after_the_command(example: Path, digest: Run) -> None:
    before = digest("-C", example, "build")
    assert before.code == 0, before.err
    assert (example / "site" / "index.html").is_file()
    after = digest("topics", "-C", example)
    assert after.code == 0, after.err
    assert "Russia–China relations" in after.out


def test_digest_stories_on_wrong_files_says_what_is_wrong_in_a_few_lines(
    digest: Run, tmp_path: Path
) -> None:
    files = {
        "array.jsonl": "[" + ",".join(f'{{"id": "{i}", "title": "t", "text": "x"}}' for i in range(50)) + "]",
        "deep.jsonl": '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n",
        "surrogate.jsonl": '{"id": "\\ud800", "title": "t", "text": "x"}\n',
        "many.jsonl": "{bad\n" * 500,
    }  # fmt: skip
    for name, text in files.items():
        write(tmp_path / name, text)
    (tmp_path / "binary.jsonl").write_bytes(b'{"id": "\xd0", "title": "t", "text": "x"}\n')
    expected = {
        "array.jsonl": ":1: a JSON array, not JSON lines — write one object a line: jq -c",
        "deep.jsonl": ":1: maximum recursion depth exceeded",
        "surrogate.jsonl": ":1: 'id' is not valid Unicode",
        "many.jsonl": ": and 490 more bad lines — fix the ones above first",
        "binary.jsonl": ":1: not UTF-8 — save the file as UTF-8",
    }
    for name, message in expected.items():
        result = digest("stories", tmp_path / name, "-C", tmp_path)
        assert result.code == 1, name
        assert message in result.err, (name, result.err)
        assert "Traceback" not in result.err
        assert len(result.err.splitlines()) <= 11, name


def test_explaining_a_broken_article_names_its_problem(digest: Run, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    broken = write(
        root / "content" / "articles" / "2024" / "bad.md", "---\ntitle: [unclosed\n---\n"
    )
    result = digest("stories", "-C", root, "--explain", broken)
    assert result.code == 1
    assert "bad.md:2: front matter is not valid YAML" in result.err, result.err


def test_digest_stories_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    lines = "".join(
        f'{{"id": "{i}", "title": "Talks {i} in Moscow", "text": "Russia and China met."}}\n'
        for i in range(3000)
    )
    path = write(tmp_path / "many.jsonl", lines)
    command = [sys.executable, "-m", "digest", "stories", str(path), "-C", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout and process.stderr
        process.stdout.read(10)
        process.stdout.close()
        error = process.stderr.read().decode()
        assert process.wait() == 0, error
    assert "Traceback" not in error
