"""`python -m bench` (and `make bench`): every benchmark, one table each.

Each runs as `python -m bench.<name>` with its defaults (sized for a few minutes on
two cores); run one alone for its options (`python -m bench.scheduler_bench --help`)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.endswith("_bench"))
    failed = 0
    for name in names:
        print(f"\n== bench.{name}", flush=True)
        failed += (
            subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False).returncode != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
