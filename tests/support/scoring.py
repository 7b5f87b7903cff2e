"""Scoring test helpers: a small three-item instrument and answers from a table."""

from handlers.pulse.scoring import Response
from prompts.instruments import Instrument

# Three items on 1–7: "a" is reverse-scored; a and b measure learner safety, c challenger.
SMALL = Instrument.model_validate(
    {
        "key": "small",
        "version": 1,
        "name": "Small",
        "items": [
            {"key": "a", "text": "A", "dimension": "d", "stage": "learner", "reverse": True},
            {"key": "b", "text": "B", "dimension": "d", "stage": "learner"},
            {"key": "c", "text": "C", "dimension": "d", "stage": "challenger"},
        ],
    }
)


def answers(table: dict[str, dict[str, int]]) -> list[Response]:
    return [
        Response(respondent, item, score)
        for respondent, row in table.items()
        for item, score in row.items()
    ]
