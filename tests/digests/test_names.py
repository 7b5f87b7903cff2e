""" "No names, ever" in digests: teammates and other people of the workspace, in any case,
with possessives and punctuation, on the fallback path and the LLM path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Pulsecoach
from handlers.digests.send import DigestOptions
from storage.contracts.models import (
    ContractCheck,
    ContractCheckInvite,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.core.models import Person
from storage.digests.models import Digest
from tests.support.clock import FakeClock
from tests.support.digests import SIX, add_round, org_with_history, send, shown
from tests.support.llm_standin import LLMStandIn, ok, summarizer
from tests.support.pulse_fixtures import build_org

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
                "risks": [
                    "sarah's influence on planning grows, intranet.example/x",
                    "Read more at example.com/y and intranet.example/x",
                ],
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
    assert "Read more" not in text  # it lost its meaning with the links: dropped
    assert _named(text) == [] and "example" not in text
    # Nor did the model see them (Priya is unknown to the bot: only the answer is checked).
    sent = llm.bodies()
    assert [n for n in _named(sent) if n != "priya"] == []
    assert "example.com" not in sent and "[link]" in sent


async def test_contract_norms_reach_the_model_without_names_or_links(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, ids = await org_with_history(tmp_path, clock)
    norm = "We let ANA finish before deciding (see wiki.acme.com/norms)"
    async with app.db.session() as session:
        contract = TeamContract(team_id=ids["team"], current_version=1)
        session.add(contract)
        await session.flush()
        version = ContractVersion(
            contract_id=contract.id or 0, version=1, norms=[{"key": "listen", "text": norm}]
        )
        session.add(version)
        await session.flush()
        closed = datetime(2026, 11, 10, 12, tzinfo=UTC)
        check = ContractCheck(
            contract_id=contract.id or 0,
            team_id=ids["team"],
            version_id=version.id or 0,
            number=1,
            status="closed",
            norm_keys=["listen"],
            privacy="anonymous",
            min_respondents=3,
            min_comments=5,
            opened_at=closed - timedelta(days=3),
            closes_at=closed,
            closed_at=closed,
        )
        session.add(check)
        await session.flush()
        for n, handle in enumerate(SIX[:4]):
            session.add(ContractCheckInvite(check_id=check.id or 0, person_id=ids[handle]))
            session.add(
                ContractRating(
                    check_id=check.id or 0, respondent=f"r{n}", norm_key="listen", score=1
                )
            )
    row = await send(app, DigestOptions(summarizer=summarizer(llm)))
    assert row.content["contracts"][0]["norm"] == norm  # the coach sees the team's own text
    figures = llm.requests[0]["messages"][1]["content"]
    assert "We let [name] finish before deciding (see [link])" in figures
    assert any("is lived at 0/100" in f for f in row.content["flags"])  # a flag, also sent
    assert "ANA" not in llm.bodies() and "wiki.acme.com" not in llm.bodies()
