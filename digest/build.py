"""The build: load config → collect → clean → persist → group → render → write.

Articles are gathered in memory; pages are rendered into a folder beside the
output and moved in only once all of them are written (digest.output), so the
output folder never holds half a build.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from digest import config
from digest.errors import ContentError, Problem

if TYPE_CHECKING:
    from digest import archive
    from digest.sources import feeds


class Tally(NamedTuple):
    """New, updated and unchanged articles from one source (the inbox, or a feed)."""

    name: str
    new: int
    updated: int
    unchanged: int
    status: str = ""
    """For a feed: fetched, not modified, error or gone."""
    reason: str = ""

    def __str__(self) -> str:
        counts = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.status in ("", "fetched"):
            return f"{self.name}: {counts}" + (f" ({self.reason})" if self.reason else "")
        if self.status == "not modified":
            return f"{self.name}: not modified"
        return f"{self.name}: {self.status}: {self.reason}" + (
            f" (last good copy: {counts})" if self.new + self.updated + self.unchanged else ""
        )


class Report(NamedTuple):
    """What a build did, for the summary."""

    articles: int
    topics: int
    sources: tuple[Tally, ...]
    """The inbox first, then each feed."""
    pages: int
    """Files the site has."""
    written: int
    """Files this build wrote or removed: 0 when the site was already up to date."""
    problems: tuple[Problem, ...]
    """Files that could not be read or parsed, and were skipped."""
    notes: tuple[Problem, ...]
    """Things worth knowing that are not errors (an inferred year, a kept hand edit)."""


def build(
    root: Path,
    *,
    strict: bool = False,
    offline: bool = False,
    render_site: bool = True,
    now: datetime | None = None,
    workers: int | None = None,
    memory: archive.Memory | None = None,
    changed: Collection[Path] | None = None,
    full: bool = False,
) -> Report:
    """Import the inbox and the feeds into the archive, then render the site.

    With ``strict``, any unreadable file is an error and nothing is written;
    ``offline`` fetches nothing; without ``render_site`` only the archive is
    updated (``digest fetch``). ``now`` is when new feed items are first seen;
    ``workers`` is how many processes render (all cores by default: the output
    is the same whatever the number); ``memory`` keeps parsed articles between
    calls of a long-running caller (``digest serve``), which may say which paths
    ``changed`` since its last call. Otherwise, when no feed is fetched, the build
    resumes from the last one's plan if it can (digest.rebuild), unless ``full``,
    which also reads every article file again instead of trusting its stat.
    """
    now = now or datetime.now(UTC)
    cfg = config.load(root)
    resumable = render_site and memory is None and (offline or not cfg.feeds)
    if resumable:
        from digest import rebuild

        start = rebuild.begin(cfg)
        with _collector_paused():  # through the imports, which make no garbage
            resumed = None if full else rebuild.resume(cfg, start)
        if resumed is not None:
            return resumed  # nothing changed, or a few articles did, and moved in no listing
    # Imported here, so that a build with little to do need not import them.
    from digest import archive, group, output, render
    from digest.sources import files

    with _collector_paused():
        loaded = archive.load(
            cfg,
            memory,
            workers=workers or output.cpu_workers(),
            changed=changed,
            progress=output.is_terminal(),
            everything=full,
        )
        problems = list(loaded.problems)
        imported, skipped, notes = files.read_inbox(cfg)
        problems += skipped
        if strict and problems:
            raise ContentError(*problems)
        imported = [group.assign(a, cfg.topics) for a in imported]
        outcomes: list[feeds.Outcome] = []
        if cfg.feeds:
            # httpx, feedparser and friends load only for projects that have feeds.
            from digest.sources import feeds

            if not offline:
                known = frozenset(s.article.id for s in loaded.stored)
                outcomes = feeds.fetch_all(cfg, now=now, known=known)
        fetched = [a for o in outcomes for a in o.articles]
        persisted = archive.persist(cfg, [*imported, *fetched], loaded, now=now)
        sources = [_tally("inbox", [archive.key(a) for a in imported], persisted)]
        for o in outcomes:
            tally = _tally(o.feed.name, [a.id for a in o.articles], persisted)
            sources.append(tally._replace(status=o.status, reason=o.reason))
        # Articles placed by hand without a topics line get theirs now, in memory only.
        bodies = persisted.bodies
        assigned = [group.assign(a, cfg.topics, bodies.text) for a in persisted.articles]
        articles, topics = group.group(assigned, cfg.topics)
        health = feeds.health(cfg) if render_site and cfg.feeds else []
        made, jobs = (
            render.plan(cfg, articles, topics, bodies, health) if render_site else (None, [])
        )
    pages, written, topic_count = 0, 0, 0
    if render_site:
        done = output.publish(
            cfg.output,
            jobs,
            cfg.state,
            workers=workers or output.cpu_workers(),
            progress=output.is_terminal(),
            verify=memory is None,  # digest serve writes the output alone while it runs
        )
        written = done.written + done.removed
        pages, topic_count = len(jobs), sum(1 for t in topics if t.articles)
    settled = {k for k, v in persisted.status.items() if v == "unchanged"}
    report = Report(
        articles=len(articles),
        topics=topic_count,
        sources=tuple(sources),
        pages=pages,
        written=written,
        problems=tuple(problems),
        notes=(*(n for n in notes if str(n.path) not in settled), *persisted.notes),
    )
    if resumable and made is not None:
        if report.problems:
            rebuild.forget(cfg)  # the next build must read the broken files again
        else:
            inbox = sum(t.new + t.updated + t.unchanged for t in sources if t.name == "inbox")
            counts = rebuild.Counts(report.articles, report.topics, report.pages, inbox)
            rebuild.save(cfg, start, made, loaded, persisted, articles, bool(health), counts)
    return report


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while thousands of long-lived records are made.

    Each collection would walk every record made so far, to free nothing: 20-30 %
    of loading a 10,000-article archive went to it, and 15 % of a rebuild in
    `digest serve`. The records are then frozen (`gc.freeze`), so that rendering,
    which makes short-lived garbage, runs with the collector on without walking
    them; a long-running caller unfreezes and collects when it is idle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _tally(name: str, keys: list[str], persisted: archive.Persisted) -> Tally:
    return Tally(
        name,
        persisted.count(keys, "new"),
        persisted.count(keys, "updated"),
        persisted.count(keys, "unchanged"),
    )
