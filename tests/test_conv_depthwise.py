"""The depthwise convolution's own kernels (ops/conv_depthwise.py: groups equal to the input's
channels) against PyTorch: values and gradients with a non-uniform upstream gradient, for
stride, padding, dilation, bias and channel multipliers, blocks of every shape, float32, some
inputs only, double backward, vmap and batched gradients."""

import numpy as np
import pytest
from torch_oracle import assert_close, to_g

import gradienti
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck
from gradienti.ops import conv_depthwise

torch = pytest.importorskip("torch")  # the oracle (these tests compare with PyTorch)
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts the calls of the depthwise kernels (so a test knows that they ran)."""
    calls = {"forward": 0, "input_grad": 0, "weight_grad": 0}
    for name in calls:
        original = getattr(conv_depthwise, name)

        def counted(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(conv_depthwise, name, counted)
    return calls


def run_both(x_shape, w_shape, kwargs, bias=True, dtype=torch.float64, needs=(1, 1, 1)):
    """Forward and backward (random upstream gradient) in torch and gradienti; the pairs
    (ours, torch's) of the output and each gradient."""
    torch.manual_seed(sum(x_shape) + 7 * sum(w_shape))
    x = torch.randn(*x_shape, dtype=dtype).requires_grad_(bool(needs[0]))
    w = torch.randn(*w_shape, dtype=dtype).requires_grad_(bool(needs[1]))
    b = torch.randn(w_shape[0], dtype=dtype).requires_grad_(bool(needs[2])) if bias else None
    xg, wg = to_g(x, x.requires_grad), to_g(w, w.requires_grad)
    bg = to_g(b, b.requires_grad) if bias else None
    conv_g, conv_t = (F.conv1d, TF.conv1d) if len(w_shape) == 3 else (F.conv2d, TF.conv2d)
    ours = conv_g(xg, wg, bg, **kwargs)
    theirs = conv_t(x, w, b, **kwargs)
    upstream = torch.randn(theirs.shape, dtype=dtype)
    theirs.backward(upstream)
    ours.backward(to_g(upstream))
    pairs = [(ours, theirs)]
    for g_leaf, t_leaf in ((xg, x), (wg, w), (bg, b)):
        if t_leaf is not None and t_leaf.requires_grad:
            pairs.append((g_leaf.grad, t_leaf.grad))
    return pairs


# (input shape, weight shape, keyword arguments): groups is always the input's channels
DEPTHWISE_CASES = [
    ((2, 4, 8, 9), (4, 1, 3, 3), {"groups": 4}),
    ((2, 4, 8, 9), (4, 1, 3, 3), {"groups": 4, "padding": 1}),
    ((3, 3, 9, 8), (6, 1, 3, 3), {"groups": 3, "stride": 2, "padding": 1}),  # multiplier 2
    ((2, 2, 10, 9), (6, 1, 3, 2), {"groups": 2, "stride": (2, 1), "padding": (1, 2)}),
    ((2, 5, 11, 10), (5, 1, 3, 3), {"groups": 5, "dilation": 2, "padding": 2}),
    ((2, 3, 8, 9), (9, 1, 4, 4), {"groups": 3, "padding": "same"}),  # even kernel, asymmetric
    ((2, 3, 7, 8), (3, 1, 2, 3), {"groups": 3, "stride": 3, "dilation": (2, 1)}),
    ((2, 4, 6, 6), (4, 1, 6, 6), {"groups": 4}),  # the kernel covers the whole input
    ((4, 6, 6), (4, 1, 3, 3), {"groups": 4, "padding": 1}),  # unbatched
    ((2, 4, 12), (8, 1, 3), {"groups": 4, "padding": 1, "stride": 2}),  # conv1d
    ((2, 3, 11), (3, 1, 4), {"groups": 3, "padding": "same", "dilation": 2}),  # conv1d
]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", DEPTHWISE_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise_matches_torch(x_shape, w_shape, kwargs, bias, kernel_calls):
    pairs = run_both(x_shape, w_shape, kwargs, bias)
    assert kernel_calls == {"forward": 1, "input_grad": 1, "weight_grad": 1}
    assert len(pairs) == (4 if bias else 3)
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert_close(ours, theirs, 1e-10)


@pytest.mark.parametrize("block", [1, 7, 40, 100, 1000])
@pytest.mark.parametrize("x_shape,w_shape", [((5, 6, 7, 8), (12, 1, 3, 3)), ((3, 4, 9), (4, 1, 2))])
def test_every_block_shape_matches_torch(monkeypatch, block, x_shape, w_shape, kernel_calls):
    # Small blocks split a sample's channels (unevenly too); larger ones take several samples,
    # the last block shorter than the others.
    monkeypatch.setattr(conv_depthwise, "BLOCK_ELEMENTS", block)
    kwargs = {"groups": x_shape[1], "padding": 1}
    for ours, theirs in run_both(x_shape, w_shape, kwargs):
        assert_close(ours, theirs, 1e-10)
    assert kernel_calls["forward"] == 1


def test_float32_stays_float32_and_matches(kernel_calls):
    pairs = run_both((8, 16, 20, 20), (32, 1, 3, 3), {"groups": 16}, dtype=torch.float32)
    assert kernel_calls["forward"] == 1
    for ours, theirs in pairs:
        assert ours.dtype == gradienti.float32
        expected = theirs.detach().numpy()
        scale = float(np.abs(expected).max())  # sums of up to 3,000 float32 terms
        np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("needs", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1)])
