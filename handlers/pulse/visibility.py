"""One visibility rule for every figure of a round (results, the digest, exports).

1. Nothing under the respondent threshold (scoring.summarize).
2. The comment threshold is never below the respondent threshold (refused in config
   and in the admin chat; an older stored value is raised to it here).
3. Spreads (answer distributions, overall, per stage and per item) only from the
   comment threshold: with few people, a spread where they agree shows each answer.
4. No figure a reader could subtract from the one beside it to isolate fewer people
   than the threshold: a round whose respondents differ from the previous round's by
   1 to threshold-1 people is withheld, when that previous round's figures show. Who
   answered is known per round (invites), so two consecutive rounds' totals would
   otherwise give those few people's answers. Rounds further apart are not compared
   (a team of 5 that answered 3, then 5, then 5 would otherwise never see results
   again): the README says so.
"""

from __future__ import annotations

from dataclasses import replace

from handlers.pulse.scoring import RoundSummary, Stat


def comment_threshold(min_respondents: int, min_comments: int) -> int:
    return max(min_respondents, min_comments)


def _no_spread(stat: Stat | None) -> Stat | None:
    return None if stat is None else replace(stat, distribution={}, answered={})


def without_spreads(summary: RoundSummary) -> RoundSummary:
    """The summary with every distribution emptied (shown as withheld)."""
    return replace(
        summary,
        overall=_no_spread(summary.overall),
        stages=None
        if summary.stages is None
        else {k: _no_spread(v) for k, v in summary.stages.items()},
        items=None
        if summary.items is None
        else {k: _no_spread(v) for k, v in summary.items.items()},
    )


def withheld(summary: RoundSummary, reason: str) -> RoundSummary:
    return replace(summary, overall=None, stages=None, items=None, withheld=reason)


def apply_rule(
    summaries: list[tuple[RoundSummary, frozenset[int], int, int]],
) -> list[RoundSummary]:
    """Each round's summary after the rule, in round order: (summary, who answered,
    respondent threshold, comment threshold) per round."""
    previous: frozenset[int] | None = None
    result = []
    for summary, answered, threshold, comments in summaries:
        if summary.overall is not None and previous is not None:
            differ = len(answered ^ previous)
            if 0 < differ < threshold:
                summary = withheld(
                    summary,
                    f"{differ} {'person differs' if differ == 1 else 'people differ'} from the "
                    f"previous round's respondents; comparing the two would isolate them "
                    f"(results show when rounds differ by 0 or at least {threshold})",
                )
        # Only a round with figures on show can be subtracted from.
        previous = answered if summary.overall is not None else None
        if summary.overall is not None:
            if summary.respondents < comment_threshold(threshold, comments):
                summary = without_spreads(summary)
        result.append(summary)
    return result
