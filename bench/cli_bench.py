"""CLI benchmark: the wall time of each read command on the demo database, and of
`--help`, beside `python -c pass` (the interpreter's own start) in the same run.

    python -m bench.cli_bench [--repeats 5]

The demo is loaded into a temporary data directory (SQLite), with no chat platform and
no model configured (what `pulsecoach demo` gives). Each command runs once to warm
the byte-code cache (an installed package has its .pyc files), then `--repeats` times;
the median counts. Goals: every read command under 1 s, `--help` under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEAM = "leadership"  # the demo's team with history, an open round and a coach
COMMANDS: dict[str, tuple[list[str], float]] = {
    "--help": (["--help"], 0.5),
    "pulse results": (["pulse", "results", TEAM], 1.0),
    "schedule preview": (["schedule", "preview", TEAM], 1.0),
    "digest show": (["digest", "show", TEAM], 1.0),
    "export-config": (["export-config"], 1.0),
}
# What would switch a channel or the model on: the demo runs without them.
_OUTSIDE = ("PULSECOACH_", "SLACK_", "MICROSOFT_", "OPENAI_")


def _environment(data_dir: Path, pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTSIDE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PULSECOACH_DATA_DIR=str(data_dir),
        PULSECOACH_LOG_LEVEL="WARNING",
        PYTHONPYCACHEPREFIX=str(pycache),
        PYTHONPATH=str(ROOT),
    )
    return env


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return seconds


def _median(argv: list[str], env: dict[str, str], repeats: int) -> float:
    _wall(argv, env)  # warm: byte code written, files in the page cache
    return statistics.median(_wall(argv, env) for _ in range(repeats))


def run(repeats: int = 5) -> list[dict[str, Any]]:
    """One row per command: its median wall time, the bare interpreter's, their ratio
    and the goal."""
    cli = [sys.executable, "-m", "bot.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        env = _environment(Path(tmp) / "data", Path(tmp) / "pycache")
        _wall([*cli, "demo", "--no-serve"], env)
        rows = []
        for name, (args, goal) in COMMANDS.items():
            bare = _median([sys.executable, "-c", "pass"], env, repeats)
            seconds = _median([*cli, *args], env, repeats)
            rows.append(
                {
                    "figure": f"pulsecoach {name} (s)",
                    "value": seconds,
                    "baseline": bare,
                    "ratio": seconds / bare,
                    "goal": f"< {goal:.1f} s",
                    "ok": seconds < goal,
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    width = max(len(r["figure"]) for r in rows)
    lines = [
        f"{'figure':<{width}}  {'wall':>7}  {'python -c pass':>14}  {'ratio':>6}  goal",
        "-" * (width + 48),
    ]
    for r in rows:
        lines.append(
            f"{r['figure']:<{width}}  {r['value']:>7.3f}  {r['baseline']:>14.3f}  "
            f"{r['ratio']:>6.1f}  {r['goal']}{'' if r['ok'] else '  MISSED'}"
        )
    ok = all(r["ok"] for r in rows)
    lines.append(f"{'all goals met':<{width}}  {'yes' if ok else 'NO':>7}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command")
    args = parser.parse_args()
    rows = run(args.repeats)
    print(table(rows), flush=True)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
