"""The build: load config → collect → clean → persist → group → render → write.

Everything is gathered and rendered in memory before anything is written to the
output folder, and that folder is replaced in one step.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from digest import archive, config, group, render
from digest.errors import ContentError, Problem
from digest.sources import files


@dataclass(frozen=True, slots=True)
class Report:
    """What a build did, for the summary line."""

    articles: int
    topics: int
    new: int
    updated: int
    unchanged: int
    pages: int
    site_changed: bool
    problems: tuple[Problem, ...]
    """Files that could not be read or parsed, and were skipped."""
    notes: tuple[Problem, ...]
    """Things worth knowing that are not errors (an inferred year, a kept hand edit)."""


def build(root: Path, *, strict: bool = False) -> Report:
    """Import the inbox into the archive and render the whole site into the output folder.

    With ``strict``, any unreadable file is an error and nothing is written.
    """
    cfg = config.load(root)
    stored, problems = archive.load(cfg)
    imported, skipped, notes = files.read_inbox(cfg)
    problems += skipped
    if strict and problems:
        raise ContentError(*problems)
    imported = [group.assign(a, cfg.topics) for a in imported]
    persisted = archive.persist(cfg, imported, stored)
    # Articles placed by hand without a topics line get theirs now, in memory only.
    assigned = [group.assign(a, cfg.topics) for a in persisted.articles]
    articles, topics = group.group(assigned, cfg.topics)
    output = render.render_site(cfg, articles, topics)
    changed = write_site(cfg.output, output)
    return Report(
        articles=len(articles),
        topics=sum(1 for t in topics if t.articles),
        new=persisted.new,
        updated=persisted.updated,
        unchanged=persisted.unchanged,
        pages=len(output),
        site_changed=changed,
        problems=tuple(problems),
        notes=(*(n for n in notes if str(n.path) not in persisted.settled), *persisted.notes),
    )


def write_site(out: Path, output: dict[str, bytes]) -> bool:
    """Replace ``out`` with exactly ``output``, atomically; return whether anything changed.

    The new tree is built beside the old one (unchanged files hard-linked, so
    they keep their timestamps), then swapped in by renames: a crash or Ctrl-C
    leaves the old site or the new one, never a mix. Hidden entries at the top
    of ``out`` (a ``.git`` used for publishing) are carried over.
    """
    new, old = out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")
    if old.exists() and not out.exists():  # a crash between the two renames
        old.replace(out)
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    current = _tree(out)
    same = [rel for rel, data in output.items() if current.get(rel) == len(data) and
            (out / rel).read_bytes() == data]  # fmt: skip
    if len(same) == len(output) == len(current):
        return False
    keep = set(same)
    try:
        for rel, data in output.items():
            target = new / rel
            if new.resolve() not in target.resolve().parents:
                raise ValueError(f"refusing to write outside the output folder: {rel}")
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in keep:
                os.link(out / rel, target)
            else:
                target.write_bytes(data)
        if out.exists():
            for entry in out.iterdir():
                if entry.name.startswith("."):
                    entry.replace(new / entry.name)
            out.replace(old)
        new.replace(out)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return True


def _tree(folder: Path) -> dict[str, int]:
    """Visible files under ``folder`` with their sizes."""
    if not folder.is_dir():
        return {}
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        base = Path(dirpath)
        for name in filenames:
            if base == folder and name.startswith("."):
                continue
            path = base / name
            found[path.relative_to(folder).as_posix()] = path.stat().st_size
    return found
