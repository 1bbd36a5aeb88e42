"""Stories: articles that report the same event, grouped incrementally.

Each article becomes two TF-IDF vectors, its words and its names and numbers,
pruned to the terms that weigh most. An article joins the story it is most
similar to by average linkage — the mean of its similarities to the story's
reports, computed from the story's summed vectors — if that reaches the
threshold and the story has a report within the time window; otherwise it
starts a story. When an article is close to two stories and they are close to
each other, they merge and the older id survives. Within a call, reports of one
day are grouped first, and then across days, where a story grows one report at
a time: two stories that each have several reports and together span days stay
apart, since a saga's developments (the airlift one day, the deadline the next)
are each told by several outlets on their day and share the saga's names.

Words count only between articles of one language; between languages, names
and numbers carry the whole similarity, because a translation shares them and
little else. A syndicated copy (the same text under another masthead, or the
same article from two feeds) is one report: it joins the story of the first
report, but its vector is not added again.

Everything remembered lives in `State`, which the caller keeps (pickled between
builds). Within one call articles are taken by date, then id, so the input order
never matters; a candidate story is found among the stories dated in the window,
through an index of their terms built for the call, so nothing is compared with
the whole archive.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import multiprocessing as mp
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from sys import intern

from digest.config import Stories as Settings
from digest.stories.vectors import Counts, count, lead, resemblance

WORD_SHARE = 0.5
"""Weight of the words in the similarity of two articles in one language; names get the rest."""
KEEP_WORDS = 60
KEEP_NAMES = 40
"""Terms kept per article vector: the rest weigh little and would only cost memory."""
LOOKUP_TERMS = 12
"""An article looks for candidate stories through its heaviest terms."""
COPY_RESEMBLANCE = 0.5
LINK_FLOOR = 0.25
"""Pairs of new articles below this part of the threshold are taken as unrelated (as 0):
they would barely move an average, and keeping them all would cost n² for undated input."""
LINKS_KEPT = 16
"""Links an article keeps to the new articles placed before it in a call: its closest, after
the fade by days. A story's reports are linked through their nearest few, not every pair,
so links grow with the articles, not with the articles a window holds; and an event of the
same kind reported on the same days (a confuser) links less often."""
_NEW = "\0"
"""Prefix of a story being formed in this call, before it has its id."""


@dataclass(frozen=True, slots=True)
class Report:
    """One article as stories see it."""

    id: str
    title: str
    text: str
    """The Markdown body."""
    date: date | None = None
    source: str = ""
    url: str = ""
    language: str = ""
    pin: str = ""
    """A story id from the front matter's ``story:`` line: the article goes there."""


Vector = dict[str, float]
_Tally = tuple[tuple[str, ...], "array[int]", tuple[str, ...], "array[int]", "array[int]"]
"""An article's words and their counts, its names and theirs, its sketch: compact until
weighed, as every article of a call waits for the others' document frequencies."""


@dataclass(slots=True)
class _Doc:
    story: str
    day: int | None
    language: str
    terms: tuple[str, ...]
    """The weighed words, then the names and numbers."""
    weights: array[float]
    split: int
    """Words in `terms`: one tuple and one array an article, not two dicts of floats."""
    sketch: array[int]
    url: str
    source: str
    pin: str
    copy_of: str = ""

    @property
    def words(self) -> Vector:
        return dict(zip(self.terms[: self.split], self.weights, strict=False))

    @property
    def names(self) -> Vector:
        return dict(zip(self.terms[self.split :], self.weights[self.split :], strict=True))


_Packed = tuple[tuple[str, tuple[str, ...], "array[float]", int, int], ...]
"""Per language: the terms and sums between two places of a tuple and an array (a story of
one report shares its article's, with no copy)."""


def _pack(sums: dict[str, Vector]) -> _Packed:
    return tuple((lang, tuple(v), array("d", v.values()), 0, len(v)) for lang, v in sums.items())


def _unpack(packed: _Packed) -> dict[str, Vector]:
    return {
        lang: dict(zip(islice(terms, start, end), islice(weights, start, end), strict=True))
        for lang, terms, weights, start, end in packed
    }


