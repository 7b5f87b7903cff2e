"""Reading a commitment from chat — the one-line grammar or the form — and checking it
against the database before anything is stored.

    commit "ask for dissent before every decision" why "quiet voices matter"
           until 2027-02-26 stage challenger every fri 16:00 partner oliver share
           visible team for maya in leadership

The behaviour comes first, best in quotes; without quotes it runs up to the first
unmistakable option (`until 2027-…`, `stage challenger`, `every fri` …). Every refusal
says what was wrong and stores nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.commitments.schedule import first_due, leader_availability
from handlers.commitments.view import cadence_text
from prompts.instruments import STAGES
from prompts.texts import text
from scheduler.calendar.localtime import Cadence, ScheduleError
from scheduler.calendar.people import person_timezone
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.contracts import queries as contracts
from storage.core.models import Person, Team, Workspace

DEFAULT_WEEKS = 12
BEHAVIOUR_MAX = 300
WHY_MAX = 500
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_DAYS = {
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}
_FREQUENCIES = {
    "weekly": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "monthly": "monthly",
}


@dataclass
class Draft:
    """What the person asked for; None everywhere they said nothing."""

    behaviour: str | None = None
    why: str | None = None
    until: str | None = None
    stage: str | None = None
    norm: str | None = None
    frequency: str | None = None
    weekday: str | None = None
    at: str | None = None
    partner: str | None = None
    share: bool | None = None
    visibility: str | None = None
    owner: str | None = None
    team: str | None = None

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


def tokens(line: str) -> list[tuple[str, bool]]:
    line = re.sub(r"[“”„«»]", '"', line)
    found = [(m.group(1), m.group(2)) for m in _TOKEN.finditer(line)]
    return [(q, True) if q is not None else (w, False) for q, w in found]


def _starts_option(toks: list[tuple[str, bool]], i: int) -> bool:
    """Only unmistakable options end an unquoted behaviour ("ask for dissent at every
    meeting" keeps its "for", "at" and "every")."""
    word = toks[i][0].lower()
    after, quoted = (toks[i + 1][0].lower(), toks[i + 1][1]) if i + 1 < len(toks) else ("", False)
    return (
        (word in ("until", "by") and bool(_DATE.match(after)))
        or (word == "why" and quoted)
        or (word == "stage" and after in STAGES)
        or (word == "norm" and after.isdigit())
        or (word == "every" and (after in _DAYS or after.isdigit() or after == "other"))
        or (word in _FREQUENCIES and (after in _DAYS or not after))
        or (word == "visible" and after in ("team", "coach", "to"))
        or (word == "partner" and after.startswith("@"))
    )


def _value(toks: list[tuple[str, bool]], i: int, what: str) -> str:
    if i >= len(toks):
        hint = text("commitment.refused.hint")
        raise Refused(text("commitment.refused.unknown_option", word=what, hint=hint))
    return toks[i][0]


def _cadence(d: Draft, toks: list[tuple[str, bool]], i: int) -> int:
    """Day names, `at`, HH:MM and `2 weeks` after `every`/`weekly`/`on`/`at`."""
    while i < len(toks):
        word = toks[i][0].lower()
        if word in _DAYS:
            d.weekday = word
        elif _TIME.match(word):
            d.at = word
        elif word in ("2", "two", "other"):
            d.frequency = "biweekly"
        elif word == "month":
            d.frequency = "monthly"
        elif word not in ("at", "on", "week", "weeks"):
            break
        i += 1
    return i


def parse_line(line: str, *, with_behaviour: bool = True) -> Draft:
    """A draft from one line. The behaviour is the first quoted text that is not the value
    of `why`, wherever it stands (`commit for maya "…"`); unquoted, it is the leading
    words up to the first unmistakable option."""
    toks, d, i = tokens(line), Draft(), 0
    quoted = [
        j for j, (_, q) in enumerate(toks) if q and not (j and toks[j - 1][0].lower() == "why")
    ]
    if quoted:
        d.behaviour = toks[quoted[0]][0]
        toks = toks[: quoted[0]] + toks[quoted[0] + 1 :]
    elif with_behaviour:
        words = []
        while i < len(toks) and not _starts_option(toks, i):
            words.append(toks[i][0])
            i += 1
        d.behaviour = " ".join(words)
    while i < len(toks):
        word = toks[i][0].lower()
        if word == "why":
            d.why = _value(toks, i + 1, word)
            i += 2
        elif word in ("until", "by", "ends"):
            d.until, i = _value(toks, i + 1, word), i + 2
        elif word == "stage":
            d.stage, i = _value(toks, i + 1, word).lower(), i + 2
            if i < len(toks) and toks[i][0].lower() == "safety":
                i += 1
        elif word == "norm":
            d.norm, i = _value(toks, i + 1, word), i + 2
        elif word in ("on", "at"):
            i = _cadence(d, toks, i)
        elif word == "every" or word in _FREQUENCIES:
            d.frequency = _FREQUENCIES.get(word, "weekly")
            i = _cadence(d, toks, i + 1)
        elif word == "partner":
            d.partner, i = _value(toks, i + 1, word).lstrip("@"), i + 2
        elif word in ("share", "no-share", "private"):
            d.share, i = word == "share", i + 1
        elif word == "visible":
            i += 2 if i + 1 < len(toks) and toks[i + 1][0].lower() == "to" else 1
            d.visibility, i = _value(toks, i, "visible").lower(), i + 1
        elif word == "for":
            d.owner, i = _value(toks, i + 1, word).lstrip("@"), i + 2
        elif word == "in":
            d.team, i = _value(toks, i + 1, word), i + 2
        else:
            hint = text("commitment.refused.hint")
            raise Refused(text("commitment.refused.unknown_option", word=toks[i][0], hint=hint))
    return d


def from_form(inputs: dict[str, str]) -> Draft:
    d = parse_line(inputs.get("options", ""), with_behaviour=False)
    d.behaviour = inputs.get("behaviour", "")
    d.why = inputs.get("why", "").strip() or d.why
    d.until = inputs.get("until", "").strip() or d.until
    return d


def _date(value: str) -> date:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise Refused(text("commitment.refused.date", value=value)) from None


async def apply_draft(
    session: AsyncSession,
    now: datetime,
    c: Commitment,
    d: Draft,
    owner: Person,
    team: Team,
    workspace: Workspace | None,
) -> list[str]:
    """Check the draft and set it on `c` (new or stored); returns what changed. Raises
    Refused with the first problem found — the caller's transaction then stores nothing."""
    creating = c.id is None
    changed: list[str] = []

    def put(name: str, value: object) -> None:
        if getattr(c, name, None) != value:
            setattr(c, name, value)
            changed.append(name)

    if d.behaviour is not None or creating:
        behaviour = re.sub(r"\s+", " ", d.behaviour or "").strip().rstrip(".")
        behaviour = behaviour[3:] if behaviour.lower().startswith("to ") else behaviour
        if not behaviour:
            raise Refused(text("commitment.refused.no_behaviour"))
        if len(behaviour) > BEHAVIOUR_MAX:
            raise Refused(
                text("commitment.refused.behaviour_long", max=BEHAVIOUR_MAX, length=len(behaviour))
            )
        put("behaviour", behaviour)
    if d.why is not None:
        put("why", d.why.strip()[:WHY_MAX] or None)
    today = now.astimezone(person_timezone(owner, team, workspace)).date()
    if d.until is not None or creating:
        ends = _date(d.until) if d.until else today + timedelta(weeks=DEFAULT_WEEKS)
        if ends < today:
            raise Refused(text("commitment.refused.past", ends=ends, today=today))
        put("ends_on", ends)
    if d.stage is not None:
        if d.stage not in STAGES:
            raise Refused(text("commitment.refused.stage", value=d.stage))
        put("stage", d.stage)
        put("norm_key", None)
    if d.norm is not None:
        put("norm_key", await _norm_key(session, team, d.norm))
        put("stage", None)
    if d.frequency or d.weekday or d.at:
        try:
            cadence = Cadence.parse(
                d.frequency or c.frequency, d.weekday or c.weekday, d.at or c.at
            )
        except ScheduleError as error:
            raise Refused(text("commitment.refused.cadence", reason=error)) from None
        put("frequency", cadence.frequency)
        put("weekday", cadence.weekday)
        put("at", f"{cadence.at:%H:%M}")
    if d.partner is not None:
        put("partner_id", await _partner_id(session, owner, d.partner))
        if c.partner_id is None:
            put("partner_summary", False)
    if d.share is not None:
        if d.share and c.partner_id is None:
            raise Refused(text("commitment.refused.share_without_partner"))
        put("partner_summary", d.share)
    if d.visibility is not None:
        if d.visibility not in ("team", "coach", "me"):
            raise Refused(text("commitment.refused.unknown_option", word=d.visibility, hint=""))
        put("visibility", "team" if d.visibility == "team" else "coach")
    if creating or {"ends_on", "frequency", "weekday", "at"} & set(changed):
        av = leader_availability(c, owner, team, workspace)
        if first_due(c, av, now) is None:
            raise Refused(
                text("commitment.refused.never_fires", cadence=cadence_text(c), ends=c.ends_on)
            )
    return changed


async def _norm_key(session: AsyncSession, team: Team, wanted: str) -> str:
    contract = await contracts.for_team(session, team.id or 0)
    version = await contracts.current_version(session, contract) if contract else None
    norms = version.norms if version else []
    if wanted.isdigit() and 1 <= int(wanted) <= len(norms):
        return norms[int(wanted) - 1]["key"]
    for norm in norms:
        if norm["key"] == wanted:
            return norm["key"]
    raise Refused(text("commitment.refused.norm", value=wanted))


async def _partner_id(session: AsyncSession, owner: Person, handle: str) -> int | None:
    if handle.lower() in ("none", "off", "-"):
        return None
    partner = await commitments.person_in_workspace(session, owner.workspace_id, handle)
    if partner is None:
        raise Refused(text("commitment.refused.partner_unknown", handle=handle))
    if partner.id == owner.id:
        raise Refused(text("commitment.refused.partner_self"))
    return partner.id
