"""A quick CLI: read commands build the essentials only (settings, database, services),
so no chat SDK, model client, chart library, scheduler, HTTP server or Alembic is even
imported; the schema check is one query while the database is at head. Structural
checks (what is loaded), not timings: the times are bench/cli_bench.py's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.demo.load import load_demo
from bot.essentials import Essentials
from bot.settings import Settings
from storage.core.db import Database, alembic_config, head_revision

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "openai",
    "matplotlib",
    "slack_sdk",
    "slack_bolt",
    "botbuilder",
    "botframework",
    "apscheduler",
    "aiohttp",
    "alembic",
)
READ_COMMANDS = {
    "pulse results": ["pulse", "results", "leadership"],
    "pulse results --json": ["pulse", "results", "leadership", "--json"],
    "schedule preview": ["schedule", "preview", "leadership"],
    "digest show": ["digest", "show", "leadership"],
    "export-config": ["export-config"],
    "--help": ["--help"],
}
# Runs one command through the real entry point, then writes which heavy top-level
# packages were loaded to the file named by the first argument.
PROBE = """
import json, sys
from bot.cli.main import main
out, argv, heavy = sys.argv[1], sys.argv[2:], {heavy!r}
try:
    code = main(argv)
except SystemExit as exit_:
    code = exit_.code or 0
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
with open(out, "w") as f:
    json.dump({{"code": code, "loaded": loaded}}, f)
"""


def _run(args: list[str], tmp_path: Path, url: str) -> tuple[dict[str, object], str]:
    out = tmp_path / "probe.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PULSECOACH_", "SLACK_", "MICROSOFT_", "OPENAI_"))
    }
    env.update(PULSECOACH_DATABASE_URL=url, PULSECOACH_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"

    async def load() -> None:
        app = Essentials.build(Settings(PULSECOACH_DATABASE_URL=url))
        try:
            await app.db.upgrade()
            await load_demo(app)
        finally:
            await app.aclose()

    import asyncio

    asyncio.run(load())
    return url


@pytest.mark.parametrize("name", list(READ_COMMANDS))
def test_read_commands_import_no_heavy_package(name: str, demo_url: str, tmp_path: Path) -> None:
    probe, stdout = _run(READ_COMMANDS[name], tmp_path, demo_url)
    assert probe == {"code": 0, "loaded": []}
    assert stdout.strip()  # it did answer


def test_results_answer_with_the_demo_figures(demo_url: str, tmp_path: Path) -> None:
    _, stdout = _run(["pulse", "results", "leadership", "--json"], tmp_path, demo_url)
    assert json.loads(stdout)["team"] == "leadership"


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_an_empty_database_is_upgraded_a_current_one_only_checked(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        await db.ensure_current()  # no alembic_version table yet: Alembic upgrades
        assert await db.current_revision() == head_revision()
        await db.ensure_current()  # at head: one query, nothing changes
        assert await db.current_revision() == head_revision()
    finally:
        await db.dispose()


async def test_a_database_behind_head_is_upgraded(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        await db.upgrade("0011")
        await db.ensure_current()
        assert await db.current_revision() == head_revision()
    finally:
        await db.dispose()
