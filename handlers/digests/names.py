"""People's names in free text: every form a person may be called by, and one matcher
that finds them by their shape, so names go and ordinary words stay.

A person is looked for by their full name, each part of it, the parts of their handle
and of their e-mail address, and the usual short forms of their first name ("Daniel":
"Dan", "Danny"). A form that is also an everyday word ("Will", "Hope", "Grace") counts
only in a name's shape, capitalised or in capitals: "Will Hope" is a name, "we will
decide; there is hope" is not. Every other form matches in any case ("OKORO", "okoro's").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from prompts.names import name_words

MIN_LENGTH = 3  # shorter forms ("Al", "Jo") would match too much ordinary text


def name_forms(people: Iterable[tuple[str, str, str | None]]) -> list[str]:
    """Every way the people (name, handle, e-mail) may be named, three letters or more."""
    words = name_words()
    forms: set[str] = set()
    for name, handle, email in people:
        local = (email or "").split("@")[0]
        parts = [*name.split(), *re.split(r"[._\-+]", handle), *re.split(r"[._\-+]", local)]
        forms |= {name.strip(), handle.strip(), *parts}
        first = name.split()[0].lower() if name.split() else ""
        forms |= set(words.nicknames.get(first, ()))
    return sorted(f for f in forms if len(f) >= MIN_LENGTH and any(c.isalpha() for c in f))


def _ordinary(form: str) -> bool:
    ordinary = name_words().ordinary
    return all(word.lower() in ordinary for word in form.split())


class NameMatcher:
    """Finds the given names in text (whole words only: "Banana" is not "Ana")."""

    def __init__(self, forms: frozenset[str]) -> None:
        strict = [f for f in forms if not _ordinary(f)]
        shaped = [f for f in forms if _ordinary(f)]
        self._strict = _alternation(strict, re.IGNORECASE)
        # Capitalised ("Will Hope") or in capitals ("WILL"), never lower case.
        shapes = {f.title() for f in shaped} | {f.upper() for f in shaped}
        self._shaped = _alternation(sorted(shapes), 0)

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        for pattern in (self._strict, self._shaped):
            if pattern is not None:
                text = pattern.sub(replacement, text)
        return text

    def search(self, text: str) -> bool:
        return any(p is not None and p.search(text) for p in (self._strict, self._shaped))


def _alternation(forms: Iterable[str], flags: int) -> re.Pattern[str] | None:
    found = sorted(set(forms), key=lambda n: (-len(n), n))
    if not found:
        return None
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in found)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", flags)


def names_pattern(names: Iterable[str]) -> NameMatcher | None:
    """One matcher for all `names` (three characters or more), or None for none.
    A possessive keeps its "'s" ("a team member's")."""
    found = frozenset(n.strip() for n in names if len(n.strip()) >= MIN_LENGTH)
    return _matcher(found) if found else None


@functools.lru_cache(maxsize=16)
def _matcher(found: frozenset[str]) -> NameMatcher:
    # Remembered: a digest cleans every line against the same (workspace-sized) names.
    return NameMatcher(found)
