"""A contract check in Slack, through the real server and the Slack stand-in (#13): the
DM shows the norms and progress, the ratings and comment go through a private modal
(which Slack keeps in no conversation), and no version Slack was given of any message
(chat.postMessage, chat.update, response_url) holds a rating or the comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.slack.test_requests import buttons, inputs_of
from tests.support.clock import FakeClock
from tests.support.contracts import answers_of, open_contract_check
from tests.support.slack.helpers import (
    SlackOrg,
    block_action,
    interactive_body,
    slack_org,
    view_submission,
)

COMMENT = "Decisions get reopened in side chats & nobody says so."


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


def check_message(org: SlackOrg, user: str) -> dict[str, Any]:
    [found] = [m for m in org.standin.dm(user) if "Contract check" in json.dumps(m)]
    return found


def rate_button(message: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in buttons(message) if e["action_id"].startswith("contract.open#"))


async def open_modal(org: SlackOrg, user: str, key: str) -> dict[str, Any]:
    button = rate_button(check_message(org, user))
    response_url = org.standin.response_url(key)
    await org.act(
        block_action(user, button["action_id"], button["value"], response_url=response_url)
    )
    return org.standin.opened[-1]


def every_version(org: SlackOrg) -> str:
    """Every message Slack was given, and every update of one, as JSON."""
    sent = [c.args for c in org.standin.calls if c.method in ("chat.postMessage", "chat.update")]
    return json.dumps(sent + org.standin.responses)


async def test_a_contract_check_is_rated_in_a_private_modal(org: SlackOrg) -> None:
    check = await open_contract_check(org.app, org.ids["team"])
    message = check_message(org, "UANA")
    assert not [b for b in message["blocks"] if b["type"] == "input"]
    assert [e["text"]["text"] for e in buttons(message)] == ["Rate", "Skip this one"]
    assert len([e for e in buttons(message)]) == 2  # no scale in the message

    modal = await open_modal(org, "UANA", "ana")
    assert modal["type"] == "modal" and modal["title"]["text"] == "Your contract check"
    menus = inputs_of(modal, "static_select")
    assert [m["element"]["action_id"] for m in menus] == check.norm_keys
    assert all("initial_option" not in m["element"] for m in menus)
    first, second = check.norm_keys
    sent = await org.post(
        interactive_body(
            view_submission("UANA", modal, {first: "2", second: "5", "comment": COMMENT})
        )
    )
    assert sent.status == 200 and (await sent.text()) == ""
    await org.settle()
    assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == (
        {first: 2, second: 5},
        COMMENT,
        True,
    )
    [update] = org.standin.responses
    assert update["replace_original"] is True and "all rated" in json.dumps(update)
    assert org.standin.of("chat.update") == []

    # Opened again: her own ratings and comment, in the modal alone.
    again = await open_modal(org, "UANA", "ana")
    chosen = [m["element"]["initial_option"]["value"] for m in inputs_of(again, "static_select")]
    assert chosen == ["2", "5"]
    [box] = inputs_of(again, "plain_text_input")
    assert box["element"]["initial_value"] == COMMENT

    # Ben rates the other way round: what Slack keeps of his check is hers.
    ben = await open_modal(org, "UBEN", "ben")
    await org.post(interactive_body(view_submission("UBEN", ben, {first: "5", second: "2"})))
    await org.settle()
    hers, his = org.standin.responses
    assert {k: v for k, v in hers.items() if k != "_key"} == {
        k: v for k, v in his.items() if k != "_key"
    }
    kept = every_version(org)
    assert "side chats" not in kept and "initial_option" not in kept
    assert "static_select" not in kept and "plain_text_input" not in kept


async def test_a_wrong_modal_shows_the_reason_and_stores_nothing(org: SlackOrg) -> None:
    check = await open_contract_check(org.app, org.ids["team"])
    modal = await open_modal(org, "UBEN", "ben")
    [field] = inputs_of(modal, "plain_text_input")
    empty = await org.post(interactive_body(view_submission("UBEN", modal, {"comment": " "})))
    refused = await empty.json()
    assert refused["response_action"] == "errors"
    assert "Choose a rating or write a comment" in json.dumps(refused["errors"])
    long = await org.post(
        interactive_body(
            view_submission("UBEN", modal, {check.norm_keys[0]: "3", "comment": "x" * 1001})
        )
    )
    assert "at most 1000 characters" in json.dumps(await long.json())
    await org.settle()
    assert await answers_of(org.app, check.id or 0, org.ids["ben"]) == ({}, None, False)
    assert org.standin.responses == [] and field["element"]["max_length"] == 1000
