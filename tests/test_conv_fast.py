"""The general convolution's plain-array path (ops/conv.py, conv_arrays.py) with its temporaries
in reused scratch memory (ops/conv_scratch.py), against PyTorch: values and gradients with a
non-uniform upstream gradient over shapes (odd sizes, batch 1, one channel), paddings 0/1/2/
'same', with and without a bias, float32 and float64; scratch memory reused, its stale contents
never read, layers of different sizes sharing it; the kept columns' pool; two threads at once;
gradcheck and gradgradcheck."""

import threading

import numpy as np
import pytest
from torch_oracle import to_g

import gradienti
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck
from gradienti.ops import conv_arrays, conv_scratch

torch = pytest.importorskip("torch")  # the oracle (these tests compare with PyTorch)
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# float32 against PyTorch's float32: both sum 9 * in_channels products in different orders
TOLERANCE = {torch.float32: 2e-4, torch.float64: 1e-10}


def run_both(x_shape, w_shape, kwargs, bias=True, dtype=torch.float32, seed=0):
    """Forward and backward (a random upstream gradient) in torch and gradienti; the pairs
    (ours, torch's) of the output and of the input's, weight's and bias's gradients."""
    torch.manual_seed(seed + sum(x_shape) + 7 * sum(w_shape))
    x = torch.randn(*x_shape, dtype=dtype, requires_grad=True)
    w = torch.randn(*w_shape, dtype=dtype, requires_grad=True)
    b = torch.randn(w_shape[0], dtype=dtype, requires_grad=True) if bias else None
    xg, wg = to_g(x, True), to_g(w, True)
    bg = to_g(b, True) if bias else None
    conv_g, conv_t = (F.conv1d, TF.conv1d) if len(w_shape) == 3 else (F.conv2d, TF.conv2d)
    ours = conv_g(xg, wg, bg, **kwargs)
    theirs = conv_t(x, w, b, **kwargs)
    upstream = torch.randn(theirs.shape, dtype=dtype)
    theirs.backward(upstream)
    ours.backward(to_g(upstream))
    pairs = [(ours, theirs), (xg.grad, x.grad), (wg.grad, w.grad)]
    if bias:
        pairs.append((bg.grad, b.grad))
    return pairs


def assert_pairs(pairs, dtype):
    tol = TOLERANCE[dtype]
    for ours, theirs in pairs:
        assert ours.dtype == gradienti.float32 if dtype == torch.float32 else gradienti.float64
        assert tuple(ours.shape) == tuple(theirs.shape)
        expected = theirs.detach().numpy()
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=tol, atol=tol * scale)


