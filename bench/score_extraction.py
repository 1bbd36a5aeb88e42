"""Score digest's cleaner on the shared extraction corpus and write docs/extraction.md.

Runs ``../shared/tools/score_extraction.py`` (token 4-gram F1 against hand-labelled
bodies) on both inputs, text dumps and saved HTML, with trafilatura alone as the
baseline for HTML; then checks metadata against the corpus's meta-tag hints (which
are not labels, but say what the page states). The corpus never enters the
repository: it is read from ../shared at run time.

    .venv/bin/python bench/score_extraction.py            # writes docs/extraction.md
    .venv/bin/python bench/score_extraction.py --no-write # prints only
    .venv/bin/python bench/score_extraction.py --meta-only --misses  # metadata, each miss

Metadata is counted over all pages whose hints give a field and over the pages whose
visible text states it, since a text dump cannot carry what only a meta tag says.

Every figure is also given leave-one-site-out (LOSO): the cleaner's tunable thresholds
(`digest.clean.furniture.Thresholds`) are chosen on all sites but one from a small grid,
the site left out is cleaned with them, and this is repeated for every site; the
held-out pages are then scored together. A rule that raises the plain score but not the
LOSO one has been fitted to the set. "Emptied" counts pages whose body keeps under a
tenth of the article's 4-grams; "unsure" those the cleaner marks as not knowing.
"""

from __future__ import annotations

import argparse
import calendar
import gzip
import importlib.util
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import trafilatura
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, get_month_names

from digest.clean import Extract, clean_html, clean_text
from digest.clean.furniture import DEFAULT, Thresholds

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SCORER = SHARED / "tools" / "score_extraction.py"
CORPUS = SHARED / "corpus" / "extraction"
SAVED = date(2020, 1, 1)


def clean(content: str, kind: str) -> str:
    """The body digest makes of one page: the callable the shared scorer runs."""
    if kind == "text":
        return clean_text(content, name_date=None, saved=SAVED).body
    return clean_html(content).body


GRIDS = {
    "text": [
        Thresholds(boilerplate=b, heading_cost=c)
        for b, c in itertools.product((0.15, 0.2, 0.3), (3.0, 4.0, 5.0))
    ],
    "html": [Thresholds(link_share=share) for share in (0.6, 0.7, 0.8, 0.9)],
}
EMPTIED = 0.1


@dataclass
class Loso:
    """Leave-one-site-out figures for one input, beside the plain ones (default thresholds)."""

    plain: dict[str, float]
    held_out: dict[str, float]
    emptied_plain: int
    emptied_held_out: int
    unsure: int
    pages: int
    chosen: dict[Thresholds, int]
    pages_per_s: float
    sites: int


def scorer() -> Any:
    """The shared scorer as a module: its 4-gram counts and aggregation, not a copy of them."""
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_input(record: dict[str, Any], kind: str) -> str:
    if kind == "text":
        text: str = (CORPUS / record["files"]["text"]).read_text(encoding="utf-8")
        return text
    with gzip.open(CORPUS / record["files"]["html"], "rt", encoding="utf-8") as f:
        page: str = f.read()
    return page


def extract_with(content: str, kind: str, limits: Thresholds) -> Extract:
    if kind == "text":
        return clean_text(content, name_date=None, saved=SAVED, limits=limits)
    return clean_html(content, limits=limits)


