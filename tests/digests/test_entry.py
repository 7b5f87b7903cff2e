"""Digest entry points: the home card's buttons, the CLI, and a period longer than the
chart (every round since the last session counts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from handlers.digests.build import TREND_ROUNDS
from handlers.digests.send import DigestOptions
from handlers.digests.view import LIST, SEND
from storage.digests import queries as digests
from storage.digests.models import Digest
from tests.support.clock import FakeClock
from tests.support.digests import COMMENTS, LAST_SESSION, SIX, add_round, org_with_history, send
from tests.support.pulse_fixtures import build_org, running_org
from tests.support.servers import cli, env


def _buttons(card: dict[str, Any]) -> dict[str, str]:
    return {
        b["action_id"]: b["value"]
        for block in card["message"]["blocks"]
        if block["type"] == "buttons"
        for b in block["buttons"]
    }


async def test_home_card_sends_a_digest_and_lists_past_ones(
    tmp_path: Path, clock: FakeClock, no_env: None
) -> None:
    async with running_org(tmp_path, clock, executives=SIX) as org:
        async with org.app.db.session() as session:
            await digests.add_session(session, org.ids["team"], LAST_SESSION, "chat")
        await add_round(org.app, org.ids, 1, datetime(2026, 11, 9, 12, tzinfo=UTC), {"ana": 5})
        _, body = await org.say("cora", "home")
        card = next(m for m in body["messages"] if m["ref"] == "home:digests:leadership")
        buttons = _buttons(card)
        assert buttons[SEND] == buttons[LIST] == "leadership"

        status_, body = await org.click("cora", SEND, buttons[SEND])
        assert status_ == 200 and "on its way (fallback summary)" in body["notice"], body
        # Again within the hour, nothing new closed: the same digest, and the text says so.
        status_, body = await org.click("cora", SEND, buttons[SEND])
        assert status_ == 200 and "no pulse round has closed since" in body["notice"], body
        # A round closes within the same hour: the refresh is a new digest.
        await add_round(org.app, org.ids, 2, org.clock.now(), {h: 5 for h in SIX})
        status_, body = await org.click("cora", SEND, buttons[SEND])
        assert status_ == 200 and "on its way" in body["notice"], body
        async with org.app.db.session() as session:
            rows = (await session.exec(select(Digest).order_by(col(Digest.id)))).all()
        assert [r.content["rounds_in_period"] for r in rows] == [1, 2]
        assert len({r.occasion for r in rows}) == 2

        status_, body = await org.click("cora", LIST, buttons[LIST])
        assert status_ == 200, body
        (listing,) = body["messages"]
        opened = [b for b in listing["message"]["blocks"] if b["type"] == "buttons"]
        assert [b["value"] for bs in opened for b in bs["buttons"]] == [
            str(r.id) for r in reversed(rows)
        ]
        # Home buttons of a team one does not coach are refused.
        status_, body = await org.click("ana", SEND, "leadership")
        assert status_ == 409 and "coaches only" in body["error"]
        status_, body = await org.click("ana", LIST, "leadership")
        assert status_ == 409


async def test_cli_digest_send_and_show(tmp_path: Path, clock: FakeClock) -> None:
    app, _ = await org_with_history(tmp_path, clock)
    await app.db.dispose()
    environment = env(f"sqlite:///{tmp_path / 'pulse.db'}")
    first = cli(environment, "digest", "send", "leadership").stdout
    assert "digest #1 to cora: queued, fallback summary (no language model configured)" in first
    again = cli(environment, "digest", "send", "leadership").stdout
    assert "digest #1 to cora: already sent" in again
    shown = cli(environment, "digest", "show", "leadership").stdout
    assert shown.startswith("COACH DIGEST: LEADERSHIP TEAM")  # the heading, as a terminal shows it
    assert "Summary built without a language model" in shown
    content = json.loads(cli(environment, "digest", "show", "leadership", "--json").stdout)
    assert content["team_key"] == "leadership" and content["summary"]["source"] == "fallback"
    async with app.db.session() as session:
        stored = (await session.exec(select(func.count()).select_from(Digest))).one()
    assert stored == 1  # show stores and sends nothing
    await app.db.dispose()


async def test_a_period_longer_than_the_chart_counts_every_round(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, ids = await build_org(tmp_path, clock, executives=SIX)
    session_at = datetime(2026, 6, 1, 14, tzinfo=UTC)
    async with app.db.session() as session:
        await digests.add_session(session, ids["team"], session_at, "config")
    await add_round(app, ids, 1, session_at - timedelta(days=2), {h: 6 for h in SIX})  # baseline
    rounds = TREND_ROUNDS + 6
    for n in range(rounds):
        closed = session_at + timedelta(weeks=n, days=3)
        answered = {h: 4 for h in SIX[: 5 if n else 6]}
        await add_round(app, ids, n + 2, closed, answered, COMMENTS if n == 0 else [])
    row = await send(app, DigestOptions())
    content = row.content
    assert content["rounds_in_period"] == rounds
    assert (content["respondents"], content["invited"]) == (5 * rounds + 1, 6 * rounds)
    # The baseline is the round before the session, 22 rounds back.
    assert content["score"]["change_basis"] == "since the last session"
    assert content["score"]["change"] < -30
    # The first round's comments count, though it is not on the chart.
    assert any("(in 4 of 5 comments)" in t for t in content["summary"]["themes"])
    assert len(content["trend"]["Score"]) == len(content["trend_labels"]) == TREND_ROUNDS
    assert content["period_index"] == 0
