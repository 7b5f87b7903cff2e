"""Scoring alerts: drops of ten points or more, and stages or items below the midpoint."""

import dataclasses

from handlers.pulse.scoring import Response, RoundSummary, Stat, alerts, summarize
from prompts.instruments import Instrument
from tests.support.scoring import SMALL, answers


def stat(percent_of_max: float, mean: float = 5.0) -> Stat:
    return Stat(
        n=3,
        respondents=3,
        mean=mean,
        percent_of_max=percent_of_max,
        percent_favorable=0.0,
        distribution={},
    )


def round_of(overall: float, learner_mean: float = 5.0) -> RoundSummary:
    return RoundSummary(
        instrument="small",
        respondents=3,
        invited=3,
        response_rate=1.0,
        threshold=3,
        overall=stat(overall),
        stages={"learner": stat(overall, learner_mean), "challenger": None},
        items={"a": None, "b": None, "c": None},
    )


def test_alert_on_drop_of_exactly_ten_points() -> None:
    found = alerts(SMALL, round_of(70.0), round_of(60.0))
    drops = [a for a in found if a.kind == "score_drop"]
    assert [a.subject for a in drops] == [None, "learner"]
    assert drops[0].message == ("Small fell 10 points since the last round (70 → 60 % of maximum).")
    assert drops[1].message.startswith("Learner safety fell 10 points")


def test_no_alert_on_drop_of_9_9_points_or_a_rise() -> None:
    assert alerts(SMALL, round_of(70.0), round_of(60.1)) == []
    assert alerts(SMALL, round_of(60.0), round_of(80.0)) == []
    assert alerts(SMALL, None, round_of(60.0)) == []


def test_drop_alert_survives_float_noise() -> None:
    five = Instrument.model_validate(
        {
            "key": "five",
            "version": 1,
            "name": "Five",
            "scale": {"min": 1, "max": 5},
            "items": [{"key": "x", "text": "X", "dimension": "d"}],
        }
    )
    # before: 4, 4, 4 -> mean 4, (4-1)/4 = 75 %; after: 4, 4, 4, 3, 3 -> mean 3.6, 65 %
    before = summarize(five, answers({f"r{i}": {"x": 4} for i in range(3)}), invited=5)
    after = summarize(
        five, answers({f"r{i}": {"x": s} for i, s in enumerate([4, 4, 4, 3, 3])}), invited=5
    )
    assert [a.kind for a in alerts(five, before, after)] == ["score_drop"]


def test_no_drop_alert_between_different_instruments() -> None:
    other = dataclasses.replace(round_of(90.0), instrument="other")
    assert alerts(SMALL, other, round_of(50.0)) == []


def test_alert_on_stage_and_item_below_midpoint() -> None:
    # learner: a reversed 8-7 = 1, 8-6 = 2, 8-7 = 1 and b 4, 4, 3 -> mean 15/6 = 2.5 < 4
    responses = answers(
        {
            "r1": {"a": 7, "b": 4, "c": 4},
            "r2": {"a": 6, "b": 4, "c": 5},
            "r3": {"a": 7, "b": 3, "c": 4},
        }
    )
    summary = summarize(SMALL, responses, invited=3)
    found = alerts(SMALL, None, summary)
    assert [(a.kind, a.subject) for a in found] == [
        ("stage_below_midpoint", "learner"),
        ("item_below_midpoint", "a"),
        ("item_below_midpoint", "b"),
    ]
    assert found[0].message == (
        "Learner safety averages 2.5 on the 1–7 scale, below the midpoint of 4."
    )
    assert "(reverse-scored)" in found[1].message
    # b: 4, 4, 3 -> 11/3 = 3.67 < 4; c: 4, 5, 4 -> 13/3 = 4.33 is above the midpoint
    assert all(a.subject != "c" for a in found)


def test_mean_exactly_at_midpoint_is_not_flagged() -> None:
    responses = answers({f"r{i}": {"b": s} for i, s in enumerate([3, 4, 5])})  # mean 4.0
    assert alerts(SMALL, None, summarize(SMALL, responses, invited=3)) == []


def test_withheld_round_raises_no_alerts() -> None:
    withheld = summarize(SMALL, [Response("r1", "a", 7)], invited=3)
    assert alerts(SMALL, round_of(90.0), withheld) == []
