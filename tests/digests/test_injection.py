"""The injection corpus (tests/digests/injection_corpus.py) through the whole digest:
hostile comments in the team's round, hostile answers from the model stand-in, and the
digest as each channel shows it — Slack's Block Kit, the local chat's JSON, and plain
text with no markdown in it (what Teams' markdown must receive)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.messages import Message
from bot.slack.render import render_message
from handlers.digests.send import DigestOptions, send_digest
from storage.core.models import Person
from storage.digests import queries as digests
from storage.digests.models import Digest
from tests.digests.injection_corpus import ANSWERS, FORBIDDEN, HOSTILE_COMMENTS, PEOPLE
from tests.support.clock import FakeClock
from tests.support.digests import LAST_SESSION, SIX, add_round, shown
from tests.support.llm_standin import LLMStandIn, ok, summarizer
from tests.support.pulse_fixtures import Org, running_org

MARKDOWN = re.compile(r"[*_~`<>\[\]|#\\]")


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None) -> AsyncIterator[Org]:
    async with running_org(tmp_path, clock, executives=SIX) as org:
        async with org.app.db.session() as session:
            for handle, name, email in PEOPLE:
                session.add(Person(workspace_id=1, handle=handle, name=name, email=email))
            await digests.add_session(session, org.ids["team"], LAST_SESSION, "chat")
        closed = datetime(2026, 11, 16, 12, tzinfo=UTC)
        await add_round(org.app, org.ids, 1, closed, {h: 5 for h in SIX}, HOSTILE_COMMENTS)
        yield org


async def _digest(org: Org, options: DigestOptions) -> tuple[Digest, list[dict[str, Any]]]:
    sent = await send_digest(
        org.app.services, "leadership", reason="on_demand", occasion="demand:x", options=options
    )
    async with org.app.db.session() as session:
        row = await digests.digest(session, sent[0].digest_id)
    assert row is not None
    await org.app.sender.drain()
    local = [m for m in await org.messages("cora") if m["ref"].startswith("digest:")]
    return row, local


def _texts(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, bool]]:
    """(text, literal) of every neutral text block and context line."""
    for block in blocks:
        if block["type"] == "text":
            yield block["text"], bool(block.get("literal"))
        elif block["type"] == "context":
            yield from ((line, bool(block.get("literal"))) for line in block["lines"])
        elif block["type"] == "fields":
            yield from ((f["value"], False) for f in block["fields"])


def _assert_safe_everywhere(row: Digest, local: list[dict[str, Any]]) -> None:
    message = Message.model_validate(row.message)
    slack = json.dumps(render_message(message).payload(), ensure_ascii=False)
    (local_message,) = local
    channels = {
        "stored": json.dumps(row.content, ensure_ascii=False) + shown(row),
        "slack": slack,
        # What the person sees, not the row's wall-clock stamps (their microseconds
        # held "555" about once in a few hundred runs).
        "local": json.dumps(local_message["message"], ensure_ascii=False),
    }
    for channel, rendered in channels.items():
        found = [f for f in FORBIDDEN if f.lower() in rendered.lower()]
        assert found == [], (channel, found)
    assert re.search(r"(?<![A-Za-z])Dan(?![A-Za-z])", channels["slack"]) is None
    # Everything people or the model wrote goes as literal text: plain_text in Slack...
    summary = row.content["summary"]
    for line in summary["themes"] + summary["risks"] + summary["focus_questions"]:
        assert MARKDOWN.search(line) is None, line  # ...and nothing any markdown reads
    rendered = render_message(message).payload()["blocks"]
    objects = [b.get("text") or {} for b in rendered] + [
        e for b in rendered for e in b.get("elements", []) if "text" in e
    ]
    for question in summary["focus_questions"]:
        holders = [o for o in objects if question in o.get("text", "")]
        assert holders and all(o["type"] == "plain_text" for o in holders), question
    # ...and marked literal for the local chat and Teams.
    for text, literal in _texts(local_message["message"]["blocks"]):
        if any(q in text for q in summary["focus_questions"]):
            assert literal, text


@pytest.mark.parametrize("hostile", ANSWERS, ids=[a.id for a in ANSWERS])
async def test_hostile_answers_never_hurt_in_any_channel(
    org: Org, llm: LLMStandIn, hostile: Any
) -> None:
    llm.push(ok(hostile.answer))
    row, local = await _digest(org, DigestOptions(summarizer=summarizer(llm)))
    if hostile.kept:
        assert row.summary_source == "llm", row.fallback_reason
    else:
        assert row.summary_source == "fallback"
        assert hostile.reason in (row.fallback_reason or "")
        assert "set aside" in shown(row)  # the digest says why
    for text in hostile.survives:
        assert text in shown(row), text
    assert len(row.content["summary"]["focus_questions"]) == 3
    _assert_safe_everywhere(row, local)
    # What the model was sent: comments redacted, quoted as data.
    sent = llm.bodies()
    for banned in ("Maya", "Ma\\u200bya", "Okafor", "Dan ", "555", "10.0.0.1", "northwind", "evil"):
        assert banned not in sent, banned


async def test_hostile_comments_on_the_fallback_path(org: Org) -> None:
    row, local = await _digest(org, DigestOptions())
    assert row.summary_source == "fallback"
    _assert_safe_everywhere(row, local)
    # (comments shown as written: added with the comments section)
