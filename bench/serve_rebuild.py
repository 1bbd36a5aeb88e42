#!/usr/bin/env python3
"""How long `digest serve` takes from saving one article to the new site, and to the open page.

For each corpus size this generates a corpus with ../shared/bench/gen_corpus.py, starts the
real ``digest serve`` on a free loopback port and edits one article at a time:

- save → site: from the moment the edited file is closed (the file event) to the moment
  the server announces the new epoch on its event stream, which it does right after the
  output folder was swapped in (the last file written). This includes the 0.1 s debounce.
  The server's own "rebuilt in" figure (the build alone) is reported beside it.
- save → visible: the same edit with the article open in headless Chromium (Debian's
  ``/usr/bin/chromium`` through Playwright), until the new text is in the page.

Usage:  .venv/bin/python bench/serve_rebuild.py [-n 1000 10000] [--runs 3] [--no-browser]
Record the figures in docs/serve.md with the date and the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
CHROMIUM = "/usr/bin/chromium"
CONFIG = 'title = "Bench"\nbase_url = "https://example.org/bench/"\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, nargs="+", default=[1000, 10000], help="corpus sizes")
    parser.add_argument("--runs", type=int, default=3, help="edits measured per size")
    parser.add_argument("--no-browser", action="store_true", help="skip save → visible")
    parser.add_argument("--generator", type=Path, default=GENERATOR)
    args = parser.parse_args()
    if not args.generator.is_file():
        print(f"{args.generator} is absent (../shared/bench)", file=sys.stderr)
        return 1
    # As a wheel install does: no module is compiled again at the server's start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "digest")], check=True)
    print(f"# {time.strftime('%Y-%m-%d')} · {platform.platform()} · {_cpu()}")
    print(f"# python {platform.python_version()}; figures in seconds, median (min–max)")
    for size in args.n:
        with tempfile.TemporaryDirectory(prefix=f"digest-bench-{size}-") as folder:
            root = Path(folder)
            subprocess.run(
                [sys.executable, str(args.generator), "-n", str(size), "-o", str(root), "--force"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (root / "digest.toml").write_text(CONFIG, encoding="utf-8")
            measure(root, size, args.runs, browser=not args.no_browser)
    return 0


def measure(root: Path, size: int, runs: int, *, browser: bool) -> None:
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "-C", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stderr is not None
    line = server.stdout.readline()
    match = re.match(r"serving http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        server.kill()
        raise SystemExit(f"digest serve did not start: {line}{server.communicate()[1]}")
    port = int(match[1])
    first = time.perf_counter() - started
    builds: queue.Queue[float] = queue.Queue()
    threading.Thread(target=_read_log, args=(server.stderr, builds), daemon=True).start()
    events: queue.Queue[float] = queue.Queue()
    threading.Thread(target=_follow, args=(port, events), daemon=True).start()
    events.get(timeout=30)  # the current state, sent on connect
    articles = sorted((root / "content" / "articles").rglob("*.md"))
    saved, built = [], []
    try:
        for run in range(runs):
            article = articles[(run * 7919) % len(articles)]
            _drain(builds)
            start = _edit(article, f"Edited for run {run}.")
            arrived = events.get(timeout=600)
            saved.append(arrived - start)
            built.append(builds.get(timeout=60))
            page = root / "site" / article.relative_to(root / "content" / "articles")
            html = (page.with_suffix("") / "index.html").read_text(encoding="utf-8")
            assert f"Edited for run {run}." in html, page
        visible = _visible(root, port, articles, runs, events) if browser else []
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    print(f"\n## {size} articles (startup with the first build: {first:.2f})")
    print(f"save → site (event to last file written, incl. debounce): {_stats(saved)}")
    print(f"  the build alone, as digest serve reports it:           {_stats(built)}")
    if visible:
        print(f"save → visible in Chromium:                             {_stats(visible)}")


def _visible(
    root: Path, port: int, articles: list[Path], runs: int, events: queue.Queue[float]
) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        page = context.new_page()
        for run in range(runs):
            article = articles[(run * 104729 + 13) % len(articles)]
            rel = article.relative_to(root / "content" / "articles").with_suffix("")
            page.goto(f"http://127.0.0.1:{port}/{rel.as_posix()}/")
            time.sleep(0.5)  # let the page's event stream connect
            marker = f"Seen in the browser, run {run}."
            start = _edit(article, marker)
            page.wait_for_function(
                "marker => document.body.innerText.includes(marker)",
                arg=marker,
                timeout=600_000,
                polling="raf",
            )
            times.append(time.perf_counter() - start)
            _drain(events)
        context.close()
    return times


def _edit(article: Path, sentence: str) -> float:
    """Append a paragraph to the article, as an editor saving it would; return when it closed."""
    text = article.read_text(encoding="utf-8")
    with article.open("w", encoding="utf-8") as handle:
        handle.write(f"{text.rstrip()}\n\n{sentence}\n")
    return time.perf_counter()


def _follow(port: int, events: queue.Queue[float]) -> None:
    """Put the arrival time of every state the server sends on its event stream."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    connection.request("GET", "/.digest/events")
    response = connection.getresponse()
    while line := response.readline():
        if line.startswith(b"data: "):
            events.put(time.perf_counter())
            json.loads(line[6:])


def _read_log(stream: IO[str], builds: queue.Queue[float]) -> None:
    for line in stream:
        if match := re.match(r"rebuilt in ([\d.]+) s", line):
            builds.put(float(match[1]))


def _drain(items: queue.Queue[float]) -> None:
    while not items.empty():
        items.get_nowait()


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f}), n={len(values)}"


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor()
    model = re.search(r"model name\s*:\s*(.+)", info)
    return f"{model[1] if model else platform.processor()}, {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
