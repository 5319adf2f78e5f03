"""Edge numerics of the elementwise ops and activations, against PyTorch: values and gradients
at kinks and ties, NaN and infinity propagation, very large inputs, the error function's
accuracy, dtypes, and PyTorch's error types and texts."""

import math

import numpy as np
import pytest
from op_cases_pointwise import F
from same_outcome import pytorch_text

import gradienti
from gradienti.ops.special import erf_array, erfc_array

NAN = float("nan")
INF = float("inf")
# NaN, the infinities, signed zeros, the kinks of relu-like functions, large magnitudes.
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 6.0, 1e4, -1e4, 1e-30]


def _torch():
    return pytest.importorskip("torch")


def _values(t):
    return np.array(t.detach().numpy(), dtype=np.float64)


def _run(lib, fn, arrays, dtype="float64", order=1):
    """fn's value and the gradients of <fn(xs), v> (order 1) or of the sum of the gradients
    taken with create_graph=True (order 2), for tensors of ``arrays``."""
    xs = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    v = np.linspace(0.5, 1.5, int(np.prod(tuple(out.shape)))).reshape(tuple(out.shape))
    grads = lib.autograd.grad(
        out, xs, lib.tensor(v, dtype=out.dtype), allow_unused=True, create_graph=order == 2
    )
    if order == 2:
        total = sum(g.sum() for g in grads if g is not None and g.requires_grad)
        if type(total) is int:  # no gradient depends on the inputs
            grads = [None] * len(xs)
        else:
            grads = lib.autograd.grad(total, xs, allow_unused=True)
    grads = [np.zeros(np.shape(a)) if g is None else _values(g) for a, g in zip(arrays, grads)]
    return _values(out), grads


def _assert_like_torch(fn, arrays, dtype="float64", order=1, rtol=None, atol=0.0, skip=()):
    """Values and gradients equal PyTorch's, NaN for NaN and infinity for infinity; ``skip``:
    positions (of a one-dimensional output) not compared."""
    torch = _torch()
    if rtol is None:
        rtol = 1e-12 if dtype == "float64" else 1e-6
    ours_value, ours_grads = _run(gradienti, fn, arrays, dtype, order)
    their_value, their_grads = _run(torch, fn, arrays, dtype, order)
    for array in (ours_value, their_value, *ours_grads, *their_grads):
        array[list(skip)] = 0.0
    np.testing.assert_allclose(ours_value, their_value, rtol=rtol, atol=atol, err_msg="value")
    for i, (ours, theirs) in enumerate(zip(ours_grads, their_grads)):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=f"gradient {i}")


