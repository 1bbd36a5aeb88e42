"""A real HTTP server on 127.0.0.1 for feed tests: routes of canned answers, with a request log."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """A canned answer. With ``etag``, the route answers conditional GETs with 304."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    gzip: bool = False
    delay: float = 0.0
    """Seconds to wait before each chunk of the body (a slow server)."""
    chunk: int = 256
    """Bytes sent after each wait, with ``delay``."""


class FeedServer:
    """``server.routes["/feed.xml"] = Route(...)``; ``server.url("/feed.xml")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.log.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = owner.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                if route.etag and route.status == 200 and self.headers.get("If-None-Match") == tag:
                    self._send(304, b"", {"ETag": tag})
                    return
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag and route.status == 200:
                    headers["ETag"] = tag
                body = route.body
                if route.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, body, headers, route.delay, route.chunk)

            def _send(
                self,
                status: int,
                body: bytes,
                headers: dict[str, str],
                delay: float = 0.0,
                chunk: int = 256,
            ) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    step = chunk if delay else len(body) or 1
                    for start in range(0, len(body), step):
                        if delay:
                            time.sleep(delay)
                        self.wfile.write(body[start : start + step])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up on a slow answer is what the test wanted

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def requests(self, path: str) -> list[dict[str, str]]:
        return [headers for logged, headers in self.log if logged == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def running() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
