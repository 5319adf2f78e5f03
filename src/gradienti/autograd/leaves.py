"""Handing gradients to the leaves after a backward pass, without ever aliasing two of them.

As PyTorch's AccumulateGrad: a leaf's first gradient becomes its ``.grad``; later ones are
added into that same tensor, in place (a reference taken to ``x.grad`` sees the sum, and so
does a ``.grad`` the user assigned or that ``zero_grad(set_to_none=False)`` zeroed), except
under ``create_graph``, where ``.grad`` becomes a new tensor ``grad + new`` that remembers how
it was made. Retained non-leaf gradients are summed out of place, as PyTorch's retain_grad
does. One lock covers each pass's commit: threads running backward through a shared leaf add
their gradients one after the other, never reading the same old value.

``delivered`` holds the ids of the arrays that someone outside the pass may hold (the caller's
root gradients, what a hook returned, what a leaf already got): such an array, or a view of
one, is copied before it becomes a ``.grad``; anything else is handed over as it is.

The hooks that PyTorch runs once an AccumulateGrad has written its leaf's ``.grad`` (the leaf's
post-accumulate-grad hooks, then the node's post-hooks) run here, leaf by leaf, right after
that leaf's ``.grad`` is written and before the next leaf's, outside the lock (a hook may run
a backward pass of its own, an optimizer step on the leaf, ...).
"""

from __future__ import annotations

import threading

from ..backend import xp
from ..graph import versions
from ..graph.grad_mode import grad_state, set_grad_enabled
from ..graph.node import CONFORM_ONLY, NO_EDGE, AccumulateGrad
from ..python_types import type_name
from ..tensor import Tensor, wrap
from .hook_checks import check_replacements

_ndarray = xp.ndarray

# Held while a pass writes ``.grad``: an uncontended acquire costs ~50 ns per backward call.
COMMIT_LOCK = threading.Lock()


def commit_all(
    retained: list, leaf_grads: list, delivered: set, on_tensors: bool, create_graph: bool = False
) -> None:
    """After a successful pass: retained non-leaf gradients, then the leaves' ``.grad``.

    ``on_tensors``: the gradients are Tensors (the pass ran on Tensors: ``create_graph``, or a
    dual level's tangents to carry); ``create_graph``: whether the hooks that run once a leaf's
    ``.grad`` is written see grad mode on (PyTorch's: only under ``create_graph``).
    """
    with COMMIT_LOCK:
        for variable_ref, value in retained:
            tensor = variable_ref()
            if tensor is not None:
                commit_grad(tensor, value, delivered, on_tensors, in_place=False)
        if not AccumulateGrad.hooked_after_accumulation:
            for accumulator, value in leaf_grads:
                leaf = accumulator._variable()
                if leaf is None:
                    continue
                if leaf._grad is None and type(value) is not _ndarray and not on_tensors:
                    leaf._grad = wrap(value, NO_EDGE)  # a first 0-d gradient: commit_grad's
                    continue  # case, written out for scalar graphs (one call fewer per leaf)
                commit_grad(leaf, value, delivered, on_tensors)
            return
    commit_leaves_running_hooks(leaf_grads, delivered, on_tensors, create_graph)


def commit_leaves_running_hooks(leaf_grads: list, delivered: set, on_tensors: bool, create_graph):
    """The leaves' ``.grad`` once some AccumulateGrad has hooks that run after it wrote
    ``.grad``: leaf by leaf, each leaf's hooks right after its own ``.grad``."""
    for accumulator, value in leaf_grads:
        leaf = accumulator._variable()
        if leaf is None:
            continue
        with COMMIT_LOCK:
            commit_grad(leaf, value, delivered, on_tensors)
        hooks = accumulator._hooks
        if hooks is not None and hooks is not CONFORM_ONLY:
            run_hooks_after_accumulation(leaf, hooks, value, create_graph)


