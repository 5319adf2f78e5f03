"""How much ``gradienti grad`` may compute: the estimate from the tree, the limits, the refusals."""

import re
import shlex
from pathlib import Path

import pytest

import gradienti
from gradienti.autograd.function import AccumulateGrad, edge_parts
from gradienti.cli import GRAD_EPILOG, main
from gradienti.cli_budget import (
    FORWARD_PASS_WEIGHT,
    MAX_EXPLAINED_ELEMENTS,
    MAX_EXPLAINED_STEPS,
    MAX_HELD_ELEMENTS,
    MAX_WORK,
    OPERATION_OVERHEAD,
    BudgetError,
    Cost,
    check_budget,
    estimate,
    forward_explained_steps,
)
from gradienti.expression import FUNCTIONS, Expression, parse

ROOT = Path(__file__).resolve().parents[1]


def cost_of(text, **sizes):
    return estimate(parse(text, variables=sizes), sizes)


def vector(size):
    return ",".join(["1"] * size)


def terms(count):
    """``count`` terms sin(x*x+x): 4 operations each, 3 on the joining '+'."""
    return "+".join(["sin(x*x+x)"] * count)


def graph_nodes(result) -> int:
    """The nodes of the autograd graph behind ``result``, leaves not counted."""
    seen, stack = {}, [edge_parts(result._edge)[0]]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(edge_parts(edge)[0] for edge in node._next if edge is not None)
    return sum(1 for node in seen.values() if type(node) is not AccumulateGrad)


# ----------------------------------------------------------------------------- the estimate


def test_estimate_counts_tensor_operations_and_their_elements():
    # x*x, +x, sin, +6 on 10 elements; sum on v's 1000; the last + on 10; 2*3 is a number
    assert cost_of("sin(x*x + x) + 2*3 + sum(v)", x=10, v=1000) == Cost(
        operations=6, elements=10 * 5 + 1000, leaves=2, size=10
    )
    assert cost_of("+x - -2", x=7) == Cost(operations=1, elements=7, leaves=1, size=7)
    assert cost_of("sin(2) * 3", x=7) == Cost(operations=2, elements=2, leaves=0, size=1)
    assert cost_of("2**3 + pi") == Cost(operations=0, elements=0, leaves=0, size=1)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_estimate_knows_the_size_of_every_functions_result(name):
    function = FUNCTIONS[name]
    for count in range(function.min_args, function.max_args + 1):
        text = f"{name}({', '.join(['v', 'w', 's'][:count])})"
        values = {
            "v": gradienti.tensor([0.25, 0.5, 0.75], requires_grad=True),
            "w": gradienti.tensor([0.1, 0.2, 0.3], requires_grad=True),
            "s": gradienti.tensor(0.9, requires_grad=True),
        }
        result = parse(text).evaluate(values)
        cost = cost_of(text, v=3, w=3, s=1)
        assert (cost.size, cost.operations) == (result.numel(), graph_nodes(result)), text


@pytest.mark.parametrize(
    "text", ["-x", "+x", "x**2", "2**x", "x/2", "x-2", "2-x", "x*y + sin(x)", "x**2*y + sin(x*y)"]
)
def test_estimate_counts_the_nodes_of_the_graph(text):
    values = {name: gradienti.tensor([1.0, 2.0], requires_grad=True) for name in "xy"}
    expression = parse(text)
    result = expression.evaluate(values)
    nodes = graph_nodes(result) if result.grad_fn is not None else 0
    assert estimate(expression, {"x": 2, "y": 2}).operations == nodes


def test_estimate_of_a_deeply_nested_expression():
    # as deep as the parser allows; the walk is iterative like the evaluation
    text = "-" * 150 + "x"
    assert cost_of(text, x=4) == Cost(operations=150, elements=600, leaves=1, size=4)


# ----------------------------------------------------------------------------- the limits


def test_work_limit_counts_one_pass_per_hessian_row():
    # 1,000 passes over one operation on 992,000 elements: exactly the limit
    elements = MAX_WORK // 1000 - OPERATION_OVERHEAD
    check_budget(Cost(1, elements, 1, 1), order=2, hessian_rows=999, explain=False)
    with pytest.raises(BudgetError, match=r"^too much work: 1 operations on 992,001 elements"):
        check_budget(Cost(1, elements + 1, 1, 1), order=2, hessian_rows=999, explain=False)
    # the same at order 1 is one pass; hessian_rows only count for --order 2
    check_budget(Cost(1, elements + 1, 1, 1), order=1, hessian_rows=999, explain=False)


