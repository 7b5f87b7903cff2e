"""What of a team's results a digest may show: every threshold check of the digest in
one place, so it can follow the pulse's visibility rule (handlers/pulse/scoring.py,
results.py) wherever that rule changes.

The digest shows nothing that scoring withheld: a figure is shown when its statistic
exists (scoring leaves out rounds, stages and items under the respondent threshold, and
comments under the comment threshold), and a spread only for a statistic that is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handlers.commitments.follow_through import ContractCheckComments, ContractCheckResult
from handlers.pulse.results import RoundResult
from handlers.pulse.scoring import Stat


def overall(result: RoundResult | None) -> Stat | None:
    return result.summary.overall if result is not None else None


def stage(result: RoundResult | None, key: str) -> Stat | None:
    if result is None:
        return None
    return (result.summary.stages or {}).get(key)  # type: ignore[call-overload]


def items(result: RoundResult | None) -> dict[str, Stat]:
    """The items of a round that may be shown, by key (withheld ones left out)."""
    if result is None or result.summary.items is None:
        return {}
    return {key: stat for key, stat in result.summary.items.items() if stat is not None}


def comments(rounds: Iterable[RoundResult]) -> list[str]:
    """Comments of the rounds that met their comment threshold, only."""
    return [c for r in rounds if r.comments is not None for c in r.comments]


def contract_comments(checks: Sequence[ContractCheckComments]) -> list[str]:
    return [c for check in checks if check.comments is not None for c in check.comments]


def norm_shown(result: ContractCheckResult) -> bool:
    return result.withheld is None and result.percent_of_max is not None
