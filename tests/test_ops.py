"""The op-case table: each case is checked against float64 finite differences (always) and
against PyTorch when it is installed (forward, gradient with a non-uniform upstream gradient,
double backward, grad_fn graph).

A case's function is written once as ``lambda lib, *xs: ...`` and runs with ``lib=gradienti``
and ``lib=torch`` alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import op_cases_attention
import op_cases_geometry
import op_cases_linalg
import op_cases_linalg_composite
import op_cases_linalg_decompose
import op_cases_linalg_solve
import op_cases_losses
import op_cases_nn
import op_cases_norms
import op_cases_padding
import op_cases_pointwise
import op_cases_quantile
import op_cases_reduction
import op_cases_shape
import op_cases_sorting
import pytest
from gradcheck_helpers import gradcheck, gradgradcheck
from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, Case, S  # noqa: F401
from same_outcome import pytorch_text

import gradienti

CASES = [
    # -- arithmetic, tensors and Python scalars on either side
    Case("x+y", lambda lib, x, y: x + y, (S, S)),
    Case("x+2", lambda lib, x: x + 2, (S,)),
    Case("2+x", lambda lib, x: 2 + x, (S,)),
    Case("x+2.5", lambda lib, x: x + 2.5, (S,)),
    Case("add(x,y)", lambda lib, x, y: lib.add(x, y), (S, S)),
    Case("x-y", lambda lib, x, y: x - y, (S, S)),
    Case("x-2", lambda lib, x: x - 2, (S,)),
    Case("3-x", lambda lib, x: 3 - x, (S,)),
    Case("sub(x,y)", lambda lib, x, y: lib.sub(x, y), (S, S)),
    Case("x*y", lambda lib, x, y: x * y, (S, S)),
    Case("2*x", lambda lib, x: 2 * x, (S,)),
    Case("x*1.5", lambda lib, x: x * 1.5, (S,)),
    Case("x*x (same tensor)", lambda lib, x: x * x, (S,)),
    Case("mul(x,y)", lambda lib, x, y: lib.mul(x, y), (S, S)),
    Case("x*constant", lambda lib, x: x * lib.tensor([1.0, -2.0, 3.0]), (S,)),
    Case("x/y", lambda lib, x, y: x / y, (S, S), (ANY, NONZERO)),
    Case("x/3", lambda lib, x: x / 3, (S,)),
    Case("3/x", lambda lib, x: 3 / x, (S,), NONZERO),
    Case("div(x,y)", lambda lib, x, y: lib.div(x, y), (S, S), (ANY, NONZERO)),
    Case("x**3", lambda lib, x: x**3, (S,)),
    Case("x**2", lambda lib, x: x**2, (S,)),
    Case("x**3 0-d", lambda lib, x: x**3, ((),)),
    Case("x*y+y 0-d", lambda lib, x, y: x * y + y, ((), ())),
    Case("x**2.0", lambda lib, x: x**2.0, (S,)),
    Case("x**0.5", lambda lib, x: x**0.5, (S,), POS),
    Case("x**-1.5", lambda lib, x: x**-1.5, (S,), POS),
    Case("x**0", lambda lib, x: x**0, (S,)),
    Case("x**1", lambda lib, x: x**1, (S,)),
    Case("x**y", lambda lib, x, y: x**y, (S, S), (POS, ANY)),
    Case("2**x", lambda lib, x: 2**x, (S,)),
    Case("0.5**x", lambda lib, x: 0.5**x, (S,)),
    Case("pow(x,3)", lambda lib, x: lib.pow(x, 3), (S,)),
    Case("pow(x,y)", lambda lib, x, y: lib.pow(x, y), (S, S), (POS, ANY)),
    Case("pow(2,x)", lambda lib, x: lib.pow(2, x), (S,)),
    Case("x.pow(y)", lambda lib, x, y: x.pow(y), (S, S), (POS, ANY)),
    Case("-x", lambda lib, x: -x, (S,)),
    Case("x.neg()", lambda lib, x: x.neg(), (S,)),
    Case("neg(x)", lambda lib, x: lib.neg(x), (S,)),
    # -- broadcasting in binary ops
    Case("(3,1)+(1,4)", lambda lib, x, y: x + y, ((3, 1), (1, 4))),
    Case("(3,1)-(4,)", lambda lib, x, y: x - y, ((3, 1), (4,))),
    Case("(2,3)*(3,)", lambda lib, x, y: x * y, (S, (3,))),
    Case("(3,)*(2,3)", lambda lib, x, y: x * y, ((3,), S)),
    Case("()*(2,3)", lambda lib, x, y: x * y, ((), S)),
    Case("(2,3)+()", lambda lib, x, y: x + y, (S, ())),
    Case("(2,3)/()", lambda lib, x, y: x / y, (S, ()), (ANY, NONZERO)),
    Case("()/(2,3)", lambda lib, x, y: x / y, ((), S), (ANY, NONZERO)),
    Case("(2,1,4)/(3,1)", lambda lib, x, y: x / y, ((2, 1, 4), (3, 1)), (ANY, NONZERO)),
    Case("(2,3)**(3,)", lambda lib, x, y: x**y, (S, (3,)), (POS, ANY)),
    Case("(1,3)**(2,1)", lambda lib, x, y: x**y, ((1, 3), (2, 1)), (POS, ANY)),
    Case("()*()", lambda lib, x, y: x * y, ((), ())),
    # -- elementwise math, methods and functions
    Case("x.exp()", lambda lib, x: x.exp(), (S,)),
    Case("exp(x)", lambda lib, x: lib.exp(x), (S,)),
    Case("x.log()", lambda lib, x: x.log(), (S,), POS),
    Case("log(x)", lambda lib, x: lib.log(x), (S,), POS),
    Case("x.sqrt()", lambda lib, x: x.sqrt(), (S,), POS),
    Case("sqrt(x)", lambda lib, x: lib.sqrt(x), (S,), POS),
    Case("x.sin()", lambda lib, x: x.sin(), (S,)),
    Case("sin(x)", lambda lib, x: lib.sin(x), (S,)),
    Case("x.cos()", lambda lib, x: x.cos(), (S,)),
    Case("cos(x)", lambda lib, x: lib.cos(x), (S,)),
    Case("x.tanh()", lambda lib, x: x.tanh(), (S,)),
    Case("tanh(x)", lambda lib, x: lib.tanh(x), (S,)),
    Case("x.sigmoid()", lambda lib, x: x.sigmoid(), (S,)),
    Case("sigmoid(x)", lambda lib, x: lib.sigmoid(x), (S,)),
    Case("x.relu()", lambda lib, x: x.relu(), (S,), NONZERO),
    Case("relu(x)", lambda lib, x: lib.relu(x), (S,), NONZERO),
    Case("x.abs()", lambda lib, x: x.abs(), (S,), NONZERO),
    Case("abs(x)", lambda lib, x: lib.abs(x), (S,), NONZERO),
    Case("builtin abs(x)", lambda lib, x: abs(x), (S,), NONZERO),
    Case("x.reciprocal()", lambda lib, x: x.reciprocal(), (S,), NONZERO),
    Case("reciprocal(x)", lambda lib, x: lib.reciprocal(x), (S,), NONZERO),
    Case("x.exp() 0-d", lambda lib, x: x.exp(), ((),)),
    # -- reductions
    Case("x.sum()", lambda lib, x: x.sum(), (S3,)),
    Case("sum(x)", lambda lib, x: lib.sum(x), (S3,)),
    Case("x.sum(1)", lambda lib, x: x.sum(1), (S3,)),
    Case("x.sum(-1, keepdim)", lambda lib, x: x.sum(-1, keepdim=True), (S3,)),
    Case("x.sum((0,2))", lambda lib, x: x.sum((0, 2)), (S3,)),
    Case("x.sum((0,-1), keepdim)", lambda lib, x: x.sum((0, -1), keepdim=True), (S3,)),
    Case("sum(x, dim=-2)", lambda lib, x: lib.sum(x, dim=-2), (S3,)),
    Case("x.sum() 0-d", lambda lib, x: x.sum(), ((),)),
    Case("x.mean()", lambda lib, x: x.mean(), (S3,)),
    Case("mean(x)", lambda lib, x: lib.mean(x), (S3,)),
    Case("x.mean(0)", lambda lib, x: x.mean(0), (S3,)),
    Case("x.mean(-1, keepdim)", lambda lib, x: x.mean(-1, keepdim=True), (S3,)),
    Case("x.mean((1,2))", lambda lib, x: x.mean((1, 2)), (S3,)),
    Case("mean(x, (0,-1), keepdim)", lambda lib, x: lib.mean(x, (0, -1), keepdim=True), (S3,)),
    # -- shape ops and copies
    Case("x.reshape(3,-1)", lambda lib, x: x.reshape(3, -1), (S3,)),
    Case("x.reshape((4,6))", lambda lib, x: x.reshape((4, 6)), (S3,)),
    Case("reshape(x,(-1,))", lambda lib, x: lib.reshape(x, (-1,)), (S3,)),
    Case("x.view(-1)", lambda lib, x: x.view(-1), (S3,)),
    Case("x.view(6,4)", lambda lib, x: x.view(6, 4), (S3,)),
    Case("x.reshape(()) 0-d", lambda lib, x: x.reshape(()), ((1, 1),)),
    Case("x.expand(3,4)", lambda lib, x: x.expand(3, 4), ((3, 1),)),
    Case("x.expand(2,-1,4)", lambda lib, x: x.expand(2, -1, 4), ((3, 1),)),
    Case("x.expand((2,3))", lambda lib, x: x.expand((2, 3)), ((3,),)),
    Case("x.expand(2,3) 0-d", lambda lib, x: x.expand(2, 3), ((),)),
    Case("x.to(float64)", lambda lib, x: x.to(lib.float64), (S,)),
    Case("x.to(dtype=float64)", lambda lib, x: x.to(dtype=lib.float64), (S,)),
    Case("x.double()", lambda lib, x: x.double(), (S,)),
    Case("x.clone()", lambda lib, x: x.clone(), (S,)),
    Case("clone(x)", lambda lib, x: lib.clone(x), (S,)),
    # -- compositions (the engine's accumulation, saved tensors reused)
    Case("(x*y).sin().sum()", lambda lib, x, y: (x * y).sin().sum(), (S, S)),
    Case("x*x.exp()+x", lambda lib, x: x * x.exp() + x, (S,)),
    Case("sigmoid(x*y+1).mean(0)", lambda lib, x, y: (x * y + 1).sigmoid().mean(0), (S, (3,))),
    Case("x.double()**2", lambda lib, x: x.double() ** 2, (S,)),
    # -- comparisons: bool results, forward only
    Case("x==y", lambda lib, x, y: x == y, (S, S), SMALL_INT, differentiable=False),
    Case("x!=y", lambda lib, x, y: x != y, (S, S), SMALL_INT, differentiable=False),
    Case("x<y", lambda lib, x, y: x < y, (S, S), SMALL_INT, differentiable=False),
    Case("x<=y", lambda lib, x, y: x <= y, (S, S), SMALL_INT, differentiable=False),
    Case("x>y", lambda lib, x, y: x > y, (S, S), SMALL_INT, differentiable=False),
    Case("x>=y", lambda lib, x, y: x >= y, (S, S), SMALL_INT, differentiable=False),
    Case("x==1", lambda lib, x: x == 1, (S,), SMALL_INT, differentiable=False),
    Case("x<0.5", lambda lib, x: x < 0.5, (S,), SMALL_INT, differentiable=False),
    Case("0<=x", lambda lib, x: x >= 0, (S,), SMALL_INT, differentiable=False),
    Case("(3,1)>(4,)", lambda lib, x, y: x > y, ((3, 1), (4,)), SMALL_INT, differentiable=False),
    Case("eq(x,y)", lambda lib, x, y: lib.eq(x, y), (S, S), SMALL_INT, differentiable=False),
    Case("ne(x,y)", lambda lib, x, y: lib.ne(x, y), (S, S), SMALL_INT, differentiable=False),
    Case("lt(x,y)", lambda lib, x, y: lib.lt(x, y), (S, S), SMALL_INT, differentiable=False),
    Case("le(x,y)", lambda lib, x, y: lib.le(x, y), (S, S), SMALL_INT, differentiable=False),
    Case("gt(x,y)", lambda lib, x, y: lib.gt(x, y), (S, S), SMALL_INT, differentiable=False),
    Case("ge(x,y)", lambda lib, x, y: lib.ge(x, y), (S, S), SMALL_INT, differentiable=False),
]

# The other areas' cases, one module each (see op_cases.py).
CASES = (
    CASES
    + op_cases_pointwise.CASES
    + op_cases_reduction.CASES
    + op_cases_shape.CASES
    + op_cases_linalg.CASES
    + op_cases_linalg_composite.CASES
    + op_cases_linalg_decompose.CASES
    + op_cases_linalg_solve.CASES
    + op_cases_losses.CASES
    + op_cases_nn.CASES
    + op_cases_norms.CASES
    + op_cases_geometry.CASES
    + op_cases_padding.CASES
    + op_cases_attention.CASES
    + op_cases_sorting.CASES
    + op_cases_quantile.CASES
)
assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"

DIFFERENTIABLE = [c for c in CASES if c.differentiable]


def _params(cases):
    return [pytest.param(c, id=c.name) for c in cases]


# ---------------------------------------------------------------------------- finite differences
def _gradienti_fn(case):
    return lambda *xs: case.fn(gradienti, *xs)


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_gradcheck(case):
    try:
        gradcheck(_gradienti_fn(case), case.arrays())
    except AssertionError as error:
        pytest.fail(f"[{case.name}] {error}")


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_gradgradcheck(case):
    try:
        gradgradcheck(_gradienti_fn(case), case.arrays())
    except AssertionError as error:
        pytest.fail(f"[{case.name}] {error}")


# ---------------------------------------------------------------------------- PyTorch oracle
FORWARD_TOL = {"rtol": 1e-5, "atol": 1e-6}
GRAD_TOL = {"rtol": 1e-5, "atol": 1e-6}


def _np(t):
    t = t.detach()
    if type(t).__module__.startswith("torch"):
        return t.numpy(force=True)  # torch's double backward may give a ZeroTensor
    return t.numpy()


def _our_name(node):
    return type(node).__name__


def _torch_name(node):
    return node.name().split("::")[-1]  # "torch::autograd::AccumulateGrad" -> "AccumulateGrad"


def _graph(node, name_of):
    """A grad_fn graph as nested (name, [children]); None for a missing edge."""
    if node is None:
        return None
    return (name_of(node), [_graph(child, name_of) for child, _ in node.next_functions])


def _forward(lib, case):
    """The case's inputs (float32) as ``lib`` tensors, and its output."""
    xs = [lib.tensor(a, requires_grad=case.differentiable) for a in case.arrays(np.float32)]
    return xs, case.fn(lib, *xs)


