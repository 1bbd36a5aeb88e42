"""Watching files: which paths can change the site, and the changes seen since last asked.

The watchdog callback only records paths (MkDocs' livereload does the same); the
rebuild loop takes them once a burst of saves has ended.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from digest import config
from digest.config import Config
from digest.sources import files

# Only these change what the build reads; opened/closed and folder "modified"
# events (a swap file appearing beside an article) do not.
WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


class Changes:
    """The paths that changed and can change the site, gathered until the loop takes them."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._changed: set[Path] = set()
        self._closed = False
        self._events = threading.Condition()

    def aim(self, cfg: Config) -> None:
        """Follow the folders of a reloaded digest.toml."""
        self.cfg = cfg

    def relevant(self, path: Path, is_directory: bool) -> bool:
        """Whether a change at ``path`` can change the site."""
        cfg = self.cfg
        if path == cfg.root / config.FILENAME:
            return True
        if path == cfg.output or cfg.output in path.parents:
            return False
        for folder, kinds in (
            (cfg.articles, {".md"}),
            (cfg.inbox, set(files.KINDS)),
            (cfg.templates, None),
        ):
            if path != folder and folder not in path.parents:
                continue
            rel = path.relative_to(folder)
            if any(part.startswith(".") for part in rel.parts) or files.is_ignored(rel):
                return False
            return is_directory or kinds is None or path.suffix.lower() in kinds
        return False

    def watched(self) -> dict[Path, bool]:
        """The folders to watch, each with whether to watch it recursively."""
        folders = {self.cfg.root: False}
        for folder in (self.cfg.articles, self.cfg.inbox, self.cfg.templates):
            if folder.is_dir():
                folders[folder] = True
            else:  # watch the nearest existing parent, to see the folder appear
                parent = next((p for p in folder.parents if p.is_dir()), self.cfg.root)
                folders.setdefault(parent, False)
        return folders

    def notice(self, paths: Iterable[Path]) -> None:
        """The watcher's whole job: note the change."""
        with self._events:
            self._changed.update(paths)
            self._events.notify_all()

    def burst(self, quiet: float, idle: float | None) -> frozenset[Path] | None:
        """The paths changed in the next burst, returned once ``quiet`` seconds pass without
        another change; None after ``idle`` seconds without any, or once closed."""
        with self._events:
            if not self._events.wait_for(lambda: bool(self._changed) or self._closed, idle):
                return None
            while not self._closed and self._events.wait(timeout=quiet):
                pass  # events keep coming: wait for a quiet moment
            if self._closed:
                return None
            changed, self._changed = frozenset(self._changed), set()
            return changed

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._events:
            self._closed = True
            self._events.notify_all()


class _Handler(FileSystemEventHandler):
    """The watchdog callback: hand relevant paths to `Changes.notice`, nothing more."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        found = {
            Path(os.fsdecode(p))
            for p in paths
            if p and self.changes.relevant(Path(os.fsdecode(p)), event.is_directory)
        }
        if found:
            self.changes.notice(found)


class Watch:
    """watchdog's observer over `Changes.watched`, re-aimed when the config moves a folder."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.handler = _Handler(changes)
        self.observer: BaseObserver = Observer()
        self.watches: dict[tuple[Path, bool], ObservedWatch] = {}

    def start(self) -> None:
        self.update()
        self.observer.start()

    def update(self) -> None:
        wanted = set(self.changes.watched().items())
        for key in set(self.watches) - wanted:
            self.observer.unschedule(self.watches.pop(key))
        for folder, recursive in wanted - set(self.watches):
            self.watches[folder, recursive] = self.observer.schedule(
                self.handler, str(folder), recursive=recursive, event_filter=WATCHED_EVENTS
            )

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)
