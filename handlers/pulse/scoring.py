"""Pure scoring of a pulse round: no database, no I/O, full precision until presentation.

Reporting follows practice: the mean on the scale and the percent of maximum (0–100)
after reverse scoring, percent favorable ("Agree" or above), the distribution beside
every mean, the response rate, and nothing at all for groups under the anonymity
threshold.

Anonymity: the round shows nothing under ``threshold`` respondents. An item answered by
fewer than ``threshold`` people is withheld, and its answers are also left out of the
overall and stage results, so they cannot be recovered by subtracting the visible items
from a total. A stage is shown when at least one of its items is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from prompts.instruments import STAGE_LABELS, Instrument, Item, Scale, Stage

DEFAULT_THRESHOLD = 3
MIN_THRESHOLD = 3
DROP_ALERT_POINTS = 10.0
SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_MISSING = "·"
_EPSILON = 1e-9


@dataclass(frozen=True)
class Response:
    """One answer: ``respondent`` is an opaque per-round token, never a user id."""

    respondent: str
    item_key: str
    score: int


@dataclass(frozen=True)
class Stat:
    """Aggregate of answers after reverse scoring.

    ``n`` counts answers, ``respondents`` distinct people. ``percent_of_max`` and
    ``percent_favorable`` are 0–100. ``distribution`` maps every scale point to the
    number of scored answers at that point (zeros included); ``answered`` the same for
    the answers as given, before reverse scoring: the spread people recognise (someone
    who answered 2 finds a 2 there), the one shown to them.
    """

    n: int
    respondents: int
    mean: float
    percent_of_max: float
    percent_favorable: float
    distribution: dict[int, int]
    answered: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundSummary:
    """Results of one round. ``response_rate`` is a fraction 0–1 (None if nobody invited).

    When the round is under the threshold, ``overall``, ``stages`` and ``items`` are None
    and ``withheld`` says why. Otherwise ``stages`` (in stage order) and ``items`` (in
    instrument order) hold a ``Stat`` or None for each one withheld.
    """

    instrument: str
    respondents: int
    invited: int
    response_rate: float | None
    threshold: int
    overall: Stat | None
    stages: dict[Stage, Stat | None] | None
    items: dict[str, Stat | None] | None
    withheld: str | None = None


AlertKind = Literal["score_drop", "stage_below_midpoint", "item_below_midpoint"]


@dataclass(frozen=True)
class Alert:
    """Something a coach should look at. ``subject`` is None (overall), a stage or an item key."""

    kind: AlertKind
    message: str
    subject: str | None = None


def effective_threshold(requested: int | None) -> int:
    """The anonymity threshold to use: the default when unset, never below 3."""
    if requested is None:
        return DEFAULT_THRESHOLD
    if requested < MIN_THRESHOLD:
        raise ValueError(
            f"anonymity threshold must be at least {MIN_THRESHOLD} respondents (got {requested})"
        )
    return requested


def scored(scale: Scale, item: Item, score: int) -> int:
    """The value that counts: reversed (min + max - score) for a reverse item."""
    return scale.reverse(score) if item.reverse else score


def _stat(scale: Scale, rows: Sequence[tuple[str, int, int]]) -> Stat:
    """Aggregate (respondent, scored value, answer as given) rows; not empty."""
    values = [value for _, value, _ in rows]
    given = Counter(raw for _, _, raw in rows)
    n = len(values)
    mean = sum(values) / n
    counts = Counter(values)
    return Stat(
        n=n,
        respondents=len({respondent for respondent, _, _ in rows}),
        mean=mean,
        percent_of_max=(mean - scale.min) / (scale.max - scale.min) * 100,
        percent_favorable=sum(1 for v in values if v >= scale.favorable_from) / n * 100,
        distribution={point: counts.get(point, 0) for point in scale.points},
        answered={point: given.get(point, 0) for point in scale.points},
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summarize(
    instrument: Instrument,
    responses: Iterable[Response],
    invited: int,
    threshold: int = DEFAULT_THRESHOLD,
) -> RoundSummary:
    """Score one round of ``instrument``.

    Raises ValueError for an answer to an unknown item, a score off the scale, the same
    respondent answering an item twice, more respondents than invited, or a threshold
    under 3.
    """
    threshold = effective_threshold(threshold)
    if invited < 0:
        raise ValueError("invited must not be negative")
    scale = instrument.scale
    by_item: dict[str, list[tuple[str, int, int]]] = {item.key: [] for item in instrument.items}
    seen: set[tuple[str, str]] = set()
    for response in responses:
        if response.item_key not in by_item:
            raise ValueError(f"instrument '{instrument.key}' has no item '{response.item_key}'")
        if not (isinstance(response.score, int) and scale.min <= response.score <= scale.max):
            raise ValueError(
                f"score {response.score!r} for '{response.item_key}' is off the "
                f"{scale.min}–{scale.max} scale"
            )
        if (response.respondent, response.item_key) in seen:
            raise ValueError(f"a respondent answered '{response.item_key}' twice")
        seen.add((response.respondent, response.item_key))
        item = instrument.item(response.item_key)
        by_item[item.key].append(
            (response.respondent, scored(scale, item, response.score), response.score)
        )

    respondents = len({respondent for respondent, _ in seen})
    if respondents > invited:
        raise ValueError(f"{respondents} respondents but only {invited} invited")
    response_rate = respondents / invited if invited else None

    def withheld(reason: str) -> RoundSummary:
        return RoundSummary(
            instrument=instrument.key,
            respondents=respondents,
            invited=invited,
            response_rate=response_rate,
            threshold=threshold,
            overall=None,
            stages=None,
            items=None,
            withheld=reason,
        )

    if respondents < threshold:
        return withheld(f"{_plural(respondents, 'respondent')}; results show from {threshold}")

    visible = {
        key: rows
        for key, rows in by_item.items()
        if len({respondent for respondent, _, _ in rows}) >= threshold
    }
    if not visible:
        return withheld(f"no question has answers from {threshold} respondents yet")

    items: dict[str, Stat | None] = {
        item.key: _stat(scale, visible[item.key]) if item.key in visible else None
        for item in instrument.items
    }
    stages: dict[Stage, Stat | None] = {}
    for stage in instrument.stages:
        rows = [
            row for item in instrument.items_for_stage(stage) for row in visible.get(item.key, [])
        ]
        stages[stage] = _stat(scale, rows) if rows else None
    overall = _stat(scale, [row for rows in visible.values() for row in rows])
    return RoundSummary(
        instrument=instrument.key,
        respondents=respondents,
        invited=invited,
        response_rate=response_rate,
        threshold=threshold,
        overall=overall,
        stages=stages,
        items=items,
    )


def subgroup_visible(
    group_n: int, parent_n: int, threshold: int, sibling_ns: Sequence[int] = ()
) -> bool:
    """Whether a subgroup's results may be shown beside its parent group's.

    Hidden when the group is under the threshold, or when subtracting it (and any
    visible siblings, given in ``sibling_ns``) from the parent would leave a remainder
    of 1 to threshold-1 people. When siblings are given, the smallest visible groups
    are hidden until the hidden remainder is 0 or at least the threshold; every
    sibling asked about gets the same answer whatever the order.
    """
    threshold = effective_threshold(threshold)
    sizes = [group_n, *sibling_ns]
    if any(size < 0 for size in sizes) or sum(sizes) > parent_n:
        raise ValueError("subgroup sizes must be non-negative and add up to at most the parent")
    hidden = {index for index, size in enumerate(sizes) if size < threshold}
    while True:
        shown = [size for index, size in enumerate(sizes) if index not in hidden]
        remainder = parent_n - sum(shown)
        if not shown or not 0 < remainder < threshold:
            break
        smallest = min(shown)
        hidden |= {index for index, size in enumerate(sizes) if size == smallest}
    return 0 not in hidden


def change(prev: float | None, cur: float | None) -> float | None:
    """``cur - prev``, or None when either is unknown."""
    if prev is None or cur is None:
        return None
    return cur - prev


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value on a 0–100 scale (eight equal bands); None shows as '·'."""
    out = []
    for value in values:
        if value is None or math.isnan(value):
            out.append(SPARK_MISSING)
            continue
        band = int(min(max(value, 0.0), 100.0) / 100 * len(SPARK_BARS))
        out.append(SPARK_BARS[min(band, len(SPARK_BARS) - 1)])
    return "".join(out)


