"""Topics: which articles belong together, by the readable rules in digest.toml.

A rule names term groups; an article matches when every group has a whole-word
hit and the score reaches the threshold. A hit counts 1 in the body and
`TITLE_WEIGHT` in the title. Terms are case-insensitive, except acronyms
written in capitals (``US``), which match only in capitals. Topics written in
an article's front matter always win over rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from digest.config import TopicRule
from digest.model import Article, mint_id


@lru_cache(maxsize=4096)  # topic names recur on every build, and every rebuild of digest serve
def _slug(name: str) -> str:
    from slugify import slugify  # only for topics named in front matter, not in digest.toml

    return str(slugify(name))


TITLE_WEIGHT = 3


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic page: its articles, newest first."""

    title: str
    slug: str
    description: str
    articles: Sequence[Article]
    """Newest first. A tuple, or in digest.rebuild records read when a page needs them."""


class Verdict(NamedTuple):
    """Why a rule does or does not match an article, for ``digest topics --explain``."""

    rule: TopicRule
    hits: tuple[dict[str, int], ...]
    """Per term group, the weighted hits of each term found."""
    excluded_by: tuple[str, ...]
    score: int

    @property
    def matches(self) -> bool:
        return (
            bool(self.hits)
            and all(self.hits)
            and not self.excluded_by
            and self.score >= self.rule.threshold
        )


@lru_cache(maxsize=1024)
def _pattern(term: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in term.split())
    acronym = term.isupper() and len(term) > 1
    return re.compile(rf"(?<!\w){words}(?!\w)", 0 if acronym else re.IGNORECASE)


def _hits(term: str, title: str, body: str) -> int:
    pattern = _pattern(term)
    return TITLE_WEIGHT * len(pattern.findall(title)) + len(pattern.findall(body))


def mentions(article: Article, terms: tuple[str, ...]) -> tuple[str, ...]:
    """The terms that appear in the article's title or body."""
    return tuple(t for t in terms if _hits(t, article.title, article.body))


def judge(article: Article, rule: TopicRule) -> Verdict:
    """Apply one rule to one article."""
    hits = tuple(
        {term: n for term in group if (n := _hits(term, article.title, article.body))}
        for group in rule.require
    )
    excluded = tuple(t for t in rule.exclude if _hits(t, article.title, article.body))
    return Verdict(rule, hits, excluded, sum(sum(h.values()) for h in hits))


def assign(
    article: Article, rules: tuple[TopicRule, ...], body: Callable[[Article], str] | None = None
) -> Article:
    """Give the article its topics by the rules, unless its front matter names them.

    ``body`` fetches the body of a record that does not carry it (one from the archive).
    """
    if article.topics is not None:
        return article
    if not rules:  # nothing to judge: no need to read the body
        return replace(article, topics=())
    full = replace(article, body=body(article)) if body else article
    return replace(article, topics=tuple(r.title for r in rules if judge(full, r).matches))


def group(
    articles: list[Article], rules: tuple[TopicRule, ...]
) -> tuple[list[Article], list[Topic]]:
    """Topic pages for the configured topics, then for topics named only in front matter.

    Returns the articles with their topic names made canonical (``war in
    ukraine`` → ``War in Ukraine``), and the topics. ``articles`` must be sorted
    newest first; each topic keeps that order.
    """
    by_name = {r.title.casefold(): r.title for r in rules} | {r.slug: r.title for r in rules}
    members: dict[str, list[Article]] = {r.title: [] for r in rules}
    canonical = []
    spelled: dict[tuple[str, ...], tuple[str, ...]] = {}  # few distinct lists among many articles
    for article in articles:
        given = article.topics or ()
        names = spelled.get(given)
        if names is None:
            names = spelled[given] = tuple(
                dict.fromkeys(
                    by_name.get(n.casefold())
                    or by_name.get(_slug(n))
                    or by_name.setdefault(n.casefold(), n)
                    for n in given
                )
            )
        if names != article.topics:
            article = replace(article, topics=names)
        canonical.append(article)
        for name in names:
            members.setdefault(name, []).append(article)
    topics = [Topic(r.title, r.slug, r.description, tuple(members.pop(r.title))) for r in rules]
    slugs = {r.slug for r in rules}
    for title in sorted(members, key=str.casefold):
        slug = _slug(title) or f"topic-{mint_id(title)[:8]}"
        if slug in slugs:
            slug = f"{slug}-{mint_id(title)[:8]}"
        slugs.add(slug)
        topics.append(Topic(title, slug, "", tuple(members[title])))
    return canonical, topics
