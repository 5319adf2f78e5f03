"""Run benchmarks/run.py several times, each in a fresh process, and print the spread of each
workload's ratios and whether its targets held in every run.

Issue 17 judges the eager targets "in every one of five consecutive runs": one lucky run is not
a margin. Usage (any other argument is handed to run.py):

    .venv/bin/python benchmarks/spread.py --runs 5 --only seed chain deep mlp cnn
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

RUN = Path(__file__).resolve().parent / "run.py"

# "≤ 0.12× torch, ≤ 1.1× numpy" -> [(0.12, "torch"), (1.1, "numpy")]
TARGET = re.compile(r"≤ ([0-9.]+)× (torch|numpy)")


@dataclass
class Spread:
    """One workload's ratios over the runs, per reference library, and its targets."""

    name: str
    targets: list[tuple[float, str]]
    ratios: dict[str, list[float]] = field(default_factory=lambda: {"torch": [], "numpy": []})

    def held_every_time(self) -> bool | None:
        """Whether every target held in every run; None when no target could be judged."""
        judged = [(limit, self.ratios[ref]) for limit, ref in self.targets if self.ratios[ref]]
        if not judged:
            return None
        return all(value <= limit for limit, values in judged for value in values)


def parse_ratio(cell: str) -> float | None:
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return None  # "n/a"


def parse_table(
    stdout: str,
) -> dict[str, tuple[list[tuple[float, str]], float | None, float | None]]:
    """run.py's markdown table as {workload: (targets, ratio to torch, ratio to numpy)}.
    Rows without a ratio (the memory rows) are left out."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 9 or cells[0] in ("workload", "---"):
            continue
        name, *_, to_torch, to_numpy, target, _met = cells
        r_torch, r_numpy = parse_ratio(to_torch), parse_ratio(to_numpy)
        if r_torch is None and r_numpy is None:
            continue
        targets = [(float(limit), ref) for limit, ref in TARGET.findall(target)]
        rows[name] = (targets, r_torch, r_numpy)
    return rows


def collect(runs: list[str]) -> dict[str, Spread]:
    """Each run's table gathered into one Spread per workload, in the order of the first run."""
    spreads: dict[str, Spread] = {}
    for stdout in runs:
        for name, (targets, r_torch, r_numpy) in parse_table(stdout).items():
            spread = spreads.setdefault(name, Spread(name, targets))
            for ref, value in (("torch", r_torch), ("numpy", r_numpy)):
                if value is not None:
                    spread.ratios[ref].append(value)
    return spreads


def summary(spreads: dict[str, Spread], runs: int) -> str:
    lines = [
        f"| workload | ratio | {' | '.join(f'run {i + 1}' for i in range(runs))} "
        "| min | median | max | target | held in every run? |",
        "|---" * (runs + 7) + "|",
    ]
    for spread in spreads.values():
        for ref in ("torch", "numpy"):
            values = spread.ratios[ref]
            if not values:
                continue
            limits = [limit for limit, target_ref in spread.targets if target_ref == ref]
            cells = [f"{v:.3g}" for v in values] + ["—"] * (runs - len(values))
            stats = (min(values), statistics.median(values), max(values))
            target = f"≤ {limits[0]:g}" if limits else ""
            held = "" if not limits else ("yes" if max(values) <= limits[0] else "NO")
            lines.append(
                f"| {spread.name} | ×{ref} | {' | '.join(cells)} | "
                + " | ".join(f"{v:.3g}" for v in stats)
                + f" | {target} | {held} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes (default 5)")
    args, passed_on = parser.parse_known_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    outputs = []
    for index in range(args.runs):
        print(f"run {index + 1} of {args.runs}: run.py {' '.join(passed_on)}", flush=True)
        done = subprocess.run(
            [sys.executable, str(RUN), *passed_on], capture_output=True, text=True
        )
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            return done.returncode
        outputs.append(done.stdout)
    print(outputs[0].split("\n\n")[0])  # the machine header of the first run
    print(summary(collect(outputs), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
