"""`pprfeed publish` and `pprfeed status`: posting new issues to Slack and Discord, and what was posted where."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
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
from pprfeed.config import PublishSettings, Secrets, Settings, Target, load_publish_settings, load_settings
from pprfeed.locks import exclusive_lock
from pprfeed.model import Archive
from pprfeed.text import plural

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the delivery machinery is imported by the commands that use it: `pprfeed build` starts faster
    from pprfeed.publish.base import PartRef
    from pprfeed.publish.deliver import Delivery, TargetReport, Tuning
    from pprfeed.publish.ledger import Ledger
    from pprfeed.state import State, Subscription

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
        "--json",
        action="store_true",
        help="with --dry-run: print each request as it would go on the wire instead (endpoint, channel, "
        "metadata, flags; a nonce not yet in the ledger is made for the preview, and a real run makes its own)",
    )
    publish.add_argument(
        "--update", action="store_true", help="also edit already-posted messages whose issue text changed since"
    )
    publish.add_argument(
        "--resend",
        metavar="YYYY-MM",
        help="post this issue's parts not known to be in --target's channel (failed, uncertain) again; parts "
        "recorded as posted stay as they are",
    )
    publish.add_argument(
        "--all-parts",
        action="store_true",
        help="with --resend: post every part again, even those recorded as posted (a correction a webhook "
        "cannot edit, a deleted message)",
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
    if args.all_parts and not args.resend:
        raise UsageError("--all-parts goes with --resend")
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
    configured = publishing.targets
    if not args.dry_run:
        _remove_uninstalled(publishing.state_path)
    publishing = with_subscribed(publishing, need_secrets=not args.dry_run)
    today = settings.site.today()
    if args.dry_run:
        return _ledger_problems_reported("publish", lambda: _dry_run(args, settings, publishing, archive, today))
    target = None
    if args.target:
        target = publishing.target(args.target)
        if target is None:
            keys = ", ".join(t.key for t in publishing.targets) or "none configured"
            raise UsageError(f"no target {args.target} in the configuration (targets: {keys})")
    if not publishing.targets:
        print("No Slack or Discord targets are configured or subscribed; nothing to publish. See pprfeed.example.toml.")
        return 0
    with _single_run(publishing.state_path) as alone:
        if not alone:
            return 0
        return _ledger_problems_reported(
            "publish", lambda: _publish(args, settings, publishing, archive, today, target, configured)
        )


def _ledger_problems_reported(name: str, command: Callable[[], int]) -> int:
    """Run `command`; a ledger that cannot be read or written is one line naming the file and the fix, exit 1."""
    from pprfeed.publish.ledger import LedgerError

    try:
        return command()
    except LedgerError as exc:
        print(f"pprfeed {name}: {exc}", file=sys.stderr)
        return 1


def _publish(
    args: argparse.Namespace,
    settings: Settings,
    publishing: PublishSettings,
    archive: Archive,
    today: date,
    target: Target | None,
    configured: tuple[Target, ...] = (),
) -> int:
    from pprfeed.publish.deliver import Tuning, plan_deliveries, plan_resend, plan_updates

    tuning = Tuning()
    with _ledger(publishing.state_path, tuning.ledger_timeout) as ledger:
        if args.mark_sent and target is not None:
            count = ledger.confirm_uncertain(args.mark_sent, target.key)
            print(f"{target.key}: {plural(count, 'part')} of {args.mark_sent} recorded as posted.")
            return 0
        updates: list[Delivery] = []
        if args.resend and target is not None:
            try:
                deliveries = [
                    plan_resend(archive, target, args.resend, ledger, settings.site, today, all_parts=args.all_parts)
                ]
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        else:
            _skip_while_away(archive, configured, publishing.state_path, ledger, today)
            deliveries = plan_deliveries(archive, publishing.targets, ledger, settings.site, today)
            if args.update:
                updates = plan_updates(archive, publishing.targets, ledger, settings.site, today)
        if not deliveries and not updates:
            print("Nothing to publish: every target has every issue due to it.")
            status = 0
        else:
            reports = _run_deliveries(publishing, ledger, tuning, deliveries, updates)
            status = _print_reports(reports)
            _pause_gone_channels(publishing, reports)
        if not args.update and not args.resend:
            _print_changed(plan_updates(archive, publishing.targets, ledger, settings.site, today))
    return status


def with_subscribed(publishing: PublishSettings, need_secrets: bool) -> PublishSettings:
    """The settings with each active subscription added as a target (one target for a channel both configured
    and subscribed), and the bot tokens they need: a Slack channel of a workspace that installed the app posts
    with that workspace's own token (from the state file), any other with the token from the environment. A
    subscribed channel without a token is left out of this run, with a warning (one line per workspace);
    nothing is created when no state file exists."""
    if not publishing.state_path.is_file():
        return publishing
    from pprfeed.publish.targets import with_subscriptions

    subscriptions = _read_subscriptions(publishing.state_path)
    targets = with_subscriptions(publishing.targets, subscriptions)
    configured = {target.key for target in publishing.targets}
    secrets = Secrets(dict(publishing.secrets.values))
    installed = _installed_tokens(publishing.state_path, subscriptions, need_secrets)
    channel_tokens: dict[str, str] = {}
    uninstalled: dict[str, int] = {}
    workspaces = {s.channel: s.workspace for s in subscriptions if s.platform == "slack" and s.paused is None}
    kept = []
    for target in targets:
        team = workspaces.get(target.address) if target.platform == "slack" else None
        if team is not None and installed.get(team):
            name = f"SLACK_BOT_TOKEN_{team}"  # a name for redaction: the token itself never leaves the state file
            secrets.values[name] = installed[team] or ""
            channel_tokens[target.address] = name
            kept.append(target)
            continue
        if team is not None and publishing.slack.client_id and target.key not in configured:
            uninstalled[team] = uninstalled.get(team, 0) + 1
            continue
        token_env = publishing.slack.token_env if target.platform == "slack" else publishing.discord.token_env
        if target.key not in configured and token_env not in secrets.values:
            value = os.environ.get(token_env, "").strip()
            if value:
                secrets.values[token_env] = value
            elif need_secrets:
                print(
                    f"pprfeed publish: {target.key} is subscribed but {token_env} is not set: it is left out of "
                    f"this run (export the bot token)",
                    file=sys.stderr,
                )
                continue
        kept.append(target)
    for team, count in sorted(uninstalled.items()):
        if need_secrets:
            print(
                f"pprfeed publish: Slack workspace {team} has not installed the app: its "
                f"{plural(count, 'subscribed channel')} {'is' if count == 1 else 'are'} left out of this run "
                "(someone there adds the app with Add to Slack)",
                file=sys.stderr,
            )
    slack = replace(publishing.slack, channel_tokens=channel_tokens)
    return replace(publishing, targets=tuple(kept), secrets=secrets, slack=slack)


def _installed_tokens(path: Path, subscriptions: list[Subscription], need_secrets: bool) -> dict[str, str | None]:
    """Each subscribed Slack workspace's own bot token, None for one without an installation. A token that cannot
    be decrypted is one line, and that workspace is treated as not installed."""
    from pprfeed.publish.deliver import Tuning
    from pprfeed.state import State, StateError

    teams = sorted({s.workspace for s in subscriptions if s.platform == "slack" and s.paused is None})
    if not teams:
        return {}
    tokens: dict[str, str | None] = {}
    try:
        with State(path, read_only=True, timeout=Tuning().ledger_timeout) as state:
            for team in teams:
                try:
                    tokens[team] = state.bot_token(team)
                except StateError as exc:
                    if need_secrets:
                        print(f"pprfeed publish: Slack workspace {team}: {exc}", file=sys.stderr)
                    tokens[team] = None
    except StateError as exc:  # PPRFEED_SECRET_KEY malformed
        print(f"pprfeed publish: {exc}", file=sys.stderr)
    except sqlite3.Error as exc:
        log.debug("installations unreadable in %s: %s", path, exc)
    return tokens


def _remove_uninstalled(state_path: Path) -> None:
    """Subscriptions paused by an uninstall 30 days ago are deleted (docs/privacy.md); the file is opened for
    writing only when there are some."""
    from pprfeed.state import UNINSTALLED, UNINSTALLED_KEPT_DAYS

    if not any(s.paused == UNINSTALLED for s in _read_subscriptions(state_path)):
        return
    with _state(state_path) as state:
        for gone in state.remove_uninstalled():
            print(
                f"{gone.target.key}: subscription removed, its workspace uninstalled the app "
                f"more than {UNINSTALLED_KEPT_DAYS} days ago"
            )


def _skip_while_away(
    archive: Archive, configured: tuple[Target, ...], state_path: Path, ledger: Ledger, today: date
) -> None:
    from pprfeed.publish.targets import skip_while_away

    if state_path.is_file():
        skip_while_away(archive, configured, _read_subscriptions(state_path), ledger, today)


def _pause_gone_channels(publishing: PublishSettings, reports: list[TargetReport]) -> None:
    from pprfeed.publish.targets import pause_gone_channels

    if not any(report.error_code for report in reports):
        return
    with _state(publishing.state_path) as state:
        for key, reason in pause_gone_channels(reports, state):
            print(f"{key}: subscription paused ({reason}) until someone in the channel subscribes again")


def _read_subscriptions(path: Path) -> list[Subscription]:
    """Who is subscribed, read without writing anything. A state file that cannot be read gives none here: the
    ledger, opened next from the same file, stops the command and says why."""
    from pprfeed.publish.deliver import Tuning
    from pprfeed.state import State

    if not path.is_file():
        return []
    try:
        with State(path, read_only=True, timeout=Tuning().ledger_timeout) as state:
            return state.subscriptions()
    except sqlite3.Error as exc:
        log.debug("subscriptions unreadable in %s: %s", path, exc)
        return []


@contextmanager
def _state(path: Path) -> Iterator[State]:
    """The subscriptions (pprfeed/state.py); a file that cannot hold them is the user's to fix, not a crash."""
    from pprfeed.state import State

    try:
        state = State(path)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"the state file {path} cannot be opened ({exc}); set [state] path to a file in a folder you may write"
        ) from None
    with state:
        yield state


