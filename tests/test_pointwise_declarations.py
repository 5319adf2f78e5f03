"""The declarations of the elementwise op modules (pointwise, special, activation, clamp):
the explain rules state the derivative the engine computes, the table rows save what PyTorch
saves, and torch.nn.functional's activations are offered by ``gradienti grad`` without becoming
``gradienti.*`` names."""

import math
import re

import numpy as np
import pytest

import gradienti
import gradienti.nn.functional as F
from gradienti.expression_functions import FUNCTIONS as EXPRESSION_FUNCTIONS
from gradienti.viz.explain import explain


# ---------------------------------------------------------------------- rules evaluate right
def _phi(value):
    return 0.5 * (1 + math.erf(value / math.sqrt(2)))


_MATH = {
    "pi": math.pi,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "tan": math.tan,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "Phi": _phi,
    "isfinite": math.isfinite,
}


_SYMBOLS = (
    ("·", "*"), ("²", "**2"), ("³", "**3"), ("^", "**"), ("½", "0.5"), ("≤", "<="), ("≥", ">="),
    ("π", "pi"), ("Φ", "Phi"), (", else", " else"),
)  # fmt: skip


def _python(text: str) -> str:
    """A rule's local derivative, as learners read it, made a Python expression."""
    text = re.sub(r"^(.*) if (.*?) ([<>]) (.*?), ½ if equal, else (.*)$",
                  r"\1 if \2 \3 \4 else (0.5 if \2 == \4 else \5)", text)  # fmt: skip
    text = re.sub(r"^(.*) \(1 if (.*)\)$", r"1 if \2 else \1", text)  # softplus's threshold
    text = text.replace(" where x is finite,", " if isfinite(x)")
    for symbol, python in _SYMBOLS:
        text = text.replace(symbol, python)
    return re.sub(r"(\d)(pi|\()", r"\1*\2", text)  # 2π, 2(…)


def _evaluate(formula: str, values: dict) -> float:
    """A local derivative formula at the inputs' values; "…, t = tanh(…)" defines t first."""
    namespace = {**_MATH, **values}
    if ", t = " in formula:
        formula, t = formula.split(", t = ")
        namespace["t"] = eval(_python(t), namespace)  # noqa: S307 - our own rule texts
    return eval(_python(formula), namespace)  # noqa: S307


