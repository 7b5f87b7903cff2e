"""The summarizer port for coach digests: aggregate figures and anonymous comments in,
a schema-checked summary (themes, risks, focus questions) out. The adapter that asks an
OpenAI-compatible model lives in bot/llm/; handlers see only this port.

Free text is untrusted (PRODUCT_NOTES, "LLM summaries"): comments go in as quoted JSON
data inside the prompt, the model gets no tools, its answer must parse against
`SummaryOutput`, and every line that comes back is made inert for any channel (links,
mentions, markup and people's names removed) before a coach sees it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from handlers.digests.checks import problem
from handlers.digests.content import Signal
from handlers.digests.hygiene import model_line
from prompts.templates import PromptTemplate

PROMPT = ("digest_summary", 1)
MAX_COMMENTS = 60

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class SummaryOutput(BaseModel):
    """What the model must answer; extra keys are ignored, missing or oversized ones fail."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    themes: list[Line] = Field(default_factory=list, max_length=8)
    risks: list[Line] = Field(default_factory=list, max_length=8)
    focus_questions: list[Line] = Field(min_length=3, max_length=6)


@dataclass(frozen=True)
class SummaryRequest:
    """Everything a summary may be built from. `figures` holds aggregates only (no names);
    `comments` only comments of rounds that met their comment threshold."""

    figures: dict[str, Any]
    comments: list[str] = field(default_factory=list)
    stage_scores: dict[str, float] = field(default_factory=dict)  # visible stages, 0–100
    missed_commitments: int = 0
    # Everyone's names in the workspace: never shown, never sent to the model; the
    # fallback leaves them out of its recurring words.
    names: tuple[str, ...] = ()
    # What the focus questions are drawn from (handlers/digests/signals.py), strongest
    # first; the model sees them in `figures`, the fallback asks their questions.
    signals: tuple[Signal, ...] = ()


class SummaryFailed(Exception):
    """The model could not give a usable summary; the message says why (no secrets)."""


class SummarySkipped(SummaryFailed):
    """The model was not asked: it stopped answering recently (the shared breaker is
    open); the message says since when, why, and when it is asked again."""


class Summarizer(Protocol):
    model: str
    prompt_version: str

    async def complete(self, request: SummaryRequest) -> SummaryOutput: ...


def clean_output(output: SummaryOutput, names: Iterable[str]) -> SummaryOutput:
    """The answer as a coach may read it: set aside whole (`SummaryFailed`, saying why)
    when any line gives instructions or singles a person out, or when fewer than three
    focus questions keep their meaning; else every line made inert, and a line that
    lost its meaning to what was removed dropped."""
    names = list(names)
    labelled = [
        (f"{label} {n}", line)
        for label, values in (
            ("theme", output.themes),
            ("risk", output.risks),
            ("focus question", output.focus_questions),
        )
        for n, line in enumerate(values, start=1)
    ]
    if why := problem(labelled, names):
        raise SummaryFailed(f"the language model's answer was set aside: {why}")

    def lines(values: list[str], most: int) -> list[str]:
        kept = [model_line(v, names) for v in values]
        return [v for v in kept if v][:most]

    questions = lines(output.focus_questions, 3)
    if len(questions) < 3:
        raise SummaryFailed(
            "the language model's answer was set aside: fewer than three focus questions "
            "kept their meaning once links, contact details and names were removed"
        )
    return SummaryOutput(
        themes=lines(output.themes, 5), risks=lines(output.risks, 5), focus_questions=questions
    )


def parse_output(text: str | None) -> SummaryOutput:
    if not text:
        raise SummaryFailed("the language model gave an empty answer")
    body = text.strip()
    if body.startswith("```"):  # tolerate a fenced answer
        body = body.strip("`").removeprefix("json").strip()
    try:
        return SummaryOutput.model_validate(json.loads(body))
    except json.JSONDecodeError:
        raise SummaryFailed("the language model's answer was not JSON") from None
    except ValidationError as error:
        where = ".".join(str(p) for p in error.errors()[0]["loc"]) or "answer"
        raise SummaryFailed(
            f"the language model's answer did not fit the schema ({where})"
        ) from None


def render_prompt(template: PromptTemplate, request: SummaryRequest) -> tuple[str, str]:
    """Comments as a JSON list: quoting is JSON's, and '<'/'>' are escaped so no comment
    can close the <comments> block."""
    comments = json.dumps(request.comments[:MAX_COMMENTS], ensure_ascii=False, indent=1)
    comments = comments.replace("<", "\\u003c").replace(">", "\\u003e")
    figures = json.dumps(request.figures, ensure_ascii=False, indent=1, default=str)
    return template.render(figures=figures, comments=comments)