def _drop(label: str, subject: str | None, prev: Stat | None, cur: Stat | None) -> list[Alert]:
    if prev is None or cur is None:
        return []
    fall = prev.percent_of_max - cur.percent_of_max
    if fall < DROP_ALERT_POINTS - _EPSILON:
        return []
    message = (
        f"{label} fell {fall:.0f} points since the last round "
        f"({prev.percent_of_max:.0f} → {cur.percent_of_max:.0f} % of maximum)."
    )
    return [Alert("score_drop", message, subject)]


def alerts(instrument: Instrument, prev: RoundSummary | None, cur: RoundSummary) -> list[Alert]:
    """Drops of 10 points or more (percent of maximum, overall and per stage) since
    ``prev``, and stages or items whose mean is below the scale midpoint.

    Drops are only compared between rounds of the same instrument.
    """
    scale = instrument.scale
    found: list[Alert] = []
    if prev is not None and prev.instrument == cur.instrument == instrument.key:
        found += _drop(instrument.name_for("en"), None, prev.overall, cur.overall)
        for stage in instrument.stages:
            before = (prev.stages or {}).get(stage)
            after = (cur.stages or {}).get(stage)
            found += _drop(STAGE_LABELS[stage], stage, before, after)

    def below(what: str, mean: float) -> str:
        return (
            f"{what} averages {mean:.1f} on the {scale.min}–{scale.max} scale, "
            f"below the midpoint of {scale.midpoint:g}."
        )

    for stage, stat in (cur.stages or {}).items():
        if stat is not None and stat.mean < scale.midpoint:
            found.append(
                Alert("stage_below_midpoint", below(STAGE_LABELS[stage], stat.mean), stage)
            )
    for key, stat in (cur.items or {}).items():
        if stat is not None and stat.mean < scale.midpoint:
            item = instrument.item(key)
            what = f"“{item.text_for('en')}”" + (" (reverse-scored)" if item.reverse else "")
            found.append(Alert("item_below_midpoint", below(what, stat.mean), key))
    return found
