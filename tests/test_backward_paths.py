"""The two backward loops agree bit for bit: the reference loop (``schedule.run_backward``, which
``backward(...)``, ``autograd.grad`` and ``explain`` run) and the fast path of ``loss.backward()``
(``engine._run_plain``), on random graphs.

The graphs (a seeded generator) mix elementwise, broadcasting, reduction and multi-output ops
(split, chunk, unbind, some outputs unused), shared subexpressions, constants, leaves used
several times, float32 and float64 (so gradients are summed back over broadcast dimensions and
cast back to their leaf's dtype), tensor hooks and retain_grad; the roots are scalars, or
tensors with a given gradient. The same graph is built afresh for each loop, from the same seed.
"""

import numpy as np
import pytest

import gradienti
from gradienti import autograd
from gradienti.autograd import engine, schedule
from gradienti.viz import explain

SHAPES = [(3, 4), (1, 4), (3, 1), (4,), (), (3, 4)]  # all broadcast to (3, 4)
DTYPES = [np.float32, np.float64]


def _unary(rng, x):
    kind = rng.integers(6)
    if kind == 0:
        return x.tanh()
    if kind == 1:
        return x.tanh().exp()
    if kind == 2:
        return x.sin()
    if kind == 3:
        return -x
    if kind == 4:
        return x.sigmoid()
    return x * x


def _binary(rng, a, b):
    kind = rng.integers(5)
    if kind == 0:
        return a + b
    if kind == 1:
        return a - b
    if kind == 2:
        return a * b
    if kind == 3:
        return a / (1.5 + b * b)
    return a * 0.5 + b  # a Python number in between


def _reduce(rng, x):
    if x.dim() < 2:
        return x.sum()
    kind = rng.integers(4)
    if kind == 0:
        return x.sum(dim=1, keepdim=True)
    if kind == 1:
        return x.mean(dim=0)  # (4,) or (1,)... broadcasts back to (3, 4)
    if kind == 2:
        return x.amax(dim=1, keepdim=True)
    return x.sum()


def _several(rng, x):
    """Some outputs of a multi-output op (the others get no gradient: zeros, materialized)."""
    x = x.expand(3, 4) if tuple(x.shape) != (3, 4) else x
    kind = rng.integers(3)
    if kind == 0:
        outputs = gradienti.unbind(x, 0)  # three (4,)
    elif kind == 1:
        outputs = gradienti.split(x, 1, dim=1)  # four (3, 1)
    else:
        outputs = x.chunk(3, 0)  # three (1, 4)
    count = int(rng.integers(1, len(outputs) + 1))
    chosen = rng.choice(len(outputs), size=count, replace=False)
    return [outputs[int(index)] for index in chosen]


def build(seed, hooks=True):
    """A random graph: its leaves (name -> tensor), retained intermediates, root, gradient."""
    rng = np.random.default_rng(seed)
    leaves = {}
    pool = []
    for index in range(int(rng.integers(1, 5))):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        dtype = DTYPES[int(rng.integers(2))]
        leaf = gradienti.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        leaves[f"leaf{index}"] = leaf
        pool.append(leaf)
    constant = gradienti.tensor(rng.standard_normal((3, 4)).astype(DTYPES[int(rng.integers(2))]))
    pool.append(constant)
    retained = []
    for _ in range(int(rng.integers(2, 16))):
        kind = rng.integers(10)
        first = pool[int(rng.integers(len(pool)))]  # leaves and results used several times
        if kind < 3:
            made = [_unary(rng, first)]
        elif kind < 7:
            made = [_binary(rng, first, pool[int(rng.integers(len(pool)))])]
        elif kind < 8:
            made = [_reduce(rng, first)]
        else:
            made = _several(rng, first)
        for tensor in made:
            if not tensor.requires_grad:
                continue
            if hooks and rng.random() < 0.15:
                tensor.retain_grad()
                retained.append(tensor)
            if hooks and rng.random() < 0.1:
                tensor.register_hook(lambda grad: grad * 2)
            if hooks and rng.random() < 0.1:
                tensor.register_hook(lambda grad: None)
            pool.append(tensor)
    # The root: a few of the results (and a leaf, so that it requires grad), broadcast together.
    picked = [pool[-1 - int(index)] for index in rng.integers(0, min(4, len(pool)), size=3)]
    root = next(iter(leaves.values())) * 1.0
    for tensor in picked:
        root = root + tensor
    root = root.expand(3, 4) if tuple(root.shape) != (3, 4) else root
    if rng.random() < 0.5:
        return leaves, retained, root.tanh().sum(), None
    gradient = rng.standard_normal((3, 4)).astype(root._data.dtype)
    return leaves, retained, root * 1.0, gradient


