"""Updates of a clicked message: one at a time per message, newest wins, so quick
clicks never leave an older state on screen (through the real server and stand-in)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from storage.pulse.models import PulseRound
from tests.slack.test_requests import answers, open_pulse, progress
from tests.support.clock import FakeClock
from tests.support.slack.helpers import SlackOrg, block_action, interactive_body, slack_org


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


def checked(update: dict[str, Any]) -> int:
    return progress(update)


async def answer_clicks(org: SlackOrg, round_id: int, score: int) -> list[dict[str, Any]]:
    """One `pulse.answer` per item (the neutral one-answer action; people answer in the
    private form, but any quick succession of updates of one message goes this way)."""
    async with org.app.db.session() as session:
        round_ = await session.get(PulseRound, round_id)
        assert round_ is not None
    return [
        {"action_id": f"pulse.answer#{n}", "value": f"{round_id}:{item}:{score}"}
        for n, item in enumerate(round_.item_keys, start=1)
    ]


async def test_quick_clicks_end_on_the_newest_state_and_skip_stale_ones(org: SlackOrg) -> None:
    round_id = await open_pulse(org)
    clicks = await answer_clicks(org, round_id, 4)
    org.standin.respond_delay = 0.2  # a slow response_url: clicks pile up behind it
    sent = await asyncio.gather(
        *(
            org.post(
                interactive_body(
                    block_action(
                        "UANA",
                        click["action_id"],
                        click["value"],
                        response_url=org.standin.response_url("ana"),
                    )
                )
            )
            for click in clicks
        )
    )
    assert all(response.status == 200 for response in sent)
    await org.settle()

    assert await answers(org) == len(clicks)
    shown = [checked(update) for update in org.standin.responses]
    assert shown[-1] == len(clicks)  # the screen ends on every answer
    assert shown == sorted(shown)  # never an older state after a newer one
    assert len(shown) < len(clicks)  # states superseded while waiting were never sent
    assert org.channel.replies.updates.superseded == len(clicks) - len(shown)


async def test_a_refused_click_among_quick_clicks_still_gets_its_notice(org: SlackOrg) -> None:
    round_id = await open_pulse(org)
    [first, second] = (await answer_clicks(org, round_id, 2))[:2]
    org.standin.respond_delay = 0.2
    url = org.standin.response_url("ben")
    clicks = [
        (first["action_id"], first["value"]),
        ("pulse.answer#1", f"{round_id}:no_such_item:9"),
        (second["action_id"], second["value"]),
    ]
    await asyncio.gather(
        *(
            org.post(interactive_body(block_action("UBEN", action, value, response_url=url)))
            for action, value in clicks
        )
    )
    await org.settle()
    notices = [r for r in org.standin.responses if r.get("response_type") == "ephemeral"]
    updates = [r for r in org.standin.responses if r.get("replace_original")]
    assert len(notices) == 1  # the refused click's notice went out
    assert checked(updates[-1]) == 2


async def test_a_burst_of_home_tab_answers_does_not_delay_a_message_click(org: SlackOrg) -> None:
    """Home-tab answers update the DM copy with chat.update, paced at ~50 a minute; they
    must wait on that pacer without taking the after-ack slots everyone else needs."""
    round_id = await open_pulse(org)
    pacer = org.channel.link.pacer
    pacer.per_minute["chat.update"] = 30.0  # one every 2 s
    people = ("UBEN", "UCHLOE", "UDEV")
    block_id = next(b["block_id"] for b in org.standin.dm("UBEN")[0]["blocks"])
    clicks = [
        block_action(user, e["action_id"], e["value"], home=True, block_id=block_id)
        for user in people
        for e in await answer_clicks(org, round_id, 4)
    ]
    items = len(clicks) // len(people)
    burst = clicks * 4  # more than the 64 after-ack slots
    assert len(burst) > 64
    acks = await asyncio.gather(*(org.post(interactive_body(click)) for click in burst))
    assert all(response.status == 200 for response in acks)
    button = (await answer_clicks(org, round_id, 6))[0]
    url = org.standin.response_url("ana")
    await org.post(
        interactive_body(
            block_action("UANA", button["action_id"], button["value"], response_url=url)
        )
    )
    loop = asyncio.get_running_loop()
    # Held slots would free one per 2 s: this click would wait ~40 s for one.
    deadline = loop.time() + 15.0
    while await answers(org) < len(people) * items + 1:
        assert loop.time() < deadline, "the message click's answer waited behind the burst"
        await asyncio.sleep(0.05)
    pacer.per_minute["chat.update"] = 6000.0  # the rest of the test need not wait
    await org.channel.after.drain(30.0)
    updates = org.standin.of("chat.update")
    assert {c.args["channel"] for c in updates} == {f"D{user}" for user in people}
    assert len(updates) < len(burst) // 4  # newest only: states superseded while waiting
    for user in people:
        assert checked(org.standin.dm(user)[0]) == items  # each DM copy ends on every answer
