"""Which deliveries are due, and carrying them out exactly once.

`plan_deliveries` decides what each target should get (published, matching its
topic filter, not yet delivered; a new target only its `backfill` newest
issues). `deliver` carries the plan out: targets concurrently (bounded), parts
of one target in order, each part claimed in the ledger before it is sent.
A claim left behind by a crash is resolved by looking for the message on the
platform; where that is impossible the part becomes "uncertain" for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import ModuleType
from typing import Any, NoReturn, TypeVar

from pprfeed.config import SiteSettings
from pprfeed.model import Archive, Article, Issue
from pprfeed.publish.base import CannotTell, DeliveryError, PartRef, PermanentError, Poster, RateLimited, TransientError
from pprfeed.publish.ledger import DEFAULT_TIMEOUT, SPLIT_NOTE, Ledger, LedgerError, PartRecord, now
from pprfeed.publish.targets import Target

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Tuning:
    """How hard to try. Tests shrink the waits; the defaults suit cron."""

    concurrency: int = 16
    """Targets delivered at the same time, per platform."""
    timeout: float = 30.0
    """Seconds one request may take before it counts as lost in transit."""
    max_attempts: int = 5
    """Tries per part for timeouts, 5xx and dropped connections (rate limits are waited out separately)."""
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_rate_limit_waits: int = 20
    max_retry_after: float = 900.0
    """A Retry-After longer than this fails the target for now; the next run tries again."""
    ledger_timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait for another program's write on the ledger before the run stops."""


LAYOUTS = ("digest", "full", "full-thread")
"""How a delivery is laid out, as the ledger records it: the digest alone; the full text in parts one after
another (webhooks, Discord, and every post made before digests existed); the digest with the full text as
thread replies under it (Slack bot channels)."""
SPLIT_CODES = ("msg_blocks_too_long", "invalid_blocks")
"""Slack's answers to a message whose blocks hold too much: not posted, so its halves may be sent instead."""


@dataclass(frozen=True)
class Delivery:
    """One issue for one target, rendered: payloads[k] is part k+1."""

    target: Target
    issue: Issue
    articles: tuple[Article, ...]
    payloads: tuple[dict[str, Any], ...]
    layout: str = "digest"
    """One of LAYOUTS: the target's `format` for a new post, the recorded one for a post already begun."""
    replies_from: int | None = None
    """With "full-thread": the first part posted as a reply in the thread of part 1."""


@dataclass
class TargetReport:
    target: Target
    sent: list[tuple[str, int]] = field(default_factory=list)
    """(issue, part) posted in this run."""
    recovered: list[tuple[str, int]] = field(default_factory=list)
    """(issue, part) found already posted after an interrupted run."""
    edited: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None
    """Why this target stopped (permanent error, retries exhausted)."""
    error_code: str = ""
    """The platform's error code when it refused a post (e.g. not_in_channel), so a subscription can pause."""
    uncertain: list[str] = field(default_factory=list)
    ledger_problem: str | None = None
    """Why the ledger could not record this target's deliveries (the same for every target it stopped)."""
    in_flight: PartRef | None = field(default=None, repr=False)
    """The part claimed and not yet recorded as sent, failed or uncertain."""
    maybe_posted: bool = field(default=False, repr=False)
    """`in_flight` may be on the platform: a request for it is out, or was accepted (or lost after it left)
    and the ledger does not say so yet. Such a part is never recorded as failed."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.uncertain


class _TargetStopped(Exception):
    pass


class _GiveUp(Exception):
    """Trying again in this run would not help; the message says why and what happens next."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code
        """The platform's error code, when it refused the request."""


# --- rendering and planning -------------------------------------------------------


def _chat(platform: str) -> ModuleType:
    """chat/slack.py or chat/discord.py, imported when a target needs it: a Slack-only setup never loads discord.py."""
    if platform == "slack":
        from pprfeed.chat import slack

        return slack
    from pprfeed.chat import discord

    return discord


def layout_for(target: Target) -> str:
    """The layout a new post to `target` gets: threads exist only where a bot posts into a Slack channel."""
    if target.format != "full":
        return "digest"
    return "full-thread" if target.platform == "slack" and target.kind == "channel" else "full"


