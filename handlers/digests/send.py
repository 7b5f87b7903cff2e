"""Building, storing and delivering digests: once per coach and occasion.

An occasion names why a digest is sent and for which team (`session:<utc>:t<team>`,
`weekly:<utc>:t<team>`, `demand:<utc hour>:t<team>:r<latest closed round>`). The
digest row (unique per coach and occasion) and its outbox message (dedupe key
`digest:<occasion>:<coach>`) are written in one transaction, so sending the same
occasion twice — a dispatcher retry, a double click, the CLI run twice — builds
nothing new and delivers one copy.

The summary never blocks delivery: with no LLM configured, or when it fails, times out
or answers something unusable, the deterministic fallback is used and the digest says so.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core.events import Refused
from bot.core.metrics import LLM_FALLBACKS
from handlers.context import Services
from handlers.digests.build import TeamPart, build_team_part
from handlers.digests.content import DigestContent, FollowLine, Reason, Signal, SummaryPart
from handlers.digests.fallback import THEMES_FROM, fallback_summary, themes
from handlers.digests.signals import signals
from handlers.digests.summarizer import (
    Summarizer,
    SummaryFailed,
    SummaryOutput,
    SummaryRequest,
    SummarySkipped,
    clean_output,
)
from handlers.digests.view import chart_url, digest_message
from prompts.texts import text
from scheduler.calendar.localtime import next_allowed
from scheduler.calendar.people import availability, person_timezone
from storage.core import directory, outbox
from storage.core.models import Role
from storage.digests import queries as digests
from storage.digests.models import Digest

log = logging.getLogger(__name__)
KIND = "digest"
# A pre-session digest may wait for the coach's working hours, but not this close to
# the session: then it goes at once.
LATEST_BEFORE_SESSION = timedelta(hours=2)


@dataclass(frozen=True)
class DigestOptions:
    summarizer: Summarizer | None = None
    public_url: str = ""


def configured(services: Services) -> DigestOptions:
    """The app's own summarizer and public URL, as bot/app.py built them once."""
    return DigestOptions(summarizer=services.summarizer, public_url=services.public_url)


@dataclass(frozen=True)
class Sent:
    digest_id: int
    coach: str
    created: bool  # False: this occasion's digest existed already (nothing new sent)
    source: str  # llm | fallback
    reason: str | None


def summary_request(
    part: TeamPart, follow: Sequence[FollowLine] = (), found: Sequence[Signal] | None = None
) -> SummaryRequest:
    """What a summary is built from: the team's (for the model), or with one coach's
    commitments and signals (for the fallback)."""
    return SummaryRequest(
        figures=part.request,
        comments=part.comments,
        stage_scores=part.stage_scores,
        missed_commitments=sum(f.missed for f in follow),
        names=tuple(part.names),
        signals=tuple(part.signals if found is None else found),
    )


@dataclass(frozen=True)
class ModelAnswer:
    output: SummaryOutput | None  # cleaned; None: the fallback, and `why`
    why: str | None = None
    skipped: bool = False  # not asked: it stopped answering recently


async def llm_summary(part: TeamPart, summarizer: Summarizer | None) -> ModelAnswer:
    """The model's summary, cleaned and checked, or why not. Never raises."""
    if summarizer is None:
        LLM_FALLBACKS.labels("no_model").inc()
        return ModelAnswer(None, "no language model configured")
    try:
        output = clean_output(await summarizer.complete(summary_request(part)), part.names)
    except SummaryFailed as failed:
        skipped = isinstance(failed, SummarySkipped)
        LLM_FALLBACKS.labels("skipped" if skipped else "failed").inc()
        log.warning("digest summary for %s fell back: %s", part.content.team_key, failed)
        return ModelAnswer(None, str(failed), skipped)
    except Exception:  # the fallback must cover anything the model side does
        LLM_FALLBACKS.labels("error").inc()
        log.exception("digest summary for %s failed", part.content.team_key)
        return ModelAnswer(None, "the language model failed unexpectedly")
    return ModelAnswer(output)


def summary_meta(summarizer: Summarizer | None, answer: ModelAnswer) -> dict[str, Any]:
    """Who wrote the summary: the model, or the fallback and why, with which model and
    prompt version were tried or skipped (kept in the stored content, so an admin sees
    what failed; the `model` and `prompt_version` columns stay for summaries a model
    wrote)."""
    if answer.output is not None and summarizer is not None:
        return {
            "source": "llm",
            "model": summarizer.model,
            "prompt_version": summarizer.prompt_version,
        }
    meta: dict[str, Any] = {"source": "fallback", "reason": answer.why, "skipped": answer.skipped}
    if summarizer is not None:
        meta |= {"model": summarizer.model, "prompt_version": summarizer.prompt_version}
    return meta


def finish(
    part: TeamPart, follow: list[FollowLine], summary: SummaryOutput, meta: dict[str, Any]
) -> DigestContent:
    """One coach's digest: the team part, that coach's commitments, and the summary."""
    missed = [
        text("digest.missed", name=f.person, missed=f.missed, behaviour=f.behaviour)
        for f in follow
        if f.missed
    ]
    # Themes only from enough comments (else the few are shown as written), whoever
    # wrote the summary: one person's comment is not the team's theme.
    enough = part.content.comments_used >= THEMES_FROM
    summary_part = SummaryPart(
        themes=list(summary.themes) if enough else [],
        risks=list(summary.risks),
        focus_questions=list(summary.focus_questions),
        **meta,
    )
    draft = part.content.model_copy(
        update={"follow": follow, "flags": part.content.flags + missed, "summary": summary_part}
    )
    # The signals read every part of this coach's digest, commitments and themes too.
    return draft.model_copy(update={"signals": signals(draft, summary_part.themes)})


