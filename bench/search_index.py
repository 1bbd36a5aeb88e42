#!/usr/bin/env python3
"""Search indexing: digest's own index against Pagefind, on the shared synthetic corpus.

For each size: generate the corpus (../shared/bench/gen_corpus.py, digest.toml as
bench/build_speed.py writes it), build the site once, then time

* a full index: every article read, weighed and written into the term shards
  (`digest.render.plan.search_shards` with no kept index), wall and CPU;
* a one-article edit: a full `digest build` after a body edit (the resumed build,
  which re-indexes only that article's shards), wall;
* what a query downloads: the shards of a two-word query and of the commonest word,
  and the cards of ten results;

and, with --pagefind (PyPI ``pagefind[bin]`` installed), Pagefind's command line on
the same site's HTML pages, interleaved with the full index (--rounds of each), wall and
CPU: the machine is shared, and its load changes by the minute. Figures go to stdout;
docs/search.md holds them.

    .venv/bin/python bench/search_index.py --sizes 1000 10000 --pagefind
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_speed import digest_site, reference, timed  # noqa: E402

DIGEST = Path(sys.executable).with_name("digest")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def full_index(root: Path) -> tuple[float, float]:
    """Wall and CPU seconds of indexing every article, with no kept index."""
    from digest import archive, config, group
    from digest.render import Rendered, plan, search

    cfg = config.load(root)
    loaded = archive.load(cfg, None, workers=1)
    bodies = archive.Bodies({s.article.id: s for s in loaded.stored})
    articles, _ = group.group(
        [group.assign(s.article, cfg.topics) for s in loaded.stored], cfg.topics
    )
    paths = plan.article_paths(articles, Rendered())
    keys = {a.id: plan.keys_of(a, paths[a.id], cfg, bodies) for a in articles}
    search.forget(cfg)
    gc.disable()  # as in a build (digest.build._collector_paused)
    gc.freeze()
    start, used = time.perf_counter(), cpu()
    plan.search_shards(cfg, articles, keys, bodies)
    seconds, spent = time.perf_counter() - start, cpu() - used
    gc.enable()
    return seconds, spent


def one_edit(root: Path) -> float:
    """A build after one article's body changed: the resumed build, search included."""
    target = sorted((root / "content" / "articles").rglob("*.md"))[
        len(list((root / "content" / "articles").rglob("*.md"))) // 2
    ]
    text = target.read_text("utf-8")
    target.write_text(text + "\nA sentence added with the word zanzibarian.\n", "utf-8")
    run = timed([str(DIGEST), "build"], root)
    shards = (root / "site" / "search").glob("[tr]/*.json")
    assert any("zanzibarian" in p.read_text("utf-8") for p in shards), "not indexed"
    return run.seconds


