"""One visibility rule for every figure (#13): spreads only from the comment threshold,
and no round whose figures, set against the previous shown round's, would isolate
fewer people than the threshold."""

from __future__ import annotations

from pathlib import Path

from handlers.pulse.close import close_team_round
from handlers.pulse.results import results_message, team_results
from tests.pulse.test_pulse import _answer_all, _open
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import Org, running_org

FIVE = ("ana", "ben", "chloe", "dev", "eve")


async def _round(org: Org, who: tuple[str, ...], score: int = 5) -> None:
    round_id = await _open(org)
    for handle in who:
        await _answer_all(org, handle, round_id, [score] * 7)
    await close_team_round(org.app.services, "leadership")


async def test_spreads_show_only_from_the_comment_threshold(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock, executives=FIVE) as org:
        await _round(org, FIVE[:3])  # 3: scores yes (threshold 3), spreads no (comments 5)
        results = await team_results(org.app.services, "leadership")
        summary = results.rounds[-1].summary
        assert summary.overall is not None and summary.overall.distribution == {}
        assert summary.items and all(
            s is None or s.distribution == {} for s in summary.items.values()
        )
        text = str(results_message(results, with_chart=False))
        assert "How people answered: withheld" in text and "1: 0" not in text
        await _round(org, FIVE)  # 5 people: differ from the 3 by 2 (< 3): withheld
        await _round(org, FIVE)  # next to the withheld round 2: shown, spreads and all
        results = await team_results(org.app.services, "leadership")
        second, third = results.rounds[-2].summary, results.rounds[-1].summary
        assert second.overall is None and "2 people differ" in (second.withheld or "")
        assert third.overall is not None and sum(third.overall.distribution.values()) == 35


async def test_a_round_one_person_away_from_the_last_shown_is_withheld(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock, executives=FIVE) as org:
        await _round(org, FIVE[:4], score=4)
        await _round(org, FIVE[:3], score=6)  # dev's answers = 4 x round1 - 3 x round2
        await _round(org, FIVE[:4], score=4)  # next to a withheld round: shown
        results = await team_results(org.app.services, "leadership")
        first, second, third = (r.summary for r in results.rounds[-3:])
        assert first.overall is not None and third.overall is not None
        assert second.overall is None
        assert second.withheld == (
            "1 person differs from the previous round's respondents; comparing the two would "
            "isolate them (results show when rounds differ by 0 or at least 3)"
        )
        json_view = str(results_message(results, with_chart=False))
        assert "6.00" not in json_view  # round 2's mean is nowhere
