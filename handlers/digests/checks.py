"""Checks on a model's answer before a coach reads it. An answer that gives the coach
(or anyone) instructions, or that singles out, blames or unmasks a person, is set aside
whole: cleaning single lines would leave the rest of a manipulated answer standing.

The checks read each line normalised (zero-width and bidi tricks gone) with names
replaced, so "Ma\u200bya is the one who…" reads "a team member is the one who…".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from handlers.digests.hygiene import normalise
from handlers.digests.names import names_pattern

_PERSON = r"(?:a team member|someone|one member|one person|he|she|him|her)"
_I = re.IGNORECASE

# Instructions to the reader: the model's job is themes, risks and questions for the
# team, never telling the coach what to do outside the session, nor talking about its
# own instructions.
_INSTRUCTIONS = (
    re.compile(
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|the|your|my|these|"
        r"those|previous|prior|above|earlier|other)\s+)*(?:instructions?|prompts?|rules?|"
        r"coach|guidance|guidelines|messages?|system|policy|polic(?:y|ies)|previous|above)",
        _I,
    ),
    re.compile(r"\bignore\s+your\b", _I),
    re.compile(r"\b(?:system\s+prompt|developer\s+mode|jailbreak|as\s+an\s+ai\b)", _I),
    re.compile(r"\b(?:new|updated|real)\s+(?:task|instructions?|role|orders)\b", _I),
    re.compile(r"\bDMs?\b"),
    re.compile(r"\b(?:direct|private)(?:ly)?\s+message\b", _I),
    re.compile(r"(?:^|[\s*_~!])urgent(?:ly)?\s*(?:[*_~!:]|$)", _I),
    re.compile(r"[*_~]\s*urgent", _I),
    re.compile(
        r"\b(?:act|reply|respond|answer|call|write|message)\s+(?:now|immediately|asap)\b", _I
    ),
    re.compile(r"\b(?:click|tap|visit|download|install|log\s*in|sign\s*in|subscribe)\b", _I),
    re.compile(
        r"\b(?:call|phone|text|e-?mail|ping|whatsapp|contact)\s+(?:me|us|them|him|her|"
        r"this\s+number|the\s+number|at)\b",
        _I,
    ),
    re.compile(
        r"\b(?:password|passcode|credentials?|api\s+key|access\s+token|gift\s+cards?)\b", _I
    ),
    re.compile(r"\bwire\s+(?:money|funds|the|a)\b", _I),
    re.compile(r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention|share|show)\b", _I),
    re.compile(r"\b(?:you|the\s+coach)\s+(?:must|should\s+now|are\s+required\s+to)\b", _I),
    re.compile(r"\b(?:respond|reply|answer)\s+(?:with|only)\b", _I),
)

# Singling a person out: who wrote what, who is to blame, what one person keeps doing.
_ACCUSATIONS = (
    re.compile(r"\bis\s+the\s+(?:one|person|reason|problem|culprit)\b", _I),
    re.compile(
        rf"\b(?:says|said|wrote|writes|claims|claimed|reported|complained|admitted|told|"
        rf"according\s+to)\s+{_PERSON}\b",
        _I,
    ),
    re.compile(
        rf"\b{_PERSON}\s+(?:wrote|writes|said|says|posted|complained|reported|admitted)\b", _I
    ),
    re.compile(
        rf"\b{_PERSON}(?:'s|’s)?\s+(?:keeps|always|never|constantly|refuses|blocks|blocked|"
        rf"undermines|sabotag\w*|lies|lied|bullies|bullied|is\s+toxic|is\s+lazy|"
        rf"is\s+incompetent|is\s+dishonest|is\s+difficult)\b",
        _I,
    ),
    re.compile(rf"\b(?:blame[sd]?|accuse[sd]?|fire|punish|confront)\s+{_PERSON}\b", _I),
    re.compile(rf"\b{_PERSON}\s+(?:is|was)\s+(?:to\s+blame|at\s+fault|guilty|responsible)\b", _I),
    re.compile(rf"\bfault\s+of\s+{_PERSON}\b", _I),
    re.compile(r"\b(?:who|which\s+(?:member|person|one))\s+(?:wrote|said|posted)\b", _I),
    re.compile(rf"\b(?:author\s+of|written\s+by|came\s+from\s+{_PERSON})\b", _I),
)


def _readable(line: str, names: Iterable[str]) -> str:
    text = normalise(line)
    if pattern := names_pattern(names):
        text = pattern.sub("a team member", text)
    return re.sub(r"\s+", " ", text)


def problem(lines: Iterable[tuple[str, str]], names: Iterable[str]) -> str | None:
    """Why an answer must be set aside (`lines`: (where, text) pairs), else None."""
    names = list(names)
    for where, line in lines:
        text = _readable(line, names)
        if any(p.search(text) for p in _INSTRUCTIONS):
            return f"it gave instructions ({where})"
        if any(p.search(text) for p in _ACCUSATIONS):
            return f"it singled out or blamed a person ({where})"
    return None
