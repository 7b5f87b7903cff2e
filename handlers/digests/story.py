"""Reading the figures as a coach would: whether a change is more than noise for this
many respondents, the trend's story (lowest and highest points, the last change of
direction), and how split the answers are. Pure functions of visible statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence

from handlers.digests.content import ItemLine, StoryLine
from handlers.pulse.scoring import Stat
from prompts.instruments import Scale

SPLIT_SHARE = 25.0  # both ends at least this share of answers: the team is divided
FLAT_POINTS = 2.0  # moves smaller than this do not change the trend's direction


def spread(scale: Scale, stat: Stat) -> float:
    """The standard deviation of the answers, in points of 0–100."""
    width = scale.max - scale.min
    values = [((p - scale.min) / width * 100, n) for p, n in stat.distribution.items()]
    count = sum(n for _, n in values) or 1
    mean = sum(v * n for v, n in values) / count
    return math.sqrt(sum(n * (v - mean) ** 2 for v, n in values) / count)


def noise(scale: Scale, before: Stat | None, after: Stat | None) -> float | None:
    """How far the score moves by chance between two rounds of these few respondents:
    twice the standard error of the difference of the two means (about 95 %), each
    mean's error the answers' spread over the square root of its respondents."""
    if before is None or after is None or not before.respondents or not after.respondents:
        return None
    error = math.sqrt(
        spread(scale, before) ** 2 / before.respondents
        + spread(scale, after) ** 2 / after.respondents
    )
    return max(2 * error, 100 / (scale.max - scale.min) / after.respondents)


def ends(scale: Scale, stat: Stat) -> tuple[float, float]:
    """Percent of answers at the favourable end (from `favorable_from`) and at the
    mirrored unfavourable end."""
    low = scale.min + scale.max - scale.favorable_from
    total = sum(stat.distribution.values()) or 1
    unfavorable = sum(n for p, n in stat.distribution.items() if p <= low)
    return stat.percent_favorable, unfavorable / total * 100


def item_line(scale: Scale, key: str, text: str, stat: Stat) -> ItemLine:
    favorable, unfavorable = ends(scale, stat)
    return ItemLine(
        key=key,
        text=text,
        score=stat.percent_of_max,
        favorable=favorable,
        unfavorable=unfavorable,
        respondents=stat.respondents,
        split=min(favorable, unfavorable) >= SPLIT_SHARE,
    )


def _direction(a: float, b: float) -> int:
    return 0 if abs(b - a) < FLAT_POINTS else (1 if b > a else -1)


def story(labels: Sequence[str], values: Sequence[float | None]) -> StoryLine | None:
    """Lowest and highest points of the shown trend, and where its direction last
    changed (moves under FLAT_POINTS ignored; withheld rounds skipped)."""
    points = [(label, v) for label, v in zip(labels, values, strict=False) if v is not None]
    if len(points) < 2:
        return None
    low = min(points, key=lambda p: p[1])
    high = max(points, key=lambda p: p[1])
    moves = [
        (points[i][0], d)
        for i in range(1, len(points))
        if (d := _direction(points[i - 1][1], points[i][1])) != 0
    ]
    direction = moves[-1][1] if moves else 0
    turn = None
    for index in range(len(moves) - 1, 0, -1):
        if moves[index][1] != moves[index - 1][1]:
            # The turning point is the round before the first move of the new direction.
            where = [label for label, _ in points].index(moves[index][0])
            turn = points[where - 1][0]
            break
    latest = points[-1][1]
    return StoryLine(
        rounds=len(points),
        low=low[1],
        low_label=low[0],
        high=high[1],
        high_label=high[0],
        latest=latest,
        direction={1: "rising", -1: "falling", 0: "flat"}[direction],
        turn_label=turn,
        latest_is_high=latest >= high[1] - 1e-9,
        latest_is_low=latest <= low[1] + 1e-9,
    )
