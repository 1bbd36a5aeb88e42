"""An article's words, names and numbers, counted; and a sketch of its text for copies.

Words tell what happened in one language; names and numbers (people, places,
outlets, figures, dates) travel across languages, so a translation shares them
with the original while it shares almost no words. Weighting by rarity happens
later, against the archive's document frequencies.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass

from digest.text import blocks

_LETTERS = re.compile(r"[^\W\d_]+")
# Numbers keep their separators so that "15.000" and "6,1" can be read.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_OPENING = re.compile(r"(?:^|\n|[.!?:;«»\"“”]\s+)([^\W\d_]+)")
_THOUSANDS = re.compile(r"[.,](?=\d{3}(?:\D|$))")
SKETCH_SIZE = 16
"""Bottom-k sketch of word 4-shingles: enough to tell a copy (resemblance > 0.5) from a story."""
SKETCH_WORDS = 200
"""Copies share their opening: the sketch reads that far, so a long text costs no more."""
SKETCH_CHARS = 2000
"""Enough text for `SKETCH_WORDS` words: the rest is not split into words for the sketch."""
LEAD = 1500
"""Characters of the body read: a report's lead tells its event; the rest adds cost, not sense
(markdown-it reads a lead in about 0.2 ms, the whole of a 6,000-character body in 1 ms)."""


@dataclass(frozen=True, slots=True)
class Counts:
    """What one article says, before weighting."""

    words: Counter[str]
    """Lower-case words of three letters or more."""
    names: Counter[str]
    """Capitalised words used mid-sentence, and numbers: ``n:apple``, ``#15000``."""
    sketch: array[int]
    """The smallest hashes of the text's word 4-shingles: a copy's sketch is nearly the same
    (64-bit integers in one array: a sixth of a tuple of ints, kept for every article)."""


def count(title: str, markdown: str) -> Counts:
    """Count the words, names and numbers of an article's title and Markdown body."""
    # One block a line, so a heading or a table cell opens a sentence as a paragraph does.
    text = "\n".join((title, *blocks(lead(markdown))))
    lowered = text.lower()
    capitals = Counter(t for t in _LETTERS.findall(text) if t[0].isupper())
    # A capital that only ever opens a sentence ("The", "Yesterday") is no name.
    opening = Counter(_OPENING.findall(text))
    found: Counter[str] = Counter()
    for name, n in capitals.items():
        if n > opening.get(name, 0):
            found["n:" + _plain(name.lower())] += n
    found.update("#" + _number(n) for n in _NUMBER.findall(text))
    letters = _LETTERS.findall(lowered)
    # Words are the runs of three letters or more: the runs of letters, short ones dropped.
    words = Counter(letters)
    for short in [w for w in words if len(w) < 3]:
        del words[short]
    if len(lowered) > SKETCH_CHARS:  # a long title: the last run may be cut at the limit
        letters = _LETTERS.findall(lowered, 0, SKETCH_CHARS)
    return Counts(words, found, _sketch(letters))


def lead(markdown: str) -> str:
    """The body's first `LEAD` characters, cut at the last paragraph break within them
    (or at a line break, or the limit) so that no block is cut in two where avoidable."""
    if len(markdown) <= LEAD:
        return markdown
    head = markdown[:LEAD]
    for mark in ("\n\n", "\n"):
        end = head.rfind(mark)
        if end > LEAD // 2:
            return head[:end]
    return head


def _number(token: str) -> str:
    """``15.000`` and ``15,000`` → ``15000``; ``6,1`` → ``6.1``: thousands go, decimals stay."""
    return _THOUSANDS.sub("", token).replace(",", ".")


def _plain(word: str) -> str:
    """Names without accents: ``Peña`` and ``Pena`` are one person in two spellings."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _sketch(sequence: list[str]) -> array[int]:
    # Letters only, so the joined words split back where they were joined: one encode, not 200.
    hashes = list(map(zlib.crc32, " ".join(sequence[:SKETCH_WORDS]).encode().split()))
    # Python's hash of a tuple of ints is the same in every process (only str hashes are salted).
    shingles = set(map(hash, zip(hashes, hashes[1:], hashes[2:], hashes[3:], strict=False)))
    shingles = shingles or set(hashes)
    return array("q", sorted(shingles)[:SKETCH_SIZE])


def resemblance(a: array[int], b: array[int]) -> float:
    """Estimated Jaccard resemblance of two texts' shingle sets from their bottom-k sketches."""
    if not a or not b:
        return 0.0
    both = set(a).intersection(b)
    if not both:  # most pairs: two reports of one story share no shingle
        return 0.0
    k = min(SKETCH_SIZE, len(a), len(b))
    union = sorted(set(a).union(b))[:k]
    return sum(1 for h in union if h in both) / k
