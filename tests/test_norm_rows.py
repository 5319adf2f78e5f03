"""The row paths of layer and batch norm (ops/normalization_rows.py) against PyTorch.

Layer norm's blocks are made a few rows long (``BLOCK_BYTES`` patched) so that the tests run
several blocks and a short last one; each case takes a non-uniform upstream gradient, every
weight/bias combination and float32/float64. Batch norm's path keeps ``x - mean`` from the
forward for the backward, which computes dx in it: the tests check a second backward
(``retain_graph``) gives bitwise the first one's gradients, that a saved-tensor hook handing
back another array is honoured, and that the upstream gradient is never written into.
"""

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck
from gradienti.ops import normalization, normalization_rows

torch = pytest.importorskip("torch")

AFFINE = ["both", "weight", "bias", "none"]


@pytest.fixture(autouse=True)
def row_paths_for_small_inputs(monkeypatch):
    """The row paths for every input here, however small (they serve inputs of at least
    ``MIN_SIZE`` elements, batch norm's with at least ``MIN_POSITIONS`` positions)."""
    monkeypatch.setattr(normalization_rows, "MIN_SIZE", 0)
    monkeypatch.setattr(normalization, "MIN_POSITIONS", 1)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 192 bytes (1 to 6 rows in these tests): several blocks per call, the last one
    shorter."""
    monkeypatch.setattr(normalization_rows, "BLOCK_BYTES", 3 * 8 * 8)


def _params(rng, shape, dtype, affine):
    weight = rng.uniform(0.5, 1.5, shape).astype(dtype) if affine in ("both", "weight") else None
    bias = rng.uniform(-0.5, 0.5, shape).astype(dtype) if affine in ("both", "bias") else None
    return weight, bias


def _layer_norm_run(lib, x0, upstream, normalized_shape, weight0, bias0, needs_x=True):
    x = lib.tensor(x0, requires_grad=needs_x)
    weight = None if weight0 is None else lib.tensor(weight0, requires_grad=True)
    bias = None if bias0 is None else lib.tensor(bias0, requires_grad=True)
    out = lib.nn.functional.layer_norm(x, normalized_shape, weight, bias, 1e-5)
    results = [out.detach().numpy()]
    if out.requires_grad:
        (out * lib.tensor(upstream)).sum().backward()
        tensors = ([x] if needs_x else []) + [p for p in (weight, bias) if p is not None]
        results += [tensor.grad.numpy() for tensor in tensors]
    return results


def _assert_all_close(ours, theirs, dtype):
    tolerance = 2e-5 if dtype == np.float32 else 1e-12
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.dtype == reference.dtype
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalized_shape", [(8,), (2, 8)])
@pytest.mark.parametrize("affine", AFFINE)
def test_layer_norm_in_several_blocks_matches_torch(small_blocks, dtype, normalized_shape, affine):
    rng = np.random.default_rng(5)
    shape = (7, 2) + normalized_shape  # 14 rows
    x0 = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)
    weight0, bias0 = _params(rng, normalized_shape, dtype, affine)
    ours = _layer_norm_run(gradienti, x0, upstream, normalized_shape, weight0, bias0)
    theirs = _layer_norm_run(torch, x0, upstream, normalized_shape, weight0, bias0)
    _assert_all_close(ours, theirs, dtype)


@pytest.mark.parametrize("affine", ["both", "weight", "bias"])
def test_layer_norm_parameter_gradients_without_the_input_gradient(small_blocks, affine):
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((5, 3, 8))
    upstream = rng.standard_normal((5, 3, 8))
    weight0, bias0 = _params(rng, (8,), np.float64, affine)
    ours = _layer_norm_run(gradienti, x0, upstream, (8,), weight0, bias0, needs_x=False)
    theirs = _layer_norm_run(torch, x0, upstream, (8,), weight0, bias0, needs_x=False)
    _assert_all_close(ours, theirs, np.float64)


def test_layer_norm_in_several_blocks_passes_gradcheck(small_blocks):
    gradienti.manual_seed(3)
    x = gradienti.randn(5, 2, 8, dtype=gradienti.float64, requires_grad=True)
    w = (gradienti.rand(8, dtype=gradienti.float64) + 0.5).requires_grad_()
    b = gradienti.randn(8, dtype=gradienti.float64, requires_grad=True)

    def fn(x, w, b):
        return gradienti.nn.functional.layer_norm(x, (8,), w, b)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    assert gradcheck(lambda x: gradienti.nn.functional.layer_norm(x, (2, 8)), (x,))


def test_layer_norm_rows_longer_than_the_limit_take_the_general_path_and_match_torch():
    rng = np.random.default_rng(8)
    length = normalization_rows.ROW_LIMIT + 3
    x0 = rng.standard_normal((2, length)).astype(np.float32)
    upstream = rng.standard_normal((2, length)).astype(np.float32)
    weight0, bias0 = _params(rng, (length,), np.float32, "both")
    ours = _layer_norm_run(gradienti, x0, upstream, (length,), weight0, bias0)
    theirs = _layer_norm_run(torch, x0, upstream, (length,), weight0, bias0)
    _assert_all_close(ours, theirs, np.float32)


def test_layer_norm_statistics_of_offset_rows_match_torch():
    # the variance is taken of the centered rows: a large offset does not cancel it away (in
    # float32, E[x^2] - mean^2 would lose it entirely: 1e6 has a rounding step of 0.06)
    rng = np.random.default_rng(9)
    x0 = (rng.standard_normal((16, 64)) * 0.1 + 1000).astype(np.float32)
    upstream = rng.standard_normal((16, 64)).astype(np.float32)
    ours = _layer_norm_run(gradienti, x0, upstream, (64,), None, None)
    theirs = _layer_norm_run(torch, x0, upstream, (64,), None, None)
    np.testing.assert_allclose(ours[0], theirs[0], atol=2e-3)
    assert ours[0].std(axis=1) == pytest.approx(np.ones(16), abs=1e-3)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-2, atol=2e-2)


def test_layer_norm_of_long_offset_rows_is_as_accurate_as_torch():
    # float32 rows of 4096 values near 1000 with spread 0.1: a plain BLAS row sum puts the mean
    # off by a few rounding steps of 1000, ~3x PyTorch's error once divided by the spread; the
    # corrected mean must be within PyTorch's error of the float64 truth (output, saved mean,
    # input gradient).
    rng = np.random.default_rng(10)
    x0 = (rng.standard_normal((8, 4096)) * 0.1 + 1000).astype(np.float32)
    upstream = rng.standard_normal((8, 4096)).astype(np.float32)
    weight0, bias0 = _params(rng, (4096,), np.float32, "both")

    def run(lib, dtype):
        x = lib.tensor(x0.astype(dtype), requires_grad=True)
        weight, bias = lib.tensor(weight0.astype(dtype)), lib.tensor(bias0.astype(dtype))
        out = lib.nn.functional.layer_norm(x, (4096,), weight, bias, 1e-5)
        mean = out.grad_fn._saved_result1.detach().numpy().astype(np.float64)
        out.backward(lib.tensor(upstream.astype(dtype)))
        return out.detach().numpy().astype(np.float64), mean, x.grad.numpy().astype(np.float64)

    truth = run(torch, np.float64)
    theirs, ours = run(torch, np.float32), run(gradienti, np.float32)
    for mine, reference, exact in zip(ours, theirs, truth, strict=True):
        assert np.abs(mine - exact).max() <= 1.5 * np.abs(reference - exact).max()


def test_layer_norm_scratch_blocks_never_have_more_rows_than_the_input():
    # (the first block sizes the block-sized scratch arrays: 2 rows of 8192 float32 would
    # otherwise allocate 16 rows' worth)
    assert [(b.start, b.stop) for b in normalization_rows._row_blocks(2, 8192, 4)] == [(0, 2)]
    assert normalization_rows._row_blocks(40, 8192, 4)[0].stop == 16


def _batch_norm_run(lib, x0, upstream, weight0, bias0, retain=False):
    x = lib.tensor(x0, requires_grad=True)
    weight = None if weight0 is None else lib.tensor(weight0, requires_grad=True)
    bias = None if bias0 is None else lib.tensor(bias0, requires_grad=True)
    channels = x0.shape[1]
    running_mean = lib.zeros(channels, dtype=x.dtype)
    running_var = lib.ones(channels, dtype=x.dtype)
    out = lib.nn.functional.batch_norm(
        x, running_mean, running_var, weight, bias, training=True, momentum=0.2
    )
    loss = (out * lib.tensor(upstream)).sum()
    loss.backward(retain_graph=retain)
    tensors = [x] + [p for p in (weight, bias) if p is not None]
    results = [out.detach().numpy(), running_mean.numpy(), running_var.numpy()]
    results += [tensor.grad.numpy() for tensor in tensors]
    if retain:
        first = [tensor.grad.numpy().copy() for tensor in tensors]
        for tensor in tensors:
            tensor.grad = None
        loss.backward()
        for before, tensor in zip(first, tensors, strict=True):
            np.testing.assert_array_equal(tensor.grad.numpy(), before)
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
@pytest.mark.parametrize("affine", AFFINE)
def test_batch_norm_training_matches_torch(dtype, shape, affine):
    rng = np.random.default_rng(12)
    x0 = (rng.standard_normal(shape) * 2 - 1).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)
    weight0, bias0 = _params(rng, (shape[1],), dtype, affine)
    ours = _batch_norm_run(gradienti, x0, upstream, weight0, bias0)
    theirs = _batch_norm_run(torch, x0, upstream, weight0, bias0)
    _assert_all_close(ours, theirs, dtype)


def _count_rebuilds(monkeypatch) -> list:
    """A one-item list counting the calls of batch norm's buffer rebuild."""
    calls = [0]
    rebuild = normalization.batch_norm_centered

    def counting(node, x):
        calls[0] += 1
        return rebuild(node, x)

    monkeypatch.setattr(normalization, "batch_norm_centered", counting)
    return calls


