"""Extremes: max, min (over all elements, or along a dimension with the indices), amax,
amin, argmax, argmin, and the named tuples that PyTorch returns (``torch.return_types``).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Gradients at ties follow PyTorch: ``max()``/``min()`` of all elements and ``amax``/``amin``
share the gradient equally among the tied elements; ``max(dim)``/``min(dim)`` give it all to
the returned index (the first of the tied elements). Only the values are differentiable: the
indices are a constant tensor, as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

from ..backend import xp
from ..batching import BatchedArray
from ..graph import versions
from ..graph.node import NO_EDGE, SAVE_BOTH, SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from . import pointwise
from .apply import unary
from .declare import declare
from .elementwise import where
from .explain_rule import Rule
from .indexing import read_key
from .reduce import keep_dims, raw, reduction_dims
from .reduce import sum as reduce_sum
from .saved_names import SavedNames, dim_as_given, held, value
from .scatter import grid_key
from .shape import reshape


# ---------------------------------------------------------------------- return types
def _return_type(name: str, fields: str):
    """A named tuple printed as PyTorch prints ``torch.return_types.<name>``."""

    def __repr__(self) -> str:
        inner = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
        return f"torch.return_types.{name}(\n{inner})"

    cls = type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": __repr__})
    cls.__qualname__ = f"return_types.{name}"
    return cls


class return_types:  # noqa: N801 - PyTorch's namespace name
    """``torch.return_types``: the named tuples of ops with several results."""

    max = _return_type("max", "values indices")
    min = _return_type("min", "values indices")
    sort = _return_type("sort", "values indices")
    topk = _return_type("topk", "values indices")
    kthvalue = _return_type("kthvalue", "values indices")
    median = _return_type("median", "values indices")
    nanmedian = _return_type("nanmedian", "values indices")
    mode = _return_type("mode", "values indices")
    histogram = _return_type("histogram", "hist bin_edges")
    aminmax = _return_type("aminmax", "min max")
    # torch.linalg's (ops/linalg_*.py)
    linalg_cholesky_ex = _return_type("linalg_cholesky_ex", "L info")
    linalg_inv_ex = _return_type("linalg_inv_ex", "inverse info")
    linalg_solve_ex = _return_type("linalg_solve_ex", "result info")
    linalg_slogdet = _return_type("linalg_slogdet", "sign logabsdet")
    slogdet = _return_type("slogdet", "sign logabsdet")
    linalg_lu_factor = _return_type("linalg_lu_factor", "LU pivots")
    linalg_lu_factor_ex = _return_type("linalg_lu_factor_ex", "LU pivots info")
    linalg_lu = _return_type("linalg_lu", "P L U")
    triangular_solve = _return_type("triangular_solve", "solution cloned_coefficient")


# ---------------------------------------------------------------------- max and min
class MaxBackward1(Op):
    """The largest element; the gradient is shared equally among ties (NaN counts as largest)."""

    __slots__ = ()
    save = SAVE_BOTH
    saved_names = SavedNames(self=0, result=1)

    @staticmethod
    def forward(ctx, x):
        return x.max()

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        x, out = raw(x), raw(out)
        if type(out) is BatchedArray:  # vmap: each sample's own extreme and count of ties
            chosen = xp.where(out != out, xp.isnan(x), x == out)
            count = chosen.sum().astype(raw(g).dtype)
            return where(chosen, g / (wrap(count, None) if type(g) is Tensor else count), 0.0)
        chosen = xp.isnan(x) if out != out else x == out
        return where(chosen, g / int(chosen.sum()), 0.0)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The mean of the tangents of the tied extremes (PyTorch's evenly_read_jvp: NaN when the
        # extreme is NaN, as no element equals it). The count is an array, not a number: under
        # vmap each sample has its own.
        chosen = raw(primals[0]) == raw(out)
        count = wrap(xp.asarray(chosen.sum(dtype=raw(out).dtype)), NO_EDGE)
        return reduce_sum((tangents[0] / count) * chosen)


class MinBackward1(MaxBackward1):
    __slots__ = ()
    saved_names = SavedNames(self=0, result=1)

    @staticmethod
    def forward(ctx, x):
        return x.min()


class MaxBackward0(Op):
    """The largest elements along ``dim``; the gradient goes to the returned index only."""

    __slots__ = ("dim", "given_dim", "keepdim", "indices", "input_shape")
    save = SAVE_NOTHING
    select = staticmethod(xp.argmax)
    # PyTorch saves the returned indices (an output); ``indices`` keeps the reduced dim.
    saved_names = SavedNames(
        indices=held("returned_indices"),
        dim=value(dim_as_given),
        keepdim=value("keepdim"),
        self_sym_sizes=value("input_shape"),
    )

    @property
    def returned_indices(self):
        """The indices as the op returns them: int64, the reduced dim dropped unless kept."""
        indices = self.indices
        if not self.keepdim and self.dim is not None:
            indices = indices.squeeze(self.dim)
        return indices.astype(xp.int64, copy=False)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        dim = ctx.dim
        if dim is None:  # a 0-d input
            ctx.indices = xp.zeros((), dtype=xp.int64)
            return xp.array(x)
        indices = ctx.select(x, axis=dim, keepdims=True)
        ctx.indices = indices  # with the reduced dimension kept, for the backward
        values = xp.take_along_axis(x, indices, axis=dim)
        return values if ctx.keepdim else values.squeeze(dim)

    @staticmethod
    def backward(ctx, g):
        # PyTorch saves the returned indices: changed in place since (they share this memory),
        # they would send the gradient elsewhere, so backward fails with PyTorch's error.
        changed = versions.version(ctx.indices)
        if changed:
            raise versions.modified_error(versions.tensor_text(ctx.returned_indices), changed, 0)
        dim = ctx.dim
        if dim is None:
            return g
        shape = ctx.input_shape
        positions = xp.arange(shape[dim]).reshape((-1,) + (1,) * (len(shape) - dim - 1))
        g = keep_dims(g, (dim,), ctx.keepdim, shape)
        return where(positions == ctx.indices, g, 0.0)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The tangent at the returned index.
        (tangent,) = tangents
        if ctx.dim is None:
            return tangent
        return reshape(read_key(tangent, grid_key(ctx.indices, ctx.dim)), out.shape)


class MinBackward0(MaxBackward0):
    __slots__ = ()
    select = staticmethod(xp.argmin)


class AmaxBackward0(Op):
    """The largest elements over ``dims``; the gradient is shared equally among ties."""

    __slots__ = ("dims", "keepdim", "input_shape")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.asarray(x.max(axis=ctx.dims, keepdims=ctx.keepdim))

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim, shape = ctx.dims, ctx.keepdim, ctx.input_shape
        x = raw(x)
        chosen = x == keep_dims(raw(out), dims, keepdim, shape)
        count = chosen.sum(axis=dims, keepdims=True, dtype=x.dtype)
        # (g / count) * chosen, as PyTorch: NaN where the extreme is NaN (no element equals it).
        return (keep_dims(g, dims, keepdim, shape) / count) * chosen.astype(x.dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The mean of the tangents of the tied extremes (PyTorch's amaxamin_jvp).
        dims, keepdim = ctx.dims, ctx.keepdim
        chosen = raw(primals[0]) == keep_dims(raw(out), dims, keepdim, ctx.input_shape)
        count = chosen.sum(axis=dims, keepdims=keepdim, dtype=raw(out).dtype)
        return reduce_sum(where(chosen, tangents[0], 0.0), dims, keepdim) / count


class AminBackward0(AmaxBackward0):
    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.asarray(x.min(axis=ctx.dims, keepdims=ctx.keepdim))


_NO_DIM = object()  # "dim not given", distinct from an explicit dim=None


def _check_not_empty(name: str, shape, dims, error=RuntimeError, shown_dims=None) -> None:
    """PyTorch's errors for an extreme of nothing."""
    if dims is None:
        if 0 in shape:
            hint = " Specify the reduction dim with the 'dim' argument." * (error is RuntimeError)
            raise error(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0.{hint}"
            )
        return
    for d, shown in zip(dims, shown_dims or dims):
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {shown} to have non-zero size.")


