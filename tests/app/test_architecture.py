"""The house's rules, read from the code: who may import whom, where platform SDKs
live, and how big a module may grow (docs/architecture.md draws the same map)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "prompts", "scheduler", "storage")
# Third-party packages that belong to exactly one adapter folder.
SDK_HOMES = {
    "slack_bolt": "bot/slack/",
    "slack_sdk": "bot/slack/",
    "botbuilder": "bot/teams/",
    "botframework": "bot/teams/",
    "openai": "bot/llm/",
}


def _modules(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        found += [
            p for p in (ROOT / root).rglob("*.py") if "migrations/versions" not in p.as_posix()
        ]
    return sorted(found)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names, at any depth (lazy imports included)."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append((node.lineno, node.module))
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(roots: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]):
    bad = []
    for path in _modules(*roots):
        for line, name in _imports(path):
            if _under(name, *forbidden) and not _under(name, *allowed):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


SDKS = tuple(SDK_HOMES)


@pytest.mark.parametrize(
    ("roots", "allowed", "forbidden"),
    [
        # Handlers and the scheduler see the neutral core of bot/ only, never a channel,
        # an adapter, the settings or a platform SDK.
        (("handlers",), ("bot.core",), ("bot", "scheduler.runtime", *SDKS)),
        (("scheduler",), ("bot.core",), ("bot", "handlers", *SDKS)),
        # Calendar arithmetic is pure: it knows nothing of the runtime.
        (("scheduler/calendar",), (), ("scheduler.runtime",)),
        # Storage and prompts are the bottom of the house.
        (("storage",), (), ("bot", "handlers", "scheduler", "prompts", *SDKS)),
        (("prompts",), (), ("bot", "handlers", "scheduler", "storage", *SDKS)),
        # The neutral core imports nothing else of ours.
        (("bot/core",), ("bot.core",), ("bot", "handlers", "scheduler", "storage", *SDKS)),
    ],
    ids=["handlers", "scheduler", "calendar", "storage", "prompts", "core"],
)
def test_imports_flow_one_way(
    roots: tuple[str, ...], allowed: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    assert _violations(roots, allowed, forbidden) == []


def test_each_platform_sdk_is_imported_in_its_own_adapter_folder_only() -> None:
    bad = []
    for path in _modules(*PACKAGES):
        where = path.relative_to(ROOT).as_posix()
        for line, name in _imports(path):
            for sdk, home in SDK_HOMES.items():
                if _under(name, sdk) and not where.startswith(home):
                    bad.append(f"{where}:{line} imports {name} (belongs in {home})")
    assert bad == []


def test_the_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The reader is not vacuous: a lazy import of a channel inside a function counts."""
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from bot.slack.app import SlackChannel\n    return 1\n")
    assert (2, "bot.slack.app") in _imports(module)
    assert _under("bot.slack.app", "bot") and not _under("bot.slack.app", "bot.core")


def test_handlers_hold_only_feature_packages_the_router_and_the_context() -> None:
    handlers = ROOT / "handlers"
    loose = {p.name for p in handlers.glob("*.py")}
    assert loose == {"__init__.py", "router.py", "context.py"}
    features = {p.name for p in handlers.iterdir() if (p / "__init__.py").exists()}
    assert features == {"pulse", "contracts", "commitments", "digests", "home", "config"}


def test_every_module_is_under_400_lines() -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in _modules(*PACKAGES, "tests", "bench")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= 400
    ]
    assert long == []
