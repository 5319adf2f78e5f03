"""Property tests: random programs of ops with broadcasting shapes, run by gradienti and by
torch; the output value and every input's gradient must agree, for first derivatives and for
second derivatives (the gradient of the program's weighted gradients, through create_graph).

A program is a list of steps over a growing pool of tensors (the inputs first). Each step
applies one op to one or two pool entries and appends the result; the program's output is a
weighted sum of everything in the pool, so every step's gradient matters.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

# Ops that stay finite on any input (values are kept in [-3, 3] by the input strategy and
# the bounded ops); division and log get a safe operand.
UNARY = {
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "sin": lambda lib, x: x.sin(),
    "cos": lambda lib, x: lib.cos(x),
    "square": lambda lib, x: x * x,
    "neg": lambda lib, x: -x,
    "exp_bounded": lambda lib, x: x.tanh().exp(),
    "log_safe": lambda lib, x: (x * x + 1).log(),
    "sqrt_safe": lambda lib, x: (x * x + 0.5).sqrt(),
    "pow3": lambda lib, x: x**3,
    "scale": lambda lib, x: 0.5 * x - 1.5,
    "rdiv": lambda lib, x: 2 / (x * x + 1),
    "sum_last_keepdim": lambda lib, x: x.sum(-1, keepdim=True) if x.dim() else x,
    "mean_first_keepdim": lambda lib, x: x.mean(0, keepdim=True) if x.dim() else x,
    "sum_all": lambda lib, x: x.sum(),
    "clone": lambda lib, x: x.clone(),
    "softmax_last": lambda lib, x: x.softmax(-1) if x.dim() else x,
    "log_softmax_first": lambda lib, x: lib.log_softmax(x, 0) if x.dim() else x,
    "logsumexp_last": lambda lib, x: x.logsumexp(-1, keepdim=True) if x.dim() else x,
    "clamp": lambda lib, x: x.clamp(-1.0, 1.5),
    "silu_like": lambda lib, x: x.sigmoid() * x,
    "atan": lambda lib, x: x.atan(),
    "log1p_safe": lambda lib, x: (x * x).log1p(),
    "erf": lambda lib, x: x.erf(),
    "cumsum_last": lambda lib, x: x.cumsum(-1) if x.dim() else x,
    "norm": lambda lib, x: (x * x + 1).norm(),
    "var_all": lambda lib, x: x.var() if x.numel() > 1 else x,
    "prod_last": lambda lib, x: x.tanh().prod(-1) if x.dim() else x,
    "amax_last": lambda lib, x: x.amax(-1) if x.dim() else x,
    "transpose": lambda lib, x: x.transpose(0, -1) if x.dim() >= 2 else x,
    "flip": lambda lib, x: x.flip(0) if x.dim() else x,
    "index_first": lambda lib, x: x[..., :1] if x.dim() else x,
    "index_list": lambda lib, x: x[[0, 0]] if x.dim() and x.shape[0] > 0 else x,
    "mT_matmul": lambda lib, x: x @ x.mT if x.dim() >= 2 else x * x,
    "stack_self": lambda lib, x: lib.stack([x, x * 2]),
    "cat_self": lambda lib, x: lib.cat([x, x.tanh()], -1) if x.dim() else x,
}
BINARY = {
    "add": lambda lib, x, y: x + y,
    "sub": lambda lib, x, y: x - y,
    "mul": lambda lib, x, y: x * y,
    "div_safe": lambda lib, x, y: x / (y * y + 1),
    "pow_safe": lambda lib, x, y: (x * x + 1) ** y.tanh(),
    "where": lambda lib, x, y: lib.where(x > y, x, y * 2),
    "maximum": lambda lib, x, y: lib.maximum(x, y + 0.25),
    "minimum": lambda lib, x, y: lib.minimum(x, y - 0.25),
    "atan2": lambda lib, x, y: lib.atan2(x, y * y + 0.5),
    "einsum_outer_sum": lambda lib, x, y: (
        lib.einsum("...,...->", x * 1.0, y * 1.0) if x.shape == y.shape else x + y
    ),
}

BASE = (2, 3, 4)


@st.composite
def broadcast_shapes(draw):
    """A shape that broadcasts against BASE: a suffix of it, with some sizes set to 1."""
    rank = draw(st.integers(0, len(BASE)))
    dims = BASE[len(BASE) - rank :]
    return tuple(1 if draw(st.booleans()) else size for size in dims)


@st.composite
def programs(draw):
    shapes = draw(st.lists(broadcast_shapes(), min_size=1, max_size=3))
    steps = []
    pool = len(shapes)
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(UNARY)))
            steps.append((name, (draw(st.integers(0, pool - 1)),)))
        else:
            name = draw(st.sampled_from(sorted(BINARY)))
            args = (draw(st.integers(0, pool - 1)), draw(st.integers(0, pool - 1)))
            steps.append((name, args))
        pool += 1
    seed = draw(st.integers(0, 2**31 - 1))
    return shapes, steps, seed


def _run(lib, shapes, steps, seed, second_order=False):
    rng = np.random.default_rng(seed)
    inputs = [
        lib.tensor(rng.uniform(-3, 3, shape), dtype=lib.float64, requires_grad=True)
        for shape in shapes
    ]
    pool = list(inputs)
    for name, args in steps:
        op = UNARY.get(name) or BINARY[name]
        pool.append(op(lib, *(pool[i] for i in args)))
    weights = rng.uniform(0.5, 1.5, len(pool))
    total = sum(float(w) * value.sum() for w, value in zip(weights, pool))
    if second_order:
        # d/dx of sum(dtotal/dx_i * v_i): differentiates every VJP of the program.
        firsts = lib.autograd.grad(total, inputs, create_graph=True, allow_unused=True)
        total = sum(
            (g * lib.tensor(rng.uniform(0.5, 1.5, tuple(g.shape)))).sum()
            for g in firsts
            if g is not None and g.requires_grad
        )
        if not isinstance(total, type(inputs[0])):
            return 0.0, [None] * len(inputs)  # no input's gradient depends on the inputs
    total.backward()
    return total.item(), [x.grad.numpy() if x.grad is not None else None for x in inputs]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(programs(), st.booleans())
def test_random_programs_match_torch(program, second_order):
    shapes, steps, seed = program
    try:
        expected_value, expected_grads = _run(torch, shapes, steps, seed, second_order)
    except RuntimeError as expected:
        # Shapes that do not broadcast (after cat/stack/transpose): the same error, same text.
        with pytest.raises(RuntimeError) as got:
            _run(gradienti, shapes, steps, seed, second_order)
        assert pytorch_text(str(got.value)) == str(expected)
        return
    value, grads = _run(gradienti, shapes, steps, seed, second_order)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-10)
    for got, expected in zip(grads, expected_grads):
        assert (got is None) == (expected is None)
        if got is not None:
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)
