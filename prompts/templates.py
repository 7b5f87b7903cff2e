"""Versioned prompt templates: ``prompts/templates/<name>.v<N>.md``.

A template file has a ``# system`` and a ``# user`` section; ``$placeholders`` are
filled with `string.Template` (not str.format, so JSON examples need no escaping).
A template is never edited once used: a change is a new version, and every stored
digest records the version it was written with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

TEMPLATES_DIR = Path(__file__).parent / "templates"
_SECTION = re.compile(r"^# (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: int
    system: str
    user: str

    @property
    def id(self) -> str:
        """What digests record, e.g. ``digest_summary.v1``."""
        return f"{self.name}.v{self.version}"

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with every placeholder filled; a missing one is an error."""
        return Template(self.system).substitute(values), Template(self.user).substitute(values)


@lru_cache(maxsize=16)
def load_template(name: str, version: int) -> PromptTemplate:
    path = TEMPLATES_DIR / f"{name}.v{version}.md"
    text = path.read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    # parts: [preamble, "system", body, "user", body]
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise ValueError(f"{path.name}: needs exactly one '# system' and one '# user' section")
    return PromptTemplate(name, version, sections["system"], sections["user"])