@dataclass(slots=True)
class _Story:
    id: str
    seq: int
    """Creation order: the older of two undated stories survives a merge."""
    members: list[str] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)
    """Reports per language that are in the sums (copies are not)."""
    days: dict[int, int] = field(default_factory=dict)
    """Reports by day: few days however many reports."""
    pinned: bool = False
    packed: tuple[_Packed, _Packed] | None = None
    """The sums of words and of names at rest, as one tuple of terms and one array of sums
    per language: a dict of floats is four times the size, and most stories are not touched
    again. `words` and `names` open them when a call reads or changes them."""
    open_words: dict[str, Vector] = field(default_factory=dict)
    open_names: dict[str, Vector] = field(default_factory=dict)
    absorbed: list[_Story] = field(default_factory=list)
    """Stories merged into this one whose sums are not added in yet: a call's many merges
    of new stories then hold packed vectors, not a dict of floats per story, until read."""

    @property
    def size(self) -> int:
        return sum(self.counted.values())

    @property
    def words(self) -> dict[str, Vector]:
        """Per language, the sum of the reports' word vectors."""
        if self.packed is not None or self.absorbed:
            self.unpack()
        return self.open_words

    @property
    def names(self) -> dict[str, Vector]:
        """Per language, the sum of the reports' name vectors."""
        if self.packed is not None or self.absorbed:
            self.unpack()
        return self.open_names

    def unpack(self) -> None:
        """Open the packed sums and add in those of the stories absorbed since, each with
        its own absorbed first (the sums merging at once would give). Without recursion:
        an old story absorbing a growing one, merge after merge, nests them deep."""
        nested, todo = [], [self]
        while todo:
            story = todo.pop()
            nested.append(story)
            todo.extend(story.absorbed)
        for story in reversed(nested):  # every absorbed story before the one it went into
            story.fold()

    def fold(self) -> None:
        if self.packed is not None:
            self.open_words, self.open_names = map(_unpack, self.packed)
            self.packed = None
        for gone in self.absorbed:  # folded already
            pairs = ((self.open_words, gone.open_words), (self.open_names, gone.open_names))
            for mine, theirs in pairs:
                for language, sums in theirs.items():
                    target = mine.setdefault(language, {})
                    for term, w in sums.items():
                        target[term] = target.get(term, 0.0) + w
            gone.open_words, gone.open_names = {}, {}  # merged away: the call may still hold it
        self.absorbed = []

    def pack(self) -> None:
        if self.absorbed:
            self.unpack()
        if self.packed is None:
            self.packed = (_pack(self.open_words), _pack(self.open_names))
            self.open_words, self.open_names = {}, {}

    def age(self) -> tuple[int, int]:
        return (min(self.days) if self.days else 1 << 30, self.seq)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an article is in its story."""

    article: str
    story: str
    similarity: float | None
    """Average similarity to the story's other reports; None when it is alone."""
    words: list[tuple[str, float]]
    names: list[tuple[str, float]]
    numbers: list[tuple[str, float]]
    """Shared terms with their share of the similarity, largest first."""
    days_apart: int | None
    """Days to the nearest other dated report of the story."""
    copy_of: str
    pinned: bool

    def as_dict(self) -> dict[str, object]:
        """For JSON: terms with their share rounded to four places."""

        def terms(pairs: list[tuple[str, float]]) -> list[list[object]]:
            return [[term, round(share, 4)] for term, share in pairs]

        return {
            "article": self.article,
            "story": self.story,
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "words": terms(self.words),
            "names": terms(self.names),
            "numbers": terms(self.numbers),
            "days_apart": self.days_apart,
            "copy_of": self.copy_of,
            "pinned": self.pinned,
        }


