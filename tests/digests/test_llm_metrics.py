"""/metrics counts the language model's calls by outcome and the digests' fallbacks,
through a digest sent with the real openai client against the local stand-in."""

from __future__ import annotations

from pathlib import Path

from bot.core import metrics
from handlers.digests.send import DigestOptions
from tests.support.clock import FakeClock
from tests.support.digests import org_with_history, send
from tests.support.llm_standin import LLMStandIn, raw, status, summarizer


def counted() -> dict[str, float]:
    """The LLM figures as /metrics shows them."""
    found: dict[str, float] = {}
    for family in metrics.REGISTRY.collect():
        if family.name in ("pulsecoach_llm_calls", "pulsecoach_llm_fallbacks"):
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[f"{family.name}:{next(iter(sample.labels.values()))}"] = sample.value
    return found


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


async def test_llm_calls_by_outcome_and_fallbacks_are_counted(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, _ = await org_with_history(tmp_path, clock)
    model = summarizer(llm, attempts=1)
    before = counted()
    await send(app, DigestOptions(summarizer=model), occasion="demand:1")
    assert moved(before, counted()) == {"pulsecoach_llm_calls:ok": 1}

    before = counted()
    llm.push(raw("not json at all"))
    row = await send(app, DigestOptions(summarizer=model), occasion="demand:2")
    assert row.summary_source != "llm"
    assert moved(before, counted()) == {
        "pulsecoach_llm_calls:unusable": 1,
        "pulsecoach_llm_fallbacks:failed": 1,
    }

    before = counted()
    llm.push(status(500))
    await send(app, DigestOptions(summarizer=model), occasion="demand:3")
    assert moved(before, counted()) == {
        "pulsecoach_llm_calls:failed": 1,
        "pulsecoach_llm_fallbacks:failed": 1,
    }

    before = counted()  # the breaker is open now: the model is not even asked
    await send(app, DigestOptions(summarizer=model), occasion="demand:4")
    assert moved(before, counted()) == {
        "pulsecoach_llm_calls:skipped": 1,
        "pulsecoach_llm_fallbacks:skipped": 1,
    }

    before = counted()
    await send(app, DigestOptions(summarizer=None), occasion="demand:5")
    assert moved(before, counted()) == {"pulsecoach_llm_fallbacks:no_model": 1}
