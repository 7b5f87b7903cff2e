"""Skip and Snooze after some answers (#15.2): the answers are kept and count, and the
person is told so; the home view tells a snoozed pulse from a skipped one."""

from __future__ import annotations

from pathlib import Path

from bot.core.events import ActionEvent, Actor
from handlers.home.view import cards_for
from handlers.pulse.close import close_team_round
from handlers.pulse.results import team_results
from handlers.pulse.rounds import open_round
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import running_org


async def test_skip_after_answers_keeps_them_and_says_so(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        opened = await open_round(org.app.services, "leadership")
        router = org.app.router
        for handle in ("ana", "ben", "chloe"):
            actor = Actor(org.ids[handle], 1, "local")
            for item in opened.items[: 7 if handle != "chloe" else 3]:
                await router.on_action(
                    ActionEvent(actor, "pulse.answer", f"{opened.round_id}:{item}:5")
                )
        chloe = Actor(org.ids["chloe"], 1, "local")
        reply = await router.on_action(ActionEvent(chloe, "pulse.skip", str(opened.round_id)))
        assert reply.update is not None
        said = reply.update.text
        assert said.startswith("Skipped the rest — no more reminders for this pulse.")
        assert "Your 3 of 7 answers are kept: they count in the team's results" in said

        # Her home says she skipped, and that her answers count.
        cards = await cards_for(org.app.services, org.ids["chloe"])
        [note] = [c.text for c in cards if c.ref.startswith("home:pulse:")]
        assert note.startswith("You skipped the open pulse for Leadership team")
        assert "Your 3 of 7 answers are kept" in note

        # Dev skips without answering: plain "Skipped".
        dev = Actor(org.ids["dev"], 1, "local")
        reply = await router.on_action(ActionEvent(dev, "pulse.skip", str(opened.round_id)))
        assert reply.update is not None
        assert reply.update.text == "Skipped — no problem. See you at the next pulse."

        # And they count: three respondents, as Chloe was told.
        closed = await close_team_round(org.app.services, "leadership")
        assert closed.answered == 3
        results = await team_results(org.app.services, "leadership")
        latest = results.latest
        assert latest is not None and latest.summary.respondents == 3


async def test_home_tells_snoozed_from_skipped(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        opened = await open_round(org.app.services, "leadership")
        ana = Actor(org.ids["ana"], 1, "local")
        await org.app.router.on_action(
            ActionEvent(ana, "pulse.answer", f"{opened.round_id}:{opened.items[0]}:6")
        )
        reply = await org.app.router.on_action(
            ActionEvent(ana, "pulse.snooze", str(opened.round_id))
        )
        assert reply.update is not None
        assert reply.update.text.startswith("Snoozed: no pulses for you until")
        assert "Your 1 of 7 answers are kept" in reply.update.text
        cards = await cards_for(org.app.services, org.ids["ana"])
        [note] = [c.text for c in cards if c.ref.startswith("home:pulse:")]
        assert note.startswith("You snoozed pulses until ")
        assert "skipped" not in note
