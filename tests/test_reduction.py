"""Reductions at their edges, against PyTorch: ties, zeros, NaN, huge inputs, empty inputs,
errors, and the named tuple that max/min return with a dim.

The smooth cases are in op_cases_reduction.py (finite differences and PyTorch).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.ops import pointwise

torch = pytest.importorskip("torch")

INF = float("inf")
NAN = float("nan")


def _np(t):
    return t.detach().numpy() if type(t).__module__.startswith("gradienti") else t.numpy(force=True)


def _run(lib, fn, values, dtype, upstream, create_graph):
    x = lib.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
    out = fn(lib, x)
    if isinstance(out, tuple):
        out = out[0]
    v = lib.tensor(np.asarray(upstream(tuple(out.shape)), dtype=dtype))
    (grad,) = lib.autograd.grad(out, x, grad_outputs=v, create_graph=create_graph)
    second = None
    if create_graph:
        if grad.requires_grad:
            w = lib.tensor(np.linspace(0.5, 1.5, x.numel()).reshape(tuple(x.shape)).astype(dtype))
            (second,) = lib.autograd.grad((grad * w).sum(), x, allow_unused=True)
        second = np.zeros(tuple(x.shape), dtype) if second is None else _np(second)
    return _np(out), _np(grad), second


def _weights(shape):
    return np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape) / 4


def check(fn, values, dtype=np.float32, double=False, rtol=1e-5, atol=1e-6):
    """The forward value, the gradient (non-uniform upstream) and, if ``double``, the second
    derivative of ``fn`` agree with PyTorch's, NaN where PyTorch has NaN."""
    ours = _run(gradienti, fn, values, dtype, _weights, double)
    theirs = _run(torch, fn, values, dtype, _weights, double)
    for kind, a, b in zip(("forward", "gradient", "second derivative"), ours, theirs):
        if a is None:
            continue
        assert a.dtype == b.dtype, f"{kind} dtype"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=kind)
    return ours


def forward(fn, values, dtype=np.float32, rtol=1e-5):
    """The forward value of ``fn`` (values and dtype) agrees with PyTorch's."""
    ours = fn(gradienti, gradienti.tensor(np.asarray(values, dtype=dtype)))
    theirs = fn(torch, torch.tensor(np.asarray(values, dtype=dtype)))
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, equal_nan=True)
    return _np(ours)


def raises_like(fn, values, dtype=np.float32):
    """``fn`` raises the exception type and message that PyTorch raises."""
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.tensor(np.asarray(values, dtype=dtype)))
    with pytest.raises(type(theirs.value)) as ours:
        fn(gradienti, gradienti.tensor(np.asarray(values, dtype=dtype)))
    assert str(ours.value) == str(theirs.value).split(" (Triggered internally")[0]


# Each has ties at its maximum and at its minimum.
TIES = [
    [1.0, 3.0, 3.0, 1.0, 2.0],
    [[1.0, 3.0, 3.0], [1.0, 2.0, 1.0]],
    [[0.0, -5.0, 0.0], [5.0, 5.0, -5.0]],
    [[[1.0, 1.0], [1.0, 2.0]], [[2.0, 2.0], [1.0, 2.0]]],
]


# ---------------------------------------------------------------------- ties
@pytest.mark.parametrize("values", TIES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_share_the_gradient_among_ties(name, values):
    _, grad, _ = check(lambda lib, x: getattr(x, name)(), values, double=True)
    assert np.count_nonzero(grad) >= 2  # the gradient really is spread


@pytest.mark.parametrize("values", TIES[1:])
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_give_the_gradient_to_the_first_index(name, values, dim, keepdim):
    check(lambda lib, x: getattr(lib, name)(x, dim, keepdim).values, values, double=True)
    forward(lambda lib, x: getattr(x, name)(dim, keepdim=keepdim).indices, values)
    forward(lambda lib, x: getattr(lib, "arg" + name)(x, dim, keepdim), values)


@pytest.mark.parametrize("values", TIES)
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [(), 0, -1, (0, -1)])
def test_amax_amin_spread_the_gradient_evenly(name, values, dim):
    if dim == (0, -1) and np.ndim(values) == 1:
        raises_like(lambda lib, x: getattr(x, name)(dim), values)  # the same dim twice
        return
    check(lambda lib, x: getattr(x, name)(dim), values, double=True)
    check(lambda lib, x: getattr(lib, name)(x, dim, True), values)


