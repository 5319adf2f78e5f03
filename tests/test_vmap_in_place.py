"""In-place writes under ``gradienti.func.vmap`` against ``torch.func.vmap``: a tensor may take
per-sample values in place only if it is batched at every vmap level those values are batched
at (PyTorch's rule). Otherwise PyTorch's error, whether or not the write is recorded for
autograd and at whichever level of a nested vmap the tensor lacks; never a batched value left in
a tensor from outside (which would leak out of vmap) or a copy that the tensor's views miss.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.batching import BatchedArray

RNG = np.random.default_rng(7)
OUTER = RNG.normal(size=(2, 3))
INNER = RNG.normal(size=(5, 3))


def _outcome(action):
    """(exception class name, text) that ``action(lib)`` raises with gradienti and with torch."""
    torch = pytest.importorskip("torch")
    raised = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as info:
            action(lib)
        raised.append((type(info.value).__name__, str(info.value)))
    return raised


def _recorded(lib):
    """A tensor from outside vmap whose in-place updates are recorded (it requires grad)."""
    return lib.ones(3, dtype=lib.float64, requires_grad=True) * 1


def _shared_recorded_mul(lib):
    shared = _recorded(lib)
    lib.func.vmap(lambda y: shared.mul_(y))(lib.tensor(OUTER))


def _shared_recorded_copy(lib):
    shared = _recorded(lib)
    lib.func.vmap(lambda y: shared.copy_(y))(lib.tensor(OUTER))


def _shared_recorded_setitem(lib):
    shared = _recorded(lib)

    def write(y):
        shared[:2] = y[:2]
        return shared

    lib.func.vmap(write)(lib.tensor(OUTER))


def _shared_recorded_index_put(lib):
    shared = _recorded(lib)

    def write(y):
        shared[lib.tensor([0, 1])] = y[:2]
        return shared

    lib.func.vmap(write)(lib.tensor(OUTER))


def _nested(write):
    """``write(lib, x, y)`` where ``x`` is batched by the inner vmap only and ``y`` by the
    outer one only."""

    def action(lib):
        vmap = lib.func.vmap
        inner_values = lib.tensor(INNER)

        def outer(y):
            def inner(x):
                x = x * 1  # (a tensor of the inner level's own)
                write(lib, x, y)
                return x

            return vmap(inner)(inner_values)

        return vmap(outer)(lib.tensor(OUTER))

    return action


CASES = {
    "recorded mul_ into a shared tensor": _shared_recorded_mul,
    "recorded copy_ into a shared tensor": _shared_recorded_copy,
    "recorded slice write into a shared tensor": _shared_recorded_setitem,
    "recorded index write into a shared tensor": _shared_recorded_index_put,
    "copy_ of the outer level's values, inner level": _nested(lambda lib, x, y: x.copy_(y)),
    "mul_ by the outer level's values, inner level": _nested(lambda lib, x, y: x.mul_(y)),
    "slice write of the outer level's values": _nested(
        lambda lib, x, y: x.__setitem__(slice(None), y)
    ),
    "index write of the outer level's values": _nested(
        lambda lib, x, y: x.__setitem__(lib.tensor([0, 2]), y[:2])
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_as_torch(name):
    ours, theirs = _outcome(CASES[name])
    assert ours == theirs


def test_a_refused_write_leaves_the_shared_tensor_as_it_was():
    shared = _recorded(gradienti)
    with pytest.raises(RuntimeError):
        gradienti.vmap(lambda y: shared.mul_(y))(gradienti.tensor(OUTER))
    assert type(shared._data) is not BatchedArray
    assert shared.tolist() == [1.0, 1.0, 1.0]


def test_writes_the_tensor_can_hold_are_done_in_place_as_torch():
    """Values batched at levels the tensor is batched at (or at none) are written into it,
    and its views see them."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        vmap = lib.func.vmap
        inner_values = lib.tensor(INNER)

        def outer(y, lib=lib, vmap=vmap, inner_values=inner_values):
            def inner(x):
                both = x * y  # batched at both levels
                view = both[:2]
                both.copy_(y * 2)  # the outer level's values: both levels are there
                both.add_(x)  # the inner level's
                both[1:] = 5.0  # the same for every sample
                return both, view

            return vmap(inner)(inner_values)

        both, view = vmap(outer)(lib.tensor(OUTER))
        results.append((both.detach().numpy(), view.detach().numpy()))
    (ours, our_view), (theirs, their_view) = results
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(our_view, their_view)