# ---------------------------------------------------------------------- kinks and ties
KINKS = {
    "relu at 0": (lambda lib, x: x.relu(), [0.0, -0.0, 1.0, -1.0]),
    "abs at 0": (lambda lib, x: x.abs(), [0.0, -0.0, 1.0, -1.0]),
    "clamp at its bounds": (lambda lib, x: x.clamp(-1.0, 1.0), [-1.0, 1.0, 0.0, -2.0, 2.0]),
    "clamp min only at it": (lambda lib, x: x.clamp(min=0.0), [0.0, -0.0, -1.0, 1.0]),
    "clamp max only at it": (lambda lib, x: x.clamp(max=0.0), [0.0, -0.0, -1.0, 1.0]),
    "clamp min == max": (lambda lib, x: x.clamp(0.5, 0.5), [0.5, 0.0, 1.0]),
    "clamp min > max": (lambda lib, x: x.clamp(1.0, 0.0), [0.0, 0.5, 1.0, 2.0, -1.0]),
    "clamp_min at it": (lambda lib, x: x.clamp_min(0.5), [0.5, 0.0, 1.0]),
    "clamp_max at it": (lambda lib, x: x.clamp_max(0.5), [0.5, 0.0, 1.0]),
    "hardtanh at its bounds": (lambda lib, x: F(lib).hardtanh(x), [-1.0, 1.0, 0.0, -2.0, 2.0]),
    "hardtanh(-0.5, 0.5)": (lambda lib, x: F(lib).hardtanh(x, -0.5, 0.5), [-0.5, 0.5, 0.1]),
    "relu6 at 0 and 6": (lambda lib, x: F(lib).relu6(x), [0.0, 6.0, 3.0, -1.0, 7.0]),
    "leaky_relu at 0": (lambda lib, x: F(lib).leaky_relu(x, 0.1), [0.0, -0.0, 1.0, -1.0]),
    "elu at 0": (lambda lib, x: F(lib).elu(x, 1.5), [0.0, -0.0, 1.0, -1.0]),
    "softplus at its threshold": (
        lambda lib, x: F(lib).softplus(x, beta=2, threshold=5),
        [2.5, np.nextafter(2.5, 3.0), 2.4999, 20.0],
    ),
    "frac at integers": (lambda lib, x: x.frac(), [1.0, -1.0, 0.0, 2.5]),
    "floor at integers": (lambda lib, x: x.floor(), [1.0, -1.0, 0.0, 2.5]),
    "round half to even": (lambda lib, x: x.round(), [0.5, 1.5, 2.5, -0.5, -1.5]),
    "round decimals=2": (
        lambda lib, x: x.round(decimals=2),
        [0.125, 1.005, -2.675, 0.5, 2.675, 0.005],
    ),
    "round decimals=-1": (lambda lib, x: x.round(decimals=-1), [15.0, 25.0, 14.9, -35.0]),
    "atan2 at the origin": (
        lambda lib, x: lib.atan2(x, x * 0),
        [0.0, -0.0, 1.0],
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", KINKS.values(), ids=KINKS.keys())
def test_kinks_like_torch(case, dtype):
    fn, values = case
    _assert_like_torch(fn, [np.array(values)], dtype)


TIES = [-1.0, 0.0, 1.0, NAN]


@pytest.mark.parametrize("name", ["maximum", "minimum", "atan2"])
def test_binary_ties_and_nan_like_torch(name):
    # Every pair of values: ties split the gradient half and half; NaN gives it to both.
    a, b = np.meshgrid(TIES + [INF, -INF], TIES + [INF, -INF])
    _assert_like_torch(lambda lib, x, y: getattr(lib, name)(x, y), [a.ravel(), b.ravel()])


def test_maximum_tie_splits_the_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = gradienti.tensor([1.0, 1.0], requires_grad=True)
    gradienti.maximum(x, y).sum().backward()
    assert x.grad.tolist() == [0.5, 1.0]
    assert y.grad.tolist() == [0.5, 0.0]


def test_clamp_tensor_bounds_at_ties_and_nan_like_torch():
    # All combinations of x, min and max among -1, 0, 1 and NaN (min > max included).
    x, low, high = (grid.ravel() for grid in np.meshgrid(TIES, TIES, TIES, indexing="ij"))
    _assert_like_torch(lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [x, low, high])
    _assert_like_torch(lambda lib, x, lo: lib.clamp(x, min=lo), [x, low])
    _assert_like_torch(lambda lib, x, hi: lib.clamp(x, max=hi), [x, high])
    _assert_like_torch(lambda lib, x, lo: x.clamp_min(lo), [x, low])
    _assert_like_torch(lambda lib, x, hi: x.clamp_max(hi), [x, high])


def test_clamp_gradient_at_the_bounds_is_passed():
    x = gradienti.tensor([-1.0, 1.0, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "fn", [lambda lib, x: x.relu(), lambda lib, x: x.abs(), lambda lib, x: x.sign()]
)
def test_relu_abs_sign_at_nan_like_torch(fn):
    _assert_like_torch(fn, [np.array([NAN, 1.0])])


# ---------------------------------------------------------------------- NaN, infinities, large
UNARY = {
    "log1p": lambda lib, x: x.log1p(),
    "expm1": lambda lib, x: x.expm1(),
    "log2": lambda lib, x: x.log2(),
    "log10": lambda lib, x: x.log10(),
    "exp2": lambda lib, x: x.exp2(),
    "rsqrt": lambda lib, x: x.rsqrt(),
    "tan": lambda lib, x: x.tan(),
    "asin": lambda lib, x: x.asin(),
    "acos": lambda lib, x: x.acos(),
    "atan": lambda lib, x: x.atan(),
    "sinh": lambda lib, x: x.sinh(),
    "cosh": lambda lib, x: x.cosh(),
    "erf": lambda lib, x: x.erf(),
    "erfc": lambda lib, x: x.erfc(),
    "square": lambda lib, x: x.square(),
    "floor": lambda lib, x: x.floor(),
    "ceil": lambda lib, x: x.ceil(),
    "trunc": lambda lib, x: x.trunc(),
    "round": lambda lib, x: x.round(),
    "round(decimals=2)": lambda lib, x: x.round(decimals=2),
    "frac": lambda lib, x: x.frac(),
    "nan_to_num": lambda lib, x: x.nan_to_num(),
    "nan_to_num(1,2,-2)": lambda lib, x: x.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0),
    "clamp(-1,1)": lambda lib, x: x.clamp(-1, 1),
    "clamp_min(0)": lambda lib, x: x.clamp_min(0.0),
    "clamp_max(0)": lambda lib, x: x.clamp_max(0.0),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "softplus": lambda lib, x: F(lib).softplus(x),
    "softplus(beta=2,threshold=5)": lambda lib, x: F(lib).softplus(x, 2.0, 5.0),
    "logsigmoid": lambda lib, x: F(lib).logsigmoid(x),
    "gelu": lambda lib, x: F(lib).gelu(x),
    "gelu(tanh)": lambda lib, x: F(lib).gelu(x, approximate="tanh"),
    "silu": lambda lib, x: F(lib).silu(x),
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x),
    "elu": lambda lib, x: F(lib).elu(x),
    "hardtanh": lambda lib, x: F(lib).hardtanh(x),
    "relu6": lambda lib, x: F(lib).relu6(x),
}


# Where PyTorch's vectorised and scalar CPU kernels disagree (so its answer depends on the
# position in the tensor): see test_where_torch_kernels_disagree.
TORCH_INCONSISTENT = {
    ("hardtanh", NAN), ("relu6", NAN), ("elu", NAN), ("gelu", INF), ("gelu(tanh)", INF),
}  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", UNARY)
def test_nan_infinities_and_large_inputs_like_torch(name, dtype):
    skip = [
        i
        for i, value in enumerate(SPECIAL)
        if any(
            name == op and (value == point or value != value != point)
            for op, point in TORCH_INCONSISTENT
        )
    ]
    atol = 1e-30 if dtype == "float64" else 1e-7
    _assert_like_torch(UNARY[name], [np.array(SPECIAL)], dtype, atol=atol, skip=skip)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_where_torch_kernels_disagree(dtype):
    # PyTorch's vectorised kernels (the bulk of a long tensor) give 0 (hardtanh, relu6) and NaN
    # (elu) as the gradient at NaN, its scalar ones (short tensors, the tail) pass 1; float32
    # gelu(+inf) is NaN vectorised and inf scalar. gradienti: the vectorised gradients, and inf.
    x = gradienti.tensor([NAN, INF, 0.5], dtype=getattr(gradienti, dtype), requires_grad=True)
    for name, expected in (("hardtanh", 0.0), ("relu6", 0.0), ("elu", NAN)):
        (grad,) = gradienti.autograd.grad(UNARY[name](gradienti, x).sum(), [x])
        np.testing.assert_array_equal(_values(grad)[:1], [expected], err_msg=name)
    for name in ("gelu", "gelu(tanh)"):
        assert _values(UNARY[name](gradienti, x))[1] == INF
    torch = _torch()
    long = torch.full((64,), 0.5, dtype=getattr(torch, dtype))
    long[0] = NAN
    long.requires_grad_()
    for name, expected in (("hardtanh", 0.0), ("relu6", 0.0), ("elu", NAN)):
        (grad,) = torch.autograd.grad(UNARY[name](torch, long).sum(), [long])
        np.testing.assert_array_equal(grad[:1].numpy(), [expected], err_msg=f"torch {name}")


ACTIVATIONS = [
    "sigmoid", "softplus", "softplus(beta=2,threshold=5)", "logsigmoid", "gelu", "gelu(tanh)",
    "silu", "elu", "leaky_relu", "tan", "log1p", "expm1", "erf", "atan", "sinh",
]  # fmt: skip
FINITE = [0.0, 1.0, -1.0, 0.5, -3.0, 7.0, 30.0, -30.0, 1e4, -1e4]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_second_derivative_at_large_inputs_like_torch(name, dtype):
    # No NaN from an unused branch (e.g. elu's exp at 1e4) in the recorded backward.
    fn = UNARY[name]
    inputs = FINITE if name not in ("tan", "sinh") else FINITE[:7]
    _assert_like_torch(fn, [np.array(inputs)], dtype, order=2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "sigmoid", "gelu", "silu", "elu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_inputs_are_finite(name, dtype):
    x = gradienti.tensor([1e4, -1e4, 80.0, -80.0, 800.0, -800.0], requires_grad=True)
    x = x.to(getattr(gradienti, dtype)).detach().requires_grad_()
    out = UNARY[name](gradienti, x)
    out.sum().backward()
    assert np.isfinite(_values(out)).all()
    assert np.isfinite(_values(x.grad)).all()


def test_softplus_and_logsigmoid_exact_in_their_tails():
    x = gradienti.tensor([-1e4, -50.0, 50.0, 1e4], dtype=gradienti.float64)
    assert F(gradienti).softplus(x).tolist() == [0.0, math.exp(-50.0), 50.0, 1e4]
    assert F(gradienti).logsigmoid(x).tolist() == [-1e4, -50.0, -math.exp(-50.0), 0.0]


# ---------------------------------------------------------------------- where and pow
def test_where_gradient_of_the_unused_nan_branch_like_torch():
    # sqrt(-1) is NaN: its gradient, times the zero that where passes, stays NaN (PyTorch too).
    def fn(lib, x):
        return lib.where(x > 0, x.sqrt(), 0.0)

    x = gradienti.tensor([-1.0, 4.0], requires_grad=True)
    fn(gradienti, x).sum().backward()
    assert math.isnan(x.grad[0].item())
    assert x.grad[1].item() == 0.25
    _assert_like_torch(fn, [np.array([-1.0, 4.0, 0.0])])


def test_pow_with_a_tensor_exponent_at_zero_like_torch():
    base = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -1.0, 0.0, -2.0])
    exponent = np.array([0.0, 1.0, 2.0, -1.0, 0.0, 0.5, 0.5, 2.0])
    _assert_like_torch(lambda lib, a, b: a**b, [base, exponent])


