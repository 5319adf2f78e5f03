"""Shape ops (view, expand, select) and the shape helpers that VJPs share.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).

``expand``, ``sum_to``, ``reshape`` and ``cast`` take a raw array (fast backward) or a Tensor
(recorded backward) and return the same kind, so that a VJP is written once for both.
"""

from __future__ import annotations

from ..autograd.function import SAVE_NOTHING, Op
from ..backend import from_numpy_dtype, xp
from ..size import infer_shape, shape_arguments
from ..tensor import Tensor
from .apply import unary


class ViewBackward0(Op):
    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.reshape(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.input_shape)


class ExpandBackward0(Op):
    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.broadcast_to(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.input_shape)


class SumToBackward(Op):
    """Sums a broadcast gradient back to an input's shape (the VJP of broadcasting)."""

    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return sum_to_array(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.input_shape)


class SelectBackward0(Op):
    """``x[index]`` along the first dimension."""

    __slots__ = ("index", "input_shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        # ``x[i, ...]`` keeps a 0-d result an array view instead of a copied NumPy scalar.
        return x[ctx.index, ...]

    @staticmethod
    def backward(ctx, g):
        if type(g) is Tensor:
            node = SelectScatterBackward()
            node.index = ctx.index
            node.shape = ctx.input_shape
            return unary(node, g)
        return SelectScatterBackward.embed(g, ctx.index, ctx.input_shape)


class SelectScatterBackward(Op):
    """Places a slice into zeros: the VJP of select, itself differentiable (by select)."""

    __slots__ = ("index", "shape")
    save = SAVE_NOTHING

    @staticmethod
    def embed(values, index, shape):
        out = xp.zeros(shape, dtype=values.dtype)
        out[index] = values
        return out

    @staticmethod
    def forward(ctx, x):
        return SelectScatterBackward.embed(x, ctx.index, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return select(g, ctx.index)


def select(x, index: int):
    node = SelectBackward0()
    node.index = index
    return unary(node, x)


def reshape(g, shape):
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = ViewBackward0()
        node.shape = tuple(shape)
        return unary(node, g)
    return xp.reshape(g, shape)


def expand(g, shape):
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = ExpandBackward0()
        node.shape = tuple(shape)
        return unary(node, g)
    return xp.broadcast_to(g, shape)


def sum_to(g, shape):
    """Sum ``g`` over the dimensions that broadcasting added or stretched, down to ``shape``."""
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = SumToBackward()
        node.shape = tuple(shape)
        return unary(node, g)
    return sum_to_array(g, shape)


def sum_to_array(g, shape):
    g_shape = g.shape
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and g_shape[lead + i] != 1
    )
    summed = g.sum(axis=axes, keepdims=True) if axes else g
    return summed.reshape(shape) if lead else summed


def cast(g, np_dtype):
    """Convert a gradient to a NumPy dtype (the VJP of a dtype conversion)."""
    if type(g) is Tensor:
        return g.to(from_numpy_dtype(np_dtype))
    return g.astype(np_dtype)


# ---------------------------------------------------------------------- public functions
def view(input, *shape):
    node = ViewBackward0()
    node.shape = infer_shape(shape_arguments(shape), input._data.size)
    return unary(node, input)


def reshape_tensor(input, *shape):
    """``x.reshape(2, 3)`` / ``torch.reshape(x, (2, 3))``."""
    return view(input, *shape)


def expand_tensor(input, *shape):
    """``x.expand(2, -1, 3)``: -1 keeps a dimension's size."""
    shape = shape_arguments(shape)
    lead = len(shape) - input._data.ndim
    node = ExpandBackward0()
    node.shape = tuple(
        input._data.shape[i - lead] if size == -1 else size for i, size in enumerate(shape)
    )
    return unary(node, input)


TENSOR_METHODS = {"view": view, "reshape": reshape_tensor, "expand": expand_tensor}
FUNCTIONS = {"reshape": reshape_tensor}
UFUNCS: dict = {}
