"""Parts of matrices: diagonals (diag, diagonal, trace) and triangles (tril, triu).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Each VJP is the adjoint part-taking: the gradient of a diagonal is put back on a diagonal of
zeros (itself an op, whose VJP takes the diagonal again), the gradient of a triangle is that
triangle of the gradient.
"""

from __future__ import annotations

from ..arguments import check_int
from ..backend import sum_dtype, xp
from ..batching import writable_for
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import unary
from .declare import declare, explain_nodes
from .explain_rule import Rule
from .jvp_rules import linear
from .shape import ViewBackward0, view_op


# ------------------------------------------------------------------ trace, tril, triu
class TraceBackward0(Op):
    __slots__ = ("dtype", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x.trace(dtype=ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        # d trace(X) / dX = the identity (rectangular for a non-square X)
        rows, columns = ctx.input_shape
        dtype = g._data.dtype if type(g) is Tensor else g.dtype
        return g * xp.eye(rows, columns, dtype=dtype)


class TrilBackward0(Op):
    __slots__ = ("diagonal",)
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return xp.tril(x, ctx.diagonal)

    @staticmethod
    def backward(ctx, g):
        return tril(g, ctx.diagonal) if type(g) is Tensor else xp.tril(g, ctx.diagonal)


class TriuBackward0(Op):
    __slots__ = ("diagonal",)
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return xp.triu(x, ctx.diagonal)

    @staticmethod
    def backward(ctx, g):
        return triu(g, ctx.diagonal) if type(g) is Tensor else xp.triu(g, ctx.diagonal)


def trace(input):
    data = input._data
    if data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {data.ndim}")
    if data.dtype == bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    node = TraceBackward0()
    node.dtype = sum_dtype(data.dtype, None)
    return unary(node, input)


def _triangle(node, name: str, input, diagonal: int) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    node.diagonal = int(diagonal)
    return unary(node, input)


def tril(input, diagonal: int = 0):
    return _triangle(TrilBackward0(), "tril", input, diagonal)


def triu(input, diagonal: int = 0):
    return _triangle(TriuBackward0(), "triu", input, diagonal)


# ------------------------------------------------------------------ diag, diagonal
class DiagonalBackward0(Op):
    """The diagonal along ``dim1``/``dim2`` as the last dimension: a view."""

    __slots__ = ("offset", "dim1", "dim2", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x.diagonal(ctx.offset, ctx.dim1, ctx.dim2)

    @staticmethod
    def backward(ctx, g):
        return _embed(g, ctx.input_shape, ctx.offset, ctx.dim1, ctx.dim2)


class DiagonalBackward0_copy(DiagonalBackward0):  # noqa: N801 - PyTorch's name for diag(2-D)
    """``diag`` of a matrix: the diagonal, copied."""

    __slots__ = ()
    is_view = False

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x.diagonal(ctx.offset, ctx.dim1, ctx.dim2).copy()


class DiagonalBackwardBackward0(Op):
    """Values placed on a diagonal of zeros: the VJP of diagonal, itself differentiable."""

    __slots__ = ("shape", "offset", "dim1", "dim2")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return _embed_array(x, ctx.shape, ctx.offset, ctx.dim1, ctx.dim2)

    @staticmethod
    def backward(ctx, g):
        return _diagonal(g, ctx.offset, ctx.dim1, ctx.dim2)


class DiagEmbedBackward0(DiagonalBackwardBackward0):
    """``diag`` of a vector: a matrix with the vector on one diagonal."""

    __slots__ = ()


def _embed_array(values, shape, offset: int, dim1: int, dim2: int):
    out = writable_for(xp.zeros(shape, dtype=values.dtype), values)  # (vmap: per sample)
    target = xp.moveaxis(out, (dim1, dim2), (-2, -1))  # a writable view
    index = xp.arange(values.shape[-1])
    target[..., index + max(-offset, 0), index + max(offset, 0)] = values
    return out


def _embed(g, shape, offset: int, dim1: int, dim2: int):
    if type(g) is not Tensor:
        return _embed_array(g, shape, offset, dim1, dim2)
    return unary(_diagonal_node(DiagonalBackwardBackward0, offset, dim1, dim2, shape), g)


def _diagonal(g, offset: int, dim1: int, dim2: int):
    if type(g) is not Tensor:
        return g.diagonal(offset, dim1, dim2)
    return unary(_diagonal_node(DiagonalBackward0, offset, dim1, dim2), g)


def _diagonal_node(node_class, offset: int, dim1: int, dim2: int, shape=None):
    node = node_class()
    node.offset, node.dim1, node.dim2 = offset, dim1, dim2
    if shape is not None:
        node.shape = shape
    return node


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    ndim = input._data.ndim
    first, second = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return unary(_diagonal_node(DiagonalBackward0, int(offset), first, second), input)


def diag(input, diagonal: int = 0):
    data = input._data
    offset = int(diagonal)
    if data.ndim == 1:
        size = data.shape[0] + abs(offset)
        return unary(_diagonal_node(DiagEmbedBackward0, offset, 0, 1, (size, size)), input)
    if data.ndim == 2:
        return unary(_diagonal_node(DiagonalBackward0_copy, offset, 0, 1), input)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {data.ndim}D")


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The last dim of ``input`` put on diagonal ``offset`` of the (dim1, dim2) planes of a
    result with one more dim (zeros elsewhere)."""
    offset = check_int(offset, "diag_embed", "offset", 2)
    dim1, dim2 = check_int(dim1, "diag_embed", "dim1", 3), check_int(dim2, "diag_embed", "dim2", 4)
    shape = input._data.shape
    ndim = len(shape) + 1
    first, second = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    size = shape[-1] + abs(offset)  # (a 0-d input has no two distinct dims: refused above)
    rest = iter(shape[:-1])
    out_shape = tuple(size if d in (first, second) else next(rest) for d in range(ndim))
    return unary(_diagonal_node(DiagEmbedBackward0, offset, first, second, out_shape), input)


def diagflat(input, offset: int = 0):
    """The flattened ``input`` on diagonal ``offset`` of a square matrix."""
    flat = view_op(ViewBackward0, input, (input._data.size,))
    return diag_embed(flat, offset, 0, 1)


# ---------------------------------------------------------------------- explain rules
_ON_DIAGONAL = ("the gradient, put on that diagonal of zeros",)
_DIAGONAL_OF_GRADIENT = ("the diagonal of the gradient",)


def _triangle_rule(name: str, words: str, side: str):
    def rule(node) -> Rule:
        k = node.diagonal
        where = "the diagonal" if k == 0 else f"diagonal {k}"
        form = f"{name}({{x:0}})" if k == 0 else f"{name}({{x:0}}, {k})"
        return Rule(
            f"{words} (on and {side} {where})",
            form,
            passes=(f"the gradient on and {side} {where}, 0 elsewhere",),
        )

    return rule


def _diag_rule(words: str, passes: tuple):
    def rule(node) -> Rule:
        form = "diag({x:0})" if node.offset == 0 else f"diag({{x:0}}, {node.offset})"
        return Rule(words, form, passes=passes)

    return rule


def _diagonal_rule(node) -> Rule:
    arguments = (node.offset, node.dim1, node.dim2)
    shown = "" if arguments == (0, 0, 1) else ", ".join(str(a) for a in arguments)
    return Rule("diagonal (a view)", f"{{x:9}}.diagonal({shown})", passes=_ON_DIAGONAL)


DECLARATIONS = (
    declare(
        "trace",
        trace,
        explain={
            TraceBackward0: Rule(
                "trace (sum of the diagonal)",
                "trace({x:0})",
                passes=("the gradient on the diagonal, 0 elsewhere",),
            )
        },
    ),
    declare(
        "tril", tril, explain={TrilBackward0: _triangle_rule("tril", "lower triangle", "below")}
    ),
    declare(
        "triu", triu, explain={TriuBackward0: _triangle_rule("triu", "upper triangle", "above")}
    ),
    declare(
        "diag",
        diag,
        explain={
            DiagonalBackward0_copy: _diag_rule("diagonal of a matrix (a copy)", _ON_DIAGONAL),
            DiagEmbedBackward0: _diag_rule("a matrix with x on a diagonal", _DIAGONAL_OF_GRADIENT),
        },
    ),
    declare("diagonal", diagonal, explain={DiagonalBackward0: _diagonal_rule}),
    declare("diag_embed", diag_embed),  # records DiagEmbedBackward0 (diag's rule)
    declare("diagflat", diagflat),
    explain_nodes(
        {
            DiagonalBackwardBackward0: Rule(
                "values put on a diagonal of zeros (the VJP of diagonal)",
                "diagonal_backward({x:0}, …)",
                passes=_DIAGONAL_OF_GRADIENT,
            )
        }
    ),
)
