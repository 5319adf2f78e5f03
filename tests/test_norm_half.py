"""float16 batch_norm, layer_norm and instance_norm against torch: ATen's CPU kernels compute
in float32 (opmath) and round each result once, so a large group neither overflows (6,000
values near 200 sum past float16's 65504) nor loses its mean to rounding. Outputs, the saved
mean and rstd (dtype and values), the running statistics, and the gradients of input, weight
and bias under a non-uniform upstream gradient."""

import numpy as np
import pytest
from torch_oracle import to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def assert_half_close(g, t, tol=2e-3):
    """Equal dtypes and values within a couple of float16 ulps (relative to the magnitude)."""
    assert g.dtype.name == str(t.dtype).replace("torch.", "")
    expected = t.detach().float().numpy()
    actual = np.asarray(g.detach().numpy(), dtype=np.float32)
    assert not np.isnan(actual).any()
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * max(1.0, abs(expected).max()))


def half_input(torch, shape, center, spread=0.5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator) * spread + center).half()


def half_param(torch, size, seed):
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(size, generator=generator) + 0.5).half().requires_grad_()


def backward_both(torch, yt, yg, seed=7):
    generator = torch.Generator().manual_seed(seed)
    upstream = torch.randn(yt.shape, generator=generator).half()
    yt.backward(upstream)
    yg.backward(to_g(upstream))


@pytest.mark.parametrize(("shape", "center"), [((2, 6000), 200.0), ((3, 64), 300.0)])
def test_layer_norm_half_computes_in_float32(torch, shape, center):
    xt = half_input(torch, shape, center).requires_grad_()
    wt, bt = half_param(torch, shape[1:], 1), half_param(torch, shape[1:], 2)
    xg, wg, bg = to_g(xt, True), to_g(wt, True), to_g(bt, True)
    yt = torch.nn.functional.layer_norm(xt, shape[1:], wt, bt)
    yg = F.layer_norm(xg, shape[1:], wg, bg)
    assert_half_close(yg, yt)
    for name in ("_saved_result1", "_saved_result2"):
        saved_g, saved_t = getattr(yg.grad_fn, name), getattr(yt.grad_fn, name)
        assert tuple(saved_g.shape) == tuple(saved_t.shape)
        assert_half_close(saved_g, saved_t)
    backward_both(torch, yt, yg)
    for g, t in ((xg, xt), (wg, wt), (bg, bt)):
        assert_half_close(g.grad, t.grad)


@pytest.mark.parametrize(("shape", "center"), [((6000, 2), 200.0), ((16, 3, 2, 2), 300.0)])
def test_batch_norm_half_training_computes_in_float32(torch, shape, center):
    channels = shape[1]
    xt = half_input(torch, shape, center).requires_grad_()
    wt, bt = half_param(torch, channels, 1), half_param(torch, channels, 2)
    xg, wg, bg = to_g(xt, True), to_g(wt, True), to_g(bt, True)
    running_t = [torch.full((channels,), 150.0).half(), torch.full((channels,), 0.5).half()]
    running_g = [to_g(stat) for stat in running_t]
    yt = torch.nn.functional.batch_norm(xt, *running_t, wt, bt, training=True)
    yg = F.batch_norm(xg, *running_g, wg, bg, training=True)
    assert_half_close(yg, yt)
    for g, t in zip(running_g, running_t):
        assert_half_close(g, t)
    for name in ("_saved_result1", "_saved_result2"):
        assert_half_close(getattr(yg.grad_fn, name), getattr(yt.grad_fn, name))
    backward_both(torch, yt, yg)
    for g, t in ((xg, xt), (wg, wt), (bg, bt)):
        assert_half_close(g.grad, t.grad)


def test_batch_norm_half_eval_uses_float32_running_statistics(torch):
    xt = half_input(torch, (8, 3, 5), 20.0, spread=2.0).requires_grad_()
    wt = half_param(torch, 3, 1)
    xg, wg = to_g(xt, True), to_g(wt, True)
    running_t = [torch.tensor([19.5, 20.0, 20.5]).half(), torch.tensor([3.0, 4.0, 0.001]).half()]
    yt = torch.nn.functional.batch_norm(xt, *running_t, wt, None, training=False, eps=1e-3)
    yg = F.batch_norm(xg, *[to_g(s) for s in running_t], wg, None, training=False, eps=1e-3)
    assert_half_close(yg, yt)
    for name in ("_saved_result1", "_saved_result2"):  # empty outside training, in half
        saved_g, saved_t = getattr(yg.grad_fn, name), getattr(yt.grad_fn, name)
        assert tuple(saved_g.shape) == (0,)
        assert saved_g.dtype == gradienti.float16 and saved_t.dtype == torch.float16
    backward_both(torch, yt, yg)
    assert_half_close(xg.grad, xt.grad)
    assert_half_close(wg.grad, wt.grad)


def test_instance_norm_half_large_instances(torch):
    xt = half_input(torch, (2, 3, 4000), 200.0).requires_grad_()
    xg = to_g(xt, True)
    tmodule = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True).half()
    gmodule = nn.InstanceNorm1d(3, affine=True, track_running_stats=True).half()
    yt, yg = tmodule(xt), gmodule(xg)
    assert_half_close(yg, yt)
    assert_half_close(gmodule.running_mean, tmodule.running_mean)
    assert_half_close(gmodule.running_var, tmodule.running_var)
    backward_both(torch, yt, yg)
    assert_half_close(xg.grad, xt.grad)
    assert_half_close(gmodule.weight.grad, tmodule.weight.grad)


def test_float32_statistics_stay_float32(torch):
    xt = torch.randn(4, 6)
    yg = F.layer_norm(to_g(xt, True), (6,))
    yt = torch.nn.functional.layer_norm(xt.requires_grad_(), (6,))
    assert yg.grad_fn._saved_result1.dtype == gradienti.float32
    np.testing.assert_allclose(
        yg.grad_fn._saved_result2.numpy(), yt.grad_fn._saved_result2.detach().numpy(), rtol=1e-5
    )
