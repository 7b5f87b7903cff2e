"""The `contracts:` and `commitments:` sections.

    contracts:
      - workspace: demo
        team: leadership
        norms:
          - We disagree in the room, not after.
          - We ask for help before we are stuck.
        checks: {frequency: biweekly, weekday: wed, at: "10:00", norms_per_check: 2,
                 window_hours: 72}
        privacy: anonymous             # or confidential
        thresholds: {respondents: 3, comments: 5}
        team_sees_results: true        # the coach always sees results
        active: true

    commitments:
      - workspace: demo
        person: maya
        behaviour: ask for dissent before every decision   # with person: the identity
        why: The team agrees with me too fast.
        stage: challenger              # or norm: <key of a contract norm>
        cadence: {frequency: weekly, weekday: fri, at: "16:00"}
        until: 2027-02-26
        visibility: coach              # or team
        partner: oliver
        partner_summary: true          # the leader's opt-in to a weekly summary
        status: active                 # paused, completed, dropped

Changed norms make a new contract version that every executive is asked to acknowledge;
privacy and thresholds are locked while a check is open. Commitments are checked like the
chat's (`handlers/commitment_input.py`): an end date in the past, a cadence that never
fires, a partner outside the workspace are refused with their place in the file.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.commitments.commands import owner_team
from handlers.commitments.drafts import Draft, apply_draft
from handlers.config.base import Changes, Flow, Ids, diff_fields, id_of, update_line
from handlers.config.contract_spec import CommitmentSpec, ContractSpec
from handlers.config.fields import WEEKDAYS, FieldError
from handlers.config.schema import Config
from handlers.contracts.commands import clean_norms, save_version
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.contracts import queries as contracts
from storage.core import config_state, directory, schedule
from storage.core.types import utcnow


def _contract_columns(spec: ContractSpec) -> dict[str, dict[str, Any]]:
    checks = spec.checks
    return {
        "checks": {
            "frequency": checks.frequency,
            "weekday": WEEKDAYS.index(checks.weekday),
            "at": checks.at,
            "norms_per_check": checks.norms_per_check,
            "window_hours": checks.window_hours,
        },
        "privacy": {"privacy": spec.privacy},
        "thresholds": {
            "min_respondents": spec.thresholds.respondents,
            "min_comments": spec.thresholds.comments,
        },
        "team_sees_results": {"team_sees_results": spec.team_sees_results},
        "active": {"active": spec.active},
    }


async def apply_contracts(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    for index, spec in enumerate(cfg.contracts):
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError(("contracts", index, "workspace"), f"no workspace {spec.workspace!r}")
        team = await ids.team(session, workspace, spec.team)
        if team is None:
            raise FieldError(("contracts", index, "team"), f"no team {spec.team!r}")
        try:
            norms = clean_norms(spec.norms)
        except Refused as refused:
            raise FieldError(("contracts", index, "norms"), str(refused)) from None
        target = f"contract:{workspace.key}/{team.key}"
        existed = await contracts.for_team(session, id_of(team)) is not None
        contract = await contracts.ensure(session, id_of(team))
        columns, changed = diff_fields(contract, _contract_columns(spec))
        if {"privacy", "thresholds"} & set(changed) and (
            current := await contracts.open_check(session, contract.id or 0)
        ):
            raise FieldError(
                ("contracts", index, "thresholds" if "thresholds" in changed else "privacy"),
                f"locked while contract check {current.number} is open; apply after it closes",
            )
        if columns:
            await config_state.update(session, contract, columns)
            if existed:
                line = update_line(f"contract of {team.key}", changed)
                changes.record(line, "update_contract", target, changed=changed)
        if not existed:
            changes.record(f"create contract for {team.key}", "create_contract", target)
        version, new = await save_version(session, utcnow(), team, norms, None)
        if new:
            line = f"contract of {team.key}: version {version.version} ({len(norms)} norms)"
            changes.record(line, "contract_version", target, version=version.version)
        if new or columns:  # the dispatcher re-plans the checks at its next pass
            await schedule.set_due(session, "contract", contract.id or 0, schedule.ASAP, None)


async def export_contracts(session: AsyncSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for contract, team, workspace in await contracts.all_contracts(session):
        version = await contracts.current_version(session, contract)
        if version is None:
            continue
        checks = Flow(
            frequency=contract.frequency,
            weekday=WEEKDAYS[contract.weekday],
            at=contract.at,
            norms_per_check=contract.norms_per_check,
            window_hours=contract.window_hours,
        )
        out.append(
            {
                "workspace": workspace.key,
                "team": team.key,
                "norms": [n["text"] for n in version.norms],
                "checks": checks,
                "privacy": contract.privacy,
                "thresholds": Flow(
                    respondents=contract.min_respondents, comments=contract.min_comments
                ),
                "team_sees_results": contract.team_sees_results,
                "active": contract.active,
            }
        )
    return out


def _draft(spec: CommitmentSpec, c: Commitment, partner_id: int | None, new: bool) -> Draft:
    """Only what differs from the stored commitment (everything for a new one)."""
    d = Draft(behaviour=spec.behaviour if new else None)
    if new or spec.why != c.why:
        d.why = spec.why or ""
    if new or spec.until != c.ends_on:
        d.until = spec.until.isoformat()
    d.stage = spec.stage if spec.stage and (new or spec.stage != c.stage) else None
    d.norm = spec.norm if spec.norm and (new or spec.norm != c.norm_key) else None
    cadence = spec.cadence
    weekday = WEEKDAYS.index(cadence.weekday)
    if new or (cadence.frequency, weekday, cadence.at) != (c.frequency, c.weekday, c.at):
        d.frequency, d.weekday, d.at = cadence.frequency, cadence.weekday, cadence.at
    if new or partner_id != c.partner_id:
        d.partner = spec.partner or "none"
    if new or spec.partner_summary != c.partner_summary:
        d.share = spec.partner_summary
    if new or spec.visibility != c.visibility:
        d.visibility = spec.visibility
    return d


async def apply_commitments(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    now = utcnow()
    for index, spec in enumerate(cfg.commitments):
        here = ("commitments", index)
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError((*here, "workspace"), f"no workspace {spec.workspace!r}")
        owner = await ids.person(session, workspace, spec.person)
        if owner is None:
            raise FieldError((*here, "person"), f"no person {spec.person!r} in {workspace.key}")
        partner = await ids.person(session, workspace, spec.partner) if spec.partner else None
        if spec.partner and partner is None:
            raise FieldError((*here, "partner"), f"no person {spec.partner!r} in {workspace.key}")
        mine = await commitments.of_person(session, id_of(owner))
        c = next((m for m in mine if m.behaviour.casefold() == spec.behaviour.casefold()), None)
        new = c is None
        try:
            team = await owner_team(session, owner, spec.team)
            if c is None:
                c = Commitment(
                    person_id=id_of(owner), team_id=id_of(team), behaviour="", ends_on=spec.until
                )
                c.confirmed_at = now
            d = _draft(spec, c, partner.id if partner else None, new)
            if spec.status in ("active", "paused") and d.given():
                changed = await apply_draft(session, now, c, d, owner, team, workspace)
            else:  # a closed commitment is history: recorded as it was, not re-validated
                changed = _as_history(c, spec, partner.id if partner else None)
        except Refused as refused:
            raise FieldError(here, str(refused)) from None
        if not spec.stage and not spec.norm and (c.stage or c.norm_key):
            c.stage = c.norm_key = None
            changed.append("stage")
        if c.status != spec.status:
            c.status, c.closed_at = (
                spec.status,
                now if spec.status in ("completed", "dropped") else None,
            )
            changed.append("status")
        if not new and not changed:
            continue
        await config_state.insert(session, c)
        target = f"commitment:{workspace.key}/{owner.handle}/{c.id}"
        if new:
            line = f"create commitment for {owner.handle}: {c.behaviour}"
            changes.record(line, "create_commitment", target, status=c.status)
        else:
            changes.record(
                f"update commitment #{c.id} of {owner.handle}: {', '.join(sorted(set(changed)))}",
                "update_commitment",
                target,
                changed=sorted(set(changed)),
            )
        due = schedule.ASAP if c.status == "active" else None
        await schedule.set_due(session, "commitment", c.id or 0, due, None)


def _as_history(c: Commitment, spec: CommitmentSpec, partner_id: int | None) -> list[str]:
    values = {
        "behaviour": spec.behaviour,
        "why": spec.why,
        "ends_on": spec.until,
        "stage": spec.stage,
        "norm_key": spec.norm,
        "frequency": spec.cadence.frequency,
        "weekday": WEEKDAYS.index(spec.cadence.weekday),
        "at": spec.cadence.at,
        "visibility": spec.visibility,
        "partner_id": partner_id,
        "partner_summary": spec.partner_summary,
    }
    changed = [k for k, v in values.items() if getattr(c, k) != v]
    for key in changed:
        setattr(c, key, values[key])
    return changed


async def export_commitments(session: AsyncSession) -> list[dict[str, Any]]:
    """Confirmed commitments (proposals waiting for their leader are not config)."""
    out: list[dict[str, Any]] = []
    for c, person, workspace_key, team_key in await commitments.all_with_people(session):
        if c.status in ("pending", "declined"):
            continue
        entry: dict[str, Any] = {
            "workspace": workspace_key,
            "person": person.handle,
            "team": team_key,
            "behaviour": c.behaviour,
        }
        if c.why:
            entry["why"] = c.why
        if c.stage:
            entry["stage"] = c.stage
        if c.norm_key:
            entry["norm"] = c.norm_key
        entry["cadence"] = Flow(frequency=c.frequency, weekday=WEEKDAYS[c.weekday], at=c.at)
        entry["until"] = c.ends_on
        entry["visibility"] = c.visibility
        if c.partner_id:
            partner = await directory.person(session, c.partner_id)
            entry["partner"] = partner.handle if partner else None
            entry["partner_summary"] = c.partner_summary
        entry["status"] = c.status
        out.append(entry)
    return out
