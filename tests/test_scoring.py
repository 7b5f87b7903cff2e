import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.scoring import (
    Response,
    RoundSummary,
    Stat,
    alerts,
    change,
    effective_threshold,
    sparkline,
    subgroup_visible,
    summarize,
)
from prompts.instruments import Instrument, Scale, bundled_instrument_dir, load_instrument

TEAM_SAFETY = load_instrument(bundled_instrument_dir() / "team_safety.yaml")

# Three items on 1–7: "a" is reverse-scored; a and b measure learner safety, c challenger.
SMALL = Instrument.model_validate(
    {
        "key": "small",
        "version": 1,
        "name": "Small",
        "items": [
            {"key": "a", "text": "A", "dimension": "d", "stage": "learner", "reverse": True},
            {"key": "b", "text": "B", "dimension": "d", "stage": "learner"},
            {"key": "c", "text": "C", "dimension": "d", "stage": "challenger"},
        ],
    }
)


def answers(table: dict[str, dict[str, int]]) -> list[Response]:
    return [
        Response(respondent, item, score)
        for respondent, row in table.items()
        for item, score in row.items()
    ]


def test_hand_computed_round_with_reverse_item() -> None:
    responses = answers(
        {
            "r1": {"a": 2, "b": 6, "c": 7},
            "r2": {"a": 5, "b": 4, "c": 3},
            "r3": {"a": 1, "b": 7, "c": 6},
        }
    )
    summary = summarize(SMALL, responses, invited=4)
    assert summary.respondents == 3
    assert summary.invited == 4
    assert summary.response_rate == 0.75  # 3 of 4
    assert summary.withheld is None
    assert summary.items is not None and summary.stages is not None

    # a is reversed: 8-2=6, 8-5=3, 8-1=7 -> mean 16/3 = 5.333;
    # percent of max (16/3 - 1) / 6 * 100 = 13/18 * 100 = 72.22; favorable (>=6): 6 and 7 = 2/3
    a = summary.items["a"]
    assert a is not None
    assert a.n == 3 and a.respondents == 3
    assert a.mean == pytest.approx(16 / 3)
    assert a.percent_of_max == pytest.approx(1300 / 18)
    assert a.percent_favorable == pytest.approx(200 / 3)
    assert a.distribution == {1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 1, 7: 1}

    # b as answered: 6, 4, 7 -> mean 17/3; percent of max (17/3 - 1) / 6 * 100 = 14/18 * 100
    b = summary.items["b"]
    assert b is not None
    assert b.mean == pytest.approx(17 / 3)
    assert b.percent_of_max == pytest.approx(1400 / 18)

    # learner = a + b scored: 6, 3, 7, 6, 4, 7 -> sum 33, mean 5.5, percent of max 4.5/6 = 75;
    # favorable 6, 7, 6, 7 = 4 of 6
    learner = summary.stages["learner"]
    assert learner is not None
    assert learner.n == 6 and learner.respondents == 3
    assert learner.mean == pytest.approx(5.5)
    assert learner.percent_of_max == pytest.approx(75.0)
    assert learner.percent_favorable == pytest.approx(400 / 6)
    assert learner.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0, 6: 2, 7: 2}

    # challenger = c: 7, 3, 6 -> mean 16/3
    challenger = summary.stages["challenger"]
    assert challenger is not None and challenger.mean == pytest.approx(16 / 3)
    assert list(summary.stages) == ["learner", "challenger"]

    # overall: 6,3,7, 6,4,7, 7,3,6 -> sum 49, mean 49/9 = 5.444;
    # percent of max (49/9 - 1) / 6 * 100 = 40/54 * 100 = 74.07; favorable 6 of 9
    overall = summary.overall
    assert overall is not None
    assert overall.n == 9 and overall.respondents == 3
    assert overall.mean == pytest.approx(49 / 9)
    assert overall.percent_of_max == pytest.approx(4000 / 54)
    assert overall.percent_favorable == pytest.approx(600 / 9)
    assert overall.distribution == {1: 0, 2: 0, 3: 2, 4: 1, 5: 0, 6: 3, 7: 3}


def test_full_precision_is_kept() -> None:
    responses = answers({f"r{i}": {"b": score} for i, score in enumerate([5, 5, 6])})
    items = summarize(SMALL, responses, invited=3).items
    assert items is not None
    stat = items["b"]
    assert stat is not None
    assert stat.mean == 16 / 3  # not 5.33


