"""cumsum and cumprod against torch: PyTorch's CPU kernels accumulate float16 in float32 and
float32 in float64, rounding each running value once, so long runs do not stall (a float16
running sum of ones would stop at 2048). Values are compared bit for bit; gradients (the
VJPs run the same accumulation) and second derivatives with non-uniform upstream gradients."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle


def _both(array):
    return gradienti.tensor(array), torch.tensor(array)


def _same(ours, theirs):
    mine, reference = ours.detach().numpy(), theirs.detach().numpy()
    assert mine.dtype == reference.dtype and mine.shape == reference.shape
    np.testing.assert_array_equal(mine, reference)


def test_float16_cumsum_of_ones_does_not_stall():
    ours, theirs = _both(np.ones(3000, dtype=np.float16))
    assert ours.cumsum(0)[-1].item() == theirs.cumsum(0)[-1].item() == 3000.0
    _same(ours.cumsum(0), theirs.cumsum(0))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_and_cumprod_bit_for_bit(dtype, dim):
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 0.1, (300, 200)).astype(dtype)
    factors = rng.uniform(0.99, 1.012, (300, 200)).astype(dtype)
    (xg, xt), (fg, ft) = _both(values), _both(factors)
    _same(xg.cumsum(dim), xt.cumsum(dim))
    _same(gradienti.cumsum(xg, dim), torch.cumsum(xt, dim))
    _same(fg.cumprod(dim), ft.cumprod(dim))


@pytest.mark.parametrize(
    ("source", "requested"),
    [("float32", "float16"), ("float16", "float32"), ("int32", "float16"), ("float64", "float32")],
)
def test_requested_dtype_converts_first(source, requested):
    values = np.random.default_rng(1).uniform(0, 3, 5000).astype(source)
    (xg, xt) = _both(values)
    _same(
        xg.cumsum(0, dtype=getattr(gradienti, requested)),
        xt.cumsum(0, dtype=getattr(torch, requested)),
    )
    _same(
        xg.cumprod(0, dtype=getattr(gradienti, requested)),
        xt.cumprod(0, dtype=getattr(torch, requested)),
    )


def _gradient(lib, values, upstream, op, create_graph=False):
    x = lib.tensor(values, requires_grad=True)
    (grad,) = lib.autograd.grad(
        getattr(x, op)(0), x, lib.tensor(upstream), create_graph=create_graph
    )
    return x, grad


@pytest.mark.parametrize("zero", [False, True], ids=["no-zero", "zero"])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_gradients_bit_for_bit(dtype, op, zero):
    """The VJPs accumulate as PyTorch's (a reversed cumsum; cumprod's below its first zero)."""
    values = np.random.default_rng(2).uniform(0.98, 1.02, 3000).astype(dtype)
    if zero:
        values[1000] = 0
    upstream = np.linspace(0.5, 1.5, 3000).astype(dtype)
    (_, ours), (_, theirs) = (_gradient(lib, values, upstream, op) for lib in (gradienti, torch))
    _same(ours, theirs)


@pytest.mark.parametrize("zero", [False, True], ids=["no-zero", "zero"])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_cumprod_second_derivative_as_torch(dtype, zero):
    values = np.random.default_rng(3).uniform(0.98, 1.02, 300).astype(dtype)
    if zero:
        values[100] = 0
    upstream = np.linspace(0.5, 1.5, 300).astype(dtype)
    mix = np.linspace(-1.0, 1.0, 300).astype(dtype)
    results = []
    for lib in (gradienti, torch):
        x, grad = _gradient(lib, values, upstream, "cumprod", create_graph=True)
        (second,) = lib.autograd.grad((grad * lib.tensor(mix)).sum(), x)
        results.append([grad.detach().numpy(), second.numpy()])
    # With a zero, both take an O(n^2) recorded path whose float16 products round in a
    # different order than PyTorch's: close, not bit for bit.
    tolerance = 1e-2 if dtype == "float16" else 1e-5
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(
            ours.astype(np.float64), theirs.astype(np.float64), rtol=tolerance, atol=tolerance
        )
