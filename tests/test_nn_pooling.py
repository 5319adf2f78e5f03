"""Pooling (max, average, adaptive average; 1-d and 2-d) against torch and finite differences."""

import numpy as np
import pytest

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pair(array, torch):
    """The same values as a gradienti leaf and a torch leaf (float ones require grad)."""
    floating = array.dtype.kind == "f"
    return (
        gradienti.tensor(array.copy(), requires_grad=floating),
        torch.tensor(array.copy(), requires_grad=floating),
    )


def _close(ours, theirs, tol):
    ours = ours.detach().numpy() if hasattr(ours, "detach") else ours
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=tol, atol=tol)


def _check_against_torch(torch, name, array, *args, tol=1e-12, **kwargs):
    """Forward (values, indices, shape, dtype, grad_fn name) and the input gradient for a
    random non-uniform upstream gradient, F.<name> vs torch.nn.functional.<name>."""
    ours_in, theirs_in = _pair(array, torch)
    ours = getattr(F, name)(ours_in, *args, **kwargs)
    theirs = getattr(torch.nn.functional, name)(theirs_in, *args, **kwargs)
    if isinstance(theirs, tuple):
        assert ours[1].dtype == gradienti.int64 and not ours[1].requires_grad
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
        ours, theirs = ours[0], theirs[0]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    _close(ours, theirs, tol)
    if not theirs.requires_grad:
        assert ours.grad_fn is None
        return
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    upstream = _rng(1).standard_normal(tuple(theirs.shape)).astype(array.dtype)
    ours.backward(gradienti.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    assert ours_in.grad.dtype == ours_in.dtype
    _close(ours_in.grad, theirs_in.grad, tol)


def _distinct(shape, seed=0):
    """float64 values spaced 0.1 apart in random order: no ties, safe for finite differences."""
    count = int(np.prod(shape))
    return _rng(seed).permutation(count).reshape(shape) / 10.0


# ------------------------------------------------------------------------- max_pool2d
MAX_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=2)),  # rows and a column left over
    ((2, 3, 9, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=1, padding=1)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ((1, 2, 7, 9), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True)),
    ((2, 2, 9, 9), dict(kernel_size=3, stride=2, dilation=2)),
    ((2, 2, 9, 10), dict(kernel_size=(2, 3), dilation=(3, 2), padding=(1, 1), ceil_mode=True)),
    ((2, 2, 10, 10), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)),
    ((1, 1, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 6, 6), dict(kernel_size=4, stride=1)),
    ((2, 3, 6, 6), dict(kernel_size=1)),
    ((2, 3, 6, 6), dict(kernel_size=[2], stride=[3], padding=[1], dilation=[2])),
    ((3, 8, 7), dict(kernel_size=2)),  # unbatched
    ((3, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((0, 2, 4, 4), dict(kernel_size=2)),  # an empty batch
    ((2, 3, 8, 8), dict(kernel_size=2, return_indices=True)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    ((3, 7, 9), dict(kernel_size=(2, 3), dilation=2, ceil_mode=True, return_indices=True)),
]


@pytest.mark.parametrize("shape, kwargs", MAX_CASES)
def test_max_pool2d_matches_torch(torch, shape, kwargs):
    _check_against_torch(torch, "max_pool2d", _rng().standard_normal(shape), **kwargs)


@pytest.mark.parametrize("shape, kwargs", MAX_CASES[:12])
def test_max_pool2d_ties_go_to_the_first_maximum(torch, shape, kwargs):
    # Few distinct values: most windows hold their maximum more than once.
    array = _rng(2).integers(0, 3, shape).astype(np.float64)
    _check_against_torch(torch, "max_pool2d", array, return_indices=True, **kwargs)


def test_max_pool2d_nan_and_infinities_choose_as_torch(torch):
    array = _rng().standard_normal((2, 2, 6, 6))
    array[0, 0, :2, :2] = np.nan  # a window of NaNs: the last one wins
    array[0, 1, 0, 1] = array[0, 1, 3, 4] = array[1, 0, 5, 5] = np.nan
    array[1, 1] = -np.inf  # nothing beats -inf: the first tap inside the input
    array[1, 0, 2:4, 2:4] = np.inf
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)):
        _check_against_torch(torch, "max_pool2d", array, return_indices=True, **kwargs)