def test_team_safety_all_sevens() -> None:
    # Everyone strongly agrees with every statement: the three negative items (1, 3, 5)
    # score 8-7 = 1, the four others 7 -> mean (4*7 + 3*1) / 7 = 31/7 = 4.43;
    # percent of max (31/7 - 1) / 6 * 100 = 24/42 * 100 = 57.14; favorable 4 of 7.
    responses = [Response(f"r{i}", item.key, 7) for i in range(4) for item in TEAM_SAFETY.items]
    summary = summarize(TEAM_SAFETY, responses, invited=5)
    assert summary.overall is not None
    assert summary.overall.mean == pytest.approx(31 / 7)
    assert summary.overall.percent_of_max == pytest.approx(2400 / 42)
    assert summary.overall.percent_favorable == pytest.approx(400 / 7)
    assert summary.overall.distribution == {1: 12, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 16}
    assert summary.stages is not None
    # learner = items 1 and 5, both reversed -> mean 1, percent of max 0
    learner = summary.stages["learner"]
    assert learner is not None
    assert learner.mean == 1.0 and learner.percent_of_max == 0.0
    assert learner.percent_favorable == 0.0


def test_five_point_scale_favorable_from_agree() -> None:
    five = Instrument.model_validate(
        {
            "key": "five",
            "version": 1,
            "name": "Five",
            "scale": {"min": 1, "max": 5},
            "items": [{"key": "x", "text": "X", "dimension": "d"}],
        }
    )
    # 3, 4, 5, 2 -> favorable (>= 4): 4 and 5 = 50 %; mean 3.5 -> (3.5-1)/4*100 = 62.5
    responses = answers({f"r{i}": {"x": s} for i, s in enumerate([3, 4, 5, 2])})
    overall = summarize(five, responses, invited=4).overall
    assert overall is not None
    assert overall.percent_favorable == 50.0
    assert overall.percent_of_max == 62.5
    assert overall.distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}


def test_threshold_boundary() -> None:
    two = answers({"r1": {"b": 6}, "r2": {"b": 2, "c": 5}})
    summary = summarize(SMALL, two, invited=5)
    assert summary.respondents == 2
    assert summary.response_rate == 0.4
    assert summary.overall is None and summary.stages is None and summary.items is None
    assert summary.withheld == "2 respondents; results show from 3"

    three = [*two, Response("r3", "b", 4)]
    summary = summarize(SMALL, three, invited=5)
    assert summary.withheld is None
    assert summary.overall is not None and summary.items is not None
    assert summary.items["b"] is not None and summary.items["b"].n == 3

    one = summarize(SMALL, [Response("r1", "a", 3)], invited=1)
    assert one.withheld == "1 respondent; results show from 3"
    nobody = summarize(SMALL, [], invited=0)
    assert nobody.response_rate is None
    assert nobody.withheld == "0 respondents; results show from 3"


def test_higher_threshold() -> None:
    responses = answers({f"r{i}": {"b": 5} for i in range(4)})
    assert summarize(SMALL, responses, invited=4, threshold=5).overall is None
    assert summarize(SMALL, responses, invited=4, threshold=4).overall is not None


def test_item_and_stage_under_threshold_are_withheld_and_not_in_totals() -> None:
    # a and b answered by three people, c only by two: c and the challenger stage are
    # withheld, and c's answers stay out of the overall (else overall minus a and b
    # would give them away).
    responses = answers(
        {
            "r1": {"a": 4, "b": 4, "c": 1},
            "r2": {"a": 4, "b": 4, "c": 1},
            "r3": {"a": 4, "b": 4},
        }
    )
    summary = summarize(SMALL, responses, invited=3)
    assert summary.items is not None and summary.stages is not None
    assert summary.items["c"] is None
    assert summary.stages["challenger"] is None
    assert summary.stages["learner"] is not None
    assert summary.overall is not None
    assert summary.overall.n == 6
    assert summary.overall.mean == 4.0
    assert summary.overall.distribution[1] == 0


def test_no_item_reaches_threshold() -> None:
    responses = [Response("r1", "a", 3), Response("r2", "b", 3), Response("r3", "c", 3)]
    summary = summarize(SMALL, responses, invited=3)
    assert summary.overall is None
    assert summary.withheld == "no question has answers from 3 respondents yet"


