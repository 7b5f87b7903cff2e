"""Anonymity thresholds in scoring: withheld rounds, items and stages, visible subgroups."""

import pytest

from handlers.pulse.scoring import Response, effective_threshold, subgroup_visible, summarize
from tests.support.scoring import SMALL, answers


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