def test_max_pool2d_window_without_input_elements(torch):
    # One column, a dilated kernel over the left padding: the second tap is past the input.
    _check_against_torch(
        torch,
        "max_pool2d",
        np.array([[[1.0, 2.0]]]),
        kernel_size=(1, 2),
        stride=1,
        padding=(0, 1),
        dilation=(1, 3),
        return_indices=True,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.int32, np.uint8])
def test_max_pool2d_dtypes(torch, dtype):
    array = (_rng().standard_normal((2, 3, 7, 7)) * 50).astype(dtype)
    tol = {np.float32: 1e-6, np.float16: 1e-3}.get(dtype, 0)
    _check_against_torch(torch, "max_pool2d", array, 3, 2, 1, return_indices=True, tol=tol)


def test_max_pool2d_float32_fast_path_and_strided_input(torch):
    array = _rng().standard_normal((4, 8, 16, 16)).astype(np.float32)
    _check_against_torch(torch, "max_pool2d", array, 2, tol=1e-6)
    # A non-contiguous input (channels and width swapped) pools the same.
    ours = F.max_pool2d(gradienti.tensor(array).transpose(1, 3), 2)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(array).transpose(1, 3), 2)
    _close(ours, theirs, 0)


# ------------------------------------------------------------------------- avg_pool2d
AVG_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=1, padding=1)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (
        (2, 3, 9, 8),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 7, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ((1, 2, 7, 9), dict(kernel_size=(3, 2), stride=(3, 1), padding=(1, 0), ceil_mode=True)),
    ((2, 3, 8, 8), dict(kernel_size=2, divisor_override=3)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=2, padding=1, divisor_override=-2)),
    ((2, 3, 8, 9), dict(kernel_size=3, padding=1, ceil_mode=True, divisor_override=5)),
    ((2, 3, 6, 6), dict(kernel_size=6)),
    ((2, 3, 6, 6), dict(kernel_size=[2], stride=[1, 2], padding=[1])),
    ((3, 8, 7), dict(kernel_size=2)),  # unbatched
    ((3, 8, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((0, 2, 4, 4), dict(kernel_size=2)),
]


@pytest.mark.parametrize("shape, kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(torch, shape, kwargs):
    _check_against_torch(torch, "avg_pool2d", _rng().standard_normal(shape), **kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_avg_pool2d_keeps_float_dtype(torch, dtype):
    array = _rng().standard_normal((2, 3, 9, 9)).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 2e-3
    _check_against_torch(torch, "avg_pool2d", array, 3, 2, 1, tol=tol)
    _check_against_torch(torch, "avg_pool2d", array, 3, 3, tol=tol)


def test_avg_pool2d_integer_division_truncates(torch):
    array = _rng().integers(-20, 20, (2, 3, 7, 7))  # int64, the one integer type torch takes
    for kwargs in (dict(), dict(count_include_pad=False), dict(divisor_override=-3)):
        _check_against_torch(torch, "avg_pool2d", array, 3, 2, 1, tol=0, **kwargs)


# ---------------------------------------------------------------- adaptive_avg_pool2d
ADAPTIVE_CASES = [
    ((2, 3, 8, 8), 4),
    ((2, 3, 8, 8), (2, 4)),
    ((2, 3, 7, 9), (3, 4)),  # windows that overlap
    ((2, 3, 7, 9), (5, 2)),
    ((2, 3, 5, 6), (7, 8)),  # larger than the input: windows repeat elements
    ((2, 3, 7, 9), (None, 4)),
    ((2, 3, 7, 9), [3, None]),
    ((2, 3, 7, 9), (None, None)),
    ((2, 3, 7, 9), 1),  # the mean shortcut
    ((2, 3, 7, 9), (1, 1)),
    ((2, 3, 7, 9), (1, 3)),
    ((3, 7, 9), (2, 5)),  # unbatched
    ((3, 7, 9), 1),
    ((0, 3, 4, 4), 2),
]


@pytest.mark.parametrize("shape, output_size", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_matches_torch(torch, shape, output_size):
    array = _rng().standard_normal(shape)
    _check_against_torch(torch, "adaptive_avg_pool2d", array, output_size)


@pytest.mark.parametrize("shape, output_size", [((2, 0, 4, 4), 2), ((2, 3, 4, 4), (0, 3))])
def test_adaptive_avg_pool2d_empty_output_has_zero_gradient(torch, shape, output_size):
    # PyTorch computes these outputs but refuses their backward ("Expected grad_output to have
    # non-zero size for non-batch dimensions"); the gradient of nothing is zero, given here.
    array = _rng().standard_normal(shape)
    ours_in, theirs_in = _pair(array, torch)
    ours = F.adaptive_avg_pool2d(ours_in, output_size)
    theirs = torch.nn.functional.adaptive_avg_pool2d(theirs_in, output_size)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.numel() == 0
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    ours.sum().backward()
    np.testing.assert_array_equal(ours_in.grad.numpy(), np.zeros(shape))


def test_adaptive_avg_pool2d_float32_and_float16(torch):
    array = _rng().standard_normal((2, 3, 10, 7))
    _check_against_torch(torch, "adaptive_avg_pool2d", array.astype(np.float32), (3, 4), tol=1e-6)
    _check_against_torch(torch, "adaptive_avg_pool2d", array.astype(np.float16), (3, 4), tol=2e-3)


def test_adaptive_avg_pool2d_mean_shortcut_on_2d_input(torch):
    # An output of 1 is a mean over the last two dimensions in PyTorch, whatever their number.
    _check_against_torch(torch, "adaptive_avg_pool2d", _rng().standard_normal((5, 6)), 1)


# --------------------------------------------------------------------------- 1-d forms
@pytest.mark.parametrize(
    "name, shape, kwargs",
    [
        ("max_pool1d", (2, 3, 9), dict(kernel_size=2)),
        ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ("max_pool1d", (3, 9), dict(kernel_size=2, dilation=3, return_indices=True)),
        ("max_pool1d", (2, 3, 9), dict(kernel_size=(3,), stride=[1], return_indices=True)),
        ("avg_pool1d", (2, 3, 9), dict(kernel_size=2)),
        ("avg_pool1d", (3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, padding=1, count_include_pad=False)),
        ("adaptive_avg_pool1d", (2, 3, 9), dict(output_size=4)),
        ("adaptive_avg_pool1d", (3, 9), dict(output_size=(5,))),
        ("adaptive_avg_pool1d", (2, 3, 9), dict(output_size=1)),
    ],
)
def test_pool1d_matches_torch(torch, name, shape, kwargs):
    _check_against_torch(torch, name, _rng().standard_normal(shape), **kwargs)


# ------------------------------------------------------------ finite differences (float64)
GRADCHECK_CASES = [
    ("max_pool2d", (2, 5, 6), dict(kernel_size=2)),
    ("max_pool2d", (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 7, 6), dict(kernel_size=(2, 3), stride=1, dilation=(2, 1))),
    ("avg_pool2d", (2, 5, 6), dict(kernel_size=2)),
    ("avg_pool2d", (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (1, 2, 6, 7), dict(kernel_size=3, padding=1, count_include_pad=False)),
    ("avg_pool2d", (1, 2, 6, 6), dict(kernel_size=(2, 3), stride=1, divisor_override=4)),
    ("adaptive_avg_pool2d", (1, 2, 7, 6), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 5, 4), dict(output_size=(6, 3))),
    ("max_pool1d", (2, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool1d", (2, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("adaptive_avg_pool1d", (2, 9), dict(output_size=4)),
]


@pytest.mark.parametrize("name, shape, kwargs", GRADCHECK_CASES)
def test_gradcheck_and_gradgradcheck(name, shape, kwargs):
    x = gradienti.tensor(_distinct(shape), requires_grad=True)

    def pooled(t):
        return getattr(F, name)(t, **kwargs)

    assert gradcheck(pooled, (x,))
    assert gradgradcheck(pooled, (x,))


@pytest.mark.parametrize(
    "name, args, backward_name",
    [
        ("max_pool2d", (3, 2, 1), "MaxPool2DWithIndicesBackwardBackward0"),
        ("avg_pool2d", (3, 2, 1), "AvgPool2DBackwardBackward0"),
        ("adaptive_avg_pool2d", ((3, 4),), "AdaptiveAvgPool2DBackwardBackward0"),
    ],
)
def test_double_backward_matches_torch(torch, name, args, backward_name):
    array = _distinct((2, 2, 7, 8))
    ours_x, theirs_x = _pair(array, torch)
    ours_y = getattr(F, name)(ours_x, *args)
    theirs_y = getattr(torch.nn.functional, name)(theirs_x, *args)
    upstream = _rng(3).standard_normal(tuple(theirs_y.shape))
    ours_g, theirs_g = _pair(upstream, torch)
    (ours_dx,) = gradienti.autograd.grad(ours_y, ours_x, ours_g, create_graph=True)
    (theirs_dx,) = torch.autograd.grad(theirs_y, theirs_x, theirs_g, create_graph=True)
    assert ours_dx.grad_fn.name() == theirs_dx.grad_fn.name() == backward_name
    _close(ours_dx, theirs_dx, 1e-12)
    # Through the VJP to the upstream gradient (the input's second derivative is zero).
    weight = _rng(4).standard_normal(array.shape)
    ours_w, theirs_w = _pair(weight, torch)
    (ours_dg,) = gradienti.autograd.grad((ours_dx * ours_w).sum(), ours_g, create_graph=True)
    (theirs_dg,) = torch.autograd.grad((theirs_dx * theirs_w).sum(), theirs_g, create_graph=True)
    _close(ours_dg, theirs_dg, 1e-12)
    # And a third time: the gradient of that with respect to the weights.
    third = _rng(5).standard_normal(tuple(theirs_y.shape))
    (ours_dw,) = gradienti.autograd.grad(ours_dg, ours_w, gradienti.tensor(third))
    (theirs_dw,) = torch.autograd.grad(theirs_dg, theirs_w, torch.tensor(third))
    _close(ours_dw, theirs_dw, 1e-12)


def test_backward_twice_raises_and_retain_graph_allows_it():
    for pooled in (
        lambda t: F.max_pool2d(t, 2),
        lambda t: F.avg_pool2d(t, 2),
        lambda t: F.adaptive_avg_pool2d(t, 3),
    ):
        x = gradienti.tensor(_distinct((1, 4, 4)), requires_grad=True)
        y = pooled(x).sum()
        y.backward(retain_graph=True)
        first = x.grad.numpy().copy()
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


def test_no_grad_and_parameter_inputs():
    array = _distinct((2, 3, 6, 6))
    with gradienti.no_grad():
        plain = F.max_pool2d(gradienti.tensor(array, requires_grad=True), 3, 2, 1)
    assert plain.grad_fn is None and not plain.requires_grad
    weight = nn.Parameter(gradienti.tensor(array))
    out = F.max_pool2d(weight, 3, 2, 1)
    np.testing.assert_array_equal(out.detach().numpy(), plain.numpy())
    out.sum().backward()
    assert weight.grad.shape == weight.shape and weight.grad.sum().item() == out.numel()


# ------------------------------------------------------------------------------ errors
def _x(*shape, dtype=np.float64):
    return np.ones(shape, dtype=dtype)


ERROR_CASES = [
    ("max_pool2d", _x(2, 3, 5, 5), (3,), dict(padding=2)),
    ("max_pool2d", _x(2, 3, 5, 5), (3,), dict(padding=-1)),
    ("max_pool2d", _x(2, 3, 5, 5), (0,), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (0, 1), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (-1, 1), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2,), dict(stride=0)),
    ("max_pool2d", _x(2, 3, 5, 5), (2,), dict(stride=-1)),
    ("max_pool2d", _x(2, 3, 5, 5), (2,), dict(dilation=0)),
    ("max_pool2d", _x(2, 3, 5, 5), (3,), dict(stride=1, padding=1, dilation=-1)),
    ("max_pool2d", _x(2, 3, 7, 7), (2, 1, 2, 3), {}),
    ("max_pool2d", _x(2, 3, 5, 5), ((2, 2, 2),), {}),
    ("max_pool2d", _x(2, 3, 5, 5), ((),), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2, (1, 1, 1)), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2, 2, []), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2, 1, 0, (1, 1, 1)), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (6,), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (3,), dict(dilation=3)),
    ("max_pool2d", _x(5, 5), (2,), {}),
    ("max_pool2d", _x(1, 2, 3, 5, 5), (2,), {}),
    ("max_pool2d", _x(2, 0, 4, 4), (2,), {}),
    ("max_pool2d", _x(2, 3, 0, 4), (2,), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2.0,), {}),
    ("max_pool2d", _x(2, 3, 5, 5), ([2.0, 2],), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (True,), {}),
    ("max_pool2d", _x(2, 3, 5, 5), ((True, 2),), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2, 2.0), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2, 2, 1.0), {}),
    ("max_pool2d", _x(2, 3, 5, 5), (2,), dict(ceil_mode=1)),
    ("max_pool2d", _x(2, 3, 5, 5), (2.0,), dict(return_indices=True)),
    ("max_pool2d", _x(1, 4, 4, dtype=np.bool_), (2,), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (3,), dict(padding=2)),
    ("avg_pool2d", _x(2, 3, 5, 5), (0,), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (0, 1), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, -1), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, 1, -1), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), ((2, 2, 2),), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, (1, 1, 1)), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, 1, (1, 1, 1)), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (6,), {}),
    ("avg_pool2d", _x(5), (2,), {}),
    ("avg_pool2d", _x(5, 5), (2,), {}),
    ("avg_pool2d", _x(1, 2, 3, 5, 5), (2,), {}),
    ("avg_pool2d", _x(2, 3, 0, 4), (2,), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2,), dict(divisor_override=0)),
    ("avg_pool2d", _x(2, 3, 5, 5), (2,), dict(divisor_override=2.5)),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, 2, 0, 1), {}),
    ("avg_pool2d", _x(2, 3, 5, 5), (2, 2, 0, False, 1), {}),
    ("avg_pool2d", _x(1, 4, 4, dtype=np.uint8), (2,), {}),
    ("avg_pool2d", _x(1, 4, 4, dtype=np.int32), (2,), {}),
    ("avg_pool2d", _x(1, 4, 4, dtype=np.bool_), (2,), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), ((1, 2, 3),), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), ((2,),), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), (-1,), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), ((None, -1),), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), (None,), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), (2.0,), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), ((2.0, 2),), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 5, 5), (True,), {}),
    ("adaptive_avg_pool2d", _x(5, 5), (2,), {}),
    ("adaptive_avg_pool2d", _x(5, 5), ((1, 1),), {}),
    ("adaptive_avg_pool2d", _x(5), (1,), {}),
    ("adaptive_avg_pool2d", _x(1, 2, 3, 5, 5), (2,), {}),
    ("adaptive_avg_pool2d", _x(2, 3, 0, 4), (2,), {}),
    ("adaptive_avg_pool2d", _x(1, 4, 4, dtype=np.int64), (2,), {}),
    ("adaptive_avg_pool2d", _x(1, 4, 4, dtype=np.int64), (1,), {}),
    ("max_pool1d", _x(2, 3, 7), (8,), {}),
    ("max_pool1d", _x(2, 3, 7), (3,), dict(padding=2)),
    ("max_pool1d", _x(2, 3, 7), (3,), dict(stride=1, padding=2, dilation=2)),
    ("max_pool1d", _x(2, 3, 7), (0,), {}),
    ("max_pool1d", _x(2, 3, 7), (2, 0), {}),
    ("max_pool1d", _x(2, 3, 7), (2, 1, -1), {}),
    ("max_pool1d", _x(2, 3, 7), (2, 1, 0, 0), {}),
    ("max_pool1d", _x(2, 3, 7), ((2, 2),), {}),
    ("max_pool1d", _x(2, 3, 7), (2, (1, 1)), {}),
    ("max_pool1d", _x(2, 3, 7), (2, 1, (1, 1)), {}),
    ("max_pool1d", _x(2, 3, 7), (2, 1, 0, (1, 1)), {}),
    ("max_pool1d", _x(7), (2,), {}),
    ("max_pool1d", _x(2, 3, 7, 7), (2,), {}),
    ("max_pool1d", _x(2, 0, 7), (2,), {}),
    ("max_pool1d", _x(2, 3, 7), (3.0,), {}),
    ("max_pool1d", _x(2, 3, 7), (8,), dict(return_indices=True)),
    ("max_pool1d", _x(2, 3, 7, 7), (2,), dict(return_indices=True)),
    ("max_pool1d", _x(2, 0, 7), (2,), dict(return_indices=True)),
    ("max_pool1d", _x(2, 3, 7), ((3, 3),), dict(return_indices=True)),
    ("avg_pool1d", _x(2, 3, 7), ((2, 2),), {}),
    ("avg_pool1d", _x(2, 3, 7), (3, (1, 1)), {}),
    ("avg_pool1d", _x(2, 3, 7), (3, 1, 2), {}),
    ("avg_pool1d", _x(2, 3, 7), (8,), {}),
    ("avg_pool1d", _x(7), (2,), {}),
    ("avg_pool1d", _x(2, 3, 7, 7), (2,), {}),
    ("avg_pool1d", _x(2, 3, 7), (3.0,), {}),
    ("adaptive_avg_pool1d", _x(2, 3, 7), ((2, 2),), {}),
    ("adaptive_avg_pool1d", _x(2, 3, 7), (None,), {}),
    ("adaptive_avg_pool1d", _x(2, 3, 7), (-1,), {}),
    ("adaptive_avg_pool1d", _x(2, 3, 0), (3,), {}),
    ("adaptive_avg_pool1d", _x(7), (2,), {}),
    ("adaptive_avg_pool1d", _x(2, 3, 7, 7), (2,), {}),
]