@pytest.mark.parametrize(
    ("responses", "invited", "message"),
    [
        ([Response("r1", "zz", 3)], 1, "no item 'zz'"),
        ([Response("r1", "a", 8)], 1, "off the 1–7 scale"),
        ([Response("r1", "a", 0)], 1, "off the 1–7 scale"),
        ([Response("r1", "a", 3), Response("r1", "a", 4)], 1, "twice"),
        ([Response("r1", "a", 3), Response("r2", "a", 4)], 1, "only 1 invited"),
        ([], -1, "negative"),
    ],
)
def test_bad_input_is_refused(responses: list[Response], invited: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarize(SMALL, responses, invited=invited)


def test_effective_threshold() -> None:
    assert effective_threshold(None) == 3
    assert effective_threshold(3) == 3
    assert effective_threshold(7) == 7
    with pytest.raises(ValueError, match="at least 3"):
        effective_threshold(2)
    with pytest.raises(ValueError, match="at least 3"):
        summarize(SMALL, [], invited=0, threshold=1)


@pytest.mark.parametrize(
    ("group_n", "parent_n", "siblings", "visible"),
    [
        (2, 10, (), False),  # group itself under threshold
        (3, 10, (), True),
        (8, 10, (), False),  # 10 - 8 = 2 people would be revealed
        (7, 10, (), True),  # 10 - 7 = 3
        (10, 10, (), True),  # the whole parent: nothing left to reveal
        # 10 - 5 - 3 = 2 left over: the smallest visible group (3) is hidden too, then
        # 3 + 2 = 5 are hidden together and the 5 may show
        (5, 10, (3, 2), True),
        (3, 10, (5, 2), False),
        (4, 12, (5, 3), True),  # every group >= 3 and nothing left over
        (5, 12, (4, 1), True),  # 12 - 5 - 4 = 3 hidden: enough
        (6, 13, (6, 1), False),  # 13 - 6 - 6 = 1: both 6s hide, whatever the order asked
    ],
)
def test_subgroup_visible(
    group_n: int, parent_n: int, siblings: tuple[int, ...], visible: bool
) -> None:
    assert subgroup_visible(group_n, parent_n, 3, siblings) is visible


def test_subgroup_visible_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        subgroup_visible(5, 4, 3)
    with pytest.raises(ValueError):
        subgroup_visible(5, 10, 2)


def test_change() -> None:
    assert change(60.0, 72.5) == 12.5
    assert change(None, 50.0) is None
    assert change(50.0, None) is None


def test_sparkline() -> None:
    assert sparkline([0, 12.4, 12.5, 50, 87.5, 100]) == "▁▁▂▅██"
    assert sparkline([None, 25.0, None]) == "·▃·"
    assert sparkline([-5, 105, math.nan]) == "▁█·"
    assert sparkline([]) == ""


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


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.sampled_from([item.key for item in TEAM_SAFETY.items]),
            st.integers(1, 7),
        ),
        unique_by=lambda row: (row[0], row[1]),
    )
)
def test_property_stats_stay_in_range(rows: list[tuple[int, str, int]]) -> None:
    responses = [Response(f"r{r}", key, score) for r, key, score in rows]
    summary = summarize(TEAM_SAFETY, responses, invited=6)
    assert summary.respondents == len({r for r, _, _ in rows})
    if summary.overall is None:
        assert summary.withheld
        return
    assert summary.items is not None and summary.stages is not None
    visible = [s for s in summary.items.values() if s is not None]
    assert summary.overall.n == sum(s.n for s in visible)
    for each in [summary.overall, *visible, *summary.stages.values()]:
        if each is None:
            continue
        assert each.respondents >= 3
        assert 0.0 <= each.percent_of_max <= 100.0
        assert 0.0 <= each.percent_favorable <= 100.0
        assert 1.0 <= each.mean <= 7.0
        assert sum(each.distribution.values()) == each.n
        assert list(each.distribution) == list(range(1, 8))


@given(st.sampled_from([5, 7]), st.data())
def test_property_reversing_twice_is_identity(high: int, data: st.DataObject) -> None:
    scale = Scale.model_validate({"min": 1, "max": high})
    score = data.draw(st.integers(1, high))
    assert scale.reverse(score) in scale.points
    assert scale.reverse(scale.reverse(score)) == score
