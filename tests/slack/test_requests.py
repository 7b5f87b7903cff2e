"""Requests from Slack: signatures, acks, retries, unknown actions and users, and the
pulse answered by clicks in Slack, end to end through the real aiohttp server."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import func
from sqlmodel import select

from handlers.pulse.rounds import open_round
from storage.pulse.models import PulseAnswer, PulseOpenAnswer, PulseOpenComment
from tests.support.clock import FakeClock
from tests.support.slack.helpers import (
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    signed_headers,
    slack_org,
    view_submission,
)
from tests.support.slack.standin import TEAM


async def answers(org: SlackOrg) -> int:
    """Answers stored: held apart while the round is open, and of closed rounds."""
    async with org.app.db.session() as session:
        held = (await session.exec(select(func.count()).select_from(PulseOpenAnswer))).one()
        return held + (await session.exec(select(func.count()).select_from(PulseAnswer))).one()


async def open_pulse(org: SlackOrg) -> int:
    opened = await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    return opened.round_id


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def answer_button(message: dict[str, Any]) -> dict[str, Any]:
    """The pulse message's Answer button (it opens the private form)."""
    return next(e for e in buttons(message) if e["action_id"].startswith("pulse.open#"))


def inputs_of(modal: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in modal["blocks"] if b["type"] == "input" and b["element"]["type"] == kind]


def progress(update: dict[str, Any]) -> int:
    """How many items an update of the pulse message says were answered."""
    found = re.search(r"(\d+) of \d+ answered", update["text"])
    if found:
        return int(found.group(1))
    return 7 if "You answered" in update["text"] else 0


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


async def test_valid_tampered_and_stale_signatures(org: SlackOrg) -> None:
    round_id = await open_pulse(org)
    button = answer_button(org.standin.dm("UANA")[0])
    payload = block_action(
        "UANA", button["action_id"], button["value"], response_url=org.standin.response_url()
    )
    body = interactive_body(payload)

    tampered = body.replace(f"%22{round_id}%22", f"%22{round_id + 1}%22")
    assert tampered != body
    response = await org.client.post("/slack/events", data=tampered, headers=signed_headers(body))
    assert response.status == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 301)
    response = await org.client.post("/slack/events", data=body, headers=stale)
    assert response.status == 401
    wrong = signed_headers(body, secret="not-the-secret")
    response = await org.client.post("/slack/events", data=body, headers=wrong)
    assert response.status == 401
    await org.settle()
    assert org.standin.opened == [] and org.standin.responses == []  # no listener ran

    response = await org.post(body)
    assert response.status == 200
    await org.settle()
    assert len(org.standin.opened) == 1


async def test_bolt_checks_signatures_itself_only_off_the_checked_route(org: SlackOrg) -> None:
    """The route checks the signature before bolt (401 above), so bolt's own check is
    off for it; what reaches bolt another way is still checked: an unsigned or
    tampered HTTP request is refused, a Socket Mode payload (never signed) is not."""
    bolt = org.channel.bolt
    assert not any(isinstance(m, AsyncRequestVerification) for m in bolt._async_middleware_list)
    await open_pulse(org)
    button = answer_button(org.standin.dm("UANA")[0])
    payload = block_action("UANA", button["action_id"], button["value"], response_url="")
    body = interactive_body(payload)
    signed = signed_headers(body)
    unsigned = {"Content-Type": signed["Content-Type"]}
    tampered = {**signed, "X-Slack-Signature": "v0=" + "0" * 64}
    for headers in (unsigned, tampered):
        response = await bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        assert response.status == 401
    broken = interactive_body({**payload, "actions": []})  # no action: bolt could not match
    response = await bolt.async_dispatch(AsyncBoltRequest(body=broken, headers=unsigned))
    assert response.status == 401  # the signature before the shape
    response = await bolt.async_dispatch(AsyncBoltRequest(body=body, headers=signed))
    assert response.status == 200
    await org.settle()
    assert len(org.standin.opened) == 1
    socket = AsyncBoltRequest(body=payload, mode="socket_mode")
    assert (await bolt.async_dispatch(socket)).status == 200
    await org.settle()
    assert len(org.standin.opened) == 2