# (input shape, weight shape, keyword arguments)
CASES = [
    ((4, 16, 14, 14), (32, 16, 3, 3), {"padding": 1}),  # the issue's layer, smaller batch
    ((2, 3, 7, 9), (5, 3, 3, 3), {"padding": 1}),  # odd sizes
    ((2, 3, 7, 9), (5, 3, 3, 3), {"padding": 0}),
    ((2, 3, 7, 9), (5, 3, 3, 3), {"padding": 2}),
    ((2, 3, 8, 5), (4, 3, 3, 3), {"padding": "same"}),
    ((1, 3, 5, 6), (4, 3, 3, 3), {"padding": 1}),  # batch 1
    ((3, 1, 6, 7), (4, 1, 3, 3), {"padding": 1}),  # one input channel (a first layer)
    ((2, 4, 6, 6), (1, 4, 3, 3), {"padding": 1}),  # one output channel
    ((2, 3, 3, 3), (2, 3, 3, 3), {}),  # a single output position
    ((2, 4, 9, 8), (6, 4, 3, 3), {"padding": (1, 2)}),
    ((2, 4, 9, 8), (6, 4, 3, 3), {"padding": 1, "stride": 2}),
    ((2, 4, 9, 8), (6, 4, 3, 3), {"padding": 2, "dilation": 2}),
    ((2, 4, 9, 8), (6, 2, 3, 3), {"padding": 1, "groups": 2}),
    ((2, 3, 9, 8), (4, 3, 5, 5), {"padding": 2}),
    ((2, 3, 9, 8), (4, 3, 2, 4), {"padding": "same"}),  # padding after > before
    ((2, 3, 11), (4, 3, 3), {"padding": 1}),  # conv1d
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_values_and_gradients_match_torch(x_shape, w_shape, kwargs, bias, dtype):
    assert_pairs(run_both(x_shape, w_shape, kwargs, bias=bias, dtype=dtype), dtype)


def test_issue_layer_float32_error_against_float64():
    """The issue's layer on realistic data (PyTorch's initialisation, unit inputs): float32's
    output and gradients stay within float32 rounding of a float64 result."""
    torch.manual_seed(3)
    layer = torch.nn.Conv2d(16, 32, 3, padding=1)
    x = torch.randn(8, 16, 14, 14)
    upstream = torch.randn(8, 32, 14, 14)
    results = {}
    for dtype in (np.float32, np.float64):
        xg = gradienti.tensor(x.numpy().astype(dtype), requires_grad=True)
        wg = gradienti.tensor(layer.weight.detach().numpy().astype(dtype), requires_grad=True)
        bg = gradienti.tensor(layer.bias.detach().numpy().astype(dtype), requires_grad=True)
        out = F.conv2d(xg, wg, bg, padding=1)
        out.backward(gradienti.tensor(upstream.numpy().astype(dtype)))
        results[dtype] = [t.detach().numpy() for t in (out, xg.grad, wg.grad, bg.grad)]
    for single, double in zip(results[np.float32], results[np.float64]):
        error = np.abs(single - double).max() / max(1.0, np.abs(double).max())
        assert error < 1e-5


def test_scratch_memory_is_reused(monkeypatch):
    """The forward's padded input and columns and the backward's temporaries come from this
    thread's blocks: further steps allocate none of them again (the point of the scratch
    memory), nor does a smaller layer."""
    conv_scratch.release_all()
    made = []

    class CountingBackend:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def zeros(*args, **kwargs):
            made.append(args[0])
            return np.zeros(*args, **kwargs)

        @staticmethod
        def empty(*args, **kwargs):
            made.append(args[0])
            return np.empty(*args, **kwargs)

    monkeypatch.setattr(conv_scratch, "xp", CountingBackend())
    x = gradienti.randn(4, 8, 10, 10, requires_grad=True)
    w = gradienti.randn(16, 8, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    purposes = set(conv_scratch._local.blocks)
    assert {"conv padded input", "conv wide gradient", "conv gradient rows"} <= purposes
    first = len(made)
    assert first == len(purposes) + 1  # and one pooled block for the kept columns
    for _ in range(2):
        F.conv2d(x, w, padding=1).sum().backward()
    assert len(made) == first
    # a smaller layer takes the first bytes of the same blocks
    F.conv2d(gradienti.randn(2, 8, 6, 6, requires_grad=True), w, padding=1).sum().backward()
    assert len(made) == first
    conv_scratch.release_all()


def pooled_blocks():
    return conv_scratch._local.pools["conv kept columns"]


def test_kept_columns_come_from_the_pool_and_are_reused_once_released():
    """A plain-array forward whose weight requires grad keeps its columns (saved last) in a
    pooled block; a block still referred to by a node is never handed out again; once the
    backward has released the node's saved values, the next forward reuses it."""
    conv_scratch.release_all()
    x = gradienti.randn(2, 3, 6, 6, requires_grad=True)
    w = gradienti.randn(4, 3, 3, 3, requires_grad=True)
    first = F.conv2d(x, w, padding=1)
    columns = first.grad_fn._saved[-1]
    assert columns.shape == (2, 27, 36) and columns.base is pooled_blocks()[0]
    second = F.conv2d(x, w, padding=1)  # the first node still holds its columns
    assert second.grad_fn._saved[-1].base is pooled_blocks()[1]
    del columns
    (first + second).sum().backward()  # both nodes release their saved values
    third = F.conv2d(x, w, padding=1)
    assert third.grad_fn._saved[-1].base is pooled_blocks()[0]
    assert len(pooled_blocks()) == 2
    # without a weight that requires grad, nothing is kept (the scratch block serves)
    assert len(F.conv2d(x, w.detach(), padding=1).grad_fn._saved) == 3
    conv_scratch.release_all()


def test_a_full_pool_hands_out_fresh_columns():
    conv_scratch.release_all()
    x = gradienti.randn(1, 2, 4, 4)
    w = gradienti.randn(3, 2, 3, 3, requires_grad=True)
    outs = [F.conv2d(x, w) for _ in range(conv_scratch.POOL_BLOCKS + 2)]
    assert len(pooled_blocks()) == conv_scratch.POOL_BLOCKS
    bases = [out.grad_fn._saved[-1].base for out in outs]
    assert len({id(base) for base in bases}) == len(bases)  # no two nodes share memory
    expected = TF.conv2d(torch.from_numpy(x.numpy()), torch.from_numpy(w.detach().numpy()))
    for out in outs:
        np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), atol=1e-5)
    conv_scratch.release_all()