def test_memory_limit_counts_the_gradients_graph_for_order_2():
    check_budget(Cost(1, MAX_HELD_ELEMENTS, 1, 1), order=1, hessian_rows=1, explain=False)
    with pytest.raises(BudgetError, match="^too much memory: .*; the limit is 50,000,000 "):
        check_budget(Cost(1, MAX_HELD_ELEMENTS + 1, 1, 1), order=1, hessian_rows=1, explain=False)
    half = MAX_HELD_ELEMENTS // 2
    check_budget(Cost(1, half, 1, 1), order=2, hessian_rows=0, explain=False)
    with pytest.raises(BudgetError, match="kept twice for --order 2"):
        check_budget(Cost(1, half + 1, 1, 1), order=2, hessian_rows=0, explain=False)


def test_explain_limits_its_steps_and_the_values_it_keeps():
    steps = Cost(MAX_EXPLAINED_STEPS - 1, 1000, 1, 1)  # one step per operation and leaf
    check_budget(steps, order=1, hessian_rows=1, explain=True)
    more_steps = Cost(MAX_EXPLAINED_STEPS - 1, 1000, 2, 1)
    check_budget(more_steps, order=1, hessian_rows=2, explain=False)
    with pytest.raises(BudgetError, match=r"^--explain would print about 1,001 steps"):
        check_budget(more_steps, order=1, hessian_rows=2, explain=True)
    values = Cost(10, MAX_EXPLAINED_ELEMENTS, 1, 1)
    check_budget(values, order=1, hessian_rows=1, explain=True)
    more_values = Cost(10, MAX_EXPLAINED_ELEMENTS + 1, 1, 1)
    check_budget(more_values, order=1, hessian_rows=1, explain=False)
    with pytest.raises(BudgetError, match=r"^--explain keeps the values of every step"):
        check_budget(more_values, order=1, hessian_rows=1, explain=True)


@pytest.mark.parametrize(
    "text, sizes, order, explain",
    [
        ("sum(x*x)", {"x": 100_000}, 1, False),  # the largest vector
        ("x*y + sin(x)", {"x": 500, "y": 500}, 2, False),  # --order 2 on 1,000 elements
        ("x**2*y + sin(x*y)", {"x": 999, "y": 1}, 2, True),
        (terms(900), {"x": 10_000}, 1, False),  # nearly 10,000 characters
        (terms(120), {"x": 10_000}, 1, True),
    ],
)
def test_what_each_other_limit_allows_is_within_the_budget(text, sizes, order, explain):
    hessian_rows = sum(sizes.values())
    check_budget(cost_of(text, **sizes), order=order, hessian_rows=hessian_rows, explain=explain)


# ----------------------------------------------------------------------------- the command


@pytest.fixture
def never_evaluated(monkeypatch):
    """Evaluating the expression fails the command (status 1): a refusal must come first."""

    def evaluate(self, values, dtype=None):
        raise AssertionError("the expression was evaluated")

    monkeypatch.setattr(Expression, "evaluate", evaluate)


def refusal(capsys, *argv):
    status = main(["grad", *argv])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


def test_order_2_of_a_long_expression_over_a_vector_is_refused(capsys, never_evaluated):
    # the case: ~3 KB over 1,000 elements with --order 2 took 36 s
    argv = [terms(270), "x=" + vector(1000), "--order", "2"]
    assert len(argv[0]) > 2900
    assert refusal(capsys, *argv) == (
        "gradienti grad: error: too much work: 1,079 operations on 1,079,000 elements in all "
        "in 1,001 passes (--order 2: one per element), about 9.7e+09 element-steps; "
        "the limit is 1e+09 (use a shorter expression or fewer elements)"
    )


def test_explain_of_a_huge_command_line_is_refused(capsys, never_evaluated):
    # the case: a 126 KB command line with --explain --dtype float64 ran out of memory
    argv = [terms(900), "x=" + vector(58_000), "--explain", "--dtype", "float64"]
    assert sum(len(arg) for arg in argv) > 125_000
    assert refusal(capsys, *argv) == (
        "gradienti grad: error: too much memory: 3,599 operations on 208,742,000 elements in "
        "all; the limit is 50,000,000 elements (use a shorter expression or fewer elements)"
    )