def _print_changed(changed: list[Delivery]) -> None:
    """Corrections cron would never post by itself: say so on every run (not a failure)."""
    for delivery in changed:
        print(
            f"{delivery.issue.month} changed since it was posted to {delivery.target.key}: run pprfeed publish --update"
        )


def _run_deliveries(
    publishing: PublishSettings, ledger: Ledger, tuning: Tuning, deliveries: list[Delivery], updates: list[Delivery]
) -> list[TargetReport]:
    import asyncio

    from pprfeed.publish import open_posters
    from pprfeed.publish.deliver import deliver
    from pprfeed.publish.targets import RedactingFilter

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
    for problem in sorted({report.ledger_problem for report in reports if report.ledger_problem}):
        print(f"pprfeed publish: {problem}", file=sys.stderr)
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
    from pprfeed.publish import wire_request
    from pprfeed.publish.deliver import Tuning, limit_problems, plan_deliveries, plan_updates, preview_refs

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
    with _ledger(publishing.state_path, Tuning().ledger_timeout, read_only=True) as ledger:
        deliveries = plan_deliveries(archive, targets, ledger, settings.site, today, record_new_targets=False)
        updates = plan_updates(archive, targets, ledger, settings.site, today) if args.update else []
        posts = {id(delivery): preview_refs(delivery, ledger) for delivery in deliveries}
    problems = 0
    documents: list[dict[str, Any]] = []
    for label, plan in (("edit", updates), ("post", deliveries)):
        for delivery in plan:
            total = len(delivery.payloads)
            parts: list[tuple[dict[str, Any], PartRef | None]] = [(payload, None) for payload in delivery.payloads]
            if label == "post":
                parts = list(posts[id(delivery)])
            for number, (payload, ref) in enumerate(parts, start=1):
                number = ref.part if ref else number
                issues = limit_problems(delivery.target, payload)
                problems += len(issues)
                verdict = "limits OK" if not issues else "OVER LIMITS: " + "; ".join(issues)
                reply = " (a reply in its thread)" if ref and ref.thread else ""
                print(
                    f"=== would {label} to {delivery.target.key}: {delivery.issue.title} ({delivery.issue.month}), "
                    f"message {number} of {total}{reply}, {plural(len(delivery.articles), 'article')}, "
                    f"{delivery.layout} — {verdict}",
                    file=say,
                )
                if args.json:
                    document: dict[str, Any] = {
                        "action": label,
                        "target": delivery.target.key,
                        "issue": delivery.issue.month,
                        "format": delivery.layout,
                        "part": number,
                        "parts": total,
                        "limit_problems": issues,
                    }
                    if ref is not None:
                        document["request"] = wire_request(delivery.target, payload, ref)
                    else:  # an edit sends the message's text and blocks (or content and embeds) only
                        document["payload"] = payload
                    documents.append(document)
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
    return f"{body}\n({len(body):,} characters shown; --json prints each request as it would be sent)\n"


