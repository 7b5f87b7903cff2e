"""A round's figures as stored when the retention period purges its answers
(`pulse_round_summary`): the summary `summarize` gave, to the last bit (floats go
through JSON unchanged), so results, trends and digests read the same afterwards."""

from __future__ import annotations

from typing import Any

from handlers.pulse.scoring import RoundSummary, Stat

VERSION = 1


def _stat(stat: Stat | None) -> dict[str, Any] | None:
    if stat is None:
        return None
    return {
        "n": stat.n,
        "respondents": stat.respondents,
        "mean": stat.mean,
        "percent_of_max": stat.percent_of_max,
        "percent_favorable": stat.percent_favorable,
        "distribution": [[point, n] for point, n in stat.distribution.items()],
        "answered": [[point, n] for point, n in stat.answered.items()],
    }


def _parts(parts: dict[str, Stat | None] | None) -> dict[str, Any] | None:
    return None if parts is None else {key: _stat(stat) for key, stat in parts.items()}


def to_json(summary: RoundSummary) -> dict[str, Any]:
    return {
        "version": VERSION,
        "instrument": summary.instrument,
        "respondents": summary.respondents,
        "invited": summary.invited,
        "response_rate": summary.response_rate,
        "threshold": summary.threshold,
        "overall": _stat(summary.overall),
        "stages": _parts(summary.stages),  # type: ignore[arg-type]
        "items": _parts(summary.items),
        "withheld": summary.withheld,
    }


def _read_stat(data: dict[str, Any] | None) -> Stat | None:
    if data is None:
        return None
    return Stat(
        n=data["n"],
        respondents=data["respondents"],
        mean=data["mean"],
        percent_of_max=data["percent_of_max"],
        percent_favorable=data["percent_favorable"],
        distribution={int(point): n for point, n in data["distribution"]},
        answered={int(point): n for point, n in data["answered"]},
    )


def _read_parts(data: dict[str, Any] | None) -> dict[str, Stat | None] | None:
    return None if data is None else {key: _read_stat(stat) for key, stat in data.items()}


def from_json(data: dict[str, Any]) -> RoundSummary:
    return RoundSummary(
        instrument=data["instrument"],
        respondents=data["respondents"],
        invited=data["invited"],
        response_rate=data["response_rate"],
        threshold=data["threshold"],
        overall=_read_stat(data["overall"]),
        stages=_read_parts(data["stages"]),  # type: ignore[arg-type]
        items=_read_parts(data["items"]),
        withheld=data["withheld"],
    )
