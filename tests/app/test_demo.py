"""`make demo` loads the demo organisation only into an empty database, so it never
undoes an admin's changes; `pulsecoach demo --reset` starts over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.app import Pulsecoach
from bot.demo.load import load_demo
from bot.settings import Settings
from storage.pulse.models import PulseProgram

ROOT = Path(__file__).resolve().parents[2]


async def _window(url: str) -> int:
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url))
    try:
        async with app.db.session() as session:
            return (await session.exec(select(PulseProgram))).one().window_hours
    finally:
        await app.db.dispose()


async def test_demo_loads_once_and_reset_starts_over(tmp_path: Path, no_env: None) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url))
    await app.db.upgrade()
    first = await load_demo(app)
    assert "create workspace demo" in first
    # The admin changes the program in chat.
    async with app.db.session() as session:
        program = (await session.exec(select(PulseProgram))).one()
        program.window_hours = 48
        session.add(program)
    await app.db.dispose()

    def demo(*extra: str) -> str:
        run = [sys.executable, "-m", "bot.cli.main", "demo", "--no-serve", *extra]
        env = {"PULSECOACH_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        return done.stdout

    again = demo()
    assert "already holds an organisation" in again and "--reset" in again
    assert await _window(url) == 48  # kept

    fresh = demo("--reset")
    assert "create workspace demo" in fresh
    assert await _window(url) == 72  # the demo's own
