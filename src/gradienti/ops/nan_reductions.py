"""Reductions that skip NaN: ``nansum`` (its own node, ``NansumBackward0``) and ``nanmean``
(PyTorch's composition: ``nansum / count of non-NaN elements``, so it records
``DivBackward0`` over ``NansumBackward0``).

The gradient of nansum is the upstream gradient spread over the reduced dimensions and
multiplied by ``not isnan(x)``: 0 where the input was NaN, as PyTorch's ``nansum_backward``.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, sum_dtype, to_numpy_dtype, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import wrap
from .apply import unary
from .declare import declare
from .elementwise import where
from .explain_rule import Rule
from .jvp_rules import same_op
from .logical import isnan
from .reduce import as_dtype, keep_dims, raw, reduction_dims
from .saved_names import SavedNames, value
from .shape import expand


class NansumBackward0(Op):
    """Sum over ``dims`` (normalised; every axis when the caller gave none), NaN counted as 0."""

    __slots__ = ("dims", "keepdim", "given_dim", "input_shape", "input_dtype", "dtype")
    save = SAVE_INPUTS
    saved_names = SavedNames(dim=value("given_dim"), keepdim=value("keepdim"), self=0)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        ctx.input_dtype = x.dtype
        result_dtype = x.dtype if ctx.dtype is None else xp.dtype(ctx.dtype)
        if result_dtype == xp.float16:
            # PyTorch accumulates half in float32; NumPy's float16 sum along a strided axis
            # adds in float16 and stalls (3000 times 0.1 gave 256, not 300).
            total = xp.nansum(x, axis=ctx.dims, keepdims=ctx.keepdim, dtype=xp.float32)
            return xp.asarray(total.astype(xp.float16))
        return xp.asarray(xp.nansum(x, axis=ctx.dims, keepdims=ctx.keepdim, dtype=ctx.dtype))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        if ctx.dtype is not None:
            g = as_dtype(g, ctx.input_dtype)
        # times not-NaN (not a where): an upstream NaN stays NaN, as in PyTorch
        return expand(g, ctx.input_shape) * ~xp.isnan(raw(x))

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # PyTorch's: the tangent with NaN positions zeroed, then summed the same way.
        masked = where(isnan(primals[0]), 0.0, tangents[0])
        return unary(same_op(ctx), masked)


def _given_dims(dim):
    if dim is None:
        return None
    return (dim,) if isinstance(dim, int) else tuple(dim)


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    node = NansumBackward0()
    node.given_dim = _given_dims(dim)
    node.dims = reduction_dims(dim, input._data.ndim)
    node.keepdim = keepdim
    node.dtype = sum_dtype(input._data.dtype, dtype)
    return unary(node, input)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    source = input._data.dtype
    if source.kind not in "fc":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{SCALAR_TYPE_NAMES[from_numpy_dtype(source).name]}"
        )
    asked = None if dtype is None else to_numpy_dtype(dtype)
    if asked is not None and asked.kind not in "fc":
        # (a mean in an integer dtype would be truncated)
        raise RuntimeError(
            "nanmean(): could not infer output dtype. Optional dtype must be either a floating "
            f"point or complex dtype. Got: {SCALAR_TYPE_NAMES[from_numpy_dtype(asked).name]}"
        )
    dims = reduction_dims(dim, input._data.ndim)
    present = (~xp.isnan(input._data)).sum(axis=dims, keepdims=keepdim, dtype=xp.int64)
    return nansum(input, dim, keepdim, dtype=dtype) / wrap(xp.asarray(present), NO_EDGE)


def _nansum_rule(node) -> Rule:
    over = "of all elements" if node.given_dim is None else f"over dim {node.dims}"
    arguments = "" if node.given_dim is None else f", dim={node.dims}"
    return Rule(
        f"sum {over}, NaN counted as 0",
        f"nansum({{x:0}}{arguments})",
        passes=("the gradient, copied to every element that is not NaN (0 at a NaN)",),
    )


DECLARATIONS = (
    declare("nansum", nansum, explain={NansumBackward0: _nansum_rule}),
    declare("nanmean", nanmean),
)
