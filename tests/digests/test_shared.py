"""One builder and one breaker: `digest show` previews exactly what `digest send`
sends, and a model that stopped answering is skipped by every process and CLI run
(its failure state is in the database), the digest saying since when and why."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Pulsecoach
from bot.core.messages import Image, Message
from bot.llm.summarizer import summarizer_from_settings
from bot.settings import Settings
from handlers.digests.send import DigestOptions, preview_digest, send_digest
from handlers.digests.view import digest_message
from storage.digests import breaker as breaker_rows
from storage.digests import queries as digests
from storage.digests.models import Digest
from tests.support.clock import FakeClock
from tests.support.digests import org_with_history, shown
from tests.support.llm_standin import GOOD, LLMStandIn, hang, ok, summarizer
from tests.support.servers import cli, env


async def _stored(app: Pulsecoach, digest_id: int) -> Digest:
    async with app.db.session() as session:
        row = await digests.digest(session, digest_id)
    assert row is not None
    return row


def _without_chart(message: Message) -> tuple[object, ...]:
    return tuple(b for b in message.blocks if not isinstance(b, Image))


async def test_show_previews_exactly_what_send_sends(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, _ = await org_with_history(tmp_path, clock)
    for options in (DigestOptions(), DigestOptions(summarizer=summarizer(llm))):
        llm.push(ok(GOOD))
        preview = await preview_digest(app.services, "leadership", options)
        (sent,) = await send_digest(
            app.services,
            "leadership",
            reason="on_demand",
            occasion=f"demand:{options.summarizer is not None}",
            options=options,
        )
        row = await _stored(app, sent.digest_id)
        assert preview.model_dump(mode="json") == row.content
        # The same risks and the same three questions, the same page.
        assert preview.summary.risks == row.content["summary"]["risks"]
        assert preview.summary.focus_questions == row.content["summary"]["focus_questions"]
        stored = Message.model_validate(row.message)
        assert _without_chart(digest_message(preview, row.id or 0)) == _without_chart(stored)
    assert [r["model"] for r in llm.requests] == ["stand-in-1", "stand-in-1"]
    await app.db.dispose()


def _settings(tmp_path: Path, llm: LLMStandIn) -> Settings:
    return Settings(
        PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'pulse.db'}",
        OPENAI_BASE_URL=llm.base_url,
        PULSECOACH_LLM_MODEL="stand-in-1",
    )


async def test_a_model_that_stopped_answering_is_skipped_by_every_process(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    first, _ = await org_with_history(tmp_path, clock)
    settings = _settings(tmp_path, llm)
    second = Pulsecoach.build(settings, clock=clock, channels=False)  # another process
    bounds = {"timeout": 0.3, "attempts": 1, "total_seconds": 1.0, "cooldown": 300.0}
    mine = summarizer_from_settings(settings, first.db, clock, **dict(bounds))
    theirs = summarizer_from_settings(settings, second.db, clock, **dict(bounds))
    assert mine is not None and theirs is not None
    llm.push(hang())
    (sent,) = await send_digest(
        first.services, "leadership", reason="on_demand", occasion="a", options=DigestOptions(mine)
    )
    assert "timed out" in ((await _stored(first, sent.digest_id)).fallback_reason or "")
    started = time.monotonic()
    (sent,) = await send_digest(
        second.services,
        "leadership",
        reason="on_demand",
        occasion="b",
        options=DigestOptions(theirs),
    )
    assert time.monotonic() - started < 0.9  # no wait: the other process's failure counts
    row = await _stored(second, sent.digest_id)
    assert len(llm.requests) == 1 and row.summary_source == "fallback"
    assert row.fallback_reason == (
        "the language model was skipped: it stopped answering at 23 Nov 09:00 UTC "
        "(the language model timed out); it is asked again from 09:05 UTC"
    )
    assert "stand-in-1 was skipped" in shown(row)  # the digest says when and why
    # After the cool-down the model is asked again; an answer closes the breaker.
    clock.advance(timedelta(minutes=6))
    (sent,) = await send_digest(
        second.services,
        "leadership",
        reason="on_demand",
        occasion="c",
        options=DigestOptions(theirs),
    )
    assert (await _stored(second, sent.digest_id)).summary_source == "llm"
    async with second.db.session() as session:
        assert await breaker_rows.state(session, f"{llm.base_url}|stand-in-1") is None
    for model in (mine, theirs):
        await model.aclose()
    await first.db.dispose()
    await second.db.dispose()


async def test_each_cli_run_skips_a_model_that_stopped_answering(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    """`pulsecoach digest send` from cron against a hung model: once it failed, a run
    no longer waits out the retry bound (about 23 s with the defaults)."""
    app, _ = await org_with_history(tmp_path, clock)
    async with app.db.session() as session:  # as a run a minute ago left it
        now = datetime.now(UTC)  # the CLI reads the real clock
        until = now + timedelta(minutes=5)
        key = f"{llm.base_url}|stand-in-1"
        await breaker_rows.trip(session, key, now, until, "the language model timed out")
    await app.db.dispose()
    environment = env(
        f"sqlite:///{tmp_path / 'pulse.db'}",
        OPENAI_BASE_URL=llm.base_url,
        PULSECOACH_LLM_MODEL="stand-in-1",
        OPENAI_API_KEY="not-needed",
    )
    llm.push(hang())
    started = time.monotonic()
    sent = await asyncio.to_thread(cli, environment, "digest", "send", "leadership")
    assert time.monotonic() - started < 15  # the process starts; the model is not waited for
    assert "fallback summary (the language model was skipped" in sent.stdout, sent.stdout
    shown_ = await asyncio.to_thread(cli, environment, "digest", "show", "leadership")
    assert "was skipped" in shown_.stdout
    assert llm.requests == []