def _upstream(out, xs):
    """Non-uniform v (for the output) and w (one per input), the same for both libraries."""
    rng = np.random.default_rng(1)
    v = rng.uniform(0.5, 1.5, tuple(out.shape)).astype(_np(out).dtype)
    ws = [rng.uniform(0.5, 1.5, tuple(x.shape)).astype(_np(x).dtype) for x in xs]
    return v, ws


def _first_order(lib, case):
    xs, out = _forward(lib, case)
    v, _ = _upstream(out, xs)
    return [_np(g) for g in lib.autograd.grad(out, xs, grad_outputs=lib.tensor(v))]


def _second_order(lib, case):
    """d/dxs of sum_i <grad_i, w_i>, where grad = vjp(v) is taken with create_graph=True."""
    xs, out = _forward(lib, case)
    v, ws = _upstream(out, xs)
    firsts = lib.autograd.grad(out, xs, grad_outputs=lib.tensor(v), create_graph=True)
    # A first derivative that does not depend on the inputs contributes zero.
    terms = [(g * lib.tensor(w)).sum() for g, w in zip(firsts, ws) if g.requires_grad]
    if not terms:
        return [_np(g) for g in firsts], [np.zeros_like(w) for w in ws]
    h = terms[0]
    for t in terms[1:]:
        h = h + t
    seconds = lib.autograd.grad(h, xs, allow_unused=True)
    seconds = [np.zeros_like(w) if g is None else _np(g) for w, g in zip(ws, seconds)]
    return [_np(g) for g in firsts], seconds