def test_explain_of_many_steps_or_many_values_is_refused(capsys, never_evaluated):
    assert refusal(capsys, terms(300), "x=2", "--explain") == (
        "gradienti grad: error: --explain would print about 1,200 steps (one per operation "
        "and variable); the limit is 1,000 (explain a shorter expression)"
    )
    assert refusal(capsys, terms(130), "x=" + vector(10_000), "--explain") == (
        "gradienti grad: error: --explain keeps the values of every step: 519 operations on "
        "5,190,000 elements in all; the limit is 5,000,000 (use a shorter expression or fewer "
        "elements)"
    )


def test_within_the_budget_the_command_computes(capsys):
    status = main(["grad", terms(10), "x=" + vector(100), "--order", "2"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, ""), err
    assert "d2(sum f)/dx^2 =" in out


def _documented_examples() -> list[list[str]]:
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))]
    commands = [found for text in texts for found in re.findall(r"`(gradienti grad [^`]+)`", text)]
    commands += [
        line.strip().split("  (")[0]  # without the remark in parentheses
        for line in GRAD_EPILOG.splitlines()
        if line.strip().startswith("gradienti grad ")
    ]
    return [shlex.split(command)[1:] for command in commands]


def test_every_documented_example_is_within_the_budget(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "builtin")  # no Graphviz program needed
    monkeypatch.chdir(tmp_path)  # an example may write its picture
    examples = _documented_examples()
    assert len(examples) >= 5  # README's and the --help examples
    for argv in examples:
        status = main(argv)
        _, err = capsys.readouterr()
        assert (status, err) == (0, ""), argv


# ----------------------------------------------------------------------------- --mode forward


def test_forward_mode_counts_one_weighted_pass_per_element():
    # a forward pass (values and tangents) weighs FORWARD_PASS_WEIGHT passes of --order 2
    passes = 1 + FORWARD_PASS_WEIGHT * 1000
    elements = MAX_WORK // passes - OPERATION_OVERHEAD
    within, beyond = Cost(1, elements, 1, 1), Cost(1, elements + 1, 1, 1)
    check_budget(within, order=1, hessian_rows=1000, explain=False, forward_passes=1000)
    with pytest.raises(BudgetError, match=r"in 1,000 forward passes \(--mode forward: one per"):
        check_budget(beyond, order=1, hessian_rows=1000, explain=False, forward_passes=1000)


def test_forward_mode_of_a_long_expression_over_a_vector_is_refused(capsys, never_evaluated):
    # what --order 2 refuses, --mode forward (one forward pass per element) refuses too: it
    # took 64 s on a 10,000-character expression over 1,000 elements
    argv = [terms(270), "x=" + vector(1000), "--mode", "forward"]
    assert refusal(capsys, *argv) == (
        "gradienti grad: error: too much work: 1,079 operations on 1,079,000 elements in all "
        "in 1,000 forward passes (--mode forward: one per element), about 1.9e+10 element-steps; "
        "the limit is 1e+09 (use a shorter expression or fewer elements)"
    )


@pytest.mark.parametrize(
    "text, sizes",
    [
        ("x*y + sin(x*y) + x**2", {"x": 1, "y": 3}),
        ("sin(2) * 3 + x", {"x": 4}),
        ("sum(w*v) + sigmoid(b)", {"w": 3, "v": 3, "b": 1}),
        ("5*x**3 + 2*x**2 + 4*x + 8", {"x": 1}),
    ],
)
def test_forward_explained_steps_are_the_steps_of_the_forward_explanation(text, sizes):
    # one step per operation in the pass of each variable it depends on, as the command tells
    # it (the sum of a vector f included)
    expression = parse(text, variables=sizes)
    values = {
        name: gradienti.ones(size if size > 1 else (), requires_grad=True)
        for name, size in sizes.items()
    }
    result = expression.evaluate(values)
    told = gradienti.explain(result.sum() if result.dim() else result, mode="forward")
    steps = sum(len(forward_pass.steps) for forward_pass in told.passes)
    assert forward_explained_steps(expression, sizes) == steps


def test_forward_explanation_of_many_variables_is_refused(capsys, never_evaluated):
    # 100 variables a0*a0 + a1*a1 + ...: 299 steps told backward, but each forward pass tells
    # every '+' after its term: 5,149 steps in all (300 variables: 45,449 steps, 11 MB of text)
    names = [f"a{i}" for i in range(100)]
    text = "+".join(f"{name}*{name}" for name in names)
    values = [f"{name}=0.1" for name in names]
    assert refusal(capsys, text, *values, "--explain", "--mode", "forward") == (
        "gradienti grad: error: --explain --mode forward would print about 5,149 steps (one "
        "per operation in the pass of each variable it depends on); the limit is 1,000 "
        "(explain a shorter expression or one of fewer variables)"
    )
