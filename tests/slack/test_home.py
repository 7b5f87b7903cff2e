"""The slash command and the App Home per role, including the admin modal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.events import ActionEvent, Actor
from handlers.pulse.close import close_team_round
from handlers.pulse.rounds import open_round
from tests.support.clock import FakeClock
from tests.support.slack.helpers import (
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    slack_org,
    slash_body,
    view_submission,
)


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


async def slash(org: SlackOrg, user: str, text: str) -> list[dict[str, Any]]:
    before = len(org.standin.responses)
    response = await org.post(slash_body(user, text, org.standin.response_url(user)))
    assert response.status == 200 and await response.text() == ""  # an empty ack
    await org.settle()
    return org.standin.responses[before:]


async def open_home(org: SlackOrg, user: str, event_id: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
    response = await org.post(event_body(event, event_id))
    assert response.status == 200
    await org.settle()
    return org.standin.views[user]


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def action_ids(view: dict[str, Any]) -> list[str]:
    return [
        e["action_id"].split("#")[0]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def closed_round_with_answers(org: SlackOrg) -> None:
    opened = await open_round(org.app.services, "leadership")
    for handle, score in (("ana", 6), ("ben", 5), ("chloe", 7)):
        actor = Actor(org.ids[handle], 1, "slack")
        for item in opened.items:
            await org.app.router.on_action(
                ActionEvent(actor, "pulse.answer", f"{opened.round_id}:{item}:{score}")
            )
    await close_team_round(org.app.services, "leadership")


async def test_slash_help_and_unknown_verbs_answer_with_help(org: SlackOrg) -> None:
    [help_] = await slash(org, "UANA", "help")
    # Commands are named as Slack people type them.
    assert "`/pulse home` your overview" in json.dumps(help_["blocks"], ensure_ascii=False)
    [not_understood, unknown] = await slash(org, "UANA", "frobnicate now")
    [offered, _] = await slash(org, "UANA", "reslts leadership")
    for answer in (help_, not_understood, unknown, offered):
        assert answer["response_type"] == "ephemeral"
    assert "pulsecoach" in unknown["text"]
    assert help_["blocks"] == unknown["blocks"]
    assert "didn't understand “frobnicate now”" in not_understood["text"]
    said = json.dumps(offered["blocks"], ensure_ascii=False)
    assert "Did you mean `/pulse results leadership`?" in said


async def test_slash_results_for_the_coach_and_refusal_for_an_executive(org: SlackOrg) -> None:
    await closed_round_with_answers(org)
    [results] = await slash(org, "UCORA", "results")
    assert "Pulse results for Leadership team" in results["text"]
    assert not any(b["type"] == "image" for b in results["blocks"])  # data: URLs are skipped
    [refused] = await slash(org, "UANA", "results leadership")
    assert refused["response_type"] == "ephemeral" and "coach" in refused["text"]


async def test_slash_from_an_unknown_user_says_how_to_get_set_up(org: SlackOrg) -> None:
    [note] = await slash(org, "USTRANGER", "help")
    assert "admin" in note["text"]


async def test_home_for_an_executive_shows_the_open_pulse(org: SlackOrg) -> None:
    await open_round(org.app.services, "leadership")
    view = await open_home(org, "UANA", "EvH1")
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    # A short card: the Answer button (a private modal), no scale and no comment box.
    assert "pulse.open" in action_ids(view)
    assert "pulse.answer" not in action_ids(view) and "pc.form" not in action_ids(view)
    assert "Latest results" not in text_of(view)  # this program keeps results to the coach


async def test_home_for_a_coach_shows_results_and_for_an_admin_the_settings(org: SlackOrg) -> None:
    await closed_round_with_answers(org)
    coach = await open_home(org, "UCORA", "EvH2")
    assert "Latest results: Leadership team" in text_of(coach)
    assert "home.results" in action_ids(coach) and "pulse.open" not in action_ids(coach)
    admin = await open_home(org, "UADAM", "EvH3")
    assert "Program settings: Leadership team" in text_of(admin)
    assert "home.admin.edit" in action_ids(admin)
    stranger = await open_home(org, "USTRANGER", "EvH4")
    assert "doesn't know you yet" in text_of(stranger)


async def test_answer_in_home_updates_the_dm_copy_and_the_home(org: SlackOrg) -> None:
    await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    view = await open_home(org, "UDEV", "EvH5")
    button = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("pulse.open")
    )
    await org.act(
        block_action(
            "UDEV",
            button["action_id"],
            button["value"],
            home=True,
            block_id=next(b["block_id"] for b in view["blocks"] if b["type"] == "actions"),
        )
    )
    [modal] = org.standin.opened
    menus = [b for b in modal["blocks"] if b["type"] == "input" and "options" in b["element"]]
    values = {b["element"]["action_id"]: "4" for b in menus}
    response = await org.post(interactive_body(view_submission("UDEV", modal, values)))
    assert response.status == 200
    await org.settle()
    await org.channel.after.drain(10.0)
    [update] = org.standin.of("chat.update")
    assert update.args["channel"] == "DUDEV"
    dm = json.dumps(org.standin.dm("UDEV")[0], ensure_ascii=False)
    assert "You answered" in dm and "✓" not in dm
    assert "Change your answers" in text_of(org.standin.views["UDEV"])


async def test_admin_edits_settings_in_a_modal_from_home(org: SlackOrg) -> None:
    view = await open_home(org, "UADAM", "EvH6")
    edit = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("home.admin.edit")
    )
    await org.act(block_action("UADAM", edit["action_id"], edit["value"], home=True))
    [modal] = org.standin.opened
    inputs = {b["element"]["action_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert {"min_respondents", "window_hours", "privacy"} <= set(inputs)
    values = {k: b["element"].get("initial_value", "") for k, b in inputs.items()}

    wrong = await org.post(
        interactive_body(view_submission("UADAM", modal, values | {"window_hours": "many"}))
    )
    refused = await wrong.json()
    assert refused["response_action"] == "errors"
    assert list(refused["errors"]) == [inputs["window_hours"]["block_id"]]

    right = await org.post(
        interactive_body(view_submission("UADAM", modal, values | {"window_hours": "48"}))
    )
    assert right.status == 200
    await org.settle()
    home = org.standin.views["UADAM"]
    assert "Saved" in text_of(home)  # the notice, as a banner on the Home tab
    assert '"*Open for (hours)*\\n48"' in text_of(home)


async def test_slash_admin_opens_the_form_as_a_modal_and_answers_privately(org: SlackOrg) -> None:
    assert await slash(org, "UADAM", "admin") == []  # no message: the form is a modal
    [modal] = org.standin.opened
    inputs = {b["element"]["action_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    values = {k: b["element"].get("initial_value", "") for k, b in inputs.items()}
    saved = await org.post(
        interactive_body(view_submission("UADAM", modal, values | {"window_hours": "60"}))
    )
    assert saved.status == 200
    await org.settle()
    [note] = org.standin.responses[-1:]
    assert note["response_type"] == "ephemeral" and "Saved" in note["text"]
    assert org.standin.of("chat.postMessage") == []  # nothing in the shared channel


async def test_the_home_view_is_neutral_and_answers_the_home_command(org: SlackOrg) -> None:
    from bot.core.events import TextEvent

    await open_round(org.app.services, "leadership")
    reply = await org.app.router.on_text(TextEvent(Actor(org.ids["ana"], 1, "local"), "home"))
    refs = [m.ref for m in reply.messages]
    assert refs[0] == "home" and any(r.startswith("pulse:") for r in refs)
    admin = await org.app.router.on_text(TextEvent(Actor(org.ids["adam"], 1, "local"), "home"))
    assert any(m.ref == "home:admin:leadership" for m in admin.messages)


async def test_home_for_a_coach_shows_the_next_session_and_the_latest_digest(
    org: SlackOrg,
) -> None:
    [added] = await slash(org, "UCORA", "session add leadership 2026-11-26 15:00")
    assert "Session added" in added["text"]
    before = text_of(await open_home(org, "UCORA", "EvC1"))
    assert "Next session: Thu 26 Nov 15:00 (Europe/Berlin)" in before
    assert "Latest digest" not in before
    await closed_round_with_answers(org)
    [sent] = await slash(org, "UCORA", "digest leadership")
    assert "on its way" in sent["text"]
    coach = text_of(await open_home(org, "UCORA", "EvC2"))
    assert "Coaching: Leadership team" in coach and "Latest digest: #1," in coach
    assert "Next session: Thu 26 Nov 15:00" in coach


async def test_home_for_an_executive_shows_commitments_and_results_the_team_may_see(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    behaviour = "ask for dissent before every decision"
    async with slack_org(tmp_path, clock, monkeypatch, team_sees=True) as org:
        await closed_round_with_answers(org)
        [saved] = await slash(org, "UANA", f'commit "{behaviour}" until 2027-02-26')
        assert "saved" in saved["text"]
        ana = text_of(await open_home(org, "UANA", "EvE1"))
        assert "Latest results: Leadership team" in ana and "home.results" in ana
        assert behaviour in ana
        ben = text_of(await open_home(org, "UBEN", "EvE2"))
        assert "Latest results: Leadership team" in ben and behaviour not in ben


async def test_opening_home_refreshes_the_time_zone_from_slack_twice_a_day_at_most(
    org: SlackOrg,
) -> None:
    from storage.core.models import Person

    org.standin.add_user("UANA", "ana@acme.test", tz="Asia/Tokyo")
    await open_home(org, "UANA", "EvZ1")
    async with org.app.db.session() as session:
        ana = await session.get(Person, org.ids["ana"])
    assert ana is not None and ana.timezone == "Asia/Tokyo"
    await open_home(org, "UANA", "EvZ2")
    asked = [c for c in org.standin.of("users.info") if c.args.get("user") == "UANA"]
    assert len(asked) == 1  # the second opening did not ask again