@pytest.mark.parametrize("p", [INF, -INF])
def test_inf_norm_ties(p):
    check(lambda lib, x: x.norm(p), [3.0, -3.0, 1.0, 2.0], double=True)
    check(lambda lib, x: x.norm(p, dim=1), [[3.0, -3.0, 1.0], [1.0, -1.0, 1.0]], double=True)


def test_argmax_argmin_ties_pick_the_first():
    values = [[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]]
    assert forward(lambda lib, x: x.argmax(1), values).tolist() == [1, 0]
    assert forward(lambda lib, x: x.argmin(), values).tolist() == 5
    assert forward(lambda lib, x: x.argmax(keepdim=True), values).tolist() == [[1]]


# ---------------------------------------------------------------------- zeros
PROD_ZEROS = [
    [2.0, 0.0, 3.0],
    [2.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
    [[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]],
    [[0.0, 4.0], [-2.0, 0.5]],
]


@pytest.mark.parametrize("values", PROD_ZEROS)
def test_prod_with_zeros(values):
    check(lambda lib, x: x.prod(), values, np.float64, double=True)
    check(lambda lib, x: x.prod(0), values, np.float64, double=True)
    check(lambda lib, x: lib.prod(x, -1, keepdim=True), values, np.float64, double=True)


def test_prod_with_one_zero_keeps_the_product_of_the_others():
    _, grad, _ = check(lambda lib, x: x.prod(), [2.0, 0.0, 3.0, 4.0])
    assert grad.tolist() == [0.0, 24.0 * 0.25, 0.0, 0.0]  # the upstream gradient is 0.25


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 0.0], [0.0, 1.5, -2.0], [1.0, 2.0, 3.0, 0.0]])
def test_cumprod_with_zeros(values):
    check(lambda lib, x: x.cumprod(0), values, np.float64, double=True)
    rows = [values, values[::-1]]
    check(lambda lib, x: x.cumprod(1), rows, np.float64, double=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_prod_and_cumprod_with_many_zeros_along_each_dim(dim):
    values = np.random.default_rng(dim + 3).choice([-1.5, 0.0, 0.5, 2.0], (3, 4, 5))
    check(lambda lib, x: x.cumprod(dim), values, np.float64, double=True)
    check(lambda lib, x: x.prod(dim), values, np.float64, double=True)
    check(lambda lib, x: x.prod(dim, keepdim=True), values, np.float64)


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, "fro"])
def test_norm_at_zero(p):
    _, grad, _ = check(lambda lib, x: x.norm(p), [0.0, 0.0, 0.0])
    assert not np.isnan(grad).any()
    check(lambda lib, x: x.norm(p, dim=1), [[0.0, 0.0], [3.0, -4.0]])


def test_two_norm_at_zero_has_gradient_zero_and_second_derivative_as_torch():
    _, grad, second = check(lambda lib, x: x.norm(), [0.0, 0.0], double=True)
    assert grad.tolist() == [0.0, 0.0]
    assert np.isnan(second).all()  # PyTorch's, too: 0/0 in the VJP's derivative


def test_std_of_constant_has_gradient_zero():
    _, grad, second = check(lambda lib, x: x.std(), [1.5, 1.5, 1.5], double=True)
    assert grad.tolist() == [0.0, 0.0, 0.0]
    check(lambda lib, x: x.std(1), [[1.0, 1.0], [1.0, 2.0]], double=True)


# ---------------------------------------------------------------------- huge and infinite inputs
HUGE = [
    [1e4, -1e4, 0.0],
    [1e4, 1e4, 1e4 - 1.0],
    [-1e4, -1e4, -1e4 + 2.0],
    [[1e4, 0.0], [-1e4, 5e3]],
]


