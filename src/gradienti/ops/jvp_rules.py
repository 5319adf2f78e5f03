"""Forward-mode derivative (JVP) rules that many ops share (see ``Op.jvp`` in graph/node.py and
ops/forward_tangents.py for the contract).

Most shape, indexing and joining ops, and sum and mean, are linear in their floating-point
inputs: ``f(x + e·t) = f(x) + e·f(t)``. Their JVP is the op itself, with the same static
parameters (dims, shapes, keys, index arrays), applied to the tangents: ``same_op`` makes that
node, and ``linear``, ``linear_multi`` and ``linear_nary`` run it. A multi-input linear op
(cat, stack) sums the shares of the inputs that have tangents; running it once on the tangents,
zeros standing in for the missing ones, is that sum.
"""

from __future__ import annotations

from ..backend import xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_OUTPUT, Node
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


# ---------------------------------------------------------------------- elementwise ops
# An elementwise op's Jacobian in each input is diagonal (after broadcasting: the input's
# tangent broadcasts as the input did), so J·t is the VJP's formula with t in place of the
# gradient: PyTorch's ``auto_element_wise``. The VJP is run as written, on a stand-in of the
# node that reads as the VJP expects: parameters, saved values, which inputs want a gradient.
_WANTED = True  # any non-None value in ``_next``: the VJP computes that input's gradient


class _AsVjpContext:
    """A node as its VJP reads it (``ctx``) when run for a JVP: the node's static parameters
    (read through), ``_saved`` / ``saved_tensors`` made of the primals and the output as the
    op's ``save`` declares them, and ``_next`` wanting one input's gradient."""

    __slots__ = ("_node", "_saved", "_next")

    def __init__(self, node, saved: tuple, wanted: tuple) -> None:
        self._node = node
        self._saved = saved
        self._next = wanted

    def __getattr__(self, name: str):
        return getattr(self._node, name)

    @property
    def saved_tensors(self) -> tuple:
        return self._saved


def diagonal_shares(ctx, primals, out, tangents, inputs=None):
    """The sum, over the inputs (indices; all by default) that have a tangent, of the op's VJP
    with that input's tangent for the gradient: the output's tangent from those inputs when
    the op's Jacobian in each is diagonal. None when none of them has a tangent."""
    saved = primals if ctx.save & SAVE_INPUTS else ()
    if ctx.save & SAVE_OUTPUT:
        saved += (out,)
    count = len(primals)
    total = None
    for index in range(count) if inputs is None else inputs:
        tangent = tangents[index]
        if tangent is None:
            continue
        wanted = tuple(_WANTED if position == index else None for position in range(count))
        result = ctx.backward(_AsVjpContext(ctx, saved, wanted), tangent)
        share = result[index] if type(result) is tuple else result  # bare: the first input's
        total = share if total is None else total + share
    return total


def elementwise_jvp(ctx, primals, out, tangents):
    """JVP of an elementwise op: its VJP with each tangent for the gradient, summed over the
    inputs (for ``jvp = staticmethod(elementwise_jvp)`` on the op class)."""
    return diagonal_shares(ctx, primals, out, tangents)
