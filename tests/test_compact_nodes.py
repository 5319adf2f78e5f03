"""Compact nodes (graph/node.py): a node whose first input is its only one that can carry a
gradient keeps that edge in ``_sole`` and has no ``_next`` tuple until something reads it.

What must hold: the graph reads as PyTorch's (``next_functions``), gradients are PyTorch's on
the fast path and the reference loop alike, and a scalar chain holds one GC-tracked object per
op (the saving the layout is for)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import gradienti
from gradienti.graph.node import Node

torch = pytest.importorskip("torch")

# op on x (a Tensor of either library) -> its result; each one records a compact node.
COMPACT_OPS = {
    "x + 2": lambda x: x + 2.5,
    "x - 2": lambda x: x - 2.5,
    "x * 2": lambda x: x * 2.5,
    "x / 2": lambda x: x / 2.5,
    "tanh": lambda x: x.tanh(),
    "exp": lambda x: x.exp(),
    "sigmoid": lambda x: x.sigmoid(),
}


def _names(next_functions) -> list:
    return [(None if node is None else type(node).__name__, nr) for node, nr in next_functions]


@pytest.mark.parametrize("name", list(COMPACT_OPS))
def test_compact_node_reads_as_pytorchs(name):
    op = COMPACT_OPS[name]
    x = gradienti.tensor([0.5, -1.0, 2.0], requires_grad=True)
    node = op(x).grad_fn
    assert node._sole is x._edge
    assert "_next" not in _set_slots(node)  # no tuple made at record time
    tx = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert _names(node.next_functions) == _names(op(tx).grad_fn.next_functions)
    # _next is made once, on the first read, and kept
    assert node._next is node._next
    assert node._next[0] is x._edge


def _set_slots(node) -> set:
    names = set()
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            try:
                object.__getattribute__(node, slot)
            except AttributeError:
                continue
            names.add(slot)
    return names


def test_full_form_nodes_keep_their_tuple():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    w = gradienti.tensor([3.0, 4.0], requires_grad=True)
    node = (x * w).grad_fn
    assert node._sole is None
    assert "_next" in _set_slots(node)


def test_an_unrecorded_node_has_no_next():
    node = gradienti.ops.elementwise.MulBackward0()
    with pytest.raises(AttributeError, match="'MulBackward0' object has no attribute '_next'"):
        node._next  # noqa: B018 - the read is the test


def _chain(x):
    y = x
    for _ in range(3):
        y = ((y * 1.5).tanh() - 0.25).exp() / 3.0 + 0.5
        y = y.sigmoid()
    return y


@pytest.mark.parametrize("way", ["backward", "grad", "retain_twice", "read_midway", "hooks"])
def test_gradients_through_compact_nodes_are_pytorchs(way):
    start = np.array([0.3, -0.7, 1.1, 0.05], dtype=np.float32)
    upstream = np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32)
    x = gradienti.tensor(start, requires_grad=True)
    tx = torch.tensor(start, requires_grad=True)
    y = _chain(x)
    ty = _chain(tx)
    g = gradienti.tensor(upstream)
    tg = torch.tensor(upstream)
    if way == "backward":
        y.backward(g)
        ty.backward(tg)
        got, expected = x.grad, tx.grad
    elif way == "grad":  # the reference loop
        (got,) = gradienti.autograd.grad(y, x, g)
        (expected,) = torch.autograd.grad(ty, tx, tg)
    elif way == "retain_twice":
        y.backward(g, retain_graph=True)
        y.backward(g)
        ty.backward(tg, retain_graph=True)
        ty.backward(tg)
        got, expected = x.grad, tx.grad
    elif way == "read_midway":
        # some nodes have made their _next tuple (a graph drawn, then differentiated)
        node = y.grad_fn
        while node is not None and type(node).__name__ != "AccumulateGrad":
            node.next_functions  # noqa: B018
            node = node.next_functions[0][0]
            if node is not None and type(node).__name__ != "AccumulateGrad":
                node = node.next_functions[0][0]
        y.backward(g)
        ty.backward(tg)
        got, expected = x.grad, tx.grad
    else:  # a post-hook on a compact two-input node sees PyTorch's full tuple
        seen, tseen = [], []
        y = (x * 2.0).sum()
        ty = (tx * 2.0).sum()
        mul = y.grad_fn.next_functions[0][0]
        tmul = ty.grad_fn.next_functions[0][0]
        mul.register_hook(lambda inputs, outputs: seen.append([v is None for v in inputs]))
        tmul.register_hook(lambda inputs, outputs: tseen.append([v is None for v in inputs]))
        y.backward()
        ty.backward()
        assert seen == tseen == [[False, True]]
        got, expected = x.grad, tx.grad
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=0)
    assert got.dtype == gradienti.float32


def test_a_scalar_chain_holds_one_tracked_object_per_op():
    steps = 2000
    gc.collect()  # (tuples of untracked values, Mul's saved (None, number), get untracked here)
    before = len(gc.get_objects())
    x = gradienti.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(steps):
        y = y * 0.999 + 0.001
    gc.collect()
    tracked = len(gc.get_objects()) - before
    assert isinstance(y.grad_fn, Node)
    # 2 nodes per step, x, y, x's AccumulateGrad and a few of the collector's own; the
    # layout with a (edge, None) tuple per node held 2 per op (8,000 here)
    assert tracked < 2 * steps + 50, tracked
    y.backward()
    np.testing.assert_allclose(float(x.grad), 0.999**steps, rtol=1e-3)
