"""Reductions: sum and mean over all elements or over dimensions, with their VJPs.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

from ..autograd.function import SAVE_NOTHING, Op
from ..backend import SCALAR_TYPE_NAMES, sum_dtype, xp
from ..size import normalize_dims
from .apply import unary
from .shape import expand, reshape


class SumBackward0(Op):
    """Sum of all elements."""

    __slots__ = ("input_shape", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x.sum(dtype=ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.input_shape)


class SumBackward1(Op):
    """Sum over the dimensions ``dims`` (normalised, non-negative)."""

    __slots__ = ("dims", "keepdim", "input_shape", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.asarray(x.sum(axis=ctx.dims, keepdims=ctx.keepdim, dtype=ctx.dtype))

    @staticmethod
    def backward(ctx, g):
        return expand(_keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape), ctx.input_shape)


class MeanBackward0(Op):
    __slots__ = ("input_shape",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x.mean()

    @staticmethod
    def backward(ctx, g):
        return expand(g / _count(ctx.input_shape, None), ctx.input_shape)


class MeanBackward1(Op):
    __slots__ = ("dims", "keepdim", "input_shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.asarray(x.mean(axis=ctx.dims, keepdims=ctx.keepdim))

    @staticmethod
    def backward(ctx, g):
        g = _keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        return expand(g / _count(ctx.input_shape, ctx.dims), ctx.input_shape)


def _keep_dims(g, dims, keepdim, input_shape):
    """Reshape a reduced gradient so it broadcasts against the input (size 1 where reduced)."""
    if keepdim:
        return g
    kept = tuple(1 if i in dims else size for i, size in enumerate(input_shape))
    return reshape(g, kept)


def _count(shape, dims) -> int:
    count = 1
    for i, size in enumerate(shape):
        if dims is None or i in dims:
            count *= size
    return count


# ---------------------------------------------------------------------- public functions
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A001 - PyTorch's name
    reduce_dtype = sum_dtype(input._data.dtype, dtype)
    if dim is None:
        node = SumBackward0()
        node.dtype = reduce_dtype
        return unary(node, input)
    node = SumBackward1()
    node.dims = normalize_dims(dim, input._data.ndim)
    node.keepdim = keepdim
    node.dtype = reduce_dtype
    return unary(node, input)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    source = input if dtype is None else input.to(dtype)
    if source._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {SCALAR_TYPE_NAMES[source.dtype.name]}"
        )
    if dim is None:
        return unary(MeanBackward0(), source)
    node = MeanBackward1()
    node.dims = normalize_dims(dim, source._data.ndim)
    node.keepdim = keepdim
    return unary(node, source)


TENSOR_METHODS = {"sum": sum, "mean": mean}
FUNCTIONS = {"sum": sum, "mean": mean}
UFUNCS: dict = {}
