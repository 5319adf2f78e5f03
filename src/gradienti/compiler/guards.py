"""Signatures: what a compiled program assumes about a call, as one hashable key.

A Tensor argument by its type, shape, strides, dtype, whether it requires grad and is a
leaf (a function may branch on ``is_contiguous()`` or ``is_leaf``; ``view`` raises on a
non-contiguous input), whether its data is an array or a NumPy scalar, and which earlier
argument it is (the same tensor twice is one slot of the trace); a Python number, string or
None by value (with its type: 1, 1.0 and True are different programs); tuples, lists and
dicts of these by their items; a Module by identity and its state (see ``module_state``);
anything else by identity (what it holds: compiler/outside.py). Grad mode and the default
dtype (an integer input lifted to float takes it) are part of the key. PyTorch guards the
same way (``torch._dynamo``'s guards on tensors' properties and on constants' values), and
recompiles when a guard fails, up to ``CACHE_SIZE_LIMIT`` signatures
(``torch._dynamo.config.cache_size_limit``).
"""

from __future__ import annotations

import types
from math import copysign

from ..backend import default_float, xp
from ..graph.node import AccumulateGrad
from ..nn.module import Module
from ..tensor import Tensor

CACHE_SIZE_LIMIT = 8
_ndarray = xp.ndarray
_VALUE_TYPES = frozenset((bool, int, float, complex, str, type(None)))


def signature(args: tuple, kwargs: dict, grad_enabled: bool, tensors: list, keep: list):
    """The key of a call; fills ``tensors`` with its tensor arguments in order and ``keep``
    with the objects guarded by identity (kept alive by the cache entry, so that their ids
    are not reused)."""
    if not kwargs and len(args) == 1 and type(args[0]) is Tensor:  # f(x): the common call
        (tensor,) = args
        tensors.append(tensor)
        data = tensor._data
        edge = tensor._edge
        return (
            *(grad_enabled, default_float.value, data.shape, data.strides, data.dtype),
            *(edge is not None, type(edge) is AccumulateGrad, type(data)),
        )
    seen: dict[int, int] = {}
    parts = [grad_enabled, default_float.value, _key(args, tensors, seen, keep)]
    if kwargs:
        parts.append(
            tuple((name, _key(value, tensors, seen, keep)) for name, value in kwargs.items())
        )
    return tuple(parts)


def _key(value, tensors: list, seen: dict, keep: list):
    kind = type(value)
    if kind in _VALUE_TYPES:
        return (kind, value, copysign(1.0, value)) if kind is float else (kind, value)
    if isinstance(value, Tensor):
        first = seen.get(id(value))
        if first is not None:
            return ("same", first)
        seen[id(value)] = len(tensors)
        tensors.append(value)
        data = value._data
        edge = value._edge
        return (
            *(kind, data.shape, data.strides, data.dtype, edge is not None),
            *(type(edge) is AccumulateGrad, type(data) is _ndarray),
        )
    if kind is tuple or kind is list:
        return (kind, tuple(_key(item, tensors, seen, keep) for item in value))
    if kind is dict:
        return (kind, tuple((k, _key(item, tensors, seen, keep)) for k, item in value.items()))
    keep.append(value)
    if isinstance(value, Module):
        return ("module", id(value), module_state(value))
    return ("object", id(value))


def module_state(module: Module) -> tuple:
    """A module's state as a compiled call sees it: each submodule's ``training`` and plain
    attributes (numbers, strings, None: ``self.scale = 3.0`` read by forward is part of the
    program), and the identity of each parameter and buffer (a replaced parameter is a new
    signature; their shapes, dtypes and requires_grad are checked as captured tensors)."""
    plain = tuple(
        tuple(
            (name, type(value), value, _sign(value))
            for name, value in m.__dict__.items()
            if type(value) in _VALUE_TYPES
        )
        for m in module.modules()
    )
    tensors = tuple(id(p) for p in module.parameters()) + tuple(id(b) for b in module.buffers())
    return (plain, tensors)


def plain_sources(function) -> tuple:
    """Where a function reads Python values the trace bakes in: its closure cells and the
    globals its code names that hold a number, a string or None (``(cell, None)`` or
    ``(globals, name)``)."""
    if not isinstance(function, types.FunctionType):
        return ()
    sources = [
        (cell, None)
        for cell in function.__closure__ or ()
        if type(_cell_value(cell)) in _VALUE_TYPES
    ]
    space = function.__globals__
    for name in function.__code__.co_names:
        if name in space and type(space[name]) in _VALUE_TYPES:
            sources.append((space, name))
    return tuple(sources)


def read_sources(sources: tuple) -> tuple:
    """The values at ``sources`` now (with their types: 1 and 1.0 differ)."""
    values = []
    for where, name in sources:
        value = _cell_value(where) if name is None else where.get(name, _GONE)
        values.append((type(value), value, _sign(value)))
    return tuple(values)


_GONE = object()


def _sign(value) -> float | None:
    """A float's sign (0.0 == -0.0, but 1 / -0.0 is -inf: a different program)."""
    return copysign(1.0, value) if type(value) is float else None


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _GONE
