"""The vector norm's node, which ``torch.norm``, ``Tensor.norm`` and ``linalg.vector_norm``
record (ops/linalg_norms.py), for any order p over all elements or over dimensions.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..graph.node import NO_EDGE, SAVE_BOTH, Op
from ..tensor import wrap
from .declare import explain_nodes
from .elementwise import where
from .explain_rule import Rule, num, power_text
from .reduce import as_dtype, keep_dims, raw

_INF = float("inf")


class LinalgVectorNormBackward0(Op):
    """The vector ``ord``-norm over ``dims`` (``torch.norm`` and ``Tensor.norm``)."""

    __slots__ = ("ord", "dims", "keepdim", "dtype", "input_dtype", "input_shape")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        ctx.input_shape = x.shape
        if ctx.dtype is not None:
            x = x.astype(ctx.dtype)
        dims, keepdim, p = ctx.dims, ctx.keepdim, ctx.ord
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        elif p == 1:
            out = xp.abs(x).sum(axis=dims, keepdims=keepdim)
        elif p == _INF:
            out = xp.abs(x).max(axis=dims, keepdims=keepdim)
        elif p == -_INF:
            out = xp.abs(x).min(axis=dims, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=dims, keepdims=keepdim, dtype=x.dtype)
        else:
            out = (xp.abs(x) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
        return xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        if ctx.ord == 0:
            return None
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        if 3 <= ctx.ord < _INF:
            # PyTorch masks g / norm^(p-1) where the norm is 0, g included: a recorded second
            # derivative's NaN reaching a zero norm is masked to 0 there, as PyTorch's (below 3,
            # the infinite slope of |x|^(p-1) or |x|^(p-2) at 0 makes PyTorch's NaN, kept here).
            return as_dtype(_partials(ctx, x, norm, g), ctx.input_dtype)
        return as_dtype(g * _partials(ctx, x, norm), ctx.input_dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The norm's tangent: its partial derivatives times the tangent, summed over dims.
        (x,), (tangent,) = primals, tangents
        if ctx.ord == 0:  # a count: PyTorch's tangent is zeros
            result = raw(out)
            return wrap(xp.zeros(result.shape, result.dtype), NO_EDGE)
        if ctx.dtype is not None:
            tangent = as_dtype(tangent, ctx.dtype)
        terms = tangent * _partials(ctx, x, out)
        return terms.sum(ctx.dims, keepdim=ctx.keepdim) if ctx.dims else terms


def _partials(ctx, x, norm, upstream=1.0):
    """d norm / d x, elementwise (``x`` in the input's shape, ``norm`` the result; arrays, or
    Tensors for a recorded derivative); ``ord`` 0 has none (a count). For a finite ``ord`` of 3
    or more, times ``upstream`` (the gradient, masked with the zero norms)."""
    p, dims = ctx.ord, ctx.dims
    if ctx.dtype is not None:
        x = as_dtype(x, ctx.dtype)
    norm = keep_dims(norm, dims, ctx.keepdim, ctx.input_shape)
    x_raw, norm_raw = raw(x), raw(norm)
    sign = xp.nan_to_num(xp.sign(x_raw), nan=0.0)  # PyTorch's sign of NaN is 0
    if p == 1:
        return sign
    if p == 2:
        return where(norm_raw == 0, 0.0, x / norm)
    if p in (_INF, -_INF):
        # The derivative is shared equally by the elements that reach the norm.
        at_norm = (xp.abs(x_raw) == norm_raw) | xp.isnan(x_raw)
        count = at_norm.sum(axis=dims, keepdims=True, dtype=x_raw.dtype)
        return (sign * at_norm) / count
    if p < 1:
        scaled = where(x_raw == 0, 0.0, xp.abs(x) ** (p - 1)) * sign
        return scaled * norm ** (1 - p)
    scaled = xp.abs(x) ** (p - 1) * sign if p < 2 else x * xp.abs(x) ** (p - 2)
    return scaled * where(norm_raw == 0, 0.0, upstream / norm ** (p - 1))


def _check_identity_free(shape, dims, dim, p):
    """The inf-norm (a max) and the negative orders (a min, a sum of inverse powers) of
    nothing are undefined: PyTorch's errors, the order printed as c10 prints a double."""
    name = str(int(p)) if p.is_integer() else repr(p)
    if dim is None or not dims:
        if not math.prod(shape):
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because "
                "the operation does not have an identity"
            )
        return
    for d in dims:
        if shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on the dimension {d}"
                "because this dimension is empty and the operation does not have an identity"
            )


# ---------------------------------------------------------------------- explain rule
def _norm_rule(node) -> Rule:
    p = node.ord
    if p == 2:
        words, passes = "Euclidean norm", "the gradient times x/norm (0 where the norm is 0)"
    elif p == 1:
        words, passes = "1-norm (sum of |x|)", "the gradient times sign(x)"
    elif abs(p) == _INF:
        extreme = "largest" if p > 0 else "smallest"
        words = f"{extreme} |x|"
        passes = f"the gradient times sign(x), shared equally among the {extreme} |x|"
    elif p == 0:
        words, passes = "number of nonzero elements", "nothing (a count has no gradient)"
    else:
        power = power_text(p - 1)  # d ‖x‖ₚ/dx = sign(x)·|x|^(p-1) / ‖x‖ₚ^(p-1)
        words, passes = f"{num(p)}-norm", f"the gradient times sign(x)·|x|{power}/norm{power}"
    arguments = "" if p == 2 else f", p={num(p)}"
    if node.dims != tuple(range(len(node.input_shape))):
        arguments += f", dim={node.dims}"
        words += f" over dim {node.dims}"
    return Rule(words, f"norm({{x:0}}{arguments})", passes=(passes,))


# torch.norm itself is declared in ops/linalg_norms.py: its matrix orders ('nuc', 'fro' over
# more than two dims) are linalg.matrix_norm's, as PyTorch's torch.norm routes them.
DECLARATIONS = (explain_nodes({LinalgVectorNormBackward0: _norm_rule}),)
