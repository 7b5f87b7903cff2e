"""A closed contract check's figures, as results and digests compute them from its
ratings, and as stored when the retention period purges those ratings
(`contract_check_summary`): the summary `summarize` gave, to the last bit (floats go
through JSON unchanged), with how many rated each norm and in all, so results, the
follow-through report and digests read the same afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.pulse import kept
from handlers.pulse.scoring import Response, RoundSummary, summarize
from prompts.instruments import Instrument

VERSION = 1


@dataclass(frozen=True)
class CheckFigures:
    summary: RoundSummary | None  # None when the check asked no norm its version has
    answered: dict[str, int]  # norm key -> how many rated it
    respondents: int  # how many rated anything


def figures(
    instrument: Instrument | None,
    ratings: Sequence[tuple[str, str, int]],
    invited: int,
    threshold: int,
) -> CheckFigures:
    """From (respondent, norm key, score) ratings; `instrument`'s items are the norms
    the check asked (None: none). Raises ValueError as `summarize` does."""
    keys = [item.key for item in instrument.items] if instrument else []
    summary = None
    if instrument is not None:
        summary = summarize(
            instrument,
            [Response(r, k, s) for r, k, s in ratings if k in keys],
            invited=max(invited, len({r for r, _, _ in ratings})),
            threshold=threshold,
        )
    return CheckFigures(
        summary,
        {key: len({r for r, k, _ in ratings if k == key}) for key in keys},
        len({r for r, _, _ in ratings}),
    )


def to_json(figures: CheckFigures) -> dict[str, Any]:
    return {
        "version": VERSION,
        "summary": None if figures.summary is None else kept.to_json(figures.summary),
        "answered": figures.answered,
        "respondents": figures.respondents,
    }


def from_json(data: dict[str, Any]) -> CheckFigures:
    summary = data["summary"]
    return CheckFigures(
        None if summary is None else kept.from_json(summary),
        {key: int(n) for key, n in data["answered"].items()},
        int(data["respondents"]),
    )
