#!/usr/bin/env python3
"""Build speed and memory of digest against Hugo, on the shared synthetic corpus.

For each size: generate the corpus (../shared/bench/gen_corpus.py), build it
with digest and with Hugo (Debian package ``hugo``, installed here with apt
when missing; bench/hugo/ makes it write digest's page set, `PAGE_SETS`), then time

* a cold build (no output, no caches), Hugo and digest interleaved, median of --runs,
  wall and CPU time, and the files each wrote by kind; with --pagefind, Hugo's build
  followed by ``pagefind --site public`` (PyPI ``pagefind[bin]``), the search index
  Hugo sites use;
* a rebuild with nothing changed;
* a rebuild after one article's body changed, then after its title changed
  (which its listings show), checked against a cold build of the same input
  (every page and feed must be byte-identical);
* the daily build: the 200 newest articles of a corpus of size + 200 arrive in an
  archive built without them (median of --runs, each from the same built archive),
  checked against a cold build of all size + 200;

and record each process's peak memory. --big adds one cold digest build of a
large corpus (100,000 by default). Results go to stdout and docs/performance.md.

    .venv/bin/python bench/build_speed.py --sizes 1000 10000 --big 100000 --pagefind
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GENERATOR = REPO.parent / "shared" / "bench" / "gen_corpus.py"
DIGEST = Path(sys.executable).with_name("digest")


@dataclass
class Run:
    seconds: float
    peak_mib: float
    cpu: float = 0.0
    """User + system seconds of the process, its threads and the children it waited for."""


def timed(command: list[str], cwd: Path) -> Run:
    """Run a command; its wall time, the peak resident memory of its process tree's largest,
    and its CPU time (wait4's usage: the process and every descendant it reaped)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{error}")
    if process.stderr:
        process.stderr.close()
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def reference() -> float:
    """A fixed Python loop's time: how quick the machine is just now (it varies by a third)."""
    loop = "for i in range(5_000_000): pass"
    return timed([sys.executable, "-c", loop], REPO).seconds


def generate(size: int, folder: Path, url_key: str) -> None:
    if (folder / "content").is_dir():
        return
    subprocess.run(
        [sys.executable, str(GENERATOR), "-n", str(size), "-o", str(folder), "--url-key", url_key],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def digest_site(size: int, work: Path, name: str = "digest") -> Path:
    root = work / f"{name}-{size}"
    generate(size, root, "url")
    (root / "digest.toml").write_text(
        'title = "Bench"\nbase_url = "https://bench.example/"\nper_page = 20\nfeed_items = 20\n',
        encoding="utf-8",
    )
    return root


def hugo_site(size: int, work: Path) -> Path:
    """The corpus as Hugo's content: digest's page set from Hugo's taxonomies and sections.

    Each article gains ``sources`` and ``editions`` terms (its source, its day in UTC, as
    digest's default timezone dates an edition); each month folder becomes a section (the
    monthly archive), and each year folder a section that is not rendered (digest has no
    yearly page).
    """
    root = work / f"hugo-{size}"
    generate(size, root, "source_url")
    shutil.copytree(HERE / "hugo", root, dirs_exist_ok=True)
    articles = root / "content" / "articles"
    for year in (p for p in articles.glob("*") if p.is_dir()):
        (year / "_index.md").write_text(
            f'---\ntitle: "{year.name}"\n_build:\n  render: never\n---\n', encoding="utf-8"
        )
        for month in (p for p in year.glob("*") if p.is_dir()):
            (month / "_index.md").write_text(f'---\ntitle: "{month.name}"\n---\n', "utf-8")
    for path in articles.rglob("*.md"):
        if path.name != "_index.md":
            _add_terms(path)
    return root


def _add_terms(path: Path) -> None:
    """Add the ``sources`` and ``editions`` front matter Hugo's taxonomies read, once."""
    text = path.read_text(encoding="utf-8")
    end = text.find("\n---\n", 4)
    head = text[:end]
    if end < 0 or "\neditions:" in head:
        return
    day = re.search(r"^date: (\S+)", head, re.MULTILINE)
    source = re.search(r"^source: (.+)$", head, re.MULTILINE)
    terms = f"\nsources: [{source[1]}]" if source else ""
    if day:
        moment = datetime.fromisoformat(day[1])
        terms += f'\neditions: ["{moment.astimezone(UTC).date().isoformat()}"]'
    path.write_text(head + terms + text[end:], encoding="utf-8")


def clear(root: Path, *names: str) -> None:
    for name in names:
        shutil.rmtree(root / name, ignore_errors=True)


KINDS = (
    ("search index", r"(search/[tr]|pagefind)/.*"),
    ("search cards", r"search/d/.*"),
    ("story pages", r"stories/[^/]+/index\.html"),
    ("story feeds", r"stories/.*"),
    ("articles", r"\d{4}/\d{2}/[^/]+/index\.html"),
    ("page 1 redirects", r"(topics|sources)/[^/]+/page/1/index\.html"),
    ("topic pages", r"topics/[^/]+/(page/\d+/)?index\.html"),
    ("topic feeds", r"topics/[^/]+/[^/]+\.(xml|json)"),
    ("source pages", r"sources/[^/]+/(page/\d+/)?index\.html"),
    ("month pages", r"(archive|articles)/\d{4}/\d{2}/index\.html"),
    ("edition pages", r"editions/[^/]+/index\.html"),
    ("site and edition feeds", r"(editions/)?(feed\.xml|atom\.xml|feed\.json)"),
    ("other", r".*"),
)
"""Kinds of output file, by path (first match): the same kind has the same path in digest's
site and in Hugo's, but for Hugo's monthly archives (``articles/``), its cards (one folder
each) and Pagefind's index.
"Other" is the home page, the topic, source, edition and month indexes, the search page,
the 404 page, sitemap, robots.txt and static files."""


def kinds(folder: Path) -> dict[str, int]:
    """How many files of each kind a build wrote (not counting hidden files such as digest's
    record of its output)."""
    found = dict.fromkeys((k for k, _ in KINDS), 0)
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and not path.name.startswith("."):
            kind = next(k for k, p in KINDS if re.fullmatch(p, name) and _is(k, path))
            found[kind] += 1
    return found


def _is(kind: str, path: Path) -> bool:
    """Whether a file whose path is of ``kind`` is one: digest's ``page/1/`` is the oldest
    page of its listing, Hugo's a redirect to the listing."""
    return kind != "page 1 redirects" or b'http-equiv="refresh"' in path.read_bytes()


def same_tree(one: Path, two: Path) -> bool:
    """Byte-identical trees: every file in both, with the same bytes."""
    first = {p.relative_to(one) for p in one.rglob("*") if p.is_file()}
    second = {p.relative_to(two) for p in two.rglob("*") if p.is_file()}
    return first == second and all(filecmp.cmp(one / p, two / p, shallow=False) for p in first)


def same_as_cold(site: Path, check: Path) -> bool:
    """Whether a cold build of ``site``'s input, in ``check``, gives the same files.

    Story ids are published addresses that depend on when articles arrived, so the
    stories' state is input, not cache: the cold twin gets it (docs/stories.md).
    """
    clear(check, ".")
    shutil.copytree(site, check, ignore=shutil.ignore_patterns("site", ".digest"))
    (check / ".digest").mkdir()
    shutil.copy(site / ".digest" / "stories.pickle", check / ".digest" / "stories.pickle")
    timed([str(DIGEST), "build"], check)
    identical = same_tree(site / "site", check / "site")
    clear(check, ".")
    return identical


def ensure_hugo() -> str:
    found = shutil.which("hugo")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], check=True)
    return shutil.which("hugo") or "hugo"


