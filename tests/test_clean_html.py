"""Saved HTML pages: what trafilatura keeps that is not the article is dropped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.clean import clean_html

PARAGRAPHS = [
    "The city council voted on Tuesday to extend the tram line to the northern suburbs, "
    "ending a debate that has run for more than a decade.",
    "The extension adds six stops and about nine kilometres of track, and is expected to "
    "open in 2028 if construction starts next spring as planned by the transport office.",
    "Residents of the northern suburbs have long complained that buses are slow and "
    "crowded, and that the trip to the centre takes almost an hour at rush hour.",
]
FURNITURE = [
    "Related: Why the old tram depot is closing",
    "Sign up for our free newsletter",
    "Email Jane Doe at jane.doe@example.org or follow her on Twitter.",
    "Photo: Jane Doe/The Daily Courier",
]


def page() -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
    body += f"<p><strong>{FURNITURE[0]}</strong></p>"
    body += f"<p>{PARAGRAPHS[2]}</p><p>{FURNITURE[1]}</p><p><em>{FURNITURE[2]}</em></p>"
    body += f"<p>{FURNITURE[3]}</p>"
    body += (
        "<h2>More from us</h2><ul>"
        '<li><a href="https://example.org/a">Bridge repairs start in May</a></li>'
        '<li><a href="https://example.org/b">Parking fees go up</a></li></ul>'
    )
    return (
        "<html><head><title>Council extends tram line north</title></head><body>"
        f"<article><h1>Council extends tram line north</h1>{body}</article></body></html>"
    )


def test_furniture_around_the_article_is_dropped() -> None:
    result = clean_html(page())

    assert result.title == "Council extends tram line north"
    for paragraph in PARAGRAPHS:
        assert paragraph in result.body
    for junk in [*FURNITURE, "Council extends tram line north", "Bridge repairs", "Parking fees"]:
        assert junk not in result.body, junk


def dated_page(meta: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html><head><title>Council extends tram line north</title>{meta}</head><body>"
        "<article><h1>Council extends tram line north</h1>"
        f"<p>Monday, November 18, 2019, 08:19 PM</p>{body}</article></body></html>"
    )


def test_published_is_the_moment_the_metadata_states() -> None:
    """An evening page in New York is published the next day in UTC: the timestamp wins."""
    meta = (
        '<meta name="article_date_original" content="Monday, November 18, 2019, 08:19 PM">'
        '<meta content="2019-11-19T01:19:34Z" property="article:published_time">'
    )
    result = clean_html(dated_page(meta))
    assert result.published == datetime(2019, 11, 19, 1, 19, 34, tzinfo=UTC)


def test_a_distant_timestamp_does_not_replace_the_day() -> None:
    """A JSON-LD date of some other item (a year off) is not the article's."""
    meta = (
        '<meta name="date" content="2019-11-18">'
        '<script type="application/ld+json">{"datePublished": "2018-01-02T10:00:00Z"}</script>'
    )
    assert clean_html(dated_page(meta)).published == date(2019, 11, 18)


def test_a_page_without_date_markup_is_dated_by_its_visible_date_line() -> None:
    dated = page().replace(
        "<h1>Council extends tram line north</h1>",
        "<h1>Council extends tram line north</h1><p>By Jane Doe</p><p>March 30, 2021</p>",
    )
    assert clean_html(page()).published is None
    assert clean_html(dated).published == date(2021, 3, 30)


def test_a_long_run_of_symbols_is_not_published() -> None:
    filler = "<p>" + "*_[" * 5_000 + "</p>"
    extract = clean_html(page().replace("<h2>More from us", filler + "<h2>More from us"))
    assert PARAGRAPHS[2] in extract.body
    assert "\\*\\_" not in extract.body and "*_[" not in extract.body


def test_the_pages_picture_is_its_og_image_when_http() -> None:
    head = '<meta property="og:image" content="/img/tram.jpg">'
    with_image = page().replace("<head>", f"<head>{head}")
    found = clean_html(with_image, "https://news.example/tram")
    assert found.image is not None and found.image.url == "https://news.example/img/tram.jpg"
    hostile = page().replace("<head>", '<head><meta property="og:image" content="javascript:x">')
    assert clean_html(hostile, "https://news.example/tram").image is None


HEADLINE = "Council extends tram line north, U.S. panel says"


def titled_page(head: str, aside: str = "") -> str:
    """A page with the site's logo in an h1 above the article's own h1."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html><head>{head}</head><body><header><h1>The Daily Courier</h1></header>{aside}"
        f"<article><h1>{HEADLINE}</h1>{body}</article></body></html>"
    )


TITLE_CASES = {
    # trafilatura takes the title line's part without a full stop: the site's name.
    "site name": titled_page(f"<title>{HEADLINE} | The Daily Courier</title>"),
    # With two h1s and no og:title, trafilatura takes a widget's heading of class "…title".
    "section heading": titled_page(
        f"<title>{HEADLINE} - The Daily Courier</title>",
        '<aside><h3 class="widget-title">Harbour and Coast Conferences</h3>'
        "<ul><li>Ports 2025</li><li>Ferries 2026</li></ul></aside>",
    ),
    # og:title carries the site's name after a bar.
    "og:title with the site": titled_page(
        f'<meta property="og:title" content="{HEADLINE} | The Daily Courier">'
        '<meta property="og:site_name" content="The Daily Courier">'
    ),
    # og:title is the site's name on every page of the site.
    "og:title is the site": titled_page(
        '<meta property="og:title" content="The Daily Courier">'
        f"<title>{HEADLINE} - The Daily Courier</title>"
    ),
}


@pytest.mark.parametrize("name", TITLE_CASES)
def test_the_title_is_the_headline_that_og_title_h1_and_title_line_agree_on(name: str) -> None:
    result = clean_html(TITLE_CASES[name])

    assert result.title == HEADLINE
    assert result.source == "The Daily Courier"
    assert HEADLINE not in result.body
    assert PARAGRAPHS[0] in result.body


def test_a_heading_the_page_states_once_does_not_replace_the_title() -> None:
    """A promo box's h1 that the opening echoes better than the headline is not the headline:
    only a title the page states twice (og:title, h1, title line) can replace another."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = (
        '<html><head><meta property="og:title" content="A decade of waiting ends">'
        "<title>A decade of waiting ends - The Daily Courier</title></head><body>"
        f"<header><h1>A decade of waiting ends</h1></header><article>{body}</article>"
        "<aside><h1>Get the tram line and council news in your inbox</h1></aside></body></html>"
    )
    assert clean_html(page).title == "A decade of waiting ends"
