"""The benchmark harness still runs and still checks gradients (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

import gradienti

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def run_quick(*names: str, timeout: int = 300) -> str:
    """run.py's quick mode, one round, for ``names``: its stdout, once it exited 0 without a
    failed correctness check (every workload checks its results before it is timed)."""
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", *names, "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CORRECTNESS CHECK FAILED" not in done.stdout
    return done.stdout


def test_quick_seed_benchmark_runs_and_checks_gradients():
    pytest.importorskip("torch")
    stdout = run_quick("seed")
    assert "| seed | µs/iter |" in stdout


def test_quick_array_workloads_run_and_check_gradients():
    # mlp, bcast and cnn: gradienti's loss and first-layer gradient are checked against
    # PyTorch's and hand-written NumPy's before any timing (matmul is the same code path, slow).
    pytest.importorskip("torch")
    stdout = run_quick("mlp", "bcast", "cnn")
    for row in ("| mlp | ms/step |", "| bcast | ms/iter |", "| cnn | ms/step |"):
        assert row in stdout


def test_quick_func_workloads_run_and_check_their_results():
    # per_sample (vmap(grad) against torch.func and against gradienti's batched backward: the
    # mean of the per-sample gradients is the batch gradient), jacrev, jvp and checkpoint
    # (against torch and hand-written NumPy / the unchecked run), and the memory note.
    pytest.importorskip("torch")
    names = ("per_sample", "jacrev", "jvp", "checkpoint")
    stdout = run_quick(*names, timeout=600)
    for name in names:
        assert f"| {name} |" in stdout
    assert "checkpoint memory: " in stdout and "the same gradients" in stdout


def test_quick_sequence_workloads_run_and_check_gradients():
    # lstm and transformer: one SGD step from the same weights in both libraries; the loss and
    # a first-layer weight gradient are checked against PyTorch's before any timing.
    pytest.importorskip("torch")
    stdout = run_quick("lstm", "transformer")
    for row in ("| lstm | ms/step |", "| transformer | ms/step |"):
        assert row in stdout


def test_quick_layer_workloads_run_and_check_gradients():
    # layernorm, dwconv, conv2d, batchnorm, attention: the loss, the input's gradient and the
    # weight's gradient are checked against PyTorch's and hand-written NumPy's before timing.
    pytest.importorskip("torch")
    names = ("layernorm", "dwconv", "conv2d", "batchnorm", "attention")
    stdout = run_quick(*names)
    for name in names:
        assert f"| {name} | ms/iter |" in stdout


def test_quick_compiled_workloads_run_and_check_a_replay():
    # seed_compiled, chain_compiled, mlp_compiled: the call checked against PyTorch's and
    # hand-written NumPy's is a replay of the compiled program (the check fails otherwise).
    pytest.importorskip("torch")
    names = ("seed_compiled", "chain_compiled", "mlp_compiled")
    stdout = run_quick(*names)
    for name in names:
        assert f"| {name} |" in stdout


def test_layer_workload_check_catches_a_wrong_weight_gradient(monkeypatch):
    # The layer workloads check the weight's gradient as well as the input's: a NumPy reference
    # with a wrong weight gradient (all other results right) must fail the check.
    torch = pytest.importorskip("torch")

    monkeypatch.syspath_prepend(str(RUN.parent))
    harness = pytest.importorskip("harness")
    workloads_layers = pytest.importorskip("workloads_layers")
    ctx = harness.Context(gt=gradienti, torch=torch, quick=True)
    prep = workloads_layers.setup_batchnorm(ctx)
    prep.check()  # the right reference passes
    right = prep.fns["numpy"]

    def wrong_weight_gradient():
        loss, d_x, d_weight = right()
        return loss, d_x, d_weight * 1.01

    prep.fns["numpy"] = wrong_weight_gradient
    with pytest.raises(harness.CheckError, match=r"batchnorm \(weight gradient\)"):
        prep.check()
