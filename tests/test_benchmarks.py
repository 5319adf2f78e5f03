"""The benchmark harness still runs and still checks gradients (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_seed_benchmark_runs_and_checks_gradients():
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "seed", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| seed | µs/iter |" in done.stdout
    assert "CORRECTNESS CHECK FAILED" not in done.stdout


def test_quick_array_workloads_run_and_check_gradients():
    # mlp, bcast and cnn: gradienti's loss and first-layer gradient are checked against
    # PyTorch's and hand-written NumPy's before any timing (matmul is the same code path, slow).
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "mlp", "bcast", "cnn", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for row in ("| mlp | ms/step |", "| bcast | ms/iter |", "| cnn | ms/step |"):
        assert row in done.stdout
    assert "CORRECTNESS CHECK FAILED" not in done.stdout