def render_delivery(
    target: Target, issue: Issue, archive: Archive, site: SiteSettings, layout: str | None = None
) -> Delivery | None:
    """The issue as `target` gets it (only the articles its topic filter wants), or None if none match;
    in `layout`, by default the target's."""
    articles = tuple(article for article in issue.articles if target.wants(article.topics))
    if not articles:
        return None
    layout = layout or layout_for(target)
    if layout not in LAYOUTS:
        raise ValueError(f"{target.key}: issue {issue.month} is recorded in an unknown format {layout!r}")
    names = {topic.slug: topic.name for topic in archive.topics}
    chat = _chat(target.platform)
    if layout == "full-thread":
        digest = chat.issue_messages(issue, articles, names, site, "digest")
        full = chat.issue_messages(issue, articles, names, site, "full")
        return Delivery(target, issue, articles, tuple(digest + full), layout, replies_from=len(digest) + 1)
    payloads = chat.issue_messages(issue, articles, names, site, layout)
    return Delivery(target, issue, articles, tuple(payloads), layout)


def split_payload(target: Target, payload: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A refused Slack message as two, or None when it cannot be split (or the platform is not Slack)."""
    if target.platform != "slack":
        return None
    from pprfeed.chat.slack import split_message

    return split_message(payload)


def sent_payloads(
    target: Target, payloads: Sequence[dict[str, Any]], records: Mapping[int, PartRecord]
) -> list[dict[str, Any]]:
    """The payloads as their parts are numbered in the ledger: a message Slack refused as too long was sent
    as two halves (its first part's note says so), and every later part is one further on."""
    laid_out: list[dict[str, Any]] = []
    for payload in payloads:
        record = records.get(len(laid_out) + 1)
        halves = split_payload(target, payload) if record and (record.last_error or "").startswith(SPLIT_NOTE) else None
        laid_out += halves or [payload]
    return laid_out


def limit_problems(target: Target, payload: dict[str, Any]) -> list[str]:
    """Every limit of the target's platform that `payload` breaks."""
    return _chat(target.platform).post_problems(payload)


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def make_nonce(target: str, issue: str, part: int) -> str:
    """Fixed when a part is first claimed and reused for every retry: Discord allows 25 characters."""
    seed = f"{target}|{issue}|{part}|{now()}|{random.random()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:25]


def marker(target: Target, payload: dict[str, Any]) -> str:
    """The line that identifies a part's message when searching a Discord channel."""
    return str(payload.get("content") or "").split("\n", 1)[0] if target.platform == "discord" else ""


def _replies_from(delivery: Delivery, records: Mapping[int, PartRecord]) -> int | None:
    """The first reply's part number once split messages are counted as the two parts they were sent as."""
    first = delivery.replies_from
    if first is None:
        return None
    for number in sorted(records):
        if number < first and (records[number].last_error or "").startswith(SPLIT_NOTE):
            first += 1
    return first


def preview_refs(delivery: Delivery, ledger: Ledger) -> list[tuple[dict[str, Any], PartRef]]:
    """Each part a run would send now, with the reference it would carry: the nonce the ledger holds for a part
    already claimed, else one made now (a real run fixes its own when it claims the part); a reply's thread is
    the recorded id of part 1, or `<ts of part 1>` until that is posted."""
    target, month = delivery.target, delivery.issue.month
    records = ledger.parts(month, target.key)
    payloads = sent_payloads(target, delivery.payloads, records)
    parent = records[1].remote_id if 1 in records and records[1].remote_id else "<ts of part 1>"
    replies_from = _replies_from(delivery, records)
    refs = []
    for number, payload in enumerate(payloads, start=1):
        record = records.get(number)
        if record is not None and record.state == "sent":
            continue
        thread = parent if replies_from is not None and number >= replies_from else None
        nonce = record.nonce if record else make_nonce(target.key, month, number)
        refs.append((payload, PartRef(month, number, len(payloads), nonce, marker(target, payload), thread)))
    return refs


def plan_deliveries(
    archive: Archive,
    targets: Sequence[Target],
    ledger: Ledger,
    site: SiteSettings,
    today: date,
    *,
    record_new_targets: bool = True,
) -> list[Delivery]:
    """Every due delivery, oldest issue first within each target.

    A target seen for the first time gets only its `backfill` newest matching
    issues; the older ones are recorded as skipped so they are never sent later.
    """
    published = archive.published(today)
    known = ledger.known_targets()
    due: list[Delivery] = []
    render = _Renders(archive, site)
    for target in targets:
        # only the issues still due are rendered: a cron run over a long archive renders one issue, not all
        matching = [issue for issue in published.issues if any(target.wants(a.topics) for a in issue.articles)]
        if target.key not in known:
            keep = {issue.month for issue in matching[: target.backfill]}
            skipped = {issue.month for issue in published.issues} - keep
            if record_new_targets:
                ledger.add_target(target.key, sorted(skipped))
        else:
            skipped = ledger.skipped(target.key)
        delivered = ledger.delivered(target.key)
        begun = ledger.formats(target.key)  # a half-delivered issue resumes in the layout it was begun in
        for issue in reversed(matching):  # oldest first
            if issue.month not in skipped and issue.month not in delivered:
                delivery = render(target, issue, begun.get(issue.month))
                if delivery is not None:
                    due.append(delivery)
    return due


class _Renders:
    """`render_delivery`, once per platform, layout, issue and choice of articles: a hundred channels of one
    platform without topic filters get the same payloads, rendered once."""

    def __init__(self, archive: Archive, site: SiteSettings) -> None:
        self.archive = archive
        self.site = site
        self.made: dict[tuple[str, str, str, tuple[str, ...]], Delivery | None] = {}
        self.hashes: dict[int, str] = {}
        self.owned: set[int] = set()

    def __call__(self, target: Target, issue: Issue, layout: str | None = None) -> Delivery | None:
        layout = layout or layout_for(target)
        chosen = tuple(article.id for article in issue.articles if target.wants(article.topics))
        key = (target.platform, layout, issue.month, chosen)
        if key not in self.made:
            self.made[key] = render_delivery(target, issue, self.archive, self.site, layout)
            self.owned.update(id(payload) for payload in getattr(self.made[key], "payloads", ()))
        made = self.made[key]
        return None if made is None else replace(made, target=target)

    def hash(self, payload: dict[str, Any]) -> str:
        """`payload_hash`, once per payload made here (the targets that share a rendering share its payloads)."""
        found = self.hashes.get(id(payload))
        if found is None:
            found = payload_hash(payload)
            if id(payload) in self.owned:  # kept alive by self.made, so its id is never reused
                self.hashes[id(payload)] = found
        return found


def plan_resend(
    archive: Archive,
    target: Target,
    month: str,
    ledger: Ledger,
    site: SiteSettings,
    today: date,
    *,
    all_parts: bool = False,
) -> Delivery:
    """One issue for one target: the parts not known to be posted are sent — failed and uncertain ones without
    looking first (a person looked), interrupted ones after looking, as every run does; parts recorded as sent
    stay sent. With `all_parts`, the whole issue is posted again (a correction a webhook cannot edit, a deleted
    message)."""
    issue = next((i for i in archive.published(today).issues if i.month == month), None)
    if issue is None:
        raise ValueError(f"no published issue {month}")
    delivery = render_delivery(target, issue, archive, site)
    if delivery is None:
        raise ValueError(f"issue {month} has no article matching {target.key}'s topic filter")
    records = ledger.parts(month, target.key)
    posted = {number for number, record in records.items() if record.state == "sent"}
    if not all_parts and posted >= set(range(1, len(delivery.payloads) + 1)):
        raise ValueError(
            f"every part of {month} is recorded as posted to {target.key}: nothing to resend. To post the whole "
            "issue again (a correction a webhook cannot edit, a deleted message), add --all-parts"
        )
    ledger.forget(month, target.key, sent_too=all_parts)
    return delivery


def plan_updates(
    archive: Archive, targets: Sequence[Target], ledger: Ledger, site: SiteSettings, today: date
) -> list[Delivery]:
    """Issues already (partly) posted whose rendered text changed since: `publish --update` edits them."""
    issues = {issue.month: issue for issue in archive.published(today).issues}
    render = _Renders(archive, site)
    changed = []
    for target in targets:
        by_issue: dict[str, list[PartRecord]] = {}
        for record in ledger.records(target.key):
            by_issue.setdefault(record.issue, []).append(record)
        for month, records in sorted(by_issue.items()):
            issue = issues.get(month)
            sent = [r for r in records if r.state == "sent"]
            if issue is None or not sent:
                continue
            # an edit keeps the post's own layout: a digest is never rewritten into the full text, nor back
            delivery = render(target, issue, records[0].format)
            if delivery is None:
                continue
            numbered = {record.part: record for record in records}
            hashes = [render.hash(p) for p in sent_payloads(target, delivery.payloads, numbered)]
            stale = any(r.part > len(hashes) or hashes[r.part - 1] != r.payload_hash for r in sent)
            if stale or len(hashes) > max(r.parts for r in records):
                changed.append(delivery)
    return changed


# --- carrying it out ---------------------------------------------------------------


async def deliver(
    deliveries: Sequence[Delivery],
    ledger: Ledger,
    posters: Mapping[str, Poster],
    tuning: Tuning = Tuning(),
    *,
    updates: Sequence[Delivery] = (),
    sleep: Sleep = asyncio.sleep,
) -> list[TargetReport]:
    """Carry out `updates` (edits in place) then `deliveries`; one report per target involved."""
    by_target: dict[str, tuple[Target, list[Delivery], list[Delivery]]] = {}
    for delivery in updates:
        by_target.setdefault(delivery.target.key, (delivery.target, [], []))[1].append(delivery)
    for delivery in deliveries:
        by_target.setdefault(delivery.target.key, (delivery.target, [], []))[2].append(delivery)
    # a gate per platform: targets waiting out one platform's rate limit never hold up the other's
    gates = {platform: asyncio.Semaphore(max(1, tuning.concurrency)) for platform in ("slack", "discord")}
    runner = _Runner(ledger, posters, tuning, sleep)

    async def one(target: Target, edits: list[Delivery], posts: list[Delivery]) -> TargetReport:
        async with gates[target.platform]:
            return await runner.target(target, edits, posts)

    entries = list(by_target.values())
    # one target's trouble must never cancel the others: each outcome is collected, exceptions included
    outcomes = await asyncio.gather(*(one(*entry) for entry in entries), return_exceptions=True)
    reports = []
    for (target, _, _), outcome in zip(entries, outcomes, strict=True):
        if isinstance(outcome, TargetReport):
            reports.append(outcome)
        else:
            if isinstance(outcome, Exception):
                log.error("%s: stopped by an unexpected error", target.key, exc_info=outcome)
            reports.append(TargetReport(target, error=_unexpected(target, outcome)))
    return reports


def _unexpected(target: Target, exc: BaseException) -> str:
    return (
        f"{target.key}: stopped by an unexpected error ({type(exc).__name__}; details in the log) — "
        "this is a bug in pprfeed, please report it; the next run retries"
    )


class _Runner:
    def __init__(self, ledger: Ledger, posters: Mapping[str, Poster], tuning: Tuning, sleep: Sleep) -> None:
        self.ledger = ledger
        self.posters = posters
        self.tuning = tuning
        self.sleep = sleep
        self.ledger_problem: str | None = None
        """Set when the ledger could not be written: every target stops before its next claim."""

    async def target(self, target: Target, edits: list[Delivery], posts: list[Delivery]) -> TargetReport:
        report = TargetReport(target)
        poster = self.posters[target.platform]
        try:
            try:
                for delivery in edits:
                    await self._update(poster, delivery, report)
                for delivery in posts:
                    await self._post_issue(poster, delivery, report)
            except (_TargetStopped, LedgerError):
                raise
            except Exception as exc:
                # a bug or an exception an adapter did not map: this target stops, the others carry on
                log.exception("%s: stopped by an unexpected error", target.key)
                ref = report.in_flight
                report.error = _unexpected(target, exc)
                if ref is not None and report.maybe_posted:
                    with contextlib.suppress(_TargetStopped):  # it may have arrived: a person (or a look) decides
                        self._uncertain(target, ref, f"the request broke with {type(exc).__name__}", report)
                elif ref is not None:  # no request of this part can have arrived: the next run sends it
                    self.ledger.mark(ref.issue, target.key, ref.part, "failed", report.error)
                    report.in_flight = None
        except _TargetStopped:
            pass
        except LedgerError as exc:
            # nothing is marked: what is on disk (a claim at worst) is resolved by looking on the next run
            self.ledger_problem = self.ledger_problem or str(exc)
            self._stopped_by_ledger(report)
        return report

    def _stopped_by_ledger(self, report: TargetReport) -> None:
        report.ledger_problem = self.ledger_problem
        ref = report.in_flight
        stopped = f"{report.target.key}: stopped, the delivery ledger cannot record what is sent"
        if ref is not None and report.maybe_posted:
            stopped += (
                f"; {ref.issue} part {ref.part} may have been posted: the next run looks for it (or asks you) "
                "before sending it again"
            )
        report.error = report.error or stopped
        report.in_flight = None

    def _check_ledger(self, report: TargetReport) -> None:
        """Another target found the ledger unwritable: claim nothing more."""
        if self.ledger_problem is not None:
            self._stopped_by_ledger(report)
            raise _TargetStopped

    def _check_limits(self, delivery: Delivery, report: TargetReport) -> None:
        """Refuse, before anything is claimed or sent, a payload the platform would reject."""
        for number, payload in enumerate(delivery.payloads, start=1):
            problems = limit_problems(delivery.target, payload)
            if problems:
                report.error = (
                    f"{delivery.target.key}: message {number} of issue {delivery.issue.month} exceeds "
                    f"{'; '.join(problems)}: this is a bug in pprfeed, please report it (nothing of this issue "
                    "was sent)"
                )
                raise _TargetStopped

    async def _post_issue(self, poster: Poster, delivery: Delivery, report: TargetReport) -> None:
        self._check_limits(delivery, report)
        target, month = delivery.target, delivery.issue.month
        records = self.ledger.parts(month, target.key)
        payloads = sent_payloads(target, delivery.payloads, records)
        halves_at = {n + k for n, r in records.items() if (r.last_error or "").startswith(SPLIT_NOTE) for k in (0, 1)}
        replies_from = _replies_from(delivery, records)
        number = 0
        while number < len(payloads):
            number += 1
            payload = payloads[number - 1]
            record = records.get(number)
            if record is not None and record.state == "sent":
                continue  # a half-delivered issue resumes where it stopped
            self._check_ledger(report)
            total = len(payloads)
            thread = None
            if replies_from is not None and number >= replies_from:
                thread = self.ledger.parts(month, target.key)[1].remote_id
            ref = PartRef(
                month,
                number,
                total,
                record.nonce if record else make_nonce(target.key, month, number),
                marker(target, payload),
                thread,
            )
            note = record.last_error if record and (record.last_error or "").startswith(SPLIT_NOTE) else None
            if record is not None and record.state in ("claimed", "uncertain"):
                # the last run may have posted this part: look before sending it again
                found = await self._resolve(poster, target, ref, record, report)
                if found is not None:
                    self.ledger.mark_sent(month, target.key, number, found or None, payload_hash(payload), note)
                    report.recovered.append((month, number))
                    continue
            self.ledger.claim(month, target.key, number, total, payload_hash(payload), ref.nonce, delivery.layout, note)
            report.in_flight = ref
            halves = await self._send(poster, target, payload, ref, report, note, number not in halves_at)
            report.in_flight = None
            if halves is not None:  # refused as too long, so not posted: its halves take its place
                payloads[number - 1 : number] = halves
                halves_at |= {number, number + 1}
                if replies_from is not None and number < replies_from:
                    replies_from += 1
                records = self.ledger.parts(month, target.key)
                number -= 1

    async def _resolve(
        self,
        poster: Poster,
        target: Target,
        ref: PartRef,
        record: PartRecord,
        report: TargetReport,
        retrying: bool = False,
    ) -> str | None:
        """The part's remote id ('' if posted but without one) if it arrived, None if it is safe to send.
        `retrying`: the look is this run's, after a request that may have arrived (not the last run's claim)."""
        try:
            found = await asyncio.wait_for(poster.find(target, ref, record.claimed_epoch), self.tuning.timeout)
        except CannotTell as exc:
            doubt = (
                "the request failed after it may have arrived"
                if retrying
                else "the last run was interrupted while sending"
            )
            self._uncertain(target, ref, f"{doubt}; {exc}", report)
        except (TimeoutError, DeliveryError) as exc:
            # a timeout says nothing itself (its text is empty): say how long the look was given
            why = str(exc) or f"no answer within {self.tuning.timeout:g} s"
            post = "the post" if retrying else "the last run's post"
            self._uncertain(target, ref, f"could not check whether {post} arrived ({why})", report)
        log.info("%s %s part %d: %s", target.key, ref.issue, ref.part, "found posted" if found else "not posted")
        return found

    def _uncertain(self, target: Target, ref: PartRef, why: str, report: TargetReport) -> NoReturn:
        message = (
            f"{target.key}: {ref.issue} part {ref.part} of {ref.parts} may or may not have been posted ({why}). "
            f"Look in the channel, then run `pprfeed publish --mark-sent {ref.issue} --target {target.key}` if it is "
            f"there, or `pprfeed publish --resend {ref.issue} --target {target.key}` if it is not"
        )
        self.ledger.mark(ref.issue, target.key, ref.part, "uncertain", message)
        report.uncertain.append(message)
        report.in_flight, report.maybe_posted = None, False
        raise _TargetStopped

    def _fail(self, target: Target, ref: PartRef, message: str, report: TargetReport) -> NoReturn:
        self.ledger.mark(ref.issue, target.key, ref.part, "failed", message)
        report.error = message
        report.in_flight, report.maybe_posted = None, False
        raise _TargetStopped

    async def _retrying(
        self,
        target: Target,
        attempt: Callable[[], Awaitable[T]],
        *,
        arrived: Callable[[], Awaitable[T | None]] | None = None,
        note: Callable[[str], None] = lambda error: None,
    ) -> T:
        """`attempt()` until it succeeds, for posts and edits alike; raises _GiveUp (saying why) to stop this run.

        A rate limit is waited out as asked, up to the caps; a timeout, 5xx or dropped connection is retried with
        exponential backoff and jitter, up to `max_attempts` tries, and when the request may have reached the
        platform `arrived()` looks first (a result other than None is the answer). `note` records each error.

        discord.py's HTTP client retries some 5xx and waits out 429s by itself, but only for bot requests (its
        repeats carry the part's nonce, which Discord dedupes); Slack's SDK retries are off and webhook posts are
        plain requests, and only this loop looks for a message before sending it again.
        """
        attempts = waits = 0
        while True:
            try:
                return await attempt()
            except RateLimited as exc:
                waits += 1
                if waits > self.tuning.max_rate_limit_waits or exc.retry_after > self.tuning.max_retry_after:
                    raise _GiveUp(f"{exc}; asked to wait {exc.retry_after:g} s — the next run retries") from None
                log.warning("%s; waiting %.2f s as asked", exc, exc.retry_after)
                note(str(exc))
                await self.sleep(exc.retry_after)
                continue
            except PermanentError as exc:
                raise _GiveUp(str(exc), exc.code) from None
            except TimeoutError:
                error = TransientError(f"{target.key}: no answer within {self.tuning.timeout:g} s", maybe_sent=True)
            except TransientError as exc:
                error = exc
            if arrived is not None and error.maybe_sent:
                found = await arrived()
                if found is not None:
                    return found
            attempts += 1
            if attempts >= self.tuning.max_attempts:
                raise _GiveUp(f"{error} (gave up for this run after {attempts} tries; the next run retries)")
            note(str(error))
            delay = min(self.tuning.backoff_max, self.tuning.backoff_base * 2 ** (attempts - 1))
            delay *= 0.5 + random.random() / 2
            log.warning("%s; retrying in %.2f s", error, delay)
            await self.sleep(delay)

    async def _send(
        self,
        poster: Poster,
        target: Target,
        payload: dict[str, Any],
        ref: PartRef,
        report: TargetReport,
        note: str | None = None,
        can_split: bool = False,
    ) -> list[dict[str, Any]] | None:
        """Post one part and record it sent (keeping `note`); or, when Slack refused it as too long (so it was
        not posted) and `can_split`, record why and return its two halves to send in its place. A half is never
        split again: if Slack refuses it too, the target fails with Slack's answer."""

        async def post() -> str:
            report.maybe_posted = True
            try:
                remote_id = await asyncio.wait_for(poster.post(target, payload, ref), self.tuning.timeout)
            except TransientError as exc:
                report.maybe_posted = exc.maybe_sent
                raise
            except DeliveryError:  # refused or rate limited: not posted
                report.maybe_posted = False
                raise
            # accepted (or anything unexpected): `maybe_posted` stays set until the ledger records the answer
            return remote_id or ""

        async def arrived() -> str | None:
            # the request may have arrived: look before sending it again
            record = self.ledger.parts(ref.issue, target.key)[ref.part]
            found = await self._resolve(poster, target, ref, record, report, retrying=True)
            report.maybe_posted = found is not None
            return found

        def note_error(error: str) -> None:
            self.ledger.note_error(ref.issue, target.key, ref.part, error)

        try:
            remote_id = await self._retrying(target, post, arrived=arrived, note=note_error)
        except _GiveUp as exc:
            halves = split_payload(target, payload) if exc.code in SPLIT_CODES and can_split else None
            if halves is None:
                report.error_code = exc.code
                self._fail(target, ref, str(exc), report)
            log.warning("%s: %s part %d refused (%s); sending it as two messages", target.key, ref.issue, ref.part, exc)
            # not posted; the note, which the first half keeps, is how every later run numbers the issue's parts
            self.ledger.mark(ref.issue, target.key, ref.part, "failed", f"{SPLIT_NOTE}: Slack answered {exc.code}")
            return halves
        self.ledger.mark_sent(ref.issue, target.key, ref.part, remote_id or None, payload_hash(payload), note)
        report.in_flight, report.maybe_posted = None, False
        report.sent.append((ref.issue, ref.part))
        return None

    async def _update(self, poster: Poster, delivery: Delivery, report: TargetReport) -> None:
        """Edit changed parts in place; parts the new text needs beyond the old ones are posted."""
        self._check_limits(delivery, report)
        target, month = delivery.target, delivery.issue.month
        records = self.ledger.parts(month, target.key)
        payloads = sent_payloads(target, delivery.payloads, records)
        total = len(payloads)
        for number, payload in enumerate(payloads, start=1):
            record = records.get(number)
            if record is None or record.state != "sent":
                continue
            digest = payload_hash(payload)
            if digest == record.payload_hash:
                continue
            if record.remote_id is None:
                # the part stays recorded as sent: it is in the channel, only not editable
                report.error = (
                    f"{target.key}: {month} part {number} cannot be edited (the platform gave no message id); "
                    f"use `pprfeed publish --resend {month} --target {target.key} --all-parts` to post the "
                    "corrected issue"
                )
                raise _TargetStopped
            ref = PartRef(month, number, total, record.nonce, marker(target, payload))
            await self._edit(poster, target, record.remote_id, payload, ref, report)
            self.ledger.record_update(month, target.key, number, digest)
            report.edited.append((month, number))
        for extra in records:
            if extra > total and records[extra].state == "sent":
                log.warning(
                    "%s: %s part %d is no longer needed after the correction; delete it by hand",
                    target.key,
                    month,
                    extra,
                )
        if total > len(records):
            await self._post_issue(poster, delivery, report)

    async def _edit(
        self,
        poster: Poster,
        target: Target,
        remote_id: str,
        payload: dict[str, Any],
        ref: PartRef,
        report: TargetReport,
    ) -> None:
        async def edit() -> None:
            await asyncio.wait_for(poster.edit(target, remote_id, payload, ref), self.tuning.timeout)

        try:
            await self._retrying(target, edit)  # an edit is idempotent: repeating it is always safe
        except _GiveUp as exc:
            report.error = f"editing {ref.issue} part {ref.part}: {exc}"
            raise _TargetStopped from None


# --- status ------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueStatus:
    issue: str
    parts: tuple[PartRecord, ...]

    @property
    def state(self) -> str:
        states = {part.state for part in self.parts}
        expected = max(part.parts for part in self.parts)
        if states == {"sent"} and len(self.parts) >= expected:
            return "sent"
        for state in ("uncertain", "claimed", "failed"):
            if state in states:
                return state
        return "partly sent"


@dataclass(frozen=True)
class TargetStatus:
    key: str
    configured: bool
    added_at: str | None
    skipped: int
    issues: tuple[IssueStatus, ...]


def delivery_status(ledger: Ledger, targets: Sequence[Target]) -> list[TargetStatus]:
    """Per target (configured or only in the ledger): each issue's parts and what happened to them."""
    keys = [target.key for target in targets]
    keys += sorted({record.target for record in ledger.records()} - set(keys))
    statuses = []
    for key in keys:
        by_issue: dict[str, list[PartRecord]] = {}
        for record in ledger.records(key):
            by_issue.setdefault(record.issue, []).append(record)
        statuses.append(
            TargetStatus(
                key=key,
                configured=key in {t.key for t in targets},
                added_at=ledger.added_at(key),
                skipped=len(ledger.skipped(key)),
                issues=tuple(
                    IssueStatus(month, tuple(parts)) for month, parts in sorted(by_issue.items(), reverse=True)
                ),
            )
        )
    return statuses
