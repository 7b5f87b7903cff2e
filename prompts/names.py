"""Words about people's names (prompts/names/<locale>.yaml): the short forms first names
are often called by, and name parts that are also everyday words."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from prompts.texts import SafeLoader

NAMES_DIR = Path(__file__).parent / "names"


@dataclass(frozen=True)
class NameWords:
    nicknames: dict[str, tuple[str, ...]]  # lower-case first name -> short forms
    ordinary: frozenset[str]  # lower case


@lru_cache(maxsize=4)
def name_words(locale: str = "en") -> NameWords:
    path = NAMES_DIR / f"{locale}.yaml"
    if not path.exists():
        path = NAMES_DIR / "en.yaml"
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
    nicknames = {
        str(name).lower(): tuple(str(n).lower() for n in short)
        for name, short in (loaded.get("nicknames") or {}).items()
    }
    ordinary = frozenset(str(w).lower() for w in loaded.get("ordinary_words") or [])
    return NameWords(nicknames, ordinary)
