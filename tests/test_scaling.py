"""benchmarks/scaling.py runs at tiny sizes, checks its gradients, prints its table and plots.

No timing is asserted; the flatness check itself is tested on made-up points.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCALING = BENCHMARKS / "scaling.py"


def run_scaling(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCALING), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def scaling_module():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import scaling
    finally:
        sys.path.remove(str(BENCHMARKS))
    return scaling


def test_tiny_run_checks_gradients_prints_the_table_and_writes_the_plot(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    plot = tmp_path / "scaling.png"
    done = run_scaling(
        "--sizes", "100,1000", "--elements", "10,100", "--rounds", "1", "--plot", str(plot)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CORRECTNESS CHECK FAILED" not in done.stdout
    assert (
        "| graph | size | unit | gradienti | torch | gradienti/torch | compiled | compiled/torch |"
        " gradienti peak B/unit | compiled peak B/unit | torch C heap B/unit |"
    ) in done.stdout
    for row in (
        "| chain | 100 | µs/node |",
        "| chain | 1,000 | µs/node |",
        "| wide | 1,000 | µs/node |",
        "| elements | 10 | ns/element |",
        "| elements | 100 | ns/element |",
    ):
        assert row in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("| chain |")]
    # torch's and the compiled column's time and memory were measured
    assert all("n/a" not in row for row in rows), rows
    assert "flat check chain/gradienti: not judged" in done.stdout  # no size >= 10,000
    assert "flat check wide/compiled: not judged" in done.stdout
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_the_flat_check_is_judged_at_10_000_nodes_and_more():
    pytest.importorskip("torch")
    done = run_scaling(
        "--sizes", "10000,20000", "--elements", "10", "--rounds", "1", "--check",
        "--compiled-up-to", "0",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "| wide | 20,000 | µs/node |" in done.stdout
    assert "flat check chain/compiled: not judged" in done.stdout  # not measured: n/a
    rows = [line for line in done.stdout.splitlines() if line.startswith("| chain | 20,000 |")]
    assert rows[0].split(" | ")[6:8] == ["n/a", "n/a"], rows  # the compiled columns
    for label in [
        f"{graph}/{impl}" for graph in ("chain", "wide") for impl in ("gradienti", "torch")
    ]:
        verdicts = (f"flat check {label}: ok", f"SUPER-LINEAR STEP {label}")
        assert any(verdict in done.stdout for verdict in verdicts), done.stdout
    gradienti_grew = any(
        f"SUPER-LINEAR STEP {graph}/{impl}" in done.stdout
        for graph in ("chain", "wide")
        for impl in ("gradienti", "compiled")
    )
    assert (done.returncode == 1) == gradienti_grew  # --check: non-zero exactly then


def test_flatness_problems_flags_a_super_linear_step(scaling_module):
    flat = [(10**3, 9.0), (10**4, 1.0), (10**5, 1.1), (10**6, 1.2)]
    assert scaling_module.flatness_problems(flat, "chain") == []  # 10^3 is not judged
    grown = [(10**4, 1.0), (10**5, 1.1), (10**6, 1.0), (10**7, 2.5)]
    (problem,) = scaling_module.flatness_problems(grown, "chain/gradienti")
    assert problem.startswith("chain/gradienti: 2.5 µs/node at 10,000,000 nodes is 2.4x")


def test_graphs_have_the_node_counts_the_table_divides_by(scaling_module):
    gradienti = pytest.importorskip("gradienti")
    for series in (scaling_module.chain_series([10]), scaling_module.wide_series([10])):
        for nodes in (10, 1000):
            x, y = series.forward(gradienti, nodes)
            count, stack, seen = 0, [y.grad_fn], set()
            while stack:
                node = stack.pop()
                if node is None or id(node) in seen:
                    continue
                seen.add(id(node))
                count += type(node).__name__ != "AccumulateGrad"
                stack.extend(next_fn for next_fn, _ in node.next_functions)
            assert count == scaling_module.graph_nodes(series, nodes) == nodes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sizes", "0,10"), "sizes must be positive integers"),
        (("--sizes", "ten"), "not a comma-separated list of sizes"),
        (("--rounds", "0"), "--rounds must be at least 1"),
        (("--quick", "--full"), "not allowed with argument"),
        (("--compiled-up-to", "-1"), "--compiled-up-to must be 0 or more"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(args, message):
    done = run_scaling(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "|" not in done.stdout


def test_a_compiled_column_that_differs_from_eager_fails_the_check(scaling_module):
    gradienti = pytest.importorskip("gradienti")
    build = scaling_module.chain_series([10]).compiled_build
    step = build(gradienti, 10)
    results = {"gradienti": step(), scaling_module.COMPILED: step()}
    scaling_module.check_compiled("chain 10", results, step.compiled)  # equal, replayed
    output, gradient = results["gradienti"]
    results[scaling_module.COMPILED] = (output, gradient * 2)
    with pytest.raises(scaling_module.h.CheckError, match="compiled gradient"):
        scaling_module.check_compiled("chain 10", results, step.compiled)
    fresh = build(gradienti, 10)
    results = {"gradienti": fresh(), scaling_module.COMPILED: (output, gradient)}
    with pytest.raises(scaling_module.h.CheckError, match="did not replay"):
        scaling_module.check_compiled("chain 10", results, fresh.compiled)  # traced only
