"""digest serve: the safe little server, the watcher's one rebuild per burst, errors kept alive.

The pages in a real browser are in test_serve_browser.py.
"""

from __future__ import annotations

import io
import re
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from digest import config, serve
from digest.errors import ContentError, Problem
from digest.model import Report
from digest.serve.notify import Pages
from digest.serve.rebuild import Rebuilder
from digest.serve.server import host_names
from digest.serve.watch import Changes
from tests.conftest import Run, start_cli, write

ARTICLE = "content/articles/2022/09/russia-china-strengthen-relations-with-high-level-meetings-amid-war-in-ukraine.md"
PAGE = "/2022/09/russia-china-strengthen-relations-with-high-level-meetings-amid-war-in-ukraine/"


@dataclass
class Running:
    rebuilder: Rebuilder
    pages: Pages
    url: str
    port: int
    log: io.StringIO


@contextmanager
def running(root: Path, debounce: float = serve.DEBOUNCE) -> Iterator[Running]:
    """`serve.preview` on a free loopback port, served from a thread."""
    log = io.StringIO()
    with serve.preview(root, port=0, log=log, debounce=debounce) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        try:
            yield Running(server.rebuilder, server.pages, f"http://127.0.0.1:{port}", port, log)
        finally:
            server.shutdown()
            thread.join(timeout=5)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def get(url: str) -> Response:
    """GET without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers), exc.read())


def raw(port: int, target: str, host: str = "") -> tuple[str, bytes]:
    """Send a request line exactly as written (clients would normalise the path)."""
    host = host or f"127.0.0.1:{port}"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


@pytest.fixture
def built(example: Path, digest: Run) -> Path:
    """The example, imported and built once (so serving it writes no article)."""
    assert digest("build", "-C", example).code == 0
    return example


# The server


def test_pages_feeds_and_styles_have_their_content_types(built: Path) -> None:
    # The build copies a theme's static files as they are: any feed format can be there.
    write(built / "templates" / "static" / "atom.xml", "<feed/>")
    write(built / "templates" / "static" / "feed.json", "{}")
    with running(built) as srv:
        expected = {
            "/": "text/html; charset=utf-8",
            PAGE: "text/html; charset=utf-8",
            "/static/style.css": "text/css; charset=utf-8",
            "/feed.xml": "application/rss+xml",
            "/topics/russia-china-relations/feed.xml": "application/rss+xml",
            "/static/atom.xml": "application/atom+xml",
            "/static/feed.json": "application/feed+json",
        }
        for path, kind in expected.items():
            response = get(srv.url + path)
            assert response.status == 200, path
            assert response.headers["Content-Type"] == kind, path
        feed = get(srv.url + "/feed.xml").body
        assert feed == (built / "site" / "feed.xml").read_bytes()


def test_pretty_urls_serve_index_and_redirect_to_the_slash(built: Path) -> None:
    with running(built) as srv:
        page = get(srv.url + "/topics/russia-china-relations/")
        assert page.status == 200
        assert b"<h1" in page.body
        moved = get(srv.url + "/topics/russia-china-relations?page=2")
        assert moved.status == 301
        assert moved.headers["Location"] == "/topics/russia-china-relations/?page=2"
        # a doubled slash must not become a link to another host ("//topics/")
        status, _ = raw(srv.port, "//topics")
        assert status.endswith("301 Moved Permanently")
        assert get(srv.url + "/topics").headers["Location"] == "/topics/"


def test_a_missing_page_gets_the_sites_404_page(built: Path) -> None:
    with running(built) as srv:
        response = get(srv.url + "/no/such/page/")
        assert response.status == 404
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"Page not found" in response.body
        assert serve.SCRIPT.encode() in response.body  # the overlay works there too


@pytest.mark.parametrize(
    "target",
    [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..\\..\\etc\\passwd",
        "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
        "/index.html%00.css",
    ],
)
def test_paths_out_of_the_site_are_refused(built: Path, target: str) -> None:
    with running(built) as srv:
        status, body = raw(srv.port, target)
    assert status == "HTTP/1.0 403 Forbidden"
    assert b"root:" not in body


def test_double_encoded_dots_are_just_a_missing_page(built: Path) -> None:
    with running(built) as srv:
        status, body = raw(srv.port, "/%252e%252e/%252e%252e/etc/passwd")
    assert status == "HTTP/1.0 404 Not Found"
    assert b"root:" not in body


def test_symbolic_links_out_of_the_site_and_hidden_files_are_not_served(
    built: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path / "secret.txt", "the secret")
    with running(built) as srv:
        (built / "site" / "leak.txt").symlink_to(secret)
        (built / "site" / "leak").symlink_to(tmp_path)
        write(built / "site" / ".git" / "config", "[core] the secret")
        for path in ("/leak.txt", "/leak/secret.txt", "/leak/"):
            status, body = raw(srv.port, path)
            assert status == "HTTP/1.0 403 Forbidden", path
            assert b"the secret" not in body
        status, body = raw(srv.port, "/.git/config")
        assert status == "HTTP/1.0 404 Not Found"
        assert b"the secret" not in body


def test_the_script_is_added_to_served_pages_only(built: Path) -> None:
    with running(built) as srv:
        page = get(srv.url + PAGE).body
        assert page.count(serve.SCRIPT.encode()) == 1
        assert page.index(serve.SCRIPT.encode()) < page.rindex(b"</body>")
        assert serve.SCRIPT.encode() not in get(srv.url + "/feed.xml").body
        assert serve.SCRIPT.encode() not in get(srv.url + "/static/style.css").body
        script = get(srv.url + serve.SCRIPT)
        assert script.status == 200
        assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert b"EventSource" in script.body
    on_disk = b"".join(p.read_bytes() for p in (built / "site").rglob("*") if p.is_file())
    assert b"/.digest/" not in on_disk


def test_the_event_stream_sends_the_state(built: Path) -> None:
    with running(built) as srv:
        request = urllib.request.Request(srv.url + serve.EVENTS)
        with urllib.request.urlopen(request, timeout=10) as stream:
            assert stream.headers["Content-Type"] == "text/event-stream"
            lines = [stream.readline() for _ in range(3)]
    assert lines[0] == b"retry: 500\n"
    assert lines[2].startswith(b'data: {"epoch": ')
    assert b'"problems": []' in lines[2]


# Watching and rebuilding


def test_a_burst_of_events_gives_one_rebuild(built: Path) -> None:
    articles = built / "content" / "articles" / "2022" / "09"
    with running(built, debounce=0.3) as srv:
        assert srv.rebuilder.builds == 1
        before = srv.pages.state.epoch
        for number in range(20):
            write(
                articles / f"note-{number}.md",
                f"---\ntitle: Note {number}\ndate: 2022-09-21\n---\n\nNote number {number}.\n",
            )
        state = srv.pages.wait(before, timeout=30)
        assert state.epoch > before
        time.sleep(1)  # time for a second rebuild, if the burst were split
        assert srv.rebuilder.builds == 2
        assert "rebuilt in" in srv.log.getvalue()
    for number in range(20):
        assert (built / "site" / "2022" / "09" / f"note-{number}" / "index.html").is_file()


def test_an_editors_atomic_save_rebuilds_and_scratch_files_do_not(built: Path) -> None:
    article = built / ARTICLE
    with running(built, debounce=0.3) as srv:
        # Scratch files beside the article: swap, backup, lock, vim's probe, JetBrains'.
        for name in (".article.md.swp", "article.md~", "#article.md#", "4913", "x.md___jb_tmp___"):
            write(article.parent / name, "scratch")
        write(built / "site" / "extra.html", "in the output folder")
        write(built / "README.md", "not a source")
        time.sleep(1)
        assert srv.rebuilder.builds == 1
        before = srv.pages.state.epoch
        # Save as vim, gedit and most editors do: write a temporary file, rename it over.
        text = article.read_text(encoding="utf-8").replace(
            "A Russian security delegation", "An edited security delegation", 1
        )
        temporary = write(article.parent / ".goutputstream-X1", text)
        temporary.replace(article)
        assert srv.pages.wait(before, timeout=30).epoch > before
        assert srv.rebuilder.builds == 2
    page = built / "site" / PAGE.strip("/") / "index.html"
    assert "An edited security delegation" in page.read_text(encoding="utf-8")


def test_relevant_paths(built: Path) -> None:
    live = Changes(config.load(built))
    root = built.resolve()
    assert live.relevant(root / "digest.toml", False)
    assert live.relevant(root / ARTICLE, False)
    assert live.relevant(root / "content/articles/2023", True)
    assert live.relevant(root / "content/inbox/new.txt", False)
    assert live.relevant(root / "templates/base.html", False)
    assert live.relevant(root / "templates/static/style.css", False)
    for path in (
        "README.md",
        "site/index.html",
        "site/2022",
        "content/inbox/notes.pdf",
        "content/articles/2022/09/.a.md.swp",
        "content/articles/2022/09/a.md~",
        "content/articles/.git/HEAD",
        "templates/.base.html.swp",
        "templates/base.html~",
        "templates/#base.html#",
        ".site.new/index.html",
    ):
        assert not live.relevant(root / path, path.endswith("2022")), path


def test_the_watcher_follows_the_folders_in_digest_toml(built: Path) -> None:
    live = Changes(config.load(built))
    root = built.resolve()
    watched = live.watched()
    assert watched[root] is False
    assert watched[root / "content" / "articles"] is True
    assert watched[root / "content" / "inbox"] is True
    # no templates/ folder yet: its parent is watched to see it appear
    assert root / "templates" not in watched


@dataclass
class FakeBuilder:
    """Counts builds; raises or reports what the test says."""

    results: list[Report | Exception]
    calls: int = 0
    told: list[frozenset[Path] | None] = field(default_factory=list)

    def __call__(self, root: Path, changed: frozenset[Path] | None) -> Report:
        self.calls += 1
        self.told.append(changed)
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, Exception):
            raise result
        return result


def report(*, changed: bool = True, problems: tuple[Problem, ...] = ()) -> Report:
    return Report(
        articles=1,
        topics=1,
        sources=(),
        pages=10,
        written=10 if changed else 0,
        problems=problems,
        notes=(),
    )


BROKEN = Problem("content/articles/a.md", "front matter is not closed", "add ---", 1)


def test_the_loop_debounces_and_survives_a_crashing_build(built: Path) -> None:
    fake = FakeBuilder([RuntimeError("boom"), report()])
    changes, pages = Changes(config.load(built)), Pages()
    live = Rebuilder(changes, pages, fake, debounce=0.2, log=io.StringIO())
    loop = threading.Thread(target=live.run, daemon=True)
    loop.start()
    try:
        first = pages.state
        for number in range(20):
            changes.notice([built / f"content/articles/{number}.md"])
        crashed = pages.wait(first.epoch, timeout=10)
        assert fake.calls == 1
        assert crashed.problems[0].path == "digest"
        assert "boom" in crashed.problems[0].message
        changes.notice([built / ARTICLE])
        recovered = pages.wait(crashed.epoch, timeout=10)
        assert fake.calls == 2
        assert recovered.problems == ()
        assert recovered.reload_epoch == recovered.epoch
    finally:
        changes.close()
        pages.close()
        loop.join(timeout=5)
    assert not loop.is_alive()


def test_new_problems_keep_the_page_under_the_overlay_until_fixed(built: Path) -> None:
    fake = FakeBuilder([report()])
    pages = Pages()
    live = Rebuilder(Changes(config.load(built)), pages, fake, log=io.StringIO())
    start = pages.state
    # The article is skipped (site changed) but the page stays, with the overlay.
    fake.results = [report(problems=(BROKEN,))]
    broken = live.rebuild([built / ARTICLE])
    assert broken.epoch > start.epoch
    assert broken.reload_epoch == start.reload_epoch
    assert broken.problems == (BROKEN,)
    # A template error: nothing written, the old site stays.
    fake.results = [ContentError(BROKEN)]
    still = live.rebuild([built / ARTICLE])
    assert still == broken  # nothing new to tell the page
    fake.results = [report()]
    fixed = live.rebuild([built / ARTICLE])
    assert fixed.problems == ()
    assert fixed.reload_epoch == fixed.epoch > broken.epoch


def test_a_stylesheet_change_does_not_reload_the_page(built: Path) -> None:
    fake = FakeBuilder([report()])
    pages = Pages()
    live = Rebuilder(Changes(config.load(built)), pages, fake, log=io.StringIO())
    start = pages.state
    styled = live.rebuild([built.resolve() / "templates" / "static" / "style.css"])
    assert styled.epoch > start.epoch
    assert styled.reload_epoch == start.reload_epoch
    unchanged = live.rebuild([built.resolve() / ARTICLE])
    fake.results = [report(changed=False)]
    assert live.rebuild([built.resolve() / ARTICLE]) == unchanged


def test_the_build_is_told_what_changed_only_after_a_complete_build(built: Path) -> None:
    """A failed build, or the first one (before the watch), may have missed a change."""
    fake = FakeBuilder([report()])
    live = Rebuilder(Changes(config.load(built)), Pages(), fake, log=io.StringIO())
    article = built.resolve() / ARTICLE
    live.rebuild()  # the first build: everything
    live.rebuild([article])
    fake.results = [ContentError(BROKEN)]
    live.rebuild([article])
    fake.results = [report()]
    live.rebuild([article])  # after a failure: everything again
    live.rebuild([article])
    live.forget()  # what serve does once the watch has started
    live.rebuild([article])
    assert fake.told == [None, {article}, {article}, None, {article}, None]


# The command


def test_ctrl_c_stops_the_server_cleanly(built: Path) -> None:
    process = start_cli(built, "--port", "0")
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"serving http://127\.0\.0\.1:(\d+)/ \(Ctrl-C to stop\)\n", line)
    assert match, line
    assert get(f"http://127.0.0.1:{match[1]}/").status == 200
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out == ""
    assert err.splitlines()[-1] == "stopped"
    assert "Traceback" not in err
    assert err.splitlines()[0].startswith("built in ")


def test_a_busy_port_is_one_line_and_exit_1(built: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_cli(built, "--port", str(port))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert out == ""
    assert (
        err
        == f"error: 127.0.0.1:{port}: the port is in use — stop the other server or use another --port\n"
    )


def test_build_output_never_has_the_script(example: Path, digest: Run) -> None:
    assert digest("build", "-C", example).code == 0
    for path in (example / "site").rglob("*"):
        if path.is_file():
            assert b"/.digest/" not in path.read_bytes(), path


def test_only_requests_naming_its_own_address_are_answered(built: Path) -> None:
    """A page on another domain that rebinds its name to 127.0.0.1 reads nothing."""
    with running(built) as srv:
        for host in (f"127.0.0.1:{srv.port}", f"localhost:{srv.port}", f"[::1]:{srv.port}"):
            status, body = raw(srv.port, PAGE, host)
            assert status == "HTTP/1.0 200 OK", host
            assert b"Russia" in body
        for host in ("evil.example", f"evil.example:{srv.port}", "127.0.0.1:1", "localhost"):
            status, body = raw(srv.port, PAGE, host)
            assert status == "HTTP/1.0 421 Misdirected Request", host
            assert b"Russia" not in body
        status, _ = raw(srv.port, serve.EVENTS, f"rebound.example:{srv.port}")
        assert status == "HTTP/1.0 421 Misdirected Request"


def test_the_host_given_is_answered_too() -> None:
    names = host_names("192.168.1.5", 8000)
    assert "192.168.1.5:8000" in names and "localhost:8000" in names
    assert "192.168.1.5" not in names
    assert host_names("::1", 80) >= {"[::1]", "[::1]:80", "localhost"}


def test_overlong_paths_get_414_and_overlong_names_404_without_a_traceback(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running(built) as srv:
        assert raw(srv.port, "/" + "a" * 5000)[0] == "HTTP/1.0 414 Request-URI Too Long"
        # Within the limit, but a name no file system holds (ENAMETOOLONG).
        status, body = raw(srv.port, "/" + "b" * 300 + "/")
        assert status == "HTTP/1.0 404 Not Found"
        assert serve.SCRIPT.encode() in body  # the site's 404 page, served as usual
    assert "Traceback" not in capsys.readouterr().err


def test_every_answer_carries_the_content_security_policy(built: Path) -> None:
    with running(built) as srv:
        for path in (PAGE, "/feed.xml", "/missing/", serve.SCRIPT):
            policy = get(srv.url + path).headers["Content-Security-Policy"]
            assert policy == serve.CSP, path
    assert "script-src 'self';" in serve.CSP and "style-src 'self';" in serve.CSP
    assert "img-src 'self' http: https:;" in serve.CSP and "connect-src 'self';" in serve.CSP
    assert "unsafe-inline" not in serve.CSP
