"""lgamma, digamma, polygamma, erfinv, xlogy and logaddexp2 against PyTorch: values on wide
grids (negative arguments, poles, ±1, infinities, NaN), dtypes, the in-place forms and the
errors; and logaddexp, isclose, allclose and equal, which learner code uses beside them.
(Gradients, double backward, forward mode and vmap: the op table, op_cases_pointwise.)
"""

from __future__ import annotations

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(13)
GRID = np.concatenate(
    [
        np.linspace(-30, 30, 6001),
        _rng.uniform(-200, 200, 1000),
        np.geomspace(1e-300, 1e300, 500),
        -np.geomspace(1e-300, 1e3, 300),
        1 + np.linspace(-0.1, 0.1, 201),  # lgamma's zeros at 1 and 2
        2 + np.linspace(-0.1, 0.1, 201),
        np.arange(-40.0, 41.0),  # the poles
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -2.457024738220800589],
    ]
)


def _compare(ours, theirs, rtol):
    """Non-finite values exactly (±inf, NaN); finite ones to ``rtol``, or absolutely near a
    zero of the function."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(theirs))
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=rtol, atol=rtol)


def _both(name, values, dtype, *args):
    ours = getattr(gradienti, name)(
        *args, gradienti.tensor(values, dtype=getattr(gradienti, dtype))
    )
    theirs = getattr(torch, name)(*args, torch.tensor(values, dtype=getattr(torch, dtype)))
    assert str(ours.dtype) == str(theirs.dtype)
    return ours.numpy(), theirs.numpy()


def test_lgamma_float64_everywhere():
    _compare(*_both("lgamma", GRID, "float64"), rtol=1e-13)


def test_digamma_float64_everywhere():
    _compare(*_both("digamma", GRID, "float64"), rtol=1e-11)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polygamma_float64(n):
    """(|x| < 100: PyTorch's zeta loops for a long time far out on the negative axis.
    Trigamma is PyTorch's own algorithm, poles included: a large finite number there.)"""
    grid = GRID[(np.abs(GRID) < 100) | ~np.isfinite(GRID)]
    _compare(*_both("polygamma", grid, "float64", n), rtol=1e-14 if n == 1 else 1e-10)


def _ulps(ours, theirs):
    """Units in the last place between float32 arrays (0 where both are the same non-finite)."""
    order = [np.asarray(a, np.float32).view(np.int32).astype(np.int64) for a in (ours, theirs)]
    order = [np.where(o < 0, -(o & 0x7FFFFFFF), o) for o in order]
    distance = np.abs(order[0] - order[1])
    same = (np.asarray(ours) == np.asarray(theirs)) | (np.isnan(ours) & np.isnan(theirs))
    return np.where(same, 0, distance)


@pytest.mark.parametrize("n", [0, 1])
def test_digamma_and_trigamma_float32_to_the_ulp(n):
    """PyTorch's float32 digamma and trigamma are its own roundings (several ulp from the
    exact values near digamma's root, finite at trigamma's poles, NaN at -inf): matched."""
    grid = np.concatenate([GRID, np.linspace(1.40, 1.52, 2001), np.linspace(-1e7, 1e7, 2001)])
    ours, theirs = _both("polygamma", grid, "float32", n)
    distance = _ulps(ours, theirs)
    assert np.mean(distance == 0) > 0.99
    assert distance.max() <= 16 if n == 0 else distance.max() <= 8
    # (a few more than 2 ulp where sin(πx) is tiny: far out at the poles, where it amplifies
    # its one-ulp differences from the C library's)
    assert np.count_nonzero(distance > 2) <= 30


def test_float32_lgamma_overflows_where_pytorchs_does():
    values = np.array([4.03711e36, 4.0371103e36, 4.08e36, 3.4e38, -4.05e36], dtype=np.float32)
    ours, theirs = _both("lgamma", values, "float32")
    np.testing.assert_array_equal(ours, theirs)


def test_trigamma_at_minus_infinity_and_the_negative_poles():
    values = np.array([-np.inf, -1.0, -2.0, -7.0, np.inf])
    for dtype in ("float32", "float64"):
        ours, theirs = _both("polygamma", values, dtype, 1)
        np.testing.assert_array_equal(ours, theirs)


def test_polygamma_zero_is_digamma_and_the_poles():
    ours, theirs = _both("polygamma", np.array([0.5, -0.5, 3.0, 0.0]), "float64", 0)
    _compare(ours, theirs, rtol=1e-12)
    poles = np.array([0.0, -0.0, -1.0, -5.0])
    for n in (2, 3, 4):
        _compare(*_both("polygamma", poles, "float64", n), rtol=0)
    _compare(*_both("polygamma", poles[:2], "float64", 1), rtol=0)


def test_erfinv_float64_everywhere():
    grid = np.concatenate(
        [
            np.linspace(-1, 1, 20001),
            1 - np.geomspace(1e-16, 0.5, 300),
            -1 + np.geomspace(1e-16, 0.5, 300),
            np.geomspace(1e-310, 1e-3, 100),
            [0.0, -0.0, 1.0, -1.0, 1.5, -1.5, np.inf, -np.inf, np.nan],
        ]
    )
    ours, theirs = _both("erfinv", grid, "float64")
    _compare(ours, theirs, rtol=1e-14)
    np.testing.assert_array_equal(np.signbit(ours[grid == 0]), np.signbit(theirs[grid == 0]))


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_lower_precision_dtypes(name, dtype):
    grid = np.linspace(-0.99, 0.99, 199) if name == "erfinv" else np.linspace(-9.9, 9.9, 199)
    rtol = {"float32": 1e-5, "float16": 2e-3}[dtype]
    _compare(*_both(name, grid, dtype), rtol=rtol)


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integral_inputs_compute_in_the_default_float(name, dtype):
    values = np.array([0, 1, 2, 3]) if dtype != "bool" else np.array([True, False])
    _compare(*_both(name, values, dtype), rtol=1e-6)
    _compare(*_both("polygamma", values, dtype, 1), rtol=1e-6)


def _outcome(lib, action):
    try:
        result = action(lib)
    except Exception as error:  # noqa: BLE001 - the class and text are compared
        return type(error).__name__, pytorch_text(str(error))
    return str(result.dtype), np.round(result.detach().numpy().astype(float), 6).tolist()


@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.polygamma(-1, lib.tensor([1.0])),
        lambda lib: lib.polygamma(1.5, lib.tensor([1.0])),
        lambda lib: lib.polygamma(1, [1.0]),
        lambda lib: lib.tensor([1.5, 2.5]).polygamma(2),
        lambda lib: lib.lgamma([1.0]),
        lambda lib: lib.erfinv(2.0),
        lambda lib: lib.xlogy(2, 3),
        lambda lib: lib.logaddexp2(lib.tensor([1]), lib.tensor([2])),
        lambda lib: lib.logaddexp(lib.tensor([1]), lib.tensor([2])),
        lambda lib: lib.logaddexp2(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0])),
    ],
    ids=[
        "n<0",
        "n float",
        "list input",
        "method",
        "lgamma list",
        "erfinv number",
        "xlogy numbers",
        "logaddexp2 ints",
        "logaddexp ints",
        "shapes",
    ],  # fmt: skip
)
def test_arguments_and_errors(action):
    ours, theirs = _outcome(gradienti, action), _outcome(torch, action)
    assert ours[0] == theirs[0]
    if ours[0].endswith("Error") and "invalid combination" in theirs[1]:
        assert ours[1].split("\n")[0] == theirs[1].split("\n")[0]  # (the overloads differ)
    else:
        assert ours == theirs


