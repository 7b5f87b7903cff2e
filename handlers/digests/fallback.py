"""The deterministic digest summary: used with no LLM configured, and whenever the LLM
fails, times out or answers something unusable. It never fails and never calls out.

Themes come from plain text analysis of the comments: each comment is matched against
a small lexicon of coaching topics (stems, so "decide", "decision" and "decided" count
once); topics mentioned in at least two comments become themes, the most frequent
first. With too few topic hits, the most frequent content words across comments are
used instead — never a name: a word counts only when it is a topic word, or is written
in lower case somewhere and never capitalised mid-sentence (a proper noun, likely a
person), and is none of the workspace's names. Focus questions come from the weakest
Clark stages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from handlers.digests.summarizer import SummaryOutput, SummaryRequest
from prompts.instruments import STAGE_LABELS
from prompts.texts import text

MIN_MENTIONS = 2
MAX_THEMES = 5

# Topic -> word stems (matched at the start of a word).
TOPICS: dict[str, tuple[str, ...]] = {
    "Meetings and how time together is used": ("meeting", "agenda", "offsite", "standup"),
    "How decisions are made": ("decision", "decid", "decisive", "priorit", "alignment"),
    "Disagreement and conflict": ("disagree", "conflict", "push back", "pushback", "challeng"),
    "Trust and candour": ("trust", "honest", "candid", "open", "transparen", "safe"),
    "Listening and interruptions": ("listen", "interrupt", "talk over", "heard", "dominat"),
    "Mistakes and learning": ("mistake", "error", "fail", "learn", "blame"),
    "Workload and pace": ("workload", "overload", "busy", "stress", "burnout", "pace", "tired"),
    "Communication between sessions": ("communicat", "email", "slack", "update", "inform"),
    "Accountability and follow-through": ("accountab", "follow", "commit", "deliver", "owner"),
    "Recognition and appreciation": ("recogni", "apprecia", "thank", "credit", "valued"),
    "Inclusion and belonging": ("includ", "exclud", "left out", "belong", "silo", "clique"),
}

_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers him his how i if in into is it its
    just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours team really still feel feels think much many get got
    one even lot things thing way make makes made don't doesn't it's i'm we're can't
    sometimes often always never people us need name link email""".split()
)
_WORD = re.compile(r"[a-zA-Z][a-zA-Z'’-]{2,}")


def _topic_counts(comments: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for comment in comments:
        lowered = comment.lower()
        for topic, stems in TOPICS.items():
            if any(re.search(rf"(?<![a-z]){re.escape(stem)}", lowered) for stem in stems):
                counts[topic] += 1
    return counts


_SENTENCE_END = tuple(".!?…:;\"“”'‘’([-–—•*")
_TOPIC_STEMS = tuple(stem for stems in TOPICS.values() for stem in stems if " " not in stem)


def _key(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def _word_counts(comments: list[str], names: Iterable[str] = ()) -> Counter[str]:
    """Content words by the number of comments using them, proper nouns and names left out."""
    banned = {_key(part) for name in names for part in name.split()}
    counts: Counter[str] = Counter()
    lower: set[str] = set()  # written in lower case somewhere
    proper: set[str] = set()  # capitalised mid-sentence somewhere
    for comment in comments:
        words: set[str] = set()
        for match in _WORD.finditer(comment):
            word, key = match.group(), _key(match.group())
            before = comment[: match.start()].rstrip()
            if word.islower():
                lower.add(key)
            elif before and not before.endswith(_SENTENCE_END):
                proper.add(key)
            words.add(key)
        counts.update(w for w in words if w not in _STOPWORDS and w not in banned)
    for word in list(counts):
        if word.startswith(_TOPIC_STEMS):
            continue
        if word in proper or word not in lower:
            del counts[word]
    return counts


def themes(comments: list[str], names: Iterable[str] = ()) -> list[str]:
    """Themes mentioned in at least two comments, with how many mention each."""
    if not comments:
        return []
    found = [
        f"{topic} (in {n} of {len(comments)} comments)"
        for topic, n in sorted(_topic_counts(comments).items(), key=lambda kv: (-kv[1], kv[0]))
        if n >= MIN_MENTIONS
    ]
    if len(found) < 2:
        words = [
            f"“{word}” (in {n} comments)"
            for word, n in sorted(
                _word_counts(comments, names).items(), key=lambda kv: (-kv[1], kv[0])
            )
            if n >= MIN_MENTIONS
        ]
        found += [f"Recurring words: {', '.join(words[:4])}"] if words else []
    return found[:MAX_THEMES]


def focus_questions(stage_scores: dict[str, float], missed_commitments: int) -> list[str]:
    """Three questions: the weakest stage first, then the next weakest, then commitments
    (when check-ins were missed) or the weakest stage's second question."""
    weakest = sorted(stage_scores, key=lambda stage: (stage_scores[stage], stage))
    if not weakest:
        keys = ["digest.focus.generic.1", "digest.focus.generic.2", "digest.focus.generic.3"]
        return [text(key) for key in keys]
    questions = [text(f"digest.focus.{weakest[0]}.1")]
    second = weakest[1] if len(weakest) > 1 else weakest[0]
    questions.append(text(f"digest.focus.{second}.{1 if second != weakest[0] else 2}"))
    if missed_commitments:
        questions.append(text("digest.focus.commitments"))
    else:
        questions.append(text(f"digest.focus.{weakest[0]}.2"))
    unique = list(dict.fromkeys(questions))
    while len(unique) < 3:
        unique.append(text(f"digest.focus.generic.{len(unique) + 1}"))
    return unique[:3]


def risks(stage_scores: dict[str, float], missed_commitments: int) -> list[str]:
    """Short risks that add to the flags rather than repeat them: the weakest stage
    when it is under 60, and missed commitment check-ins."""
    found = []
    weakest = min(stage_scores, key=lambda stage: (stage_scores[stage], stage), default=None)
    if weakest is not None and stage_scores[weakest] < 60:
        label = STAGE_LABELS[weakest]  # type: ignore[index]
        found.append(text("digest.risk.stage", stage=label, score=stage_scores[weakest]))
    if missed_commitments:
        found.append(text("digest.risk.commitments", missed=missed_commitments))
    return found


def fallback_summary(request: SummaryRequest) -> SummaryOutput:
    return SummaryOutput(
        themes=themes(request.comments, request.names),
        risks=risks(request.stage_scores, request.missed_commitments),
        focus_questions=focus_questions(request.stage_scores, request.missed_commitments),
    )