X = 0.3
CASES = {
    # one input
    "log1p": (lambda x: x.log1p(), [X]),
    "expm1": (lambda x: x.expm1(), [X]),
    "log2": (lambda x: x.log2(), [X]),
    "log10": (lambda x: x.log10(), [X]),
    "exp2": (lambda x: x.exp2(), [X]),
    "rsqrt": (lambda x: x.rsqrt(), [X]),
    "tan": (lambda x: x.tan(), [X]),
    "asin": (lambda x: x.asin(), [X]),
    "acos": (lambda x: x.acos(), [X]),
    "atan": (lambda x: x.atan(), [X]),
    "sinh": (lambda x: x.sinh(), [X]),
    "cosh": (lambda x: x.cosh(), [X]),
    "erf": (lambda x: x.erf(), [X]),
    "erfc": (lambda x: x.erfc(), [X]),
    "floor": (lambda x: x.floor(), [1.7]),
    "ceil": (lambda x: x.ceil(), [1.7]),
    "trunc": (lambda x: x.trunc(), [-1.7]),
    "round": (lambda x: x.round(), [1.7]),
    "round_decimals": (lambda x: x.round(decimals=1), [1.77]),
    "frac": (lambda x: x.frac(), [1.7]),
    "nan_to_num": (lambda x: x.nan_to_num(), [X]),
    "clamp_inside": (lambda x: x.clamp(0.0, 1.0), [X]),
    "clamp_below": (lambda x: x.clamp(0.5, 1.0), [X]),
    "clamp_min_number": (lambda x: x.clamp_min(0.5), [X]),
    "clamp_max_number": (lambda x: x.clamp_max(0.5), [X]),
    "softplus": (F.softplus, [X]),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=0.5), [X]),
    "softplus_beyond": (lambda x: F.softplus(x, beta=2.0, threshold=0.5), [0.4]),
    "logsigmoid": (F.logsigmoid, [X]),
    "silu": (F.silu, [X]),
    "gelu": (F.gelu, [X]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [X]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), [-X]),
    "elu": (lambda x: F.elu(x, 1.5), [-X]),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.2), [X]),
    "relu6": (F.relu6, [X]),
    # two and three inputs (slots a, b, c)
    "atan2": (gradienti.atan2, [X, -0.8]),
    "maximum": (gradienti.maximum, [X, -0.8]),
    "maximum_tie": (gradienti.maximum, [X, X]),
    "minimum": (gradienti.minimum, [X, -0.8]),
    "clamp_min_tensor": (gradienti.clamp_min, [X, 0.5]),
    "clamp_max_tensor": (gradienti.clamp_max, [X, 0.5]),
    "clamp_tensors": (lambda a, b, c: a.clamp(b, c), [X, 0.5, 1.0]),
    "clamp_tensors_crossed": (lambda a, b, c: a.clamp(b, c), [X, 0.5, 0.1]),
    "clamp_tensor_min": (lambda a, b: a.clamp(min=b), [X, 0.5]),
    "clamp_tensor_max": (lambda a, c: a.clamp(max=c), [X, 0.5]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_rule_states_the_derivative_the_engine_computes(name):
    make, values = CASES[name]
    inputs = [gradienti.tensor(value, requires_grad=True) for value in values]
    step = explain(make(*inputs)).steps[0]
    assert "computed by" not in str(step.derivatives), f"{step.name} is told generically"
    slots = ["x"] if len(inputs) == 1 else ["a", "b", "c"][: len(step.local_formulas)]
    at = dict(zip(slots, values))
    if name in ("clamp_tensor_min", "clamp_tensor_max"):  # clamp(a, b, c): a bound is missing
        at = {"a": values[0], "b": values[1], "c": values[1]}
    assert len(step.local_formulas) == len(slots)
    for formula, derivative in zip(step.local_formulas, step.derivatives):
        if derivative.value is None:  # the missing bound's placeholder: a constant
            continue
        expected = float(np.asarray(derivative.value))
        assert _evaluate(formula, at) == pytest.approx(expected, rel=1e-6), (name, formula)


# ---------------------------------------------------------------------- table rows
ROWS = ["log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "tan", "asin", "acos", "atan",
        "sinh", "cosh", "erf", "erfc"]  # fmt: skip


@pytest.mark.parametrize("name", ROWS)
def test_a_row_saves_what_pytorch_saves(name):
    torch = pytest.importorskip("torch")
    x = gradienti.tensor([0.25, 0.5], requires_grad=True)
    out = getattr(gradienti, name)(x)
    node = out.grad_fn
    reference = getattr(torch, name)(torch.tensor([0.25, 0.5], requires_grad=True)).grad_fn
    assert type(node).__name__ == type(reference).__name__
    assert type(node).__module__.startswith("gradienti.ops.")
    saves_input = any(saved is x._data for saved in node._saved)
    saves_output = any(saved is out._data for saved in node._saved)
    assert (saves_input, saves_output) == (
        hasattr(reference, "_saved_self"),
        hasattr(reference, "_saved_result"),
    )
    assert len(node._saved) == saves_input + saves_output


@pytest.mark.parametrize("name", ROWS)
def test_a_row_function_refuses_a_non_tensor_as_pytorch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as ours:
        getattr(gradienti, name)(0.5)
    with pytest.raises(TypeError) as theirs:
        getattr(torch, name)(0.5)
    assert str(ours.value) == str(theirs.value)


def test_integral_input_promotes_and_aliases_are_the_same_op():
    x = gradienti.tensor([1, 0])
    assert gradienti.asin(x).dtype == gradienti.float32
    assert gradienti.arcsin is gradienti.asin
    assert gradienti.Tensor.arctan is gradienti.Tensor.atan


# ---------------------------------------------------------------------- nn.functional's
ACTIVATIONS = ["softplus", "logsigmoid", "silu", "gelu", "elu", "leaky_relu", "hardtanh"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_stay_out_of_the_torch_namespace(name):
    assert not hasattr(gradienti, name)
    assert not hasattr(gradienti.Tensor, name)
    assert hasattr(F, name)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "silu", "gelu", "elu"])
def test_activations_are_functions_of_the_expression_language(name):
    x = gradienti.tensor([-0.5, 0.75])
    assert np.array_equal(
        EXPRESSION_FUNCTIONS[name].call([x], gradienti.float32).numpy(),
        getattr(F, name)(x).numpy(),
    )
