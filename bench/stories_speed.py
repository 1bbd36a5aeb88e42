"""Stories' speed on the shared synthetic corpus: articles per second, and an update.

Generates (or reuses) ``../shared/bench/gen_corpus.py`` articles in /tmp, reads
their front matter and Markdown bodies, then times in-process, vectorising
included: (1) grouping 10,000 articles from an empty state, counting words on every core as
the build does; (2) adding 200 new articles to that 10,000-article state (the build's
incremental case); (3) the pickled state's size, and memory: the process's peak, and what
the state holds once placed (resident memory after, less before). Each time is given as
wall time and as CPU time (this process's and its workers'), since the machine is shared.
With ``--traced``, the placement is run again under tracemalloc: the Python memory the
state holds and the peak of the call, which resident memory blurs (memory a call frees
stays with the process).

    .venv/bin/python bench/stories_speed.py [-n 10000] [--add 200] [--traced]
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import yaml

from digest.stories import Report, State

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def corpus(n: int) -> list[Report]:
    root = Path(f"/tmp/digest-stories-corpus-{n}")  # noqa: S108 (a cache of generated input)
    if not root.is_dir():
        generator = SHARED / "bench" / "gen_corpus.py"
        subprocess.run([sys.executable, str(generator), "-n", str(n), "-o", str(root)], check=True)
    reports = []
    for path in sorted((root / "content" / "articles").rglob("*.md")):
        _, head, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(head)
        reports.append(
            Report(
                id=path.stem,
                title=str(meta["title"]),
                text=body,
                date=date.fromisoformat(str(meta["date"])[:10]),
                source=str(meta.get("source", "")),
                url=str(meta.get("url", "")),
            )
        )
    return reports


def _rss() -> float:
    """Resident memory now, in MB (Linux)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def _cpu() -> float:
    """CPU seconds of this process and of its finished workers."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--add", type=int, default=200)
    parser.add_argument("--traced", action="store_true", help="measure under tracemalloc too")
    args = parser.parse_args()
    reports = corpus(args.n + args.add)
    reports.sort(key=lambda r: (r.date, r.id))
    archive, new = reports[: args.n], reports[args.n :]
    before = _rss()
    state = State()
    start, cpu = time.perf_counter(), _cpu()
    state.add(archive, workers=os.cpu_count() or 1)  # as the build does
    cold, cold_cpu = time.perf_counter() - start, _cpu() - cpu
    held = _rss() - before
    stories = len(set(state.assignment().values()))
    print(
        f"{args.n} articles from empty: {cold:.2f} s ({cold_cpu:.2f} s CPU),",
        f"{args.n / cold:.0f} articles/s, {stories} stories;",
        f"state holds {held:.0f} MB ({held * 1e3 / args.n:.1f} KB an article)",
    )
    start, cpu = time.perf_counter(), _cpu()
    state.add(new)
    warm, warm_cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"{args.add} new articles into {args.n}: {warm:.3f} s ({warm_cpu:.3f} s CPU)")
    blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    start = time.perf_counter()
    pickle.loads(blob)  # noqa: S301 (our own bytes)
    load = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"state: {len(blob) / 1e6:.1f} MB pickled, loads in {load:.2f} s")
    print(f"peak RSS {peak:.0f} MB, of which {before:.0f} MB before placing (the corpus)")
    if args.traced:
        del state
        tracemalloc.start()
        traced = State()
        traced.add(archive, workers=os.cpu_count() or 1)
        held, top = (size / 1e6 for size in tracemalloc.get_traced_memory())
        tracemalloc.stop()
        print(
            f"traced: the state holds {held:.1f} MB ({held * 1e3 / args.n:.1f} KB an article),",
            f"the placement peaks at {top:.1f} MB ({top * 1e3 / args.n:.1f} KB an article)",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
