"""``digest init [DIR]``: a new digest project, ready for ``digest build``.

Like ``hugo new site``, it writes into a new or empty folder only, so it can never
overwrite a file; unlike pelican-quickstart, it asks nothing: every choice is a
commented line of digest.toml, to be changed later.
"""

from __future__ import annotations

from pathlib import Path

from digest.errors import DigestError, Problem

CONFIG = """\
# digest.toml: what this digest is and what it follows. Change any line, then run
#     digest build
# and open site/index.html (or run `digest serve` for a live preview).

title = "My digest"                    # the site's name, in every page's title
description = "The news this digest follows."
base_url = "https://example.org/my-digest/"  # where site/ will be published (absolute)
language = "en"                        # the pages' language tag
timezone = "UTC"                       # IANA name; dates without a zone are in it
# inbox = "content/inbox"              # drop saved pages here (.txt, .html, .md)
# articles = "content/articles"        # the cleaned articles: the archive, yours to edit
# output = "site"                      # the folder to publish
# per_page = 20                        # articles per topic page
# feed_items = 20                      # items in each feed the site publishes
# feed_content = "full"                # or "summary"

# Topics group articles by the words they use. An article gets a topic when every group of
# `require` has a hit and the score (3 a hit in the title, 1 in the body) reaches
# `threshold`. Terms match whole words, case-insensitively, unless written in capitals.
[[topics]]
title = "Climate"
description = "Weather, emissions and energy."
require = [
  ["climate", "emissions", "heatwave", "drought", "flood", "floods"],
]
exclude = ["quiz"]                     # a hit here keeps an article out
threshold = 3

# Feeds to follow (RSS, Atom or JSON Feed): remove the # signs to fetch this one on the next
# `digest build`, or add your reader's subscriptions with `digest feeds import FILE.opml`.
# [[feeds]]
# name = "Example News"                # recorded as each article's source
# url = "https://example.com/news/rss"
# topics = ["Climate"]                 # optional: given to every item, besides the rules
# full_text = false                    # optional: fetch each item's page for its main text
"""

GITIGNORE = """\
# Made by `digest build`: the site, and what digest remembers between builds.
site/
.digest/
"""


def init(target: Path) -> list[Path]:
    """Write a new project into ``target`` (created if missing); the paths written.

    Refuses, changing nothing, when ``target`` is a file or a folder with anything in it
    but a ``.git`` folder (``git init`` first is a common start).
    """
    if target.exists() and not target.is_dir():
        raise DigestError(Problem(target, "is a file", "give the name of a new or empty folder"))
    if target.is_dir() and any(p.name != ".git" for p in target.iterdir()):
        raise DigestError(
            Problem(
                target,
                "is not empty, and digest init overwrites nothing",
                "give the name of a new or empty folder (digest init my-digest)",
            )
        )
    files = {
        "digest.toml": CONFIG,
        ".gitignore": GITIGNORE,
        # git keeps no empty folder; the inbox reads only .txt, .html and .md files
        "content/inbox/.gitkeep": "",
    }
    written = []
    for name, text in files.items():
        path = target / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as file:  # "x": a file made meanwhile stays
                file.write(text)
        except FileExistsError:
            raise DigestError(
                Problem(path, "appeared while digest init ran", "remove the folder and try again")
            ) from None
        except OSError as exc:
            raise DigestError(
                Problem(path, f"cannot write: {exc.strerror}", "check the folder's permissions")
            ) from None
        written.append(path)
    return written
