"""One table across benchmarks: each bench, run by `python -m bench`, hands its
headline figures here (a JSON line each, to the file named by PULSECOACH_BENCH_RESULTS);
`bench/__main__.py` prints them together and writes them as JSON.

A figure: its value, the baseline it is measured against in the same run (or None:
an absolute goal), the ratio value / baseline, the goal in words and whether it was
met (None: reported, no goal)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_ENV = "PULSECOACH_BENCH_RESULTS"


@dataclass(frozen=True)
class Figure:
    bench: str
    figure: str
    value: float
    unit: str = ""
    baseline: float | None = None
    goal: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


def emit(figures: list[Figure]) -> None:
    """Append the figures for `python -m bench` (nothing when run alone)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        for figure in figures:
            out.write(json.dumps(asdict(figure)) + "\n")


def read(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line]


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("bench", "figure", "value", "baseline", "ratio", "goal", "met")]
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append(
            (
                f.bench,
                f.figure,
                _number(f.value, f.unit),
                _number(f.baseline, f.unit),
                ratio,
                f.goal,
                met,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
