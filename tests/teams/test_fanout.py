"""A round fanned out to 1,000 Teams users through the Connector stand-in, with 429s and
502s injected: every user gets exactly one card, none is lost. (The tenant's pace is
raised here; bench/teams_fanout_bench.py keeps Teams' own and measures against it.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.teams.connector import ConnectorStandIn, Faults
from tests.support.teams.fanout import build, fan_out, seed

# Full size by default; PULSECOACH_TEAMS_FANOUT scales it (e.g. down on a slow CI box).
PEOPLE = int(os.environ.get("PULSECOACH_TEAMS_FANOUT", "1000"))


async def test_every_user_gets_exactly_one_card_through_429s_and_502s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    standin = await ConnectorStandIn(Faults(throttle=0.03, bad_gateway=0.03)).start()
    app, _ = build(f"sqlite:///{tmp_path / 'fanout.db'}", per_second=50)
    # A failed post's jittered backoff (5-10 s, ...) shortened: the retries are what is tested.
    monkeypatch.setattr(app.messengers["teams"], "retry_base", 0.2)
    monkeypatch.setattr(app.messengers["teams"].pacer, "tenant", ((1.0, 1000),))  # type: ignore[attr-defined]
    try:
        await seed(app, PEOPLE, standin.url)
        result = await fan_out(app, standin, PEOPLE, give_up=300)
    finally:
        await standin.stop()
        await app.db.dispose()
    assert result.throttled > 0 and result.bad_gateway > 0  # the faults happened
    assert (result.lost, result.doubled, result.failed) == (0, 0, 0)
