"""Convolution under saved-tensor hooks against PyTorch: the backward reads the input as
``unpack_hook`` gives it back, even when that is the input itself changed in place after the
forward (PyTorch does not check versions under hooks), so no value derived from the forward's
input (im2col's columns) may stand in for it."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

CASES = [
    ("conv2d", (2, 4, 8, 8), (6, 4, 3, 3), {}),
    ("conv2d", (2, 4, 8, 8), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ("conv2d", (2, 4, 8, 8), (8, 1, 3, 3), {"groups": 4, "stride": 2}),  # depthwise
    ("conv1d", (3, 4, 16), (5, 4, 3), {"dilation": 2}),
]


def _gradients(lib, name, x_shape, w_shape, kwargs, change_input):
    rng = np.random.default_rng(21)
    x0, w0 = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b0 = rng.standard_normal(w_shape[0])
    leaf = lib.tensor(x0, requires_grad=True)
    weight, bias = lib.tensor(w0, requires_grad=True), lib.tensor(b0, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        x = leaf * 1
        out = getattr(lib.nn.functional, name)(x, weight, bias, **kwargs)
    if change_input:
        with lib.no_grad():
            x.mul_(3)
    upstream = np.random.default_rng(22).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(upstream))
    return [t.grad.numpy() for t in (leaf, weight, bias)]


@pytest.mark.parametrize("change_input", [False, True])
@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kwargs"), CASES)
def test_identity_hooks_give_torch_gradients(name, x_shape, w_shape, kwargs, change_input):
    ours = _gradients(gradienti, name, x_shape, w_shape, kwargs, change_input)
    theirs = _gradients(torch, name, x_shape, w_shape, kwargs, change_input)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-10)