def test_blocks_over_the_limit_are_not_held(monkeypatch):
    monkeypatch.setattr(conv_scratch, "MAX_KEPT_BYTES", 1000)
    conv_scratch.release_all()
    assert_pairs(run_both((2, 3, 7, 9), (5, 3, 3, 3), {"padding": 1}), torch.float32)
    assert not conv_scratch._local.blocks
    assert not conv_scratch._local.pools.get("conv kept columns")
    conv_scratch.release_all()


def test_stale_scratch_contents_are_never_read():
    """Garbage left in every scratch block between calls changes nothing: uninitialised blocks
    are written before they are read, zero-bordered ones are zeroed when their layout changes."""
    shapes = ((2, 3, 7, 9), (5, 3, 3, 3), {"padding": 1})
    clean = [ours.detach().numpy().copy() for ours, _ in run_both(*shapes)]
    for block, _layout in conv_scratch._local.blocks.values():
        block[...] = 0x7F  # NaN-like float32 bytes everywhere, borders included
    for entry in conv_scratch._local.blocks.values():
        entry[1] = "something else"  # (the layout they were last used for is unknown now)
    dirty = [ours.detach().numpy() for ours, _ in run_both(*shapes)]
    for a, b in zip(clean, dirty):
        np.testing.assert_array_equal(a, b)


def test_paddings_with_the_same_padded_size_do_not_share_borders():
    """Two geometries with the same padded grid but the input in different places: the second
    must not read the first one's input where its own padding is (the layout is the key)."""
    conv_scratch.release_all()
    first = run_both((2, 3, 6, 6), (4, 3, 3, 3), {"padding": 1})  # input at rows 1..6 of 8
    assert_pairs(first, torch.float32)
    # padding='same' with a 4x4 kernel: 1 before, 2 after; input at rows 1..5 of 8
    second = run_both((2, 3, 5, 5), (4, 3, 4, 4), {"padding": "same"})
    assert_pairs(second, torch.float32)
    # the same again after the other: the padded input and the wide gradient alternate layouts
    assert_pairs(run_both((2, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}, seed=1), torch.float32)


def test_two_layers_alive_before_backward():
    """Two convolutions of the same shape recorded before either backward runs: each rebuilds
    its own columns from its own saved input (scratch memory is per call)."""
    torch.manual_seed(5)
    x1, x2 = torch.randn(2, 3, 6, 6), torch.randn(2, 3, 6, 6)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    wg = to_g(w, True)
    ours = F.conv2d(to_g(x1), wg, padding=1) * F.conv2d(to_g(x2), wg, padding=1)
    theirs = TF.conv2d(x1, w, padding=1) * TF.conv2d(x2, w, padding=1)
    upstream = torch.randn(theirs.shape)
    ours.backward(to_g(upstream))
    theirs.backward(upstream)
    assert_pairs([(ours, theirs), (wg.grad, w.grad)], torch.float32)


