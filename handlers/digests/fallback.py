"""The deterministic digest summary: used with no LLM configured, and whenever the LLM
fails, times out, is skipped or answers something unusable. It never fails and never
calls out.

Themes come from plain text analysis of the comments, once there are enough of them
(`THEMES_FROM`; with fewer, the digest shows the comments themselves): each comment is
matched against a small lexicon of coaching topics (stems, so "decide", "decision" and
"decided" count once; placeholders such as "[email]" are no topic), and each mention
gets a polarity from the words around it, so "disagreement felt more welcome" is a
conflict theme going well, not a conflict. Topics mentioned in at least two comments
become themes, the most frequent first. With too few topic hits, the most frequent
content words are used instead — never a name: a word counts only when it is a topic
word, or is written in lower case somewhere and never capitalised mid-sentence (a
proper noun, likely a person), and is none of the workspace's names. Focus questions
and risks come from the digest's signals (handlers/digests/signals.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from handlers.digests.hygiene import PLACEHOLDERS
from handlers.digests.signals import focus_questions
from handlers.digests.summarizer import SummaryOutput, SummaryRequest

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
    "Inclusion and belonging": (
        "includ",
        "exclud",
        "left out",
        "belong",
        "silo",
        "clique",
        "welcom",
        "quiet",
    ),
}
THEMES_FROM = 4  # fewer usable comments: shown as written, no themes

# Words that say how a mention leans; a negation or a complaint outweighs praise.
_POSITIVE = re.compile(
    r"\b(?:more welcome|better|improv\w*|easier|good|great|glad|help(?:ed|ful)|apprecia\w*|"
    r"thank\w*|finally|progress|safer|kind|enjoy\w*|openly|first time we really)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|less|worse|hard|difficult|unclear|afraid|hesitat\w*|ignor\w*|"
    r"too much|too many|late|blocked|frustrat\w*|tense|still|again|instead|without|"
    r"over(?:ride|riding|run|runs)?|interrupt\w*|parked|reopened|before we)\b|n't\b",
    re.IGNORECASE,
)

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


def _topic_counts(comments: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Comments mentioning each topic, and of those, the ones leaning positive."""
    counts: Counter[str] = Counter()
    positive: Counter[str] = Counter()
    for comment in comments:
        plain = PLACEHOLDERS.sub(" ", comment)
        lowered = plain.lower()
        lean = len(_POSITIVE.findall(plain)) - len(_NEGATIVE.findall(plain))
        for topic, stems in TOPICS.items():
            if any(re.search(rf"(?<![a-z]){re.escape(stem)}", lowered) for stem in stems):
                counts[topic] += 1
                positive[topic] += lean > 0
    return counts, positive


def _lean(mentions: int, positive: int) -> str:
    if positive == mentions:
        return "going well"
    if positive == 0:
        return "a concern"
    return "mixed"


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
        comment = PLACEHOLDERS.sub(" ", comment)
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
    """Themes mentioned in at least two comments, with how many mention each and how
    they lean; none with fewer than THEMES_FROM comments (those are shown instead)."""
    if len(comments) < THEMES_FROM:
        return []
    counts, positive = _topic_counts(comments)
    found = [
        f"{topic}: {_lean(n, positive[topic])} (in {n} of {len(comments)} comments)"
        for topic, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
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


RISK_TOPICS = ("drop", "participation", "split", "contract", "commitments", "stage:")


def fallback_summary(request: SummaryRequest) -> SummaryOutput:
    """Themes from the comments; risks and focus questions from the digest's signals."""
    found = list(request.signals)
    return SummaryOutput(
        themes=themes(request.comments, request.names),
        risks=[s.why for s in found if s.topic.startswith(RISK_TOPICS)][:5],
        focus_questions=focus_questions(found),
    )
