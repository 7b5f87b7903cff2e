""" "No names, ever" in digests: teammates and other people of the workspace, in any case,
with possessives and punctuation, on the fallback path and the LLM path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Pulsecoach
from handlers.digest_send import DigestOptions
from scheduler.clock import FakeClock
from storage.digest_models import Digest
from storage.models import Person
from tests.digest_helpers import SIX, add_round, send, shown
from tests.llm_standin import LLMStandIn, ok, summarizer
from tests.pulse_fixtures import build_org

# Sarah Quinn is in the workspace but not in the team; Ana Okoro is a teammate; Priya
# is nobody the bot knows, written capitalised mid-sentence.
COMMENTS = [
    "SARAH from finance keeps overriding our planning.",
    "sarah's people ignore the planning calendar, see example.com/plan",
    "Ana: the planning review ran long again and okoro's notes were late.",
    "OKORO and BEN dominate planning, we asked Priya to help.",
    "After planning we asked Priya again; Ben's answer was no. Quinn agreed.",
]
NAMES = ("sarah", "quinn", "ana", "okoro", "ben", "priya")


def _named(text: str) -> list[str]:
    return [n for n in NAMES if re.search(rf"(?<![a-z]){n}(?![a-z])", text, re.IGNORECASE)]


async def _org(tmp_path: Path, clock: FakeClock) -> tuple[Pulsecoach, dict[str, int]]:
    app, ids = await build_org(tmp_path, clock, executives=SIX)
    async with app.db.session() as session:
        ana = await session.get(Person, ids["ana"])
        assert ana is not None
        ana.name = "Ana Okoro"
        session.add(ana)
        session.add(Person(workspace_id=ana.workspace_id, handle="squinn", name="Sarah Quinn"))
    await add_round(
        app, ids, 1, datetime(2026, 11, 16, 12, tzinfo=UTC), {h: 5 for h in SIX}, COMMENTS
    )
    return app, ids


def _everything(row: Digest) -> str:
    return json.dumps(row.content, ensure_ascii=False) + shown(row)


async def test_fallback_digest_names_nobody(tmp_path: Path, clock: FakeClock) -> None:
    app, _ = await _org(tmp_path, clock)
    row = await send(app, DigestOptions())
    assert row.summary_source == "fallback"
    themes = row.content["summary"]["themes"]
    # The recurring words are offered, but never a name (Priya: capitalised mid-sentence).
    assert any("“planning” (in 5 comments)" in t for t in themes), themes
    assert _named(_everything(row)) == []
    assert "example.com" not in _everything(row)


async def test_llm_digest_names_nobody_in_or_out(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, _ = await _org(tmp_path, clock)
    llm.push(
        ok(
            {
                "themes": ["SARAH and okoro's team clash over planning", "Ana: wrote about BEN"],
                "risks": ["sarah's influence, see intranet.example/x and example.com/y"],
                "focus_questions": [
                    "Why did Okoro say that?",
                    "What does Quinn need from the team?",
                    "How can planning be shorter?",
                ],
            }
        )
    )
    row = await send(app, DigestOptions(summarizer=summarizer(llm)))
    assert row.summary_source == "llm"
    text = _everything(row)
    assert "clash over planning" in text and "a team member's influence" in text
    assert _named(text) == [] and "example" not in text
    # Nor did the model see them (Priya is unknown to the bot: only the answer is checked).
    sent = llm.bodies()
    assert [n for n in _named(sent) if n != "priya"] == []
    assert "example.com" not in sent and "[link]" in sent
