"""The further activations at their kinks and at NaN, against PyTorch 2.13: hardswish's
gradient at ±3 (and its second derivative there), threshold of a NaN, mish's second
derivative at 0 (ops/activation_more.py). NaN gradients that PyTorch's vectorised and scalar
kernels give differently (elu, hardshrink, ...) are left out: there is no one answer."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

POINTS = [-3.0, 3.0, -2.5, 2.5, 0.0, -4.0, 4.0, float("nan")]


def _first_and_second(lib, name, dtype, **kwargs):
    """The output, the gradient under a non-uniform upstream gradient, and the gradient of
    <gradient, w> with respect to the input (the backward's backward)."""
    x = lib.tensor(POINTS, dtype=getattr(lib, dtype), requires_grad=True)
    y = getattr(lib.nn.functional, name)(x, **kwargs)
    upstream = lib.linspace(0.5, 1.5, len(POINTS), dtype=getattr(lib, dtype))
    (grad,) = lib.autograd.grad(y, x, upstream, create_graph=True)
    weights = lib.linspace(-1.0, 2.0, len(POINTS), dtype=getattr(lib, dtype))
    second = None
    if grad.requires_grad:
        (second,) = lib.autograd.grad((grad * weights).sum(), x, allow_unused=True)
    finite = slice(0, len(POINTS) - 1)  # (the NaN's second derivative: kernel-dependent)
    return (
        y.detach().numpy(),
        grad.detach().numpy(),
        None if second is None else second.numpy()[finite],
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("hardswish", {}),
        ("threshold", {"threshold": 0.5, "value": -3.0}),
        ("threshold", {"threshold": 3.0, "value": 7.0}),
        ("mish", {}),
    ],
)
def test_kinks_and_nan_match_torch(name, kwargs, dtype):
    ours = _first_and_second(gradienti, name, dtype, **kwargs)
    theirs = _first_and_second(torch, name, dtype, **kwargs)
    if name != "threshold":  # (NaN's gradient there is kernel-dependent in PyTorch)
        ours = (ours[0], ours[1][:-1], ours[2])
        theirs = (theirs[0], theirs[1][:-1], theirs[2])
    for mine, expected in zip(ours, theirs):
        if expected is None or mine is None:  # (no graph on one side: a zero derivative)
            assert not np.any(expected) and not np.any(mine)
            continue
        # (float32: the composed second derivatives round differently)
        tolerance = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(mine, expected, rtol=tolerance, atol=tolerance)