async def compose(
    services: Services,
    team_key: str,
    *,
    reason: Reason,
    options: DigestOptions,
    coaches: Sequence[int],
    session_at: datetime | None = None,
) -> dict[int, DigestContent]:
    """The one builder of digests: each coach's digest as of now, the model asked once.
    `send_digest` stores and sends these; `digest show` prints one."""
    now = services.clock.now()
    part = await build_team_part(services, team_key, now, reason, session_at, coaches)
    answer = await llm_summary(part, options.summarizer)
    meta = summary_meta(options.summarizer, answer)
    contents = {}
    for coach in coaches:
        follow = part.follow[coach]
        if answer.output is not None:
            contents[coach] = finish(part, follow, answer.output, meta)
            continue
        # The fallback asks the questions of this coach's digest's strongest signals.
        themed = SummaryOutput.model_construct(
            themes=themes(part.comments, part.names), risks=[], focus_questions=[]
        )
        found = finish(part, follow, themed, meta).signals
        summary = fallback_summary(summary_request(part, follow, found))
        contents[coach] = finish(part, follow, summary, meta)
    return contents


async def preview_digest(
    services: Services, team_key: str, options: DigestOptions, coach: str | None = None
) -> DigestContent:
    """What `send_digest` would send now on demand, to `coach` (a handle; default the
    team's first coach): built by the same `compose`, stored and sent nowhere."""
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None or team.id is None:
            raise Refused(f"There is no team {team_key!r}.")
        people = await digests.people_of(session, team.id)
    coaches = [p for p, role in people if role == Role.COACH and coach in (None, p.handle)]
    if not coaches:
        raise Refused(text("digest.refused.no_coach", team=team_key))
    chosen = coaches[0].id or 0
    contents = await compose(
        services, team_key, reason="on_demand", options=options, coaches=[chosen]
    )
    return contents[chosen]


def _send_at(now: datetime, reason: Reason, session_at: datetime | None, coach_av: Any) -> datetime:
    """Scheduled digests wait for the coach's working hours unless that would be too
    late for the session; on-demand ones go at once."""
    if reason == "on_demand":
        return now
    at, _ = next_allowed(now, coach_av)
    if session_at is not None and at > session_at - LATEST_BEFORE_SESSION:
        return now
    return at


async def send_digest(
    services: Services,
    team_key: str,
    *,
    reason: Reason,
    occasion: str,
    options: DigestOptions,
    coaches: list[int] | None = None,
    session_at: datetime | None = None,
) -> list[Sent]:
    """Build, store and enqueue this occasion's digest for each coach (default: every
    coach of the team). Coaches who already have it get nothing new."""
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None or team.id is None:
            raise Refused(f"There is no team {team_key!r}.")
        people = await digests.people_of(session, team.id)
        team_coaches = [p for p, role in people if role == Role.COACH]
        wanted = [p for p in team_coaches if coaches is None or p.id in coaches]
        existing = {p.id: await digests.digest_for(session, p.id or 0, occasion) for p in wanted}
    if not wanted:
        raise Refused(text("digest.refused.no_coach", team=team_key))
    sent = [
        Sent(row.id or 0, p.handle, False, row.summary_source, row.fallback_reason)
        for p in wanted
        if (row := existing[p.id]) is not None
    ]
    todo = [p for p in wanted if existing[p.id] is None]
    if not todo:
        return sent
    contents = await compose(
        services,
        team_key,
        reason=reason,
        options=options,
        coaches=[p.id or 0 for p in todo],
        session_at=session_at,
    )
    for coach in todo:
        content = contents[coach.id or 0]
        row = await _store_and_enqueue(services, team.id, coach.id or 0, occasion, content, options)
        sent.append(Sent(row.id or 0, coach.handle, True, row.summary_source, row.fallback_reason))
    return sent


async def _store_and_enqueue(
    services: Services,
    team_id: int,
    coach_id: int,
    occasion: str,
    content: DigestContent,
    options: DigestOptions,
) -> Digest:
    now = services.clock.now()
    summary = content.summary
    try:
        async with services.db.session() as session:
            coach = await directory.person(session, coach_id)
            team = await directory.team(session, team_id)
            assert coach is not None and team is not None
            workspace = await directory.workspace(session, team.workspace_id)
            row = Digest(
                team_id=team_id,
                coach_id=coach_id,
                occasion=occasion,
                reason=content.reason,
                period_start=content.period_start,
                period_end=content.period_end,
                session_at=content.session_at,
                summary_source=summary.source,
                fallback_reason=(summary.reason or "")[:300] or None,
                # A fallback's content names the model tried; the columns say who wrote it.
                prompt_version=summary.prompt_version if summary.source == "llm" else None,
                model=summary.model if summary.source == "llm" else None,
                content=content.model_dump(mode="json"),
                chart_token=secrets.token_hex(16),
                outbox_key=f"digest:{occasion}:{coach_id}"[:200],
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            tz = person_timezone(coach, team, workspace)
            image = chart_url(row.id, row.chart_token, options.public_url)
            message = digest_message(content, row.id, image, tz)
            row.message = message.model_dump(mode="json")
            session.add(row)
            at = _send_at(
                now, content.reason, content.session_at, availability(coach, team, workspace)
            )
            await outbox.enqueue(
                session,
                dedupe_key=row.outbox_key,
                person_id=coach_id,
                kind=KIND,
                ref=message.ref,
                payload=row.message,
                not_before=at,
                expires_at=None,
            )
    except IntegrityError:
        # Another process stored this occasion's digest first: theirs is the one sent.
        async with services.db.session() as session:
            found = await digests.digest_for(session, coach_id, occasion)
        if found is None:
            raise
        return found
    return row
