"""Stories: grouping, order independence, stable ids, merges, pins, copies, explain, CLI."""

from __future__ import annotations

import itertools
import json
import pickle
from datetime import date
from pathlib import Path

import pytest

from digest.config import Stories
from digest.stories import Report, State
from tests.conftest import Run

# Three events, two of them of the same kind (a quake), one told in English and Spanish.
QUAKE_PAPUA = (
    "A magnitude 6.1 earthquake struck off Manokwari in West Papua on Monday, the "
    "U.S. Geological Survey said. Residents of Manokwari fled to higher ground and "
    "officials in Papua reported 14,000 refugees in camps around Manokwari."
)
QUAKE_CHILE = (
    "A magnitude 8.2 earthquake struck off Iquique in northern Chile on Tuesday. "
    "Authorities in Chile ordered the evacuation of Iquique and Arica, and President "
    "Bachelet said 972 prisoners escaped from a jail in Iquique."
)
QUAKE_PAPUA_AGAIN = (
    "Thousands spent the night outdoors near Manokwari after the 6.1 quake in West Papua. "
    "Papua officials counted 14,000 refugees; no tsunami warning was issued for Manokwari."
)
SUMMIT = (
    "Nikolai Patrushev met Yang Jiechi in Fujian to discuss security cooperation. "
    "Patrushev and Yang Jiechi signed a protocol in Fuzhou, Fujian, on 24 May."
)
SUMMIT_ES = (
    "Nikolái Patrushev se reunió con Yang Jiechi en Fujian para hablar de cooperación. "
    "Patrushev y Yang Jiechi firmaron un protocolo en Fuzhou, Fujian, el 24 de mayo."
)


def report(id_: str, text: str, day: int | None = 1, *, title: str = "", **kw: str) -> Report:
    return Report(
        id=id_,
        title=title or text.split(".")[0],
        text=text,
        date=date(2024, 5, day) if day else None,
        **kw,
    )


def reworded(text: str, seed: int) -> str:
    """The same facts in another order, as a second outlet would write them."""
    sentences = [s for s in text.split(". ") if s]
    turn = seed % len(sentences)
    sentences = sentences[turn:] + sentences[:turn]
    return ". ".join(sentences) + " Reporters covered the developments."


def corpus() -> list[Report]:
    return [
        report("papua-1", QUAKE_PAPUA, 3, source="AP"),
        report("papua-2", reworded(QUAKE_PAPUA, 1), 3, source="Reuters"),
        report("papua-3", reworded(QUAKE_PAPUA, 2), 4, source="BBC"),
        report("chile-1", QUAKE_CHILE, 3, source="AP"),
        report("chile-2", reworded(QUAKE_CHILE, 3), 4, source="CNN"),
        report("summit-en", SUMMIT, 24, language="en", source="TASS"),
        report("summit-en2", reworded(SUMMIT, 4), 25, language="en", source="UPI"),
        report("summit-es", SUMMIT_ES, None, language="es", source="EFE"),
    ]


def groups(assignment: dict[str, str]) -> set[frozenset[str]]:
    found: dict[str, set[str]] = {}
    for article, story in assignment.items():
        found.setdefault(story, set()).add(article)
    return {frozenset(members) for members in found.values()}


EXPECTED = {
    frozenset({"papua-1", "papua-2", "papua-3"}),
    frozenset({"chile-1", "chile-2"}),
    frozenset({"summit-en", "summit-en2", "summit-es"}),
}


def test_events_are_grouped_and_same_kind_kept_apart() -> None:
    state = State()
    state.add(corpus())
    assert groups(state.assignment()) == EXPECTED


def test_any_input_order_gives_the_same_stories_and_ids() -> None:
    first = State()
    first.add(corpus())
    expected = first.assignment()
    orders = itertools.islice(itertools.permutations(corpus()), 0, 40320, 5003)
    for shuffled in [list(reversed(corpus())), *map(list, orders)]:
        state = State()
        state.add(shuffled)
        assert state.assignment() == expected


def test_an_article_joins_later_and_the_story_id_stays() -> None:
    state = State()
    state.add(corpus()[:2] + corpus()[3:])
    before = state.assignment()
    state.add([corpus()[2]])
    after = state.assignment()
    assert after["papua-3"] == before["papua-1"]
    assert {k: v for k, v in after.items() if k in before} == before


