"""What is worth a session question, drawn from every part of the digest: a change
larger than noise, the trend's turn, a stage that is clearly the weakest (never a tie),
answers split down the middle, the weakest contract norm and unacknowledged versions,
slipped commitments and leaders without one, what people wrote, and who stays silent.

The fallback asks the three strongest signals' questions; the model is given the
team's signals (never commitments: those are per coach) to draw its questions from.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.digests.content import DigestContent, Signal
from prompts.texts import text

CLEAR_GAP = 5.0  # a stage must trail the next by this many points to be "the weakest"
LOW_NORM = 70.0  # a contract norm lived below this is worth a question
LOW_RESPONSE = 0.6  # response rates below this are worth a question


def _weakest_stage(content: DigestContent) -> Signal | None:
    shown = sorted((s.score, s.key, s.label) for s in content.stages if s.score is not None)
    if len(shown) < 2:
        return None
    (low, key, label), (runner_up, _, _) = shown[0], shown[1]
    score = content.score
    gap = max(CLEAR_GAP, score.noise if score and score.noise else 0.0)
    if runner_up - low < gap:
        return None  # a tie (or within noise) is not a signal
    why = text("digest.signal.stage", stage=label, score=low, gap=runner_up - low)
    return Signal(topic=f"stage:{key}", why=why, question=text(f"digest.focus.{key}.1"))


def _change(content: DigestContent) -> Signal | None:
    score = content.score
    if score is None or score.change is None or not score.real_change:
        return None
    if score.change < 0:
        why = text("digest.signal.drop", change=-score.change, basis=score.change_basis)
        return Signal(topic="drop", why=why, question=text("digest.focus.drop"))
    why = text("digest.signal.rise", change=score.change, basis=score.change_basis)
    return Signal(topic="rise", why=why, question=text("digest.focus.rise"))


def _turn(content: DigestContent) -> Signal | None:
    story = content.story
    if story is None or story.turn_label is None or story.direction != "rising":
        return None
    if story.latest - story.low < CLEAR_GAP:
        return None
    why = text("digest.signal.recovery", low=story.low, when=story.low_label, latest=story.latest)
    return Signal(topic="recovery", why=why, question=text("digest.focus.recovery"))


def _split(content: DigestContent) -> Signal | None:
    split = [i for i in content.weakest_items + content.strongest_items if i.split]
    if not split:
        return None
    item = max(split, key=lambda i: min(i.favorable, i.unfavorable))
    why = text(
        "digest.signal.split",
        item=item.text,
        favorable=item.favorable,
        unfavorable=item.unfavorable,
    )
    return Signal(topic="split", why=why, question=text("digest.focus.split", item=item.text))


def _contract(content: DigestContent) -> list[Signal]:
    contract = content.contract
    found: list[Signal] = []
    if contract is None:
        return found
    percent = contract.weakest_percent
    if contract.weakest and percent is not None and percent < LOW_NORM:
        why = text("digest.signal.norm", norm=contract.weakest, percent=percent)
        question = text("digest.focus.norm", norm=contract.weakest)
        found.append(Signal(topic="contract", why=why, question=question))
    if contract.unacknowledged:
        why = text("digest.signal.unacknowledged", count=len(contract.unacknowledged))
        question = text("digest.focus.unacknowledged")
        found.append(Signal(topic="acknowledgement", why=why, question=question))
    return found


def _commitments(content: DigestContent) -> list[Signal]:
    found: list[Signal] = []
    slipped = [f for f in content.follow or [] if f.missed]
    if slipped:
        why = text("digest.signal.slipped", count=len(slipped))
        found.append(
            Signal(topic="commitments", why=why, question=text("digest.focus.commitments"))
        )
    if content.leaders_without:
        why = text("digest.signal.without", count=len(content.leaders_without))
        question = text("digest.focus.without")
        found.append(Signal(topic="no_commitment", why=why, question=question))
    return found


def _comments(content: DigestContent, themes: list[str]) -> Signal | None:
    if themes:
        why = text("digest.signal.theme", theme=themes[0])
        return Signal(topic="theme", why=why, question=text("digest.focus.theme"))
    if content.comments:
        why = text("digest.signal.comments", count=len(content.comments))
        return Signal(topic="comments", why=why, question=text("digest.focus.comments"))
    return None


def _silence(content: DigestContent) -> Signal | None:
    rate = content.respondents / content.invited if content.invited else None
    score = content.score
    if (rate is not None and rate < LOW_RESPONSE) or (score is not None and score.score is None):
        why = text(
            "digest.signal.silence", respondents=content.respondents, invited=content.invited
        )
        return Signal(topic="participation", why=why, question=text("digest.focus.silence"))
    return None


def signals(content: DigestContent, themes: Sequence[str] = ()) -> list[Signal]:
    """Every signal, strongest first (the order of this list is the priority)."""
    candidates = [
        _change(content),
        _silence(content),
        _split(content),
        *_contract(content),
        *_commitments(content),
        _weakest_stage(content),
        _turn(content),
        _comments(content, list(themes)),
    ]
    return [s for s in candidates if s is not None]


GROUPS = {
    "pulse": ("drop", "rise", "participation", "split", "stage:", "recovery"),
    "contract": ("contract", "acknowledgement"),
    "commitments": ("commitments", "no_commitment"),
    "comments": ("theme", "comments"),
}


def _group(signal: Signal) -> str:
    return next(g for g, topics in GROUPS.items() if signal.topic.startswith(topics))


def chosen(found: list[Signal]) -> list[Signal]:
    """The signals the three questions come from: the strongest of each part of the
    digest first (pulse, contract, commitments, comments, in the order of their
    strongest signal), then the next strongest, so the session covers the page."""
    firsts: dict[str, Signal] = {}
    for signal in found:
        firsts.setdefault(_group(signal), signal)
    rest = [s for s in found if s not in firsts.values()]
    return (list(firsts.values()) + rest)[:3]


def focus_questions(found: list[Signal]) -> list[str]:
    """Three questions from `chosen` signals, then general ones."""
    questions = list(dict.fromkeys(s.question for s in chosen(found)))[:3]
    n = 1
    while len(questions) < 3:
        generic = text(f"digest.focus.generic.{n}")
        if generic not in questions:
            questions.append(generic)
        n += 1
    return questions
