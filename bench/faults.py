"""bench/faults.py: the fault table of the closing note.

Runs the fault suite (tests/faults, one test per fault against the sandbox's fault knobs),
repeated `--rounds` times, and prints per fault: deletions, final states, inferred outcomes,
deletions lost, sent twice, and false outcomes (an outcome `GET /imgs/{id}` contradicts).

    /work/main/.venv/bin/python bench/faults.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_suite(out: Path) -> int:
    """One run of tests/faults; the suite writes its table to `out`."""
    env = {**os.environ, "WESOG_FAULT_TABLE": str(out)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False).returncode


def merge(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Sum the rows of every round per fault, in first-seen order."""
    table: dict[str, dict[str, Any]] = {}
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        entry = table.setdefault(
            row["fault"],
            {
                "runs": 0,
                "deletions": 0,
                "inferred": 0,
                "lost": 0,
                "sent_twice": 0,
                "false_outcomes": 0,
            },
        )
        entry["runs"] += 1
        for name in ("deletions", "inferred", "lost", "sent_twice", "false_outcomes"):
            entry[name] += row[name]
        states[row["fault"]].update(row["final_states"])
    for fault, entry in table.items():
        entry["states"] = ", ".join(f"{s} {n}" for s, n in sorted(states[fault].items()))
    return table


def main() -> None:
    """Run the suite, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for round_no in range(args.rounds):
            out = Path(folder) / f"round{round_no}.json"
            failed += run_suite(out) != 0
            rows += json.loads(out.read_text()) if out.exists() else []
    table = merge(rows)
    head = "| fault | runs | deletions | final states | inferred | lost | sent twice | false |"
    print(head)
    print("|---|---|---|---|---|---|---|---|")
    for fault, e in table.items():
        print(
            f"| {fault} | {e['runs']} | {e['deletions']} | {e['states']} | {e['inferred']} "
            f"| {e['lost']} | {e['sent_twice']} | {e['false_outcomes']} |"
        )
    total = {
        k: sum(e[k] for e in table.values())
        for k in ("deletions", "lost", "sent_twice", "false_outcomes")
    }
    print(
        f"\n{total['deletions']} deletions under {len(table)} faults × {args.rounds} round(s): "
        f"lost {total['lost']}, sent twice {total['sent_twice']}, false outcomes "
        f"{total['false_outcomes']}; suite runs failed: {failed}/{args.rounds}"
    )


if __name__ == "__main__":
    main()
