"""`pprfeed check`, `pprfeed topic` and `pprfeed import`: the archive itself."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pprfeed.archive.load import load_archive
from pprfeed.archive.synonyms import check_synonyms, load_synonyms
from pprfeed.cli.common import (
    UsageError,
    add_config_option,
    add_content_option,
    load_or_report,
    print_diagnostics,
)
from pprfeed.config import SiteSettings, check_config, load_publish_settings, load_settings
from pprfeed.links import article_url
from pprfeed.model import Archive, Article
from pprfeed.text import plural

if TYPE_CHECKING:
    from pprfeed.archive.search import QueryEngine, QueryResult


def register(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="check the content folder and summarise the archive",
        description="Check every content file; print every problem as path:line: what — fix.",
    )
    add_content_option(check)
    add_config_option(check)  # publishing: `check --config` also reports the [state]/[slack]/[discord] problems
    check.add_argument(
        "--out",
        metavar="DIR",
        help="a deployed output folder (or a copy of it): also check that no article or topic feed it has "
        "published would disappear",
    )
    check.set_defaults(handler=run_check)

    topic = commands.add_parser(
        "topic",
        help="list the archive entries on a topic (or search them)",
        description="Resolve QUERY to a topic (name, slug, alias, prefix, typo) or search "
        "titles, citations and summaries. No QUERY lists every topic.",
    )
    topic.add_argument("query", nargs="*", metavar="QUERY", help="a topic or words to look for")
    topic.add_argument("--json", action="store_true", help="print machine-readable JSON")
    topic.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N articles")
    add_content_option(topic)
    add_config_option(topic)  # [site] base_url: the links printed are the built pages' addresses
    topic.set_defaults(handler=run_topic)

    importer = commands.add_parser(
        "import",
        help="turn a blog page's text into content files",
        description="Read text in the PPRNet blog page's shape and write one content file "
        "per summary into the content folder. Review the suggested topics.",
    )
    importer.add_argument("file", metavar="FILE", help="the page's text ('-' for standard input)")
    importer.add_argument("--force", action="store_true", help="overwrite content files that already exist")
    add_content_option(importer)
    importer.set_defaults(handler=run_import)


def run_check(args: argparse.Namespace) -> int:
    archive = load_or_report(args.content)
    if archive is None:
        return 1
    if synonym_problems := check_synonyms(args.content, archive):  # content/synonyms.toml
        print_diagnostics(synonym_problems)
        print(
            f"{args.content}: {plural(len(synonym_problems), 'problem')} found — fix them and run `pprfeed check` "
            "again.",
            file=sys.stderr,
        )
        return 1
    settings, problems = load_settings(args.config) if args.out is not None or args.config else (None, [])
    today = (settings.site if settings else SiteSettings()).today()
    print(summarise(archive, args.content, today))
    if args.out is not None:
        print_diagnostics(problems)
        if settings is None or check_deployed(archive, args.content, Path(args.out), settings.site) != 0:
            return 1
    if args.config is not None:  # publishing: the same configuration problems `pprfeed publish` stops on
        return check_config_file(args.config, archive)
    return 0


def check_deployed(archive: Archive, content: str, out: Path, site: SiteSettings) -> int:
    """`check --out DIR`: what `build` would refuse, against a deployed folder."""
    from pprfeed.site.feeds import visible_articles  # only this option needs the site's modules
    from pprfeed.site.published import PUBLISHED_FILE, lost_addresses, read_published

    published = read_published(out)
    if published is None:
        print(f"{out}: no {PUBLISHED_FILE} (not built by this version of `pprfeed build`): nothing to compare")
        return 0
    articles, _ = visible_articles(archive, site.now(), site.today())
    lost = lost_addresses(published, archive, articles, content)
    print_diagnostics(lost)
    if lost:
        print(
            f"{out}: `pprfeed build` would refuse: {plural(len(lost), 'published address', 'published addresses')} "
            "would disappear (see above)",
            file=sys.stderr,
        )
        return 1
    print(f"{out}: OK — every published article and topic feed is still there")
    return 0


def summarise(archive: Archive, content: str, today: date | None = None) -> str:
    """The archive in a few lines; live issues (the ones readers see on `today`) apart from scheduled and drafts."""
    today = today or SiteSettings().today()
    live = archive.published(today)
    scheduled = [i for i in archive.issues if not i.draft and i.published > today]
    drafts = [i for i in archive.issues if i.draft]
    counts = live.topic_counts()
    used = sorted(((n, archive.topic(s).name) for s, n in counts.items() if n), key=lambda pair: (-pair[0], pair[1]))
    held = [plural(len(group), what) for group, what in ((scheduled, "scheduled issue"), (drafts, "draft")) if group]
    lines = [
        f"{content}: OK — {plural(len(live.issues), 'live issue')}, {plural(len(live.articles), 'article')}, "
        f"{len(used)} of {len(archive.topics)} topics used" + (f" ({', '.join(held)} not counted)" if held else "")
    ]
    if live.issues:
        newest = live.issues[0]
        lines.append(
            f"  newest issue: {newest.title} ({newest.month}, published {newest.published}), "
            f"{plural(len(newest.articles), 'article')}"
        )
        lines.append(f"  oldest issue: {live.issues[-1].title}")
    for issue in sorted(scheduled, key=lambda i: i.published):
        lines.append(
            f"  scheduled: {issue.title} ({issue.month}), goes live on {issue.published}, "
            f"{plural(len(issue.articles), 'article')}"
        )
    for issue in drafts:
        lines.append(
            f"  draft: {issue.title} ({issue.month}), {plural(len(issue.articles), 'article')}: "
            "held back until draft = true is removed from its issue.toml"
        )
    if used:
        lines.append("  most used topics: " + ", ".join(f"{name} ({n})" for n, name in used[:5]))
    return "\n".join(lines)


def run_topic(args: argparse.Namespace) -> int:
    from pprfeed.archive.search import MatchKind, QueryEngine  # only this command searches

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    settings, problems = load_settings(args.config)
    print_diagnostics(problems)
    archive = load_or_report(args.content)
    if archive is None or settings is None:
        return 1
    archive = archive.published(settings.site.today())
    engine = QueryEngine(archive, load_synonyms(args.content))
    result = engine.find(" ".join(args.query))
    if args.json:
        print(json.dumps(result_json(result, engine, args.limit, settings.site), ensure_ascii=False, indent=2))
    else:
        print(result_text(result, engine, args.limit))
    return 0 if result.articles or result.kind is MatchKind.LIST else 1  # 1: nothing found


def article_json(article: Article, site: SiteSettings) -> dict[str, object]:
    return {
        "id": article.id,
        "title": article.title,
        "month": article.month,
        "topics": list(article.topics),
        "citation": article.citation,
        "doi": article.doi,
        "doi_url": article.doi_url,
        "link": article_url(article, site),
    }


def result_json(result: QueryResult, engine: QueryEngine, limit: int | None, site: SiteSettings) -> dict[str, object]:
    from pprfeed.archive.search import MatchKind

    if result.kind is MatchKind.LIST:
        return {
            "query": "",
            "match": "list",
            "topics": [{"slug": t.slug, "name": t.name, "articles": n} for t, n in engine.topic_list()],
        }
    return {
        "query": result.query,
        "match": result.kind.value,
        "topics": [{"slug": t.slug, "name": t.name} for t in result.topics],
        "suggestions": [{"slug": t.slug, "name": t.name} for t in result.suggestions],
        "total": len(result.articles),
        "articles": [article_json(a, site) for a in result.articles[:limit]],
    }


def result_text(result: QueryResult, engine: QueryEngine, limit: int | None) -> str:
    from pprfeed.archive.search import MatchKind, explain

    if result.kind is MatchKind.LIST:
        rows = [f"{n:4d}  {t.name}  ({t.slug})" for t, n in engine.topic_list()]
        return "Topics (articles, name, slug):\n" + "\n".join(rows)
    names = ", ".join(t.name for t in result.topics)
    heading = {
        MatchKind.TOPIC: f"Topic: {names}",
        MatchKind.PREFIX: f'Topics starting with "{result.query}": {names}',
        MatchKind.TYPO: f'No topic "{result.query}"; showing the closest, {names}',
        MatchKind.TEXT: (f"No articles tagged {names} yet" if result.topics else f'No topic "{result.query}"')
        + f'; articles mentioning "{result.query}"',
        MatchKind.NONE: f'Nothing found for "{result.query}"',
    }[result.kind]
    lines = [f"{heading} — {len(result.articles)} article{'s' if len(result.articles) != 1 else ''}"]
    for article in result.articles[:limit]:
        lines.append(f"  {article.month}  {article.title}")
        lines.append(f"           {article.citation}")
        if article.doi_url:
            lines.append(f"           {article.doi_url}")
    if not result.articles and result.kind in (MatchKind.TOPIC, MatchKind.PREFIX):
        lines.append("  No article has this topic yet. Run `pprfeed topic` with no query to see the counts.")
    if limit is not None and len(result.articles) > limit:
        lines.append(f"  … and {len(result.articles) - limit} more (raise --limit)")
    if result.suggestions:
        lines.append("Did you mean: " + ", ".join(f"{t.name} ({t.slug})" for t in result.suggestions) + "?")
    if result.kind is MatchKind.NONE:
        lines.append(explain(result, len(engine.articles)))
        lines.append("Run `pprfeed topic` with no query to list every topic.")
    return "\n".join(lines)


def run_import(args: argparse.Namespace) -> int:
    from pprfeed.archive.importer import ImportError_, parse_blog_text, write_imported  # only this command needs it

    source = Path(args.file)
    try:
        text = sys.stdin.read() if args.file == "-" else source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text; save it as UTF-8 and try again") from None
    except OSError as exc:  # a folder, no permission, …
        raise UsageError(f"{source}: cannot be read ({exc.strerror or exc}); pass a text file") from None
    try:
        articles = parse_blog_text(text)
    except ImportError_ as exc:
        for line, what, fix in exc.problems:
            print(f"{source}:{line}: {what} — {fix}", file=sys.stderr)
        return _import_failed(f"{source}: {plural(len(exc.problems), 'problem')} found; nothing was imported")
    if not articles:
        return _import_failed(f'{source}: no month heading such as "November 2018" followed by an article was found')
    archive, diagnostics = load_archive(args.content)
    if archive is None:
        print_diagnostics(diagnostics)
        return _import_failed(f"{args.content} must pass `pprfeed check` before importing into it")
    try:
        written = write_imported(articles, Path(args.content), list(archive.topics), force=args.force)
    except FileExistsError as exc:
        raise UsageError(f"these files exist already (use --force to overwrite): {exc}") from None
    drafts = [path for path in written if path.name == "issue.toml"]
    for path in written:
        print(f"wrote {path}" + (" (draft = true: held back from feeds and chat)" if path in drafts else ""))
    count = len(written) - len(drafts)
    print(
        f"{count} {'article' if count == 1 else 'articles'} imported. Review each file's suggested topics,"
        " then run `pprfeed check`."
    )
    if drafts:
        print("New issues are drafts: delete `draft = true` from their issue.toml once reviewed.")
    return 0


def _import_failed(why: str) -> int:
    """Problems in what is imported or imported into: exit status 1, as `check` gives (2 is for usage errors)."""
    print(f"pprfeed import: {why}", file=sys.stderr)
    return 1


def check_config_file(path: str, archive: Archive) -> int:
    """`pprfeed check --config FILE`: every problem `pprfeed publish` or the bots would stop on."""
    settings, problems = load_settings(path)
    if settings is not None:
        problems = problems + check_config(settings, archive, os.environ)
    print_diagnostics(problems)
    errors = sum(d.severity == "error" for d in problems)
    if errors or settings is None:
        print(
            f"{path}: {plural(errors, 'problem')} found — fix {'it' if errors == 1 else 'them'} and run "
            f"`pprfeed check --config {path}` again.",
            file=sys.stderr,
        )
        return 1
    publishing, _ = load_publish_settings(settings, archive, os.environ)
    count = len(publishing.targets) if publishing else 0
    print(
        f"{path}: OK — {plural(count, 'publishing target')}"
        + (f": {', '.join(t.key for t in publishing.targets)}" if publishing and count else "")
    )
    return 0
