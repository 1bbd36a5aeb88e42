"""The static search index: term shards and a card per article, read by static/search.js.

No server: a query fetches the shard of each of its terms (a term goes to a shard
by its CRC-32, which both sides compute) and the cards of the best few results. A
shard maps each term to three lists: the cards of the articles that have it, its
weight in each, and their days; a topic or source filter is one more term
(``topic:…``, ``source:…``). Chinese and Japanese, written without spaces, are
indexed as overlapping pairs of characters, as the query is. Why digest writes
its own index rather than run Pagefind: docs/search.md.

A large archive's index has two tiers (`tiers`): its latest few hundred articles
in a few shards, the older in many. A day's new articles then rewrite the few, and
the many once every thousand articles.

Indexing is incremental: ``.digest/search.sqlite`` keeps every shard (its file's
bytes and the entries the file leaves out) and each article's weighed terms, so an
edited, new or deleted article changes only the shards of the words whose weight
changed, and an unchanged archive reads no body.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import marshal
import re
import sqlite3
import unicodedata
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from digest import sqlitefile
from digest.model import language_tag

if TYPE_CHECKING:
    from digest.config import Config
    from digest.model import Article

VERSION = 5
"""Of the tokenizer and the files' layout: a change makes the index again."""
_FILE = "search.sqlite"
TEXT_KEPT = 4000
"""Characters of an article's text kept in its card, for the excerpt."""
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_CJK_FIRST = "\u3040"
"""No character before it is in `_CJK`: a cheaper test of most words."""
_STOP_WORDS = (
    "a an and are as at be but by for from has have in is it its of on or that the this to "
    "was were will with и в во на не что с со к по из за от"
)
_STOP = frozenset(_STOP_WORDS.split())
"""Words in nearly every article: their lists would be most of a query's download."""
_LONGEST = 40
WEIGHTS = {"title": 5, "topics": 3, "source": 3, "summary": 2, "body": 1}


def words(text: str) -> list[str]:
    """The terms of a text, each as often as it occurs: lower-cased words, runs of CJK
    characters as overlapping pairs, common words left out. static/search.js splits a
    query the same way."""
    return [t for t, n in term_counts(text).items() for _ in range(n)]


def term_counts(text: str) -> Counter[str]:
    """How often each term of `words` occurs in ``text``."""
    text = unicodedata.normalize("NFKC", text).lower()
    found = Counter(_WORD.findall(text))
    for word in _STOP.intersection(found):
        del found[word]
    if not text.isascii() and _CJK.search(text):  # isascii reads a flag: no scan
        for word in [w for w in found if max(w) >= _CJK_FIRST and _CJK.search(w)]:
            times = found.pop(word)
            for n, part in enumerate(_CJK.split(word)):
                if n % 2:  # a CJK run
                    pairs = range(len(part) - 1) if len(part) > 1 else (0,)
                    for pair in (part[i : i + 2] for i in pairs):
                        found[pair] += times
                elif part and part not in _STOP:
                    found[part] += times
    if max(map(len, found), default=0) > _LONGEST:
        for word in [w for w in found if len(w) > _LONGEST]:
            del found[word]
    return found


def shard_of(term: str, count: int) -> int:
    """CRC-32 of the term's UTF-8, modulo ``count``: static/search.js computes the same."""
    return zlib.crc32(term.encode("utf-8")) % count


def shard_count(articles: int) -> int:
    """Shards for an archive: a power of two near one per article, 16 to 8192. An edit
    rewrites a shard per distinct word of the article (300 or so): small shards keep that
    quick, and a query's download small."""
    count = 16
    while count < 8192 and count * 4 < articles * 5:
        count *= 2
    return count


def card_name(article_id: str) -> str:
    """An article's card file (``search/d/NAME.json``) and its name in the shards: 50 bits
    of a hash, in ten characters."""
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=7).digest()
    return base64.b32encode(digest)[:10].decode("ascii").lower()


