"""The Jinja environment: the project's templates over the default theme.

A user overrides a template by placing a file with the same name in the
project's ``templates/``. Autoescape is on and undefined variables are errors,
so no field reaches a page unescaped and a typo in a theme fails the build.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from digest import __version__
from digest.config import DEFAULT_THEME, Config
from digest.errors import Problem, ThemeError
from digest.model import Article, http_url, language_tag
from digest.render import Rendered, markdown


def environment(config: Config, theme: str, memory: Rendered) -> jinja2.Environment:
    """The environment for ``theme`` (see `theme_key`), with the templates it compiled before."""
    if memory.environment is not None and memory.environment[0] == theme:
        return memory.environment[1]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(config.templates), jinja2.FileSystemLoader(DEFAULT_THEME)]
        ),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the theme key covers every template: no need to stat them per page
        # Compiled templates kept by their source's hash, so a short rebuild compiles none;
        # the names carry digest's version, since the hash does not cover these options.
        bytecode_cache=jinja2.FileSystemBytecodeCache(
            str(_cache_folder(config)), f"{__version__}-%s.cache"
        ),
    )
    env.filters["rfc822"] = format_datetime
    env.filters["isodate"] = lambda d: d.isoformat()
    zone = config.timezone

    def day(moment: datetime) -> str:
        """The day in the site's timezone, as '19 September 2022' (not locale-dependent)."""
        local = moment.astimezone(zone)
        return f"{local.day} {local:%B %Y}"

    env.filters["day"] = day
    env.filters["month"] = lambda moment: f"{moment.astimezone(zone):%B %Y}"
    env.filters["http_url"] = http_url
    env.filters["language_tag"] = language_tag
    env.filters["lang"] = _lang
    memory.environment = (theme, env)
    return env


def _lang(article: Article, site_language: str) -> Markup:
    """`` lang="ru"`` for an article in another language than the site's (`language_tag`)."""
    tag = language_tag(article)
    if tag and tag.lower() != site_language.lower():
        return Markup(' lang="%s"') % tag
    return Markup()


def theme_key(config: Config) -> str:
    """Everything every page depends on: the templates, the settings, digest's version."""
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{__version__}\x1f{markdown.VERSION}\x1f{config!r}\x1f".encode())
    for theme in (DEFAULT_THEME, config.templates):
        if theme.is_dir():
            for path in sorted(theme.rglob("*")):
                if path.is_file():
                    hasher.update(f"{path.relative_to(theme)}\x1f".encode())
                    hasher.update(path.read_bytes())
                    hasher.update(b"\x1e")
    return hasher.hexdigest()


def static_files(config: Config) -> dict[str, bytes]:
    """The theme's static files, the project's own overriding the default theme's."""
    files: dict[str, bytes] = {}
    for theme in (DEFAULT_THEME, config.templates):
        folder = theme / "static"
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files[f"static/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def error(exc: jinja2.TemplateError, template: str) -> ThemeError:
    """A template's failure as a problem naming the template and, for syntax, the line."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or template
        return ThemeError(
            Problem(where, f"template syntax error: {exc.message}", "fix the template", exc.lineno)
        )
    return ThemeError(
        Problem(
            template,
            f"template failed: {exc.message or exc}",
            "check the variable names against the default theme",
        )
    )


def _cache_folder(config: Config) -> Path:
    folder = config.state / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