def loso(records: list[dict[str, Any]], kind: str) -> Loso:
    """Choose thresholds on the other sites, score each site with them."""
    tool = scorer()
    truths = [(CORPUS / r["files"]["truth"]).read_text(encoding="utf-8") for r in records]
    inputs = [page_input(r, kind) for r in records]
    counts: dict[Thresholds, list[tuple[float, float, float]]] = {}
    unsure: dict[Thresholds, list[bool]] = {}
    seconds = 0.0
    for limits in GRIDS[kind]:
        started = time.process_time()
        got = [extract_with(content, kind, limits) for content in inputs]
        if limits == GRIDS[kind][0]:
            seconds = time.process_time() - started
        counts[limits] = [
            tool.page_counts(truth, tool.markdown_to_text(e.body))
            for truth, e in zip(truths, got, strict=True)
        ]
        unsure[limits] = [e.unsure for e in got]
    plain = counts.get(DEFAULT) or [
        tool.page_counts(t, tool.markdown_to_text(extract_with(c, kind, DEFAULT).body))
        for t, c in zip(truths, inputs, strict=True)
    ]
    held: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)] * len(records)
    held_unsure = [False] * len(records)
    chosen: dict[Thresholds, int] = {}
    for site in sorted({r["site"] for r in records}):
        train = [i for i, r in enumerate(records) if r["site"] != site]
        # Mean page F1, not the scorer's F1 of means: that one averages precision only over
        # pages with output, so a threshold that empties a page would look better.
        best = max(
            GRIDS[kind],
            key=lambda t: statistics.fmean(
                tool.harmonic(tool.page_precision(*c), tool.page_recall(*c))
                for c in (counts[t][i] for i in train)
            ),
        )
        chosen[best] = chosen.get(best, 0) + 1
        for i, r in enumerate(records):
            if r["site"] == site:
                held[i], held_unsure[i] = counts[best][i], unsure[best][i]

    def emptied(rows: list[tuple[float, float, float]]) -> int:
        return sum(tool.page_recall(*c) < EMPTIED for c in rows)

    return Loso(
        plain=tool.aggregate(plain),
        held_out=tool.aggregate(held),
        emptied_plain=emptied(plain),
        emptied_held_out=emptied(held),
        unsure=sum(held_unsure),
        pages=len(records),
        chosen=chosen,
        pages_per_s=len(records) / seconds if seconds else 0.0,
        sites=sum(chosen.values()),
    )


def trafilatura_only(content: str) -> str:
    """trafilatura with its defaults: the baseline HTML must beat."""
    return trafilatura.extract(content) or ""


def score(callable_: str, kind: str, label: str) -> dict[str, Any]:
    """One run of the shared scorer (one process, one core), as its JSON summary."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "score.json"
        subprocess.run(
            [
                sys.executable,
                str(SCORER),
                "--set",
                "shared",
                "--input",
                kind,
                "--callable",
                f"{Path(__file__).resolve()}:{callable_}",
                "--label",
                label,
                "--jobs",
                "1",
                "--json",
                str(out),
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        summary: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))[0]
    return summary


def half_f1(per_page: list[dict[str, Any]], groups: dict[str, str], half: int) -> float:
    """The scorer's F1 (mean precision, mean recall) on one half of the site groups."""
    rows = [p for p in per_page if half_of(groups[p["id"]]) == half]
    precisions = [p["precision"] for p in rows if p["precision"] is not None]
    p = statistics.fmean(precisions) if precisions else 0.0
    r = statistics.fmean(p["recall"] for p in rows)
    return 2 * p * r / (p + r) if p + r else 0.0


# ---------------------------------------------------------------------------
# metadata against the manifest's hints
# ---------------------------------------------------------------------------

_MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}


def hinted_day(value: str | None) -> date | None:
    """The day a ``published`` hint states, as written (no time-zone shift)."""
    if not value:
        return None
    if iso := re.match(r"(\d{4})-(\d{2})-(\d{2})", value):
        return date(*map(int, iso.groups()))
    if m := re.search(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})", value):
        month, day, year = m.groups()
    elif m := re.search(r"(\d{1,2}) ([A-Za-z]+)\.? (\d{4})", value):
        day, month, year = m.groups()
    else:
        return None
    number = _MONTHS.get(month.lower())
    return date(int(year), number, int(day)) if number else None


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def first_author(value: str) -> str:
    """The first name a byline hint gives: "Analysis by X, CNN Editor" names X."""
    value = re.sub(r"^(?:\w+ )?by ", "", value, flags=re.IGNORECASE)
    return norm(re.split(r",| and |\|", value)[0]).casefold()


