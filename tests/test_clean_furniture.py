"""A short article among long furniture is still the article.

Each fixture is a whole-page text dump written for this test (no outlet's text),
with the body the cleaner must keep beside it. The furniture around each is of
one kind that a reader must never get instead of the article.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest import config, frontmatter
from digest.clean import clean_text
from digest.clean.furniture import SiteFurniture
from digest.sources.files import read_inbox
from tests.conftest import project, write

ARTICLE = [
    "The harbour board approved a plan on Monday to dredge the old canal, which has "
    "been closed to boats since a storm filled it with silt three winters ago.",
    "Work is to start in April and take about eight weeks, the board said.",
]
TITLE = "Harbour board votes to reopen the old canal"
HEAD = f"Menu\nNews\nSport\nWeather\n{TITLE}\nBy Mara Quint\nMarch 4, 2024\n"

COOKIES = (
    "We value your privacy. We and our partners use cookies and similar technologies to "
    "store and access information on your device, to personalise content and ads, and to "
    "measure how you use our website. By clicking Accept you agree to the use of cookies. "
    "You can change your preferences or withdraw your consent at any time in the cookie "
    "settings of this site, as described in our cookie policy.\nAccept all\nManage settings\n"
)
SERVICE = (
    "Customer service\n"
    "Our customer service team is here to help you from Monday to Friday between 8 am and "
    "6 pm. Call us on 0800 555 0199 or send us an email and we will answer your question "
    "within two working days. For questions about your subscription, your delivery or your "
    "invoice, please visit our help centre, where you can also change your account details "
    "and manage your newsletters.\n"
)
TAGS = (
    "harbour, canal, dredging, storms, silt, boats, tourism, budget, council, ports, "
    "shipping, environment, fishing, sailing, weather, infrastructure, transport, jobs\n"
)
TEASERS = "".join(
    f"{head}\n{teaser}\n"
    for head, teaser in [
        ("Bakery wins regional bread prize", "The family business beat forty rivals."),
        ("Bridge closed for repairs all summer", "Drivers face a long detour to the coast."),
        ("New ferry timetable starts next week", "Morning boats leave half an hour earlier."),
        ("School choir to sing at the cathedral", "Tickets for the concert are free."),
        ("Lighthouse museum reopens after repairs", "Visitors can climb the tower again."),
    ]
)
COMMENTS = "".join(
    f"{name}\nMarch 5, 2024 at {hour}:15 am\n{text}\nReply\n"
    for name, hour, text in [
        (
            "dockside_dan",
            9,
            "I have lived by that canal for forty years and I remember when barges still "
            "came through every morning, loaded with timber and coal for the mills upriver. "
            "It would be wonderful to see boats on it again, although I doubt the money "
            "will stretch as far as the board promises.",
        ),
        (
            "Lena P",
            10,
            "Eight weeks sounds optimistic to me. The last time they dug out the marina it "
            "took the whole summer and half the autumn, and the smell was terrible for "
            "anyone who lives on the quay. I hope they have learned something since then.",
        ),
        (
            "old salt",
            11,
            "Does anyone know whether the footpath along the towpath will stay open while "
            "the work goes on? I walk my dog there every day and there is no other path "
            "to the beach that does not follow the main road with all its lorries.",
        ),
    ]
)
# A legal footer in plain prose, longer than the article, after a "Related" marker.
LEGAL = (
    "Related stories\nBakery wins regional bread prize\nFacebook\nInstagram\n"
    "The Harbour Herald is published by the Quayside Trust. Material on this page is "
    "provided for general information only and does not constitute professional advice "
    "of any kind. Opinions expressed by contributors are their own and are not those of "
    "the trust or its trustees. Photographs remain the property of the photographers "
    "credited. The trust is registered as a charity in England and Wales under number "
    "1234567, and its registered office is at 4 Quay Street, Portmouth.\n"
)

CASES = {
    "cookie notice": (HEAD + COOKIES + "\n".join(ARTICLE) + "\nShare\nPrint\n", ARTICLE),
    "customer-service box": (HEAD + "\n".join(ARTICLE) + "\n" + SERVICE, ARTICLE),
    "tag cloud": (HEAD + "\n".join(ARTICLE) + "\n" + TAGS + "Contact us\n", ARTICLE),
    "teaser headlines": (TEASERS + HEAD + "\n".join(ARTICLE) + "\n" + TEASERS, ARTICLE),
    "comment thread": (HEAD + "\n".join(ARTICLE) + "\n" + COMMENTS, ARTICLE),
    "legal footer": (HEAD + "\n".join(ARTICLE) + "\n" + LEGAL, ARTICLE),
    "section headings": (
        "Home\nHarbour and Coast Conferences\nTweets by @harbourdesk\n"
        + HEAD.removeprefix("Menu\n")
        + "\n".join(ARTICLE)
        + "\nMore from Harbour and Coast\n",
        ARTICLE,
    ),
}


def paragraphs(markdown: str) -> list[str]:
    return [p.replace("\\", "") for p in markdown.split("\n\n") if p.strip()]


@pytest.mark.parametrize("name", CASES)
def test_the_article_is_kept_and_the_furniture_dropped(name: str) -> None:
    page, body = CASES[name]
    result = clean_text(page, name_date=None, saved=date(2025, 1, 1))

    assert paragraphs(result.body) == body
    assert result.title == TITLE
    assert result.published == date(2024, 3, 4)
    assert not result.unsure


def test_only_furniture_is_kept_whole_and_marked_unsure() -> None:
    """No block is clearly the article: the text stays, and the cleaner says it does not know."""
    page = "Menu\nNews\n" + COOKIES + SERVICE + TAGS
    result = clean_text(page, name_date=None, saved=date(2025, 1, 1))

    assert result.unsure
    assert "Our customer service team" in result.body
    assert "We value your privacy" in result.body


def test_lines_the_site_repeats_on_every_page_are_its_furniture() -> None:
    """A notice in prose that each of a site's pages carries is dropped once it is learned."""
    notice = (
        "The Harbour Herald is published by the Quayside Trust, a charity that keeps local "
        "news free to read for everyone who lives along the coast and its villages."
    )
    other = "A second story about the lifeboat crew, who rescued two swimmers on Sunday."
    pages = {
        "canal.txt": HEAD + "\n".join(ARTICLE) + "\n" + notice + "\n",
        "lifeboat.txt": f"Menu\nLifeboat crew saves two swimmers\n{other}\n{notice}\n",
        "fair.txt": f"Menu\nSummer fair returns\nThe fair returns in June, organisers said.\n{notice}\n",
    }
    unlearned = clean_text(pages["canal.txt"], name_date=None, saved=date(2025, 1, 1))
    assert notice in unlearned.body.replace("\\", "")

    furniture = SiteFurniture()
    for text in pages.values():
        furniture.learn("harbourherald.example", text.splitlines())
    learned = clean_text(
        pages["canal.txt"],
        name_date=None,
        saved=date(2025, 1, 1),
        furniture=furniture.lines("harbourherald.example"),
    )
    assert paragraphs(learned.body) == ARTICLE
    assert furniture.lines("another.example") == frozenset()


