"""The build's stories stage places an article again only when what placing reads changed."""

from __future__ import annotations

from datetime import UTC, datetime

from digest.config import Stories
from digest.model import Article
from digest.stories import stage
from digest.stories.vectors import LEAD

OPENING = "Zorbanian ministers Quelltar and Vostrin met in Harbek to sign the Harbek accord.\n\n"
FILLER = "The talks covered grain, gas and the border crossings along the river.\n\n"


class Bodies:
    """Bodies by article id, keyed by their text: what the archive's `Bodies` gives."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.read: list[str] = []

    def text(self, article: Article) -> str:
        self.read.append(article.id)
        return self.texts[article.id]

    def key(self, article: Article) -> str:
        return str(hash(self.texts[article.id]))


def articles() -> list[Article]:
    day = datetime(2024, 5, 2, 10, tzinfo=UTC)
    return [
        Article(id="a", title="Harbek accord signed", published=day, body="", source="One"),
        Article(id="b", title="Ministers sign accord", published=day, body="", source="Two"),
        Article(id="c", title="Harbour fire", published=day, body="", source="Two"),
    ]


def test_an_edit_past_the_lead_places_nothing_again_and_an_edit_in_it_does() -> None:
    long = OPENING + FILLER * (2 * LEAD // len(FILLER))
    assert len(long) > 2 * LEAD
    other = "Officials Pemberly and Ashgrove toured Lindqvist harbour after the fire.\n"
    texts = {"a": long, "b": OPENING + FILLER * 3, "c": other}
    kept, stories, changed = stage.update(None, Stories(), articles(), Bodies(texts))
    assert changed and stories.of["a"] == stories.of["b"]

    bodies = Bodies(texts | {"a": long + "An update at the end.\n"})
    kept, again, changed = stage.update(kept, Stories(), articles(), bodies)
    assert not changed  # nothing to save: the state is as it was
    assert bodies.read == ["a"]  # the edited body is read, to find its lead unchanged
    assert again == stories

    bodies = Bodies(texts | {"a": long + "An update at the end.\n"})
    stage.update(kept, Stories(), articles(), bodies)
    assert bodies.read == []  # its new version is kept in memory (and saved with the next)

    lead_edit = long.replace("Harbek to sign", "Harbek, Zorbania, to sign", 1)
    kept, _, changed = stage.update(kept, Stories(), articles(), Bodies(texts | {"a": lead_edit}))
    assert changed
