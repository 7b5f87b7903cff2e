"""`python -m bench` (and `make bench`): every benchmark, then one table of their
headline figures (figure, value, baseline, ratio, goal), also written as JSON.

Each runs as `python -m bench.<name>` with its defaults (sized for a few minutes on
two cores) and prints its own detailed table first; run one alone for its options
(`python -m bench.scheduler_bench --help`). `--quick`: small sizes, the whole set in
a few minutes (a check that every bench works, not figures to quote)."""

from __future__ import annotations

import argparse
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.figures import RESULTS_ENV, read, table

# Small sizes for --quick, by bench.
QUICK: dict[str, list[str]] = {
    "digest_bench": ["--runs", "3"],
    "scheduler_bench": ["--people", "5000"],
    "slack_fanout_bench": ["--people", "200"],
    "slack_interactions_bench": ["--people", "60", "--rounds", "1"],
    "slack_lanes_bench": ["--workspaces", "4", "--people", "20", "--processes", "1,2"],
    "soak_bench": ["--seconds", "20", "--people", "100"],
    "teams_fanout_bench": ["--people", "100"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a quick check")
    parser.add_argument("--only", help="comma-separated bench names (e.g. soak_bench)")
    parser.add_argument(
        "--json", type=Path, default=Path("bench-results.json"), help="where the table goes"
    )
    args = parser.parse_args()
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.endswith("_bench"))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "figures.jsonl"
        environment = os.environ | {RESULTS_ENV: str(results)}
        for name in names:
            extra = QUICK.get(name, []) if args.quick else []
            print(f"\n== bench.{name} {' '.join(extra)}".rstrip(), flush=True)
            command = [sys.executable, "-m", f"bench.{name}", *extra]
            if subprocess.run(command, env=environment, check=False).returncode != 0:
                failed.append(name)
        figures = read(results)
    print("\n== all benches" + (" (--quick: small sizes)" if args.quick else ""))
    print(table(figures))
    args.json.write_text(
        json.dumps(
            {"quick": args.quick, "failed": failed, "figures": [f.as_json() for f in figures]},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {args.json}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