def test_threads_have_their_own_scratch():
    """Two threads convolving layers of different sizes at once get PyTorch's results each
    (the inputs are drawn first: torch's generator is shared by the threads)."""
    errors = []
    cases = [((3, 4, 9, 8), (6, 4, 3, 3)), ((2, 5, 7, 7), (3, 5, 3, 3))]
    torch.manual_seed(11)
    prepared = []
    for x_shape, w_shape in cases:
        x = torch.randn(*x_shape, requires_grad=True)
        w = torch.randn(*w_shape, requires_grad=True)
        out = TF.conv2d(x, w, padding=1)
        upstream = torch.randn(out.shape)
        out.backward(upstream)
        arrays = [t.detach().numpy() for t in (x, w, upstream)]
        prepared.append((arrays, [t.detach().numpy() for t in (out, x.grad, w.grad)]))

    def work(arrays, wanted):
        try:
            for _ in range(10):
                xg = gradienti.tensor(arrays[0], requires_grad=True)
                wg = gradienti.tensor(arrays[1], requires_grad=True)
                out = F.conv2d(xg, wg, padding=1)
                out.backward(gradienti.tensor(arrays[2]))
                for got, expected in zip((out, xg.grad, wg.grad), wanted):
                    np.testing.assert_allclose(got.detach().numpy(), expected, atol=2e-4)
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=pair) for pair in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_input_gradient_only_and_weight_gradient_only():
    torch.manual_seed(9)
    x = torch.randn(2, 3, 7, 6)
    w = torch.randn(4, 3, 3, 3)
    upstream = torch.randn(2, 4, 7, 6)
    for needs_x in (True, False):
        xt, wt = x.clone().requires_grad_(needs_x), w.clone().requires_grad_(not needs_x)
        xg, wg = to_g(xt, needs_x), to_g(wt, not needs_x)
        theirs = TF.conv2d(xt, wt, padding=1)
        ours = F.conv2d(xg, wg, padding=1)
        theirs.backward(upstream)
        ours.backward(to_g(upstream))
        leaf_g, leaf_t = (xg, xt) if needs_x else (wg, wt)
        assert (xg.grad is None) != needs_x and (wg.grad is None) == needs_x
        assert_pairs([(leaf_g.grad, leaf_t.grad)], torch.float32)


@pytest.mark.parametrize("padding", [0, 1, 2, "same"])
def test_gradcheck_and_gradgradcheck(padding):
    gradienti.manual_seed(4)
    x = gradienti.randn(2, 2, 5, 4, dtype=gradienti.float64, requires_grad=True)
    w = gradienti.randn(3, 2, 3, 3, dtype=gradienti.float64, requires_grad=True)
    b = gradienti.randn(3, dtype=gradienti.float64, requires_grad=True)

    def conv(x, w, b):
        return F.conv2d(x, w, b, padding=padding)

    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))


def test_input_gradient_helper_matches_col2im_of_products():
    """conv_arrays' input gradient (scratch memory, the wide layout) against its definition:
    col2im(W^T g), computed with fresh arrays."""
    rng = np.random.default_rng(2)
    geometry = conv_arrays.ConvGeometry((7, 9), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1))
    g = rng.standard_normal((2, 4) + geometry.out)
    w = rng.standard_normal((4, 3, 3, 3))
    grad_cols = np.einsum("oc,nol->ncl", w.reshape(4, 27), g.reshape(2, 4, -1))
    expected = geometry.image(grad_cols, 2, 3)
    for _ in range(2):  # the second call reuses the blocks
        np.testing.assert_allclose(geometry.input_grad(g, w, 1), expected, atol=1e-12)
