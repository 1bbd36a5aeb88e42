"""The static search index: term shards and a card per article, read by static/search.js.

No server: a query fetches the shard of each of its terms (a term goes to a shard
by a hash both sides compute) and the cards of the best few results. Shards
carry ``[card, weight, day]`` per article; a topic or source filter is one more
term (``topic:…``, ``source:…``). Chinese and Japanese, written without spaces,
are indexed as overlapping pairs of characters, as the query is.

Indexing is incremental: ``.digest/search.sqlite`` keeps every shard as written
and the shards each article's terms fall in, so an edited, new or deleted article
changes only its shards, and an unchanged archive reads no body.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from digest import sqlitefile

if TYPE_CHECKING:
    from digest.config import Config
    from digest.model import Article

VERSION = 1
"""Of the tokenizer and the files' layout: a change makes the index again."""
_FILE = "search.sqlite"
TEXT_KEPT = 4000
"""Characters of an article's text kept in its card, for the excerpt."""
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_STOP_WORDS = (
    "a an and are as at be but by for from has have in is it its of on or that the this to "
    "was were will with и в во на не что с со к по из за от"
)
_STOP = frozenset(_STOP_WORDS.split())
"""Words in nearly every article: their lists would be most of a query's download."""
_LONGEST = 40
WEIGHTS = {"title": 5, "topics": 3, "source": 3, "summary": 2, "body": 1}


def words(text: str) -> Iterator[str]:
    """The terms of a text: lower-cased words; runs of CJK characters as overlapping pairs.

    static/search.js splits a query the same way.
    """
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        for n, part in enumerate(_CJK.split(word)):
            if not part:
                continue
            if n % 2:  # a CJK run
                if len(part) == 1:
                    yield part
                else:
                    yield from (part[i : i + 2] for i in range(len(part) - 1))
            elif part not in _STOP and len(part) <= _LONGEST:
                yield part


def shard_of(term: str, count: int) -> int:
    """FNV-1a (32 bits) of the term's UTF-8, modulo ``count``: as in static/search.js."""
    value = 0x811C9DC5
    for byte in term.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % count


def shard_count(articles: int) -> int:
    """Shards for an archive: a power of two near one per eight articles, 16 to 4096."""
    count = 16
    while count < 4096 and count * 8 < articles:
        count *= 2
    return count


def card_name(article_id: str) -> str:
    """An article's card file (``search/d/NAME.json``) and its name in the shards."""
    return hashlib.blake2b(article_id.encode("utf-8"), digest_size=6).hexdigest()


def weights(article: Article, text: str) -> dict[str, int]:
    """Each term's weight in an article: its occurrences, counted more in the title."""
    counts: Counter[str] = Counter()
    for field, value in (
        ("title", article.title),
        ("summary", article.summary),
        ("source", article.source),
        ("topics", " ".join(article.topics or ())),
        ("body", text),
    ):
        weight = WEIGHTS[field]
        for term in words(value):
            counts[term] += weight
    if article.source:
        counts["source:" + article.source] = 1
    for topic in article.topics or ():
        counts["topic:" + topic] = 1
    return {term: min(n, 999) for term, n in counts.items()}


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
    language = article.extra.get("language")
    if isinstance(language, str):
        data["lang"] = language
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class Doc:
    """An article for the index: its id, key, day, and its terms when they are needed."""

    def __init__(
        self, article_id: str, key: str, day: int, terms: Callable[[], dict[str, int]]
    ) -> None:
        self.id, self.key, self.day, self.terms = article_id, key, day, terms


def doc_key(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join((str(VERSION), *parts)).encode(), digest_size=12).hexdigest()


