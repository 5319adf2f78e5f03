"""``x * x`` (the same tensor both operands of ``*``): its MulBackward0 computes one product,
doubled, and delivers it once, instead of two products that the engine adds. Against PyTorch:
values, gradients with a non-uniform upstream gradient (leaf and non-leaf ``x``), double
backward, retain_graph, hooks, in-place modification after the product, saved-tensor hooks,
vmap, and both backward loops (``backward()``'s fast path and ``autograd.grad``'s reference
loop) bit for bit.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradienti
from gradienti.func import grad as gt_grad
from gradienti.func import vmap as gt_vmap

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


def _inputs(dtype, shape=(3, 4)):
    rng = np.random.default_rng(17)
    x0 = rng.standard_normal(shape).astype(dtype)
    g0 = rng.standard_normal(shape).astype(dtype)  # a non-uniform upstream gradient
    return x0, g0


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaf_gradient_matches_torch_bitwise(dtype):
    x0, g0 = _inputs(dtype)
    x = gradienti.tensor(x0, requires_grad=True)
    y = x * x
    y.backward(gradienti.tensor(g0))
    tx = torch.tensor(x0, requires_grad=True)
    ty = tx * tx
    ty.backward(torch.tensor(g0))
    np.testing.assert_array_equal(_np(y), _np(ty))
    assert x.grad.dtype == gradienti.float32 if dtype == np.float32 else gradienti.float64
    # 2(g x) is exactly g x + g x, which is what PyTorch's two products and sum give
    np.testing.assert_array_equal(_np(x.grad), _np(tx.grad))
    np.testing.assert_array_equal(_np(x.grad), (g0 * x0) * 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_leaf_gradient_and_both_loops_agree(dtype):
    x0, g0 = _inputs(dtype)

    def run(lib, via_grad):
        x = lib.tensor(x0, requires_grad=True)
        h = x.sin()  # x * x of a non-leaf: the gradient flows on through SinBackward0
        out = ((h * h) * lib.tensor(g0)).sum()
        if via_grad:
            return lib.autograd.grad(out, x)[0]
        out.backward()
        return x.grad

    expected = _np(run(torch, False))
    fast, reference = _np(run(gradienti, False)), _np(run(gradienti, True))
    np.testing.assert_array_equal(fast, reference)
    np.testing.assert_allclose(fast, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_one_product_delivered_once():
    x0, g0 = _inputs(np.float64)
    x = gradienti.tensor(x0, requires_grad=True)
    node = (x * x).grad_fn
    results = node.backward(node, g0)
    assert results[1] is None  # the second edge (the same node) gets nothing: one delivery
    np.testing.assert_array_equal(results[0], 2 * (g0 * x0))
    # two different tensors keep the two products
    other = gradienti.tensor(x0.copy(), requires_grad=True)
    node = (x * other).grad_fn
    grad_x, grad_other = node.backward(node, g0)
    np.testing.assert_array_equal(grad_x, g0 * x0)
    np.testing.assert_array_equal(grad_other, g0 * x0)


def test_detached_operand_gets_one_share():
    x0, g0 = _inputs(np.float32)
    x, tx = gradienti.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    (x * x.detach()).backward(gradienti.tensor(g0))
    (tx * tx.detach()).backward(torch.tensor(g0))
    np.testing.assert_array_equal(_np(x.grad), _np(tx.grad))
    np.testing.assert_array_equal(_np(x.grad), g0 * x0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_double_backward(dtype):
    x0, g0 = _inputs(dtype)
    v0 = np.linspace(-1.0, 2.0, x0.size).reshape(x0.shape).astype(dtype)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        g = lib.tensor(g0, requires_grad=True)
        (first,) = lib.autograd.grad(x * x, x, g, create_graph=True)
        # d/dx of sum(v * 2 g x) = 2 g v; d/dg = 2 x v
        second_x, second_g = lib.autograd.grad((first * lib.tensor(v0)).sum(), (x, g))
        return first, second_x, second_g

    for mine, theirs in zip(run(gradienti), run(torch)):
        np.testing.assert_allclose(_np(mine), _np(theirs), rtol=1e-6, atol=0)
    x = gradienti.tensor(x0, requires_grad=True)
    (first,) = gradienti.autograd.grad((x * x).sum(), x, create_graph=True)
    (second,) = gradienti.autograd.grad(first.sum(), x)
    np.testing.assert_array_equal(_np(second), np.full(x0.shape, 2, dtype))  # d²(x²)/dx² = 2


def test_retain_graph_accumulates():
    x0, g0 = _inputs(np.float32)
    x, tx = gradienti.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = x * x, tx * tx
    for _ in range(2):
        y.backward(gradienti.tensor(g0), retain_graph=True)
        ty.backward(torch.tensor(g0), retain_graph=True)
    np.testing.assert_array_equal(_np(x.grad), _np(tx.grad))


def test_tensor_hook_runs_once_with_the_total():
    x0, g0 = _inputs(np.float32)

    def run(lib):
        seen = []
        x = lib.tensor(x0, requires_grad=True)
        h = x * 1.5
        h.register_hook(lambda grad: seen.append(grad.clone()) or grad * 3)
        (h * h).backward(lib.tensor(g0))
        return seen, x.grad

    seen, grad = run(gradienti)
    t_seen, t_grad = run(torch)
    assert len(seen) == len(t_seen) == 1
    np.testing.assert_array_equal(_np(seen[0]), _np(t_seen[0]))
    np.testing.assert_array_equal(_np(grad), _np(t_grad))


def test_node_hook_sees_pytorchs_pair():
    x0, g0 = _inputs(np.float32)

    def run(lib):
        seen = []
        x = lib.tensor(x0, requires_grad=True)
        y = x * x
        y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(grad_inputs))
        y.backward(lib.tensor(g0))
        return seen, x.grad

    seen, grad = run(gradienti)
    t_seen, t_grad = run(torch)
    assert len(seen) == len(t_seen) == 1 and len(seen[0]) == len(t_seen[0]) == 2
    for mine, theirs in zip(seen[0], t_seen[0]):
        np.testing.assert_array_equal(_np(mine), _np(theirs))
    np.testing.assert_array_equal(_np(grad), _np(t_grad))


def test_inplace_modification_after_the_product_raises_as_torch():
    x0, g0 = _inputs(np.float32)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        h = x + 0
        y = h * h
        h.add_(1)
        with pytest.raises(RuntimeError) as info:
            y.backward(lib.tensor(g0))
        return str(info.value), x.grad

    message, grad = run(gradienti)
    t_message, t_grad = run(torch)
    assert message == t_message
    assert grad is None and t_grad is None  # a failed pass changes nothing


def test_saved_tensor_hooks():
    x0, g0 = _inputs(np.float32)

    def run(lib):
        packed = []

        def pack(t):
            packed.append(t)
            return t.clone()  # each unpack gives a different tensor: two operands again

        x = lib.tensor(x0, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = x * x
        y.backward(lib.tensor(g0))
        return len(packed), x.grad

    count, grad = run(gradienti)
    t_count, t_grad = run(torch)
    assert count == t_count
    np.testing.assert_array_equal(_np(grad), _np(t_grad))


def test_vmap_of_grad():
    x0, g0 = _inputs(np.float32)

    def loss(lib):
        return lambda x, g: ((x * x) * g).sum()

    mine = gt_vmap(gt_grad(loss(gradienti)))(gradienti.tensor(x0), gradienti.tensor(g0))
    theirs = torch.func.vmap(torch.func.grad(loss(torch)))(torch.tensor(x0), torch.tensor(g0))
    np.testing.assert_array_equal(_np(mine), _np(theirs))


def test_broadcast_self_product_workload_gradients():
    # the bcast_self benchmark: s = a + b; (s * s).mean((0, 2)).sum(), both gradients broadcast
    rng = np.random.default_rng(3)
    a0 = rng.standard_normal((8, 1, 4)).astype(np.float32)
    b0 = rng.standard_normal((1, 6, 4)).astype(np.float32)

    def run(lib):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        s = a + b
        out = (s * s).mean((0, 2)).sum()
        out.backward()
        return out, a.grad, b.grad

    for mine, theirs in zip(run(gradienti), run(torch)):
        assert mine.shape == tuple(theirs.shape)
        np.testing.assert_allclose(_np(mine), _np(theirs), rtol=1e-6, atol=1e-7)


def test_mean_backward_is_a_broadcast_view():
    # a broadcast gradient stays a view (no (8, 6, 4) buffer) until something must write it
    x = gradienti.tensor(np.ones((8, 6, 4), np.float32), requires_grad=True)
    node = x.mean((0, 2)).grad_fn
    g = node.backward(node, np.arange(6, dtype=np.float32))
    assert g.shape == (8, 6, 4) and g.strides[0] == g.strides[2] == 0
    np.testing.assert_array_equal(g[3, :, 1], np.arange(6, dtype=np.float32) / 32)


def test_explain_shows_each_inputs_share():
    # explain tells PyTorch's VJP: x * x passes g x to each of its two inputs, then they add up
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    text = str(gradienti.viz.explain((x * x).sum()))
    assert "to x0:        ∂/∂a = b = x0 = [1, 2];  [1, 1] × [1, 2] = [1, 2]" in text
    assert "to x0:        ∂/∂b = a = x0 = [1, 2];  [1, 1] × [1, 2] = [1, 2]" in text
    assert text.count("gradient in:  [1, 2] from x0·x0 (step 2)") == 2
    assert "sum:          [2, 4]" in text
    # and outside explain the pass is the one-delivery one again
    node = (x * x).grad_fn
    assert node.backward(node, np.ones(2, np.float32))[1] is None


def test_explain_total_is_backwards_when_x_has_other_uses():
    # sin(x) is created after x * x, so its gradient reaches x first: explain's total is still
    # the engine's sum, bit for bit what backward() gives
    x0 = np.array([0.3, -1.7, 2.2], np.float32)
    x = gradienti.tensor(x0, requires_grad=True)
    root = (x * x + x.sin() * 3).sum()
    told = gradienti.viz.explain(root, names={"x": x})
    root.backward()
    total = np.asarray(told.leaf_totals["x"][1])
    assert total.tobytes() == x.grad.numpy().tobytes()
    assert len(told.leaf_totals["x"][0]) == 3  # from sin, and x * x's two shares


def test_bcast_self_benchmark_checks_its_gradients():
    # the workload's gradient is checked against PyTorch's and the hand-written NumPy's before
    # any timing; a mismatch prints CORRECTNESS CHECK FAILED
    run = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
    done = subprocess.run(
        [sys.executable, str(run), "--quick", "--only", "bcast_self", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| bcast_self | ms/iter |" in done.stdout
    assert "CORRECTNESS CHECK FAILED" not in done.stdout
