"""Message texts by key and locale, loaded from prompts/messages/<locale>.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, str]:
    path = MESSAGES_DIR / f"{locale}.yaml"
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): str(value) for key, value in loaded.items()}


def text(key: str, locale: str = "en", **values: Any) -> str:
    """The message for `key` in `locale` (falling back to English), formatted."""
    template = _catalog(locale).get(key) or _catalog("en").get(key)
    if template is None:
        raise KeyError(f"no message text for {key!r}")
    return template.format(**values) if values else template