def test_the_state_survives_pickling() -> None:
    state = State()
    state.add(corpus()[:4])
    copy = pickle.loads(pickle.dumps(state))  # noqa: S301 (our own bytes)
    copy.add(corpus()[4:])
    state.add(corpus()[4:])
    assert copy.assignment() == state.assignment()


def test_two_stories_merge_and_the_older_id_survives() -> None:
    alpha = "Zorbanian ministers Quelltar and Vostrin met in Harbek to sign the Harbek accord."
    beta = "Officials Pemberly and Ashgrove toured Lindqvist harbour after the Lindqvist fire."
    bridge = (
        "Zorbanian ministers Quelltar and Vostrin signed the Harbek accord, and Pemberly "
        "and Ashgrove spoke of the Lindqvist fire at Lindqvist harbour in Harbek."
    )
    state = State(Stories(threshold=0.2))
    state.add([report("a", alpha, 1), report("b", beta, 2)])
    older, younger = state.assignment()["a"], state.assignment()["b"]
    assert older != younger
    merged = state.add([report("c", bridge, 2)])
    assert merged == {younger: older}
    assert state.merged == {younger: older}
    assert set(state.assignment().values()) == {older}


def test_a_pin_forces_an_article_into_a_story() -> None:
    state = State()
    state.add(corpus())
    papua = state.assignment()["papua-1"]
    state.add([report("odd", QUAKE_CHILE + " Aftershocks followed.", 4, pin=papua)])
    assert state.assignment()["odd"] == papua
    explained = state.explain("odd")
    assert explained.pinned


def test_a_pin_to_a_new_story_creates_it_with_that_id() -> None:
    state = State()
    state.add(
        [
            report("x", QUAKE_PAPUA, 1, pin="my-story"),
            report("y", SUMMIT, 1, pin="my-story"),
            report("z", QUAKE_CHILE, 1),
        ]
    )
    assignment = state.assignment()
    assert assignment["x"] == assignment["y"] == "my-story"
    assert assignment["z"] != "my-story"


def test_syndicated_copies_are_one_report() -> None:
    state = State()
    state.add(
        [
            report("wire", QUAKE_PAPUA, 3, source="AP", url="https://ap.example/q"),
            report("masthead", QUAKE_PAPUA, 4, source="Daily Bugle", url="https://bugle/q"),
            report(
                "feed-2", "Short summary.", 4, source="AP via Yahoo", url="https://ap.example/q"
            ),
            report("other", QUAKE_PAPUA_AGAIN, 3, source="Reuters"),
        ]
    )
    assert state.copies() == {"masthead": "wire", "feed-2": "wire"}
    assignment = state.assignment()
    assert len({assignment[k] for k in ("wire", "masthead", "feed-2", "other")}) == 1
    # a copy adds no weight: the story counts two reports, not four
    assert state.explain("other").similarity == pytest.approx(state.explain("wire").similarity)


def test_removing_the_original_promotes_its_copy() -> None:
    state = State()
    state.add([report("a-wire", QUAKE_PAPUA, 3), report("b-copy", QUAKE_PAPUA, 3), *corpus()[3:]])
    assert state.copies()["b-copy"] == "a-wire"
    state.remove(["a-wire"])
    assert "b-copy" not in state.copies()
    assert "a-wire" not in state.assignment()
    state.add([report("late", QUAKE_PAPUA_AGAIN, 4)])
    assert state.assignment()["late"] == state.assignment()["b-copy"]
    assert state.explain("late").similarity is not None


def test_explain_names_the_shared_terms_the_similarity_and_the_gap() -> None:
    state = State()
    state.add(corpus())
    alone = State()
    alone.add([corpus()[0]])
    assert alone.explain("papua-1").similarity is None
    why = state.explain("papua-3")
    assert why.story == state.assignment()["papua-3"]
    assert why.similarity is not None and why.similarity >= state.settings.threshold
    assert "manokwari" in [term for term, _ in why.names]
    assert "14000" in [term for term, _ in why.numbers]
    assert why.days_apart == 1
    shares = sum(v for _, v in why.words + why.names + why.numbers)
    assert shares == pytest.approx(why.similarity)
    across = state.explain("summit-es")
    assert not across.words  # no words are compared across languages
    assert "patrushev" in [term for term, _ in across.names]


