"""The short cuts of ``loss.backward()`` on scalar graphs (autograd/engine.py), against PyTorch:
the one of the root's dtype looked up by its scalar type, the one-leaf commit without
``commit_all``, the containers made only when a hook needs them, x ** 3's VJP on 0-d values."""

import gc

import numpy as np
import pytest

import gradienti
from gradienti.autograd import engine, schedule

torch = pytest.importorskip("torch")


def _seed(lib, dtype, value=2.0):
    x = lib.tensor(value, dtype=dtype, requires_grad=True)
    return x, 5 * x**3 + 2 * x**2 + 4 * x + 8


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_scalar_root_dtypes_as_torch(name):
    ours, theirs = _seed(gradienti, getattr(gradienti, name)), _seed(torch, getattr(torch, name))
    ours[1].backward()
    theirs[1].backward()
    assert str(ours[0].grad.dtype) == str(theirs[0].grad.dtype)
    assert ours[0].grad.item() == theirs[0].grad.item()


@pytest.mark.parametrize("value", [-1.5, 0.0, 0.3, 3.0])
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_cube_vjp_on_scalars_as_torch(name, value):
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor(value, dtype=getattr(lib, name), requires_grad=True)
        (x**3 * 1.7).backward()
        grads.append(x.grad.item())
    assert grads[0] == grads[1]


def test_second_pass_adds_into_the_same_grad_as_torch():
    results = []
    for lib in (gradienti, torch):
        x, y = _seed(lib, lib.float32, 1.25)
        y.backward(retain_graph=True)
        first = x.grad
        y.backward()
        assert x.grad is first  # added into the same tensor, as PyTorch's AccumulateGrad
        results.append(x.grad.item())
    assert results[0] == results[1] == pytest.approx(2 * (15 * 1.25**2 + 4 * 1.25 + 4))


def test_grad_assigned_before_is_added_into():
    for lib in (gradienti, torch):
        x = lib.tensor(3.0, requires_grad=True)
        x.grad = lib.tensor(0.5)
        (x * x).backward()
        assert x.grad.item() == 6.5


def test_leaf_gone_before_backward():
    # The leaf itself is not held: its AccumulateGrad (weak) finds nothing to write.
    y = gradienti.tensor(2.0, requires_grad=True) * 3
    gc.collect()
    y.backward()  # no error, nothing to write
    assert y.grad_fn.next_functions[0][0].variable is None


def test_tensor_hooks_and_retain_grad_on_a_scalar_graph_as_torch():
    seen = {}
    for lib in (gradienti, torch):
        calls = []
        x = lib.tensor(1.5, requires_grad=True)
        h = x * x
        h.retain_grad()
        h.register_hook(lambda g, calls=calls: calls.append(g.item()) or g * 2)
        y = h * 3 + x
        y.backward()
        seen[lib.__name__] = (x.grad.item(), h.grad.item(), calls)
    assert seen["gradienti"] == seen["torch"]


def test_array_root_gradient_is_not_aliased_as_torch():
    for lib in (gradienti, torch):
        x = lib.tensor(np.array([1.0, -2.0, 0.5], dtype=np.float32), requires_grad=True)
        upstream = lib.tensor(np.array([0.25, 1.0, -3.0], dtype=np.float32))
        (x + 0).backward(upstream)
        assert x.grad.tolist() == [0.25, 1.0, -3.0]
        upstream[0] = 7.0  # the leaf's gradient is its own memory
        assert x.grad.tolist() == [0.25, 1.0, -3.0]


def test_hook_returned_array_is_not_aliased_as_torch():
    for lib in (gradienti, torch):
        kept = []
        x = lib.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
        h = x * 2
        h.register_hook(lambda g, kept=kept: kept.append(g * 1) or kept[-1])
        h.sum().backward()
        kept[0][0] = 100.0
        assert x.grad.tolist() == [2.0, 2.0]


def test_two_leaves_scalar_graph_as_torch():
    results = []
    for lib in (gradienti, torch):
        a = lib.tensor(1.5, requires_grad=True)
        b = lib.tensor(-0.75, requires_grad=True)
        (a * b + a**3).backward()
        results.append((a.grad.item(), b.grad.item()))
    assert results[0] == results[1]


def test_hook_added_during_the_pass_on_a_waiting_leaf_runs_as_torch():
    # x's gradients come from x * 3 (run first) and x * 2 (whose tensor hook then adds a hook
    # on x): the fast path keeps x unscheduled until the end, then runs it with the new hook.
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(1.5, requires_grad=True)
        h = x * 2
        h.register_hook(lambda g, x=x: x.register_hook(lambda gx: gx * 10) and None)
        (h + x * 3).backward()
        results.append(x.grad.item())
    assert results[0] == results[1] == 50.0


def _leaves_graph(lib, order):
    leaves = [lib.tensor(float(i) + 0.5, requires_grad=True) for i in range(4)]
    for index, leaf in enumerate(leaves):
        leaf.register_post_accumulate_grad_hook(lambda t, index=index: order.append(index))
    a, b, c, d = leaves
    # Without hooks, b and d (reached by a bare gradient while other nodes wait) would not be
    # scheduled; with post-accumulate hooks every leaf runs in the reference loop's order.
    y = (a * c) + (d * 2) + (b * 3)
    return leaves, y


def test_hooked_leaves_commit_in_the_reference_loops_order():
    fast_order, reference_order = [], []
    fast_leaves, y = _leaves_graph(gradienti, fast_order)
    engine._run_plain(y._edge, engine._ones_like(y._data), True)
    reference_leaves, y = _leaves_graph(gradienti, reference_order)
    schedule.run_backward([(y._edge, engine._ones_like(y._data))], False, False)
    assert fast_order == reference_order and len(fast_order) == 4
    for fast, reference in zip(fast_leaves, reference_leaves):
        assert fast.grad.item() == reference.grad.item()
    theirs, y = _leaves_graph(torch, [])
    y.backward()
    assert [t.grad.item() for t in fast_leaves] == [t.grad.item() for t in theirs]


def test_unscheduled_leaves_get_the_reference_loops_gradients_as_torch():
    def graph(lib):
        leaves = [lib.tensor(v, requires_grad=True) for v in (0.5, 1.5, -2.0, 3.25)]
        a, b, c, d = leaves
        return leaves, (a * c) + (d * 2) + (b * 3) + (a * d) * (b - 1)

    fast_leaves, y = graph(gradienti)
    engine._run_plain(y._edge, engine._ones_like(y._data), True)
    reference_leaves, y = graph(gradienti)
    schedule.run_backward([(y._edge, engine._ones_like(y._data))], False, False)
    theirs, y = graph(torch)
    y.backward()
    for fast, reference, their in zip(fast_leaves, reference_leaves, theirs):
        assert fast.grad.item() == reference.grad.item() == their.grad.item()


def test_a_post_accumulate_hook_sees_an_unscheduled_leafs_grad_as_torch():
    # b (no hooks) is reached while a * 2 waits; a's hook runs after b's .grad is written,
    # as in the reference loop (b is newer) and in PyTorch.
    seen = {}
    for lib in (gradienti, torch):
        seen[lib.__name__] = calls = []
        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0, requires_grad=True)
        a.register_post_accumulate_grad_hook(
            lambda t, b=b, calls=calls: calls.append(None if b.grad is None else b.grad.item())
        )
        (a * 2 + b * 3).backward()
    assert seen["gradienti"] == seen["torch"] == [3.0]
