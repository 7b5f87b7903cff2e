"""The digest's trend chart as a PNG: the score and the four stages per round, drawn
with matplotlib's Agg canvas (no browser, no display, no pyplot global state).

Withheld rounds are gaps in the lines, never zeros. A dashed line marks where the
period since the last session starts. Charts are a pure function of the stored series,
so a past digest's chart is the same picture every time it is opened.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from handlers.context import Services
from handlers.digests.story import story
from storage.digests import queries as digests

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ("#1f6feb", "#8250df", "#1a7f37", "#bf8700", "#cf222e")


def trend_png(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    period_index: int | None = None,
) -> bytes:
    """PNG bytes of one line per series on a 0–100 scale."""
    frozen = tuple((name, tuple(values)) for name, values in series.items())
    return _render(tuple(labels), frozen, period_index)


@lru_cache(maxsize=64)
def _render(
    labels: tuple[str, ...],
    series: tuple[tuple[str, tuple[float | None, ...]], ...],
    period_index: int | None,
) -> bytes:
    figure = trend_figure(labels, series, period_index)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def trend_figure(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    period_index: int | None,
) -> Figure:
    """The chart, laid out: the legend in a row of its own under the axes, so it never
    covers a line, a tick label or the "since last session" note."""
    # Imported here: matplotlib is slow to import and only needed when a chart is drawn.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    xs = list(range(len(labels)))
    for index, (name, values) in enumerate(series):
        ys = [math.nan if v is None else v for v in values]
        axes.plot(
            xs[: len(ys)],
            ys,
            label=name,
            color=COLOURS[index % len(COLOURS)],
            linewidth=2.6 if index == 0 else 1.4,
            marker="o",
            markersize=3.5 if index == 0 else 2.5,
        )
    axes.axhline(50, color="#8c959f", linewidth=0.8, linestyle=":")
    low, high = _story_marks(axes, tuple(labels), tuple((n, tuple(v)) for n, v in series))
    if period_index is not None and 0 < period_index < len(labels):
        axes.axvline(period_index - 0.5, color="#57606a", linewidth=1, linestyle="--")
        axes.annotate(
            "since last session",
            (period_index - 0.45, 0.98),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color="#57606a",
            va="top",
        )
    # Zoomed to the data (never past 0–100), so a ten-point dip is visible.
    axes.set_ylim(max(0.0, low - 15), min(100.0, high + 15))
    axes.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    step = max(1, math.ceil(len(labels) / 8))
    axes.set_xticks(xs[::step], list(labels)[::step], fontsize=8)
    axes.tick_params(axis="y", labelsize=8)
    axes.set_ylabel("0–100", fontsize=8)
    axes.set_title("Team score and the four stages", fontsize=9, loc="left")
    axes.grid(axis="y", color="#d0d7de", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.legend(fontsize=7, loc="outside lower center", ncols=min(len(series), 5), frameon=False)
    return figure


def _story_marks(
    axes: Any,
    labels: tuple[str, ...],
    series: tuple[tuple[str, tuple[float | None, ...]], ...],
) -> tuple[float, float]:
    """Marks the score's lowest and highest points and its last turn (as the digest's
    text tells them); returns the range of every drawn value."""
    drawn = [v for _, values in series for v in values if v is not None]
    if not drawn:
        return 0.0, 100.0
    score = dict(series).get("Score", ())
    told = story(labels, score)
    if told is not None:
        index = {label: i for i, label in enumerate(labels)}
        marks = [("low", told.low_label, told.low), ("high", told.high_label, told.high)]
        if told.turn_label and told.turn_label not in (told.low_label, told.high_label):
            turn = score[index[told.turn_label]]
            if turn is not None:
                marks.append(("turn", told.turn_label, turn))
        for name, label, value in marks:
            axes.annotate(
                f"{name} {value:.0f}",
                (index[label], value),
                xytext=(0, -12 if name == "low" else 7),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=COLOURS[0],
            )
    return min(drawn), max(drawn)


async def digest_chart_png(services: Services, digest_id: int) -> bytes | None:
    """The chart of a stored digest (for a Slack file upload or the HTTP route), or None
    when the digest does not exist or has fewer than two rounds to draw."""
    async with services.db.session() as session:
        row = await digests.digest(session, digest_id)
    if row is None:
        return None
    content = row.content
    labels = content.get("trend_labels") or []
    if len(labels) < 2:
        return None
    series, index = content.get("trend") or {}, content.get("period_index")
    # Drawing takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(trend_png, labels, series, index)