def _assert_close_all(kind, case, ours, theirs):
    assert len(ours) == len(theirs), f"[{case.name}] {kind}: number of gradients"
    for i, (g, t) in enumerate(zip(ours, theirs)):
        assert g.dtype == t.dtype, f"[{case.name}] {kind} of input {i}: dtype"
        assert g.shape == t.shape, f"[{case.name}] {kind} of input {i}: shape"
        np.testing.assert_allclose(g, t, **GRAD_TOL, err_msg=f"[{case.name}] {kind} of input {i}")


@pytest.mark.parametrize("case", _params(CASES))
def test_forward_against_torch(case):
    torch = pytest.importorskip("torch")
    _, ours = _forward(gradienti, case)
    _, theirs = _forward(torch, case)
    where = f"[{case.name}]"
    assert str(ours.dtype) == str(theirs.dtype), f"{where} dtype"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{where} shape"
    np.testing.assert_allclose(_np(ours), _np(theirs), **FORWARD_TOL, err_msg=f"{where} forward")
    assert ours.requires_grad == theirs.requires_grad, f"{where} requires_grad"
    if theirs.grad_fn is None:
        assert ours.grad_fn is None, f"{where} grad_fn should be None"
        return
    if case.fused:
        return
    assert _our_name(ours.grad_fn) == _torch_name(theirs.grad_fn), f"{where} grad_fn name"
    assert _graph(ours.grad_fn, _our_name) == _graph(theirs.grad_fn, _torch_name), (
        f"{where} grad_fn graph (names, next_functions, None edges)"
    )


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_grad_against_torch(case):
    torch = pytest.importorskip("torch")
    _assert_close_all("gradient", case, _first_order(gradienti, case), _first_order(torch, case))


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_double_backward_against_torch(case):
    torch = pytest.importorskip("torch")
    our_firsts, our_seconds = _second_order(gradienti, case)
    their_firsts, their_seconds = _second_order(torch, case)
    _assert_close_all("create_graph gradient", case, our_firsts, their_firsts)
    _assert_close_all("double backward", case, our_seconds, their_seconds)


