"""Topic rules: whole words, all groups, title weight, exclusions, threshold; front matter wins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digest.config import TopicRule
from digest.group import assign, group, judge
from digest.model import Article
from tests.conftest import Run, project, read_page, write

RULE = TopicRule(
    title="Russia–China relations",
    slug="russia-china",
    require=(("Russia", "Moscow", "Kremlin"), ("China", "Beijing", "Xi Jinping")),
    exclude=("quiz",),
    threshold=4,
)


def article(title: str, body: str, topics: tuple[str, ...] | None = None) -> Article:
    return Article(
        id="x", title=title, published=datetime(2024, 1, 1, tzinfo=UTC), body=body, topics=topics
    )


def test_every_group_must_match() -> None:
    assert not judge(article("Moscow news", "Moscow Moscow Moscow Kremlin"), RULE).matches
    assert judge(article("Moscow and Beijing", "talks"), RULE).matches


def test_whole_words_only() -> None:
    verdict = judge(article("Russian Chinese", "Russians and Chinatown, Moscowitz."), RULE)
    assert verdict.hits == ({}, {})
    assert not verdict.matches


def test_title_weighs_more_than_body() -> None:
    in_title = judge(article("Russia and China", "nothing"), RULE)
    in_body = judge(article("Nothing", "Russia and China"), RULE)
    assert in_title.score == 6 and in_title.matches
    assert in_body.score == 2 and not in_body.matches


def test_multiword_terms_and_case() -> None:
    verdict = judge(
        article("Talks", "XI JINPING met the kremlin team in moscow and\nBeijing."), RULE
    )
    assert verdict.hits == ({"Moscow": 1, "Kremlin": 1}, {"Beijing": 1, "Xi Jinping": 1})
    assert verdict.matches


def test_acronyms_match_only_in_capitals() -> None:
    rule = TopicRule(title="US", slug="us", require=(("US",),))
    assert judge(article("US sanctions", ""), rule).matches
    assert not judge(article("Tell us more", ""), rule).matches


def test_exclusion_keeps_an_article_out() -> None:
    verdict = judge(article("Russia and China quiz", "Moscow Beijing"), RULE)
    assert verdict.excluded_by == ("quiz",)
    assert not verdict.matches


def test_front_matter_topics_win_and_unknown_ones_get_a_page() -> None:
    named = assign(article("Russia and China", "Moscow", topics=("Arctic",)), (RULE,))
    assert named.topics == ("Arctic",)
    ruled = assign(article("Russia and China", "Moscow"), (RULE,))
    assert ruled.topics == ("Russia–China relations",)
    _, topics = group([named, ruled], (RULE,))
    assert [(t.title, t.slug, len(t.articles)) for t in topics] == [
        ("Russia–China relations", "russia-china", 1),
        ("Arctic", "arctic", 1),
    ]


def test_front_matter_names_match_rules_by_title_or_slug() -> None:
    a = article("A", "", topics=("russia–china relations",))
    b = article("B", "", topics=("russia-china",))
    articles, topics = group([a, b], (RULE,))
    assert [x.topics for x in articles] == [("Russia–China relations",)] * 2
    assert len(topics[0].articles) == 2


def test_topic_named_only_in_front_matter_is_built(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    write(
        root / "content" / "articles" / "ice.md",
        "---\ntitle: Ice routes\ndate: 2024-01-01\ntopics: [Arctic shipping]\n---\nMoscow and Beijing.\n",
    )
    assert digest("build", "-C", root).code == 0
    page = read_page(root / "site" / "topics" / "arctic-shipping" / "index.html")
    assert "Ice routes" in page.text
    article_page = read_page(root / "site" / "ice" / "index.html")
    assert "Russia–China relations" not in article_page.text  # front matter won


def test_explain_says_why(tmp_path: Path, digest: Run) -> None:
    root = project(tmp_path)
    path = write(
        root / "note.md", "---\ntitle: Moscow talks\ndate: 2024-01-01\n---\nChina agreed.\n"
    )
    result = digest("topics", "-C", root, "--explain", path)
    assert result.code == 0, result.err
    assert "Russia–China relations: yes (score 4, threshold 1)" in result.out
    assert "group 1: Moscow 3" in result.out
    assert "group 2: China 1" in result.out


def test_without_rules_no_body_is_read_to_assign_topics() -> None:
    article = Article(id="1", title="T", published=datetime(2024, 1, 1, tzinfo=UTC), body="")

    def unread(article: Article) -> str:
        raise AssertionError("the body was read")

    assert assign(article, (), unread).topics == ()
