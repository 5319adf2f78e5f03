"""benchmarks/spread.py: the spread of each workload's ratios over several runs of run.py, and
whether every target held in every run (issue 17's "five consecutive runs")."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import spread  # noqa: E402

HEADER = (
    "| workload | unit | gradienti | torch | numpy | gradienti/torch | gradienti/numpy | target |"
)
TABLE = (
    HEADER
    + """ met? |
|---|---|---|---|---|---|---|---|---|
| seed | µs/iter | 13.3 | 97.7 | 1.02 | {seed} | 14.0 | ≤ 0.12× torch | NO |
| deep (memory) | B/node | 200 | n/a | 32.0 | n/a | 6.25 | ≤ 200 B/node | yes |
| mlp | ms/step | 1.48 | 1.59 | 1.36 | 0.927 | {mlp} | ≤ 0.95× torch, ≤ 1.1× numpy | yes |
| cnn | ms/step | 13.4 | 14.8 | n/a | 0.987 | n/a | ≤ 1× torch | yes |
"""
)


def run_output(seed: str, mlp: str) -> str:
    return "machine: x\n\n" + TABLE.format(seed=seed, mlp=mlp)


def test_parse_table_reads_ratios_and_targets():
    rows = spread.parse_table(run_output("0.151", "1.13"))
    assert rows["seed"] == ([(0.12, "torch")], 0.151, 14.0)
    assert rows["mlp"] == ([(0.95, "torch"), (1.1, "numpy")], 0.927, 1.13)
    assert rows["cnn"] == ([(1.0, "torch")], 0.987, None)
    assert rows["deep (memory)"][1] is None  # no ratio to torch


def test_a_target_missed_in_one_run_is_not_held():
    spreads = spread.collect([run_output("0.11", "1.05"), run_output("0.13", "1.08")])
    assert spreads["seed"].ratios["torch"] == [0.11, 0.13]
    assert spreads["seed"].held_every_time() is False
    assert spreads["mlp"].held_every_time() is True
    assert spreads["cnn"].held_every_time() is True
    text = spread.summary(spreads, 2)
    assert "| seed | ×torch | 0.11 | 0.13 | 0.11 | 0.12 | 0.13 | ≤ 0.12 | NO |" in text
    assert "| mlp | ×numpy | 1.05 | 1.08 | 1.05 | 1.06 | 1.08 | ≤ 1.1 | yes |" in text


def test_spread_runs_run_py_in_fresh_processes():
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "spread.py"), "--runs", "2", "--quick"]
        + ["--only", "seed", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "run 2 of 2" in done.stdout
    seed_row = next(line for line in done.stdout.splitlines() if line.startswith("| seed | ×torch"))
    assert len(seed_row.strip("|").split("|")) == 2 + 2 + 5


def test_runs_below_one_are_refused():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "spread.py"), "--runs", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--runs must be at least 1" in done.stderr