# ---------------------------------------------------------------------- the error function
def test_erf_and_erfc_accuracy_against_math():
    x = np.concatenate(
        [np.linspace(-10.0, 10.0, 40_001), np.geomspace(1e-300, 1.0, 301), [26.0, 27.5, 40.0]]
    )
    erf_exact = np.array([math.erf(v) for v in x])
    erfc_exact = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erf_array(x), erf_exact, rtol=2e-15, atol=0)
    positive = erfc_exact > 1e-300
    np.testing.assert_allclose(erfc_array(x)[positive], erfc_exact[positive], rtol=4e-15, atol=0)
    assert np.all(erfc_array(x)[~positive] < 1e-300)


def test_erf_special_values():
    x = np.array([NAN, INF, -INF, 0.0, -0.0])
    np.testing.assert_array_equal(erf_array(x), [NAN, 1.0, -1.0, 0.0, -0.0])
    np.testing.assert_array_equal(erfc_array(x), [NAN, 0.0, 2.0, 1.0, 1.0])
    assert math.copysign(1.0, erf_array(x)[4]) == -1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_forward_and_gradient_like_torch(name, dtype):
    x = np.linspace(-8.0, 8.0, 4001)
    rtol = 1e-6 if dtype == "float32" else 1e-13
    _assert_like_torch(UNARY[name], [x], dtype, rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["gelu", "gelu(tanh)"])