def weights(article: Article, text: str) -> Counter[str]:
    """Each term's weight in an article: its occurrences, counted more in the title.

    The fields are counted as one text in which each appears as many times as it
    weighs: one pass over the text, and a field's terms cannot run into the next's.
    """
    fields = [text]  # the body's weight is 1
    for field, value in (
        ("title", article.title),
        ("summary", article.summary),
        ("source", article.source),
        ("topics", " ".join(article.topics or ())),
    ):
        fields += [value] * WEIGHTS[field]
    counts = term_counts("\n".join(fields))
    if article.source:
        counts["source:" + article.source] = 1
    for topic in article.topics or ():
        counts["topic:" + topic] = 1
    return counts


def card(article: Article, text: str, path: str, day: str) -> bytes:
    """What a result shows: title, page, source, day, topics, and text for the excerpt."""
    data = {
        "title": article.title,
        "url": path,
        "source": article.source,
        "date": day,
        "topics": list(article.topics or ()),
        "summary": article.summary,
        "text": text[:TEXT_KEPT],
    }
    if language := language_tag(article):
        data["lang"] = language
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class Doc:
    """An article for the index: its id, key, day (since 1970, in the site's timezone) and
    its terms, made when they are needed."""

    def __init__(
        self, article_id: str, key: str, day: int, terms: Callable[[], Mapping[str, int]]
    ) -> None:
        self.id, self.key, self.day, self.terms = article_id, key, day, terms


def doc_key(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join((str(VERSION), *parts)).encode(), digest_size=12).hexdigest()


_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc (
  tier TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, day INTEGER NOT NULL,
  terms BLOB NOT NULL, PRIMARY KEY (tier, id)
);
CREATE TABLE IF NOT EXISTS shard (
  tier TEXT NOT NULL, n INTEGER NOT NULL, hash TEXT NOT NULL, data BLOB NOT NULL,
  more BLOB NOT NULL, PRIMARY KEY (tier, n)
);
"""
"""A shard is kept as its file's bytes (``data``) and the entries its file leaves out
(``more``, marshalled columns as in the file): no second copy of what the file has."""

RECENT_SHARDS = 256
"""Shards of the recent tier (`tiers`): few, so that a day's articles rewrite few files."""
RECENT_FROM = 2000
"""Articles from which the index has a recent tier: below, one set of shards is as quick."""
BLOCK = 1024
"""The older tier grows by this many articles at a time."""
LEAST = 256
"""Articles the recent tier holds at least, once there is one."""


def tiers(articles: int) -> dict[str, int]:
    """Each tier's shard count: ``t`` holds the older articles, ``r`` the latest few
    hundred (`divide`). A day's new articles have some 30,000 distinct words between
    them, which reach most of ``t``'s thousands of shards but only ``r``'s few; ``t``
    changes once every `BLOCK` articles."""
    if articles < RECENT_FROM:
        return {"t": shard_count(articles)}
    return {"t": shard_count(articles), "r": RECENT_SHARDS}


