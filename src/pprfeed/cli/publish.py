"""`pprfeed publish` and `pprfeed status`: posting new issues to Slack and Discord, and what was posted where."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pprfeed.cli.common import (
    UsageError,
    add_config_option,
    add_content_option,
    load_or_report,
    print_diagnostics,
)
from pprfeed.config import PublishSettings, Settings, Target, load_publish_settings, load_settings
from pprfeed.locks import exclusive_lock
from pprfeed.model import Archive
from pprfeed.text import plural

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the delivery machinery is imported by the commands that use it: `pprfeed build` starts faster
    from pprfeed.publish.deliver import Delivery, TargetReport
    from pprfeed.publish.ledger import Ledger

SAMPLE_TARGETS = (Target("slack", "channel", "C0SAMPLE00"), Target("discord", "channel", "100000000000000000"))
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def register(commands: argparse._SubParsersAction) -> None:
    publish = commands.add_parser(
        "publish",
        help="post new issues to the configured Slack and Discord channels (exactly once)",
        description="Post every due issue to every configured target: published, matching the target's topic "
        "filter, not yet in the delivery ledger. Safe to run from cron; exits non-zero if any target failed.",
    )
    publish.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be sent to each target, message by message, limits checked; no network, no ledger",
    )
    publish.add_argument(
        "--json", action="store_true", help="with --dry-run: print each message's exact JSON payload instead"
    )
    publish.add_argument(
        "--update", action="store_true", help="also edit already-posted messages whose issue text changed since"
    )
    publish.add_argument(
        "--resend", metavar="YYYY-MM", help="post this issue again to --target, whatever the ledger says"
    )
    publish.add_argument(
        "--mark-sent",
        metavar="YYYY-MM",
        help="record this issue's uncertain parts for --target as posted (after checking the channel yourself)",
    )
    publish.add_argument(
        "--target", metavar="KEY", help="a target key as `pprfeed status` shows it, e.g. slack:C0123456789"
    )
    add_config_option(publish)
    add_content_option(publish)
    publish.set_defaults(handler=run_publish)

    status = commands.add_parser(
        "status",
        help="show what was posted to each target, when, and what failed or is uncertain",
        description="Read the delivery ledger and show, per target, each issue's parts and their state.",
    )
    add_config_option(status)
    add_content_option(status)
    status.set_defaults(handler=run_status)


def _load(args: argparse.Namespace, need_secrets: bool) -> tuple[Settings, PublishSettings, Archive] | None:
    settings, diagnostics = load_settings(args.config)
    print_diagnostics(diagnostics)
    if settings is None:
        return None
    archive = load_or_report(args.content)
    if archive is None:
        return None
    publishing, diagnostics = load_publish_settings(settings, archive, os.environ, need_secrets=need_secrets)
    print_diagnostics(diagnostics)
    if publishing is None:
        print("pprfeed publish: the configuration has problems (above); nothing was sent.", file=sys.stderr)
        return None
    return settings, publishing, archive


def run_publish(args: argparse.Namespace) -> int:

    for option in ("resend", "mark_sent"):
        value = getattr(args, option)
        if value is not None and not _MONTH.fullmatch(value):
            raise UsageError(f"--{option.replace('_', '-')} wants an issue month such as 2018-11, not {value!r}")
        if value is not None and not args.target:
            raise UsageError(f"--{option.replace('_', '-')} needs --target KEY (see `pprfeed status` for the keys)")
    if args.resend and args.mark_sent:
        raise UsageError("use either --resend or --mark-sent, not both")
    if args.target and not (args.resend or args.mark_sent):
        raise UsageError("--target goes with --resend or --mark-sent; a plain publish posts to every due target")
    if args.json and not args.dry_run:
        raise UsageError("--json goes with --dry-run (it prints the payloads instead of sending them)")
    if args.dry_run and (args.resend or args.mark_sent):
        option = "--resend" if args.resend else "--mark-sent"
        raise UsageError(f"--dry-run cannot preview {option}; run it without --dry-run (it changes only --target)")
    loaded = _load(args, need_secrets=not args.dry_run)
    if loaded is None:
        return 1
    settings, publishing, archive = loaded
    today = date.today()
    if args.dry_run:
        return _dry_run(args, settings, publishing, archive, today)
    target = None
    if args.target:
        target = publishing.target(args.target)
        if target is None:
            keys = ", ".join(t.key for t in publishing.targets) or "none configured"
            raise UsageError(f"no target {args.target} in the configuration (targets: {keys})")
    if not publishing.targets:
        print("No Slack or Discord targets are configured; nothing to publish. See pprfeed.example.toml.")
        return 0
    with _single_run(publishing.state_path) as alone:
        if not alone:
            return 0
        return _publish(args, settings, publishing, archive, today, target)


def _publish(
    args: argparse.Namespace,
    settings: Settings,
    publishing: PublishSettings,
    archive: Archive,
    today: date,
    target: Target | None,
) -> int:
    from pprfeed.publish.deliver import plan_deliveries, plan_resend, plan_updates

    with _ledger(publishing.state_path) as ledger:
        if args.mark_sent and target is not None:
            count = ledger.confirm_uncertain(args.mark_sent, target.key)
            print(f"{target.key}: {plural(count, 'part')} of {args.mark_sent} recorded as posted.")
            return 0
        updates: list[Delivery] = []
        if args.resend and target is not None:
            try:
                deliveries = [plan_resend(archive, target, args.resend, ledger, settings.site, today)]
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        else:
            deliveries = plan_deliveries(archive, publishing.targets, ledger, settings.site, today)
            if args.update:
                updates = plan_updates(archive, publishing.targets, ledger, settings.site, today)
        if not deliveries and not updates:
            print("Nothing to publish: every target has every issue due to it.")
            status = 0
        else:
            status = _print_reports(_run_deliveries(publishing, ledger, deliveries, updates))
        if not args.update and not args.resend:
            _print_changed(plan_updates(archive, publishing.targets, ledger, settings.site, today))
    return status


def _print_changed(changed: list[Delivery]) -> None:
    """Corrections cron would never post by itself: say so on every run (not a failure)."""
    for delivery in changed:
        print(
            f"{delivery.issue.month} changed since it was posted to {delivery.target.key}: run pprfeed publish --update"
        )


def _run_deliveries(
    publishing: PublishSettings, ledger: Ledger, deliveries: list[Delivery], updates: list[Delivery]
) -> list[TargetReport]:
    import asyncio

    from pprfeed.publish import open_posters
    from pprfeed.publish.deliver import Tuning, deliver
    from pprfeed.publish.targets import RedactingFilter

    tuning = Tuning()
    redact = RedactingFilter(publishing.secrets)
    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(redact)

    async def run() -> list[TargetReport]:
        posters = open_posters(publishing, tuning.timeout)
        try:
            return await deliver(deliveries, ledger, posters, tuning, updates=updates)
        finally:
            for poster in posters.values():
                await poster.close()

    try:
        return asyncio.run(run())
    finally:
        for handler in handlers:
            handler.removeFilter(redact)


def _print_reports(reports: list[TargetReport]) -> int:
    failed = 0
    for report in sorted(reports, key=lambda r: r.target.key):
        done = []
        if report.sent:
            done.append(f"posted {_parts(report.sent)}")
        if report.recovered:
            done.append(f"found already posted {_parts(report.recovered)}")
        if report.edited:
            done.append(f"edited {_parts(report.edited)}")
        line = f"{report.target.key}: " + ("; ".join(done) if done else "nothing posted")
        print(line)
        if report.error:
            print(f"  FAILED: {report.error}", file=sys.stderr)
        for message in report.uncertain:
            print(f"  UNCERTAIN: {message}", file=sys.stderr)
        failed += not report.ok
    if failed:
        print(
            f"{plural(failed, 'target')} {'needs' if failed == 1 else 'need'} attention (above)"
            + ("; the others were delivered. " if failed < len(reports) else ". ")
            + "Fix what is named and run `pprfeed publish` again: nothing already posted is posted twice.",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _parts(parts: list[tuple[str, int]]) -> str:
    by_issue: dict[str, list[int]] = {}
    for month, number in parts:
        by_issue.setdefault(month, []).append(number)
    return ", ".join(
        f"{month} ({len(numbers)} message{'s' if len(numbers) != 1 else ''})" for month, numbers in by_issue.items()
    )


def _dry_run(
    args: argparse.Namespace, settings: Settings, publishing: PublishSettings, archive: Archive, today: date
) -> int:
    from pprfeed.publish.deliver import limit_problems, plan_deliveries, plan_updates

    # with --json, standard output is one JSON document; everything said about it goes to standard error
    say = sys.stderr if args.json else sys.stdout
    targets = publishing.targets
    if not targets:
        targets = SAMPLE_TARGETS
        print(
            "No targets are configured; previewing what a new Slack channel and a new Discord channel would get "
            "(see pprfeed.example.toml to configure real ones).\n",
            file=say,
        )
    with _ledger(publishing.state_path, read_only=True) as ledger:
        deliveries = plan_deliveries(archive, targets, ledger, settings.site, today, record_new_targets=False)
        updates = plan_updates(archive, targets, ledger, settings.site, today) if args.update else []
    problems = 0
    documents: list[dict[str, Any]] = []
    for label, plan in (("edit", updates), ("post", deliveries)):
        for delivery in plan:
            total = len(delivery.payloads)
            for number, payload in enumerate(delivery.payloads, start=1):
                issues = limit_problems(delivery.target, payload)
                problems += len(issues)
                verdict = "limits OK" if not issues else "OVER LIMITS: " + "; ".join(issues)
                print(
                    f"=== would {label} to {delivery.target.key}: {delivery.issue.title} ({delivery.issue.month}), "
                    f"message {number} of {total}, {plural(len(delivery.articles), 'article')} — {verdict}",
                    file=say,
                )
                if args.json:
                    documents.append(
                        {
                            "action": label,
                            "target": delivery.target.key,
                            "issue": delivery.issue.month,
                            "part": number,
                            "parts": total,
                            "limit_problems": issues,
                            "payload": payload,
                        }
                    )
                else:
                    print(describe_payload(payload))
    if args.json:
        print(json.dumps(documents, ensure_ascii=False, indent=2))
    if not deliveries and not updates:
        print("Nothing to publish: every target has every issue due to it.", file=say)
    else:
        print(
            f"\n(dry run: {plural(len(deliveries), 'delivery', 'deliveries')} to "
            f"{plural(len({d.target.key for d in deliveries}), 'target')}; "
            "nothing sent)",
            file=say,
        )
    return 1 if problems else 0


def describe_payload(payload: dict[str, Any]) -> str:
    """A message as a person would read it in the channel (the text as sent; markup left as it is)."""
    lines: list[str] = []
    if payload.get("content"):
        lines.append(payload["content"])
    for block in payload.get("blocks", []):
        kind = block.get("type")
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "section":
            lines.append(block["text"]["text"])
        elif kind == "context":
            lines.append("  " + " · ".join(element.get("text", "") for element in block["elements"]))
        elif kind == "divider":
            lines.append("-" * 40)
    for embed in payload.get("embeds", []):
        lines.append(f"▌ {embed.get('title', '')}" + (f"  <{embed['url']}>" if embed.get("url") else ""))
        if embed.get("description"):
            lines.extend("▌ " + line for line in embed["description"].split("\n"))
        for field_ in embed.get("fields", []):
            lines.append(f"▌ {field_['name']}: {field_['value']}")
        if embed.get("footer"):
            lines.append(f"▌ {embed['footer']['text']}")
    body = "\n".join(lines)
    if payload.get("blocks"):  # Slack shows &amp; &lt; &gt; as the characters
        body = body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return f"{body}\n({len(body):,} characters shown; --json prints the exact payload)\n"


@contextmanager
def _ledger(path: Path, read_only: bool = False) -> Iterator[Ledger]:
    """The delivery ledger; a path that cannot hold it is the user's to fix, not a crash."""
    from pprfeed.publish.ledger import Ledger

    try:
        ledger = Ledger(path, read_only=read_only)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"the delivery ledger {path} cannot be opened ({exc}); set [state] path to a file in a folder you may write"
        ) from None
    with ledger:
        yield ledger


