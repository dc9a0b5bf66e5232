"""One table for `make bench`: each bench run with ``--summary FILE`` adds its headline figures
to FILE (a JSON line each), and this prints them together beside their goals.

    .venv/bin/python bench/summary.py FILE
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path


def record(path: str, figure: str, measured: str, goal: str, met: bool) -> None:
    """Add one figure to the summary file (nothing when no file was asked for)."""
    if path:
        with Path(path).open("a") as out:
            out.write(json.dumps({"figure": figure, "measured": measured, "goal": goal, "met": met}) + "\n")


def machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def main() -> None:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    print(f"\nSummary ({machine()})\n")
    print("| figure | measured | goal | met |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['figure']} | {row['measured']} | {row['goal']} | {'yes' if row['met'] else 'no'} |")


if __name__ == "__main__":
    main()