@pytest.mark.parametrize("values", HUGE)
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.softmax(-1),
        lambda lib, x: lib.log_softmax(x, -1),
        lambda lib, x: x.logsumexp(-1),
        lambda lib, x: lib.softmax(x, 0),
        lambda lib, x: x.log_softmax(0),
        lambda lib, x: lib.logsumexp(x, 0, keepdim=True),
    ],
    ids=["softmax", "log_softmax", "logsumexp", "softmax0", "log_softmax0", "logsumexp0"],
)
def test_softmax_family_is_stable_for_huge_inputs(fn, values):
    out, grad, second = check(fn, values, double=True, atol=1e-4)
    assert np.isfinite(out).all() and np.isfinite(grad).all() and np.isfinite(second).all()


def test_logsumexp_of_huge_values_keeps_the_small_terms():
    out = forward(lambda lib, x: x.logsumexp(0), [1e4, 1e4], np.float64)
    assert out == pytest.approx(1e4 + np.log(2.0), abs=1e-9)
    assert forward(lambda lib, x: x.logsumexp(0), [-1e4, -1e4], np.float64) == pytest.approx(
        -1e4 + np.log(2.0)
    )


@pytest.mark.parametrize(
    "values",
    [[-INF, 1.0, 0.0], [-INF, -INF], [INF, 1.0, 0.0], [NAN, 1.0, 0.0], [INF, -INF]],
)
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.softmax(0),
        lambda lib, x: x.log_softmax(0),
        lambda lib, x: x.logsumexp(0),
    ],
    ids=["softmax", "log_softmax", "logsumexp"],
)
def test_softmax_family_with_infinities_and_nan(fn, values):
    check(fn, values)


def test_softmax_of_many_values():
    rng = np.random.default_rng(0)
    values = rng.uniform(-1e4, 1e4, (3, 1000))
    out, _, _ = check(lambda lib, x: x.softmax(1), values, atol=1e-5)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-5)
    check(lambda lib, x: x.log_softmax(1), values, rtol=1e-4, atol=1e-2)


# ---------------------------------------------------------------------- NaN
NAN_ROWS = [[1.0, NAN, 3.0, NAN], [2.0, 0.5, NAN, 1.0], [0.0, 1.0, 2.0, 3.0]]


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.max(),
        lambda lib, x: x.min(),
        lambda lib, x: x.max(1).values,
        lambda lib, x: x.min(0).values,
        lambda lib, x: x.amax(1),
        lambda lib, x: x.amin((0, 1)),
        lambda lib, x: x.sum(1),
        lambda lib, x: x.mean(),
        lambda lib, x: x.prod(1),
        lambda lib, x: x.var(1),
        lambda lib, x: x.std(0),
        lambda lib, x: x.norm(dim=1),
        lambda lib, x: x.norm(INF, 1),
        lambda lib, x: x.norm(-INF, 1),
        lambda lib, x: x.norm(1, 1),
        lambda lib, x: x.norm(3, 1),
        lambda lib, x: x.norm(1.5, 1),
        lambda lib, x: x.norm(0.5, 1),
        lambda lib, x: x.logsumexp(1),
        lambda lib, x: x.softmax(1),
        lambda lib, x: x.cumsum(1),
        lambda lib, x: x.cumprod(1),
    ],
)
def test_nan_propagates_as_in_torch(fn):
    out, _, _ = check(fn, NAN_ROWS)
    assert np.isnan(out).any()


def test_nan_indices_point_at_the_first_nan():
    assert forward(lambda lib, x: x.max(1).indices, NAN_ROWS).tolist() == [1, 2, 3]
    assert forward(lambda lib, x: x.min(1).indices, NAN_ROWS).tolist() == [1, 2, 0]
    assert forward(lambda lib, x: x.argmax(1), NAN_ROWS).tolist() == [1, 2, 3]
    assert forward(lambda lib, x: x.argmin(), NAN_ROWS).tolist() == 1


