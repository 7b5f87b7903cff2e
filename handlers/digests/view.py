"""Digest messages in the neutral message model: the digest itself, and the list of
past digests. Text lines are kept short and few (well under Slack's 50 blocks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Field_,
    Fields,
    Image,
    Message,
    Text,
)
from handlers.commitments.follow_through import kept_text
from handlers.digests.content import DigestContent
from handlers.pulse.scoring import sparkline
from prompts.texts import text
from storage.digests.models import Digest

OPEN = "digest.open"
LIST = "digest.list"
SEND = "digest.send"
CHART_ATTACHMENT = "digest-chart:"


def digest_ref(digest_id: int) -> str:
    return f"digest:{digest_id}"


def chart_path(digest_id: int, token: str) -> str:
    return f"/charts/digests/{digest_id}-{token}.png"


def chart_url(digest_id: int, token: str, public_url: str = "") -> str:
    """Absolute with a public URL (Teams fetches it), else relative (the local page)."""
    return public_url.rstrip("/") + chart_path(digest_id, token)


def chart_attachment(digest_id: int) -> str:
    """The chart as an image attachment key: channels that cannot show `chart_url`
    (Slack without a public https URL) fetch the PNG by this key and upload it."""
    return f"{CHART_ATTACHMENT}{digest_id}"


def attachment_digest(key: str) -> int | None:
    """The digest id behind a `chart_attachment` key, else None."""
    tail = key.removeprefix(CHART_ATTACHMENT)
    return int(tail) if tail != key and tail.isdigit() else None


def _num(value: float | None, change: float | None = None) -> str:
    if value is None:
        return "withheld"
    shown = f"{value:.0f}"
    return shown + (f" ({change:+.0f})" if change is not None else "")


def _no_themes(content: DigestContent) -> str:
    if content.comments_used:
        return text("digest.themes.too_few", count=content.comments_used)
    return text("digest.themes.none")


def _heading(content: DigestContent, tz: ZoneInfo | None = None) -> str:
    at = content.session_at
    when = ""
    if at is not None:
        local = at.astimezone(tz) if tz else at
        when = f"on {local:%a %d %b %H:%M} {tz.key if tz else 'UTC'}"
    return text(f"digest.heading.{content.reason}", team=content.team_name, when=when)


def _period(content: DigestContent) -> str:
    if content.since_session:
        return text(
            "digest.period.since_session",
            start=f"{content.period_start:%d %b %Y}",
            rounds=content.rounds_in_period,
        )
    days = (content.period_end - content.period_start).days
    return text("digest.period.lookback", days=days, rounds=content.rounds_in_period)


def _source(content: DigestContent) -> str:
    s = content.summary
    if s.source == "llm":
        return text("digest.summary.llm", model=s.model, prompt=s.prompt_version)
    if s.skipped:
        return text("digest.summary.skipped", model=s.model, reason=s.reason)
    reason = s.reason or "no language model configured"
    if s.model:  # a model was tried and failed
        return text(
            "digest.summary.fallback.tried", reason=reason, model=s.model, prompt=s.prompt_version
        )
    return text("digest.summary.fallback", reason=reason)


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def _scores(content: DigestContent) -> list[Any]:
    """What changed: the score, and whether the change is more than noise."""
    score = content.score
    if score is None:
        return [Text(text=text("digest.no_rounds"), style="notice")]
    rate = (
        f"{content.respondents} of {content.invited} ({content.respondents / content.invited:.0%})"
        if content.invited
        else "—"
    )
    fields = [
        Field_(label=text("digest.field.score"), value=_num(score.score, score.change)),
        Field_(
            label=text("digest.field.mean", scale=score.scale),
            value=text("digest.value.withheld") if score.mean is None else f"{score.mean:.2f}",
        ),
        Field_(
            label=text("digest.field.favorable"),
            value=_num(score.favorable) + ("%" if score.favorable is not None else ""),
        ),
        Field_(label=text("digest.field.responses"), value=rate),
    ]
    lines = [text("digest.round_basis", number=score.round_number, basis=score.change_basis)]
    if score.change is not None and score.noise is not None:
        key = "digest.change.real" if score.real_change else "digest.change.noise"
        lines.append(
            text(
                key,
                change=score.change,
                basis=score.change_basis,
                noise=score.noise,
                respondents=score.respondents,
            )
        )
    if score.score is not None and score.favorable_share is not None:
        lines.append(
            text(
                "digest.favorable.explain",
                score=score.score,
                favorable=score.favorable_share,
                unfavorable=score.unfavorable_share or 0.0,
                anchor=score.favorable_from or "agree",
            )
        )
    lines += [content.stale] if content.stale else []
    return [
        Text(text=text("digest.change.heading"), style="heading"),
        Fields(fields=tuple(fields)),
        Context(lines=tuple(lines)),
    ]


def _scaled_sparkline(values: Sequence[float | None]) -> str:
    """The sparkline over the series' own range, so a dip of ten points shows."""
    shown = [v for v in values if v is not None]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    span = max(high - low, 1.0)
    return sparkline([None if v is None else (v - low) / span * 99.9 for v in values])