def _extreme(name, full_node, dim_node, result_type, input, dim, keepdim, other):
    if other is not None or isinstance(dim, Tensor):
        if keepdim is not None or (other is not None and dim is not _NO_DIM):
            raise TypeError(f"{name}(): give either a dim or another tensor, not both")
        return _binary_extreme(name, input, other if other is not None else dim)
    if dim is _NO_DIM:
        if keepdim is not None:
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got keepdim without dim"
            )
        _check_not_empty(name, input._data.shape, None)
        return unary(full_node(), input)
    if not isinstance(dim, int):
        raise TypeError(
            f"{name}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}"
        )
    ndim = input._data.ndim
    axis = normalize_dim(dim, ndim)
    node = dim_node()
    node.dim = axis if ndim else None
    node.given_dim = dim
    node.keepdim = bool(keepdim)
    if ndim:
        _check_not_empty(name, input._data.shape, (axis,))
    values = unary(node, input)
    return result_type(values, wrap(node.returned_indices, None))


def _binary_extreme(name, input, other):
    """``max(a, b)`` is ``maximum(a, b)`` (from the pointwise ops)."""
    function = getattr(pointwise, "maximum" if name == "max" else "minimum", None)
    if function is None:
        raise NotImplementedError(f"{name}(input, other) needs the pointwise maximum/minimum ops")
    return function(input, other)


