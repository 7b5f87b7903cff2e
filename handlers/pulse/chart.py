"""A small SVG trend chart (0–100 per round), drawn without a browser or a plotting
library, for channels that show images; the text sparkline stays for the rest."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape

COLOURS = ("#1f6feb", "#8250df", "#1a7f37", "#bf8700", "#cf222e")
WIDTH, HEIGHT, PAD = 560, 220, 32


def trend_svg(labels: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """One polyline per series; gaps (withheld rounds) break the line."""
    n = max(len(labels), 2)
    step = (WIDTH - 2 * PAD) / (n - 1)

    def point(i: int, value: float) -> str:
        return f"{PAD + i * step:.1f},{HEIGHT - PAD - value / 100 * (HEIGHT - 2 * PAD):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT + 20 * len(series)}"'
        ' font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for grid in (0, 50, 100):
        y = HEIGHT - PAD - grid / 100 * (HEIGHT - 2 * PAD)
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
        )
        parts.append(f'<text x="4" y="{y + 4:.1f}" fill="#57606a">{grid}</text>')
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{PAD + i * step:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#57606a">'
            f"{escape(label)}</text>"
        )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        width = 3 if index == 0 else 1.5
        run: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(
                        f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" '
                        f'points="{" ".join(run)}"/>'
                    )
                elif run:
                    cx, cy = run[0].split(",")
                    parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
                run = []
            else:
                run.append(point(i, value))
        legend = HEIGHT + 14 + 20 * index
        parts.append(f'<rect x="{PAD}" y="{legend - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{PAD + 18}" y="{legend - 4}" fill="#24292f">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