@pytest.mark.parametrize("name, array, args, kwargs", ERROR_CASES)
def test_errors_match_torch(torch, name, array, args, kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(torch.nn.functional, name)(torch.tensor(array), *args, **kwargs)
    with pytest.raises(Exception) as ours:
        getattr(F, name)(gradienti.tensor(array), *args, **kwargs)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value).split("\n")[0]


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"])
def test_non_tensor_input_error_matches_torch(torch, name):
    with pytest.raises(TypeError) as theirs:
        getattr(torch.nn.functional, name)([[[1.0, 2.0]]], 1)
    with pytest.raises(TypeError) as ours:
        getattr(F, name)([[[1.0, 2.0]]], 1)
    assert str(ours.value) == str(theirs.value)


# ----------------------------------------------------------------------------- modules
MODULES = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3), 1, 1, 2, True, True), {}),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool2d", ([2, 2],), dict(stride=None)),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1, True, False, 2), {}),
    ("AvgPool2d", ((2, 3), (1, 2), (1, 1)), dict(divisor_override=3)),
    ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool2d", ((2, None),), {}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}),
    ("MaxPool1d", (3, 2, 1, 2, True, True), {}),
    ("MaxPool1d", (2,), {}),
    ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AvgPool1d", ([2],), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_module_matches_torch(torch, name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in theirs.__constants__:
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    shape = (2, 3, 9) if name.endswith("1d") else (2, 3, 9, 8)
    ours_x, theirs_x = _pair(_rng().standard_normal(shape), torch)
    ours_y, theirs_y = ours(ours_x), theirs(theirs_x)
    if isinstance(theirs_y, tuple):
        np.testing.assert_array_equal(ours_y[1].numpy(), theirs_y[1].numpy())
        ours_y, theirs_y = ours_y[0], theirs_y[0]
    _close(ours_y, theirs_y, 1e-12)
    upstream = _rng(1).standard_normal(tuple(theirs_y.shape))
    ours_y.backward(gradienti.tensor(upstream))
    theirs_y.backward(torch.tensor(upstream))
    _close(ours_x.grad, theirs_x.grad, 1e-12)


def test_modules_in_a_small_cnn_repr(torch):
    def build(library):
        return library.nn.Sequential(
            library.nn.MaxPool2d(2),
            library.nn.AvgPool2d(3, stride=1, padding=1),
            library.nn.AdaptiveAvgPool2d((2, 2)),
            library.nn.Flatten(),
        )

    ours, theirs = build(gradienti), build(torch)
    assert repr(ours) == repr(theirs)
    ours_x, theirs_x = _pair(_rng().standard_normal((2, 3, 8, 8)).astype(np.float32), torch)
    _close(ours(ours_x), theirs(theirs_x), 1e-6)
    assert list(ours.parameters()) == [] and ours.state_dict() == {}
