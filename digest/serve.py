"""``digest serve``: build, serve the output folder, watch the sources, rebuild, reload.

The model is mkdocs' livereload. The watchdog callback only records which paths
changed; one loop waits for the burst of events to end, runs the one build
pipeline (`digest.build.build`), and publishes a new `State`. Open pages hold a
Server-Sent Events connection and reload when the site changed, swap their
stylesheets when only a stylesheet changed, and show the build's problems in an
overlay. A failed rebuild keeps the last good site and the server running.

The reload script is added to HTML responses here, at serve time: the files the
build writes never contain it.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import ipaddress
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, unquote, urlsplit

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

from digest import build, config
from digest.config import Config
from digest.errors import DigestError, Problem
from digest.memory import Memory
from digest.model import Report
from digest.sources import files

DEBOUNCE = 0.1
"""Seconds without a new event that end a burst; the rebuild starts then."""
IDLE = 2.0
"""Seconds without a change after which the rebuild loop lets the collector run."""

KEEPALIVE = 15.0
"""Seconds between comments on an idle event stream, so dead connections are noticed."""

PREFIX = "/.digest/"
"""The server's own URLs. Hidden names are never served from the output folder."""
EVENTS = PREFIX + "events"
SCRIPT = PREFIX + "live.js"

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
FEED_TYPES = {
    "feed.xml": "application/rss+xml",
    "rss.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}

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


def content_type(path: Path) -> str:
    """The Content-Type for a file of the site."""
    return FEED_TYPES.get(path.name) or TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True, slots=True)
class State:
    """What open pages need to know; every change gets a new, larger ``epoch``."""

    epoch: int
    reload_epoch: int
    """The last epoch after which a page must reload (not only swap its stylesheets)."""
    problems: tuple[Problem, ...] = ()
    """Why the last rebuild failed, or which files it skipped; shown in the overlay."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "epoch": self.epoch,
                "reload": self.reload_epoch,
                "problems": [
                    {
                        "where": f"{p.path}:{p.line}" if p.line else str(p.path),
                        "message": p.message,
                        "hint": p.hint,
                    }
                    for p in self.problems
                ],
            }
        )


Builder = Callable[[Path, frozenset[Path] | None], Report]
"""Builds the project; told which paths changed since its last call, or None if unknown."""


def _now() -> int:
    """Milliseconds since the epoch: a page from an earlier run of serve sees a newer epoch."""
    return time.time_ns() // 1_000_000


@dataclass
class Live:
    """The state shared by the watcher, the rebuild loop and the HTTP handlers."""

    cfg: Config
    builder: Builder = lambda root, changed: build.build(root)
    debounce: float = DEBOUNCE
    log: TextIO = field(default=sys.stderr)
    state: State = field(init=False)
    builds: int = field(init=False, default=0)
    _changed: set[Path] = field(init=False, default_factory=set)
    _closed: bool = field(init=False, default=False)
    _pending_reload: bool = field(init=False, default=False)
    _complete: bool = field(init=False, default=False)
    """The last build ran to the end."""
    _events: threading.Condition = field(init=False, default_factory=threading.Condition)
    _published: threading.Condition = field(init=False, default_factory=threading.Condition)

    def __post_init__(self) -> None:
        now = _now()
        self.state = State(epoch=now, reload_epoch=now)

    # The watcher's side: note the change, nothing else.

    def notice(self, paths: Iterable[Path]) -> None:
        with self._events:
            self._changed.update(paths)
            self._events.notify_all()

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

    # The rebuild loop's side.

    def run(self, on_rebuilt: Callable[[], None] = lambda: None) -> None:
        """Rebuild once per burst of changes until `close`."""
        collect = False
        while True:
            with self._events:
                # The build froze its records (build._collector_paused). Once nothing has
                # happened for a while (the page has reloaded), the collector sees them,
                # so nothing cyclic piles up: 0.07 s at 10,000 articles, not in a reload.
                idle = not self._events.wait_for(
                    lambda: bool(self._changed) or self._closed, timeout=IDLE if collect else None
                )
                if not idle:
                    while not self._closed and self._events.wait(timeout=self.debounce):
                        pass  # events keep coming: wait for a quiet moment
                if self._closed:
                    return
                changed, self._changed = self._changed, set()
            if idle:
                gc.unfreeze()
                gc.collect()
                collect = False
                continue
            self.rebuild(changed)
            on_rebuilt()
            collect = True

    def forget(self) -> None:
        """Have the next build look at every file, not only those reported changed."""
        self._complete = False

    def rebuild(self, changed: Iterable[Path] = ()) -> State:
        """Run the build once and publish what it means for open pages."""
        start = time.perf_counter()
        self.builds += 1
        site_changed = False
        changed = frozenset(changed)
        # The builder may look only at what changed since it last ran to the end; after a
        # failure (a broken digest.toml, say) it may not have looked at all, so it is not told.
        hint = changed if self._complete else None
        self._complete = False
        try:
            report = self.builder(self.cfg.root, hint)
            self._complete = True
        except DigestError as exc:
            problems: tuple[Problem, ...] = exc.problems
            summary = "the site was left as it was"
        except Exception as exc:  # a bug must not stop the preview
            traceback.print_exc(file=self.log)
            problems = (
                Problem(
                    "digest",
                    f"the build failed: {exc!r}",
                    "this is a bug in digest; please report it with the traceback above",
                ),
            )
            summary = "the site was left as it was"
        else:
            problems, site_changed = report.problems, report.written > 0
            for note in report.notes:
                print(f"note: {note}", file=self.log)
            summary = f"{report.articles} articles, " + (
                f"wrote {report.written} files" if site_changed else "site unchanged"
            )
        with contextlib.suppress(DigestError):  # the output or a watched folder may have moved
            self.cfg = config.load(self.cfg.root)
        for problem in problems:
            print(f"error: {problem}", file=self.log)
        seconds = time.perf_counter() - start
        verb = "built" if self.builds == 1 else "rebuilt"
        print(f"{verb} in {seconds:.3f} s: {summary}", file=self.log, flush=True)
        stylesheets_only = bool(changed) and all(
            p.suffix == ".css" and self.cfg.templates in p.parents for p in changed
        )
        return self._publish(problems, site_changed, stylesheets_only=stylesheets_only)

    def _publish(
        self, problems: tuple[Problem, ...], site_changed: bool, *, stylesheets_only: bool
    ) -> State:
        old = self.state
        if not site_changed and problems == old.problems:
            return old
        epoch = max(_now(), old.epoch + 1)
        reload_epoch = old.reload_epoch
        if (site_changed and not stylesheets_only) or self._pending_reload:
            # A rebuild that brings new problems leaves the page as it was under the
            # overlay; it reloads once those problems are gone.
            if set(problems) - set(old.problems):
                self._pending_reload = True
            else:
                self._pending_reload = False
                reload_epoch = epoch
        with self._published:
            self.state = State(epoch=epoch, reload_epoch=reload_epoch, problems=problems)
            self._published.notify_all()
        return self.state

    # The HTTP side.

    def wait(self, after: int, timeout: float) -> State:
        """The state once its epoch is past ``after``, or after ``timeout`` seconds, or closed."""
        with self._published:
            self._published.wait_for(
                lambda: self.state.epoch > after or self._closed, timeout=timeout
            )
            return self.state

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._events:
            self._closed = True
            self._events.notify_all()
        with self._published:
            self._published.notify_all()


class _Watcher(FileSystemEventHandler):
    """The watchdog callback: hand relevant paths to `Live.notice`, nothing more."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        found = {
            Path(os.fsdecode(p))
            for p in paths
            if p and self.live.relevant(Path(os.fsdecode(p)), event.is_directory)
        }
        if found:
            self.live.notice(found)