async def test_answers_go_in_a_private_modal_and_the_message_shows_progress_only(
    org: SlackOrg,
) -> None:
    round_id = await open_pulse(org)
    message = org.standin.dm("UANA")[0]
    assert not [e for e in buttons(message) if e["action_id"].startswith("pulse.answer")]
    button = answer_button(message)
    assert button["text"]["text"] == "Answer"
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
    [modal] = org.standin.opened
    assert modal["type"] == "modal" and modal["callback_id"] == "pc.form"
    menus = inputs_of(modal, "static_select")
    assert len(menus) == 7 and all("initial_option" not in b["element"] for b in menus)
    first = menus[0]["element"]
    assert first["options"][0]["text"]["text"].startswith("1 — ")  # the scale's ends named
    chosen = {b["element"]["action_id"]: "6" for b in menus[:3]}
    sent = await org.post(
        interactive_body(view_submission("UANA", modal, chosen | {"comment": "Fine & <calm>"}))
    )
    assert sent.status == 200 and (await sent.text()) == ""
    await org.settle()
    assert await answers(org) == 3
    [update] = org.standin.responses  # no "saved" notice: the message says it
    assert update["replace_original"] is True and progress(update) == 3
    assert f"pulse:{round_id}" in next(b["block_id"] for b in update["blocks"])
    # What Slack keeps of the message holds no value and no comment.
    kept = json.dumps(update)
    assert "✓" not in kept and '"6"' not in kept and "calm" not in kept
    assert org.standin.of("chat.update") == []  # response_url, not the rate-limited chat.update

    # Opened again, the modal shows her own answers and comment, and the limit.
    await org.act(block_action("UANA", button["action_id"], button["value"]))
    again = org.standin.opened[-1]
    menus = inputs_of(again, "static_select")
    chosen_again = [b["element"].get("initial_option", {}).get("value") for b in menus[:4]]
    assert chosen_again == ["6", "6", "6", None]
    [box] = inputs_of(again, "plain_text_input")
    assert (
        box["element"]["initial_value"] == "Fine & <calm>" and box["element"]["max_length"] == 1000
    )
    assert "Your comment is saved" in json.dumps(again)


async def test_a_refused_form_shows_the_error_in_the_modal_and_stores_nothing(
    org: SlackOrg,
) -> None:
    await open_pulse(org)
    button = answer_button(org.standin.dm("UBEN")[0])
    await org.act(
        block_action(
            "UBEN",
            button["action_id"],
            button["value"],
            response_url=org.standin.response_url("ben"),
        )
    )
    [modal] = org.standin.opened
    [field] = inputs_of(modal, "plain_text_input")
    assert field["element"]["multiline"] is True and field["element"]["max_length"] == 1000
    empty = await org.post(interactive_body(view_submission("UBEN", modal, {"comment": ""})))
    refused = await empty.json()
    assert refused["response_action"] == "errors" and list(refused["errors"]) == [field["block_id"]]
    assert "write a comment" in refused["errors"][field["block_id"]]
    sent = await org.post(
        interactive_body(
            view_submission("UBEN", modal, {"comment": "We <b>rush</b> decisions & skip dissent"})
        )
    )
    assert sent.status == 200
    await org.settle()
    async with org.app.db.session() as session:
        [comment] = (await session.exec(select(PulseOpenComment))).all()
    assert comment.text == "We <b>rush</b> decisions & skip dissent"
    [update] = org.standin.responses
    assert update["replace_original"] is True and update["_key"] == "ben"
    assert "rush" not in json.dumps(update)


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
    assert await answers(org) == 0 and org.standin.opened == []


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
    assert await answers(org) == 0 and org.standin.responses == [] and org.standin.opened == []
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