def divide(docs: Sequence[Doc], counts: Mapping[str, int]) -> dict[str, list[Doc]]:
    """Each tier's articles: by day (then card), the oldest whole `BLOCK`s, leaving at least
    `LEAST`, in ``t``; the rest in ``r``. A function of the articles alone, so that a cold
    build divides them as a rebuild does; new articles, the latest, join ``r``."""
    if "r" not in counts:
        return {"t": list(docs)}
    ordered = sorted(docs, key=lambda d: (d.day, card_name(d.id)))
    older = BLOCK * max(0, (len(ordered) - LEAST) // BLOCK)
    return {"t": ordered[:older], "r": ordered[older:]}


def path_of(tier: str, n: int) -> str:
    return f"search/{tier}/{n}.json"


Shard = tuple[str, str, bytes | None, str]
"""A shard file: its path, a key (the hash of its bytes), its bytes when they changed (None:
`shard_bytes` has them if the file must be written again), and its name for `shard_bytes`."""


def update(
    cfg: Config, docs: Sequence[Doc], total: int | None, *, complete: bool, workers: int = 1
) -> list[Shard]:
    """Bring the kept index up to date with ``docs``; every shard file.

    With ``complete``, ``docs`` are all the archive's articles (those missing are
    dropped) and ``total`` their number; otherwise they are the edited ones, each
    kept in the tier that holds it, and the tiers are the kept index's (LookupError
    if none is kept). With ``workers`` above 1, many articles are weighed over two
    processes.
    """
    files: list[Shard] = []

    def change(db: sqlite3.Connection) -> None:
        db.executescript(_TABLES)
        meta = dict(db.execute("SELECT name, value FROM meta"))
        if total is None:
            if meta.get("version") != str(VERSION) or "tiers" not in meta:
                raise LookupError("no search index is kept")
            counts: dict[str, int] = json.loads(meta["tiers"])
            query = "SELECT tier FROM doc WHERE id = ?"
            held = {d.id: tier for d in docs for (tier,) in db.execute(query, (d.id,))}
            parts = {tier: [d for d in docs if held.get(d.id) == tier] for tier in counts}
        else:
            counts = tiers(total)
            zone = str(cfg.timezone)
            wanted = {"version": str(VERSION), "tiers": json.dumps(counts), "zone": zone}
            if meta != wanted:
                db.executescript("DROP TABLE doc; DROP TABLE shard; DELETE FROM meta;")
                db.executescript(_TABLES)
                db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
            parts = divide(docs, counts)
        for tier, count in counts.items():
            files.extend(_update_tier(db, tier, parts[tier], count, complete, workers))

    cfg.state.mkdir(parents=True, exist_ok=True)
    sqlitefile.write(cfg.state / _FILE, change)
    return files


def _update_tier(
    db: sqlite3.Connection,
    tier: str,
    docs: Sequence[Doc],
    shards: int,
    complete: bool,
    workers: int,
) -> list[Shard]:
    """One tier's shards brought up to date with its ``docs`` (see `update`).

    The articles are weighed a batch at a time, each batch's rows written at once, and
    their entries kept as arrays of numbers: at 100,000 articles the rows and entries as
    Python objects would take gigabytes.
    """
    if complete:
        known = dict(db.execute("SELECT id, key FROM doc WHERE tier = ?", (tier,)))
    else:  # a few edited articles: only their rows
        query = "SELECT id, key FROM doc WHERE tier = ? AND id = ?"
        known = {i: k for d in docs for i, k in db.execute(query, (tier, d.id)).fetchall()}
    # The newest first, then by card: each term's added entries come in that order,
    # so that ordering them by weight alone (a stable sort) orders them wholly.
    changed = sorted(
        (d for d in docs if known.get(d.id) != d.key), key=lambda d: (-d.day, card_name(d.id))
    )
    gone = sorted(known.keys() - {d.id for d in docs}) if complete else []
    query = "SELECT day, terms FROM doc WHERE tier = ? AND id = ?"
    old = {
        i: (day, marshal.loads(terms))  # noqa: S302 - digest's own file
        for i in (*gone, *(d.id for d in changed if d.id in known))
        for day, terms in db.execute(query, (tier, i))
    }
    removed: defaultdict[str, set[str]] = defaultdict(set)
    added = _Added()
    for rows in _weighed(changed, workers):
        for i, _, day, terms in rows:
            name = card_name(i)
            added.card(name, day)
            before = old.get(i)
            if before is None:
                added.add(terms)
                continue
            was, old_terms = before
            changed_terms = {}
            for term in old_terms.keys() | terms.keys():
                now = terms.get(term)
                if was == day and old_terms.get(term) == now:
                    continue  # the same entry
                if term in old_terms:
                    removed[term].add(name)
                if now is not None:
                    changed_terms[term] = now
            added.add(changed_terms)
        db.executemany(
            "INSERT OR REPLACE INTO doc VALUES (?, ?, ?, ?, ?)",
            [(tier, i, key, day, marshal.dumps(terms)) for i, key, day, terms in rows],
        )
    for i in gone:
        name = card_name(i)
        for term in old[i][1]:
            removed[term].add(name)
    by_shard: defaultdict[int, list[str]] = defaultdict(list)
    for term in removed.keys() | added.terms():
        by_shard[shard_of(term, shards)].append(term)
    query = "SELECT n, hash FROM shard WHERE tier = ? AND n < ?"
    hashes = dict(db.execute(query, (tier, shards)))
    files: list[Shard] = []
    for n in range(shards):
        name = f"{tier}/{n}"
        if n in hashes and n not in by_shard:
            if complete:
                files.append((path_of(tier, n), hashes[n], None, name))
            continue
        shown, more = _kept(db, tier, n) if n in hashes else ({}, {})
        for term in by_shard[n]:
            _merge(shown, more, term, removed.get(term, ()), added)
        data = _published(shown)
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        files.append((path_of(tier, n), digest, data, name))
        db.execute(
            "INSERT OR REPLACE INTO shard VALUES (?, ?, ?, ?, ?)",
            (tier, n, digest, data, marshal.dumps(more) if more else b""),
        )
    db.executemany("DELETE FROM doc WHERE tier = ? AND id = ?", [(tier, i) for i in gone])
    return files


class _Added:
    """The entries to add, by term: each entry one number, its weight above its card's
    number reversed (the largest number is then the heaviest entry, added first), in an
    array per term; each card's name and day once. A cold build adds millions."""

    _CARD_BITS = 32
    _LAST = (1 << _CARD_BITS) - 1

    def __init__(self) -> None:
        self._names: list[str] = []
        self._days: list[int] = []
        self._by_term: dict[str, array[int]] = {}

    def card(self, name: str, day: int) -> None:
        """The card of the entries added next, and their day."""
        self._names.append(name)
        self._days.append(day)

    def add(self, terms: Mapping[str, int]) -> None:
        """The entries of the current card's ``terms``, with their weights."""
        reversed_card = self._LAST - (len(self._names) - 1)
        by_term = self._by_term
        for term, weight in terms.items():
            entry = weight << self._CARD_BITS | reversed_card
            found = by_term.get(term)
            if found is None:
                by_term[term] = array("q", (entry,))
            else:
                found.append(entry)

    def terms(self) -> Iterable[str]:
        return self._by_term.keys()

    def entries(self, term: str) -> list[Entry]:
        cards, weights, days = self.ranked(term)
        return list(zip(weights, days, cards, strict=True))

    def ranked(self, term: str) -> Columns:
        """A term's entries as columns: the heaviest first, then in the order added."""
        found = sorted(self._by_term.get(term, ()), reverse=True)
        order = [self._LAST - (n & self._LAST) for n in found]
        names, days = self._names, self._days
        weights = [n >> self._CARD_BITS for n in found]
        return [[names[c] for c in order], weights, [days[c] for c in order]]


Entry = tuple[int, int, str]
"""An article in a term's list: the term's weight in it, its day, its card. A list in
order has the heaviest first, then the newest, then by card."""
Row = tuple[str, str, int, dict[str, int]]
"""An article as the index keeps it: id, key, day, and its terms' weights."""
_FORKED = 400
"""Articles to weigh beyond which the work is shared with a forked process."""
_BATCH = 256
"""Articles weighed at a time: their rows are written and dropped before the next batch's."""


def _weigh(docs: Sequence[Doc]) -> list[Row]:
    """Each article's row, its terms weighed."""
    return [(d.id, d.key, d.day, dict(d.terms())) for d in docs]


def _weighed(docs: list[Doc], workers: int) -> Iterator[list[Row]]:
    """`_weigh` a batch at a time, in the order of ``docs``; every other batch in a forked
    process when there are many: reading and weighing bodies is most of a full index's
    time, and the machine has cores. The child's batches come through a pipe, which holds
    it back when it is ahead."""
    import multiprocessing
    import os

    batches = [docs[n : n + _BATCH] for n in range(0, len(docs), _BATCH)]
    forks = "fork" in multiprocessing.get_all_start_methods()
    if workers < 2 or len(docs) < _FORKED or (os.cpu_count() or 1) < 2 or not forks:
        yield from map(_weigh, batches)
        return
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_weigh_child, args=(batches[1::2], writer), daemon=True)
    child.start()
    writer.close()
    try:
        for n, batch in enumerate(batches):
            if n % 2 == 0:
                yield _weigh(batch)
                continue
            try:
                data = reader.recv_bytes()
            except EOFError:
                raise RuntimeError("weighing articles for the search index failed") from None
            if data[:1] != b"+":
                raise RuntimeError(f"weighing articles for the search index failed: {data[1:]!r}")
            yield marshal.loads(data[1:])  # noqa: S302 - from our own child
    finally:
        reader.close()
        if child.is_alive():  # left early (an error, an interrupt): it may be blocked writing
            child.terminate()
        child.join()


