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
from typing import TYPE_CHECKING

from digest import config
from digest.errors import ContentError
from digest.forked import Forked
from digest.model import Article, Report, Tally

if TYPE_CHECKING:
    from digest import archive, rebuild
    from digest.memory import Memory
    from digest.sources import feeds
    from digest.stories import stage


def build(
    root: Path,
    *,
    strict: bool = False,
    offline: bool = False,
    render_site: bool = True,
    now: datetime | None = None,
    workers: int | None = None,
    memory: Memory | None = None,
    changed: Collection[Path] | None = None,
    full: bool = False,
) -> Report:
    """Import the inbox and the feeds into the archive, then render the site.

    With ``strict``, any unreadable file is an error and nothing is written;
    ``offline`` fetches nothing; without ``render_site`` only the archive is
    updated (``digest fetch``). ``now`` is when new feed items are first seen;
    ``workers`` is how many processes render (all cores by default: the output
    is the same whatever the number). ``memory`` is all that the build remembers
    from the last one (`digest.memory.Memory`): a fresh one by default; a
    long-running caller (``digest serve``) keeps one, and may say which paths
    ``changed`` since its last call. Otherwise, when no feed is fetched, the build
    resumes from the last one's plan if it can (digest.rebuild), unless ``full``,
    which also reads every article file again instead of trusting its stat.
    """
    from digest.memory import Memory

    memory = memory or Memory()
    now = now or datetime.now(UTC)
    cfg = config.load(root)
    from digest.output import one_build

    with one_build(cfg.state):  # one build at a time per project (digest serve's too)
        may_resume = render_site and not memory.kept and (offline or not cfg.feeds)
        if may_resume:
            from digest import rebuild

            start = rebuild.begin(cfg)
            with _collector_paused():  # through the imports, which make no garbage
                resumed = None if full else rebuild.resume(cfg, start, memory.rendered)
            if resumed is not None:
                return resumed  # nothing changed, or a few articles did, and moved in no listing
        # Imported here, so that a build with little to do need not import them.
        from digest import archive, group, output
        from digest.render import plan
        from digest.sources import files

        cores = workers or output.cpu_workers()
        with _collector_paused():
            loaded = archive.load(
                cfg,
                memory.parsed if memory.kept else None,
                workers=cores,
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
            made: plan.Plan | None = None
            jobs: list[plan.Job] = []
            kept: stage.Kept | None = None
            if render_site:
                keys = plan.article_keys(cfg, articles, bodies, memory.rendered)
                # The search index is made beside the stories: each keeps one core busy.
                with Forked(
                    cores > 1, plan.search_shards, cfg, articles, keys, bodies, workers=cores
                ) as index:
                    stories = None
                    if cfg.stories.enabled:
                        stories, kept = _stories(cfg, memory, articles, bodies, cores)
                    health = feeds.health(cfg) if cfg.feeds else []
                    made, jobs = plan.plan(
                        cfg, articles, topics, bodies, health, memory.rendered, stories,
                        index.result(),
                    )  # fmt: skip
        topic_count = sum(1 for t in topics if t.articles) if render_site else 0
        settled = {k for k, v in persisted.status.items() if v == "unchanged"}
        report = Report(
            articles=len(articles),
            topics=topic_count,
            sources=tuple(sources),
            pages=len(jobs),
            written=0,
            problems=tuple(problems),
            notes=(*(n for n in notes if str(n.path) not in settled), *persisted.notes),
        )
        resumable = None
        if may_resume and made is not None:
            if report.problems:
                rebuild.forget(cfg)  # the next build must read the broken files again
            else:
                inbox = sum(t.new + t.updated + t.unchanged for t in sources if t.name == "inbox")
                counts = rebuild.Counts(report.articles, report.topics, report.pages, inbox)
                placed = memory.stories.placed if cfg.stories.enabled and memory.stories else {}
                resumable = rebuild.Resumable(
                    start, made, loaded, persisted, articles, bool(health), counts, placed
                )
        # What the next build reads is written beside the render, on the other core.
        fork = cores > 1 and (kept is not None or resumable is not None)
        with Forked(fork, _remember, cfg, kept, resumable) as remembered:
            if render_site:
                done = output.publish(
                    cfg.output,
                    jobs,
                    cfg.state,
                    workers=cores,
                    progress=output.is_terminal(),
                    verify=not memory.kept,  # digest serve writes the output alone while it runs
                    memory=memory.published,
                )
                report = report._replace(written=done.written + done.removed)
            remembered.result()
        if resumable is not None:
            rebuild.settle(cfg)  # the plan holds for the output as this build left it
        return report


def _stories(
    cfg: config.Config,
    memory: Memory,
    articles: list[Article],
    bodies: archive.Bodies,
    workers: int,
) -> tuple[stage.Stories, stage.Kept | None]:
    """Place the new, edited and deleted articles in their stories (digest.stories.stage);
    the stories, and the state to save when it changed.

    The state is read from ``.digest/`` (once, by a kept memory) and written back
    whenever it changed, by ``digest serve`` too: story ids are published addresses,
    which the next build must know, not a cache.
    """
    from digest.stories import stage

    kept = memory.stories if memory.kept and memory.stories else stage.load(cfg)
    kept, stories, changed = stage.update(kept, cfg.stories, articles, bodies, workers=workers)
    memory.stories = kept
    return stories, kept if changed else None


def _remember(
    cfg: config.Config, stories: stage.Kept | None, resumable: rebuild.Resumable | None
) -> None:
    """Write what the next build reads: the stories' state when it changed, and the plan
    to resume from (digest.rebuild; settled once the output is written)."""
    if stories is not None:
        from digest.stories import stage

        stage.save(cfg, stories)
    if resumable is not None:
        from digest import rebuild

        rebuild.save(cfg, resumable)


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
