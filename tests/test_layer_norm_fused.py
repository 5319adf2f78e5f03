"""LayerNorm's and BatchNorm's array backward (computed in place) against PyTorch:
every combination of weight and bias, one or two normalised axes, a non-contiguous input,
float32 and float64, with a non-uniform upstream gradient."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

SHAPE = (3, 4, 6)


def _run(lib, x0, upstream, normalized_shape, weight0, bias0, transpose):
    x = lib.tensor(x0, requires_grad=True)
    weight = None if weight0 is None else lib.tensor(weight0, requires_grad=True)
    bias = None if bias0 is None else lib.tensor(bias0, requires_grad=True)
    source = x.transpose(0, 1) if transpose else x  # a non-contiguous input
    out = lib.nn.functional.layer_norm(source, normalized_shape, weight, bias, 1e-5)
    (out * lib.tensor(upstream)).sum().backward()
    grads = [x.grad] + [p.grad for p in (weight, bias) if p is not None]
    return [out.detach().numpy()] + [grad.numpy() for grad in grads]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalized_shape", [(6,), (3, 6)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("transpose", [False, True])
def test_layer_norm_gradients_match_torch(dtype, normalized_shape, affine, transpose):
    rng = np.random.default_rng(7)
    x0 = rng.standard_normal(SHAPE).astype(dtype)
    out_shape = (SHAPE[1], SHAPE[0], SHAPE[2]) if transpose else SHAPE
    if normalized_shape == (3, 6) and not transpose:
        normalized_shape = (4, 6)
    upstream = rng.standard_normal(out_shape).astype(dtype)
    weight0 = rng.uniform(0.5, 1.5, normalized_shape).astype(dtype)
    bias0 = rng.uniform(-0.5, 0.5, normalized_shape).astype(dtype)
    weight0 = weight0 if affine in ("both", "weight") else None
    bias0 = bias0 if affine in ("both", "bias") else None
    ours = _run(gradienti, x0, upstream, normalized_shape, weight0, bias0, transpose)
    theirs = _run(torch, x0, upstream, normalized_shape, weight0, bias0, transpose)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)


def test_layer_norm_backward_leaves_the_upstream_gradient_unchanged():
    # the in-place steps write only into the backward's own temporaries
    rng = np.random.default_rng(3)
    x = gradienti.tensor(rng.standard_normal((5, 8)), requires_grad=True)
    upstream = gradienti.tensor(rng.standard_normal((5, 8)))
    before = upstream.numpy().copy()
    for weight in (None, gradienti.ones(8, dtype=gradienti.float64)):
        x.grad = None
        gradienti.nn.functional.layer_norm(x, (8,), weight).backward(upstream)
        np.testing.assert_array_equal(upstream.numpy(), before)


def _batch_norm_run(lib, x0, upstream, weight0, bias0, transpose):
    x = lib.tensor(x0, requires_grad=True)
    weight = None if weight0 is None else lib.tensor(weight0, requires_grad=True)
    bias = None if bias0 is None else lib.tensor(bias0, requires_grad=True)
    running_mean, running_var = lib.zeros(x0.shape[1], dtype=x.dtype), lib.ones(x0.shape[1])
    source = x.transpose(2, 3) if transpose else x  # a non-contiguous input
    out = lib.nn.functional.batch_norm(
        source, running_mean, running_var.to(x.dtype), weight, bias, training=True
    )
    (out * lib.tensor(upstream)).sum().backward()
    grads = [x.grad] + [p.grad for p in (weight, bias) if p is not None]
    return [out.detach().numpy(), running_mean.numpy()] + [grad.numpy() for grad in grads]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("transpose", [False, True])
def test_batch_norm_training_gradients_match_torch(dtype, affine, transpose):
    rng = np.random.default_rng(11)
    x0 = rng.standard_normal((4, 3, 5, 5)).astype(dtype)
    upstream = rng.standard_normal((4, 3, 5, 5)).astype(dtype)
    weight0 = rng.uniform(0.5, 1.5, 3).astype(dtype) if affine in ("both", "weight") else None
    bias0 = rng.uniform(-0.5, 0.5, 3).astype(dtype) if affine in ("both", "bias") else None
    ours = _batch_norm_run(gradienti, x0, upstream, weight0, bias0, transpose)
    theirs = _batch_norm_run(torch, x0, upstream, weight0, bias0, transpose)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)
