"""Saved HTML pages: what trafilatura keeps that is not the article is dropped."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