def _trend(content: DigestContent, image_url: str | None, digest_id: int) -> list[Any]:
    story = content.story
    values = content.trend.get("Score", [])
    if story is None or not values:
        return []
    line = text(
        "digest.story.line",
        rounds=story.rounds,
        low=story.low,
        low_when=story.low_label,
        high=story.high,
        high_when=story.high_label,
        latest=story.latest,
        direction=story.direction,
    )
    if story.turn_label:
        line += text("digest.story.turn", when=story.turn_label)
    if story.latest_is_high and story.rounds > 2:
        line += text("digest.story.high", rounds=story.rounds)
    elif story.latest_is_low and story.rounds > 2:
        line += text("digest.story.low", rounds=story.rounds)
    spark = text("digest.trend", sparkline=_scaled_sparkline(values), rounds=len(values))
    blocks: list[Any] = [
        Text(text=text("digest.story.heading"), style="heading"),
        Text(text=line),
        Context(lines=(spark,)),
    ]
    if image_url and len(content.trend_labels) > 1:
        blocks.append(
            Image(
                url=image_url,
                alt=text("digest.chart.alt"),
                attachment=chart_attachment(digest_id),
            )
        )
    return blocks


def _stages(content: DigestContent) -> list[Any]:
    if not content.stages or content.score is None:
        return []
    fields = tuple(Field_(label=s.label, value=_num(s.score, s.change)) for s in content.stages)
    shown = sorted((s.score, s.label) for s in content.stages if s.score is not None)
    blocks: list[Any] = [
        Text(text=text("digest.stages.heading"), style="heading"),
        Fields(fields=fields),
    ]
    if len(shown) > 1:
        (low, label), (next_, _) = shown[0], shown[1]
        stage = next((s for s in content.signals if s.topic.startswith("stage:")), None)
        note = (
            text("digest.stages.weakest", stage=label, score=low, gap=next_ - low)
            if stage is not None
            else text("digest.stages.tie", gap=next_ - low)
        )
        blocks.append(Context(lines=(note,)))
    return blocks


def _items(content: DigestContent) -> list[Any]:
    if content.score is None or content.score.score is None:
        return []
    heading = Text(text=text("digest.items.heading"), style="heading")
    listed = content.weakest_items + content.strongest_items
    if not listed:
        return [heading, Context(lines=(text("digest.items.none"),))]
    lines = [
        text(
            "digest.items.line",
            text=i.text,
            score=i.score,
            favorable=i.favorable,
            unfavorable=i.unfavorable,
            split=text("digest.items.split") if i.split else "",
        )
        for i in listed
    ]
    return [heading, Text(text=_bullets(lines))]


def _commitments(content: DigestContent) -> list[Any]:
    if content.follow is None:
        return []
    blocks: list[Any] = [Text(text=text("digest.follow.heading"), style="heading")]
    gaps = []
    if content.leaders_without:
        gaps.append(text("digest.follow.without", names=", ".join(content.leaders_without)))
    if content.pending:
        gaps.append(text("digest.follow.pending", items="; ".join(content.pending[:6])))
    gap_block = [Context(lines=tuple(gaps), literal=True)] if gaps else []
    if not content.follow:
        return [*blocks, Context(lines=(text("digest.follow.none"),)), *gap_block]
    lines = [
        f"{f.person} — {f.behaviour[:150]}: {kept_text(f.kept_4, f.kept_12, f.counted)}"
        f" · streak {f.streak}" + ("" if f.status == "active" else f" · {f.status}")
        for f in content.follow[:12]
    ]
    blocks.append(Text(text=_bullets(lines), literal=True))
    notes = [f"{f.person}: “{f.reflection[:200]}”" for f in content.follow if f.reflection]
    if notes:
        blocks.append(Context(lines=tuple(notes[:10]), literal=True))
    return blocks + gap_block