@pytest.mark.parametrize("affine", ["both", "none"])
def test_batch_norm_second_backward_gives_bitwise_the_first_gradients(monkeypatch, affine):
    # the first backward computes dx in the forward's buffer; the second rebuilds it
    rng = np.random.default_rng(13)
    x0 = rng.standard_normal((4, 3, 6)).astype(np.float32)
    upstream = rng.standard_normal((4, 3, 6)).astype(np.float32)
    weight0, bias0 = _params(rng, (3,), np.float32, affine)
    rebuilt = _count_rebuilds(monkeypatch)
    ours = _batch_norm_run(gradienti, x0, upstream, weight0, bias0, retain=True)
    assert rebuilt == [1]  # the first backward took the forward's buffer, the second rebuilt it
    theirs = _batch_norm_run(torch, x0, upstream, weight0, bias0)
    _assert_all_close(ours, theirs, np.float32)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_an_input_unpacked_by_a_saved_tensor_hook_gives_torch_gradients(monkeypatch, norm):
    # the unpacked input is another array (a copy): the backward rebuilds its buffer from it
    rng = np.random.default_rng(14)
    x0 = rng.standard_normal((5, 2, 3)).astype(np.float32)
    upstream = rng.standard_normal((5, 2, 3)).astype(np.float32)
    w0 = rng.uniform(0.5, 1.5, 3 if norm == "layer" else 2).astype(np.float32)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t.clone()):
            if norm == "layer":
                out = lib.nn.functional.layer_norm(x, (3,), w)
            else:
                out = lib.nn.functional.batch_norm(x, None, None, w, training=True)
        out.backward(lib.tensor(upstream))
        return [x.grad.numpy(), w.grad.numpy()]

    rebuilt = _count_rebuilds(monkeypatch)
    _assert_all_close(run(gradienti), run(torch), np.float32)
    assert rebuilt == ([1] if norm == "batch" else [0])


