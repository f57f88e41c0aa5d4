"""Publishing against local fake Slack and Discord servers, with the real slack-sdk and discord.py clients:
exactly once, backfill, rate limits, server errors, permanent errors, slow answers, interrupted runs, edits."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from fakes.discord_api import TOKEN as DISCORD_TOKEN
from fakes.discord_api import FakeDiscord, rate_limited
from fakes.slack_api import TOKEN as SLACK_TOKEN
from fakes.slack_api import FakeSlack
from pprfeed.chat import slack as slack_chat
from pprfeed.config import PlatformSettings, Secrets, SiteSettings, Target
from pprfeed.model import Archive, Issue
from pprfeed.publish.deliver import (
    Delivery,
    Sleep,
    TargetReport,
    Tuning,
    deliver,
    delivery_status,
    limit_problems,
    payload_hash,
    plan_deliveries,
    plan_resend,
    plan_updates,
    preview_refs,
    render_delivery,
)
from pprfeed.publish.discord import DiscordPoster
from pprfeed.publish.ledger import Ledger
from pprfeed.publish.slack import SlackPoster

SITE = SiteSettings(base_url="https://example.org/pprnet/")
TODAY = date(2026, 11, 27)
FAST = Tuning(concurrency=8, timeout=2.0, max_attempts=4, backoff_base=0.01, backoff_max=0.05)
SLACK_CHANNEL, SLACK_OTHER = "C0000AAAA", "C0000BBBB"
DISCORD_CHANNEL, DISCORD_OTHER = "200000000000000001", "200000000000000002"
DISCORD_HOOK_ID = "300000000000000001"


@dataclass
class World:
    slack: FakeSlack
    discord: FakeDiscord
    ledger: Ledger
    secrets: Secrets
    archive: Archive
    tuning: Tuning = FAST

    def run(self, targets: list[Target], *, update: bool = False, archive: Archive | None = None) -> list[TargetReport]:
        archive = archive or self.archive
        deliveries = plan_deliveries(archive, targets, self.ledger, SITE, TODAY)
        updates = plan_updates(archive, targets, self.ledger, SITE, TODAY) if update else []
        return self.execute(deliveries, updates)

    def execute(self, deliveries: list, updates: list = (), sleep: Sleep = asyncio.sleep) -> list[TargetReport]:  # type: ignore[assignment]
        async def go() -> list[TargetReport]:
            posters = {
                "slack": SlackPoster(PlatformSettings("SLACK_BOT_TOKEN", self.slack.base_url), self.secrets, 1.0),
                "discord": DiscordPoster(
                    PlatformSettings("DISCORD_BOT_TOKEN", self.discord.base_url), self.secrets, 1.0
                ),
            }
            try:
                return await deliver(deliveries, self.ledger, posters, self.tuning, updates=updates, sleep=sleep)  # type: ignore[arg-type]
            finally:
                for poster in posters.values():
                    await poster.close()

        return sorted(asyncio.run(go()), key=lambda r: r.target.key)


@pytest.fixture
def world(tmp_path: Path, archive: Archive) -> Iterator[World]:
    with FakeSlack([SLACK_CHANNEL, SLACK_OTHER]) as slack, FakeDiscord([DISCORD_CHANNEL, DISCORD_OTHER]) as discord:
        secrets = Secrets(
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
                "SLACK_HOOK": slack.webhook_url("practice"),
                "DISCORD_HOOK": discord.webhook_url(DISCORD_HOOK_ID, DISCORD_OTHER),
            }
        )
        ledger = Ledger(tmp_path / "state.sqlite3")
        yield World(slack, discord, ledger, secrets, archive)
        ledger.close()


SLACK_T = Target("slack", "channel", SLACK_CHANNEL)
SLACK_T2 = Target("slack", "channel", SLACK_OTHER)
DISCORD_T = Target("discord", "channel", DISCORD_CHANNEL)
DISCORD_T2 = Target("discord", "channel", DISCORD_OTHER)
SLACK_HOOK = Target("slack", "webhook", "SLACK_HOOK")
DISCORD_HOOK = Target("discord", "webhook", "DISCORD_HOOK")


def newer_issue(archive: Archive, month: str = "2019-01", summary_extra: str = "") -> Archive:
    template = archive.issues[0]
    articles = tuple(
        replace(a, id=f"{month}-{a.slug}", month=month, summary_md=a.summary_md + summary_extra)
        for a in template.articles
    )
    issue = Issue(month=month, published=date(2019, 1, 15), articles=articles, intro="A new year of research.")
    return Archive(topics=archive.topics, issues=(issue, *archive.issues))


def test_new_targets_get_only_their_backfill_and_a_rerun_sends_nothing(world: World) -> None:
    targets = [SLACK_T, replace(DISCORD_T, backfill=2), SLACK_HOOK, DISCORD_HOOK]
    reports = world.run(targets)
    assert all(report.ok for report in reports), reports
    newest = world.archive.issues[0].month
    assert [m["metadata"]["event_payload"]["issue"] for m in world.slack.messages[SLACK_CHANNEL]] == [newest]
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 2  # backfill = 2
    assert len(world.slack.webhooks["practice"]) == 1
    assert len(world.discord.messages[DISCORD_OTHER]) == 1
    requests_before = len(world.slack.requests) + len(world.discord.requests)

    assert world.run(targets) == []  # nothing due: nothing sent, not even a connection
    assert len(world.slack.requests) + len(world.discord.requests) == requests_before

    # a new issue lands: exactly that issue goes everywhere, once
    later = newer_issue(world.archive)
    reports = world.run(targets, archive=later)
    assert all(r.sent == [("2019-01", 1)] for r in reports), reports
    assert len(world.slack.messages[SLACK_CHANNEL]) == 2
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 3
    assert world.run(targets, archive=later) == []


def test_every_request_disables_pings_and_unfurls(world: World) -> None:
    world.run([SLACK_T, DISCORD_T, DISCORD_HOOK, SLACK_HOOK])
    for request in world.slack.posts():
        assert request.body["unfurl_links"] is False
        assert request.body["unfurl_media"] is False
    for request in world.discord.posts():
        assert request.body["allowed_mentions"] == {"parse": []}
    bot_posts = [r for r in world.discord.posts() if "/channels/" in r.path]
    assert bot_posts
    for request in bot_posts:
        assert request.body["enforce_nonce"] is True
        assert len(request.body["nonce"]) <= 25


def test_rate_limits_are_waited_out(world: World) -> None:
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
        times=2,
    )
    world.discord.fail(lambda m, p: m == "POST" and "/messages" in p, **rate_limited(0.01))
    world.discord.fail(lambda m, p: m == "POST" and "/webhooks/" in p, **rate_limited(0.01))
    reports = world.run([SLACK_T, DISCORD_T, DISCORD_HOOK])
    assert all(r.ok for r in reports), reports
    assert len(world.slack.posts()) == 3  # two refused, one accepted
    assert len([r for r in world.discord.posts() if "/channels/" in r.path]) == 2  # one 429, one accepted
    assert len([r for r in world.discord.posts() if "/webhooks/" in r.path]) == 2
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    assert len(world.discord.messages[DISCORD_OTHER]) == 1


def test_server_errors_are_retried_with_backoff_after_looking(world: World) -> None:
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", status=500, body="oops", times=2)
    world.discord.fail(
        lambda m, p: m == "POST" and "/messages" in p, status=503, body={"message": "busy", "code": 0}, times=2
    )
    reports = world.run([SLACK_T, DISCORD_T])
    assert all(r.ok for r in reports), reports
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    # a 5xx may come after the platform stored the message: each retry was preceded by a look at the channel
    assert len([r for r in world.slack.requests if r.path == "/api/conversations.history"]) == 2
    assert len([r for r in world.discord.requests if r.method == "GET" and r.path.endswith("/messages")]) == 2


@pytest.mark.parametrize("where", ["slack-api", "slack-webhook", "discord-webhook", "discord-bot"])
@pytest.mark.slow
def test_a_5xx_after_the_platform_stored_the_message_never_posts_it_twice(world: World, where: str) -> None:
    """A proxy answers 502 although the platform has the message: a bot channel is searched and the message
    found; a webhook (which cannot be searched) makes the part uncertain for a person, never a blind re-post."""
    fake, target, matches, stored = {
        "slack-api": (world.slack, SLACK_T, "/api/chat.postMessage", lambda: world.slack.messages[SLACK_CHANNEL]),
        "slack-webhook": (world.slack, SLACK_HOOK, "/services/", lambda: world.slack.webhooks["practice"]),
        "discord-webhook": (world.discord, DISCORD_HOOK, "/webhooks/", lambda: world.discord.messages[DISCORD_OTHER]),
        "discord-bot": (
            world.discord,
            DISCORD_T,
            f"/channels/{DISCORD_CHANNEL}/messages",
            lambda: world.discord.messages[DISCORD_CHANNEL],
        ),
    }[where]
    fake.fail(lambda m, p: m == "POST" and matches in p, accept_then=True, status=502, body="bad gateway")
    (report,) = world.run([target])
    assert len(stored()) == 1
    if target.kind == "webhook":
        assert report.uncertain
        assert "--mark-sent" in report.uncertain[0]
        assert not report.sent
        (status,) = [s for s in delivery_status(world.ledger, [target]) if s.key == target.key]
        assert status.issues[0].state == "uncertain"
        (report,) = world.run([target])  # the next run does not guess either
        assert report.uncertain
        assert len(stored()) == 1
    else:
        assert report.ok, report
        assert report.sent == [(world.archive.issues[0].month, 1)], report
    posts = [r for r in fake.requests if r.method == "POST" and matches in r.path]
    if where == "discord-bot":  # discord.py repeats a 502 itself, under the same nonce, which Discord dedupes
        assert len({r.body["nonce"] for r in posts}) == 1
    else:
        assert len(posts) == 1


def test_server_errors_that_never_end_fail_the_target_and_the_next_run_retries(world: World) -> None:
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", status=502, body="bad gateway", times=FAST.max_attempts)
    (report,) = world.run([SLACK_T])
    assert report.error
    assert "slack:C0000AAAA" in report.error
    assert "next run retries" in report.error
    assert world.slack.messages[SLACK_CHANNEL] == []
    (report,) = world.run([SLACK_T])
    assert report.ok
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1


def test_a_server_error_without_a_slack_error_code_names_the_status_once(world: World) -> None:
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", status=502, body="bad gateway", times=FAST.max_attempts)
    (report,) = world.run([SLACK_T])
    assert report.error is not None
    assert report.error == (
        f"{SLACK_T.key}: Slack answered HTTP 502 (gave up for this run after 4 tries; the next run retries)"
    )


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("channel_not_found", "check the id"),
        ("not_in_channel", "/invite"),
        ("is_archived", "unarchive"),
        ("invalid_auth", "SLACK_BOT_TOKEN"),
        ("token_revoked", "SLACK_BOT_TOKEN"),
        ("missing_scope", "chat:write"),
    ],
)
def test_slack_permanent_errors_fail_only_that_target(world: World, code: str, advice: str) -> None:
    if code in ("invalid_auth", "token_revoked", "missing_scope"):
        world.slack.fail(
            lambda m, p: p == "/api/chat.postMessage",
            status=200,
            body={"ok": False, "error": code, "needed": "chat:write"},
        )
    elif code == "channel_not_found":
        del world.slack.messages[SLACK_CHANNEL]
    else:
        world.slack.channel_errors[SLACK_CHANNEL] = code
    reports = world.run([SLACK_T, SLACK_T2, DISCORD_T])
    failed = {r.target.key: r for r in reports if not r.ok}
    assert list(failed) == ["slack:C0000AAAA"]
    message = failed["slack:C0000AAAA"].error or ""
    assert code in message
    assert advice in message
    assert "slack:C0000AAAA" in message
    assert SLACK_TOKEN not in message
    assert len(world.slack.messages[SLACK_OTHER]) == 1
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    (status,) = [s for s in delivery_status(world.ledger, [SLACK_T]) if s.key == SLACK_T.key]
    assert status.issues[0].state == "failed"


@pytest.mark.parametrize(
    ("setup", "code", "advice"),
    [
        ("token", "401", "DISCORD_BOT_TOKEN"),
        ("unknown_channel", "10003", "check the id"),
        ("unknown_webhook", "10015", "DISCORD_HOOK"),
        ("missing_access", "50001", "View Channel"),
        ("missing_permissions", "50013", "Send Messages"),
    ],
)
def test_discord_permanent_errors_fail_only_that_target(world: World, setup: str, code: str, advice: str) -> None:
    target = DISCORD_T
    if setup == "token":
        world.secrets.values["DISCORD_BOT_TOKEN"] = "wrong-token"
    elif setup == "unknown_channel":
        del world.discord.messages[DISCORD_CHANNEL]
    elif setup == "unknown_webhook":
        world.discord.webhooks.clear()
        target = DISCORD_HOOK
    else:
        world.discord.channel_errors[DISCORD_CHANNEL] = (403, int(code))
    reports = world.run([target, SLACK_T])
    failed = [r for r in reports if not r.ok]
    assert [r.target.key for r in failed] == [target.key]
    message = failed[0].error or ""
    assert code in message
    assert advice in message
    assert target.key in message
    assert "wrong-token" not in message
    assert "w" * 60 not in message
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1


def test_a_slow_answer_after_the_platform_accepted_is_found_not_repeated(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", accept_then=True, delay=0.6)
    world.discord.fail(lambda m, p: m == "POST" and p.endswith("/messages"), accept_then=True, delay=0.6)
    with caplog.at_level(logging.INFO, logger="pprfeed.publish.deliver"):
        reports = world.run([SLACK_T, DISCORD_T])
    month = world.archive.issues[0].month
    assert sorted(m for m in caplog.messages if m.endswith("posted")) == [
        f"discord:{DISCORD_CHANNEL} {month} part 1: found posted",
        f"slack:{SLACK_CHANNEL} {month} part 1: found posted",
    ]
    assert all(r.ok for r in reports), reports
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1  # found by its metadata in conversations.history
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1  # found among the channel's recent messages
    assert any(r.path == "/api/conversations.history" for r in world.slack.requests)
    assert any(r.method == "GET" and r.path.endswith("/messages") for r in world.discord.requests)


def test_a_slow_webhook_becomes_uncertain_for_a_person(world: World) -> None:
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(lambda m, p: p.startswith("/services/"), accept_then=True, delay=0.6)
    reports = world.run([SLACK_HOOK, SLACK_T])
    by_key = {r.target.key: r for r in reports}
    assert by_key["slack:C0000AAAA"].ok
    uncertain = by_key["slack-webhook:SLACK_HOOK"].uncertain
    key = "slack-webhook:SLACK_HOOK"
    assert len(uncertain) == 1
    assert re.fullmatch(
        rf"{key}: (\d{{4}}-\d\d) part 1 of 1 may or may not have been posted \(.+\)\. Look in the channel, then run "
        rf"`pprfeed publish --mark-sent \1 --target {key}` if it is there, or "
        rf"`pprfeed publish --resend \1 --target {key}` if it is not",
        uncertain[0],
    ), uncertain[0]
    # `pprfeed status` shows a person the same words
    assert [r.last_error for r in world.ledger.records(key) if r.state == "uncertain"] == uncertain
    (status,) = [s for s in delivery_status(world.ledger, [SLACK_HOOK]) if s.key == SLACK_HOOK.key]
    assert status.issues[0].state == "uncertain"
    # rerunning never guesses: still uncertain, still one post
    (report,) = world.run([SLACK_HOOK])
    assert report.uncertain
    assert len(world.slack.webhooks["practice"]) == 1


def test_slow_channels_do_not_hold_up_the_others(world: World) -> None:
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", delay=0.6)  # within the 1 s client timeout
    reports = world.run([SLACK_T, SLACK_T2, DISCORD_T, DISCORD_T2])
    assert all(r.ok for r in reports)
    slow, *rest = world.slack.posts()
    others = [*rest, *world.discord.posts()]
    assert len(others) == 3
    assert all(other.answered < slow.answered for other in others)  # done while the slow one was still waiting


def _interrupted_claim(world: World, target: Target) -> None:
    """What a crash right after the platform accepted leaves behind: a claimed part, the message posted."""
    (delivery,) = plan_deliveries(world.archive, [target], world.ledger, SITE, TODAY)
    world.ledger.claim(delivery.issue.month, target.key, 1, len(delivery.payloads), "stale-hash", "n" * 25)
    world.execute([delivery])  # posts it and records it…
    world.ledger.db.execute("UPDATE parts SET state = 'claimed', remote_id = NULL, sent_at = NULL")  # …then forgets


@pytest.mark.parametrize("target", [SLACK_T, DISCORD_T], ids=["slack", "discord"])
def test_an_interrupted_run_is_resolved_by_looking_not_by_posting_again(world: World, target: Target) -> None:
    _interrupted_claim(world, target)
    messages = world.slack.messages[SLACK_CHANNEL] if target is SLACK_T else world.discord.messages[DISCORD_CHANNEL]
    assert len(messages) == 1
    (report,) = world.run([target])
    assert report.ok
    assert report.recovered == [(world.archive.issues[0].month, 1)]
    assert report.sent == []
    assert len(messages) == 1
    (record,) = world.ledger.records(target.key)
    assert record.state == "sent"
    assert record.remote_id == str(messages[0].get("ts") or messages[0].get("id"))


def test_an_interrupted_run_whose_post_never_arrived_is_sent_once(world: World) -> None:
    (delivery,) = plan_deliveries(world.archive, [SLACK_T], world.ledger, SITE, TODAY)
    world.ledger.claim(delivery.issue.month, SLACK_T.key, 1, 1, "hash", "n" * 25)  # crashed before the request left
    (report,) = world.run([SLACK_T])
    assert report.ok
    assert report.sent == [(delivery.issue.month, 1)]
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1


def test_a_half_delivered_issue_resumes_where_it_stopped(world: World) -> None:
    long_issue = replace(
        world.archive.issues[0],
        articles=tuple(
            replace(world.archive.issues[0].articles[0], id=f"x{n}", summary_md="word " * 700) for n in range(4)
        ),
    )
    archive = Archive(world.archive.topics, (long_issue, *world.archive.issues[1:]))
    target = replace(DISCORD_T, format="full")
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    assert len(delivery.payloads) >= 2
    # the first part goes through, then the channel refuses
    world.discord.fail(
        lambda m, p: m == "POST" and p.endswith("/messages") and len(world.discord.messages[DISCORD_CHANNEL]) >= 1,
        status=403,
        body={"message": "Missing Permissions", "code": 50013},
    )
    (report,) = world.execute([delivery])
    assert report.error
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    (report,) = world.run([target], archive=archive)
    assert report.ok
    assert [n for _, n in report.sent] == list(range(2, len(delivery.payloads) + 1))
    contents = [m["content"] for m in world.discord.messages[DISCORD_CHANNEL]]
    assert len(contents) == len(set(contents)) == len(delivery.payloads)


def test_update_edits_posted_messages_in_place(world: World) -> None:
    targets = [SLACK_T, DISCORD_T, DISCORD_HOOK]
    world.run(targets)
    corrected_issue = replace(
        world.archive.issues[0],
        articles=tuple(
            replace(a, implications_md="Corrected: Flückiger. " + a.implications_md)
            for a in world.archive.issues[0].articles
        ),
    )
    corrected = Archive(world.archive.topics, (corrected_issue, *world.archive.issues[1:]))
    assert world.run(targets, archive=corrected) == []  # without --update a correction is not re-posted
    reports = world.run(targets, archive=corrected, update=True)
    for report in reports:
        assert report.ok, report
        assert report.edited, report
        assert not report.sent, report
    assert "Corrected: Flückiger." in world.slack.messages[SLACK_CHANNEL][0]["blocks"][2]["text"]["text"]
    assert any("Corrected" in m["embeds"][0]["description"] for m in world.discord.messages[DISCORD_CHANNEL])
    assert any("Corrected" in m["embeds"][0]["description"] for m in world.discord.messages[DISCORD_OTHER])
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    assert world.run(targets, archive=corrected, update=True) == []  # nothing changed since: nothing to edit


def test_resend_with_all_parts_posts_a_wholly_posted_issue_again_to_one_target(world: World) -> None:
    world.run([SLACK_T, DISCORD_T])
    month = world.archive.issues[0].month
    with pytest.raises(ValueError, match="nothing to resend.*--all-parts"):
        plan_resend(world.archive, SLACK_T, month, world.ledger, SITE, TODAY)
    delivery = plan_resend(world.archive, SLACK_T, month, world.ledger, SITE, TODAY, all_parts=True)
    (report,) = world.execute([delivery])
    assert report.ok
    assert len(world.slack.messages[SLACK_CHANNEL]) == 2
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1
    with pytest.raises(ValueError, match="^no published issue 1999-01$"):
        plan_resend(world.archive, SLACK_T, "1999-01", world.ledger, SITE, TODAY)


def test_resend_of_an_issue_the_target_does_not_want_is_refused(world: World) -> None:
    issue = world.archive.issues[0]
    unwanted = next(t.slug for t in world.archive.topics if not any(t.slug in a.topics for a in issue.articles))
    target = replace(SLACK_T, topics=(unwanted,))
    with pytest.raises(
        ValueError, match=rf"^issue {issue.month} has no article matching slack:{SLACK_CHANNEL}'s topic filter$"
    ):
        plan_resend(world.archive, target, issue.month, world.ledger, SITE, TODAY)
    assert world.ledger.records() == []


def test_topic_filters_choose_issues(world: World) -> None:
    topic = world.archive.issues[2].articles[0].topics[0]
    matching = [i.month for i in world.archive.issues if any(topic in a.topics for a in i.articles)]
    target = replace(SLACK_T, topics=(topic,), backfill=10)
    world.run([target])
    sent = [m["metadata"]["event_payload"]["issue"] for m in world.slack.messages[SLACK_CHANNEL]]
    assert sent == sorted(matching)  # oldest first, and only the matching ones


def test_a_target_gets_only_the_articles_its_topic_filter_wants(archive: Archive) -> None:
    issue = replace(archive.issues[0], articles=archive.issues[0].articles + archive.issues[1].articles)
    wanted = archive.issues[1].articles[0].topics[0]
    only = tuple(a for a in issue.articles if wanted in a.topics)
    delivery = render_delivery(Target("slack", "channel", "C0123456", topics=(wanted,)), issue, archive, SITE)
    assert delivery is not None
    assert delivery.articles == only


def test_discord_without_history_access_relies_on_the_nonce(world: World) -> None:
    """Timed out after Discord accepted, and the bot may not read the channel: the resend carries the same
    nonce with enforce_nonce, so Discord returns the first message instead of creating a second."""
    world.tuning = replace(FAST, timeout=0.3)
    world.discord.fail(lambda m, p: m == "POST" and p.endswith("/messages"), accept_then=True, delay=0.6)
    world.discord.fail(
        lambda m, p: m == "GET" and p.endswith("/messages"),
        status=403,
        body={"message": "Missing Access", "code": 50001},
    )
    (report,) = world.run([DISCORD_T])
    assert report.ok, report
    posts = [r for r in world.discord.posts() if r.path.endswith("/messages")]
    assert len(posts) == 2
    assert posts[0].body["nonce"] == posts[1].body["nonce"]
    assert len(world.discord.messages[DISCORD_CHANNEL]) == 1


@pytest.mark.parametrize("target", [SLACK_T, DISCORD_HOOK], ids=["slack", "discord"])
def test_a_payload_over_the_limits_is_refused_before_it_is_claimed_or_sent(world: World, target: Target) -> None:
    (delivery,) = plan_deliveries(world.archive, [target], world.ledger, SITE, TODAY)
    if target.platform == "slack":
        broken = dict(
            delivery.payloads[0], blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}]
        )
    else:
        broken = dict(delivery.payloads[0], content="x" * 2500)
    (report,) = world.execute([replace(delivery, payloads=(delivery.payloads[0], broken))])
    message = report.error or ""
    assert f"message 2 of issue {delivery.issue.month} exceeds" in message
    assert "bug in pprfeed" in message
    assert "4000 characters" in message or "2500 characters" in message
    assert world.ledger.records(target.key) == []  # nothing claimed, so nothing turns uncertain later
    assert world.slack.posts() == []
    assert world.discord.posts() == []  # not even the good first part


def test_edits_wait_out_rate_limits_only_up_to_the_cap(world: World) -> None:
    world.run([SLACK_T])
    corrected_issue = replace(
        world.archive.issues[0],
        articles=tuple(
            replace(a, implications_md="Corrected. " + a.implications_md) for a in world.archive.issues[0].articles
        ),
    )
    corrected = Archive(world.archive.topics, (corrected_issue, *world.archive.issues[1:]))
    world.tuning = replace(FAST, max_rate_limit_waits=2)
    world.slack.fail(
        lambda m, p: p == "/api/chat.update",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
        times=5,
    )
    (report,) = world.run([SLACK_T], archive=corrected, update=True)
    assert report.error
    assert "rate limited" in report.error
    assert "next run retries" in report.error
    assert len(world.slack.posts("chat.update")) == 3  # two waits, then the target stops for this run
    (report,) = world.run([SLACK_T], archive=corrected, update=True)
    assert report.ok
    assert report.edited  # two 429s left in the script: within the cap, waited out
    assert len(world.slack.posts("chat.update")) == 6


def test_edits_retry_server_errors_and_say_which_part_failed(world: World) -> None:
    world.run([SLACK_T])
    corrected_issue = replace(
        world.archive.issues[0],
        articles=tuple(
            replace(a, implications_md="Corrected. " + a.implications_md) for a in world.archive.issues[0].articles
        ),
    )
    corrected = Archive(world.archive.topics, (corrected_issue, *world.archive.issues[1:]))
    world.slack.fail(lambda m, p: p == "/api/chat.update", status=500, body="oops", times=FAST.max_attempts + 1)
    (report,) = world.run([SLACK_T], archive=corrected, update=True)
    assert report.error
    assert report.error.startswith(f"editing {corrected_issue.month} part 1: ")
    assert f"gave up for this run after {FAST.max_attempts} tries" in report.error
    assert len(world.slack.posts("chat.update")) == FAST.max_attempts
    (report,) = world.run([SLACK_T], archive=corrected, update=True)  # one 500 left, then the edit goes through
    assert report.ok, report
    assert report.edited
    assert len(world.slack.posts("chat.update")) == FAST.max_attempts + 2


class _BrokenPoster:
    """A platform adapter with a bug: its post raises what no adapter should (not a DeliveryError)."""

    async def post(self, target: Target, payload: dict, ref: object) -> str | None:
        raise KeyError("id")

    async def close(self) -> None:
        pass


def test_an_unexpected_exception_stops_only_its_own_target(world: World, caplog: pytest.LogCaptureFixture) -> None:
    deliveries = plan_deliveries(world.archive, [SLACK_T, DISCORD_T], world.ledger, SITE, TODAY)

    async def go() -> list[TargetReport]:
        slack = SlackPoster(PlatformSettings("SLACK_BOT_TOKEN", world.slack.base_url), world.secrets, 1.0)
        try:
            posters = {"slack": slack, "discord": _BrokenPoster()}
            return await deliver(deliveries, world.ledger, posters, FAST)  # type: ignore[dict-item]
        finally:
            await slack.close()

    reports = {r.target.key: r for r in asyncio.run(go())}
    assert reports[SLACK_T.key].ok
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1
    broken = reports[DISCORD_T.key]
    assert broken.error == (
        f"{DISCORD_T.key}: stopped by an unexpected error (KeyError; details in the log) — "
        "this is a bug in pprfeed, please report it; the next run retries"
    )
    # the request was out when it broke: the part is uncertain (for a person), not left "claimed"
    (record,) = world.ledger.records(DISCORD_T.key)
    assert record.state == "uncertain"
    month = world.archive.issues[0].month
    assert broken.uncertain == [
        f"{DISCORD_T.key}: {month} part 1 of 1 may or may not have been posted (the request broke with KeyError). "
        f"Look in the channel, then run `pprfeed publish --mark-sent {month} --target {DISCORD_T.key}` if it is "
        f"there, or `pprfeed publish --resend {month} --target {DISCORD_T.key}` if it is not"
    ]
    # the traceback a maintainer needs is logged under the target's name
    assert f"{DISCORD_T.key}: stopped by an unexpected error" in caplog.messages


# --- formats: digest, full text in a thread, full text in parts -------------------------------------------------


def test_full_format_on_a_slack_channel_puts_the_full_text_in_the_digest_s_thread(world: World) -> None:
    target = replace(SLACK_T, format="full")
    (report,) = world.run([target])
    assert report.ok, report
    digest, *replies = world.slack.messages[SLACK_CHANNEL]
    assert "thread_ts" not in digest
    assert replies
    assert all(reply["thread_ts"] == digest["ts"] for reply in replies)
    assert world.slack.thread(SLACK_CHANNEL, digest["ts"]) == replies
    # exactly once covers every reply: each is a part of its own in the ledger, and a rerun sends nothing
    records = world.ledger.records(target.key)
    assert [r.part for r in records] == list(range(1, len(replies) + 2))
    assert {r.format for r in records} == {"full-thread"}
    assert world.run([target]) == []
    assert len(world.slack.messages[SLACK_CHANNEL]) == 1 + len(replies)


def test_a_reply_interrupted_after_slack_stored_it_is_found_in_its_thread(world: World) -> None:
    target = replace(SLACK_T, format="full")
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage" and len(world.slack.messages[SLACK_CHANNEL]) == 1,
        accept_then=True,
        delay=0.6,
    )
    (report,) = world.run([target])
    assert report.ok, report
    assert len(world.slack.messages[SLACK_CHANNEL]) == 2  # the digest and one reply: not posted twice
    assert any(r.path == "/api/conversations.replies" for r in world.slack.requests)


def test_update_edits_the_replies_in_the_thread(world: World) -> None:
    target = replace(SLACK_T, format="full")
    world.run([target])
    corrected_issue = replace(
        world.archive.issues[0],
        articles=tuple(replace(a, summary_md=a.summary_md + " Corrected.") for a in world.archive.issues[0].articles),
    )
    corrected = Archive(world.archive.topics, (corrected_issue, *world.archive.issues[1:]))
    (report,) = world.run([target], archive=corrected, update=True)
    assert report.ok, report
    assert report.edited == [(corrected_issue.month, 2)]  # the summary is in the reply, not in the digest
    digest, reply = world.slack.messages[SLACK_CHANNEL]
    assert reply["edited"] is True
    assert "Corrected." in str(reply["blocks"])


@pytest.mark.parametrize("target", [SLACK_HOOK, DISCORD_T, DISCORD_HOOK], ids=["slack-webhook", "discord", "hook"])
def test_full_format_elsewhere_posts_the_full_text_in_parts_without_threads(world: World, target: Target) -> None:
    (report,) = world.run([replace(target, format="full")])
    assert report.ok, report
    (record,) = world.ledger.records(target.key)
    assert record.format == "full"
    requests = [r for r in world.slack.requests + world.discord.requests if r.method == "POST"]
    assert requests
    assert all("thread_ts" not in str(r.body) for r in requests)
    assert "Practice implications" in str([r.body for r in requests])


def test_update_never_rewrites_an_earlier_post_into_another_format(world: World) -> None:
    world.run([SLACK_T, DISCORD_T])
    later = newer_issue(world.archive, summary_extra=" Corrected.")
    as_full = [replace(SLACK_T, format="full"), replace(DISCORD_T, format="full")]
    # the earlier digests did not change as digests: nothing to edit, although the targets now want full text
    assert plan_updates(world.archive, as_full, world.ledger, SITE, TODAY) == []
    reports = world.run(as_full, archive=later, update=True)
    assert all(report.ok and not report.edited for report in reports), reports
    # the issue posted from now on comes in the new format
    by_issue = {(r.target, r.issue): r.format for r in world.ledger.records()}
    assert by_issue[(SLACK_T.key, world.archive.issues[0].month)] == "digest"
    assert by_issue[(SLACK_T.key, "2019-01")] == "full-thread"
    assert by_issue[(DISCORD_T.key, "2019-01")] == "full"


def test_an_issue_with_none_of_a_channel_s_topics_is_not_posted_there(world: World) -> None:
    taken = {slug for issue in world.archive.issues for a in issue.articles for slug in a.topics}
    unused = next(topic.slug for topic in world.archive.topics if topic.slug not in taken)
    assert world.run([replace(SLACK_T, topics=(unused,), backfill=10)]) == []
    assert world.slack.posts() == []


# --- Slack's msg_blocks_too_long and invalid_blocks ------------------------------------------------------------


def six_articles(world: World) -> Archive:
    articles = tuple(a for issue in world.archive.issues for a in issue.articles)
    issue = Issue("2019-01", date(2019, 1, 15), articles)
    return Archive(world.archive.topics, (issue, *world.archive.issues))


@pytest.mark.parametrize("target", [SLACK_T, SLACK_HOOK], ids=["channel", "webhook"])
def test_a_message_slack_refuses_as_too_long_is_sent_in_two_halves_once(world: World, target: Target) -> None:
    archive = six_articles(world)
    (delivery,) = plan_deliveries(archive, [replace(target, backfill=1)], world.ledger, SITE, TODAY)
    (payload,) = delivery.payloads
    world.slack.max_block_text = slack_chat.message_size(payload) - 1  # lower than Slack's, to be hit
    (report,) = world.execute([delivery])
    assert report.ok, report
    assert report.sent == [("2019-01", 1), ("2019-01", 2)]
    shown = world.slack.messages[SLACK_CHANNEL] if target.kind == "channel" else world.slack.webhooks["practice"]
    assert [block for message in shown for block in message["blocks"]] == payload["blocks"]
    # `status` says what happened, and the next runs neither resend nor see a change to edit
    first, second = world.ledger.records(target.key)
    assert first.state == second.state == "sent"
    assert first.last_error == "split in two: Slack answered msg_blocks_too_long"
    assert world.run([target], archive=archive) == []
    assert plan_updates(archive, [target], world.ledger, SITE, TODAY) == []
    assert len(shown) == 2


def test_a_half_slack_still_refuses_fails_the_target_naming_the_error(world: World) -> None:
    archive = six_articles(world)
    world.slack.max_block_text = 10
    (report,) = world.run([SLACK_T], archive=archive)
    assert report.error
    assert "msg_blocks_too_long" in report.error
    assert world.slack.messages[SLACK_CHANNEL] == []
    assert len(world.slack.posts()) == 2  # the whole message, then its first half: a half is not split again
    (first,) = world.ledger.records(SLACK_T.key)
    assert first.state == "failed"
    assert (first.last_error or "").startswith("split in two: Slack answered msg_blocks_too_long — ")


def test_invalid_blocks_splits_too(world: World) -> None:
    archive = six_articles(world)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=200, body={"ok": False, "error": "invalid_blocks"}
    )
    (report,) = world.run([SLACK_T], archive=archive)
    assert report.ok, report
    assert len(world.slack.messages[SLACK_CHANNEL]) == 2
    first, _ = world.ledger.records(SLACK_T.key)
    assert first.last_error == "split in two: Slack answered invalid_blocks"


def test_a_split_digest_stays_in_the_channel_and_its_replies_in_the_first_half_s_thread(world: World) -> None:
    target = replace(SLACK_T, format="full")
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=200, body={"ok": False, "error": "msg_blocks_too_long"}
    )
    (report,) = world.run([target])
    assert report.ok, report
    first, second, *replies = world.slack.messages[SLACK_CHANNEL]
    assert "thread_ts" not in first
    assert "thread_ts" not in second  # the channel shows the digest, in two messages now
    assert replies
    assert all(reply["thread_ts"] == first["ts"] for reply in replies)
    assert world.run([target]) == []
    assert plan_updates(world.archive, [target], world.ledger, SITE, TODAY) == []


def _long_issue(archive: Archive, articles: int = 12) -> Archive:
    """The newest issue with `articles` long articles: several messages on every platform."""
    first = archive.issues[0]
    long_issue = replace(
        first,
        articles=tuple(replace(first.articles[0], id=f"long{n}", summary_md="word " * 500) for n in range(articles)),
    )
    return Archive(archive.topics, (long_issue, *archive.issues[1:]))


def _full_slack_delivery(world: World) -> tuple[Target, Delivery]:
    """The long issue planned for Slack in the full layout (a top message and its thread of replies)."""
    target = replace(SLACK_T, format="full")
    (delivery,) = plan_deliveries(_long_issue(world.archive), [target], world.ledger, SITE, TODAY)
    return target, delivery


def _part_numbers(posts: list[dict]) -> list[int]:
    """Which part each Slack post is, from the "(part k of n)" its fallback text carries."""
    return [int(re.search(r"\(part (\d+) of \d+\)", post["text"])[1]) for post in posts]  # type: ignore[index]


def test_resend_after_an_uncertain_later_part_posts_only_the_parts_not_there(world: World) -> None:
    archive = _long_issue(world.archive)
    hook = replace(SLACK_HOOK, format="full")  # the full text: several messages in a row
    (delivery,) = plan_deliveries(archive, [hook], world.ledger, SITE, TODAY)
    total = len(delivery.payloads)
    assert total >= 3
    posted = world.slack.webhooks["practice"]
    # part 2 gets a 5xx and never arrives: a webhook cannot be searched, so the part is uncertain
    world.slack.fail(lambda m, p: p.startswith("/services/") and len(posted) == 1, status=500, body="oops")
    (report,) = world.execute([delivery])
    assert report.uncertain
    assert _part_numbers(posted) == [1]
    # a person looks, finds part 2 missing, and resends as the message says
    resend = plan_resend(archive, hook, delivery.issue.month, world.ledger, SITE, TODAY)
    (report,) = world.execute([resend])
    assert report.ok, report
    assert _part_numbers(posted) == list(range(1, total + 1))


class HoldLedger:
    """Takes the ledger with another connection's BEGIN IMMEDIATE the moment the fake receives a matching
    request (the platform then accepts it), and lets go `seconds` later: another process holding the ledger
    between "the platform accepted" and "the ledger recorded"."""

    def __init__(self, path: Path, matches: Callable[[str, str], bool], seconds: float) -> None:
        self.path, self.matches, self.seconds = path, matches, seconds
        self.released = threading.Event()
        self._taken = False

    def __call__(self, method: str, path: str) -> bool:
        if not self._taken and self.matches(method, path):
            self._taken = True
            holder = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN IMMEDIATE")

            def release() -> None:
                holder.execute("ROLLBACK")
                holder.close()
                self.released.set()

            threading.Timer(self.seconds, release).start()
        return False  # never a fault: the request is handled as usual


@pytest.mark.parametrize("target", [SLACK_T, DISCORD_T, SLACK_HOOK], ids=["slack", "discord", "slack-webhook"])
def test_a_ledger_held_after_the_platform_accepted_never_leads_to_a_second_copy(
    world: World, target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    world.ledger.close()
    world.ledger = Ledger(path, timeout=0.4)
    fake, stored = {
        "slack": (world.slack, lambda: world.slack.messages[SLACK_CHANNEL]),
        "discord": (world.discord, lambda: world.discord.messages[DISCORD_CHANNEL]),
        "slack-webhook": (world.slack, lambda: world.slack.webhooks["practice"]),
    }[target.key.split(":")[0]]
    posting = {"slack": "/api/chat.postMessage", "discord": "/messages", "slack-webhook": "/services/"}
    where = posting[target.key.split(":")[0]]
    # held past one busy timeout, released within the second: today's catch-all then records "failed"
    hold = HoldLedger(path, lambda m, p: m == "POST" and where in p, seconds=0.6)
    fake.fail(hold)
    world.run([target])
    assert hold.released.wait(5)
    assert len(stored()) == 1
    (record,) = world.ledger.records(target.key)
    assert record.state != "failed"  # it may well be posted
    world.run([target])  # the ledger is free again
    assert len(stored()) == 1


def test_a_webhook_part_that_cannot_be_edited_stays_posted(world: World) -> None:
    world.run([SLACK_HOOK])
    corrected_issue = replace(
        world.archive.issues[0],
        articles=tuple(replace(a, title=a.title + " (corrected)") for a in world.archive.issues[0].articles),
    )
    corrected = Archive(world.archive.topics, (corrected_issue, *world.archive.issues[1:]))
    (report,) = world.run([SLACK_HOOK], archive=corrected, update=True)
    world.run([SLACK_HOOK], archive=corrected)  # the part is still recorded as posted: nothing is due
    assert len(world.slack.webhooks["practice"]) == 1
    month = corrected_issue.month
    assert report.error == (
        f"{SLACK_HOOK.key}: {month} part 1 cannot be edited (the platform gave no message id); use "
        f"`pprfeed publish --resend {month} --target {SLACK_HOOK.key} --all-parts` to post the corrected issue"
    )


def test_update_edits_the_posts_of_a_retracted_article(world: World) -> None:
    from pprfeed.archive.load import retraction

    world.run([SLACK_T])
    issue = world.archive.issues[0]
    retracted_issue = replace(issue, articles=tuple(retraction(a, "Data fabricated.") for a in issue.articles))
    retracted = Archive(world.archive.topics, (retracted_issue, *world.archive.issues[1:]))
    world.run([SLACK_T], archive=retracted, update=True)
    posted = json.dumps(world.slack.messages[SLACK_CHANNEL][0]["blocks"])
    assert "This summary has been retracted. Reason: Data fabricated." in posted


def test_targets_waiting_out_a_discord_rate_limit_do_not_hold_up_slack(world: World) -> None:
    """Each platform has its own `concurrency` slots: a Slack post goes out while Discord makes the only
    Discord target wait."""
    world.tuning = replace(FAST, concurrency=1)
    world.discord.fail(lambda m, p: m == "POST" and p.endswith("/messages"), **rate_limited(0.5))
    reports = world.run([replace(DISCORD_T, backfill=1), replace(SLACK_T, backfill=1)])
    assert all(report.ok for report in reports), reports
    (posted,) = [r for r in world.discord.posts() if r.path.endswith("/messages")][1:]
    assert world.slack.posts()[0].answered < posted.at


@pytest.mark.slow
def test_discord_posts_stay_under_its_global_rate_limit(tmp_path: Path, archive: Archive) -> None:
    channels = [str(500000000000000000 + n) for n in range(60)]
    with FakeDiscord(channels, global_rate_limit=50) as discord, Ledger(tmp_path / "state.sqlite3") as ledger:
        world = World(FakeSlack(), discord, ledger, Secrets({"DISCORD_BOT_TOKEN": DISCORD_TOKEN}), archive)
        world.tuning = replace(FAST, concurrency=16)
        reports = world.run([Target("discord", "channel", channel, backfill=1) for channel in channels])
        assert all(report.ok for report in reports), reports
        assert discord.rate_limited == 0


# --- what a preview shows, and what the ledger says while a part is being retried -----------------------------


def test_a_preview_numbers_each_part_and_threads_the_replies_under_the_digest_to_come(world: World) -> None:
    target, delivery = _full_slack_delivery(world)
    total = len(delivery.payloads)
    refs = preview_refs(delivery, world.ledger)
    assert [payload for payload, _ in refs] == list(delivery.payloads)
    assert [ref.part for _, ref in refs] == list(range(1, total + 1))
    assert {ref.parts for _, ref in refs} == {total}
    assert [ref.thread for _, ref in refs] == [None] + ["<ts of part 1>"] * (total - 1)
    assert len({ref.nonce for _, ref in refs}) == total
    assert {len(ref.nonce) for _, ref in refs} == {25}
    assert {ref.marker for _, ref in refs} == {""}  # Slack finds a message by its metadata


def test_a_preview_of_a_half_posted_thread_shows_the_parts_still_due_as_the_run_would_send_them(world: World) -> None:
    target, delivery = _full_slack_delivery(world)
    month, total = delivery.issue.month, len(delivery.payloads)
    world.ledger.claim(month, target.key, 1, total, "hash", "a" * 25, "full-thread")
    world.ledger.mark_sent(month, target.key, 1, "1700000000.000100")
    assert {ref.thread for _, ref in preview_refs(delivery, world.ledger)} == {"1700000000.000100"}
    world.ledger.claim(month, target.key, 2, total, "hash", "b" * 25, "full-thread")  # interrupted
    refs = preview_refs(delivery, world.ledger)
    assert [payload for payload, _ in refs] == list(delivery.payloads[1:])
    assert [ref.part for _, ref in refs] == list(range(2, total + 1))
    assert refs[0][1].nonce == "b" * 25  # the claimed part keeps its nonce
    assert {ref.thread for _, ref in refs} == {"1700000000.000100"}


def test_a_preview_after_a_split_counts_the_two_halves_as_parts(world: World) -> None:
    archive = six_articles(world)
    (delivery,) = plan_deliveries(archive, [replace(SLACK_T, backfill=1)], world.ledger, SITE, TODAY)
    (payload,) = delivery.payloads
    world.ledger.claim("2019-01", SLACK_T.key, 1, 1, "hash", "a" * 25, "digest")
    world.ledger.mark("2019-01", SLACK_T.key, 1, "failed", "split in two: Slack answered invalid_blocks")
    refs = preview_refs(delivery, world.ledger)
    assert [p for p, _ in refs] == slack_chat.split_message(payload)
    assert [(ref.issue, ref.part, ref.parts) for _, ref in refs] == [("2019-01", 1, 2), ("2019-01", 2, 2)]


def test_a_discord_preview_carries_the_line_that_finds_the_message_again(world: World) -> None:
    (delivery,) = plan_deliveries(world.archive, [DISCORD_T], world.ledger, SITE, TODAY)
    ((payload, ref),) = preview_refs(delivery, world.ledger)
    assert ref.marker == payload["content"].split("\n")[0]


def test_a_payload_hash_is_the_same_whatever_order_its_keys_were_built_in() -> None:
    assert payload_hash({"text": "Ψ", "blocks": []}) == payload_hash({"blocks": [], "text": "Ψ"})


def test_a_payload_hash_stays_what_earlier_versions_recorded_in_ledgers() -> None:
    # the ledger keeps this hash of every posted part: a different one would make `publish --update` edit them all
    assert (
        payload_hash({"text": "Flückiger — Ψ", "blocks": [{"type": "divider"}]}) == "e889c7475782b6b3b4c5aa20fa9a1c5e"
    )


def _record_all_sent(world: World, delivery: Delivery, but: int) -> None:
    """The ledger after a run that posted every part of `delivery` except part `but`, which is uncertain."""
    month, key, total = delivery.issue.month, delivery.target.key, len(delivery.payloads)
    for number in range(1, total + 1):
        world.ledger.claim(month, key, number, total, "hash", f"{number:025d}", delivery.layout)
        if number == but:
            world.ledger.mark(month, key, number, "uncertain", "may or may not have been posted")
        else:
            world.ledger.mark_sent(month, key, number, f"30000000000000000{number}")


@pytest.mark.parametrize("uncertain", ["first", "last"])
def test_resend_is_allowed_while_any_part_is_not_known_to_be_posted(world: World, uncertain: str) -> None:
    target = replace(DISCORD_T, format="full")
    archive = _long_issue(world.archive)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    total = len(delivery.payloads)
    assert total >= 3
    but = 1 if uncertain == "first" else total
    _record_all_sent(world, delivery, but)
    plan_resend(archive, target, delivery.issue.month, world.ledger, SITE, TODAY)
    assert sorted(world.ledger.parts(delivery.issue.month, target.key)) == sorted(set(range(1, total + 1)) - {but})


def test_resend_of_a_wholly_posted_issue_says_how_to_post_it_again(world: World) -> None:
    world.run([SLACK_T])
    month = world.archive.issues[0].month
    with pytest.raises(ValueError) as refused:
        plan_resend(world.archive, SLACK_T, month, world.ledger, SITE, TODAY)
    assert str(refused.value) == (
        f"every part of {month} is recorded as posted to {SLACK_T.key}: nothing to resend. To post the whole issue "
        "again (a correction a webhook cannot edit, a deleted message), add --all-parts"
    )


def _corrected(archive: Archive, month: str | None = None) -> Archive:
    """The archive with every article of one issue (by default the newest) corrected."""
    month = month or archive.issues[0].month
    issues = tuple(
        replace(i, articles=tuple(replace(a, implications_md="Corrected. " + a.implications_md) for a in i.articles))
        if i.month == month
        else i
        for i in archive.issues
    )
    return Archive(archive.topics, issues)


def test_updates_pass_over_posted_issues_no_longer_published(world: World) -> None:
    world.run([SLACK_T])
    month = world.archive.issues[0].month
    # an issue posted once and since withdrawn from the archive, older than the corrected one
    world.ledger.claim("2016-05", SLACK_T.key, 1, 1, "hash", "w" * 25, "digest")
    world.ledger.mark_sent("2016-05", SLACK_T.key, 1, "1600000000.000100")
    updates = plan_updates(_corrected(world.archive), [SLACK_T], world.ledger, SITE, TODAY)
    assert [(u.target.key, u.issue.month) for u in updates] == [(SLACK_T.key, month)]


def test_updates_pass_over_posted_issues_a_changed_topic_filter_no_longer_wants(world: World) -> None:
    newest, older = world.archive.issues[0], world.archive.issues[1]
    world.run([replace(SLACK_T, backfill=2)])
    wanted = next(t for t in newest.articles[0].topics if not any(t in a.topics for a in older.articles))
    narrowed = replace(SLACK_T, topics=(wanted,))
    updates = plan_updates(_corrected(world.archive), [narrowed], world.ledger, SITE, TODAY)
    assert [u.issue.month for u in updates] == [newest.month]


def _uncertain_message(target: Target, month: str, why: str) -> str:
    return (
        f"{target.key}: {month} part 1 of 1 may or may not have been posted ({why}). Look in the channel, then run "
        f"`pprfeed publish --mark-sent {month} --target {target.key}` if it is there, or "
        f"`pprfeed publish --resend {month} --target {target.key}` if it is not"
    )


def test_an_interrupted_webhook_part_is_left_to_a_person_saying_why(world: World) -> None:
    _interrupted_claim(world, SLACK_HOOK)
    (report,) = world.run([SLACK_HOOK])
    why = (
        f"the last run was interrupted while sending; {SLACK_HOOK.key}: Slack incoming webhooks keep no history "
        "pprfeed could search"
    )
    assert report.uncertain == [_uncertain_message(SLACK_HOOK, world.archive.issues[0].month, why)]


def test_a_channel_that_cannot_be_searched_after_an_interrupted_run_leaves_the_part_to_a_person(world: World) -> None:
    _interrupted_claim(world, SLACK_T)
    world.slack.fail(
        lambda m, p: p == "/api/conversations.history", status=500, body={"ok": False, "error": "internal_error"}
    )
    (report,) = world.run([SLACK_T])
    why = (
        f"could not check whether the last run's post arrived ({SLACK_T.key}: Slack answered internal_error (HTTP 500))"
    )
    assert report.uncertain == [_uncertain_message(SLACK_T, world.archive.issues[0].month, why)]


def test_a_search_with_no_answer_after_an_interrupted_run_leaves_the_part_to_a_person(world: World) -> None:
    _interrupted_claim(world, SLACK_T)
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(lambda m, p: p == "/api/conversations.history", delay=0.6)  # within the client's 1 s
    (report,) = world.run([SLACK_T])
    why = "could not check whether the last run's post arrived (no answer within 0.3 s)"
    assert report.uncertain == [_uncertain_message(SLACK_T, world.archive.issues[0].month, why)]


def test_a_look_that_finds_nothing_is_logged_before_the_part_is_sent(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    (delivery,) = plan_deliveries(world.archive, [SLACK_T], world.ledger, SITE, TODAY)
    world.ledger.claim(delivery.issue.month, SLACK_T.key, 1, 1, "hash", "n" * 25)  # crashed before the request left
    with caplog.at_level(logging.INFO, logger="pprfeed.publish.deliver"):
        world.run([SLACK_T])
    assert f"{SLACK_T.key} {delivery.issue.month} part 1: not posted" in caplog.messages


# --- a ledger that cannot record, retries, backoff ----------------------------------------------------------


def test_a_ledger_that_cannot_record_stops_every_target_saying_which_part_may_be_posted(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    world.ledger.close()
    world.ledger = Ledger(path, timeout=0.2)
    world.tuning = replace(FAST, concurrency=1)  # one target after the other
    hold = HoldLedger(path, lambda m, p: p == "/api/chat.postMessage", seconds=1.5)
    world.slack.fail(hold)
    first, second = world.run([SLACK_T, SLACK_T2])
    assert hold.released.wait(5)
    month = world.archive.issues[0].month
    assert first.error == (
        f"{SLACK_T.key}: stopped, the delivery ledger cannot record what is sent; {month} part 1 may have been "
        "posted: the next run looks for it (or asks you) before sending it again"
    )
    assert second.error == f"{SLACK_T2.key}: stopped, the delivery ledger cannot record what is sent"
    assert second.ledger_problem == first.ledger_problem
    assert world.slack.messages[SLACK_OTHER] == []


@pytest.mark.parametrize("answer", [429, 500], ids=["rate-limited", "server-error-not-posted"])
def test_a_ledger_that_cannot_note_a_failed_try_stops_the_target_without_a_part_in_doubt(
    world: World, tmp_path: Path, answer: int
) -> None:
    """Refused, or a 5xx after which a look found nothing: the part is known not to be posted."""
    path = tmp_path / "state.sqlite3"
    world.ledger.close()
    world.ledger = Ledger(path, timeout=0.2)
    hold = HoldLedger(path, lambda m, p: p == "/api/chat.postMessage", seconds=1.0)
    world.slack.fail(hold)
    error = "ratelimited" if answer == 429 else "internal_error"
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage",
        status=answer,
        body={"ok": False, "error": error},
        headers={"Retry-After": "0"},
    )
    (report,) = world.run([SLACK_T])
    assert hold.released.wait(5)
    assert report.error == f"{SLACK_T.key}: stopped, the delivery ledger cannot record what is sent"


def test_a_rate_limit_asking_for_exactly_the_longest_wait_allowed_is_waited_out(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.tuning = replace(FAST, max_retry_after=0.0)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
    )
    with caplog.at_level(logging.WARNING, logger="pprfeed.publish.deliver"):
        (report,) = world.run([SLACK_T])
    assert report.ok, report
    assert caplog.messages == [f"{SLACK_T.key}: rate limited by Slack; waiting 0.00 s as asked"]


def test_while_a_part_is_retried_the_ledger_says_why(world: World, tmp_path: Path) -> None:
    """What `pprfeed status` shows if the run is stopped between two tries."""
    noted: list[str | None] = []

    def peek(method: str, path: str) -> bool:
        if path == "/api/chat.postMessage":
            with Ledger(tmp_path / "state.sqlite3", read_only=True) as ledger:
                noted.append(next((r.last_error for r in ledger.records(SLACK_T.key)), None))
        return False  # never a fault: the request is handled as scripted below

    world.slack.fail(peek)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
    )
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=500, body={"ok": False, "error": "internal_error"}
    )
    (report,) = world.run([SLACK_T])
    assert report.ok, report
    assert noted == [
        None,
        f"{SLACK_T.key}: rate limited by Slack",
        f"{SLACK_T.key}: Slack answered internal_error (HTTP 500)",
    ]


def test_requests_that_never_get_an_answer_fail_the_target_saying_so(world: World) -> None:
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", delay=0.6, status=500, body="late", times=FAST.max_attempts
    )
    (report,) = world.run([SLACK_T])
    assert report.error == (
        f"{SLACK_T.key}: no answer within 0.3 s (gave up for this run after {FAST.max_attempts} tries; "
        "the next run retries)"
    )
    assert report.error_code == ""  # no platform refused anything: nothing for a subscription to pause on


def test_retries_back_off_exponentially_with_jitter(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.tuning = replace(FAST, max_attempts=5, backoff_base=0.01, backoff_max=0.03)
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=500, body={"ok": False, "error": "internal_error"}, times=3
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with caplog.at_level(logging.WARNING, logger="pprfeed.publish.deliver"):
        (report,) = world.execute(plan_deliveries(world.archive, [SLACK_T], world.ledger, SITE, TODAY), sleep=sleep)
    assert report.ok, report
    assert caplog.messages == [
        f"{SLACK_T.key}: Slack answered internal_error (HTTP 500); retrying in {wait:.2f} s" for wait in waits
    ]
    assert len(waits) == 3
    assert 0.005 <= waits[0] <= 0.01
    assert 0.01 <= waits[1] <= 0.02
    assert 0.015 <= waits[2] <= 0.03  # 0.04 capped at backoff_max


def test_delivery_status_lists_each_target_s_own_issues_newest_first(world: World) -> None:
    world.run([replace(SLACK_T, backfill=2), DISCORD_T])
    newest, older = world.archive.issues[0].month, world.archive.issues[1].month
    slack, discord = delivery_status(world.ledger, [SLACK_T, DISCORD_T])
    assert [i.issue for i in slack.issues] == [newest, older]
    assert [i.issue for i in discord.issues] == [newest]


# --- corrections: what `publish --update` edits, posts and leaves ----------------------------------------------


def test_a_correction_over_the_limits_is_refused_before_anything_is_edited(world: World) -> None:
    world.run([SLACK_T])
    (delivery,) = plan_updates(_corrected(world.archive), [SLACK_T], world.ledger, SITE, TODAY)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}
    broken = dict(delivery.payloads[0], blocks=[section], unfurl_links=True)
    assert len(limit_problems(SLACK_T, broken)) > 1  # each named, one after the other
    (report,) = world.execute([], [replace(delivery, payloads=(broken,))])
    assert report.error == (
        f"{SLACK_T.key}: message 1 of issue {delivery.issue.month} exceeds "
        f"{'; '.join(limit_problems(SLACK_T, broken))}: this is a bug in pprfeed, please report it (nothing of this "
        "issue was sent)"
    )
    assert world.slack.posts("chat.update") == []


def test_a_correction_to_a_message_sent_in_two_halves_edits_both(world: World) -> None:
    archive = six_articles(world)
    target = replace(SLACK_T, backfill=1)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    world.slack.max_block_text = slack_chat.message_size(delivery.payloads[0]) - 1
    world.execute([delivery])
    (report,) = world.run([target], archive=_corrected(archive, "2019-01"), update=True)
    assert report.ok, report
    assert report.edited == [("2019-01", 1), ("2019-01", 2)]


def _full_discord(world: World, articles: int) -> tuple[Target, Archive, Delivery]:
    target = replace(DISCORD_T, format="full")
    archive = _long_issue(world.archive, articles)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    return target, archive, delivery


def test_a_correction_edits_the_posted_parts_around_one_in_doubt_and_leaves_that_one(world: World) -> None:
    target, archive, delivery = _full_discord(world, 12)
    month, total = delivery.issue.month, len(delivery.payloads)
    assert total >= 3
    (report,) = world.execute([delivery])
    assert report.ok, report
    world.ledger.mark(month, target.key, 2, "uncertain", "may or may not have been posted")
    updates = plan_updates(_corrected(archive), [target], world.ledger, SITE, TODAY)
    (report,) = world.execute([], updates)
    assert report.edited == [(month, n) for n in range(1, total + 1) if n != 2]
    assert report.sent == []  # part 2 waits for a person, as `status` says
    assert report.recovered == []


def test_a_correction_needing_more_parts_edits_the_old_ones_and_posts_the_rest(world: World) -> None:
    target, archive, delivery = _full_discord(world, 4)
    world.execute([delivery])
    before = len(delivery.payloads)
    longer = _long_issue(world.archive, 12)
    (update,) = plan_updates(longer, [target], world.ledger, SITE, TODAY)
    after = len(update.payloads)
    assert after > before
    (report,) = world.execute([], [update])
    assert report.ok, report
    assert report.sent == [(delivery.issue.month, n) for n in range(before + 1, after + 1)]
    assert len(world.discord.messages[DISCORD_CHANNEL]) == after


def test_a_correction_needing_fewer_parts_says_which_to_delete_by_hand(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    target, archive, delivery = _full_discord(world, 12)
    world.execute([delivery])
    before, month = len(delivery.payloads), delivery.issue.month
    (update,) = plan_updates(_long_issue(world.archive, 4), [target], world.ledger, SITE, TODAY)
    after = len(update.payloads)
    assert after < before
    with caplog.at_level(logging.WARNING, logger="pprfeed.publish.deliver"):
        (report,) = world.execute([], [update])
    assert report.ok, report
    assert caplog.messages == [
        f"{target.key}: {month} part {n} is no longer needed after the correction; delete it by hand"
        for n in range(after + 1, before + 1)
    ]


def test_an_edit_with_no_answer_in_time_is_tried_again(world: World) -> None:
    world.run([SLACK_T])
    world.tuning = replace(FAST, timeout=0.3)
    world.slack.fail(lambda m, p: p == "/api/chat.update", delay=0.6)  # within the client's own 1 s
    (report,) = world.run([SLACK_T], archive=_corrected(world.archive), update=True)
    assert report.ok, report
    assert len(world.slack.posts("chat.update")) == 2


def test_a_split_is_logged_with_slack_s_answer(world: World, caplog: pytest.LogCaptureFixture) -> None:
    archive = six_articles(world)
    (delivery,) = plan_deliveries(archive, [replace(SLACK_T, backfill=1)], world.ledger, SITE, TODAY)
    world.slack.max_block_text = slack_chat.message_size(delivery.payloads[0]) - 1
    with caplog.at_level(logging.WARNING, logger="pprfeed.publish.deliver"):
        world.execute([delivery])
    assert caplog.messages == [
        f"{SLACK_T.key}: 2019-01 part 1 refused ({SLACK_T.key}: Slack refused: msg_blocks_too_long — see "
        "https://api.slack.com/methods for what this error means); sending it as two messages"
    ]


def test_a_webhook_post_answered_with_a_server_error_is_left_to_a_person(world: World) -> None:
    world.slack.fail(lambda m, p: p.startswith("/services/"), status=500, body="oops")
    (report,) = world.run([SLACK_HOOK])
    why = (
        f"the request failed after it may have arrived; {SLACK_HOOK.key}: Slack incoming webhooks keep no history "
        "pprfeed could search"
    )
    assert report.uncertain == [_uncertain_message(SLACK_HOOK, world.archive.issues[0].month, why)]
    assert world.slack.webhooks["practice"] == []
    (record,) = world.ledger.records(SLACK_HOOK.key)
    assert record.state == "uncertain"


def test_a_bug_between_two_tries_marks_the_part_failed_for_the_next_run(world: World) -> None:
    """Refused with a rate limit, so not posted: a bug while waiting leaves nothing in doubt."""
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage",
        status=429,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "0"},
    )

    async def broken_sleep(seconds: float) -> None:
        raise RuntimeError("a bug")

    (report,) = world.execute(plan_deliveries(world.archive, [SLACK_T], world.ledger, SITE, TODAY), sleep=broken_sleep)
    assert report.error == (
        f"{SLACK_T.key}: stopped by an unexpected error (RuntimeError; details in the log) — this is a bug in "
        "pprfeed, please report it; the next run retries"
    )
    (record,) = world.ledger.records(SLACK_T.key)
    assert (record.state, record.last_error) == ("failed", report.error)
    (report,) = world.run([SLACK_T])
    assert report.sent == [(world.archive.issues[0].month, 1)]


@pytest.mark.parametrize("stopped_at", [1, 2], ids=["first-half", "second-half"])
def test_a_half_still_too_long_on_a_later_run_fails_instead_of_splitting_again(world: World, stopped_at: int) -> None:
    archive = six_articles(world)
    target = replace(SLACK_T, backfill=1)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    (payload,) = delivery.payloads
    halves = slack_chat.split_message(payload)
    assert halves is not None
    world.slack.max_block_text = slack_chat.message_size(payload) - 1
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage" and len(world.slack.messages[SLACK_CHANNEL]) == stopped_at - 1,
        status=200,
        body={"ok": False, "error": "not_in_channel"},
    )
    (report,) = world.execute([delivery])
    assert report.sent == [("2019-01", n) for n in range(1, stopped_at)]
    # the next run resumes at the half that was refused, and Slack now refuses it as too long as well
    world.slack.max_block_text = slack_chat.message_size(halves[stopped_at - 1]) - 1
    (report,) = world.run([target], archive=archive)
    assert report.error_code == "msg_blocks_too_long"
    assert len(world.slack.messages[SLACK_CHANNEL]) == stopped_at - 1


def test_a_split_message_interrupted_after_its_first_half_resumes_with_the_second(world: World) -> None:
    archive = six_articles(world)
    target = replace(SLACK_T, backfill=1)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    (payload,) = delivery.payloads
    world.slack.max_block_text = slack_chat.message_size(payload) - 1
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage" and len(world.slack.messages[SLACK_CHANNEL]) == 1,
        status=200,
        body={"ok": False, "error": "not_in_channel"},
    )
    world.execute([delivery])
    (report,) = world.run([target], archive=archive)
    assert report.sent == [("2019-01", 2)]
    shown = [block for message in world.slack.messages[SLACK_CHANNEL] for block in message["blocks"]]
    assert shown == payload["blocks"]


def test_a_second_half_refused_in_the_same_run_fails_instead_of_splitting_again(world: World) -> None:
    archive = six_articles(world)
    (delivery,) = plan_deliveries(archive, [replace(SLACK_T, backfill=1)], world.ledger, SITE, TODAY)
    world.slack.max_block_text = slack_chat.message_size(delivery.payloads[0]) - 1  # the halves fit
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage" and len(world.slack.messages[SLACK_CHANNEL]) == 1,
        status=200,
        body={"ok": False, "error": "msg_blocks_too_long"},
    )
    (report,) = world.execute([delivery])
    assert report.error_code == "msg_blocks_too_long"
    assert report.sent == [("2019-01", 1)]
    assert len(world.slack.posts()) == 3  # the whole message, its first half, its second half


def test_a_reply_refused_as_too_long_is_sent_as_two_replies_in_the_thread(world: World) -> None:
    target = replace(SLACK_T, format="full")
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage" and len(world.slack.messages[SLACK_CHANNEL]) == 1,
        status=200,
        body={"ok": False, "error": "msg_blocks_too_long"},
    )
    (report,) = world.run([target])
    assert report.ok, report
    digest, *replies = world.slack.messages[SLACK_CHANNEL]
    assert len(replies) >= 2
    assert [reply.get("thread_ts") for reply in replies] == [digest["ts"]] * len(replies)


def test_one_slot_per_platform_posts_to_one_channel_at_a_time(world: World) -> None:
    world.tuning = replace(FAST, concurrency=1)
    world.slack.fail(lambda m, p: p == "/api/chat.postMessage", delay=0.3)
    reports = world.run([replace(SLACK_T, backfill=1), replace(SLACK_T2, backfill=1)])
    assert all(report.ok for report in reports), reports
    first, second = world.slack.posts()
    assert second.at >= first.answered


def test_a_platform_without_a_poster_fails_its_targets_and_the_others_carry_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    deliveries = plan_deliveries(world.archive, [SLACK_T, DISCORD_T], world.ledger, SITE, TODAY)

    async def go() -> list[TargetReport]:
        slack = SlackPoster(PlatformSettings("SLACK_BOT_TOKEN", world.slack.base_url), world.secrets, 1.0)
        try:
            return await deliver(deliveries, world.ledger, {"slack": slack}, FAST)
        finally:
            await slack.close()

    reports = {r.target.key: r for r in asyncio.run(go())}
    assert reports[SLACK_T.key].ok
    assert reports[DISCORD_T.key].error == (
        f"{DISCORD_T.key}: stopped by an unexpected error (KeyError; details in the log) — "
        "this is a bug in pprfeed, please report it; the next run retries"
    )
    (logged,) = [r for r in caplog.records if r.getMessage() == f"{DISCORD_T.key}: stopped by an unexpected error"]
    assert logged.exc_info is not None  # with the traceback


def test_a_part_found_posted_after_an_interrupted_run_records_the_posted_text_s_hash(world: World) -> None:
    _interrupted_claim(world, SLACK_T)
    world.ledger.db.execute("UPDATE parts SET payload_hash = 'stale-hash'")  # as claimed before a correction
    world.run([SLACK_T])
    assert plan_updates(world.archive, [SLACK_T], world.ledger, SITE, TODAY) == []  # nothing looks changed


def test_an_interrupted_run_of_several_parts_is_resolved_part_by_part(world: World) -> None:
    target = replace(DISCORD_T, format="full")
    archive = _long_issue(world.archive)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    total = len(delivery.payloads)
    world.execute([delivery])
    world.ledger.db.execute("UPDATE parts SET state = 'claimed', remote_id = NULL, sent_at = NULL")  # forgets all
    (report,) = world.run([target], archive=archive)
    assert report.recovered == [(delivery.issue.month, n) for n in range(1, total + 1)]
    assert len(world.discord.messages[DISCORD_CHANNEL]) == total


def test_a_first_half_found_posted_after_an_interrupted_run_keeps_the_note_that_numbers_the_parts(
    world: World,
) -> None:
    archive = six_articles(world)
    target = replace(SLACK_T, backfill=1)
    (delivery,) = plan_deliveries(archive, [target], world.ledger, SITE, TODAY)
    world.slack.max_block_text = slack_chat.message_size(delivery.payloads[0]) - 1
    world.execute([delivery])
    world.ledger.db.execute("UPDATE parts SET state = 'claimed', remote_id = NULL, sent_at = NULL WHERE part = 1")
    (report,) = world.run([target], archive=archive)
    assert report.recovered == [("2019-01", 1)]
    first, _ = world.ledger.records(target.key)
    assert first.last_error == "split in two: Slack answered msg_blocks_too_long"
    assert plan_updates(archive, [target], world.ledger, SITE, TODAY) == []


def test_a_preview_after_the_first_reply_was_split_keeps_both_halves_in_the_thread(world: World) -> None:
    target, delivery = _full_slack_delivery(world)
    month, total = delivery.issue.month, len(delivery.payloads)
    world.ledger.claim(month, target.key, 1, total, "hash", "a" * 25, "full-thread")
    world.ledger.mark_sent(month, target.key, 1, "1700000000.000100")
    world.ledger.claim(month, target.key, 2, total, "hash", "b" * 25, "full-thread")
    world.ledger.mark(month, target.key, 2, "failed", "split in two: Slack answered msg_blocks_too_long")
    refs = preview_refs(delivery, world.ledger)
    assert [ref.part for _, ref in refs] == list(range(2, total + 2))  # the reply's two halves, then the rest
    assert {ref.thread for _, ref in refs} == {"1700000000.000100"}


def test_a_preview_after_the_digest_was_split_threads_the_replies_after_both_halves(world: World) -> None:
    target, delivery = _full_slack_delivery(world)
    month, total = delivery.issue.month, len(delivery.payloads)
    world.ledger.claim(month, target.key, 1, total, "hash", "a" * 25, "full-thread")
    world.ledger.mark(month, target.key, 1, "failed", "split in two: Slack answered msg_blocks_too_long")
    refs = preview_refs(delivery, world.ledger)
    assert [ref.thread for _, ref in refs] == [None, None] + ["<ts of part 1>"] * (total - 1)


def test_a_full_thread_rendering_is_for_its_target_and_the_articles_it_wants(archive: Archive) -> None:
    issue = archive.issues[0]
    wanted = issue.articles[0].topics[0]
    target = Target("slack", "channel", SLACK_CHANNEL, topics=(wanted,), format="full")
    delivery = render_delivery(target, issue, archive, SITE)
    assert delivery is not None
    assert (delivery.target, delivery.layout) == (target, "full-thread")
    assert delivery.articles == tuple(a for a in issue.articles if wanted in a.topics)


def test_a_format_no_pprfeed_knows_in_the_ledger_is_a_bug_named_with_its_target(archive: Archive) -> None:
    issue = archive.issues[0]
    with pytest.raises(ValueError) as raised:
        render_delivery(SLACK_T, issue, archive, SITE, "poster")
    assert str(raised.value) == f"{SLACK_T.key}: issue {issue.month} is recorded in an unknown format 'poster'"


def test_a_half_delivered_issue_resumes_in_the_format_it_was_begun_in(world: World) -> None:
    target, archive, delivery = _full_discord(world, 12)
    month, total = delivery.issue.month, len(delivery.payloads)
    world.ledger.claim(month, target.key, 1, total, "hash", "a" * 25, "full")
    world.ledger.mark_sent(month, target.key, 1, "300000000000000001")
    # the channel is now set to digests: the issue already begun is finished as it was begun
    (resumed,) = plan_deliveries(archive, [DISCORD_T], world.ledger, SITE, TODAY)
    assert (resumed.layout, len(resumed.payloads)) == ("full", total)


def test_targets_of_one_platform_with_different_topic_filters_each_get_their_own_articles(world: World) -> None:
    archive = six_articles(world)
    articles = archive.issues[0].articles
    first = articles[0].topics[0]
    second = next(t for a in articles if first not in a.topics for t in a.topics if t not in articles[0].topics)
    targets = [replace(SLACK_T, topics=(first,), backfill=1), replace(SLACK_T2, topics=(second,), backfill=1)]
    deliveries = plan_deliveries(archive, targets, world.ledger, SITE, TODAY)
    assert [[a.id for a in d.articles] for d in deliveries] == [
        [a.id for a in articles if first in a.topics],
        [a.id for a in articles if second in a.topics],
    ]


def test_a_look_that_fails_after_this_run_s_request_leaves_the_part_to_a_person(world: World) -> None:
    world.slack.fail(
        lambda m, p: p == "/api/chat.postMessage", status=500, body={"ok": False, "error": "internal_error"}
    )
    world.slack.fail(
        lambda m, p: p == "/api/conversations.history", status=500, body={"ok": False, "error": "internal_error"}
    )
    (report,) = world.run([SLACK_T])
    why = f"could not check whether the post arrived ({SLACK_T.key}: Slack answered internal_error (HTTP 500))"
    assert report.uncertain == [_uncertain_message(SLACK_T, world.archive.issues[0].month, why)]


def test_an_edit_that_fails_names_the_part_of_a_long_issue(world: World) -> None:
    target, archive, delivery = _full_discord(world, 12)
    assert len(delivery.payloads) >= 3
    world.execute([delivery])
    world.discord.fail(lambda m, p: m == "PATCH", status=403, body={"message": "Missing Permissions", "code": 50013})
    (report,) = world.execute([], plan_updates(_corrected(archive), [target], world.ledger, SITE, TODAY))
    assert (report.error or "").startswith(f"editing {delivery.issue.month} part 1: ")
