"""Free text made harmless: what a coach sees of a model's answer (`inert`: no links,
addresses, mentions, markup or people's names, in any channel) and what the model
sees of a comment (`redact`: names and contact details replaced, length capped)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

MAX_COMMENT_CHARS = 500

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_ANGLE = re.compile(r"<[^<>]*>")
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w])[@＠][\w.\-]+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Bare domains: "example.com/x", "intranet.example", "docs.acme.co.uk": a last label
# that is a common or reserved top-level domain, or any domain followed by a path.
_TLDS = (
    "com|org|net|io|co|dev|app|ai|edu|gov|info|biz|uk|de|fr|nl|eu|ch|dk|fi|pl|ca|au|nz|jp|"
    "cn|br|example|test|local|internal|corp|lan|intranet"
)
_PATH = r"/(?:[^\s)\]}>\"'“”‘’]*[^\s)\]}>\"'“”‘’.,;:!?])?"  # closing punctuation stays
_DOMAIN = re.compile(
    rf"(?<![\w@.])(?:[a-z0-9-]+\.)+(?:(?:{_TLDS})\b(?:{_PATH})?|[a-z]{{2,}}{_PATH})",
    re.IGNORECASE,
)


def inert(text: str, names: Iterable[str] = (), limit: int = 300) -> str:
    """Text safe to show in any channel: no links, e-mail addresses, @mentions, Slack
    control sequences, HTML or entities, and none of `names`."""
    text = _MD_LINK.sub(r"\1", text)
    text = _ANGLE.sub(" ", text)
    text = _URL.sub("", text)
    text = _EMAIL.sub("", text)
    text = _DOMAIN.sub("", text)
    text = _MENTION.sub("", text)
    text = _ENTITY.sub("", text)
    text = text.replace("<", "‹").replace(">", "›")
    if pattern := names_pattern(names):
        text = pattern.sub("a team member", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def redact(text: str, names: Iterable[str]) -> str:
    """A comment as the model sees it: names and contact details replaced, length capped."""
    text = _EMAIL.sub("[email]", _URL.sub("[link]", text))
    text = _DOMAIN.sub("[link]", text)
    text = _MENTION.sub("[name]", text)
    if pattern := names_pattern(names):
        text = pattern.sub("[name]", text)
    return text[:MAX_COMMENT_CHARS]


def names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all `names` (three characters or more), whole
    words only, so "OKORO", "okoro", "Ana's" and "Ana:" match and "Banana" does not.
    A possessive keeps its "'s" ("a team member's")."""
    return _pattern(frozenset(n.strip() for n in names if len(n.strip()) >= 3))


@functools.lru_cache(maxsize=16)
def _pattern(found: frozenset[str]) -> re.Pattern[str] | None:
    # Remembered: a digest cleans every line against the same (workspace-sized) names.
    if not found:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(found, key=lambda n: (-len(n), n)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