@contextmanager
def _single_run(state_path: Path) -> Iterator[bool]:
    """One publish at a time per ledger: cron may start a run while the last one is still waiting out a limit.

    Yields False when another run holds the ledger: this one does nothing and is not a failure (exit 0, so
    cron sends no mail for an overlap)."""
    with ExitStack() as stack:
        try:
            held = stack.enter_context(exclusive_lock(state_path.with_name(state_path.name + ".lock")))
        except OSError as exc:
            raise UsageError(
                f"the delivery ledger's folder {state_path.parent} cannot be used ({exc.strerror}); "
                "set [state] path to a file in a folder you may write"
            ) from None
        if not held:
            log.warning("another `pprfeed publish` is running with the ledger %s; this run does nothing", state_path)
        yield held


def run_status(args: argparse.Namespace) -> int:
    from pprfeed.publish.deliver import delivery_status, plan_updates

    loaded = _load(args, need_secrets=False)
    if loaded is None:
        return 1
    settings, publishing, archive = loaded
    with _ledger(publishing.state_path, read_only=True) as ledger:
        statuses = delivery_status(ledger, publishing.targets)
        changed = plan_updates(archive, publishing.targets, ledger, settings.site, date.today())
    if not statuses:
        print("No targets configured and nothing in the ledger. See pprfeed.example.toml.")
        return 0
    attention = 0
    for status in statuses:
        heading = status.key + ("" if status.configured else "  (no longer configured)")
        if status.added_at:
            heading += f"  — first seen {status.added_at[:16].replace('T', ' ')} UTC"
        if status.skipped:
            heading += f"; {plural(status.skipped, 'older issue')} skipped (backfill)"
        print(heading)
        if not status.issues:
            print("  nothing posted yet")
        for issue in status.issues:
            sent_times = [p.sent_at for p in issue.parts if p.sent_at]
            when = max(sent_times)[:19].replace("T", " ") if sent_times else ""
            ids = ", ".join(p.remote_id or "-" for p in issue.parts)
            print(f"  {issue.issue}  {issue.state.upper():<11} {plural(len(issue.parts), 'part')}  {when}  ids: {ids}")
            for part in issue.parts:
                if part.state != "sent":
                    attention += 1
                    why = part.last_error or ""
                    if part.state == "claimed":
                        why = "a run was interrupted while sending it; the next `pprfeed publish` checks if it arrived"
                    print(f"      part {part.part}: {part.state} in {plural(part.attempts, 'run')}: {why}")
    if changed:
        print()
        _print_changed(changed)
    if attention:
        print(f"\n{plural(attention, 'part')} not posted or uncertain; see above for what to do.")
    # a script (or a monitoring check) can tell from the exit status alone that a person is needed
    return 1 if attention else 0
