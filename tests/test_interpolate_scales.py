"""F.interpolate with scale factors whose output size is the input's (or twice it), and
float64 positions, against PyTorch: ATen computes the indices of its nearest forward, of its
nearest backward and of its 2-d nearest forward in different ways, copies a linear axis whose
size does not change, and copies the bicubic gradient when no size changes (ops/upsample.py).
Forward values, gradients under a non-uniform upstream gradient, and the backward's backward."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

CASES = [
    # 1-d nearest: the forward reads floor(i·0.83), the backward copies (3 -> 3)
    ("nearest", (1, 1, 3), {"scale_factor": 1.2}, "float32"),
    ("nearest", (2, 1, 5), {"scale_factor": 2.0000001}, "float32"),
    ("nearest", (1, 1, 3, 2, 1), {"scale_factor": (1.3333, 1.7, 4.1)}, "float64"),
    # 2-d nearest: forward and backward both copy (3 -> 3) and take i >> 1 (5 -> 10)
    ("nearest", (2, 2, 3, 5), {"scale_factor": (1.3333, 2.0000001)}, "float32"),
    ("nearest", (1, 1, 6, 3), {"scale_factor": (2.5, 1.3333)}, "float64"),
    # nearest-exact: the half-pixel source clamped at 0, then + ½, in the input's float type
    ("nearest-exact", (1, 1, 16), {"scale_factor": 2.3}, "float64"),
    ("nearest-exact", (1, 2, 3), {"scale_factor": 1.3333}, "float32"),
    # linear: an axis whose size does not change is copied, whatever the scale factor
    ("linear", (1, 1, 3), {"scale_factor": 1.3333}, "float32"),
    ("bilinear", (2, 1, 2, 3), {"scale_factor": (1.0, 1.2)}, "float64"),
    ("trilinear", (1, 1, 2, 3, 4), {"scale_factor": (1.2, 1.7, 1.1)}, "float32"),
    # bicubic: the forward interpolates, the backward copies when no size changes
    ("bicubic", (1, 1, 3, 4), {"scale_factor": 1.2}, "float32"),
    ("bicubic", (2, 1, 2, 1), {"scale_factor": (1.3333, 1.7)}, "float64"),
]


@pytest.mark.parametrize(("mode", "shape", "kwargs", "dtype"), CASES)
def test_interpolate_with_odd_scale_factors_matches_torch(mode, shape, kwargs, dtype):
    rng = np.random.default_rng(0)
    array = rng.standard_normal(shape).astype(dtype)
    ours = gradienti.tensor(array, requires_grad=True)
    theirs = torch.tensor(array, requires_grad=True)
    mine = gradienti.nn.functional.interpolate(ours, mode=mode, **kwargs)
    expected = torch.nn.functional.interpolate(theirs, mode=mode, **kwargs)
    # (float32 bicubic sums its weights in another order than ATen: a few ulps apart)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        mine.detach().numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance
    )
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    upstream_ours = gradienti.tensor(upstream, requires_grad=True)
    upstream_theirs = torch.tensor(upstream, requires_grad=True)
    (grad_ours,) = gradienti.autograd.grad(mine, ours, upstream_ours, create_graph=True)
    (grad_theirs,) = torch.autograd.grad(expected, theirs, upstream_theirs, create_graph=True)
    np.testing.assert_allclose(
        grad_ours.detach().numpy(), grad_theirs.detach().numpy(), rtol=tolerance, atol=tolerance
    )
    assert type(grad_ours.grad_fn).__name__ == type(grad_theirs.grad_fn).__name__
    # the backward's backward: the gradient of <gradient, w> with respect to the upstream
    weights = rng.standard_normal(shape).astype(dtype)
    (twice_ours,) = gradienti.autograd.grad(
        (grad_ours * gradienti.tensor(weights)).sum(), upstream_ours
    )
    (twice_theirs,) = torch.autograd.grad(
        (grad_theirs * torch.tensor(weights)).sum(), upstream_theirs
    )
    np.testing.assert_allclose(
        twice_ours.numpy(), twice_theirs.numpy(), rtol=tolerance, atol=tolerance
    )


@pytest.mark.parametrize(
    ("shape", "size"), [((1, 1, 4), (0,)), ((1, 1, 4, 4), (0, 2)), ((1, 1, 2, 2, 6), (1, 1, 0))]
)
def test_an_empty_output_is_refused_with_torchs_text(shape, size):
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.interpolate(torch.zeros(shape), size=size)
    with pytest.raises(RuntimeError) as ours:
        gradienti.nn.functional.interpolate(gradienti.zeros(shape), size=size)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    ("shape", "mode"),
    [
        ((1, 0, 4), "nearest"),
        ((0, 0, 4), "linear"),
        ((1, 0, 4, 4), "bicubic"),
        ((1, 0, 2, 2, 2), "trilinear"),
        ((0, 2, 4), "linear"),  # (an empty batch is fine)
    ],
)
def test_an_input_without_channels_is_refused_as_torch(shape, mode):
    def outcome(lib):
        try:
            out = lib.nn.functional.interpolate(lib.zeros(shape), size=3, mode=mode)
        except RuntimeError as error:
            return str(error)
        return tuple(out.shape)

    assert outcome(gradienti) == outcome(torch)


@pytest.mark.parametrize("form", ["tuple of a 0-d tensor", "a 0-d tensor", "tuple of a 1-d"])
def test_sizes_given_as_integral_tensors_are_taken_as_torch(form):
    def output_shape(lib):
        size = {
            "tuple of a 0-d tensor": (lib.tensor(6),),
            "a 0-d tensor": lib.tensor(6),
            "tuple of a 1-d": (lib.tensor([6]),),
        }[form]
        return tuple(lib.nn.functional.interpolate(lib.zeros(1, 1, 4), size=size).shape)

    assert output_shape(gradienti) == output_shape(torch)