class Watch:
    """watchdog's observer over `Live.watched`, re-aimed when the config moves a folder."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.handler = _Watcher(live)
        self.observer: BaseObserver = Observer()
        self.watches: dict[tuple[Path, bool], ObservedWatch] = {}

    def start(self) -> None:
        self.update()
        self.observer.start()

    def update(self) -> None:
        wanted = set(self.live.watched().items())
        for key in set(self.watches) - wanted:
            self.observer.unschedule(self.watches.pop(key))
        for folder, recursive in wanted - set(self.watches):
            self.watches[folder, recursive] = self.observer.schedule(
                self.handler, str(folder), recursive=recursive, event_filter=WATCHED_EVENTS
            )

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)


def _live_script() -> bytes:
    return (resources.files("digest") / "live.js").read_bytes()


class Server(ThreadingHTTPServer):
    """A small static server for the output folder, with the live-reload endpoints."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], live: Live) -> None:
        self.live = live
        self.script = _live_script()
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD for files under the output folder; nothing outside it, nothing hidden."""

    server: Server
    server_version = "digest-serve"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        pass  # a request log would bury the rebuild messages

    def _respond(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        if url.path == EVENTS and send_body:
            self._events()
            return
        if url.path == SCRIPT:
            self._send(HTTPStatus.OK, TYPES[".js"], self.server.script, send_body)
            return
        segments = _segments(url.path)
        if segments is None:
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", b"Forbidden\n", send_body)
            return
        epoch = self.server.live.state.epoch  # before reading: a rebuild in between reloads again
        base = self.server.live.cfg.output.resolve()
        target = base.joinpath(*segments).resolve() if segments else base
        if target != base and base not in target.parents:  # a symbolic link out of the site
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", b"Forbidden\n", send_body)
            return
        if any(s.startswith(".") for s in segments):
            self._not_found(base, epoch, send_body)
            return
        if target.is_dir():
            if not url.path.endswith("/"):
                location = "/" + "/".join(quote(s) for s in segments) + "/"
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", location + (f"?{url.query}" if url.query else ""))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = (target / "index.html").resolve()
            if base not in target.parents:
                self._not_found(base, epoch, send_body)
                return
        try:
            data = target.read_bytes()
        except OSError:
            self._not_found(base, epoch, send_body)
            return
        self._send_file(HTTPStatus.OK, target, data, epoch, send_body)

    def _not_found(self, base: Path, epoch: int, send_body: bool) -> None:
        page = base / "404.html"
        try:
            data = page.read_bytes()
        except OSError:
            data = b"<!doctype html><title>Not found</title><h1>Not found</h1>\n"
        self._send_file(HTTPStatus.NOT_FOUND, page, data, epoch, send_body)

    def _send_file(
        self, status: HTTPStatus, path: Path, data: bytes, epoch: int, send_body: bool
    ) -> None:
        kind = content_type(path)
        if kind.startswith("text/html"):
            data = inject(data, epoch)
        self._send(status, kind, data, send_body)

    def _send(self, status: HTTPStatus, kind: str, data: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def _events(self) -> None:
        """Server-Sent Events: the state now, then each new one, until the page goes away."""
        live = self.server.live
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        seen = -1
        try:
            self.wfile.write(b"retry: 500\n\n")
            while True:
                state = live.wait(seen, timeout=KEEPALIVE)
                if live.closed:
                    break
                if state.epoch == seen:
                    self.wfile.write(b": still here\n\n")
                else:
                    self.wfile.write(f"data: {state.to_json()}\n\n".encode())
                    seen = state.epoch
                self.wfile.flush()
        except OSError:  # the page was closed or reloaded
            pass


def _segments(path: str) -> list[str] | None:
    """The decoded, non-empty segments of a URL path; None if it tries to leave the site."""
    if not path.startswith("/"):
        return None
    try:
        segments = [s for s in unquote(path, errors="strict").split("/") if s]
    except UnicodeDecodeError:
        return None
    if any(s in (".", "..") or "\\" in s or "\0" in s for s in segments):
        return None
    return segments


def inject(html: bytes, epoch: int) -> bytes:
    """``html`` with the live-reload script before its last ``</body>``."""
    tag = f'<script src="{SCRIPT}" data-epoch="{epoch}"></script>\n'.encode()
    at = html.lower().rfind(b"</body>")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


class PortInUseError(DigestError):
    """The address to serve on is taken."""


@contextlib.contextmanager
def preview(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log: TextIO = sys.stderr,
    debounce: float = DEBOUNCE,
) -> Iterator[Server]:
    """Listen, build, watch and rebuild; the caller runs ``serve_forever``.

    The port is taken before the first build, so a busy one fails at once.
    """
    memory = Memory(kept=True)  # what one rebuild leaves for the next
    threads_started = threading.Event()

    def builder(project: Path, changed: frozenset[Path] | None) -> Report:
        # Rendering over forked processes is safe only before the server's threads run.
        workers = 1 if threads_started.is_set() else None
        return build.build(project, memory=memory, workers=workers, changed=changed)

    live = Live(config.load(root.resolve()), builder=builder, log=log, debounce=debounce)
    try:
        server = Server((host, port), live)
    except OSError as exc:
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                Problem(where, "the port is in use", "stop the other server or use another --port")
            ) from None
        raise DigestError(Problem(where, f"cannot listen: {exc.strerror}")) from None
    watch = Watch(live)
    loop = threading.Thread(target=live.run, args=(watch.update,), name="rebuild", daemon=True)
    try:
        live.rebuild()
        threads_started.set()
        watch.start()
        live.forget()  # a save during the first build came before the watch: walk again
        loop.start()
        yield server
    finally:
        live.close()
        server.server_close()
        if watch.observer.is_alive():
            watch.stop()
        if loop.is_alive():
            loop.join(timeout=5)


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the live preview until Ctrl-C (`KeyboardInterrupt`) or SIGTERM."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    with preview(root, host=host, port=port) as server:
        name, bound = server.server_address[:2]
        print(f"serving http://{_host(str(name))}:{bound}/ (Ctrl-C to stop)", flush=True)
        if not _loopback(host):
            print(f"note: {host} is not a loopback address: your network can see the site")
        server.serve_forever(poll_interval=0.2)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _host(name: str) -> str:
    return f"[{name}]" if ":" in name else name


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
