"""`pprfeed build` and `pprfeed serve`: the feeds, OPML and HTML front door as a folder of static files."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pprfeed.cli.common import add_config_option, add_content_option, add_removed_option, print_diagnostics
from pprfeed.config import Settings, load_settings
from pprfeed.text import plural

if TYPE_CHECKING:  # imported by the commands that need them: the other commands never load feedgen or Jinja2
    from pprfeed.site.build import BuildResult
    from pprfeed.site.websub import PingResult

DEFAULT_PORT = 8000
POLL_SECONDS = 1.0


def register(commands: argparse._SubParsersAction) -> None:
    build = commands.add_parser(
        "build",
        help="write RSS, Atom and JSON feeds, OPML and HTML pages into a folder",
        description="Build every feed (the whole archive and each topic) in RSS 2.0, Atom 1.0 and JSON Feed 1.1, "
        "index.opml and a small HTML front door. The output folder is replaced atomically: if the archive has "
        "problems or the build fails, the old folder is left exactly as it was. When --out is a symbolic link, "
        "the folder it points to is replaced.",
    )
    add_content_option(build)
    build.add_argument("--out", metavar="DIR", default="feeds", help="the output folder (default: feeds/)")
    add_config_option(build)
    add_removed_option(build, "--cache", takes_value=True)  # so that existing cron lines keep working
    add_removed_option(build, "--no-cache")
    build.set_defaults(handler=run_build)

    ping = commands.add_parser(
        "ping",
        help="tell the WebSub hub ([site] websub_hub) that every feed of a deployed folder may have changed",
        description="For a folder deployed by copying it elsewhere (rsync, CI): once the copy is live, send the "
        "hub named by [site] websub_hub a publish ping for each RSS and Atom feed in DIR, so that readers "
        "subscribed through the hub fetch them now. `pprfeed build` pings by itself for the feeds it changed. "
        "A failed ping is a warning: readers still see the change at their next poll.",
    )
    ping.add_argument("--out", metavar="DIR", default="feeds", help="the built folder (default: feeds/)")
    add_config_option(ping)
    ping.set_defaults(handler=run_ping)

    serve = commands.add_parser(
        "serve",
        help="preview the site on this computer, rebuilt whenever a content file changes",
        description="Build the site into a temporary folder with every link pointing at "
        "http://127.0.0.1:PORT/, serve it there, and rebuild it whenever a content file, the settings file or a "
        "template changes. The real output folder is never touched; nothing is posted or recorded.",
    )
    add_content_option(serve)
    add_config_option(serve)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port to serve on (default: {DEFAULT_PORT})")
    serve.set_defaults(handler=run_serve)


def run_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        print(f"pprfeed build: fix the settings file; {out} was not changed", file=sys.stderr)
        return 1
    result = _build(args.content, settings, out, "build", args.debug)
    if result is None:
        return 1
    shown = f"{out}/ (-> {os.path.realpath(out)}/)" if out.is_symlink() else f"{out}/"
    print(f"{shown}: {_summary(result)}")
    print(f"  preview it: pprfeed serve (a server on http://127.0.0.1:{DEFAULT_PORT}/, links pointing there)")
    print(f"  feeds are addressed as {settings.site.base_url} (set [site] base_url in pprfeed.toml)")
    if settings.site.websub_hub:
        _print_pings(result.pings, settings.site.websub_hub)
    return 0


def run_ping(args: argparse.Namespace) -> int:
    from pprfeed.site.build import feed_urls
    from pprfeed.site.websub import ping_hub

    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        return 1
    hub, out = settings.site.websub_hub, Path(args.out)
    if not hub:
        print('pprfeed ping: no [site] websub_hub in the settings: add websub_hub = "https://…"', file=sys.stderr)
        return 1
    feeds = feed_urls(out, settings.site) if out.is_dir() else []
    if not feeds:
        print(f"pprfeed ping: {out} holds no feeds: pass --out, the folder `pprfeed build` wrote", file=sys.stderr)
        return 1
    _print_pings(ping_hub(hub, feeds), hub)
    return 0


def _print_pings(pings: list[PingResult], hub: str) -> None:
    failed = [ping for ping in pings if ping.error]
    by_error: dict[str, list[str]] = {}
    for ping in failed:
        by_error.setdefault(ping.error or "", []).append(ping.feed)
    for error, feeds in by_error.items():  # a hub that is down fails every ping alike: one line, not a hundred
        also = f" and {plural(len(feeds) - 1, 'other feed')}" if len(feeds) > 1 else ""
        print(f"warning: WebSub ping for {feeds[0]}{also} failed: {error}", file=sys.stderr)
    print(
        f"  {hub}: told of {plural(len(pings) - len(failed), 'changed feed')}"
        + (f"; {len(failed)} failed (readers see those at their next poll)" if failed else "")
    )


def _build(
    content: str, settings: Settings, out: Path, command: str, debug: bool, guard: bool = True, shown: str = ""
) -> BuildResult | None:
    """Load and build, printing every problem; None when anything failed (`out` is then as it was).

    `shown`: what the messages call `out` (the preview's scratch folder is no place a person knows)."""
    shown = shown or str(out)
    from pprfeed.archive.load import load_archive
    from pprfeed.site.build import LostAddresses, OutputError, build_site
    from pprfeed.site.pages import TemplateError

    archive, diagnostics = load_archive(content)
    print_diagnostics(diagnostics)
    if archive is None:
        errors = sum(d.severity == "error" for d in diagnostics)
        print(
            f"pprfeed {command}: {content} has {plural(errors, 'problem')} "
            f"(see above, as `pprfeed check` shows them); {shown} was not changed",
            file=sys.stderr,
        )
        return None
    try:
        return build_site(archive, settings.site, out, settings.site.now(), content, guard)
    except LostAddresses as exc:
        print_diagnostics(exc.problems)
        print(f"pprfeed {command}: {exc}; {shown} was not changed", file=sys.stderr)
    except (OutputError, TemplateError) as exc:
        print(f"pprfeed {command}: {exc}; {shown} was not changed", file=sys.stderr)
    except Exception as exc:
        if debug:
            raise
        print(
            f"pprfeed {command}: failed ({type(exc).__name__}: {exc}); {shown} was left exactly as it was. "
            "Run again with --debug for the details.",
            file=sys.stderr,
        )
    return None


def _summary(result: BuildResult) -> str:
    feeds, stats = len(result.feeds), result.written
    return (
        f"{plural(feeds, 'feed')} (all articles + {plural(feeds - 1, 'topic')}) in RSS, Atom and JSON Feed, "
        f"index.opml, index.html, {plural(result.topic_pages, 'topic page')}, {plural(result.pages, 'article page')} "
        f"({stats.written} of {plural(stats.files, 'file')} new or changed, {stats.removed} removed)"
    )


# --- pprfeed serve ---------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    import http.server  # here, not above: every other command would pay for importing the HTTP server
    import tempfile
    import threading

    class _QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # a line per request would drown the rebuild lines

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            if code == 404 and not out.is_dir():  # the content has not built yet: say so, not "not found"
                code, message = 503, "Not built yet"
                explain = "pprfeed serve could not build the content: its terminal says why. Fix it and reload."
            super().send_error(code, message, explain)

    with tempfile.TemporaryDirectory(prefix="pprfeed-preview-") as scratch:
        out = Path(scratch) / "site"
        handler = functools.partial(_QuietHandler, directory=str(out))
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
        except OSError as exc:
            print(
                f"pprfeed serve: cannot serve on 127.0.0.1:{args.port} ({exc.strerror}); pass --port", file=sys.stderr
            )
            return 1
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        signal.signal(signal.SIGTERM, _interrupt)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            _preview(args, out, address)
        except KeyboardInterrupt:
            print("pprfeed serve: stopped", flush=True)
        finally:
            server.shutdown()
            server.server_close()
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _preview(args: argparse.Namespace, out: Path, address: str) -> None:
    """Build, then rebuild whenever a watched file changes, until interrupted."""
    print(f"Serving a preview of {args.content}/ at {address} (Ctrl-C stops it)", flush=True)
    seen: dict[str, tuple[int, int]] | None = None
    while True:
        settings, diagnostics = load_settings(args.config)
        watched = [Path(args.content)] + (
            [Path(settings.site.templates)] if settings and settings.site.templates else []
        )
        if settings is not None and settings.path is not None:
            watched.append(settings.path)
        elif args.config:
            watched.append(Path(args.config))
        state = _files_state(watched)
        if state != seen:
            started = time.monotonic()
            print_diagnostics(diagnostics)
            if settings is None:
                print("pprfeed serve: fix the settings file; still serving the last good build", file=sys.stderr)
            else:
                site = dataclasses.replace(settings.site, base_url=address)
                # a preview has no subscribers: renaming a file while previewing is no lost address
                preview = dataclasses.replace(settings, site=dataclasses.replace(site, websub_hub=None))
                result = _build(args.content, preview, out, "serve", args.debug, guard=False, shown="the preview")
                if result is None:
                    print(
                        "pprfeed serve: still serving the last good build"
                        if out.is_dir()
                        else "pprfeed serve: nothing to serve until this builds; it rebuilds when a file is saved",
                        file=sys.stderr,
                        flush=True,
                    )
                else:
                    took, stats = time.monotonic() - started, result.written
                    what = (
                        f"rebuilt in {took:.2f} s: {stats.written} of {plural(stats.files, 'file')} changed, "
                        f"{stats.removed} removed"
                        if seen
                        else f"built in {took:.2f} s: {_summary(result)}"
                    )
                    print(f"{time.strftime('%H:%M:%S')} {what}", flush=True)
            seen = state
        time.sleep(POLL_SECONDS)


def _files_state(paths: list[Path]) -> dict[str, tuple[int, int]]:
    """Every file under `paths` with its modification time and size: a change to either is a change."""
    state = {}
    for top in paths:
        for folder, _dirs, names in os.walk(top) if top.is_dir() else [(str(top.parent), [], [top.name])]:
            for name in names:
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:  # removed meanwhile: the next poll sees it gone
                    continue
                state[path] = (info.st_mtime_ns, info.st_size)
    return state