def test_vectors_read_the_words_markdown_shows_not_its_marks() -> None:
    from digest.stories.vectors import count

    markdown = (
        "## Budget *leak*\n\n"
        "Read [the report][1] and `Treasury`'s reply:\n\n"
        "| Ministry | Cut |\n| --- | --- |\n| Defence | 1,200 |\n\n"
        "[1]: https://example.org/confidential-spreadsheet\n"
    )
    counts = count("Leaked papers", markdown)
    assert {"budget", "leak", "report", "treasury", "ministry", "defence"} <= counts.words.keys()
    # a link definition's address is no word of the text; a table cell opens like a paragraph
    assert not {"https", "example", "confidential", "spreadsheet"} & counts.words.keys()
    assert "n:ministry" not in counts.names and "#1200" in counts.names


def test_reports_beyond_the_window_are_separate_stories() -> None:
    state = State(Stories(window=3))
    state.add([report("then", QUAKE_PAPUA, 1), report("later", reworded(QUAKE_PAPUA, 1), 20)])
    assert len(set(state.assignment().values())) == 2


# A saga's two developments on two days, each told by two outlets, sharing the saga's names.
AIRLIFT_AP = (
    "Evacuation flights from Kabul carried 1,500 people out of Afghanistan on Monday. "
    "Taliban fighters let buses of evacuees through the airport gates, Kirby said."
)
AIRLIFT_REUTERS = (
    "Some 1,500 evacuees left Kabul on military flights, the Pentagon's Kirby said; "
    "Taliban guards waved their buses through the gates of the airport in Afghanistan."
)
AIRLIFT_BBC = (
    "Two days after 1,500 evacuees were flown out of Kabul, families still queued at the airport "
    "gates; the buses Taliban fighters let through on Monday carried people out of Afghanistan."
)
DEADLINE_CNN = (
    "Biden kept the August 31 deadline for leaving Afghanistan. The Taliban warned against "
    "any delay, and Kirby said troops at Kabul airport would be gone by August 31."
)
DEADLINE_FOX = (
    "Troops will leave Kabul airport by August 31, Biden decided, as the Taliban threatened "
    "consequences for a delay; Kirby confirmed the Afghanistan deadline."
)


def test_a_sagas_developments_on_two_days_stay_two_stories() -> None:
    saga = [
        report("airlift-ap", AIRLIFT_AP, 2, source="AP"),
        report("airlift-reuters", AIRLIFT_REUTERS, 2, source="Reuters"),
        report("deadline-cnn", DEADLINE_CNN, 3, source="CNN"),
        report("deadline-fox", DEADLINE_FOX, 3, source="Fox News"),
    ]
    airlift = frozenset({"airlift-ap", "airlift-reuters"})
    deadline = frozenset({"deadline-cnn", "deadline-fox"})
    state = State()
    state.add(saga + corpus())  # other events, so that the saga's names are not everywhere
    assert {airlift, deadline} <= groups(state.assignment())
    # a later report of the airlift joins it, nearer the deadline's day, and bridges nothing
    state.add([report("airlift-bbc", AIRLIFT_BBC, 4, source="BBC")])
    assert {airlift | {"airlift-bbc"}, deadline} <= groups(state.assignment())


def test_a_report_joins_its_own_days_story_before_another_days() -> None:
    column = (
        "Evacuation flights from Kabul have carried 1,500 people out of Afghanistan, Kirby said, "
        "and buses of evacuees still pass the airport gates; Biden keeps the deadline."
    )
    saga = [
        report("airlift-ap", AIRLIFT_AP, 2, source="AP"),
        report("airlift-reuters", AIRLIFT_REUTERS, 2, source="Reuters"),
        report("deadline-cnn", DEADLINE_CNN, 3, source="CNN"),
        report("deadline-fox", DEADLINE_FOX, 3, source="Fox News"),
        report("column", column, 3, source="The Column"),
    ]
    state = State()
    state.add(saga + corpus())
    # nearer the airlift in words, but it is the deadline's day's coverage that it reaches
    assert frozenset({"deadline-cnn", "deadline-fox", "column"}) in groups(state.assignment())


