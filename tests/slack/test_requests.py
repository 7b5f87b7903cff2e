"""Requests from Slack: signatures, acks, retries, unknown actions and users, and the
pulse answered by clicks in Slack, end to end through the real aiohttp server."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from handlers.pulse.rounds import open_round
from storage.pulse.models import PulseAnswer, PulseComment
from tests.support.clock import FakeClock
from tests.support.slack.helpers import (
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    signed_headers,
    slack_org,
)
from tests.support.slack.standin import TEAM


async def answers(org: SlackOrg) -> int:
    async with org.app.db.session() as session:
        return (await session.exec(select(func.count()).select_from(PulseAnswer))).one()


async def open_pulse(org: SlackOrg) -> int:
    opened = await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    return opened.round_id


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def answer_button(message: dict[str, Any], score: str = "5") -> dict[str, Any]:
    return next(
        e
        for e in buttons(message)
        if e["action_id"].startswith("pulse.answer#") and e["value"].endswith(f":{score}")
    )


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


async def test_valid_tampered_and_stale_signatures(org: SlackOrg) -> None:
    await open_pulse(org)
    button = answer_button(org.standin.dm("UANA")[0])
    payload = block_action(
        "UANA", button["action_id"], button["value"], response_url=org.standin.response_url()
    )
    body = interactive_body(payload)

    tampered = body.replace("%3A5", "%3A1")
    response = await org.client.post("/slack/events", data=tampered, headers=signed_headers(body))
    assert response.status == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 301)
    response = await org.client.post("/slack/events", data=body, headers=stale)
    assert response.status == 401
    wrong = signed_headers(body, secret="not-the-secret")
    response = await org.client.post("/slack/events", data=body, headers=wrong)
    assert response.status == 401
    await org.settle()
    assert await answers(org) == 0 and org.standin.responses == []  # no listener ran

    response = await org.post(body)
    assert response.status == 200
    await org.settle()
    assert await answers(org) == 1


async def test_click_stores_the_answer_and_updates_the_message_in_place(org: SlackOrg) -> None:
    round_id = await open_pulse(org)
    message = org.standin.dm("UANA")[0]
    button = answer_button(message, "6")
    started = time.perf_counter()
    response = await org.post(
        interactive_body(
            block_action(
                "UANA",
                button["action_id"],
                button["value"],
                response_url=org.standin.response_url("ana"),
            )
        )
    )
    acked = time.perf_counter() - started
    assert response.status == 200 and acked < 3.0
    await org.settle()
    assert await answers(org) == 1
    [update] = org.standin.responses
    assert update["replace_original"] is True
    chosen = [e for e in buttons(update) if e["text"]["text"].startswith("✓")]
    assert [e["value"] for e in chosen] == [button["value"]] and chosen[0]["style"] == "primary"
    assert f"pulse:{round_id}" in next(b["block_id"] for b in update["blocks"])
    assert org.standin.of("chat.update") == []  # response_url, not the rate-limited chat.update


async def test_comment_modal_opens_and_its_submission_is_stored(org: SlackOrg) -> None:
    await open_pulse(org)
    opener = next(
        e for e in buttons(org.standin.dm("UBEN")[0]) if e["action_id"].startswith("pc.form#")
    )
    assert opener["text"]["text"].endswith("…")
    await org.act(
        block_action(
            "UBEN",
            opener["action_id"],
            opener["value"],
            response_url=org.standin.response_url("ben"),
        )
    )
    [modal] = org.standin.opened
    assert modal["type"] == "modal" and modal["callback_id"] == "pc.form"
    [field] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"]["multiline"] is True and field["element"]["max_length"] == 1000

    from tests.support.slack.helpers import view_submission

    empty = await org.post(interactive_body(view_submission("UBEN", modal, {"comment": ""})))
    refused = await empty.json()
    assert refused["response_action"] == "errors" and field["block_id"] in refused["errors"]

    sent = await org.post(
        interactive_body(
            view_submission("UBEN", modal, {"comment": "We <b>rush</b> decisions & skip dissent"})
        )
    )
    assert sent.status == 200 and (await sent.text()) == ""
    await org.settle()
    async with org.app.db.session() as session:
        [comment] = (await session.exec(select(PulseComment))).all()
    assert comment.text == "We <b>rush</b> decisions & skip dissent"
    update, note = org.standin.responses
    assert update["replace_original"] is True and update["_key"] == "ben"
    assert note["response_type"] == "ephemeral" and "saved" in note["text"].lower()


async def test_click_on_a_closed_round_gets_a_polite_ephemeral_notice(org: SlackOrg) -> None:
    from handlers.pulse.close import close_team_round

    await open_pulse(org)
    button = answer_button(org.standin.dm("UCHLOE")[0])
    await close_team_round(org.app.services, "leadership")
    await org.act(
        block_action(
            "UCHLOE", button["action_id"], button["value"], response_url=org.standin.response_url()
        )
    )
    [note] = org.standin.responses
    assert note["response_type"] == "ephemeral" and note["replace_original"] is False
    assert "closed" in note["text"]
    assert await answers(org) == 0


async def test_unknown_action_and_unknown_user_are_acked_ignored_and_logged_once(
    org: SlackOrg, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    await open_pulse(org)
    button = answer_button(org.standin.dm("UANA")[0])
    for _ in range(2):
        response = await org.act(block_action("UANA", "no.such.action#1", "x"))
        assert response.status == 200
        response = await org.act(block_action("USTRANGER", button["action_id"], button["value"]))
        assert response.status == 200
    assert await answers(org) == 0 and org.standin.responses == []
    unknown_action = [r for r in caplog.records if "no.such.action" in r.getMessage()]
    unknown_user = [r for r in caplog.records if "USTRANGER" in r.getMessage()]
    assert len(unknown_action) == 1 and len(unknown_user) == 1


async def test_retried_event_is_processed_once(org: SlackOrg) -> None:
    body = event_body(
        {
            "type": "message",
            "channel_type": "im",
            "channel": "DANA",
            "user": "UANA",
            "text": "help",
            "ts": "1.1",
        },
        event_id="EvRETRY",
    )
    first = await org.post(body)
    await org.settle()
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    for _ in range(3):
        signed = signed_headers(body, content_type="application/json") | headers
        again = await org.client.post("/slack/events", data=body, headers=signed)
        assert again.status == 200
    await org.settle()
    assert first.status == 200
    helps = [c for c in org.standin.of("chat.postMessage") if c.args.get("channel") == "UANA"]
    assert len(helps) == 1


async def test_url_verification_is_answered(org: SlackOrg) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    response = await org.post(body)
    assert response.status == 200 and (await response.json())["challenge"] == "c-123"


async def test_direct_message_command_is_answered_in_the_dm(org: SlackOrg) -> None:
    await org.post(
        event_body(
            {
                "type": "message",
                "channel_type": "im",
                "channel": "DADAM",
                "user": "UADAM",
                "text": "teams",
                "ts": "2.1",
            },
            "EvDM",
        )
    )
    await org.settle()
    [sent] = [c for c in org.standin.of("chat.postMessage") if c.args["channel"] == "UADAM"]
    assert "Leadership team" in json.dumps(sent.args["blocks"])
    assert sent.team == TEAM


async def test_socket_mode_needs_no_public_url(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    import asyncio

    settings = {"SLACK_SIGNING_SECRET": None, "SLACK_APP_TOKEN": "xapp-standin"}
    async with slack_org(tmp_path, clock, monkeypatch, settings=settings) as socket_org:
        assert not any(
            r.resource and r.resource.canonical == "/slack/events"
            for r in socket_org.client.app.router.routes()
        )
        standin = socket_org.standin
        for _ in range(100):
            if standin.sockets:
                break
            await asyncio.sleep(0.05)
        payload = {
            "command": "/pulse",
            "text": "help",
            "team_id": TEAM,
            "user_id": "UANA",
            "channel_id": "C1",
            "response_url": standin.response_url("sock"),
            "trigger_id": "t1",
        }
        await standin.push(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "payload": payload,
                "accepts_response_payload": True,
            }
        )
        for _ in range(100):
            if standin.responses:
                break
            await asyncio.sleep(0.05)
        assert standin.socket_replies[0]["envelope_id"] == "env-1"  # acked over the socket
        assert standin.responses[0]["response_type"] == "ephemeral"