_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc (id TEXT PRIMARY KEY, key TEXT NOT NULL, shards BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS shard (n INTEGER PRIMARY KEY, hash TEXT NOT NULL, data BLOB NOT NULL);
"""


def path_of(n: int) -> str:
    return f"search/t/{n}.json"


def update(
    cfg: Config, docs: Sequence[Doc], count: int | None, *, complete: bool
) -> tuple[int, list[tuple[str, str, bytes | None]]]:
    """Bring the kept index up to date with ``docs``; the shard count and every shard file.

    With ``complete``, ``docs`` are all the archive's articles (those missing are
    dropped) and ``count`` the shard count they call for; otherwise they are the
    edited ones, and the count is the kept index's. Each shard comes as its path,
    a key (the hash of its bytes) and its bytes when they changed (None: read them
    with `shard_bytes` if the file must be written again).
    """
    result: tuple[int, list[tuple[str, str, bytes | None]]] = (0, [])

    def change(db: sqlite3.Connection) -> None:
        nonlocal result
        db.executescript(_TABLES)
        meta = dict(db.execute("SELECT name, value FROM meta"))
        wanted = {"version": str(VERSION), "count": str(count), "zone": str(cfg.timezone)}
        if count is None:
            if meta.get("version") != str(VERSION) or "count" not in meta:
                raise LookupError("no index to update")
            shards = int(meta["count"])
        else:
            shards = count
            if meta != wanted:
                db.execute("DELETE FROM doc")
                db.execute("DELETE FROM shard")
                db.execute("DELETE FROM meta")
                db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
        known = {i: (k, s) for i, k, s in db.execute("SELECT id, key, shards FROM doc")}
        given = {d.id for d in docs}
        changed = [d for d in docs if known.get(d.id, ("",))[0] != d.key]
        gone = (known.keys() - given) if complete else set()
        touched: set[int] = set()
        for i in (*gone, *(d.id for d in changed if d.id in known)):
            old = array("H")
            old.frombytes(known[i][1])
            touched.update(old)
        postings: dict[str, dict[str, tuple[str, int, int]]] = {}
        rows = []
        for d in changed:
            terms = d.terms()
            name = card_name(d.id)
            mine = set()
            for term, weight in terms.items():
                n = shard_of(term, shards)
                mine.add(n)
                postings.setdefault(term, {})[name] = (name, weight, d.day)
            touched.update(mine)
            rows.append((d.id, d.key, array("H", sorted(mine)).tobytes()))
        dropped = {card_name(i) for i in (*gone, *(d.id for d in changed))}
        hashes = dict(db.execute("SELECT n, hash FROM shard"))
        stored = {
            n: (hashes[n], _shard(db, n) if n in touched else b"") for n in hashes if n < shards
        }
        files: list[tuple[str, str, bytes | None]] = []
        new_rows = []
        by_shard: dict[int, list[str]] = {}
        for term in postings:
            by_shard.setdefault(shard_of(term, shards), []).append(term)
        for n in range(shards):
            if n not in touched and n in stored:
                files.append((path_of(n), stored[n][0], None))
                continue
            table: dict[str, list[Any]] = json.loads(stored[n][1]) if n in stored else {}
            if dropped:
                for term in list(table):
                    flat = table[term]
                    kept = [
                        flat[k : k + 3] for k in range(0, len(flat), 3) if flat[k] not in dropped
                    ]
                    if kept:
                        table[term] = [x for entry in kept for x in entry]
                    else:
                        del table[term]
            for term in by_shard.get(n, ()):
                entries = [
                    tuple(table[term][k : k + 3]) for k in range(0, len(table.get(term, ())), 3)
                ]
                entries += postings[term].values()
                entries.sort(key=lambda e: (-e[1], e[0]))
                table[term] = [x for entry in entries for x in entry]
            data = (
                json.dumps(dict(sorted(table.items())), ensure_ascii=False, separators=(",", ":"))
                + "\n"
            ).encode("utf-8")
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            files.append((path_of(n), digest, data))
            new_rows.append((n, digest, data))
        db.executemany("INSERT OR REPLACE INTO shard VALUES (?, ?, ?)", new_rows)
        db.executemany("DELETE FROM doc WHERE id = ?", [(i,) for i in gone])
        db.executemany("INSERT OR REPLACE INTO doc VALUES (?, ?, ?)", rows)
        result = (shards, files)

    cfg.state.mkdir(parents=True, exist_ok=True)
    sqlitefile.write(cfg.state / _FILE, change)
    return result


def _shard(db: sqlite3.Connection, n: int) -> bytes:
    row = db.execute("SELECT data FROM shard WHERE n = ?", (n,)).fetchone()
    if row is None:
        raise LookupError(f"search shard {n} is not kept")
    return bytes(row[0])


def shard_bytes(cfg: Config, n: int) -> bytes:
    """A shard as kept: for a file that must be written again though it did not change."""
    with sqlitefile.existing(cfg.state / _FILE) as db:
        return _shard(db, n)


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
                int(day.replace("-", "")),
                lambda a=a: weights(a, text(a)),  # type: ignore[misc]
            )
        )
    return found