def test_switching_settings_changes_grouping() -> None:
    strict = State(Stories(threshold=0.99))
    strict.add(corpus())
    assert len(set(strict.assignment().values())) == len(corpus())


def write_jsonl(path: Path, reports: list[Report]) -> None:
    lines = []
    for r in reports:
        row = {"id": r.id, "title": r.title, "text": r.text, "source": r.source}
        if r.date:
            row["date"] = r.date.isoformat()
        if r.language:
            row["language"] = r.language
        lines.append(json.dumps(row, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_jsonl_command_prints_each_articles_story(digest: Run, tmp_path: Path) -> None:
    state = State()
    state.add(corpus())
    for order, reports in enumerate(itertools.islice(itertools.permutations(corpus()), 0, 3)):
        path = tmp_path / f"articles-{order}.jsonl"
        write_jsonl(path, list(reversed(reports)))
        result = digest("stories", path, "-C", tmp_path)
        assert result.code == 0, result.err
        assert json.loads(result.out) == state.assignment()


def test_the_jsonl_command_explains(digest: Run, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    write_jsonl(path, corpus())
    result = digest("stories", "--explain", path, "-C", tmp_path)
    assert result.code == 0, result.err
    rows = {row["article"]: row for row in map(json.loads, result.out.splitlines())}
    assert set(rows) == {r.id for r in corpus()}
    assert rows["papua-2"]["story"] == rows["papua-1"]["story"]
    assert rows["papua-2"]["similarity"] > 0


def test_the_jsonl_command_reports_bad_lines(digest: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "a", "title": "T", "text": "x"}\n'
        "not json\n"
        '{"id": "b", "title": "T"}\n'
        '{"id": "c", "title": "T", "text": "x", "story": "../../etc"}\n',
        encoding="utf-8",
    )
    result = digest("stories", path, "-C", tmp_path)
    assert result.code == 1
    assert f"{path}:2: " in result.err
    assert f"{path}:3: missing 'text'" in result.err
    assert f"{path}:4: story '../../etc' is not a story id" in result.err


def test_stories_settings_are_read_and_unknown_keys_reported(digest: Run, tmp_path: Path) -> None:
    from digest import config
    from digest.errors import ConfigError

    base = 'base_url = "https://example.org/"\n[stories]\n'
    (tmp_path / "digest.toml").write_text(base + "window = 5\nthreshold = 0.3\n")
    assert config.load(tmp_path).stories == Stories(True, 5, 0.3)
    (tmp_path / "digest.toml").write_text(base + "windw = 5\nthreshold = 2\n")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    message = str(caught.value)
    assert "digest.toml:3: unknown key 'windw' in [stories] — did you mean 'window'?" in message
    assert "digest.toml:4: 'threshold' must be a number above 0 and at most 1" in message


def test_counting_in_worker_processes_gives_the_same_stories(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from digest.stories import cluster

    monkeypatch.setattr(cluster, "_PARALLEL", 1)  # fork even for a few articles
    one, two = State(), State()
    one.add(corpus())
    two.add(corpus(), workers=2)
    assert one.assignment() == two.assignment()
    assert pickle.dumps(one.df) == pickle.dumps(two.df)


def test_a_story_absorbed_thousands_of_times_over_adds_up_its_sums() -> None:
    """An old story absorbing a growing one, merge after merge, nests the sums not yet added
    as deep as the merges go: reading them must neither recurse nor lose one."""
    from array import array

    from digest.stories.cluster import _Story

    chain = _Story("s0", 0, packed=((("en", ("a", "b"), array("d", [1.0, 2.0]), 0, 2),), ()))
    for n in range(1, 5000):
        older = _Story(f"s{n}", n, packed=((("en", ("b", "c"), array("d", [1.0, 0.5]), 0, 2),), ()))
        older.absorbed.append(chain)
        chain = older
    assert chain.words == {"en": {"b": 2.0 + 4999.0, "c": 0.5 * 4999, "a": 1.0}}
    assert chain.names == {}
    chain.pack()
    assert chain.packed is not None and not chain.open_words and not chain.absorbed
    assert chain.words["en"]["c"] == 0.5 * 4999