def downloads(site: Path) -> dict[str, int]:
    """Bytes a query fetches: its words' shards (one in each tier) and ten results' cards."""
    from digest.render import search

    page = (site / "search" / "index.html").read_text("utf-8")
    counts = {
        "t": int(page.split('data-shards="')[1].split('"')[0]),
        "r": int(page.split('data-recent="')[1].split('"')[0]),
    }
    sizes: dict[str, int] = {}
    for tier, count in counts.items():
        if count:
            found = sorted(p.stat().st_size for p in (site / "search" / tier).iterdir())
            sizes[f"largest shard ({tier})"] = found[-1]
            sizes[f"median shard ({tier})"] = found[count // 2]
    for query in ("sanctions yuan", "санкции газ"):
        terms = list(dict.fromkeys(search.words(query)))
        shard_bytes = 0
        cards: dict[str, int] = {}
        for term in terms:
            for tier, count in counts.items():
                if not count:
                    continue
                path = site / "search" / tier / f"{search.shard_of(term, count)}.json"
                shard_bytes += path.stat().st_size
                lists = json.loads(path.read_text("utf-8")).get(term, [[], [], []])
                for card, weight in zip(lists[0], lists[1], strict=True):
                    cards[card] = cards.get(card, 0) + weight
        best = sorted(cards, key=lambda c: -cards[c])[:10]
        card_bytes = sum((site / "search" / "d" / f"{c}.json").stat().st_size for c in best)
        sizes[f"query '{query}'"] = shard_bytes + card_bytes
    return sizes


TYPE_AND_WAIT = """(query) => new Promise((done) => {
  const status = document.getElementById("status");
  const start = performance.now();
  const seen = new MutationObserver(() => {
    if (document.querySelector("#results li") || /No article/.test(status.textContent)) {
      seen.disconnect();
      done(performance.now() - start);
    }
  });
  const all = {subtree: true, childList: true, characterData: true};
  seen.observe(document.getElementById("main"), all);
  const field = document.getElementById("q");
  field.value = query;
  field.dispatchEvent(new Event("input", {bubbles: true}));
})"""
"""Type a whole query at once; milliseconds until the first results (or none) show."""


def first_results(site: Path) -> list[tuple[str, float]]:
    """Milliseconds from typing a query to its first results, in Chromium, site served locally."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import sync_playwright

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    timings = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"]
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/search/")
            for query in ("sanctions", "sanctions yuan", "санкции газ", "Kremlin pipeline"):
                page.locator("#q").fill("")
                page.wait_for_timeout(200)
                elapsed = page.evaluate(TYPE_AND_WAIT, query)
                timings.append((query, float(elapsed)))
            browser.close()
    finally:
        server.shutdown()
    return timings


def pagefind(site: Path) -> tuple[float, float, float, int]:
    """Pagefind's command line once on the site's pages: wall and CPU seconds (its threads
    and children), peak MiB, index bytes."""
    import importlib.util

    spec = importlib.util.find_spec("pagefind_bin")  # PyPI pagefind[bin]: its binary
    if spec is None or spec.origin is None:
        raise SystemExit("pip install 'pagefind[bin]' first")
    binary = str(Path(spec.origin).with_name("pagefind"))
    out = site.parent / "pagefind-out"
    shutil.rmtree(out, ignore_errors=True)
    command = [binary, "--site", str(site), "--output-path", str(out)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, size


def load() -> str:
    """The load average over the last minute, as `uptime` shows it."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--work", type=Path, default=HERE.parent.parent / "digest-search-bench")
    parser.add_argument("--pagefind", action="store_true", help="also run Pagefind")
    parser.add_argument("--rounds", type=int, default=2, help="of the timings, interleaved")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"reference loop {reference():.2f} s")  # fmt: skip
    for size in args.sizes:
        root = digest_site(size, args.work)
        shutil.rmtree(root / "site", ignore_errors=True)
        shutil.rmtree(root / ".digest", ignore_errors=True)
        build = timed([str(DIGEST), "build"], root)
        print(f"{size} articles: cold build {build.seconds:.1f} s, peak {build.peak_mib:.0f} MiB")
        for _ in range(args.rounds):  # interleaved: the machine's load changes by the minute
            wall, spent = full_index(root)
            print(f"  full index: {wall:.1f} s wall, {spent:.1f} s CPU; load {load()}")
            if args.pagefind:
                seconds, used, peak, size_bytes = pagefind(root / "site")
                print(
                    f"  Pagefind: {seconds:.1f} s wall, {used:.1f} s CPU, peak {peak:.0f} MiB, "
                    f"index {size_bytes / 1e6:.0f} MB; load {load()}"
                )
        subprocess.run([str(DIGEST), "build"], cwd=root, check=True, capture_output=True)
        print(f"  build after a one-article edit: {one_edit(root):.2f} s")
        for name, value in downloads(root / "site").items():
            print(f"  {name}: {value / 1000:.0f} kB")
        total = sum(p.stat().st_size for p in (root / "site" / "search").rglob("*"))
        print(f"  index on disk: {total / 1e6:.0f} MB")
        for _ in range(args.rounds):
            timings = ", ".join(f"'{q}' {ms:.0f}" for q, ms in first_results(root / "site"))
            print(f"  first results in Chromium, ms from typing (a new page): {timings}")


if __name__ == "__main__":
    main()
