"""Coach digests: withheld figures, missed commitments, stored and delivered once, reopened."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from handlers.digests.send import DigestOptions, send_digest
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.core.models import OutboxMessage
from storage.digests import queries as digests
from tests.support.clock import FakeClock
from tests.support.digests import LAST_SESSION, SIX, add_round, org_with_history, send, shown
from tests.support.llm_standin import LLMStandIn, summarizer
from tests.support.pulse_fixtures import build_org, running_org


async def test_withheld_figures_say_why(tmp_path: Path, clock: FakeClock) -> None:
    app, ids = await build_org(tmp_path, clock, executives=SIX)
    await add_round(app, ids, 1, datetime(2026, 11, 16, 12, tzinfo=UTC), {"ana": 5, "ben": 6})
    row = await send(app, DigestOptions())
    text = shown(row)
    assert row.content["score"]["score"] is None
    assert "Score of round 1: 2 respondents; results show from 3." in text
    assert "withheld" in text and "no language model configured" in text
    assert "Comments of round 1: 2 respondents; comments show from 5." in text


async def test_sent_twice_is_stored_and_delivered_once(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, _ = await org_with_history(tmp_path, clock)
    options = DigestOptions(summarizer=summarizer(llm))
    first = await send_digest(
        app.services, "leadership", reason="on_demand", occasion="demand:x", options=options
    )
    again = await send_digest(
        app.services, "leadership", reason="on_demand", occasion="demand:x", options=options
    )
    assert [s.created for s in first] == [True] and [s.created for s in again] == [False]
    assert first[0].digest_id == again[0].digest_id and len(llm.requests) == 1
    await app.sender.drain()
    await app.sender.drain()
    async with app.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert [(r.kind, r.status) for r in rows] == [("digest", "sent")]


async def test_missed_commitments_are_flagged_per_leader(tmp_path: Path, clock: FakeClock) -> None:
    app, ids = await org_with_history(tmp_path, clock)
    async with app.db.session() as session:
        commitment = Commitment(
            person_id=ids["ana"],
            team_id=ids["team"],
            behaviour="ask for dissent before every decision",
            ends_on=datetime(2027, 3, 1).date(),
            confirmed_at=LAST_SESSION,
        )
        session.add(commitment)
        await session.flush()
        for week, outcome in enumerate(["kept", "missed", "missed"]):
            session.add(
                CommitmentCheckIn(
                    commitment_id=commitment.id or 0,
                    occurrence=f"2026-11-{6 + 7 * week:02d}",
                    asked_at=LAST_SESSION + timedelta(days=4 + 7 * week),
                    outcome=outcome,
                    reflection="Forgot in the budget meeting" if outcome == "missed" else None,
                )
            )
    row = await send(app, DigestOptions())
    text = shown(row)
    assert "Ana missed 2 recent check-in(s) of “ask for dissent before every decision”." in text
    assert "Forgot in the budget meeting" in text  # the coach sees reflections
    questions = row.content["summary"]["focus_questions"]
    assert any(q.startswith("What got in the way") for q in questions), questions


async def test_coach_asks_lists_and_reopens_past_digests(
    tmp_path: Path, clock: FakeClock, no_env: None
) -> None:
    async with running_org(tmp_path, clock, executives=SIX) as org:
        async with org.app.db.session() as session:
            await digests.add_session(session, org.ids["team"], LAST_SESSION, "chat")
        for number, day in ((1, 9), (2, 16)):
            closed = datetime(2026, 11, day, 12, tzinfo=UTC)
            await add_round(org.app, org.ids, number, closed, {h: 5 for h in SIX})
        status_, body = await org.say("cora", "digest")
        assert status_ == 200, body
        await org.app.sender.drain()
        (message,) = [m for m in await org.messages("cora") if m["ref"].startswith("digest:")]
        assert message["message"]["blocks"][0]["text"] == "Coach digest: Leadership team"
        # Asking again within the hour shows the same digest; nothing new is queued.
        status_, body = await org.say("cora", "digest leadership")
        assert status_ == 200 and "already" in json.dumps(body)
        status_, _ = await org.say("cora", "digests")
        listing = [m for m in await org.messages("cora") if m["ref"].startswith("digest-list:")]
        buttons = [b for b in listing[-1]["message"]["blocks"] if b["type"] == "buttons"]
        digest_id = buttons[0]["buttons"][0]["value"]
        status_, reopened = await org.click("cora", "digest.open", digest_id)
        assert status_ == 200, reopened
        status_, refused = await org.click("ana", "digest.open", digest_id)
        assert status_ == 409 and "someone else" in refused["error"]
        status_, refused = await org.say("ana", "digest leadership")
        assert status_ == 409 and "coaches only" in refused["error"]
        # The chart is served as a PNG from the URL in the message, with its token only.
        image = [b for b in message["message"]["blocks"] if b["type"] == "image"]
        assert image and image[0]["url"].startswith("/charts/digests/")
        response = await org.client.get(image[0]["url"])
        assert response.status == 200 and response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")
        forged = await org.client.get(f"/charts/digests/{digest_id}-{'0' * 32}.png")
        assert forged.status == 404


async def test_a_digest_asked_in_chat_uses_the_apps_own_settings(
    tmp_path: Path, clock: FakeClock, no_env: None
) -> None:
    """Handlers read no settings: the public URL (and the model) come in the app's
    Services, so a digest asked for in chat links its chart from the configured URL."""
    public = {"PULSECOACH_PUBLIC_URL": "https://coach.example.test"}
    async with running_org(tmp_path, clock, executives=SIX, settings=public) as org:
        assert org.app.services.public_url == "https://coach.example.test"
        assert org.app.services.summarizer is None  # no model configured: the fallback
        async with org.app.db.session() as session:
            await digests.add_session(session, org.ids["team"], LAST_SESSION, "chat")
        for number, day in ((1, 9), (2, 16)):
            closed = datetime(2026, 11, day, 12, tzinfo=UTC)
            await add_round(org.app, org.ids, number, closed, {h: 5 for h in SIX})
        status_, body = await org.say("cora", "digest")
        assert status_ == 200, body
        await org.app.sender.drain()
        (message,) = [m for m in await org.messages("cora") if m["ref"].startswith("digest:")]
        (image,) = [b for b in message["message"]["blocks"] if b["type"] == "image"]
        assert image["url"].startswith("https://coach.example.test/charts/digests/")