def fold(text: str) -> str:
    """Lower case, ordinals dropped, every run of punctuation and space one space.

    "Nov. 20th, 2019", "20.11.2019" and "2019-11-20" then compare as plain words.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"(?<=\d)(?:st|nd|rd|th)\b", "", text)
    return " " + " ".join(re.findall(r"\w+", text)) + " "


# Languages a date may be written in besides the page's own (the corpus is mostly English).
_LOCALES = ("en", "en_GB", "de", "fr", "es", "pt", "it", "nl", "id", "ru", "ja", "zh")


def day_renderings(day: date, lang: str | None) -> set[str]:
    """Ways a page may write ``day``: numeric orders, English and localized month names.

    Relative forms ("2 hours ago") are not renderings of a day.
    """
    y, m, d = day.year, day.month, day.day
    numeric = {
        f"{y} {m:02} {d:02}",
        f"{y} {m} {d}",
        f"{d:02} {m:02} {y}",
        f"{d} {m} {y}",
        f"{m:02} {d:02} {y}",
        f"{m} {d} {y}",
        f"{m} {d} {y % 100:02}",
        f"{d} {m} {y % 100:02}",
        f"{y}年{m}月{d}日",
    }
    locales = {*_LOCALES, *([lang.replace("-", "_")] if lang else [])}
    named: set[str] = set()
    for name in locales:
        try:
            locale = Locale.parse(name)
        except (ValueError, UnknownLocaleError):
            continue
        for length in ("short", "medium", "long", "full"):
            named.add(format_date(day, length, locale=locale))
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                month = get_month_names(width, context, locale)[m]
                named |= {f"{d} {month} {y}", f"{month} {d} {y}", f"{d} de {month} de {y}"}
    return {fold(r) for r in numeric | named}


def states_day(dump: str, day: date, lang: str | None) -> bool:
    folded = fold(dump)
    return any(r in folded for r in day_renderings(day, lang))


def states_line(dump: str, values: set[str]) -> bool:
    """Whether one of ``values`` is a whole line of the dump (whitespace folded)."""
    return any(norm(line) in values for line in dump.splitlines())


def names_it(dump: str, name: str) -> bool:
    """Whether the dump mentions ``name`` as words (case and punctuation folded)."""
    return fold(name).strip() != "" and fold(name) in fold(dump)


def shows_site(dump: str, name: str) -> bool:
    """Whether the dump shows ``name`` as a site's name: as words in a short line (masthead,
    menu, footer: eight words or fewer) or in a copyright line, not only inside prose or
    an address ("tips@space.com" does not show "Space.com")."""
    return any(
        (len(line.split()) <= 8 or re.search(r"©|\bcopyright\b", line, re.IGNORECASE))
        and names_it(re.sub(r"\S+@\S+", " ", line), name)
        for line in dump.splitlines()
    )


@dataclass
class Tally:
    """Right answers out of pages whose hints give the field, and out of those whose
    visible text states it, overall and per half of the site groups."""

    right: int = 0
    hinted: int = 0
    right_stated: int = 0
    stated: int = 0
    halves: list[list[int]] = field(default_factory=lambda: [[0, 0], [0, 0]])

    def add(self, hinted: bool, stated: bool, right: bool, half: int) -> None:
        self.hinted += hinted
        self.right += hinted and right
        if hinted and stated:
            self.stated += 1
            self.right_stated += right
            self.halves[half][0] += right
            self.halves[half][1] += 1

    def cells(self) -> list[str]:
        return [
            share(self.right, self.hinted),
            share(self.right_stated, self.stated),
            share(*self.halves[0]),
            share(*self.halves[1]),
        ]


def share(right: int, total: int) -> str:
    return f"{right}/{total} ({right / total:.0%})" if total else "–"


def half_of(group: str) -> int:
    return zlib.crc32(group.encode()) % 2


def check_metadata(
    records: list[dict[str, Any]], kind: str, misses: bool = False
) -> dict[str, Tally]:
    tallies = {field: Tally() for field in ("title", "date", "site name", "first author")}
    for record in records:
        hints = record["hints"]
        dump = (CORPUS / record["files"]["text"]).read_text(encoding="utf-8")
        if kind == "text":
            got: Extract = clean_text(dump, name_date=None, saved=SAVED)
        else:
            with gzip.open(CORPUS / record["files"]["html"], "rt", encoding="utf-8") as f:
                got = clean_html(f.read())
        half = half_of(record["group"])
        found: dict[str, tuple[bool, bool, bool, str, str]] = {}

        titles = {norm(t) for t in (hints.get("title"), hints.get("h1")) if t}
        if site := hints.get("site_name"):  # "Headline - Site" in a meta tag
            titles |= {re.sub(rf"\s+[-|–—:]\s+{re.escape(norm(site))}$", "", t) for t in titles}
        found["title"] = (
            bool(titles),
            states_line(dump, titles),
            norm(got.title) in titles,
            " / ".join(titles),
            got.title,
        )
        day = hinted_day(hints.get("published"))
        published = got.published
        got_day = published.date() if isinstance(published, datetime) else published
        found["date"] = (
            day is not None,
            day is not None and states_day(dump, day, hints.get("lang")),
            got_day == day,
            str(day),
            str(got_day),
        )
        site = hints.get("site_name") or ""
        hinted = bool(site) and not site.startswith("http")
        found["site name"] = (
            hinted,
            hinted and shows_site(dump, site),
            norm(got.source).casefold() == norm(site).casefold(),
            site,
            got.source,
        )
        author = hints.get("author") or ""
        hinted = bool(author) and not author.startswith("http")
        found["first author"] = (
            hinted,
            hinted and names_it(dump, first_author(author)),
            bool(got.authors) and first_author(got.authors[0]) == first_author(author),
            author,
            "; ".join(got.authors),
        )
        for name, (hinted, stated, right, want, have) in found.items():
            tallies[name].add(hinted, stated, right, half)
            if misses and hinted and not right:
                flag = "stated" if stated else "unstated"
                print(f"{kind} {record['id']} {name} ({flag}): want {want!r}, got {have!r}")
    return tallies


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def loso_rows(held: dict[str, Loso]) -> list[str]:
    lines = [
        "",
        "## Leave one site out",
        "",
        "The thresholds of `digest.clean.furniture.Thresholds` are chosen from a small grid",
        "(text: boilerplate share × heading cost; HTML: link share) on all sites but one;",
        "the site left out is cleaned with them; this is repeated for each of the "
        f"{max(run.sites for run in held.values())} sites",
        "and the held-out pages are scored together with the shared scorer's own counts.",
        f"*Emptied*: pages whose body keeps under {EMPTIED:.0%} of the article's 4-grams.",
        "*Unsure*: pages the cleaner marks as not knowing which block is the article.",
        "pages/s is CPU time of one core for the cleaner alone, in process.",
        "",
        "| input | plain F1 | LOSO F1 | LOSO precision | LOSO recall | emptied plain "
        "| emptied LOSO | unsure | pages/s/core | thresholds chosen (folds) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, run in held.items():
        chosen = "; ".join(
            f"{_fields(t, kind)} ({n})" for t, n in sorted(run.chosen.items(), key=lambda x: -x[1])
        )
        lines.append(
            f"| {kind} | {run.plain['f1']:.3f} | {run.held_out['f1']:.3f} "
            f"| {run.held_out['precision']:.3f} | {run.held_out['recall']:.3f} "
            f"| {run.emptied_plain}/{run.pages} | {run.emptied_held_out}/{run.pages} "
            f"| {run.unsure}/{run.pages} | {run.pages_per_s:.0f} | {chosen} |"
        )
    return lines


def _fields(limits: Thresholds, kind: str) -> str:
    if kind == "html":
        return f"link share {limits.link_share}"
    return f"boilerplate {limits.boilerplate}, heading cost {limits.heading_cost}"


def report(
    runs: list[dict[str, Any]],
    meta: dict[str, dict[str, Tally]],
    groups: dict[str, str],
    held: dict[str, Loso],
) -> str:
    cores = os.cpu_count()
    lines = [
        "# Extraction quality",
        "",
        "How well `digest clean` recovers article bodies and metadata, measured on the shared",
        "extraction corpus (60 real pages from the Scrapinghub article-extraction benchmark,",
        "each as a whole-page text dump and as saved HTML, with hand-labelled bodies). The",
        "corpus is not in this repository; regenerate this page with",
        "`.venv/bin/python bench/score_extraction.py` next to `../shared`.",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} Linux, {cores} cores "
        "(`nproc`; one used: `--jobs 1`), "
        f"Python {platform.python_version()}, trafilatura {version('trafilatura')}.",
        "",
        "## Article bodies",
        "",
        "Token 4-gram F1 with bootstrap standard deviations (the scorer's own metric).",
        "Halves A and B split the site groups by a hash of the group name: a rule that helps",
        "one half only is over-fitted.",
        "",
        "| cleaner | input | F1 | precision | recall | mean page F1 | F1 half A | F1 half B "
        "| empty | errors | pages/s (CPU) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in runs:
        lines.append(
            f"| {s['label']} | {s['input']} | {s['f1']:.3f} ±{s['f1_std']:.3f} "
            f"| {s['precision']:.3f} | {s['recall']:.3f} | {s['macro_f1']:.3f} "
            f"| {half_f1(s['per_page'], groups, 0):.3f} | {half_f1(s['per_page'], groups, 1):.3f} "
            f"| {s['empty']} | {s['errors']} | {s['pages_per_cpu_s']:.0f} |"
        )
    lines += loso_rows(held)
    lines += [
        "",
        "## Metadata",
        "",
        "Compared with the pages' own meta tags (the manifest's `hints`, not hand labels):",
        "title equal to the `title` or `h1` hint (whitespace folded), day equal to the day",
        "the `published` hint states, site name equal to `site_name` (case folded), first",
        "author equal to the hint's first name. For HTML, digest reads some fields from the",
        "same meta tags (the date from `article:published_time` or JSON-LD `datePublished`",
        "when it is within a day of trafilatura's), so there the figures show agreement with",
        "the page's own metadata rather than skill.",
        "",
        "Hints come from meta tags, which a text dump does not carry, so each field is",
        "counted twice. *All hinted* counts every page whose hints give the field (the",
        "strict figure). *States it* counts only pages whose visible text (the text dump)",
        "states it: the title or h1 as a whole line; the day in some written form (ISO,",
        "day-month-year and month-day-year numbers, English and localized month names from",
        "Babel for the page's language and a dozen common ones; relative forms like",
        '"2 hours ago" do not count); the site name as words in a short line (eight words',
        "or fewer: masthead, menus, footer) or a copyright line, not only inside prose or an",
        "e-mail address; the first author as words anywhere. The same pages are used for",
        "both inputs. Halves as above, on *states it*.",
        "",
        "| input | field | all hinted | states it | states it, half A | states it, half B |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, tallies in meta.items():
        for name, tally in tallies.items():
            lines.append(f"| {kind} | {name} | " + " | ".join(tally.cells()) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs/")
    parser.add_argument(
        "--meta-only", action="store_true", help="check metadata only (no body scores, no write)"
    )
    parser.add_argument("--misses", action="store_true", help="list each wrong metadata field")
    args = parser.parse_args(argv)
    if not SCORER.is_file():
        print(f"{SCORER} is absent: put the shared folder next to this checkout", file=sys.stderr)
        return 1
    records = [
        json.loads(line)
        for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    groups = {r["id"]: r["group"] for r in records}
    if args.meta_only:
        for kind in ("text", "html"):
            for name, tally in check_metadata(records, kind, args.misses).items():
                print(kind, name, *tally.cells(), sep=" | ")
        return 0
    runs = [
        score("clean", "text", "digest"),
        score("clean", "html", "digest"),
        score("trafilatura_only", "html", "trafilatura alone"),
    ]
    meta = {kind: check_metadata(records, kind, args.misses) for kind in ("text", "html")}
    held = {kind: loso(records, kind) for kind in ("text", "html")}
    text = report(runs, meta, groups, held)
    print(text)
    if not args.no_write:
        (REPO / "docs").mkdir(exist_ok=True)
        (REPO / "docs" / "extraction.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