class State:
    """What stories remember between calls: picklable, and owned by the caller."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.docs: dict[str, _Doc] = {}
        self.stories: dict[str, _Story] = {}
        self.df: dict[str, int] = {}
        self.by_day: dict[int, set[str]] = {}
        """The stories with a report on each day: a dated article's candidates are there."""
        self.urls: dict[str, str] = {}
        self.merged: dict[str, str] = {}
        """Every story id merged away, and the id it went into (for redirect pages)."""
        self.seq = 0
        self.seen = 0
        """Articles ever counted in ``df``: rarity is learnt from every version placed."""

    # -- public -----------------------------------------------------------------

    def add(self, reports: Iterable[Report], workers: int = 1) -> dict[str, str]:
        """Place new or changed articles; return the stories merged by this call {old: new}.

        The new articles and the stories they touch are clustered together by
        average linkage, the closest pair first, so the order they come in never
        matters. Stories that no new article comes close to are left as they are.
        ``workers`` processes count the articles' words when there are many.
        """
        given = list(reports)
        self._forget([r.id for r in given if r.id in self.docs])
        df = self.df
        tallies: list[_Tally] = []
        for counts in _count_all(given, workers):  # as they come: one string per term, kept
            words, names = tuple(map(intern, counts.words)), tuple(map(intern, counts.names))
            for term in words + names:
                df[term] = df.get(term, 0) + 1
            tallies.append(
                (words, array("i", counts.words.values()),
                 names, array("i", counts.names.values()), counts.sketch)
            )  # fmt: skip
        self.seen += len(tallies)
        fresh: list[tuple[str, _Doc]] = []
        idf: dict[str, float] = {}
        for report, (words, word_ns, names, name_ns, sketch) in zip(given, tallies, strict=True):
            weighed = self._weigh(words, word_ns, idf, KEEP_WORDS)
            named = self._weigh(names, name_ns, idf, KEEP_NAMES)
            doc = _Doc(
                story="",
                day=report.date.toordinal() if report.date else None,
                language=intern(report.language.lower().split("-")[0]),
                terms=(*weighed, *named),
                weights=array("d", [*weighed.values(), *named.values()]),
                split=len(weighed),
                sketch=sketch,
                url=report.url,
                source=report.source,
                pin=report.pin,
            )
            fresh.append((report.id, doc))
        del tallies  # the counts are weighed: their memory is the clustering's
        fresh.sort(key=lambda pair: (pair[1].day is None, pair[1].day or 0, pair[0]))
        merged: dict[str, str] = {}
        nodes: dict[str, _Story] = {}
        for doc_id, doc in fresh:
            if doc.pin:
                target = self._resolve(doc.pin)
                story = self.stories.get(target) or self._new_story(target)
                story.pinned = True
                self._join(story, doc_id, doc)
                self._redate(story)
                nodes[story.id] = story
            elif doc.url and doc.url in self.urls:
                self._copy(doc_id, doc, self.urls[doc.url])
            else:
                node = self._new_story(_NEW + doc_id)
                self._join(node, doc_id, doc)
                nodes[node.id] = node
        links = self._links(nodes)
        self._agglomerate(nodes, links, merged, {doc_id for doc_id, _ in fresh})
        self._rest()
        return merged

    def _links(self, nodes: dict[str, _Story]) -> dict[str, dict[str, float]]:
        """Average linkage between every new article and the stories near it, and its
        `LINKS_KEPT` closest new articles before it (a pair left out counts as 0).

        New articles meet through postings of their terms, newest last, so a dated
        article reads each list back only as far as the time window reaches.
        """
        links: dict[str, dict[str, float]] = {key: {} for key in nodes}
        postings: dict[str, deque[tuple[int | None, str, float]]] = {}
        languages: dict[str, str] = {}
        days: dict[str, int | None] = {}
        window = self.settings.window
        span = window + 1
        floor = LINK_FLOOR * self.settings.threshold
        # New articles come by date, the undated last: a dated one reads back to its window,
        # and postings older than that are dropped unless an undated article will read them.
        new = [k for k in nodes if k.startswith(_NEW)]
        prune = bool(new) and self.docs[nodes[new[-1]].members[0]].day is not None
        index = self._index([self.docs[nodes[key].members[0]] for key in new])
        near: dict[int, set[str]] = {}
        for key in new:
            doc = self.docs[nodes[key].members[0]]
            languages[key] = language = doc.language
            days[key] = doc.day
            since = None if doc.day is None else doc.day - window
            words: dict[str, float] = {}
            names: dict[str, float] = {}
            parts = (("w:" + language, doc.words, words), ("n", doc.names, names))
            for prefix, vector, found in parts:
                get = found.get
                for term, w in vector.items():
                    posted = postings.get(prefix + term)
                    if posted is None:
                        posted = postings[prefix + term] = deque()
                    if since is None:
                        for _, other, v in posted:
                            found[other] = get(other, 0.0) + w * v
                    elif prune:
                        while posted and posted[0][0] < since:  # type: ignore[operator]
                            posted.popleft()
                        for _, other, v in posted:
                            found[other] = get(other, 0.0) + w * v
                    else:
                        for day, other, v in reversed(posted):
                            if day < since:  # type: ignore[operator]  # dated before undated
                                break
                            found[other] = get(other, 0.0) + w * v
                    posted.append((doc.day, key, w))
            scored = []
            for other in names.keys() | words.keys():
                same = languages[other] == language
                name = names.get(other, 0.0) * (1.0 - WORD_SHARE if same else 1.0)
                score = WORD_SHARE * words.get(other, 0.0) + name
                if score >= floor:
                    other_day = days[other]
                    gap = 0 if doc.day is None or other_day is None else abs(doc.day - other_day)
                    scored.append((score * max(0.0, 1.0 - gap / span), other, score))
            if len(scored) > LINKS_KEPT:
                scored = heapq.nlargest(LINKS_KEPT, scored)
            link = links[key]
            for _, other, score in scored:
                link[other] = links[other][key] = score
            candidates = self._candidates(doc, index, near) if index else {}
            for story_id, score in candidates.items():
                if story_id not in nodes:
                    nodes[story_id] = self.stories[story_id]
                    links[story_id] = {}
                links[key][story_id] = links[story_id][key] = score
        return links

    def remove(self, ids: Iterable[str]) -> None:
        """Forget articles (deleted, or about to be placed again after an edit)."""
        self._forget(ids)
        self._rest()

    def _rest(self) -> None:
        """Pack the sums a call opened: the state between calls is the compact one."""
        for story in self.stories.values():
            story.pack()

    def _forget(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            doc = self.docs.pop(doc_id, None)
            if doc is None:
                continue
            if doc.url and self.urls.get(doc.url) == doc_id:
                del self.urls[doc.url]
            story = self.stories[doc.story]
            story.members.remove(doc_id)
            if doc.day is not None:
                story.days[doc.day] -= 1
                if not story.days[doc.day]:
                    del story.days[doc.day]
                    self._undate(story.id, doc.day)
            if not doc.copy_of:
                self._subtract(story, doc)
                copies = [m for m in story.members if self.docs[m].copy_of == doc_id]
                if copies:  # the first copy becomes the report the others copy
                    self.docs[copies[0]].copy_of = ""
                    self._add(story, self.docs[copies[0]])
                    for other in copies[1:]:
                        self.docs[other].copy_of = copies[0]
            if not story.members:
                self._undate(story.id, 0)
                del self.stories[story.id]
            elif not story.days:
                self._redate(story)

    def resolve(self, story_id: str) -> str:
        """The story a merged-away id went into (itself if it was not merged)."""
        return self._resolve(story_id)

    def assignment(self) -> dict[str, str]:
        """Every article's story id."""
        return {doc_id: doc.story for doc_id, doc in self.docs.items()}

    def copies(self) -> dict[str, str]:
        """Every syndicated copy's id, and the id of the report it copies."""
        return {doc_id: doc.copy_of for doc_id, doc in self.docs.items() if doc.copy_of}

    def explain(self, doc_id: str) -> Explanation:
        """The shared terms, similarity and date gap that put an article in its story."""
        doc = self.docs[doc_id]
        story = self.stories[doc.story]
        copy_of = doc.copy_of
        shares = self._shares(doc, story)
        size = story.size
        if not copy_of:  # leave the article itself out of its story
            size -= 1
            for term, w in doc.words.items():
                shares["w:" + term] -= WORD_SHARE * w * w
            for term, w in doc.names.items():
                shares["n:" + term] -= (1.0 - WORD_SHARE) * w * w
            shares = {term: v for term, v in shares.items() if v > 1e-9}
        similarity = sum(shares.values()) / size if size else None
        ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
        gaps = [
            abs(self.docs[m].day - doc.day)  # type: ignore[operator]
            for m in story.members
            if m != doc_id and doc.day is not None and self.docs[m].day is not None
        ]
        per = max(size, 1)
        return Explanation(
            article=doc_id,
            story=story.id,
            similarity=similarity,
            words=[(t[2:], v / per) for t, v in ranked if t.startswith("w:")],
            names=[(t[4:], v / per) for t, v in ranked if t.startswith("n:n:")],
            numbers=[(t[3:], v / per) for t, v in ranked if t.startswith("n:#")],
            days_apart=min(gaps) if gaps else None,
            copy_of=copy_of,
            pinned=bool(doc.pin),
        )

    # -- placing one article ------------------------------------------------------

    def _weigh(
        self, terms: tuple[str, ...], counts: array[int], idf: dict[str, float], keep: int
    ) -> Vector:
        """1 + log tf times idf (``idf`` caches each term's, as `add` learns them), pruned
        to the ``keep`` heaviest terms and normalised."""
        total, df, log = self.seen, self.df, math.log
        weights = {}
        for term, n in zip(terms, counts, strict=True):
            rarity = idf.get(term)
            if rarity is None:
                rarity = idf[term] = log((total + 1) / (df[term] + 1))
            weights[term] = (1.0 + log(n)) * rarity if n > 1 else rarity
        if len(weights) > keep:
            weights = {t: -w for w, t in sorted([(-w, t) for t, w in weights.items()])[:keep]}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if not norm:
            return {}
        return {term: w / norm for term, w in weights.items() if w > 0}

    def _candidates(
        self, doc: _Doc, index: dict[str, set[str]], near: dict[int, set[str]]
    ) -> dict[str, float]:
        """Average similarity to every story of ``index`` that shares a heavy term and is in
        the window (``near`` keeps each day's stories in the window, for the call)."""
        heavy = [t if t[0] == "n" else "w:" + t[2 + len(doc.language) :] for t in _heavy(doc)]
        found: set[str] = set()
        if doc.day is None:
            for term in heavy:
                found |= index.get(term, set())
        else:  # only the stories with a report in the window, or none dated
            stories = near.get(doc.day)
            if stories is None:
                stories = near[doc.day] = self._near(doc.day)
            for term in heavy:
                found |= index.get(term, set()) & stories
        words, names = doc.words, doc.names
        return {
            story_id: self._similarity(words, names, doc.language, self.stories[story_id])
            for story_id in found
        }

    def _near(self, day: int) -> set[str]:
        """The stories with a report within the window of ``day``, or with no date."""
        window = self.settings.window
        return self.by_day.get(0, set()).union(
            *(self.by_day.get(d, ()) for d in range(day - window, day + window + 1))
        )

    def _index(self, docs: list[_Doc]) -> dict[str, set[str]]:
        """The terms (``w:word``, ``n:name``) of every story placed before this call that one
        of ``docs`` may join: those in a dated doc's window, every one for an undated doc.

        Built for each call rather than kept: the few days a call's articles reach are a
        small part of the archive, and a kept index holds an entry per story and term."""
        days = {doc.day for doc in docs}
        if None in days:
            ids = {s for s in self.stories if not s.startswith(_NEW)}
        else:
            ids = set().union(*(self._near(day) for day in days if day is not None))
        index: dict[str, set[str]] = {}
        for story_id in sorted(ids):
            for key in self._terms(self.stories[story_id]):
                index.setdefault(key, set()).add(story_id)
        return index

    def _date(self, story: _Story) -> None:
        """Enter a story under each of its days (under 0 if it has none)."""
        for day in story.days or (0,):
            self.by_day.setdefault(day, set()).add(story.id)

    def _redate(self, story: _Story) -> None:
        """`_date` a story whose days grew, or were all removed."""
        if story.days:
            self._undate(story.id, 0)
        self._date(story)

    def _undate(self, story_id: str, day: int) -> None:
        stories = self.by_day.get(day)
        if stories is not None:
            stories.discard(story_id)
            if not stories:
                del self.by_day[day]

    def _similarity(self, words: Vector, names: Vector, language: str, story: _Story) -> float:
        """An article's average similarity to the story's reports (what `_shares` sums, term
        by term), from its vectors and language."""
        total = 0.0
        sums = story.words.get(language)
        if sums:
            total += WORD_SHARE * _dot(words, sums)
        for other, sums in story.names.items():
            weight = 1.0 - WORD_SHARE if other == language else 1.0
            total += weight * _dot(names, sums)
        return total / story.size

    def _shares(self, doc: _Doc, story: _Story) -> dict[str, float]:
        """Each shared term's part of the summed similarity to the story's reports."""
        shares: dict[str, float] = {}
        sums = story.words.get(doc.language)
        if sums:
            for term, w in doc.words.items():
                if term in sums:
                    shares["w:" + term] = WORD_SHARE * w * sums[term]
        for language, sums in story.names.items():
            weight = 1.0 - WORD_SHARE if language == doc.language else 1.0
            for term, w in doc.names.items():
                if term in sums:
                    key = "n:" + term
                    shares[key] = shares.get(key, 0.0) + weight * w * sums[term]
        return shares

    # -- stories --------------------------------------------------------------------

    def _new_story(self, story_id: str) -> _Story:
        self.seq += 1
        story = _Story(story_id, self.seq)
        self.stories[story_id] = story
        return story

    def _resolve(self, story_id: str) -> str:
        while story_id in self.merged:
            story_id = self.merged[story_id]
        return story_id

    def _join(self, story: _Story, doc_id: str, doc: _Doc) -> None:
        doc.story = story.id
        story.members.append(doc_id)
        if doc.day is not None:
            story.days[doc.day] = story.days.get(doc.day, 0) + 1
        if doc.url:
            self.urls.setdefault(doc.url, doc_id)
        self.docs[doc_id] = doc
        if story.counted or story.packed is not None:
            self._add(story, doc)
        else:  # the sums of one report are its vectors: kept packed until a second joins
            split, language = doc.split, doc.language
            story.counted[language] = 1
            end = len(doc.terms)
            story.packed = (
                ((language, doc.terms, doc.weights, 0, split),),
                ((language, doc.terms, doc.weights, split, end),),
            )

    def _add(self, story: _Story, doc: _Doc) -> None:
        """Add an article's vectors to its story's sums."""
        language = doc.language
        story.counted[language] = story.counted.get(language, 0) + 1
        for part, vector in (("words", doc.words), ("names", doc.names)):
            sums = getattr(story, part).setdefault(language, {})
            for term, w in vector.items():
                sums[term] = sums.get(term, 0.0) + w

    def _subtract(self, story: _Story, doc: _Doc) -> None:
        language = doc.language
        story.counted[language] -= 1
        if not story.counted[language]:
            del story.counted[language]
            story.words.pop(language, None)
            story.names.pop(language, None)
            return
        for part, vector in (("words", doc.words), ("names", doc.names)):
            sums = getattr(story, part)[language]
            for term, w in vector.items():
                sums[term] -= w

    @staticmethod
    def _terms(story: _Story) -> set[str]:
        if story.packed is not None and not story.absorbed:  # read without opening the sums
            words, names = (
                {t for _, terms, _, start, end in part for t in islice(terms, start, end)}
                for part in story.packed
            )
        else:
            words = {t for sums in story.words.values() for t in sums}
            names = {t for sums in story.names.values() for t in sums}
        return {"w:" + t for t in words} | {"n:" + t for t in names}

    def _agglomerate(
        self,
        nodes: dict[str, _Story],
        links: dict[str, dict[str, float]],
        merged: dict[str, str],
        fresh: set[str],
    ) -> None:
        """Merge pairs of nodes while their faded average linkage reaches the threshold, the
        closest first, but every pair with a report on a common day before any pair of days
        apart: a report first joins its own day's coverage (the story of that day), and
        across days a story then grows one report at a time (`_developments`)."""
        threshold = self.settings.threshold
        stories = self.stories
        span = self.settings.window + 1
        # A one-day node's day: most pairs fade by it without a call to `_fade`.
        day = {key: next(iter(stories[key].days)) if len(stories[key].days) == 1 else None
               for key in links}  # fmt: skip
        heap = []
        for a, near in links.items():
            day_a = day[a]
            for b, score in near.items():
                if a < b and score >= threshold:
                    day_b = day[b]
                    if day_a is not None and day_b is not None:
                        fade = max(0.0, 1.0 - abs(day_a - day_b) / span)
                    else:
                        fade = self._fade(stories[a].days, stories[b].days)
                    if score * fade >= threshold:
                        heap.append((fade < 1, -score * fade, a, b, 0, 0))
        heapq.heapify(heap)
        merges: dict[str, int] = {}
        """Merges into each node so far: a pair queued before is out of date."""
        while heap:
            _, score, a, b, merges_a, merges_b = heapq.heappop(heap)
            if a not in stories or b not in stories:
                continue  # merged since
            if merges.get(a, 0) != merges_a or merges.get(b, 0) != merges_b:
                continue  # one of them has grown since: its pairs are queued again
            first, second = stories[a], stories[b]
            if first.pinned and second.pinned:
                continue
            if _developments(first, second):
                continue
            keep, gone = sorted((first, second), key=_seniority)
            sizes = {a: first.size, b: second.size}
            self._absorb(keep, gone, merged)
            grown = merges[keep.id] = merges.get(keep.id, 0) + 1
            near_a, near_b = links.pop(a), links.pop(b)
            links[keep.id] = near = {}
            for other in (near_a.keys() | near_b.keys()) - {a, b}:  # queued in any order
                link_a, link_b = links[other].pop(a, 0.0), links[other].pop(b, 0.0)
                if not keep.id.startswith(_NEW) and not other.startswith(_NEW):
                    score = self._linkage(keep, self.stories[other])  # stories' own pairs
                else:  # Lance and Williams: the average of the two, by size
                    score = (sizes[a] * link_a + sizes[b] * link_b) / (sizes[a] + sizes[b])
                near[other] = links[other][keep.id] = score
                if score < threshold:  # the fade only lowers it: most pairs stop here
                    continue
                fade = self._fade(keep.days, stories[other].days)
                if score * fade >= threshold:
                    pair = sorted(((keep.id, grown), (other, merges.get(other, 0))))
                    (low, merges_low), (high, merges_high) = pair
                    entry = (fade < 1, -score * fade, low, high, merges_low, merges_high)
                    heapq.heappush(heap, entry)
        for key in sorted(links):
            story = self.stories[key]
            if key.startswith(_NEW):
                del self.stories[key]
                founder = min(story.members, key=lambda m: (self.docs[m].day or 0, m))
                story.id = _story_id(founder, self.stories)
                self.stories[story.id] = story
                for member in story.members:
                    self.docs[member].story = story.id
                self._date(story)
            self._find_copies(story, fresh)

    def _fade(self, days: dict[int, int], others: dict[int, int]) -> float:
        """How much of the similarity counts across the days between two stories' nearest reports.

        All of it on the same day, nothing past the window: an event is reported
        within days, and the longer the gap, the more two reports must share.
        """
        if not days or not others:
            return 1.0
        if len(others) > len(days):
            days, others = others, days
        if len(others) == 1:  # most pairs: a story and a report, or two one-day stories
            day = next(iter(others))
            first, last = min(days), max(days)
            if day <= first or day >= last:
                gap = first - day if day <= first else day - last
            else:
                gap = 0 if day in days else min(abs(d - day) for d in days)
        else:
            gap = min(abs(d - e) for d in days for e in others)
        return max(0.0, 1.0 - gap / (self.settings.window + 1))

    def _absorb(self, keep: _Story, gone: _Story, merged: dict[str, str]) -> None:
        """Move ``gone`` into ``keep``."""
        if not gone.id.startswith(_NEW):
            for day in gone.days or (0,):
                self._undate(gone.id, day)
        for member in gone.members:
            self.docs[member].story = keep.id
        keep.members.extend(gone.members)
        for day, n in gone.days.items():
            keep.days[day] = keep.days.get(day, 0) + n
        if not keep.id.startswith(_NEW):
            self._redate(keep)
        keep.pinned = keep.pinned or gone.pinned
        for language, n in gone.counted.items():
            keep.counted[language] = keep.counted.get(language, 0) + n
        keep.absorbed.append(gone)  # its sums are added when ``keep``'s are next read
        del self.stories[gone.id]
        if gone.id.startswith(_NEW):
            return
        self.merged[gone.id] = keep.id
        for old, new in list(self.merged.items()):
            if new == gone.id:
                self.merged[old] = keep.id
        for old, new in list(merged.items()):
            if new == gone.id:
                merged[old] = keep.id
        merged[gone.id] = keep.id

    def _copy(self, doc_id: str, doc: _Doc, original: str) -> None:
        """Place a syndicated copy beside the report it repeats, outside the sums."""
        first = self.docs[original]
        doc.copy_of = first.copy_of or original
        doc.story = first.story
        story = self.stories[doc.story]
        story.members.append(doc_id)
        if doc.day is not None:
            story.days[doc.day] = story.days.get(doc.day, 0) + 1
            if not story.id.startswith(_NEW):
                self._redate(story)
        self.docs[doc_id] = doc

    def _find_copies(self, story: _Story, fresh: set[str]) -> None:
        """Mark the reports whose text repeats an earlier report of the story.

        Only pairs with an article placed in this call are compared: the others were before.
        """
        firsts: list[str] = []
        for member in sorted(story.members, key=lambda m: (self.docs[m].day or 0, m)):
            doc = self.docs[member]
            if doc.copy_of:
                continue
            original = next(
                (
                    f
                    for f in firsts
                    if (member in fresh or f in fresh)
                    and resemblance(doc.sketch, self.docs[f].sketch) >= COPY_RESEMBLANCE
                ),
                None,
            )
            if original is None:
                firsts.append(member)
                continue
            self._subtract(story, doc)
            doc.copy_of = original
            for other in story.members:
                if self.docs[other].copy_of == member:
                    self.docs[other].copy_of = original

    def _linkage(self, a: _Story, b: _Story) -> float:
        """Average similarity over all pairs of reports of two stories."""
        total = 0.0
        for language, sums in a.words.items():
            other = b.words.get(language)
            if other:
                total += WORD_SHARE * _dot(sums, other)
        for la, sums in a.names.items():
            for lb, other in b.names.items():
                weight = 1.0 - WORD_SHARE if la == lb else 1.0
                total += weight * _dot(sums, other)
        pairs = a.size * b.size
        return total / pairs if pairs else 0.0


def _developments(a: _Story, b: _Story) -> bool:
    """Whether two stories are two developments of a saga rather than one event: each has
    several reports, and together they span more than one day. A story grows across days
    one report at a time; a day's coverage by several outlets and another day's stay apart,
    however many names of the saga they share (Kabul, the Taliban, the airlift)."""
    return a.size > 1 and b.size > 1 and len(a.days.keys() | b.days.keys()) > 1


def _seniority(story: _Story) -> tuple[bool, bool, int, int, str]:
    """Which of two merging stories keeps its id: a known one, a pinned one, then the older."""
    return (story.id.startswith(_NEW), not story.pinned, *story.age(), story.id)


_PARALLEL = 2000
"""Articles below which counting them in one process is quicker than starting others."""


def _count_all(reports: list[Report], workers: int) -> Iterator[Counts]:
    """Each report's counts, in order; in ``workers`` forked processes when there are many
    (the counts of one article never depend on another's, so they are the same)."""
    # Leads cut as the counting reaches them: 10,000 of them at once were a third of the peak.
    pairs = ((r.title, lead(r.text)) for r in reports)
    if workers < 2 or len(reports) < _PARALLEL or "fork" not in mp.get_all_start_methods():
        yield from itertools.starmap(count, pairs)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_count, pairs, chunksize=250)


def _count(pair: tuple[str, str]) -> Counts:
    return count(*pair)


def _heavy(doc: _Doc) -> list[str]:
    """The `LOOKUP_TERMS` heaviest terms: ``w:<language><word>``, ``n:<name>``."""
    terms = [("w:" + doc.language + t, w) for t, w in doc.words.items()]
    terms += [("n:" + t, w) for t, w in doc.names.items()]
    terms.sort(key=lambda kv: (-kv[1], kv[0]))
    return [t for t, _ in terms[:LOOKUP_TERMS]]


def _dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b[t] for t, w in a.items() if t in b)


def _story_id(doc_id: str, taken: dict[str, _Story]) -> str:
    """A short, URL-safe id derived from the article that starts the story."""
    digest = hashlib.blake2b(doc_id.encode(), digest_size=16).hexdigest()
    for width in range(10, 33, 2):
        if digest[:width] not in taken:
            return digest[:width]
    return digest + str(len(taken))