def max_(input, dim=_NO_DIM, keepdim=None, *, other=None):
    """``max(x)``, ``max(x, dim, keepdim=False)`` -> (values, indices), ``max(x, other)``."""
    return _extreme("max", MaxBackward1, MaxBackward0, return_types.max, input, dim, keepdim, other)


def min_(input, dim=_NO_DIM, keepdim=None, *, other=None):
    """``min(x)``, ``min(x, dim, keepdim=False)`` -> (values, indices), ``min(x, other)``."""
    return _extreme("min", MinBackward1, MinBackward0, return_types.min, input, dim, keepdim, other)


def _amax_like(name, node_class, input, dim, keepdim):
    shape = input._data.shape
    dims = reduction_dims(dim, len(shape))
    if dim is None or (not isinstance(dim, int) and not tuple(dim)):
        _check_not_empty(name, shape, None)
    else:
        given = (dim,) if isinstance(dim, int) else tuple(dim)
        order = sorted(range(len(given)), key=lambda i: normalize_dim(given[i], len(shape)))
        if shape:
            _check_not_empty(name, shape, dims, shown_dims=[given[i] for i in order])
    node = node_class()
    node.dims = dims
    node.keepdim = keepdim
    return unary(node, input)


def amax(input, dim=(), keepdim: bool = False):
    return _amax_like("amax", AmaxBackward0, input, dim, keepdim)


def amin(input, dim=(), keepdim: bool = False):
    return _amax_like("amin", AminBackward0, input, dim, keepdim)


def _arg_extreme(name, select, input, dim, keepdim):
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        _check_not_empty(name, data.shape, None, error=IndexError)
        index = select(data.reshape(-1)).astype(xp.int64) if data.ndim else xp.int64(0)
        if keepdim:
            return wrap(xp.reshape(index, (1,) * data.ndim), None)
        return wrap(index, None)
    axis = normalize_dim(dim, data.ndim)
    if not data.ndim:
        return wrap(xp.zeros((), dtype=xp.int64), None)
    _check_not_empty(name, data.shape, (axis,))
    indices = select(data, axis=axis, keepdims=keepdim)
    return wrap(xp.asarray(indices, dtype=xp.int64), None)


def argmax(input, dim=None, keepdim: bool = False):
    return _arg_extreme("argmax", xp.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False):
    return _arg_extreme("argmin", xp.argmin, input, dim, keepdim)


# ---------------------------------------------------------------------- explain rules
def _of_all_rule(name: str, extreme: str) -> Rule:
    return Rule(
        f"{extreme} element",
        f"{name}({{x:0}})",
        passes=(f"the gradient, shared equally among the {extreme} elements, 0 elsewhere",),
    )


def _along_dim_rule(name: str, extreme: str):
    def rule(node) -> Rule:
        dim = 0 if node.dim is None else node.dim  # None: a 0-d input
        return Rule(
            f"{extreme} along dim {dim}",
            f"{name}({{x:0}}, dim={dim})",
            passes=("the gradient at each returned index, 0 elsewhere",),
        )

    return rule


def _over_dims_rule(name: str, extreme: str):
    def rule(node) -> Rule:
        return Rule(
            f"{extreme} over dim {node.dims}",
            f"{name}({{x:0}}, dim={node.dims})",
            passes=(f"the gradient, shared equally among the {extreme} elements, 0 elsewhere",),
        )

    return rule


DECLARATIONS = (
    declare(
        "max",
        max_,
        explain={
            MaxBackward1: _of_all_rule("max", "largest"),
            MaxBackward0: _along_dim_rule("max", "largest"),
        },
    ),
    declare(
        "min",
        min_,
        explain={
            MinBackward1: _of_all_rule("min", "smallest"),
            MinBackward0: _along_dim_rule("min", "smallest"),
        },
    ),
    declare("amax", amax, explain={AmaxBackward0: _over_dims_rule("amax", "largest")}),
    declare("amin", amin, explain={AminBackward0: _over_dims_rule("amin", "smallest")}),
    declare("argmax", argmax),  # indices: not differentiable
    declare("argmin", argmin),
)