# ---------------------------------------------------------------------------- dtype promotion
@dataclass(frozen=True)
class PromotionCase:
    name: str
    fn: object  # (lib, *tensors) -> tensor
    arrays: tuple  # NumPy arrays, their dtypes are the tensors' dtypes


def _a(values, dtype):
    return np.array(values, dtype=dtype)


I64 = _a([1, -2, 3], np.int64)
I32 = _a([1, -2, 3], np.int32)
U8 = _a([0, 1, 200], np.uint8)
I8 = _a([-1, 2, 3], np.int8)
B = _a([True, False, True], np.bool_)
F16 = _a([0.5, -1.25, 3.0], np.float16)
F32 = _a([0.5, -1.25, 3.0], np.float32)
F64 = _a([0.5, -1.25, 3.0], np.float64)

PROMOTION_CASES = [
    PromotionCase("int64 * 2.5", lambda lib, x: x * 2.5, (I64,)),
    PromotionCase("2.5 * int64", lambda lib, x: 2.5 * x, (I64,)),
    PromotionCase("int64 * 2", lambda lib, x: x * 2, (I64,)),
    PromotionCase("int64 / int64", lambda lib, x, y: x / y, (I64, _a([2, 4, -5], np.int64))),
    PromotionCase("int32 / 2", lambda lib, x: x / 2, (I32,)),
    PromotionCase("3 / int64", lambda lib, x: 3 / x, (I64,)),
    PromotionCase("int64 - 1.5", lambda lib, x: x - 1.5, (I64,)),
    PromotionCase("1.5 - int64", lambda lib, x: 1.5 - x, (I64,)),
    PromotionCase("int64 ** 2", lambda lib, x: x**2, (I64,)),
    PromotionCase("int64 ** 0.5", lambda lib, x: x**0.5, (_a([1, 4, 9], np.int64),)),
    PromotionCase("2 ** int64", lambda lib, x: 2**x, (_a([0, 1, 3], np.int64),)),
    PromotionCase("2.5 ** int64", lambda lib, x: 2.5**x, (I64,)),
    PromotionCase("float32 + float64 0-d", lambda lib, x, y: x + y, (F32, _a(0.25, np.float64))),
    PromotionCase("float64 0-d + float32", lambda lib, x, y: x + y, (_a(0.25, np.float64), F32)),
    PromotionCase("float32 * float64", lambda lib, x, y: x * y, (F32, F64)),
    PromotionCase("int64 + float32", lambda lib, x, y: x + y, (I64, F32)),
    PromotionCase("int32 + float16", lambda lib, x, y: x + y, (I32, F16)),
    PromotionCase("float16 + float32", lambda lib, x, y: x + y, (F16, F32)),
    PromotionCase("float16 * 1.5", lambda lib, x: x * 1.5, (F16,)),
    PromotionCase("float16 + 1e-3", lambda lib, x: x + 1e-3, (F16,)),
    PromotionCase("int64 + float16 0-d", lambda lib, x, y: x + y, (I64, _a(0.5, np.float16))),
    PromotionCase("int64 * float64 0-d", lambda lib, x, y: x * y, (I64, _a(2.5, np.float64))),
    PromotionCase("int64 + float32 0-d", lambda lib, x, y: x + y, (I64, _a(0.5, np.float32))),
    PromotionCase("float32 + int64 0-d", lambda lib, x, y: x + y, (F32, _a(7, np.int64))),
    PromotionCase("bool + 1", lambda lib, x: x + 1, (B,)),
    PromotionCase("bool + 2.5", lambda lib, x: x + 2.5, (B,)),
    PromotionCase("bool + bool", lambda lib, x, y: x + y, (B, _a([True, True, False], np.bool_))),
    PromotionCase("bool + int32", lambda lib, x, y: x + y, (B, I32)),
    PromotionCase("bool * int64 0-d", lambda lib, x, y: x * y, (B, _a(3, np.int64))),
    PromotionCase("int64 + True", lambda lib, x: x + True, (I64,)),
    PromotionCase("int32 + int64 0-d", lambda lib, x, y: x + y, (I32, _a(5, np.int64))),
    PromotionCase("int32 + int64", lambda lib, x, y: x + y, (I32, I64)),
    PromotionCase("int32 + 2", lambda lib, x: x + 2, (I32,)),
    PromotionCase("uint8 + int8", lambda lib, x, y: x + y, (U8, I8)),
    PromotionCase("uint8 - 1", lambda lib, x: x - 1, (U8,)),
    PromotionCase("int64 0-d * int64 0-d", lambda lib, x, y: x * y, (_a(3, np.int64),) * 2),
    PromotionCase(
        "int64 0-d + float32 0-d", lambda lib, x, y: x + y, (_a(3, np.int64), _a(0.5, np.float32))
    ),
    PromotionCase("int64.exp()", lambda lib, x: x.exp(), (I64,)),
    PromotionCase("int64.sqrt()", lambda lib, x: x.sqrt(), (_a([1, 4, 9], np.int64),)),
    PromotionCase("int64.sigmoid()", lambda lib, x: x.sigmoid(), (I64,)),
    PromotionCase("int64.reciprocal()", lambda lib, x: x.reciprocal(), (I64,)),
    PromotionCase("int64.abs()", lambda lib, x: x.abs(), (I64,)),
    PromotionCase("int64.relu()", lambda lib, x: x.relu(), (I64,)),
    PromotionCase("-int64", lambda lib, x: -x, (I64,)),
    PromotionCase("int32.sum()", lambda lib, x: x.sum(), (I32,)),
    PromotionCase("bool.sum()", lambda lib, x: x.sum(), (B,)),
    PromotionCase("int32.sum(0)", lambda lib, x: x.sum(0), (I32,)),
    PromotionCase("float16.sum()", lambda lib, x: x.sum(), (F16,)),
    PromotionCase("float16.mean()", lambda lib, x: x.mean(), (F16,)),
    PromotionCase("int64.double()", lambda lib, x: x.double(), (I64,)),
    PromotionCase("float64.to(int32)", lambda lib, x: x.to(lib.int32), (F64,)),
    PromotionCase("float32.to(float16)", lambda lib, x: x.to(lib.float16), (F32,)),
    PromotionCase("int64 < 2.5", lambda lib, x: x < 2.5, (I64,)),
    PromotionCase("int64 == float32", lambda lib, x, y: x == y, (I64, _a([1, 2, 3], np.float32))),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in PROMOTION_CASES])
def test_promotion_against_torch(case):
    torch = pytest.importorskip("torch")
    ours = case.fn(gradienti, *[gradienti.tensor(a) for a in case.arrays])
    theirs = case.fn(torch, *[torch.tensor(a) for a in case.arrays])
    assert str(ours.dtype) == str(theirs.dtype), f"[{case.name}] result dtype"
    assert tuple(ours.shape) == tuple(theirs.shape), f"[{case.name}] shape"
    np.testing.assert_allclose(
        _np(ours).astype(np.float64),
        _np(theirs).astype(np.float64),
        rtol=1e-3 if theirs.dtype == torch.float16 else 1e-6,
        err_msg=f"[{case.name}] values",
    )


@pytest.mark.parametrize(
    "shapes",
    [((4,), (8,)), ((2, 3), (4, 5)), ((2, 3), (4,)), ((2, 1, 3), (5, 4))],
    ids=str,
)
def test_shapes_that_do_not_broadcast_raise_torchs_error(shapes):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as info:
            lib.ones(shapes[0]) * lib.ones(shapes[1])
        messages.append(pytorch_text(str(info.value)))
    assert messages[0] == messages[1]
