"""The digest chart's legend covers no label (#15.8): it sits in a row of its own."""

from __future__ import annotations

from handlers.digests.chart import trend_figure


def test_the_legend_overlaps_no_text_and_no_axes() -> None:
    labels = [f"{day:02d} Oct" for day in range(1, 13)]
    series = [
        ("Score", [60, 62, None, 64, 66, 61, 63, 65, 67, 66, 68, 70]),
        ("Inclusion safety", [97.0] * 12),  # a line along the top, where a legend sat
        ("Learner safety", [55.0] * 12),
        ("Contributor safety", [3.0] * 12),
        ("Challenger safety", [50.0] * 12),
    ]
    figure = trend_figure(labels, series, 8)
    figure.canvas.draw()  # type: ignore[attr-defined]
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    [legend] = figure.legends
    box = legend.get_window_extent(renderer)
    [axes] = figure.axes
    texts = [
        *axes.get_xticklabels(),
        *axes.get_yticklabels(),
        axes.title,
        axes.yaxis.label,
        *axes.texts,  # "since last session"
    ]
    shown = [t for t in texts if t.get_text()]
    assert len(shown) > 12
    for label in shown:
        assert not box.overlaps(label.get_window_extent(renderer)), label.get_text()
    assert not box.overlaps(axes.get_window_extent(renderer))
    # Everything is inside the picture.
    picture = figure.bbox
    for artist in [legend, *shown]:
        extent = artist.get_window_extent(renderer)
        assert picture.x0 <= extent.x0 and extent.x1 <= picture.x1 + 0.5
        assert picture.y0 <= extent.y0 and extent.y1 <= picture.y1 + 0.5