def _weigh_child(batches: list[list[Doc]], writer: Any) -> None:
    try:
        for batch in batches:
            writer.send_bytes(b"+" + marshal.dumps(_weigh(batch)))
    except BaseException as exc:  # the parent raises it
        with contextlib.suppress(OSError):
            writer.send_bytes(b"!" + repr(exc).encode())


KEPT = 1500
"""Articles a shard file lists for one term, the best first: a word in more articles than
this is as common as the words left out, and its whole list would be most of a query's
download. The kept index has every entry, so an edit gives what a full index gives."""

Columns = list[list[Any]]
"""A term's entries as a shard file lists them: their cards, weights and days."""


def _published(shown: Mapping[str, Columns]) -> bytes:
    """A shard file: each term's cards, weights and days, at most `KEPT`, the heaviest."""
    ordered = dict(sorted(shown.items()))
    return (json.dumps(ordered, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _merge(
    shown: dict[str, Columns],
    more: dict[str, Columns],
    term: str,
    removed: Collection[str],
    added: _Added,
) -> None:
    """Take the ``removed`` cards out of a term's lists and put the ``added`` entries in
    (the newest first, then by card), in place."""
    if term not in shown:  # a new term: its added entries, ranked
        columns = added.ranked(term)
        if columns[0]:
            shown[term] = [column[:KEPT] for column in columns]
        if len(columns[0]) > KEPT:
            more[term] = [column[KEPT:] for column in columns]
        return
    entries = [
        e
        for columns in (shown[term], more.pop(term, None))
        if columns
        for e in zip(columns[1], columns[2], columns[0], strict=True)
        if e[2] not in removed
    ]
    entries += added.entries(term)
    entries.sort(key=_order)
    del shown[term]
    if entries:
        shown[term] = _columns(entries[:KEPT])
    if len(entries) > KEPT:
        more[term] = _columns(entries[KEPT:])


def _order(entry: Entry) -> tuple[int, int, str]:
    return -entry[0], -entry[1], entry[2]


def _columns(entries: list[Entry]) -> Columns:
    weights, days, cards = zip(*entries, strict=True)
    return [list(cards), list(weights), list(days)]


def _kept(
    db: sqlite3.Connection, tier: str, n: int
) -> tuple[dict[str, Columns], dict[str, Columns]]:
    """A kept shard: the lists its file shows, and the entries it leaves out."""
    query = "SELECT data, more FROM shard WHERE tier = ? AND n = ?"
    row = db.execute(query, (tier, n)).fetchone()
    if row is None:
        raise LookupError(f"search shard {n} is not kept")
    more = marshal.loads(row[1]) if row[1] else {}  # noqa: S302 - digest's own file
    return json.loads(row[0]), more


def shard_bytes(cfg: Config, name: str) -> bytes:
    """A shard file from the kept index (``name`` is ``tier/n``): for one to write again
    though it did not change."""
    tier, _, n = name.partition("/")
    with sqlitefile.existing(cfg.state / _FILE) as db:
        query = "SELECT data FROM shard WHERE tier = ? AND n = ?"
        row = db.execute(query, (tier, int(n))).fetchone()
    if row is None:
        raise LookupError(f"search shard {name} is not kept")
    return bytes(row[0])


def forget(cfg: Config) -> None:
    sqlitefile.drop(cfg.state / _FILE)


def docs(
    articles: Iterable[Article],
    keys: Mapping[str, Any],
    days: Mapping[str, str],
    text: Callable[[Article], str],
) -> list[Doc]:
    """The index's view of ``articles``: keyed by what shards show of each (listing, body)."""
    found = []
    for a in articles:
        k = keys[a.id]
        day = days[a.id]
        found.append(
            Doc(
                a.id,
                doc_key(k.shown, k.content, day),
                _epoch_day(day),
                lambda a=a: weights(a, text(a)),  # type: ignore[misc]
            )
        )
    return found


def _epoch_day(day: str) -> int:
    from datetime import date

    return date.fromisoformat(day).toordinal() - _EPOCH


_EPOCH = 719163
"""`date.toordinal` of 1 January 1970."""
