"""``index_fill``: the slices at ``index`` along ``dim`` filled with one value (a number:
IndexFillBackward0; a 0-d tensor, which gets a gradient too: IndexFillBackward1).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py); the
in-place ``index_fill_`` is in ops/inplace_parts.py.

The input's gradient is the upstream gradient with the filled slices zeroed (the same op with
0 for the value); the value's is the sum of the upstream gradient over the filled slices, each
slice once however often ``index`` names it.
"""

from __future__ import annotations

from ..backend import xp
from ..batching import all_samples, writable_for
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import nary, unary
from .declare import declare
from .explain_rule import Rule
from .jvp_rules import linear_nary
from .shape import run


def _filled(x, key: tuple, value):
    """A copy of ``x`` with ``x[key] = value`` (vmap: a batched value gets a batched copy)."""
    copy = xp.array(x) if isinstance(x, xp.generic) else x.copy()  # (a 0-d result: a scalar)
    out = writable_for(copy, value)
    out[key] = value
    return out


class IndexFillBackward0(Op):
    """``x.index_fill(dim, index, number)``."""

    __slots__ = ("key", "value")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return _filled(x, ctx.key, ctx.value)

    @staticmethod
    def backward(ctx, g):
        return run(_zeroing(ctx.key), g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents  # the filled slices are constant: their tangent is 0
        return unary(_zeroing(ctx.key), tangent)


def _zeroing(key: tuple) -> IndexFillBackward0:
    node = IndexFillBackward0()
    node.key, node.value = key, 0
    return node


class IndexFillBackward1(Op):
    """``x.index_fill(dim, index, value)`` with a 0-d tensor value: linear in (x, value)."""

    __slots__ = ("key", "unique_key")
    save = SAVE_NOTHING
    jvp = staticmethod(linear_nary)

    @staticmethod
    def forward(ctx, x, value):
        return _filled(x, ctx.key, value)

    @staticmethod
    def backward(ctx, g):
        x_edge, value_edge = ctx._next
        grad_x = run(_zeroing(ctx.key), g) if x_edge is not None else None
        grad_value = g[ctx.unique_key].sum() if value_edge is not None else None
        return grad_x, grad_value


def index_fill(input, dim: int, index, value):
    if not isinstance(index, Tensor) or not isinstance(dim, int) or isinstance(dim, bool):
        got = ", ".join(type(a).__name__ for a in (dim, index, value))
        raise TypeError(
            f"index_fill() received an invalid combination of arguments - got ({got}), but "
            "expected one of:\n * (int dim, Tensor index, Tensor value)\n * (int dim, Tensor "
            "index, Number value)"
        )
    if index._data.dtype != xp.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape))
    size = shape[dim] if shape else 1
    positions = xp.array(index._data).reshape(-1)
    checked = all_samples(positions)  # (under vmap: every sample's indices)
    outside = (checked >= size) | (checked < -size)
    if outside.any():
        bad = int(checked.reshape(-1)[xp.flatnonzero(outside)[0]])
        raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    positions = positions % size if size else positions
    lead = (slice(None),) * dim
    key = lead + (positions,) if shape else (Ellipsis,)
    if not isinstance(value, Tensor):
        node = IndexFillBackward0()
        node.key, node.value = key, value
        return unary(node, input)
    if value._data.dtype != input._data.dtype:
        value = value.to(input.dtype)  # the value takes the input's dtype
    node = IndexFillBackward1()
    node.key = key
    node.unique_key = lead + (xp.unique(positions),) if shape else (Ellipsis,)
    return nary(node, input, value)


DECLARATIONS = (
    declare(
        "index_fill",
        index_fill,
        explain={
            IndexFillBackward0: Rule(
                "filling the slices at the index",
                "{x:9}.index_fill(dim, index, value)",
                passes=("the gradient, 0 in the filled slices",),
            ),
            IndexFillBackward1: Rule(
                "filling the slices at the index with a tensor",
                "{a:9}.index_fill(dim, index, {b:0})",
                passes=(
                    "the gradient, 0 in the filled slices",
                    "the gradient summed over the filled slices",
                ),
            ),
        },
    ),
)