def test_gradients_of_some_inputs_only(needs, kernel_calls):
    pairs = run_both((2, 4, 7, 8), (8, 1, 3, 3), {"groups": 4, "padding": 1}, needs=needs)
    assert len(pairs) == 1 + sum(needs)
    assert kernel_calls["input_grad"] == needs[0]
    assert kernel_calls["weight_grad"] == needs[1]
    for ours, theirs in pairs:
        assert_close(ours, theirs, 1e-10)


def test_empty_batch(kernel_calls):
    x = gradienti.zeros(0, 3, 6, 6, requires_grad=True)
    w = gradienti.ones(6, 1, 3, 3, requires_grad=True)
    out = F.conv2d(x, w, groups=3, padding=1)
    assert tuple(out.shape) == (0, 6, 6, 6)
    out.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 6, 6)
    assert np.array_equal(w.grad.numpy(), np.zeros((6, 1, 3, 3), np.float32))
    assert kernel_calls == {"forward": 1, "input_grad": 1, "weight_grad": 1}


def test_other_dtypes_take_the_general_path(kernel_calls):
    torch.manual_seed(3)
    x = torch.randint(-5, 5, (2, 3, 6, 6))
    w = torch.randint(-3, 3, (6, 1, 3, 3))
    ours = F.conv2d(to_g(x), to_g(w), groups=3, padding=1)
    assert_close(ours, TF.conv2d(x, w, groups=3, padding=1), 0)
    assert kernel_calls["forward"] == 0


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(11)
    inputs = [
        gradienti.tensor(rng.standard_normal(shape), requires_grad=True)
        for shape in ((2, 3, 6, 7), (6, 1, 3, 2), (6,))
    ]

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=(1, 2), padding=1, dilation=(2, 1), groups=3)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_double_backward_matches_torch():
    torch.manual_seed(5)
    tensors = [
        torch.randn(2, 3, 7, 6, dtype=torch.float64),
        torch.randn(6, 1, 3, 3, dtype=torch.float64),
        torch.randn(6, dtype=torch.float64),
    ]
    kwargs = {"stride": 2, "padding": 1, "groups": 3}
    t_leaves = [t.clone().requires_grad_() for t in tensors]
    g_leaves = [to_g(t, True) for t in tensors]
    up = torch.randn(TF.conv2d(*tensors, **kwargs).shape, dtype=torch.float64)
    results = []
    for conv, leaves, upstream, autograd in (
        (TF.conv2d, t_leaves, up, torch.autograd),
        (F.conv2d, g_leaves, to_g(up), gradienti.autograd),
    ):
        out = conv(*leaves, **kwargs)
        grads = autograd.grad((out * upstream).sum(), leaves, create_graph=True)
        second = (grads[0] ** 2).sum() + (grads[1] * grads[1].sin()).sum() + (out**2).sum()
        results.append(autograd.grad(second, leaves))
    for ours, theirs in zip(results[1], results[0]):
        assert_close(ours, theirs, 1e-9)


