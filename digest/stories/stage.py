"""The build's stories stage: the archive's articles → their stories, placing only what changed.

The clustering `State` lives in the build's memory; ``digest build`` reads it
from ``.digest/stories.pickle`` and writes it back whole. Each article is placed
again only when what stories read of it changed (title, the body's lead, date,
outlet, address, language, ``story:`` pin); deleted articles are removed. Deleting the
file is safe: every article is then placed in one call, taken by date and id,
so the same archive gives the same stories whatever order it was read in.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from digest import atomic
from digest.config import Config
from digest.config import Stories as Settings
from digest.model import Article
from digest.stories import _STORY_ID
from digest.stories.cluster import Report, State
from digest.stories.vectors import lead

FILE = "stories.pickle"
_FORMAT = 4
RELATED = 4
"""Related articles from other stories on an article's page."""


class Bodies(Protocol):
    def text(self, article: Article) -> str: ...
    def key(self, article: Article) -> str: ...


@dataclass
class Kept:
    """The clustering state and, for each article placed, keys of what it was placed as."""

    settings: Settings
    state: State
    versions: dict[str, str] = field(default_factory=dict)
    """Of the article with its whole body (`_version`): the same, nothing is read."""
    placed: dict[str, str] = field(default_factory=dict)
    """Of what placing it read (`placed_as`): an edit past the lead changes only `versions`."""


class Stories(NamedTuple):
    """What pages show of the stories: plain data and article ids."""

    of: dict[str, str]
    """Each article's story id."""
    members: dict[str, tuple[str, ...]]
    """Each story's articles, oldest first (date, then id)."""
    copies: dict[str, str]
    """Each syndicated copy, and the report it repeats."""
    merged: dict[str, str]
    """Story ids merged away that had a page, and the story they went into."""

    def paged(self) -> list[str]:
        """The stories with a page: two reports or more (copies count), by id."""
        return sorted(s for s, m in self.members.items() if len(m) > 1)


def pin(article: Article) -> str:
    """The story id an article's front matter pins it to (``story:``), or ""."""
    value = article.extra.get("story")
    return value if isinstance(value, str) and _STORY_ID.fullmatch(value) else ""


def _version(article: Article, body_key: str) -> str:
    """A key of the article with its body's key: unchanged, its body need not be read."""
    return _key(_parts(article, body_key))


def load(cfg: Config) -> Kept | None:
    """The state saved by the last build, or None (absent, unreadable, other settings)."""
    path = cfg.state / FILE
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError,
                             ImportError, TypeError, ValueError):  # fmt: skip
        with path.open("rb") as handle:
            found = pickle.load(handle)  # noqa: S301 - digest's own file in .digest/
        if isinstance(found, tuple) and found[0] == _FORMAT and isinstance(found[1], Kept):
            return found[1]
    return None


def save(cfg: Config, kept: Kept) -> None:
    """Write the state whole (`digest.atomic`): a crash leaves the old one or the new one."""
    # Dumped into the file, never whole in memory: 200 MB at 100,000 articles.
    with atomic.writing(cfg.state / FILE) as handle:
        pickle.dump((_FORMAT, kept), handle, protocol=pickle.HIGHEST_PROTOCOL)


def update(
    kept: Kept | None,
    settings: Settings,
    articles: Iterable[Article],
    bodies: Bodies,
    *,
    everything: bool = True,
    workers: int = 1,
) -> tuple[Kept, Stories, bool]:
    """Place the new and changed articles, remove the deleted; the stories, and whether
    anything changed. Unless ``everything``, ``articles`` are only some of the archive's,
    and none is removed."""
    if kept is None or kept.settings != settings:
        kept = Kept(settings, State(settings))
    by_id = {a.id: a for a in articles}
    versions = {i: _version(a, bodies.key(a)) for i, a in by_id.items()}
    gone = sorted(kept.versions.keys() - versions.keys()) if everything else []
    edited = sorted(i for i, v in versions.items() if kept.versions.get(i) != v)
    reports = [_report(by_id[i], lead(bodies.text(by_id[i]))) for i in edited]
    keys = {r.id: _key(_parts(by_id[r.id], r.text)) for r in reports}
    placed = [r for r in reports if kept.placed.get(r.id) != keys[r.id]]
    if gone:
        kept.state.remove(gone)
    if placed:
        kept.state.add(placed, workers)
    for i in gone:
        del kept.versions[i]
        kept.placed.pop(i, None)
    kept.versions.update((i, versions[i]) for i in edited)
    kept.placed.update(keys)
    # An edit past the lead changes only the versions: kept in memory, and saved with the
    # next placement (until then, each build reads that body again to find it unchanged).
    return kept, view(kept.state, by_id), bool(gone or placed)


def _report(article: Article, text: str) -> Report:
    """What placing an article reads of it, given its ``text``: its lead, not the whole
    body, which a call's thousands of reports would hold at once."""
    return Report(
        id=article.id,
        title=article.title,
        text=text,
        date=article.published.date(),
        source=article.source,
        url=article.url,
        language=str(article.extra.get("language", "")),
        pin=pin(article),
    )


def placed_as(article: Article, bodies: Bodies) -> str:
    """A key of what placing the article reads: while it stays the same, so does its place
    (`Kept.placed`; digest.rebuild keeps it in its plan, to resume without the state)."""
    return _key(_parts(article, lead(bodies.text(article))))


def _parts(article: Article, text: str) -> tuple[str, ...]:
    """What `_report` reads of an article, as text, with ``text`` for its body."""
    return (
        article.title,
        text,
        article.published.date().isoformat(),
        article.source,
        article.url,
        str(article.extra.get("language", "")),
        pin(article),
    )


def _key(parts: tuple[str, ...]) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def view(state: State, by_id: Mapping[str, Article]) -> Stories:
    """What pages need of the state, for the articles of this build."""
    of = {i: s for i, s in state.assignment().items() if i in by_id}
    grouped: dict[str, list[str]] = {}
    for i, s in of.items():
        grouped.setdefault(s, []).append(i)
    members = {
        s: tuple(sorted(ids, key=lambda i: (by_id[i].published, i))) for s, ids in grouped.items()
    }
    copies = {c: o for c, o in state.copies().items() if c in by_id and o in by_id}
    merged = {}
    for old in state.merged:
        new = state.resolve(old)
        if len(members.get(new, ())) > 1 and old not in members:
            merged[old] = new
    return Stories(of, members, copies, merged)


def related(stories: Stories, articles: list[Article]) -> dict[str, tuple[str, ...]]:
    """For each article, up to `RELATED` articles of other stories nearest it in its first
    listing (its first topic, or the articles without one): the one before, the one after,
    and so on. ``articles`` are newest first."""
    listings: dict[str, list[str]] = {}
    for a in articles:
        listings.setdefault(a.topics[0] if a.topics else "", []).append(a.id)
    found: dict[str, tuple[str, ...]] = {}
    for ids in listings.values():
        for n, own in enumerate(ids):
            story = stories.of.get(own)
            picked: list[str] = []
            seen = {story}
            for step in range(1, len(ids)):
                for m in (n - step, n + step):
                    if 0 <= m < len(ids) and stories.of.get(ids[m]) not in seen:
                        seen.add(stories.of.get(ids[m]))
                        picked.append(ids[m])
                if len(picked) >= RELATED or step > 50:
                    break
            found[own] = tuple(picked[:RELATED])
    return found