def find_pagefind() -> str:
    """Pagefind's binary, from PyPI's ``pagefind[bin]`` in this environment."""
    spec = importlib.util.find_spec("pagefind_bin")
    if spec is None or spec.origin is None:
        raise SystemExit(
            f"--pagefind needs Pagefind: {sys.executable} -m pip install 'pagefind[bin]'"
        )
    return str(Path(spec.origin).with_name("pagefind"))


def measure(size: int, work: Path, runs: int, hugo: str, pagefind: str | None) -> dict[str, object]:
    site = digest_site(size, work)
    other = hugo_site(size, work)
    cold, hugo_cold, indexed, loops = [], [], [], []
    for _ in range(runs):  # interleaved, so both meet the same machine
        loops.append(reference())
        clear(other, "public", "resources")
        hugo_cold.append(built := timed([hugo, "--quiet"], other))
        if pagefind:  # `hugo && pagefind --site public`: the Hugo build above, then Pagefind
            more = timed([pagefind, "--site", "public"], other)
            peak = max(built.peak_mib, more.peak_mib)
            indexed.append(Run(built.seconds + more.seconds, peak, built.cpu + more.cpu))
        clear(site, "site", ".digest", ".site.new", ".site.stage")
        cold.append(timed([str(DIGEST), "build"], site))
    digest_kinds, hugo_kinds = kinds(site / "site"), kinds(other / "public")
    unchanged = [timed([str(DIGEST), "build"], site) for _ in range(runs)]
    one = sorted((site / "content" / "articles").rglob("*.md"))[size // 2]
    edits, retitles = [], []
    for attempt in range(runs):
        loops.append(reference())
        with one.open("a", encoding="utf-8") as handle:
            handle.write(f"\nA sentence added by the benchmark, edit {attempt}.\n")
        edits.append(timed([str(DIGEST), "build"], site))
    for attempt in range(runs):  # shown in its listings, its neighbours' pages and feeds
        text = one.read_text(encoding="utf-8")
        title = re.search(r'^title: "?(.*?)"?$', text, re.MULTILINE)
        assert title, f"no title line in {one}"
        retitled = text.replace(title[0], f'title: "Retitled {attempt}: {title[1][:60]}"', 1)
        one.write_text(retitled, encoding="utf-8")
        retitles.append(timed([str(DIGEST), "build"], site))
    identical = same_as_cold(site, work / f"check-{size}")
    search = hugo_kinds["search index"]  # Pagefind's files, when it ran
    return {
        "size": size,
        "digest_cold": statistics.median(r.seconds for r in cold),
        "digest_cold_cpu": statistics.median(r.cpu for r in cold),
        "digest_cold_mib": max(r.peak_mib for r in cold),
        "hugo_cold": statistics.median(r.seconds for r in hugo_cold),
        "hugo_cold_cpu": statistics.median(r.cpu for r in hugo_cold),
        "hugo_cold_mib": max(r.peak_mib for r in hugo_cold),
        "pagefind_cold": statistics.median(r.seconds for r in indexed) if indexed else None,
        "pagefind_cold_cpu": statistics.median(r.cpu for r in indexed) if indexed else None,
        "unchanged": statistics.median(r.seconds for r in unchanged),
        "one_change": statistics.median(r.seconds for r in edits),
        "one_title": statistics.median(r.seconds for r in retitles),
        "identical": identical,
        "loop": statistics.median(loops),
        "load": os.getloadavg()[0],
        "digest_files": sum(digest_kinds.values()),
        "digest_story_files": digest_kinds["story pages"] + digest_kinds["story feeds"],
        "hugo_files": sum(hugo_kinds.values()) - search,
        "pagefind_files": search,
        "digest_kinds": digest_kinds,
        "hugo_kinds": hugo_kinds,
    }


DAILY = 200
"""Articles a daily build adds: a beat's day of feeds."""


def _day_of(path: Path) -> str:
    found = re.search(r"^date: (\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return found[1] if found else ""


def daily(size: int, work: Path, runs: int) -> dict[str, object]:
    """The build after the newest `DAILY` articles arrive in a built archive of ``size``."""
    site = digest_site(size + DAILY, work, "daily")
    articles = site / "content" / "articles"
    held = work / f"daily-{size + DAILY}-held"
    if not held.is_dir():
        newest = sorted(articles.rglob("*.md"), key=lambda p: (_day_of(p), str(p)))[-DAILY:]
        for path in newest:
            target = held / path.relative_to(articles)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.rename(target)
    arrived = [p.relative_to(held) for p in held.rglob("*.md")]
    for rel in arrived:  # a previous run ends with them in the archive
        (articles / rel).unlink(missing_ok=True)
    clear(site, "site", ".digest")
    timed([str(DIGEST), "build"], site)
    base = work / f"daily-{size + DAILY}-base"
    clear(base, ".")
    shutil.copytree(site, base, symlinks=True)
    builds = []
    for _ in range(runs):
        clear(site, ".")
        shutil.copytree(base, site, symlinks=True)
        for rel in arrived:
            shutil.copy2(held / rel, articles / rel)
        builds.append(timed([str(DIGEST), "build"], site))
    identical = same_as_cold(site, work / f"daily-{size + DAILY}-check")
    clear(base, ".")
    return {
        "size": size,
        "seconds": statistics.median(r.seconds for r in builds),
        "each": [round(r.seconds, 2) for r in builds],
        "identical": identical,
        "loop": reference(),
    }


def big(size: int, work: Path) -> dict[str, object]:
    site = digest_site(size, work)
    clear(site, "site", ".digest")
    run = timed([str(DIGEST), "build"], site)
    return {
        "size": size,
        "seconds": run.seconds,
        "mib": run.peak_mib,
        "files": sum(kinds(site / "site").values()),
    }


def report(
    rows: list[dict[str, object]],
    days: list[dict[str, object]],
    large: dict[str, object] | None,
    runs: int,
) -> str:
    lines = [
        "# Build performance",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} Linux,"
        f" {os.cpu_count()} cores, Python {platform.python_version()}"
        f" ({Path(sys.base_prefix) / 'bin'}: builds differ in speed), Hugo from Debian."
        " Regenerate with `.venv/bin/python bench/build_speed.py` next to `../shared`.",
        "",
        f"Medians of {runs} runs; cold builds of digest and Hugo interleaved, wall time with"
        " CPU time (user + system, the process and its children) beside it. Ratios are digest"
        ' over Hugo\'s cold build in the same run. "One body changed" appends a sentence to one'
        ' article, "one title changed" then retitles it, each time followed by `digest build`;'
        " the output is then compared byte for byte with a cold build of the same input.",
        "",
        "| articles | digest cold (CPU) | Hugo cold (CPU) | ratio | Hugo + Pagefind (CPU)"
        " | digest peak | Hugo peak | memory ratio | unchanged rebuild (× Hugo cold)"
        " | one body changed | one title changed | same as cold | files digest / Hugo |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        hugo = float(r["hugo_cold"])  # type: ignore[arg-type]
        both = (
            f"{r['pagefind_cold']:.2f} s ({r['pagefind_cold_cpu']:.2f} s)"
            if r["pagefind_cold"] is not None
            else "—"
        )
        lines.append(
            f"| {r['size']:,} | {r['digest_cold']:.2f} s ({r['digest_cold_cpu']:.2f} s)"
            f" | {hugo:.2f} s ({r['hugo_cold_cpu']:.2f} s)"
            f" | {float(r['digest_cold']) / hugo:.2f} | {both}"  # type: ignore[arg-type]
            f" | {r['digest_cold_mib']:.0f} MiB | {r['hugo_cold_mib']:.0f} MiB"
            f" | {float(r['digest_cold_mib']) / float(r['hugo_cold_mib']):.2f}"  # type: ignore[arg-type]
            f" | {r['unchanged']:.2f} s ({float(r['unchanged']) / hugo:.2f})"  # type: ignore[arg-type]
            f" | {r['one_change']:.2f} s | {r['one_title']:.2f} s"
            f" | {'yes' if r['identical'] else 'NO'}"
            f" | {r['digest_files']:,} / {r['hugo_files']:,} |"
        )
    lines += [
        "",
        "How quick the machine was: a fixed Python loop (`for i in range(5_000_000): pass`) took"
        + ",".join(
            f" {r['loop']:.2f} s during the {r['size']:,}-article runs (load {r['load']:.1f})"
            for r in rows
        )
        + " (medians; 0.17 s when it is quick, up to 0.3 s when it is not).",
        "",
        "Files written by a cold build, by kind (Hugo's search index is Pagefind's, when it"
        " ran; bench/build_speed.py `KINDS` says which path is which kind):",
        "",
        "| kind | " + " | ".join(f"digest {r['size']:,} | Hugo {r['size']:,}" for r in rows) + " |",
        "| --- |" + " --- | --- |" * len(rows),
    ]
    for kind, _ in KINDS:
        counts = [(r["digest_kinds"][kind], r["hugo_kinds"][kind]) for r in rows]  # type: ignore[index]
        lines.append(f"| {kind} | " + " | ".join(f"{d:,} | {h:,}" for d, h in counts) + " |")
    if days:
        lines += [
            "",
            f"Daily build: the {DAILY} newest articles arrive in a built archive, then"
            " `digest build` (target: 1.0 s at 10,000); the output is compared byte for byte"
            " with a cold build of the same input.",
            "",
            "| archive | daily build (median) | each run | same as cold | Python loop |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {d['size']:,} + {DAILY} | {d['seconds']:.2f} s | {d['each']}"
            f" | {'yes' if d['identical'] else 'NO'} | {d['loop']:.2f} s |"
            for d in days
        ]
    if large:
        lines += [
            "",
            f"{large['size']:,} articles, cold, digest alone: {large['seconds']:.0f} s,"
            f" peak {large['mib']:.0f} MiB, {large['files']:,} files.",
        ]
    lines += ["", PAGE_SETS, ""]
    return "\n".join(lines)


PAGE_SETS = (
    "Both tools build the same page set from the same corpus, except what only digest can make."
    " Each writes a page and a search card (JSON: title, address, source, date, topics,"
    " summary, the text's first 4,000 characters) per article; per topic, pages of 20 with"
    " RSS, Atom and JSON feeds of its 20 newest; per source, pages of 20; a page per month"
    " and per day's edition, with an index of each and the editions' three feeds; the site's"
    " three feeds, home page, sitemap, robots.txt, search and 404 pages. Hugo"
    " (bench/hugo/) does it with its own features: taxonomies for topics, sources and"
    " editions (bench/build_speed.py adds each article's source and UTC day to its front"
    " matter), a section per month, custom output formats for Atom, JSON Feed and the cards."
    " Hugo also writes a redirect from each paginated listing's `page/1/` (it has no setting"
    " to skip it). Hugo numbers listing pages from the newest, digest from the oldest (its"
    " index shows the newest full page and the newer articles that do not fill one), so"
    " digest writes a few fewer listing pages. digest alone writes its story pages and their"
    " Atom feeds (from its own clustering; none in Hugo's set) and its term-sharded search"
    " index; with `--pagefind`"
    " the Hugo + Pagefind column adds `pagefind --site public` after each Hugo build, the Hugo"
    " world's search index, of the article pages (`data-pagefind-body`). Times include"
    " starting the process."
)
"""What the page sets hold: the report's closing paragraph."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--big", type=int, default=100000, help="0 to skip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-daily", dest="daily", action="store_false", help="skip the daily build"
    )
    parser.add_argument(
        "--pagefind", action="store_true", help="also time Hugo's build followed by Pagefind"
    )
    parser.add_argument("--work", type=Path, default=REPO.parent / "digest-bench")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "performance.md")
    args = parser.parse_args()
    if not GENERATOR.exists():
        raise SystemExit(f"{GENERATOR} is missing: run next to ../shared")
    hugo = ensure_hugo()
    pagefind = find_pagefind() if args.pagefind else None
    # What installing a wheel does: the checkout's editable install has no bytecode when
    # PYTHONDONTWRITEBYTECODE is set, and each run would compile digest's modules again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "digest")], check=True)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        rows.append(measure(size, args.work, args.runs, hugo, pagefind))
        print(json.dumps(rows[-1]), flush=True)
    days = []
    for size in args.sizes if args.daily else []:
        days.append(daily(size, args.work, args.runs))
        print(json.dumps(days[-1]), flush=True)
    large = big(args.big, args.work) if args.big else None
    if large:
        print(json.dumps(large), flush=True)
    text = report(rows, days, large, args.runs)
    marker = "<!-- notes: kept when this file is regenerated -->"
    if args.docs.exists() and marker in (old := args.docs.read_text(encoding="utf-8")):
        text += "\n" + old[old.index(marker) :]
    args.docs.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
