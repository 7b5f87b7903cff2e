"""Round summaries: hand-computed statistics, scales, refused input, change and sparklines."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.pulse.scoring import Response, change, sparkline, summarize
from prompts.instruments import Instrument, Scale, bundled_instrument_dir, load_instrument
from tests.support.scoring import SMALL, answers

TEAM_SAFETY = load_instrument(bundled_instrument_dir() / "team_safety.yaml")


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


def test_change() -> None:
    assert change(60.0, 72.5) == 12.5
    assert change(None, 50.0) is None
    assert change(50.0, None) is None


def test_sparkline() -> None:
    assert sparkline([0, 12.4, 12.5, 50, 87.5, 100]) == "▁▁▂▅██"
    assert sparkline([None, 25.0, None]) == "·▃·"
    assert sparkline([-5, 105, math.nan]) == "▁█·"
    assert sparkline([]) == ""


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
