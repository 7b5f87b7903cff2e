"""The Bot Framework SDK is archived: its imports stay in bot/teams/ (and the test
stand-ins), so a move to the Microsoft 365 Agents SDK changes that folder only."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SDK = ("botbuilder", "botframework")
ALLOWED = (REPO / "bot" / "teams", REPO / "tests")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_only_bot_teams_imports_the_bot_framework_sdk() -> None:
    offenders = []
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if parts[0].startswith(".") or any(path.is_relative_to(root) for root in ALLOWED):
            continue
        if any(name.split(".")[0] in SDK for name in _imports(path)):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_the_channel_entry_loads_no_sdk() -> None:
    assert not any(name.split(".")[0] in SDK for name in _imports(REPO / "bot/teams/__init__.py"))
