"""explain(..., mode="forward") and `gradienti grad --mode forward`: forward-mode AD told step by
step. The tangents it shows are checked against reverse mode and PyTorch's forward AD."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradienti
from gradienti.cli import main


def _lesson():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


def test_the_lessons_forward_pass_carries_the_tangents_to_72():
    x, y = _lesson()
    explanation = gradienti.explain(y, names={"x": x, "y": y}, mode="forward")
    (forward_pass,) = explanation.passes
    assert forward_pass.input == "x"
    assert float(forward_pass.tangent) == 72.0
    tangents = {step.expression: float(step.tangent) for step in forward_pass.steps}
    # d(x³)/dx = 12, d(5x³)/dx = 60, d(x²)/dx = 4, d(2x²)/dx = 8, d(4x)/dx = 4, then the sums
    assert tangents["x³"] == 12 and tangents["5·x³"] == 60
    assert tangents["x²"] == 4 and tangents["2·x²"] == 8 and tangents["4·x"] == 4
    assert tangents["5·x³ + 2·x²"] == 68 and tangents["5·x³ + 2·x² + 4·x"] == 72
    text = str(explanation)
    assert "How forward mode computes the derivative of y = 5·x³ + 2·x² + 4·x + 8" in text
    assert "∂/∂x = 3·x² = 3·2² = 12;  12 × 1 = 12" in text
    assert "∂y/∂x = 72  (the tangent of y)" in text
    assert "Reverse mode (backward()) gives the same ∂y/∂x = 72." in text
    # oldest operation first: x³ is computed before 5·x³, which comes before the sums
    assert text.index("· x³ = 8") < text.index("· 5·x³ = 40") < text.index("· y = ")


def test_explaining_forward_changes_nothing():
    x, y = _lesson()
    gradienti.explain(y, mode="forward")
    assert x.grad is None
    y.backward()
    assert float(x.grad) == 72.0


def test_one_forward_pass_per_input_each_matching_torch():
    torch = pytest.importorskip("torch")
    values = {"x": 0.7, "y": -1.3}

    def f(lib, x, y):
        return x * y + (x * x).sin() + (y / (1 + x * x)).exp()

    ours = {name: gradienti.tensor(value, requires_grad=True) for name, value in values.items()}
    out = f(gradienti, *ours.values())
    explanation = gradienti.explain(out, names={**ours, "f": out}, mode="forward")
    assert [p.input for p in explanation.passes] == ["x", "y"]
    primals = tuple(torch.tensor(v, dtype=torch.float32) for v in values.values())
    for index, forward_pass in enumerate(explanation.passes):
        seeds = tuple(torch.tensor(float(i == index)) for i in range(2))
        _, expected = torch.func.jvp(lambda x, y: f(torch, x, y), primals, seeds)
        np.testing.assert_allclose(float(forward_pass.tangent), expected.item(), rtol=1e-5)


def test_a_tensor_op_shows_the_jacobian_vector_product():
    w = gradienti.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=gradienti.float64, requires_grad=True)
    v = gradienti.tensor([0.5, -2.0], dtype=gradienti.float64, requires_grad=True)
    s = (w @ v).tanh().sum()
    explanation = gradienti.explain(s, inputs=[v], names={"w": w, "v": v, "s": s}, mode="forward")
    (forward_pass,) = explanation.passes
    assert "J·ṫ = " in str(explanation)
    # the tangent of s along v's tangent of ones: sum_i (1 - tanh²(Wv)_i) (W 1)_i
    hidden = np.tanh(np.array([[1.0, 2.0], [3.0, -1.0]]) @ np.array([0.5, -2.0]))
    expected = ((1 - hidden**2) * np.array([3.0, 2.0])).sum()
    np.testing.assert_allclose(float(forward_pass.tangent), expected, rtol=1e-5)


def test_mode_must_be_reverse_or_forward():
    _, y = _lesson()
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        gradienti.explain(y, mode="sideways")


def test_an_input_that_does_not_require_grad_is_refused():
    _, y = _lesson()
    with pytest.raises(RuntimeError, match="does not require grad"):
        gradienti.explain(y, inputs=[gradienti.tensor(1.0)], mode="forward")


# ---------------------------------------------------------------------------- the command
def _derivatives(output: str) -> dict:
    """``{"df/dx": [numbers]}`` from the command's derivative lines (a vector on one line)."""
    found = {}
    for line in output.splitlines():
        if line.startswith(("df/", "d(sum f)/")):
            label, _, value = line.partition(" = ")
            value = value.split("dtype")[0]
            found[label] = [float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", value)]
    return found


def _run(capsys, *argv):
    status = main(["grad", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    "expression, values",
    [
        ("5*x**3 + 2*x**2 + 4*x + 8", ["x=2"]),
        ("x*y + sin(x)", ["x=1", "y=2"]),
        ("sum(w*v) + sigmoid(b)", ["w=1,2,3", "v=0.5,-1,2", "b=0"]),
        ("exp(x)/(1 + x**2)", ["x=0.5"]),
    ],
)
def test_forward_mode_prints_the_same_derivatives_as_reverse_mode(capsys, expression, values):
    status, reverse, _ = _run(capsys, expression, *values, "--dtype", "float64")
    assert status == 0
    status, forward, _ = _run(
        capsys, expression, *values, "--dtype", "float64", "--mode", "forward"
    )
    assert status == 0
    ours, theirs = _derivatives(forward), _derivatives(reverse)
    assert ours.keys() == theirs.keys() and ours
    for label, numbers in ours.items():
        np.testing.assert_allclose(numbers, theirs[label], rtol=1e-12, err_msg=label)
    assert "(forward mode: " in forward


def test_forward_mode_explains_the_lesson(capsys):
    status, out, _ = _run(
        capsys, "5*x**3 + 2*x**2 + 4*x + 8", "x=2", "--mode", "forward", "--explain"
    )
    assert status == 0
    assert "df/dx = 72.0" in out
    assert "How forward mode computes the derivative of f = 5·x³ + 2·x² + 4·x + 8" in out
    assert "∂f/∂x = 72  (the tangent of f)" in out


def test_forward_mode_has_no_second_order(capsys):
    status, _, err = _run(capsys, "x**2", "x=1", "--mode", "forward", "--order", "2")
    assert status == 2
    assert "--order 2 needs --mode reverse" in err


def test_the_tangent_of_a_longer_name_is_written_t_dot_of_it():
    w1 = gradienti.tensor(3.0, requires_grad=True)
    b = gradienti.tensor(1.0, requires_grad=True)
    f = w1 * w1 + b
    text = str(gradienti.explain(f, names={"w1": w1, "b": b, "f": f}, mode="forward"))
    dot = "\u0307"  # combining dot above
    assert f"starts at w1 with its tangent t{dot}(w1) = dw1/dw1 = 1 and runs" in text
    assert f"starts at b with its tangent b{dot} = db/db = 1 and runs" in text


def test_max_steps_limits_the_steps_each_forward_pass_shows():
    x, y = _lesson()
    full = gradienti.explain(y, names={"x": x, "y": y}, mode="forward")
    short = gradienti.explain(y, names={"x": x, "y": y}, mode="forward", max_steps=2)
    text = str(short)
    assert text.count("Step ") == 2 and "Step 1 of 8 ·" in text and "Step 2 of 8 ·" in text
    assert "... 6 more steps not shown (max_steps=2)" in text
    assert "∂y/∂x = 72  (the tangent of y)" in text  # all are computed
    assert [len(p.steps) for p in short.passes] == [len(p.steps) for p in full.passes] == [8]
    with pytest.raises(ValueError, match="max_steps must be None or a non-negative integer"):
        gradienti.explain(y, mode="forward", max_steps=-1)