def run_hooks_after_accumulation(leaf, hooks, value, create_graph: bool) -> None:
    """The leaf's post-accumulate-grad hooks (``hook(leaf)``, returning None), then the
    AccumulateGrad's post-hooks (``hook((), (grad,))``, returning None or ``()``), with grad
    mode on only under ``create_graph``, as PyTorch runs them."""
    if not hooks.post_accumulate and not hooks.post:
        return
    with set_grad_enabled(create_graph):
        for hook in list(hooks.post_accumulate.values()):
            returned = hook(leaf)
            if returned is not None:
                _refuse_returned(returned)
        if hooks.post:
            grad = value if type(value) is Tensor else wrap(value, NO_EDGE)
            for hook in list(hooks.post.values()):
                replaced = hook((), (grad,))
                if replaced is not None:
                    check_replacements(hook, (), replaced)


def _refuse_returned(returned) -> None:
    """PyTorch's errors for a post-accumulate-grad hook that returned something."""
    if isinstance(returned, Tensor):
        raise RuntimeError("Tensor post accumulate grad hooks should return None.")
    raise TypeError(f"expected Variable, but hook returned '{type_name(returned)}'")


def mark_delivered(delivered: set, array) -> None:
    """Record that someone outside the pass may hold ``array``, and so its memory: a view's
    base too (NumPy collapses chains of views, so one level is all there is)."""
    delivered.add(id(array))
    base = array.base
    if type(base) is _ndarray:
        delivered.add(id(base))


def claim(value, delivered: set):
    """``value`` itself if no one else can see it, else a copy: never alias two gradients.

    An array already handed out (to another leaf, to the caller, from a hook) is copied, and
    so is a view unless it is the whole of an array that no one was handed (the weight
    gradient of a linear layer is a transposed view of a fresh product: PyTorch steals it
    too); a read-only broadcast is copied. NumPy scalars are immutable.
    """
    if type(value) is _ndarray:
        base = value.base
        if base is None:
            if id(value) in delivered or not value.flags.writeable:
                value = value.copy()
        elif (
            type(base) is not _ndarray  # memory owned by another object (a buffer)
            or base.base is not None
            or base.size != value.size  # a part of a larger array: copy it and let that go
            or id(base) in delivered
            or not value.flags.writeable
        ):
            value = value.copy()
        else:
            delivered.add(id(base))  # the leaf now owns the base's memory
        delivered.add(id(value))
    return value


def commit_grad(tensor, value, delivered: set, create_graph: bool, in_place: bool = True) -> None:
    """Add a gradient into ``tensor.grad``; the caller holds ``COMMIT_LOCK``.

    ``in_place``: a later gradient is added into the existing ``.grad`` tensor (a leaf's
    AccumulateGrad); else ``.grad`` becomes a new tensor each time (retain_grad).
    """
    current = tensor._grad
    if create_graph:
        previous = grad_state.enabled
        grad_state.enabled = True
        try:
            if current is None:
                tensor._grad = value.clone() if id(value) in delivered else value
                delivered.add(id(value))
            else:
                tensor._grad = current + value
        finally:
            grad_state.enabled = previous
        return
    if current is None:
        if type(value) is _ndarray:  # (a NumPy scalar is immutable: nothing to claim)
            value = claim(value, delivered)
        tensor._grad = wrap(value, NO_EDGE)
    elif in_place:
        add_into(current, value)
    else:
        tensor._grad = wrap(current._data + value, NO_EDGE)


def add_into(grad, value) -> None:
    """``grad += value`` as PyTorch's AccumulateGrad does it: the same tensor holds the sum.

    Its memory is written when it can be (a version is counted, so a graph that saved this
    gradient refuses to run backward); a 0-d NumPy scalar, which is immutable, or a read-only
    array (a broadcast view the user assigned) is replaced inside the same tensor instead.
    """
    data = grad._data
    if type(data) is _ndarray and data.flags.writeable:
        xp.add(data, value, out=data)
        versions.bump(data)
    else:
        grad._data = data + value