def test_batch_norm_input_changed_in_place_under_an_identity_hook_gives_torch_gradients():
    # unpack_hook hands back the very input, changed since the forward (no version check
    # under hooks): the backward must use the changed values, as PyTorch's, not the forward's
    # kept x - mean
    rng = np.random.default_rng(16)
    x0 = rng.standard_normal((4, 3, 20)).astype(np.float32)
    upstream = rng.standard_normal((4, 3, 20)).astype(np.float32)

    def run(lib):
        leaf = lib.tensor(x0, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            x = leaf * 1
            out = lib.nn.functional.batch_norm(x, None, None, training=True)
        with lib.no_grad():
            x.mul_(3)
        out.backward(lib.tensor(upstream))
        return [leaf.grad.numpy()]

    _assert_all_close(run(gradienti), run(torch), np.float32)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_the_row_paths_leave_the_upstream_gradient_and_input_unchanged(small_blocks, norm):
    rng = np.random.default_rng(15)
    x = gradienti.tensor(rng.standard_normal((6, 3, 8)), requires_grad=True)
    w = gradienti.tensor(rng.uniform(0.5, 1.5, 8 if norm == "layer" else 3), requires_grad=True)
    upstream = gradienti.tensor(rng.standard_normal((6, 3, 8)))
    before_x, before_upstream = x.detach().numpy().copy(), upstream.numpy().copy()
    if norm == "layer":
        out = gradienti.nn.functional.layer_norm(x, (8,), w)
    else:
        out = gradienti.nn.functional.batch_norm(x, None, None, w, training=True)
    out.backward(upstream)
    np.testing.assert_array_equal(upstream.numpy(), before_upstream)
    np.testing.assert_array_equal(x.detach().numpy(), before_x)


def test_batch_norm_module_training_steps_match_torch():
    # several training steps: the running statistics blend the row path's batch statistics
    rng = np.random.default_rng(16)
    modules = [lib.nn.BatchNorm2d(4, momentum=0.3) for lib in (gradienti, torch)]
    for step in range(3):
        x0 = (rng.standard_normal((5, 4, 3, 3)) + step).astype(np.float32)
        upstream = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
        results = []
        for lib, module in zip((gradienti, torch), modules, strict=True):
            x = lib.tensor(x0, requires_grad=True)
            out = module(x)
            (out * lib.tensor(upstream)).sum().backward()
            results.append(
                [out.detach().numpy(), x.grad.numpy(), module.running_mean.numpy()]
                + [module.running_var.numpy(), module.weight.grad.numpy()]
            )
            module.zero_grad()
        _assert_all_close(results[0], results[1], np.float32)


def test_batch_norm_row_path_passes_gradcheck():
    gradienti.manual_seed(4)
    x = gradienti.randn(4, 2, 5, dtype=gradienti.float64, requires_grad=True)
    w = (gradienti.rand(2, dtype=gradienti.float64) + 0.5).requires_grad_()
    b = gradienti.randn(2, dtype=gradienti.float64, requires_grad=True)

    def fn(x, w, b):
        return gradienti.nn.functional.batch_norm(x, None, None, w, b, training=True)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_mid_size_inputs_take_the_row_paths_by_default(monkeypatch, norm):
    monkeypatch.undo()  # the default thresholds
    taken = []
    for name in ("layer_norm_rows_forward", "batch_norm_channels_forward"):
        original = getattr(normalization, name)

        def spy(ctx, x, params, original=original, name=name):
            taken.append(name)
            return original(ctx, x, params)

        monkeypatch.setattr(normalization, name, spy)
    rng = np.random.default_rng(17)
    shape = (8, 16, 8, 8)  # 8192 elements, 64 positions
    x0 = rng.standard_normal(shape).astype(np.float32)
    upstream = rng.standard_normal(shape).astype(np.float32)
    if norm == "layer":
        weight0, bias0 = _params(rng, (8, 8), np.float32, "both")
        ours = _layer_norm_run(gradienti, x0, upstream, (8, 8), weight0, bias0)
        theirs = _layer_norm_run(torch, x0, upstream, (8, 8), weight0, bias0)
    else:
        weight0, bias0 = _params(rng, (16,), np.float32, "both")
        ours = _batch_norm_run(gradienti, x0, upstream, weight0, bias0)
        theirs = _batch_norm_run(torch, x0, upstream, weight0, bias0)
    _assert_all_close(ours, theirs, np.float32)
    expected = {"layer": "layer_norm_rows_forward", "batch": "batch_norm_channels_forward"}
    assert taken == [expected[norm]]


def test_instance_norm_with_running_stats_through_the_row_path_matches_torch():
    # instance norm is batch norm of the (1, N C, *) view: one sample, N C channels
    rng = np.random.default_rng(18)
    shape = (4, 8, 16, 16)
    x0 = (rng.standard_normal(shape) * 2 + 3).astype(np.float32)
    upstream = rng.standard_normal(shape).astype(np.float32)
    weight0, bias0 = _params(rng, (8,), np.float32, "both")

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        weight = lib.tensor(weight0, requires_grad=True)
        bias = lib.tensor(bias0, requires_grad=True)
        running_mean, running_var = lib.zeros(8), lib.ones(8)
        out = lib.nn.functional.instance_norm(
            x, running_mean, running_var, weight, bias, use_input_stats=True, momentum=0.3
        )
        (out * lib.tensor(upstream)).sum().backward()
        grads = [x.grad.numpy(), weight.grad.numpy(), bias.grad.numpy()]
        return [out.detach().numpy(), running_mean.numpy(), running_var.numpy()] + grads

    _assert_all_close(run(gradienti), run(torch), np.float32)


def test_batch_norm_without_an_input_gradient_matches_torch_and_lets_the_buffer_go():
    rng = np.random.default_rng(19)
    x0 = rng.standard_normal((4, 3, 5)).astype(np.float32)
    upstream = rng.standard_normal((4, 3, 5)).astype(np.float32)
    weight0, bias0 = _params(rng, (3,), np.float32, "both")
    results = []
    for lib in (gradienti, torch):
        weight = lib.tensor(weight0, requires_grad=True)
        bias = lib.tensor(bias0, requires_grad=True)
        out = lib.nn.functional.batch_norm(lib.tensor(x0), None, None, weight, bias, True)
        (out * lib.tensor(upstream)).sum().backward()
        results.append([out.detach().numpy(), weight.grad.numpy(), bias.grad.numpy()])
        if lib is gradienti:
            assert out.grad_fn.owned == (None, None)  # x - mean is no longer held
    _assert_all_close(results[0], results[1], np.float32)