def _contracts(content: DigestContent) -> list[Any]:
    if content.contracts is None:
        return []
    heading = Text(text=text("digest.contracts.heading"), style="heading")
    if not content.contracts:
        return [heading, Context(lines=(text("digest.contracts.none"),)), *_contract_story(content)]
    lines = [
        f"{c.norm[:150]} — "
        + (
            f"withheld: {c.withheld}"
            if c.withheld
            else f"{_num(c.percent)}/100, {c.respondents} answered"
        )
        for c in content.contracts[:10]
    ]
    blocks: list[Any] = [heading, Text(text=_bullets(lines), literal=True)]
    return blocks + _contract_story(content)


def _contract_story(content: DigestContent) -> list[Any]:
    story = content.contract
    if story is None:
        return []
    notes = []
    if story.weakest is not None and story.weakest_percent is not None:
        values = " → ".join(_num(v) for v in story.weakest_trend)
        trend = text("digest.contract.trend", values=values) if len(story.weakest_trend) > 1 else ""
        notes.append(
            text(
                "digest.contract.weakest",
                norm=story.weakest[:150],
                percent=story.weakest_percent,
                trend=trend,
            )
        )
    if story.version is not None:
        notes.append(
            text(
                "digest.contract.unacknowledged",
                version=story.version,
                names=", ".join(story.unacknowledged),
            )
            if story.unacknowledged
            else text("digest.contract.all_acknowledged", version=story.version)
        )
    return [Context(lines=tuple(notes), literal=True)] if notes else []


def digest_message(
    content: DigestContent,
    digest_id: int,
    image_url: str | None = None,
    tz: ZoneInfo | None = None,
) -> Message:
    s = content.summary
    heading = _heading(content, tz)
    blocks: list[Any] = [
        Text(text=heading, style="heading"),
        Context(lines=(_period(content), _source(content))),
        *_scores(content),
        *_trend(content, image_url, digest_id),
        *_stages(content),
        *_items(content),
    ]
    if content.withheld:
        blocks.append(Context(lines=(text("digest.withheld.heading"), *content.withheld[:8])))
    if content.flags:
        blocks.append(Text(text=text("digest.flags.heading"), style="heading"))
        blocks.append(Text(text=_bullets(["⚠ " + f for f in content.flags[:12]]), style="notice"))
    blocks += _contracts(content) + _commitments(content)
    blocks.append(Divider())
    blocks.append(Text(text=text("digest.themes.heading"), style="heading"))
    if s.themes:
        blocks.append(Text(text=_bullets(s.themes), literal=True))
    elif content.comments:
        note = text("digest.comments.shown", count=len(content.comments))
        blocks.append(Context(lines=(note,)))
        blocks.append(Text(text=_bullets([f"“{c}”" for c in content.comments]), literal=True))
    else:
        blocks.append(Text(text=_no_themes(content)))
    if s.risks:
        blocks.append(Text(text=text("digest.risks.heading"), style="heading"))
        blocks.append(Text(text=_bullets(s.risks), literal=True))
    blocks.append(Text(text=text("digest.focus.heading"), style="heading"))
    numbered = "\n".join(f"{i}. {q}" for i, q in enumerate(s.focus_questions, start=1))
    blocks.append(Text(text=numbered, literal=True))
    blocks.append(
        Buttons(
            buttons=(
                Button(action_id=LIST, value=content.team_key, label=text("digest.button.past")),
                Button(action_id=SEND, value=content.team_key, label=text("digest.button.refresh")),
            )
        )
    )
    score = content.score.score if content.score else None
    summary = f"{heading}: score " + ("withheld" if score is None else f"{score:.0f}/100")
    return Message(ref=digest_ref(digest_id), text=summary, blocks=tuple(blocks))


def list_message(team_key: str, team_name: str, rows: Sequence[Digest]) -> Message:
    ref = f"digest-list:{team_key}"
    heading = Text(text=text("digest.list.heading", team=team_name), style="heading")
    if not rows:
        note = text("digest.list.none", team=team_name)
        return Message(ref=ref, text=note, blocks=(heading, Text(text=note)))
    lines = tuple(
        f"#{row.id} · {row.created_at:%d %b %Y %H:%M} UTC · {row.reason.replace('_', ' ')}"
        f" · {'LLM' if row.summary_source == 'llm' else 'fallback'} summary"
        for row in rows
    )
    buttons = tuple(
        Button(action_id=OPEN, value=str(row.id), label=f"{text('digest.button.open')} #{row.id}")
        for row in rows[:10]
    )
    return Message(
        ref=ref,
        text=heading.text,
        blocks=(heading, Context(lines=lines), Buttons(buttons=buttons)),
    )
