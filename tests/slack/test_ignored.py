"""Payloads pulsecoach has no use for are acknowledged, ignored and logged once per
kind; a payload bolt cannot read is acknowledged, not a 500; an unsigned request is
refused before any listener runs (through the real server and stand-in)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.slack.test_requests import answer_button, answers, open_pulse
from tests.support.clock import FakeClock
from tests.support.slack.helpers import (
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    slack_org,
)
from tests.support.slack.standin import TEAM

USER = {"id": "UANA", "team_id": TEAM}


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


def modal(callback_id: str) -> dict[str, Any]:
    return {
        "id": "VOTHER",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": "",
        "blocks": [],
        "state": {"values": {}},
    }


def interactive(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "team": {"id": TEAM, "domain": "acme"}, "user": USER, **fields}


IGNORED = {
    "view_closed pc.form": interactive("view_closed", view=modal("pc.form"), is_cleared=False),
    "view_submission someone.else": interactive("view_submission", view=modal("someone.else")),
    "shortcut pulse.global": interactive("shortcut", callback_id="pulse.global", trigger_id="t"),
    "message_action pulse.msg": interactive(
        "message_action",
        callback_id="pulse.msg",
        trigger_id="t",
        channel={"id": "C1"},
        message={"ts": "1.0", "text": "hi"},
        response_url="",
    ),
}


def calls_but_auth(org: SlackOrg) -> list[str]:
    return [c.method for c in org.standin.calls if c.method != "auth.test"]


async def test_payloads_without_a_listener_are_acked_ignored_and_logged_once(
    org: SlackOrg, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    for round_ in range(2):
        for payload in IGNORED.values():
            response = await org.post(interactive_body(payload))
            assert response.status == 200 and await response.text() == ""
        event = {"type": "reaction_added", "user": "UANA", "reaction": "tada"}
        response = await org.post(event_body(event, f"EvReaction{round_}"))
        assert response.status == 200
    await org.settle()
    assert calls_but_auth(org) == [] and org.standin.responses == []  # nothing ran
    for kind in [*IGNORED, "event reaction_added"]:
        logged = [r for r in caplog.records if f"ignoring {kind}:" in r.getMessage()]
        assert len(logged) == 1, kind


@pytest.mark.parametrize("actions", [None, [], ["not-an-object"]])
async def test_block_actions_without_actions_are_acked_not_a_500(
    org: SlackOrg, actions: list[Any] | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    payload = block_action("UANA", "home.help#1", "", response_url=org.standin.response_url())
    if actions is None:
        del payload["actions"]
    else:
        payload["actions"] = actions
    response = await org.act(payload)
    assert response.status == 200
    assert calls_but_auth(org) == [] and org.standin.responses == []
    assert any("block_actions without actions" in r.getMessage() for r in caplog.records)


async def test_an_unsigned_request_is_refused_and_runs_no_listener(org: SlackOrg) -> None:
    await open_pulse(org)
    button = answer_button(org.standin.dm("UANA")[0])
    body = interactive_body(
        block_action(
            "UANA", button["action_id"], button["value"], response_url=org.standin.response_url()
        )
    )
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await org.client.post("/slack/events", data=body, headers=plain)
    assert response.status == 401
    await org.settle()
    assert await answers(org) == 0 and org.standin.responses == []
    assert (await org.post(body)).status == 200  # the same body, signed, is taken
    await org.settle()
    assert len(org.standin.opened) == 1  # the private form opened