def test_batched_gradients_of_a_plain_graph_match_torch(kernel_calls):
    # The forward ran the depthwise kernels; a vmapped backward (is_grads_batched) then takes
    # the general path, whose weight gradient needs the columns the forward did not keep.
    torch.manual_seed(8)
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    xg, wg = to_g(x, True), to_g(w, True)
    kwargs = {"groups": 3, "padding": 1, "stride": (1, 2)}
    out_t, out_g = TF.conv2d(x, w, **kwargs), F.conv2d(xg, wg, **kwargs)
    ups = torch.randn((4,) + tuple(out_t.shape), dtype=torch.float64)
    theirs = torch.autograd.grad(out_t, (x, w), ups, is_grads_batched=True)
    ours = gradienti.autograd.grad(out_g, (xg, wg), to_g(ups), is_grads_batched=True)
    assert kernel_calls["forward"] == 1
    for mine, reference in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(reference.shape)
        assert_close(mine, reference, 1e-10)


def test_per_sample_gradients_under_vmap_match_torch():
    torch.manual_seed(9)
    x = torch.randn(5, 4, 6, 6, dtype=torch.float64)
    w = torch.randn(8, 1, 3, 3, dtype=torch.float64)
    up = torch.randn(5, 8, 3, 3, dtype=torch.float64)

    def loss(lib, weight, sample, upstream):
        conv = TF.conv2d if lib is torch else F.conv2d
        out = conv(sample.unsqueeze(0), weight, groups=4, stride=2, padding=1)
        return (out.squeeze(0) * upstream).sum()

    theirs = torch.func.vmap(
        torch.func.grad(lambda *a: loss(torch, *a), argnums=(0, 1)), (None, 0, 0)
    )(w, x, up)
    ours = gradienti.func.vmap(
        gradienti.func.grad(lambda *a: loss(gradienti, *a), argnums=(0, 1)), (None, 0, 0)
    )(to_g(w), to_g(x), to_g(up))
    for mine, reference in zip(ours, theirs):
        assert_close(mine, reference, 1e-10)


def test_non_contiguous_input_and_broadcast_upstream(kernel_calls):
    # A permuted input, a transposed weight, and the upstream gradient of .sum() (a broadcast
    # view with zero strides) go through the kernels as they are.
    torch.manual_seed(4)
    x_leaf = torch.randn(2, 7, 6, 4, dtype=torch.float64, requires_grad=True)
    w_leaf = torch.randn(8, 1, 2, 3, dtype=torch.float64, requires_grad=True)
    xg_leaf, wg_leaf = to_g(x_leaf, True), to_g(w_leaf, True)
    kwargs = {"groups": 4, "padding": (1, 0)}
    theirs = TF.conv2d(x_leaf.permute(0, 3, 2, 1), w_leaf.transpose(2, 3), **kwargs)
    ours = F.conv2d(xg_leaf.permute(0, 3, 2, 1), wg_leaf.transpose(2, 3), **kwargs)
    assert_close(ours, theirs, 1e-10)
    (theirs.sum() + (theirs * theirs).sum()).backward()
    (ours.sum() + (ours * ours).sum()).backward()
    assert kernel_calls == {"forward": 1, "input_grad": 1, "weight_grad": 1}
    assert_close(xg_leaf.grad, x_leaf.grad, 1e-10)
    assert_close(wg_leaf.grad, w_leaf.grad, 1e-10)