# ---------------------------------------------------------------------- degrees of freedom
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.var(),
        lambda lib, x: x.std(),
        lambda lib, x: x.var(correction=5),
        lambda lib, x: x.var(0, correction=2),
        lambda lib, x: x.var(0, correction=5),
        lambda lib, x: x.std(correction=3),
    ],
)
@pytest.mark.parametrize("values", [[1.0], [1.0, 2.0], [2.0, 2.0]])
def test_var_std_without_degrees_of_freedom(fn, values):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        check(fn, values)


def test_var_warns_like_torch_when_no_degrees_of_freedom_remain():
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        out = gradienti.tensor([1.0]).var()
    assert np.isnan(out.item())
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
        gradienti.tensor([1.0, 2.0]).std(0, correction=2)
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        gradienti.zeros(2, 0).var(0)  # an empty result: as PyTorch, the factor is 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradienti.tensor([1.0, 2.0]).var()  # one degree of freedom: no warning
        gradienti.zeros(2, 3).var(0)


# ---------------------------------------------------------------------- empty inputs and errors
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.sum(),
        lambda lib, x: x.mean(),
        lambda lib, x: x.mean(dtype=lib.float64),
        lambda lib, x: x.mean(1, dtype=lib.float64),
        lambda lib, x: x.std(1, correction=0),
        lambda lib, x: x.prod(),
        lambda lib, x: x.prod(1),
        lambda lib, x: x.norm(),
        lambda lib, x: x.logsumexp(1),
        lambda lib, x: x.softmax(1),
        lambda lib, x: x.amax(0),
        lambda lib, x: x.max(0).values,
        lambda lib, x: x.cumsum(1),
        lambda lib, x: x.count_nonzero(),
    ],
)
@pytest.mark.filterwarnings(r"ignore:std\(\)\W+degrees of freedom")
def test_empty_inputs(fn):
    forward(fn, np.zeros((2, 0)))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.max(),
        lambda lib, x: x.min(),
        lambda lib, x: x.amax(),
        lambda lib, x: x.amin(()),
        lambda lib, x: x.argmax(),
        lambda lib, x: x.argmin(),
        lambda lib, x: x.max(1),
        lambda lib, x: x.min(-1),
        lambda lib, x: x.amax(-1),
        lambda lib, x: x.amin((0, 1)),
        lambda lib, x: x.argmax(1),
        lambda lib, x: x.argmin(-1),
        lambda lib, x: x.norm(INF),
        lambda lib, x: x.norm(-INF, 1),
    ],
)
def test_extremes_of_nothing_raise_like_torch(fn):
    raises_like(fn, np.zeros((2, 0)))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.sum(2),
        lambda lib, x: x.mean(-3),
        lambda lib, x: x.prod(2),
        lambda lib, x: x.var(5),
        lambda lib, x: x.std((0, 2)),
        lambda lib, x: x.max(3),
        lambda lib, x: lib.min(x, -3),
        lambda lib, x: x.amax(2),
        lambda lib, x: x.argmax(2),
        lambda lib, x: x.argmin(-3),
        lambda lib, x: x.logsumexp(2),
        lambda lib, x: x.softmax(2),
        lambda lib, x: x.log_softmax(-3),
        lambda lib, x: x.norm(dim=2),
        lambda lib, x: x.cumsum(2),
        lambda lib, x: x.cumprod(-3),
        lambda lib, x: x.count_nonzero(2),
        lambda lib, x: x.sum((0, 0)),
        lambda lib, x: x.amax((1, -1)),
        lambda lib, x: x.var((0, -2)),
        lambda lib, x: x.count_nonzero((1, 1)),
    ],
)
def test_bad_dims_raise_like_torch(fn):
    raises_like(fn, np.ones((2, 3)))