def _snapshot(leaves, retained):
    """Each ``.grad`` as (dtype, shape, bytes), or None."""
    tensors = list(leaves.values()) + retained
    return [None if t.grad is None else _bits(t.grad) for t in tensors]


def _bits(tensor):
    array = np.asarray(tensor.detach().numpy())
    return (array.dtype, array.shape, array.tobytes())


def _run_twice(seed, run):
    """Build the graph, run ``run(root_edge, gradient, release)`` twice (the graph kept, then
    released) and a third time (whatever it raises); the ``.grad`` after each."""
    leaves, retained, root, given = build(seed)
    gradient = engine._ones_like(root._data) if given is None else given
    seen = []
    for release in (False, True):
        run(root._edge, gradient, release)
        seen.append(_snapshot(leaves, retained))
    try:
        run(root._edge, gradient, True)
    except RuntimeError as error:
        seen.append(str(error))
    else:
        seen.append(_snapshot(leaves, retained))
    return seen


def _fast(edge, gradient, release):
    engine._run_plain(edge, gradient, release)


def _reference(edge, gradient, release):
    schedule.run_backward([(edge, gradient)], not release, False)


@pytest.mark.parametrize("seed", range(300))
def test_fast_path_and_reference_loop_agree_bitwise(seed):
    assert _run_twice(seed, _fast) == _run_twice(seed, _reference)


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_grad_and_backward_with_inputs_agree_with_the_fast_path(seed):
    leaves, _retained, root, given = build(seed, hooks=False)
    gradient = None if given is None else gradienti.tensor(given)
    inputs = list(leaves.values())
    grads = autograd.grad(root, inputs, gradient, retain_graph=True, allow_unused=True)
    root.backward(gradient, retain_graph=True, inputs=inputs)
    by_inputs = _snapshot(leaves, [])
    for leaf in inputs:
        leaf.grad = None
    engine._run_plain(root._edge, engine._ones_like(root._data) if given is None else given, True)
    expected = _snapshot(leaves, [])
    assert [None if g is None else _bits(g) for g in grads] == expected
    assert by_inputs == expected


@pytest.mark.parametrize("seed", range(0, 300, 5))
def test_create_graph_gives_the_same_gradients(seed):
    leaves, _retained, root, given = build(seed, hooks=False)
    gradient = None if given is None else gradienti.tensor(given)
    inputs = list(leaves.values())
    grads = autograd.grad(
        root, inputs, gradient, retain_graph=True, create_graph=True, allow_unused=True
    )
    engine._run_plain(root._edge, engine._ones_like(root._data) if given is None else given, True)
    for grad_value, leaf in zip(grads, inputs):
        if grad_value is None:
            assert leaf.grad is None
        else:
            np.testing.assert_allclose(grad_value.detach().numpy(), leaf.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("seed", range(0, 300, 5))
def test_explain_tells_the_gradients_backward_computes(seed):
    leaves, _retained, root, given = build(seed, hooks=False)
    told = explain(root, gradient=None if given is None else gradienti.tensor(given), names=leaves)
    engine._run_plain(root._edge, engine._ones_like(root._data) if given is None else given, True)
    for name, leaf in leaves.items():
        if leaf.grad is None:
            assert name not in told.leaf_totals
            continue
        total = np.asarray(told.leaf_totals[name][1])
        assert (total.dtype, total.shape, total.tobytes()) == _bits(leaf.grad), name


def test_which_calls_take_the_fast_path(monkeypatch):
    """One root whose grad_fn has one output, no inputs=, no create_graph: the fast path;
    anything else: the reference loop."""
    calls = []
    fast = engine._run_plain
    monkeypatch.setattr(engine, "_run_plain", lambda *args: calls.append(args) or fast(*args))
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    autograd.backward((x * x).sum())
    (x * x).backward(gradienti.ones(3))
    assert len(calls) == 3
    autograd.backward([(x * x).sum(), x.sum()])
    (x * x).sum().backward(inputs=[x])
    (x * x).sum().backward(create_graph=True)
    gradienti.unbind(x * x)[1].backward()
    autograd.grad((x * x).sum(), x)
    assert len(calls) == 3
