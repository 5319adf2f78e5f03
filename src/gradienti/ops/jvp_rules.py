"""Forward-mode derivative (JVP) rules that many ops share (see ``Op.jvp`` in graph/node.py and
ops/apply.forward_tangents for the contract).

Most shape, indexing and joining ops, and sum and mean, are linear in their floating-point
inputs: ``f(x + e·t) = f(x) + e·f(t)``. Their JVP is the op itself, with the same static
parameters (dims, shapes, keys, index arrays), applied to the tangents: ``same_op`` makes that
node, and ``linear``, ``linear_multi`` and ``linear_nary`` run it. A multi-input linear op
(cat, stack) sums the shares of the inputs that have tangents; running it once on the tangents,
zeros standing in for the missing ones, is that sum.
"""

from __future__ import annotations

from ..backend import xp
from ..graph.node import NO_EDGE, Node
from ..tensor import Tensor, wrap
from .apply import nary, unary, unary_multi

# Slots that the recording fills (Node's, and a multi-output node's output bookkeeping): not
# static parameters of the op.
_RECORDING_SLOTS = frozenset(Node.__slots__) | {"num_outputs", "output_meta", "__weakref__"}
_STATIC_SLOTS: dict = {}
_UNSET = object()


def static_slots(op_class) -> tuple:
    """The names of an op class's static parameters: its slots and its bases', but Node's."""
    names = _STATIC_SLOTS.get(op_class)
    if names is None:
        collected: list = []
        for cls in op_class.__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                if name not in _RECORDING_SLOTS and name not in collected:
                    collected.append(name)
        names = _STATIC_SLOTS[op_class] = tuple(collected)
    return names


def same_op(ctx):
    """A fresh node of ``ctx``'s op with ``ctx``'s static parameters (those that are set)."""
    node = type(ctx)()
    for name in static_slots(type(ctx)):
        value = getattr(ctx, name, _UNSET)
        if value is not _UNSET:  # (the forward sets some slots; an unset one is skipped)
            setattr(node, name, value)
    return node


def zeros_like_primal(primal):
    """A zero tangent for ``primal`` (a Tensor), where an op needs every input's tangent."""
    return wrap(xp.zeros(primal._data.shape, dtype=primal._data.dtype), NO_EDGE)


def filled(primals: tuple, tangents: tuple) -> tuple:
    """The tangents, zeros standing in for None (the tangent of an input without one)."""
    return tuple(
        zeros_like_primal(primal) if tangent is None and isinstance(primal, Tensor) else tangent
        for primal, tangent in zip(primals, tangents)
    )


def linear(ctx, primals, out, tangents):
    """JVP of a one-input op linear in its input: the op on the tangent."""
    (tangent,) = tangents
    return unary(same_op(ctx), tangent)


def linear_multi(ctx, primals, out, tangents):
    """JVP of a linear one-input op with several outputs (split, unbind): one tangent each."""
    (tangent,) = tangents
    return unary_multi(same_op(ctx), tangent)


def linear_nary(ctx, primals, out, tangents):
    """JVP of an op linear in all of its inputs together (cat, stack)."""
    return nary(same_op(ctx), *filled(primals, tangents))