@contextmanager
def _ledger(path: Path, timeout: float, read_only: bool = False) -> Iterator[Ledger]:
    """The delivery ledger; one that cannot be used raises LedgerError (see `_ledger_problems_reported`)."""
    from pprfeed.publish.ledger import Ledger

    with Ledger(path, read_only=read_only, timeout=timeout) as ledger:
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
    loaded = _load(args, need_secrets=False)
    if loaded is None:
        return 1
    return _ledger_problems_reported("status", lambda: _status(*loaded))


def _status(settings: Settings, publishing: PublishSettings, archive: Archive) -> int:
    from pprfeed.publish.deliver import Tuning, delivery_status, plan_updates

    subscriptions = _read_subscriptions(publishing.state_path)
    publishing = with_subscribed(publishing, need_secrets=False)
    with _ledger(publishing.state_path, Tuning().ledger_timeout, read_only=True) as ledger:
        statuses = delivery_status(ledger, publishing.targets)
        changed = plan_updates(archive, publishing.targets, ledger, settings.site, settings.site.today())
    if not statuses and not subscriptions:
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
            print(
                f"  {issue.issue}  {issue.state.upper():<11} {plural(len(issue.parts), 'part')}  {when}  "
                f"{issue.parts[0].format}  ids: {ids}"
            )
            for part in issue.parts:
                if part.state == "sent" and part.last_error:  # how it got there: split after a refusal, or by hand
                    print(f"      part {part.part}: sent; {part.last_error}")
                elif part.state != "sent":
                    attention += 1
                    why = part.last_error or ""
                    if part.state == "claimed":
                        why = "a run was interrupted while sending it; the next `pprfeed publish` checks if it arrived"
                    print(f"      part {part.part}: {part.state} in {plural(part.attempts, 'run')}: {why}")
    if subscriptions:
        print(f"\n{plural(len(subscriptions), 'subscription')} (`pprfeed subscriptions` lists and removes them):")
        for subscription in subscriptions:
            print(f"  {subscription.target.key}  {subscription.state}")
    if changed:
        print()
        _print_changed(changed)
    if attention:
        print(f"\n{plural(attention, 'part')} not posted or uncertain; see above for what to do.")
    # a script (or a monitoring check) can tell from the exit status alone that a person is needed
    return 1 if attention else 0
