"""Text dumps in several outlets' styles: each fixture carries its expectation beside it."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from digest.clean import clean_text

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
CASES = sorted(p.stem for p in DUMPS.glob("*.txt"))


def paragraphs(markdown: str) -> list[str]:
    return [p.replace("\\", "") for p in markdown.split("\n\n") if p.strip()]


@pytest.mark.parametrize("name", CASES)
def test_dump_is_cleaned_as_expected(name: str) -> None:
    expect = tomllib.loads((DUMPS / f"{name}.expect.toml").read_text(encoding="utf-8"))
    text = (DUMPS / f"{name}.txt").read_text(encoding="utf-8")
    result = clean_text(text, name_date=expect.get("name_date"), saved=date(2025, 1, 1))

    assert result.title == expect["title"]
    assert result.source == expect.get("source", "")
    assert result.published == expect["date"]
    assert list(result.authors) == expect.get("authors", [])
    body = paragraphs(result.body)
    assert len(body) == expect["paragraphs"], body
    assert body[0].startswith(expect["first"])
    assert body[-1].endswith(expect["last"])
    for junk in expect["absent"]:
        assert junk not in result.body, junk
    if "caption" in expect:
        assert result.image is not None
        assert result.image.caption == expect["caption"]
        assert result.image.credit == expect["credit"]
    assert result.summary
    assert body[0].startswith(result.summary.removesuffix("…"))
