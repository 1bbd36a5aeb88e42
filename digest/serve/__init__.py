"""``digest serve``: build, serve the output folder, watch the sources, rebuild, reload.

The model is MkDocs' livereload, in three jobs: `watch` only records which paths
changed (the watchdog callback does nothing else); `rebuild` waits for each burst of
changes to end, runs the one build pipeline (`digest.build.build`) and publishes a
new state; `notify` hands that state to open pages, which hold a Server-Sent Events
connection and reload, swap their stylesheets, or show the build's problems in an
overlay. `server` is the HTTP side. A failed rebuild keeps the last good site and the
server running.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from digest import build, config
from digest.errors import DigestError, Problem
from digest.memory import Memory
from digest.model import Report
from digest.serve.notify import Pages
from digest.serve.rebuild import DEBOUNCE, Rebuilder
from digest.serve.server import CSP, EVENTS, SCRIPT, Server
from digest.serve.watch import Changes, Watch

__all__ = ["CSP", "DEBOUNCE", "EVENTS", "SCRIPT", "Preview", "preview", "serve"]


class PortInUseError(DigestError):
    """The address to serve on is taken."""


class Preview(Server):
    """The server, with the rebuild loop that feeds it (for `preview`'s caller and tests)."""

    rebuilder: Rebuilder


@contextlib.contextmanager
def preview(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log: TextIO = sys.stderr,
    debounce: float = DEBOUNCE,
) -> Iterator[Preview]:
    """Listen, build, watch and rebuild; the caller runs ``serve_forever``.

    The port is taken before the first build, so a busy one fails at once.
    """
    memory = Memory(kept=True)  # what one rebuild leaves for the next
    threads_started = threading.Event()

    def builder(project: Path, changed: frozenset[Path] | None) -> Report:
        # Rendering over forked processes is safe only before the server's threads run.
        workers = 1 if threads_started.is_set() else None
        return build.build(project, memory=memory, workers=workers, changed=changed)

    changes = Changes(config.load(root.resolve()))
    pages = Pages()
    rebuilder = Rebuilder(changes, pages, builder, debounce=debounce, log=log)
    try:
        server = Preview((host, port), pages, lambda: changes.cfg.output)
    except OSError as exc:
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                Problem(where, "the port is in use", "stop the other server or use another --port")
            ) from None
        raise DigestError(Problem(where, f"cannot listen: {exc.strerror}")) from None
    server.rebuilder = rebuilder
    watch = Watch(changes)
    loop = threading.Thread(target=rebuilder.run, args=(watch.update,), name="rebuild", daemon=True)
    try:
        rebuilder.rebuild()
        threads_started.set()
        watch.start()
        rebuilder.forget()  # a save during the first build came before the watch: walk again
        loop.start()
        yield server
    finally:
        changes.close()
        pages.close()
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
