"""Team contracts in chat: show, acknowledge, edit (form or one line; every change is a
new version that members acknowledge again), and the anonymous contract checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Message, notice
from handlers.commitments.drafts import tokens
from handlers.commitments.follow_through import contract_report
from handlers.commitments.schedule import enqueue
from handlers.context import ActionHandler, CommandHandler, Services
from handlers.contracts import view
from handlers.contracts.checks import ACTIONS as check_actions
from handlers.contracts.schedule import close_check, open_check, plan_in
from handlers.pulse.view import local_time
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.contracts import queries as contracts
from storage.contracts.models import ContractVersion
from storage.core import audit, directory, outbox
from storage.core.models import Person, Role, Team

EDITORS = {"coach", "admin"}
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


# --------------------------------------------------------------------------- versions


def clean_norms(lines: Sequence[str]) -> list[str]:
    """Norm texts from lines (bullets and numbers dropped); refuses empty, long, duplicate."""
    norms = [" ".join(_BULLET.sub("", line).split()) for line in lines]
    norms = [n for n in norms if n]
    if not norms:
        raise Refused(text("contract.refused.no_norms"))
    if len(norms) > view.MAX_NORMS:
        raise Refused(text("contract.refused.too_many", max=view.MAX_NORMS, count=len(norms)))
    seen: dict[str, int] = {}
    for number, norm in enumerate(norms, 1):
        if len(norm) > view.NORM_MAX:
            raise Refused(
                text(
                    "contract.refused.too_long", number=number, length=len(norm), max=view.NORM_MAX
                )
            )
        if norm.casefold() in seen:
            raise Refused(
                text("contract.refused.duplicate", number=number, first=seen[norm.casefold()])
            )
        seen[norm.casefold()] = number
    return norms


def keyed(norms: Sequence[str], previous: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """Norms with stable keys: an unchanged norm keeps its key across versions, so its
    check results line up; a new one gets a key from its first words."""
    known = {n["text"].casefold(): n["key"] for n in previous}
    used = set(known.values())
    out = []
    for norm in norms:
        key = known.get(norm.casefold())
        if key is None:
            base = "_".join(re.findall(r"[a-z0-9]+", norm.lower())[:5])[:40] or "norm"
            base = base if base[0].isalpha() else f"n_{base}"
            key, n = base, 2
            while key in used:
                key, n = f"{base}_{n}", n + 1
        used.add(key)
        out.append({"key": key, "text": norm})
    return out


async def save_version(
    session: AsyncSession, now: datetime, team: Team, norms: Sequence[str], by: int | None
) -> tuple[ContractVersion, bool]:
    """A new version when the norms changed, and every executive asked to acknowledge it.
    Returns the current version and whether it is new. The caller plans the checks."""
    contract = await contracts.ensure(session, team.id or 0)
    current = await contracts.current_version(session, contract)
    if current is not None and [n["text"] for n in current.norms] == list(norms):
        return current, False
    version = await contracts.add_version(
        session, contract, keyed(norms, current.norms if current else []), by
    )
    if current is not None:  # acknowledging an old version no longer means anything
        await outbox.cancel_pending(session, f"contract:{current.id}:ack:", "a new version")
    for person in await directory.members(session, team.id or 0, Role.EXECUTIVE):
        message = view.contract_message(
            team.id or 0, team.name, version, None, True, None, person.locale
        )
        key = f"contract:{version.id}:ack:{person.id}"
        await enqueue(session, key, person.id or 0, "contract-ack", message, now)
    audit.record(
        session,
        f"person:{by}" if by else "config",
        "contract.version",
        f"team:{team.key}",
        version=version.version,
        norms=len(norms),
    )
    return version, True


# --------------------------------------------------------------------------- helpers


async def _team_for(
    session: AsyncSession, person_id: int, key: str | None
) -> tuple[Team, set[str], Person]:
    person = await directory.person(session, person_id)
    assert person is not None
    teams: dict[str, tuple[Team, set[str]]] = {}
    for team, role in await directory.roles_of(session, person_id):
        teams.setdefault(team.key, (team, set()))[1].add(role)
    if key is not None:
        if key not in teams:
            raise Refused(text("contract.refused.unknown_team", team=key))
        return *teams[key], person
    if not teams:
        raise Refused(text("contract.refused.no_team"))
    if len(teams) > 1:
        names = sorted(teams)
        raise Refused(text("contract.refused.which_team", teams=", ".join(names), first=names[0]))
    return *next(iter(teams.values())), person


def _editor(team: Team, roles: set[str]) -> None:
    if not roles & EDITORS:
        raise Refused(text("contract.refused.not_editor", team=team.name))


async def contract_view(
    session: AsyncSession, team: Team, roles: set[str], person: Person
) -> Message:
    contract = await contracts.for_team(session, team.id or 0)
    version = await contracts.current_version(session, contract) if contract else None
    acked = await contracts.acknowledged(session, version.id or 0) if version else {}
    roster = None
    if roles & EDITORS:
        executives = await directory.members(session, team.id or 0, Role.EXECUTIVE)
        waiting = [p.name for p in executives if p.id not in acked]
        roster = (len(executives) - len(waiting), waiting)
    return view.contract_message(
        team.id or 0,
        team.name,
        version,
        acked.get(person.id or 0),
        "executive" in roles,
        roster,
        person.locale,
    )


def _team_arg(args: list[str]) -> tuple[str | None, list[str]]:
    """A leading bare word is the team key: `contract leadership "norm" …`."""
    if args and not args[0].startswith(('"', "“")):
        return args[0], args[1:]
    return None, args


# --------------------------------------------------------------------------- contract


async def on_ack(services: Services, event: ActionEvent) -> Reply:
    if not event.value.isdigit():
        raise Refused(text("contract.refused.unreadable"))
    async with services.db.session() as session:
        version = await contracts.version(session, int(event.value))
        contract = await contracts.get(session, version.contract_id) if version else None
        if version is None or contract is None:
            raise Refused(text("contract.refused.unreadable"))
        team, roles, person = await _team_for_id(session, event.actor.person_id, contract.team_id)
        if "executive" not in roles:
            raise Refused(text("contract.refused.not_member", team=team.name))
        if version.version != contract.current_version:
            raise Refused(text("contract.refused.outdated", version=contract.current_version))
        await contracts.acknowledge(session, version.id or 0, person.id or 0, services.clock.now())
        message = await contract_view(session, team, roles, person)
    return Reply(update=message, notice=text("contract.ack.thanks", person.locale))


async def _team_for_id(
    session: AsyncSession, person_id: int, team_id: int
) -> tuple[Team, set[str], Person]:
    team = await directory.team(session, team_id)
    if team is None:
        raise Refused(text("contract.refused.unreadable"))
    return await _team_for(session, person_id, team.key)  # refuses a team not theirs


async def on_edit(services: Services, event: ActionEvent) -> Reply:
    async with services.db.session() as session:
        team, roles, person = await _team_for_id(session, event.actor.person_id, _id(event.value))
        _editor(team, roles)
        contract = await contracts.for_team(session, team.id or 0)
        version = await contracts.current_version(session, contract) if contract else None
    return Reply(messages=(view.form_message(team.id or 0, team.name, version, person.locale),))


async def _save(
    services: Services, person_id: int, team_key: str | None, norms: list[str]
) -> Reply:
    now = services.clock.now()
    async with services.db.session() as session:
        team, roles, person = await _team_for(session, person_id, team_key)
        _editor(team, roles)
        version, created = await save_version(session, now, team, clean_norms(norms), person_id)
        contract = await contracts.for_team(session, team.id or 0)
        assert contract is not None
        if created:
            await plan_in(session, now, contract)
        message = await contract_view(session, team, roles, person)
    key = "contract.saved" if created else "contract.unchanged"
    note = text(key, version=version.version, team=team.name, count=len(version.norms))
    return Reply(notice=note, messages=(message,))


async def on_save(services: Services, event: ActionEvent) -> Reply:
    async with services.db.session() as session:
        team, _, _ = await _team_for_id(session, event.actor.person_id, _id(event.value))
    lines = event.inputs.get(view.NORMS_INPUT, "").splitlines()
    reply = await _save(services, event.actor.person_id, team.key, lines)
    return Reply(
        update=notice(f"contract-form:{team.id}", reply.notice or ""), messages=reply.messages
    )


def _id(value: str) -> int:
    head = value.split(":", 1)[0]
    if not head.isdigit():
        raise Refused(text("contract.refused.unreadable"))
    return int(head)


# --------------------------------------------------------------------------- commands


async def cmd_contract(services: Services, event: TextEvent, args: list[str]) -> Reply:
    """`contract [TEAM]`, `contract edit|set|check|close|results [TEAM] …`, `contract help`."""
    verb = args[0].lower() if args else ""
    if verb == "help":
        return Reply(notice=text("contract.help"))
    person_id = event.actor.person_id
    if verb == "set":
        team_key, rest = _team_arg(args[1:])
        return await _save(services, person_id, team_key, [t for t, _ in tokens(" ".join(rest))])
    rest = args[1:] if verb in ("edit", "check", "close", "results") else args
    async with services.db.session() as session:
        team, roles, person = await _team_for(session, person_id, rest[0] if rest else None)
        if not verb or verb not in ("edit", "check", "close", "results"):
            return Reply(messages=(await contract_view(session, team, roles, person),))
        contract = await contracts.for_team(session, team.id or 0)
        version = await contracts.current_version(session, contract) if contract else None
        current = await contracts.open_check(session, contract.id or 0) if contract else None
        workspace = await directory.workspace(session, team.workspace_id)
    if verb == "results":
        shared = contract is not None and contract.team_sees_results
        if not ("coach" in roles or (shared and roles & {"executive", "sponsor"})):
            raise Refused(
                text("contract.refused.results", team=team.name, team_too="" if shared else " only")
            )
        report = await contract_report(services, team.id or 0)
        return Reply(
            messages=(view.results_message(team.key, team.name, report.results, report.comments),)
        )
    _editor(team, roles)
    if verb == "edit":
        return Reply(messages=(view.form_message(team.id or 0, team.name, version, person.locale),))
    if verb == "close":
        if current is None:
            raise Refused(text("contract.refused.none_open", team=team.name))
        return Reply(notice=await close_check(services, current.id or 0, f"person:{person_id}"))
    check, asked = await open_check(services, team.id or 0, requested_by=person_id)
    closes = local_time(check.closes_at, person_timezone(person, team, workspace))
    return Reply(
        notice=text(
            "contract.check.opened", number=check.number, count=asked, team=team.name, closes=closes
        )
    )


async def home_cards(services: Services, person_id: int, roles: set[str]) -> list[Message]:
    """The home view's contract card for each of the person's teams that has one."""
    cards = []
    async with services.db.session() as session:
        for key in sorted({t.key for t, _ in await directory.roles_of(session, person_id)}):
            team, team_roles, person = await _team_for(session, person_id, key)
            if await contracts.for_team(session, team.id or 0):
                cards.append(await contract_view(session, team, team_roles, person))
    return cards


ACTIONS: dict[str, ActionHandler] = {
    view.ACK: on_ack,
    view.EDIT: on_edit,
    view.SAVE: on_save,
    **check_actions,
}
COMMANDS: dict[str, CommandHandler] = {"contract": cmd_contract, "norms": cmd_contract}