@pytest.mark.parametrize(
    ("fn", "dtype"),
    [
        (lambda lib, x: x.var(), np.int64),
        (lambda lib, x: x.std(0), np.int32),
        (lambda lib, x: x.softmax(0), np.int64),
        (lambda lib, x: x.log_softmax(0), np.int64),
        (lambda lib, x: x.reshape(2, 1).softmax(0), np.int64),
        (lambda lib, x: x.softmax(0), np.bool_),
        (lambda lib, x: x.norm(), np.int64),
        (lambda lib, x: x.norm(dtype=lib.float16), np.float32),
        (lambda lib, x: x.argmax(), np.bool_),
        (lambda lib, x: x.argmin(0), np.bool_),
        (lambda lib, x: x.mean(), np.int64),
        (lambda lib, x: x.mean(dtype=lib.int64), np.float32),
        (lambda lib, x: x.reshape(2, 1, 1).norm("fro", (0, 1, 2)), np.float32),
    ],
)
def test_bad_inputs_raise_like_torch(fn, dtype):
    raises_like(fn, [1, 0], dtype)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.softmax(),
        lambda lib, x: lib.log_softmax(x),
        lambda lib, x: x.logsumexp(),
        lambda lib, x: x.cumsum(),
        lambda lib, x: x.softmax((0, 1)),
        lambda lib, x: x.cumsum((0, 1)),
        lambda lib, x: x.max((0, 1)),
        lambda lib, x: x.max(keepdim=True),
        lambda lib, x: x.prod((0, 1)),
        lambda lib, x: x.prod(keepdim=True),
        lambda lib, x: x.var(unbiased=False, correction=0),
    ],
)
def test_bad_arguments_raise_type_error(fn):
    with pytest.raises(TypeError):
        fn(torch, torch.ones(2, 3))
    with pytest.raises(TypeError):
        fn(gradienti, gradienti.ones(2, 3))


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    ("fn", "values", "dtype"),
    [
        (lambda lib, x: x.prod(), [1, 2, 3], np.int32),
        (lambda lib, x: x.prod(0), [True, False], np.bool_),
        (lambda lib, x: x.prod(dtype=lib.float64), [1, 2, 3], np.int64),
        (lambda lib, x: x.cumsum(0), [True, True, False], np.bool_),
        (lambda lib, x: x.cumsum(0), [1, 2], np.int32),
        (lambda lib, x: x.cumprod(0), [1, 2, 3], np.uint8),
        (lambda lib, x: x.cumsum(0, dtype=lib.float32), [1, 2], np.int64),
        (lambda lib, x: x.max(), [1, 5, 2], np.int64),
        (lambda lib, x: x.max(), [True, False], np.bool_),
        (lambda lib, x: x.min(0).values, [3, 5, 2], np.int16),
        (lambda lib, x: x.amax(), [1, 5, 2], np.int32),
        (lambda lib, x: x.argmax(), [1.0, 5.0, 2.0], np.float16),
        (lambda lib, x: x.logsumexp(0), [1, 2], np.int64),
        (lambda lib, x: x.softmax(0, dtype=lib.float64), [1, 2], np.int64),
        (lambda lib, x: x.softmax(0), [1, 2], np.float16),
        (lambda lib, x: x.log_softmax(0), [1, 2, 3.5], np.float16),
        (lambda lib, x: x.count_nonzero(), [True, False, True], np.bool_),
        (lambda lib, x: x.mean(dtype=lib.float32), [1, 2], np.int64),
        (lambda lib, x: x.mean(dtype=lib.float64), [1, 2], np.float32),
        (lambda lib, x: x.norm(dtype=lib.float64), [3.0, 4.0], np.float32),
    ],
)
def test_result_dtypes(fn, values, dtype):
    # Half precision: within a unit in the last place (PyTorch rounds intermediate values).
    forward(fn, values, dtype, rtol=1e-3 if dtype is np.float16 else 1e-5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.sum(dtype=lib.float64),
        lambda lib, x: x.mean(0, dtype=lib.float64),
        lambda lib, x: x.prod(1, dtype=lib.float64),
        lambda lib, x: x.norm(dim=0, dtype=lib.float64),
        lambda lib, x: x.cumsum(1, dtype=lib.float64),
        lambda lib, x: x.cumprod(0, dtype=lib.float64),
        lambda lib, x: x.softmax(1, dtype=lib.float64),
    ],
)
def test_gradient_comes_back_in_the_input_dtype(fn):
    check(fn, [[1.0, 2.0, -0.5], [0.25, 1.5, 3.0]], double=True)