def test_the_inbox_reader_learns_each_sites_furniture_and_flags_what_it_cannot_tell(
    tmp_path: Path,
) -> None:
    """Real files in a real project: the notice on every page of one site is dropped from
    each, and a page of only furniture is kept whole with a note and a front-matter mark."""
    notice = (
        "The Harbour Herald is published by the Quayside Trust, a charity that keeps local "
        "news free to read for everyone who lives along the coast and its villages."
    )
    address = "https://harbourherald.example/news"
    stories = {
        "canal.txt": HEAD + "\n".join(ARTICLE),
        "lifeboat.txt": "Menu\nLifeboat crew saves two swimmers\nThe crew rescued two "
        "swimmers off the north beach on Sunday afternoon, the station said.",
        "fair.txt": "Menu\nSummer fair returns\nThe summer fair returns to the green in "
        "June after two years away, its organisers said on Friday.",
    }
    inbox = project(tmp_path) / "content" / "inbox"
    for name, story in stories.items():
        write(inbox / name, f"{address}\n{story}\n{notice}\n")
    write(inbox / "consent.txt", "Menu\nNews\n" + COOKIES + SERVICE + TAGS)

    articles, problems, notes = read_inbox(config.load(tmp_path))

    assert problems == []
    by_file = {Path(a.origin.path).name: a for a in articles if a.origin}
    assert paragraphs(by_file["canal.txt"].body) == ARTICLE
    for article in by_file.values():
        assert "Quayside Trust" not in article.body
    unsure = by_file["consent.txt"]
    assert "Our customer service team" in unsure.body
    assert "check:" in frontmatter.dump(unsure)
    assert [str(n.path) for n in notes if "no block is clearly the article" in n.message] == [
        "content/inbox/consent.txt"
    ]
    assert not by_file["canal.txt"].extra