def test_gelu_like_torch(name, dtype):
    # Relative 1e-6 in float32, except where x Phi(x) < 1e-6: there PyTorch's own float32
    # 1 + erf(x / sqrt 2) (or 1 + tanh(...)) cancels: absolute error ~1e-7 (float64: ~1e-15).
    x = np.linspace(-8.0, 8.0, 4001)
    rtol, atol = (1e-6, 1e-6) if dtype == "float32" else (1e-13, 1e-14)
    _assert_like_torch(UNARY[name], [x], dtype, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- dtypes
INT = np.array([1, -2, 3])
BOOL = np.array([True, False, True])
DTYPE_CASES = {
    "log1p(int)": (lambda lib, x: x.abs().log1p(), INT),
    "exp2(int32)": (lambda lib, x: x.exp2(), INT.astype(np.int32)),
    "rsqrt(int)": (lambda lib, x: x.abs().rsqrt(), INT),
    "erf(bool)": (lambda lib, x: x.erf(), BOOL),
    "sinh(uint8)": (lambda lib, x: x.sinh(), np.array([1, 2], np.uint8)),
    "floor(int) keeps int": (lambda lib, x: x.floor(), INT),
    "round(int32) keeps int32": (lambda lib, x: x.round(), INT.astype(np.int32)),
    "trunc(uint8)": (lambda lib, x: x.trunc(), np.array([1, 2], np.uint8)),
    "square(int)": (lambda lib, x: x.square(), INT),
    "square(bool) is int64": (lambda lib, x: x.square(), BOOL),
    "clamp(int, 1.5)": (lambda lib, x: x.clamp(min=1.5), INT),
    "clamp(int, 0, 2)": (lambda lib, x: x.clamp(0, 2), INT),
    "clamp(bool, 0, 1)": (lambda lib, x: x.clamp(0, 1), BOOL),
    "clamp(int, tensor 1.5)": (lambda lib, x: x.clamp(min=lib.tensor(1.5)), INT),
    "clamp_min(int, 1.5)": (lambda lib, x: x.clamp_min(1.5), INT),
    "clamp_max(bool, 0)": (lambda lib, x: x.clamp_max(0), BOOL),
    "maximum(int, float)": (lambda lib, x: lib.maximum(x, lib.tensor([1.5])), INT),
    "minimum(bool, bool)": (lambda lib, x: lib.minimum(x, lib.tensor([False])), BOOL),
    "atan2(int, int)": (lambda lib, x: lib.atan2(x, x), INT),
    "atan2(int32, int 0-d)": (lambda lib, x: lib.atan2(x, lib.tensor(2)), INT.astype(np.int32)),
    "atan2(int, float64 0-d)": (
        lambda lib, x: lib.atan2(x, lib.tensor(1.5, dtype=lib.float64)),
        INT,
    ),
    "atan2(float32, float64)": (
        lambda lib, x: lib.atan2(x, lib.tensor([1.5], dtype=lib.float64)),
        INT.astype(np.float32),
    ),
    "nan_to_num(int)": (lambda lib, x: x.nan_to_num(), INT),
    "nan_to_num(float16 inf)": (
        lambda lib, x: x.nan_to_num(),
        np.array([INF, -INF, NAN], np.float16),
    ),
    "hardtanh(int)": (lambda lib, x: F(lib).hardtanh(x, -1.5, 1.5), INT),
    "relu6(int)": (lambda lib, x: F(lib).relu6(x * 3), INT),
    "isnan(int)": (lambda lib, x: x.isnan(), INT),
    "isfinite(bool)": (lambda lib, x: x.isfinite(), BOOL),
    "isposinf(int)": (lambda lib, x: x.isposinf(), INT),
    "logical_not(int)": (lambda lib, x: x.logical_not(), INT),
    "logical_xor(float, int)": (lambda lib, x: lib.logical_xor(x * 0.5, x * 0), INT),
    "any(uint8) stays uint8": (lambda lib, x: x.any(), np.array([0, 3], np.uint8)),
    "all(uint8, 0) stays uint8": (lambda lib, x: x.all(0), np.array([0, 3], np.uint8)),
    "all(empty)": (lambda lib, x: x.all(), np.zeros(0, np.float32)),
    "any(keepdim) without dim": (lambda lib, x: x.any(keepdim=True), INT),
    "softplus(float16)": (lambda lib, x: F(lib).softplus(x), np.array([1.0, -2.0], np.float16)),
    "gelu(float16)": (lambda lib, x: F(lib).gelu(x), np.array([1.0, -2.0], np.float16)),
    "log1p(float16)": (lambda lib, x: x.log1p(), np.array([1.0, 0.001], np.float16)),
}  # fmt: skip


@pytest.mark.parametrize("case", DTYPE_CASES.values(), ids=DTYPE_CASES.keys())
def test_dtypes_like_torch(case):
    torch = _torch()
    fn, array = case
    ours = fn(gradienti, gradienti.tensor(array))
    theirs = fn(torch, torch.tensor(array))
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    rtol = 1e-3 if theirs.dtype == torch.float16 else 1e-6
    np.testing.assert_allclose(_values(ours), theirs.double().numpy(), rtol=rtol)


def test_boolean_results_never_require_grad():
    x = gradienti.tensor([1.0, NAN], requires_grad=True)
    for result in (x.isnan(), x.isfinite(), x.any(), x.all(0), x.logical_not(), (x > 0).any()):
        assert not result.requires_grad
        assert result.grad_fn is None


def test_numpy_ufuncs_on_tensors_run_the_ops():
    # A recorded VJP calls xp.<ufunc> on Tensors: each must record the differentiable op.
    x = gradienti.tensor([0.5, -0.25, 2.0], requires_grad=True)
    for ufunc, name in [
        (np.log1p, "Log1PBackward0"),
        (np.expm1, "Expm1Backward0"),
        (np.cosh, "CoshBackward0"),
        (np.arcsin, "AsinBackward0"),
        (np.square, "PowBackward0"),
        (np.floor, "FloorBackward0"),
    ]:
        assert type(ufunc(x).grad_fn).__name__ == name
    assert type(np.maximum(x, 0.0).grad_fn).__name__ == "MaximumBackward0"
    assert np.minimum(1.0, x).tolist() == [0.5, -0.25, 1.0]
    assert type(np.arctan2(1.0, x).grad_fn).__name__ == "Atan2Backward0"
    assert np.isfinite(x / 0).tolist() == [False, False, False]
    assert np.logical_and(x > 0, np.array([True, True, False])).tolist() == [True, False, False]


# ---------------------------------------------------------------------- errors
CLAMP_EXPECTED = (
    " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
    " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
)
ERRORS = {
    "clamp without bounds": (
        lambda lib: lib.clamp(lib.ones(2)),
        RuntimeError,
        "torch.clamp: At least one of 'min' or 'max' must not be None",
    ),
    "Tensor.clamp(None, None)": (
        lambda lib: lib.ones(2).clamp(min=None, max=None),
        RuntimeError,
        "torch.clamp: At least one of 'min' or 'max' must not be None",
    ),
    "clip without bounds": (
        lambda lib: lib.clip(lib.ones(2)),
        RuntimeError,
        "torch.clamp: At least one of 'min' or 'max' must not be None",
    ),
    "clamp with a tensor and a number": (
        lambda lib: lib.clamp(lib.ones(2), lib.zeros(2), 1.0),
        TypeError,
        "clamp() received an invalid combination of arguments - got (Tensor, Tensor, float), "
        "but expected one of:\n" + CLAMP_EXPECTED,
    ),
    "clamp with a number and a tensor": (
        lambda lib: lib.clamp(lib.ones(2), 0, lib.ones(2)),
        TypeError,
        "clamp() received an invalid combination of arguments - got (Tensor, int, Tensor), "
        "but expected one of:\n" + CLAMP_EXPECTED,
    ),
    "clamp with bounds that do not broadcast": (
        lambda lib: lib.clamp(lib.ones(2), min=lib.zeros(3)),
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0",
    ),
    "maximum with shapes that do not broadcast": (
        lambda lib: lib.maximum(lib.ones(2, 3), lib.ones(4, 1)),
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0",
    ),
    "clamp_min with a bound that does not broadcast": (
        lambda lib: lib.ones(2, 3).clamp_min(lib.zeros(2)),
        RuntimeError,
        "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
    ),
    "clamp with min and max that do not broadcast": (
        lambda lib: lib.clamp(lib.ones(3, 1), lib.zeros(4), lib.ones(2, 1)),
        RuntimeError,
        "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0",
    ),
    "logical_or with shapes that do not broadcast": (
        lambda lib: lib.logical_or(lib.ones(3), lib.ones(2)),
        RuntimeError,
        "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0",
    ),
    "maximum with a number": (
        lambda lib: lib.maximum(lib.ones(2), 1.0),
        TypeError,
        "maximum(): argument 'other' (position 2) must be Tensor, not float",
    ),
    "maximum of a number": (
        lambda lib: lib.maximum(1.0, lib.ones(2)),
        TypeError,
        "maximum(): argument 'input' (position 1) must be Tensor, not float",
    ),
    "Tensor.maximum with a number": (
        lambda lib: lib.ones(2).maximum(1.0),
        TypeError,
        "maximum(): argument 'other' (position 1) must be Tensor, not float",
    ),
    "minimum with an int": (
        lambda lib: lib.minimum(lib.ones(2), 1),
        TypeError,
        "minimum(): argument 'other' (position 2) must be Tensor, not int",
    ),
    "atan2 with a number": (
        lambda lib: lib.atan2(lib.ones(2), 1.0),
        TypeError,
        "atan2(): argument 'other' (position 2) must be Tensor, not float",
    ),
    "Tensor.atan2 with a number": (
        lambda lib: lib.ones(2).atan2(1.0),
        TypeError,
        "atan2(): argument 'other' (position 1) must be Tensor, not float",
    ),
    "logical_and with a number": (
        lambda lib: lib.logical_and(lib.ones(2), 1.0),
        TypeError,
        "logical_and(): argument 'other' (position 2) must be Tensor, not float",
    ),
    "hardtanh min_val > max_val": (
        lambda lib: F(lib).hardtanh(lib.ones(2), 2.0, 1.0),
        ValueError,
        "min_val cannot be greater than max_val",
    ),
    "hardtanh of bool": (
        lambda lib: F(lib).hardtanh(lib.tensor([True])),
        RuntimeError,
        "Bool inputs not supported for hardtanh",
    ),
    "gelu approximate='foo'": (
        lambda lib: F(lib).gelu(lib.ones(2), approximate="foo"),
        RuntimeError,
        "approximate argument must be either none or tanh.",
    ),
    "gelu of int64": (
        lambda lib: F(lib).gelu(lib.tensor([1, 2])),
        NotImplementedError,
        "\"GeluKernelImpl\" not implemented for 'Long'",
    ),
    "softplus of int64": (
        lambda lib: F(lib).softplus(lib.tensor([1, 2])),
        NotImplementedError,
        "\"softplus_cpu\" not implemented for 'Long'",
    ),
    "silu of int32": (
        lambda lib: F(lib).silu(lib.tensor([1, 2], dtype=lib.int32)),
        NotImplementedError,
        "\"silu_cpu\" not implemented for 'Int'",
    ),
    "elu of int64": (
        lambda lib: F(lib).elu(lib.tensor([1, 2])),
        NotImplementedError,
        "\"elu_cpu\" not implemented for 'Long'",
    ),
    "leaky_relu of int64": (
        lambda lib: F(lib).leaky_relu(lib.tensor([1, 2])),
        NotImplementedError,
        "\"leaky_relu_cpu\" not implemented for 'Long'",
    ),
    "logsigmoid of int64": (
        lambda lib: F(lib).logsigmoid(lib.tensor([1, 2])),
        NotImplementedError,
        "\"log_sigmoid_cpu\" not implemented for 'Long'",
    ),
    "frac of int64": (
        lambda lib: lib.frac(lib.tensor([1, 2])),
        NotImplementedError,
        "\"frac_cpu\" not implemented for 'Long'",
    ),
    "round(decimals) of int32": (
        lambda lib: lib.round(lib.tensor([1], dtype=lib.int32), decimals=1),
        NotImplementedError,
        "\"round_cpu\" not implemented for 'Int'",
    ),
    "floor of bool": (
        lambda lib: lib.floor(lib.tensor([True])),
        NotImplementedError,
        "\"floor_vml_cpu\" not implemented for 'Bool'",
    ),
    "round of bool": (
        lambda lib: lib.tensor([True]).round(),
        NotImplementedError,
        "\"round_vml_cpu\" not implemented for 'Bool'",
    ),
    "any with a repeated dim": (
        lambda lib: lib.any(lib.ones(2, 2), dim=(0, -2)),
        RuntimeError,
        "dim 0 appears multiple times in the list of dims",
    ),
    "all with a dim out of range": (
        lambda lib: lib.all(lib.zeros(2, 3), dim=5),
        IndexError,
        "Dimension out of range (expected to be in range of [-2, 1], but got 5)",
    ),
    "any of a 0-d tensor, dim 1": (
        lambda lib: lib.tensor(1.0).any(1),
        IndexError,
        "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_errors(case):
    fn, error, message = case
    with pytest.raises(error) as caught:
        fn(gradienti)
    assert pytorch_text(str(caught.value)) == message


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_error_texts_are_torchs(case):
    torch = _torch()
    fn, error, message = case
    with pytest.raises(error) as caught:
        fn(torch)
    assert str(caught.value) == message


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", [2, 3, -1, -2, -0.5, 2.0, 3.0, 4, -3])
def test_pow_bits_match_torch_for_one_element_and_the_special_exponents(dtype, exponent):
    torch = _torch()
    # PyTorch computes x**2, x**3, x**-1, x**-2, x**-0.5 as products/reciprocals (not pow),
    # and one element through the C library's pow: so do we, to the last bit.
    values = np.random.default_rng(3).uniform(0.01, 3.0, 400).astype(dtype)
    ours = np.array([(gradienti.tensor(v) ** exponent).item() for v in values])
    theirs = np.array([(torch.tensor(v) ** exponent).item() for v in values])
    assert np.array_equal(ours, theirs)
    after_inplace = gradienti.tensor(values[0])
    after_inplace -= 0.0  # a 0-d array now, not a NumPy scalar: the same bits
    assert (after_inplace**exponent).item() == (torch.tensor(values[0]) ** exponent).item()
    if exponent in (2, 3, -1, -2, -0.5, 2.0, 3.0):  # PyTorch's vectorised loop for these
        assert np.array_equal(
            (gradienti.tensor(values) ** exponent).numpy(),
            (torch.tensor(values) ** exponent).numpy(),
        )


@pytest.mark.parametrize("exponent", [2, 3, 4, -3, 2.5])
def test_pow_gradient_bits_match_torch_on_one_element(exponent):
    # The VJP grad * (e * x^(e-1)) is grouped and rounded as PyTorch's, so gradient descent on a
    # polynomial follows PyTorch's path to the last bit (examples/gradient_descent.py).
    torch = _torch()
    for v in np.random.default_rng(4).uniform(0.5, 3.0, 50).astype("float32"):
        ours = gradienti.tensor(v, requires_grad=True)
        theirs = torch.tensor(v, requires_grad=True)
        (3 * ours**exponent).backward()
        (3 * theirs**exponent).backward()
        assert ours.grad.item() == theirs.grad.item()
