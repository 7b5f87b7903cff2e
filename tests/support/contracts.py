"""Contract check test helpers: a contract and an open check built through the
handlers, rows, and the check answered through its private form in the local chat."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from bot.app import Pulsecoach
from handlers.contracts.commands import save_version
from handlers.contracts.schedule import open_check
from storage.contracts import queries as contracts
from storage.contracts.models import ContractCheck
from storage.core.models import Team
from tests.support.pulse_fixtures import Org

Answers = tuple[dict[str, int], str | None, bool]
NORMS = [
    "We disagree in the room, not after.",
    "We ask for help early.",
    "We say what we see, kindly.",
]


async def rows(app: Pulsecoach, model: Any) -> list[Any]:
    async with app.db.session() as session:
        return list((await session.exec(select(model))).all())


async def open_contract_check(
    app: Pulsecoach, team_id: int, privacy: str = "anonymous"
) -> ContractCheck:
    """The team's contract (NORMS), a check opened on it, and every message sent."""
    async with app.db.session() as session:
        team = await session.get(Team, team_id)
        assert team is not None
        await save_version(session, app.services.clock.now(), team, NORMS, None)
        contract = await contracts.for_team(session, team_id)
        assert contract is not None
        contract.privacy = privacy
        session.add(contract)
    check, _ = await open_check(app.services, team_id)
    await app.sender.drain()
    return check


async def answers_of(app: Pulsecoach, check_id: int, person_id: int) -> Answers:
    """What the open check holds of one person, read the way the bot reads it:
    (ratings by norm, comment, whether the invite says answered)."""
    async with app.db.session() as session:
        check = await contracts.check(session, check_id)
        invite = await contracts.invite_for(session, check_id, person_id)
        assert check is not None and invite is not None
        token = await contracts.respondent_token(session, check, person_id)
        assert token is not None
        mine = await contracts.ratings_of(session, check_id, token)
        return mine, await contracts.comment_of(session, check_id, token), invite.answered


async def kept(app: Pulsecoach) -> str:
    """Every message the local chat and the outbox store, as JSON text."""
    async with app.db.engine.connect() as connection:
        found = (await connection.execute(text("SELECT payload FROM local_message"))).all()
        found += (await connection.execute(text("SELECT payload FROM outbox_message"))).all()
    return "\n".join(r[0] if isinstance(r[0], str) else json.dumps(r[0]) for r in found)


def latest(messages: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    found = [m for m in messages if m["ref"].startswith(prefix)]
    assert found, f"no message {prefix}"
    return found[-1]


def texts(message: dict[str, Any]) -> str:
    blocks = message["message"]["blocks"]
    return " | ".join(
        b.get("text") or " ".join(b.get("lines", []))
        for b in blocks
        if b["type"] in ("text", "context")
    )


def questions(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A private form's questions by input id (the norm keys)."""
    return {b["input_id"]: b for b in form["blocks"] if b["type"] == "question"}


async def open_form(org: Org, handle: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The person's check message and the private form its Rate button opens."""
    message = latest(await org.messages(handle), "contract-check:")
    [opener] = [
        b
        for block in message["message"]["blocks"]
        if block["type"] == "buttons"
        for b in block["buttons"]
        if b["action_id"] == "contract.open"
    ]
    assert opener["form_action"] == "contract.submit"
    status, body = await org.click(
        handle, "contract.open", opener["value"], message_id=message["id"]
    )
    assert status == 200 and body["form"], body
    return message, body["form"]


async def rate(org: Org, handle: str, score: int, comment: str | None = None) -> int:
    """Every norm of the person's open check rated `score` in the private form."""
    message, form = await open_form(org, handle)
    inputs = {key: str(score) for key in questions(form)}
    if comment is not None:
        inputs["comment"] = comment
    status, body = await org.click(
        handle, form["action_id"], form["value"], message_id=message["id"], inputs=inputs
    )
    assert status == 200, body
    return int(form["value"])
