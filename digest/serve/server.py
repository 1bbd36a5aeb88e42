"""The preview's HTTP side: the output folder as a static site, with the live-reload script
added to pages as they are served (the files the build writes never contain it).

It answers only requests that name the address it listens on (a page on another
domain that rebinds its name to 127.0.0.1 gets nothing), serves nothing outside the
output folder and no hidden file, and sends a Content-Security-Policy.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from digest.render.feeds import FEED_TYPES
from digest.serve.notify import Pages

KEEPALIVE = 15.0
"""Seconds between comments on an idle event stream, so dead connections are noticed."""

PREFIX = "/.digest/"
"""The server's own URLs. Hidden names are never served from the output folder."""
EVENTS = PREFIX + "events"
SCRIPT = PREFIX + "live.js"

LONGEST_TARGET = 4096
"""The longest request target answered (Linux's longest path); a longer one gets 414."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self';"
    " img-src 'self' http: https:; connect-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'"
)
"""The site's own scripts and styles (the reload script is a file of the server, and its
overlay's stylesheet a constructed one), images from http(s), and the event stream."""

_TEXT = "text/plain; charset=utf-8"


def content_type(path: Path) -> str:
    """The Content-Type for a file of the site."""
    kind = FEED_TYPES.get(path.name) or mimetypes.guess_type(path.name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


def host_names(host: str, port: int) -> frozenset[str]:
    """The ``Host`` values that name the address served on: loopback's names and ``host``."""
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    found = {f"{name}:{port}" for name in names}
    if port == 80:  # a browser leaves the default port out
        found |= names
    return frozenset(name.lower() for name in found)


class Server(ThreadingHTTPServer):
    """A small static server for the output folder, with the live-reload endpoints."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], pages: Pages, site: Callable[[], Path]) -> None:
        self.pages = pages
        self.site = site
        """The output folder, as the current digest.toml says."""
        script = (resources.files("digest.serve") / "live.js").read_bytes()
        self.assets = {SCRIPT: (content_type(Path(SCRIPT)), script)}
        super().__init__(address, Handler)
        self.names = host_names(address[0], int(self.server_address[1]))


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
        if (self.headers.get("Host") or "").lower() not in self.server.names:
            message = "digest serve answers only requests for the address it listens on\n"
            self._send(HTTPStatus.MISDIRECTED_REQUEST, _TEXT, message.encode(), send_body)
            return
        if len(self.path) > LONGEST_TARGET:
            self._send(HTTPStatus.REQUEST_URI_TOO_LONG, _TEXT, b"URI too long\n", send_body)
            return
        url = urlsplit(self.path)
        if url.path == EVENTS and send_body:
            self._events()
            return
        if url.path in self.server.assets:
            self._send(HTTPStatus.OK, *self.server.assets[url.path], send_body)
            return
        segments = _segments(url.path)
        if segments is None:
            self._send(HTTPStatus.FORBIDDEN, _TEXT, b"Forbidden\n", send_body)
            return
        epoch = self.server.pages.state.epoch  # before reading: a rebuild in between reloads
        base = self.server.site().resolve()
        try:
            self._file(base, segments, url.path, url.query, epoch, send_body)
        except OSError:  # a name too long for the file system, say: no such page
            self._not_found(base, epoch, send_body)

    def _file(
        self,
        base: Path,
        segments: list[str],
        path: str,
        query: str,
        epoch: int,
        send_body: bool,
    ) -> None:
        target = base.joinpath(*segments).resolve() if segments else base
        if target != base and base not in target.parents:  # a symbolic link out of the site
            self._send(HTTPStatus.FORBIDDEN, _TEXT, b"Forbidden\n", send_body)
            return
        if any(s.startswith(".") for s in segments):
            self._not_found(base, epoch, send_body)
            return
        if target.is_dir():
            if not path.endswith("/"):
                location = "/" + "/".join(quote(s) for s in segments) + "/"
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", location + (f"?{query}" if query else ""))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = (target / "index.html").resolve()
            if base not in target.parents:
                self._not_found(base, epoch, send_body)
                return
        self._send_file(HTTPStatus.OK, target, target.read_bytes(), epoch, send_body)

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
        self._headers(("Content-Type", kind), ("Content-Length", str(len(data))))
        if send_body:
            self.wfile.write(data)

    def _headers(self, *extra: tuple[str, str]) -> None:
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()

    def _events(self) -> None:
        """Server-Sent Events: the state now, then each new one, until the page goes away."""
        pages = self.server.pages
        self.send_response(HTTPStatus.OK)
        self._headers(("Content-Type", "text/event-stream"))
        self.close_connection = True
        seen = -1
        try:
            self.wfile.write(b"retry: 500\n\n")
            while True:
                state = pages.wait(seen, timeout=KEEPALIVE)
                if pages.closed:
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
