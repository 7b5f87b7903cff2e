"""Message texts by key and locale, from prompts/messages/<locale>/*.yaml (one file
per capability; a key defined twice is an error)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
# libyaml's parser when installed: the catalog is read at the start of every process
# and CLI command (~0.13 s in pure Python, ~0.01 s in C); our own files, no limits needed.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=8)
def _catalog(locale: str) -> dict[str, str]:
    catalog: dict[str, str] = {}
    for path in sorted((MESSAGES_DIR / locale).glob("*.yaml")):
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
        for key, value in loaded.items():
            if str(key) in catalog:
                raise ValueError(f"{path.name}: message key {key!r} is defined twice")
            catalog[str(key)] = str(value)
    return catalog


def text(key: str, locale: str = "en", **values: Any) -> str:
    """The message for `key` in `locale` (falling back to English), formatted."""
    template = _catalog(locale).get(key) or _catalog("en").get(key)
    if template is None:
        raise KeyError(f"no message text for {key!r}")
    return template.format(**values) if values else template