IN_PLACE = {
    "lgamma_": lambda x: x.lgamma_(),
    "digamma_": lambda x: x.digamma_(),
    "polygamma_": lambda x: x.polygamma_(2),
    "erfinv_": lambda x: (x / 4).erfinv_(),
    "xlogy_": lambda x: x.xlogy_(x.abs() + 1),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_forms(name):
    def run(lib):
        x = lib.tensor([0.5, 1.5, -2.5, 3.0])
        y = x.clone()
        result = IN_PLACE[name](y)
        ints = lib.tensor([1, 2])
        try:
            IN_PLACE[name](ints)
            error = None
        except RuntimeError as caught:
            error = str(caught)
        return np.round(result.numpy(), 5).tolist(), str(result.dtype), error, ints.tolist()

    assert run(gradienti) == run(torch)


def test_xlogy_forward_cases():
    x = np.array([0.0, 0.0, 0.0, 1.5, -2.0, 3.0, 0.0])
    y = np.array([0.0, np.nan, -1.0, 2.0, 0.5, np.inf, np.inf])
    for lib_call in (
        lambda lib: lib.xlogy(lib.tensor(x), lib.tensor(y)),
        lambda lib: (
            lib.special.xlogy(lib.tensor(x), lib.tensor(y))
            if hasattr(lib, "special")
            else lib.xlogy(lib.tensor(x), lib.tensor(y))
        ),
        lambda lib: lib.xlogy(lib.tensor(x), 0.0),
        lambda lib: lib.xlogy(0, lib.tensor(y)),
        lambda lib: lib.xlogy(lib.tensor([1, 0, 2]), lib.tensor([3, 4, 0])),
        lambda lib: lib.tensor(x, dtype=lib.float64).xlogy(lib.tensor(y, dtype=lib.float16)),
    ):
        ours, theirs = lib_call(gradienti), lib_call(torch)
        assert str(ours.dtype) == str(theirs.dtype)
        _compare(ours.numpy(), theirs.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------- beside them
def test_logaddexp_and_logaddexp2_forward():
    a = np.array([0.0, 1.0, -np.inf, np.inf, 1000.0, -1000.0, np.nan])
    b = np.array([0.0, -1.0, -np.inf, 1.0, 1000.0, 3.0, 0.0])
    for name in ("logaddexp", "logaddexp2"):
        ours = getattr(gradienti, name)(gradienti.tensor(a), gradienti.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        _compare(ours.numpy(), theirs.numpy(), rtol=1e-6)
        method = getattr(gradienti.tensor(a), name)(gradienti.tensor(b[:1]))
        _compare(method.numpy(), getattr(torch.tensor(a), name)(torch.tensor(b[:1])).numpy(), 1e-6)


@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.equal(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0])),
        lambda lib: lib.tensor([1, 2]).equal(lib.tensor([1, 3])),
        lambda lib: lib.equal(lib.tensor([1.0]), lib.tensor([1.0, 1.0])),
        lambda lib: lib.equal(lib.tensor([float("nan")]), lib.tensor([float("nan")])),
        lambda lib: lib.allclose(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0 + 1e-6])),
        lambda lib: lib.tensor([1.0, 2.0]).allclose(lib.tensor([1.0, 2.1]), atol=0.2),
        lambda lib: lib.isclose(
            lib.tensor([1.0, float("nan")]), lib.tensor([1.0, float("nan")]), equal_nan=True
        ).tolist(),  # fmt: skip
        lambda lib: lib.tensor([1.0, 2.0]).isclose(lib.tensor([1.0, 2.1]), rtol=0.1).tolist(),
    ],
)
def test_equal_allclose_isclose(action):
    assert action(gradienti) == action(torch)


SPECIAL_NAMES = ["digamma", "psi", "gammaln", "polygamma", "erf", "erfc", "erfinv", "xlogy",
                 "exp2", "expm1", "log1p", "expit", "logsumexp"]  # fmt: skip


@pytest.mark.parametrize("name", SPECIAL_NAMES)
def test_the_special_namespace_records_pytorchs_nodes(name):
    def run(lib):
        x = lib.tensor([0.25, 0.5, 0.75], dtype=lib.float64, requires_grad=True)
        function = getattr(lib.special, name)
        args = {"polygamma": (2, x), "xlogy": (x, x + 1), "logsumexp": (x, 0)}.get(name, (x,))
        out = function(*args)
        (grad,) = lib.autograd.grad(out.sum(), x)
        return out.grad_fn.name(), np.round(out.detach().numpy(), 10).tolist(), grad.tolist()

    ours, theirs = run(gradienti), run(torch)
    assert ours[:2] == theirs[:2]
    # (1e-8: PyTorch's trigamma, digamma's derivative, is accurate to about 1e-9)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-8)