# ---------------------------------------------------------------------- the named tuple
def test_max_with_dim_returns_torch_named_tuple():
    values = [[1.0, 3.0], [2.0, 0.0]]
    ours = gradienti.max(gradienti.tensor(values), 1)
    theirs = torch.max(torch.tensor(values), 1)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    assert repr(ours).startswith("torch.return_types.max(\nvalues=tensor([3., 2.]),\nindices=")
    values_, indices = ours
    assert values_ is ours.values and indices is ours.indices and ours[1] is indices
    assert isinstance(ours, tuple) and len(ours) == 2 and type(ours).__name__ == "max"
    assert indices.dtype == gradienti.int64 and indices.tolist() == [1, 0]


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_named_tuple_repr_with_grad_fn(name, keepdim):
    values = [[1.0, 3.0, -2.0], [2.0, 0.0, 7.0]]
    ours = getattr(gradienti.tensor(values, requires_grad=True), name)(-1, keepdim)
    theirs = getattr(torch.tensor(values, requires_grad=True), name)(-1, keepdim)
    assert repr(ours) == repr(theirs)
    assert ours.indices.grad_fn is None and not ours.indices.requires_grad
    assert type(ours.values.grad_fn).__name__ == theirs.values.grad_fn.name()


def test_named_tuple_of_a_0d_tensor():
    ours = gradienti.tensor(3.0, requires_grad=True).max(0)
    theirs = torch.tensor(3.0, requires_grad=True).max(0)
    assert repr(ours) == repr(theirs)
    ours.values.backward()


def test_return_types_namespace():
    result = gradienti.tensor([[1.0, 2.0]]).min(1)
    assert isinstance(result, gradienti.ops.extrema.return_types.min)
    assert result._asdict()["values"] is result.values


def test_binary_max_is_maximum():
    a, b = [1.0, 5.0, -2.0], [3.0, 2.0, -2.0]
    if not hasattr(pointwise, "maximum"):  # the pointwise ops are still to come
        with pytest.raises(NotImplementedError):
            gradienti.max(gradienti.tensor(a), gradienti.tensor(b))
        return
    for name in ("max", "min"):
        check(lambda lib, x, name=name: getattr(lib, name)(x, lib.tensor(b)), a)
        check(lambda lib, x, name=name: getattr(x, name)(lib.tensor(b)), a)
        ours = getattr(gradienti.tensor(a, requires_grad=True), name)(other=gradienti.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a, requires_grad=True), torch.tensor(b))
        np.testing.assert_array_equal(_np(ours), _np(theirs))
        assert type(ours.grad_fn).__name__ == theirs.grad_fn.name()


# ---------------------------------------------------------------------- higher derivatives
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.softmax(0),
        lambda lib, x: x.log_softmax(0),
        lambda lib, x: x.logsumexp(0),
        lambda lib, x: x.prod(),
        lambda lib, x: x.cumprod(0),
        lambda lib, x: x.std(),
        lambda lib, x: x.norm(3),
    ],
)
def test_third_derivative_matches_torch(fn):
    values = np.array([0.5, -1.25, 2.0, 0.75])

    def third(lib):
        x = lib.tensor(values, requires_grad=True)
        y = fn(lib, x)
        w = lib.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
        (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (k,) = lib.autograd.grad((h * x).sum(), x)
        return _np(k)

    np.testing.assert_allclose(third(gradienti), third(torch), rtol=1e-7, atol=1e-9)


def test_prod_and_cumprod_third_derivative_with_zeros():
    values = np.array([2.0, 0.0, -1.5, 0.0, 3.0])

    def third(lib, fn):
        x = lib.tensor(values, requires_grad=True)
        (g,) = lib.autograd.grad(fn(x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (k,) = lib.autograd.grad((h * x).sum(), x, allow_unused=True)
        return np.zeros_like(values) if k is None else _np(k)

    for fn in (lambda x: x.prod() * 1.0, lambda x: x.cumprod(0)):
        np.testing.assert_allclose(third(gradienti, fn), third(torch, fn), atol=1e-12)
