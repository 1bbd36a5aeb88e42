"""The command line: parse options, call one function, turn `DigestError` into a message.

A user error prints ``path:line: what is wrong — how to fix it`` and exits 1; a
traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from digest import __version__
from digest.errors import DigestError, Problem

# Each command imports what it uses: a build with nothing to do is then mostly Python's start.


def run() -> NoReturn:
    """The ``digest`` command: `main`, then an exit without Python's teardown.

    Freeing every module and record at exit takes 5-20 ms, up to a tenth of a build
    after one edit; by then every file is written and closed (mypy exits so too).
    """
    try:
        code = main()
    except BrokenPipeError:  # the reader left (digest stories x.jsonl | head): as at the end
        code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left (digest build | head): nothing more to say
            pass
        except OSError:  # a full disk, say: the code Python itself exits with then
            code = code or 120
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run digest; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="digest",
        description="Build a news digest site from saved articles.",
        parents=[_options(defaults=True)],
    )
    common = _options(defaults=False)
    parser.add_argument("--version", action="version", version=f"digest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmd = commands.add_parser("init", parents=[common], help="start a new digest project")
    cmd.add_argument("target", nargs="?", type=Path, metavar="DIR", help="a new or empty folder")
    cmd = commands.add_parser(
        "build", parents=[common], help="import the inbox, fetch the feeds, build the site"
    )
    cmd.add_argument("--strict", action="store_true", help="fail on any unreadable file")
    cmd.add_argument("--offline", action="store_true", help="fetch nothing; build from content/")
    cmd.add_argument(
        "--full",
        action="store_true",
        help="read every article and check every file of the site (after editing site/ by hand)",
    )
    cmd = commands.add_parser(
        "fetch", parents=[common], help="import the inbox and fetch the feeds; build nothing"
    )
    cmd.add_argument("--strict", action="store_true", help="fail on any unreadable file")
    cmd = commands.add_parser("feeds", parents=[common], help="import or export subscriptions")
    verbs = cmd.add_subparsers(dest="verb", required=True, metavar="VERB")
    verb = verbs.add_parser("import", parents=[common], help="add the feeds of an OPML file")
    verb.add_argument("opml", type=Path, metavar="FILE.opml")
    verbs.add_parser("export", parents=[common], help="print the feeds as OPML")
    cmd = commands.add_parser(
        "clean", parents=[common], help="print the cleaned article for a .txt, .html or .md file"
    )
    cmd.add_argument("path", type=Path)
    cmd = commands.add_parser(
        "topics", parents=[common], help="list topics, or explain one article's"
    )
    cmd.add_argument("--explain", type=Path, metavar="PATH", help="an article or inbox file")
    cmd = commands.add_parser(
        "stories",
        parents=[common],
        help="list the project's stories, explain an article's, or group JSON lines",
    )
    cmd.add_argument(
        "jsonl", type=Path, nargs="?", metavar="FILE.jsonl", help="articles as JSON lines"
    )
    cmd.add_argument(
        "--explain",
        nargs="?",
        const="",
        metavar="PATH",
        help="why an article (a file in the articles folder) is in its story; "
        "with FILE.jsonl, give no PATH: every article is explained",
    )
    cmd = commands.add_parser(
        "serve", parents=[common], help="build, serve the site and rebuild it on every save"
    )
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    cmd.add_argument("--port", type=int, default=8000, help="port (8000; 0 picks a free one)")
    args = parser.parse_args(argv)
    commands_ = {
        "init": _init,
        "build": _build,
        "fetch": _build,
        "feeds": _feeds,
        "clean": _clean,
        "topics": _topics,
        "stories": _stories,
        "serve": _serve,
    }
    try:
        return commands_[args.command](args)
    except DigestError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        if args.verbose:
            import traceback  # only here: 5 ms of every command's start

            traceback.print_exc()
        return 1
    except KeyboardInterrupt:
        print("interrupted; the site was left as it was", file=sys.stderr)
        return 130


def _options(*, defaults: bool) -> argparse.ArgumentParser:
    """-C and --verbose, accepted before and after the command.

    The commands' copy has no defaults, so it never resets what was given before
    the command (``digest -C DIR serve``).
    """
    options = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    options.add_argument("--verbose", "-v", action="store_true", help="show tracebacks")
    options.add_argument("-C", "--directory", type=Path, help="the project folder (default: here)")
    if defaults:
        options.set_defaults(verbose=False, directory=Path())
    return options


def _init(args: argparse.Namespace) -> int:
    from digest import init

    target = args.directory / args.target if args.target else args.directory
    written = init.init(target)
    print(f"wrote {', '.join(p.relative_to(target).as_posix() for p in written)} in {target}/")
    where = f" -C {target}" if target != Path() else ""
    print(f"next: put saved pages in {target / 'content' / 'inbox'}/ and run: digest{where} build")
    return 0


def _build(args: argparse.Namespace) -> int:
    from digest import build

    rendering = args.command == "build"
    report = build.build(
        args.directory,
        strict=args.strict,
        offline=rendering and args.offline,
        render_site=rendering,
        full=rendering and args.full,
    )
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for tally in report.sources:
        print(tally)
    if rendering:
        site = (
            f"wrote {report.written} of {report.pages} files"
            if report.written
            else "site unchanged"
        )
        print(f"{report.articles} articles in {report.topics} topics; {site}")
    else:
        print(f"{report.articles} articles in the archive")
    return 0


def _feeds(args: argparse.Namespace) -> int:
    from digest import config, opml

    cfg = config.load(args.directory)
    if args.verb == "export":
        sys.stdout.write(opml.write(cfg.title, cfg.feeds))
        return 0
    try:
        data = args.opml.read_bytes()
    except OSError as exc:
        raise DigestError(
            Problem(args.opml, f"cannot read: {exc.strerror}", "check the path")
        ) from None
    found = opml.read(data, args.opml)
    known = {f.url for f in cfg.feeds}
    added = [(name, url) for name, url in found if url not in known]
    config.add_feeds(args.directory, added)
    print(f"added {len(added)} feeds to digest.toml ({len(found) - len(added)} already there)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from digest import serve

    try:
        serve.serve(args.directory, host=args.host, port=args.port)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


def _clean(args: argparse.Namespace) -> int:
    from digest import config, frontmatter, group
    from digest.sources import files

    cfg = config.load(args.directory, required=False)
    path = args.path if args.path.is_absolute() else Path.cwd() / args.path
    if not path.is_file():
        raise DigestError(Problem(args.path, "no such file", "give the path of a saved page"))
    if path.suffix.lower() not in files.KINDS:
        raise DigestError(
            Problem(args.path, "not a .txt, .html or .md file", "rename or convert it")
        )
    article, notes = files.import_file(path.resolve(), cfg)
    for note in notes:
        print(f"note: {args.path}: {note}", file=sys.stderr)
    article = group.assign(article, cfg.topics)
    sys.stdout.write(frontmatter.dump(replace(article, origin=None)))
    return 0


def _stories(args: argparse.Namespace) -> int:
    """The project's stories, or one article's explained; with FILE.jsonl, ``{id: story}``
    as one JSON object (with ``--explain``, one JSON line per article)."""
    import json

    from digest import config, stories

    if args.jsonl is None and args.explain and args.explain.endswith(".jsonl"):
        args.jsonl, args.explain = Path(args.explain), ""  # --explain FILE.jsonl
    if args.jsonl is None:
        return _project_stories(args)
    cfg = config.load(args.directory, required=False)
    state = stories.State(cfg.stories)
    state.add(stories.read_jsonl(args.jsonl))
    if args.explain is None:
        print(json.dumps(state.assignment(), ensure_ascii=False, sort_keys=True))
        return 0
    for article_id in state.assignment():
        print(json.dumps(state.explain(article_id).as_dict(), ensure_ascii=False))
    return 0


def _project_stories(args: argparse.Namespace) -> int:
    """The stories as the next build places them (the state in .digest/ is brought up to
    date and saved, as a build would)."""
    from digest import archive, config
    from digest.stories import stage

    cfg = config.load(args.directory)
    loaded = archive.load(cfg)
    stored = loaded.stored
    bodies = archive.Bodies({s.article.id: s for s in stored})
    by_id = {s.article.id: s.article for s in stored}
    kept, found, changed = stage.update(stage.load(cfg), cfg.stories, by_id.values(), bodies)
    if changed:
        stage.save(cfg, kept)
    if args.explain is None or args.explain == "":
        ranked = sorted(found.members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        for story, members in ranked:
            outlets = len({by_id[i].source for i in members if by_id[i].source})
            copies = sum(1 for i in members if i in found.copies)
            print(
                f"{story}  {len(members)} report{'s' * (len(members) != 1)}, "
                f"{outlets} outlet{'s' * (outlets != 1)}, "
                f"{copies} cop{'ies' if copies != 1 else 'y'}"
                f"  {by_id[members[0]].published.date()}  {by_id[members[0]].title}"
            )
        return 0
    path = (Path.cwd() / args.explain).resolve()
    rel = path.relative_to(cfg.articles).as_posix() if cfg.articles in path.parents else ""
    article = next((a for a in by_id.values() if rel and a.path == rel), None)
    if article is None:
        broken = [p for p in loaded.problems if (cfg.root / p.path).resolve() == path]
        raise DigestError(
            *broken
            or [
                Problem(
                    args.explain,
                    "not an article of this project",
                    f"give a file in {cfg.articles}{os.sep}",
                )
            ]
        )
    why = kept.state.explain(article.id)
    members = found.members[why.story]
    print(f"{article.title}")
    print(f"  story {why.story}: {len(members)} reports, first {by_id[members[0]].title!r}")
    if why.pinned:
        print("  pinned by its front matter (story:)")
    if why.copy_of:
        copied = by_id.get(why.copy_of)
        print(
            f"  a copy of {why.copy_of}"
            + (f": {copied.source}, {copied.title!r}" if copied else "")
        )
    if why.similarity is None:
        print("  alone in its story")
    else:
        print(
            f"  similarity to the story's other reports: {why.similarity:.3f} "
            f"(threshold {cfg.stories.threshold})"
        )
    if why.days_apart is not None:
        print(f"  days to the nearest other report: {why.days_apart} (window {cfg.stories.window})")
    for label, terms in (("names", why.names), ("numbers", why.numbers), ("words", why.words)):
        shown = ", ".join(f"{t} {v:.3f}" for t, v in terms[:10]) or "none"
        print(f"  shared {label}: {shown}")
    return 0


def _topics(args: argparse.Namespace) -> int:
    from digest import archive, config, frontmatter, group
    from digest.sources import files

    cfg = config.load(args.directory)
    if args.explain is None:
        stored = archive.load(cfg).stored
        bodies = archive.Bodies({s.article.id: s for s in stored})
        articles = [group.assign(s.article, cfg.topics, bodies.text) for s in stored]
        _, topics = group.group(articles, cfg.topics)
        for topic in topics:
            print(f"{topic.title} ({topic.slug}): {len(topic.articles)} articles")
        return 0
    path = (Path.cwd() / args.explain).resolve()
    if cfg.articles in path.parents:
        rel = path.relative_to(cfg.articles).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DigestError(
                Problem(args.explain, f"cannot read: {exc}", "check the path")
            ) from None
        article = frontmatter.parse(text, args.explain, rel, cfg.timezone)
    elif path.is_file():
        article, _ = files.import_file(path, cfg)
    else:
        raise DigestError(Problem(args.explain, "no such file", "give an article or inbox file"))
    print(f"{article.title}")
    if article.topics is not None:
        print(f"  front matter names its topics, which win over rules: {', '.join(article.topics)}")
    for rule in cfg.topics:
        verdict = group.judge(article, rule)
        answer = "yes" if verdict.matches else "no"
        print(f"  {rule.title}: {answer} (score {verdict.score}, threshold {rule.threshold})")
        for number, hits in enumerate(verdict.hits, start=1):
            found = ", ".join(f"{term} {n}" for term, n in hits.items()) or "no term found"
            print(f"    group {number}: {found}")
        if verdict.excluded_by:
            print(f"    excluded by: {', '.join(verdict.excluded_by)}")
    print(f"  (a hit counts {group.TITLE_WEIGHT} in the title and 1 in the body)")
    return 0
