"""Ordering: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Each op picks indices along a dimension (ops/order_rows.py: PyTorch's choice among equal
values) and returns the values there with PyTorch's named tuple. Only the values are
differentiable, as in PyTorch: the gradient goes back to the position each value was taken
from (zeros elsewhere), and the indices are a constant tensor. ``median()`` and
``nanmedian()`` of all elements share the gradient among the elements equal to the result,
as PyTorch's ``evenly_distribute_backward``.
"""

from __future__ import annotations

from ..backend import xp
from ..graph import versions
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import unary
from .declare import declare
from .explain_rule import Rule
from .extrema import MaxBackward0, MaxBackward1, return_types
from .indexing import embed, read_key
from .order_rows import (
    kth_index,
    median_index,
    rows_along,
    stable_order,
    unfold_rows,
)
from .saved_names import SavedNames, dim_as_given, held, value
from .scatter import grid_key
from .stdlib_order import mode_index, topk_order, unstable_order

# ---------------------------------------------------------------------- sort, topk
_RADIX_SORT_SIZE = 32768  # at::internal::GRAIN_SIZE


def _check_indices_unmodified(node) -> None:
    """PyTorch saves the returned indices for the backward: modified in place since, they
    fail it with its error (the node reads them from the same memory)."""
    now = versions.version(node.indices)
    if now:
        raise versions.modified_error(versions.tensor_text(node.returned_indices), now, 0)


class SortBackward0(Op):
    """The values in sorted order along ``dim``: each gradient goes back to where its value
    came from."""

    __slots__ = ("dim", "given_dim", "indices", "input_shape", "descending", "stable")
    save = SAVE_NOTHING
    saved_names = SavedNames(
        dim=value(dim_as_given), indices=held("indices"), self_sym_sizes=value("input_shape")
    )

    @property
    def returned_indices(self):
        return self.indices

    def order(self, rows, expanded: bool = False):
        if expanded:
            # PyTorch's sort kernel leaves the indices 0, 1, 2, ... along a dimension of
            # stride 0 (an expanded tensor, all one value there) and sorts nothing.
            return xp.tile(xp.arange(rows.shape[1], dtype=xp.int64), (rows.shape[0], 1))
        if self.stable or self.radix_sorted(rows):
            return stable_order(rows, self.descending)
        return unstable_order(rows, self.descending)

    def radix_sorted(self, rows) -> bool:
        """Whether PyTorch's kernel takes its (stable) radix sort: an ascending sort of a 1-d
        integral tensor of at least 32768 elements (its parallel grain size)."""
        return (
            len(self.input_shape) == 1
            and not self.descending
            and rows.dtype.kind in "iu"
            and rows.shape[1] >= _RADIX_SORT_SIZE
        )

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        if ctx.dim is None:  # a 0-d input
            ctx.indices = xp.zeros((), dtype=xp.int64)
            return xp.array(x)
        rows, lead = rows_along(x, ctx.dim)
        strides = getattr(x, "strides", None)  # (a vmap batch has none)
        expanded = strides is not None and strides[ctx.dim] == 0
        ctx.indices = unfold_rows(ctx.order(rows, expanded), lead, ctx.dim)
        return xp.take_along_axis(x, ctx.indices, axis=ctx.dim)

    @staticmethod
    def backward(ctx, g):
        _check_indices_unmodified(ctx)
        if ctx.dim is None:
            return g
        return embed(ctx.input_shape, grid_key(ctx.indices, ctx.dim), g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The tangent read at the chosen indices.
        (tangent,) = tangents
        if ctx.dim is None:
            return tangent
        return read_key(tangent, grid_key(ctx.indices, ctx.dim))


class SortBackward1(SortBackward0):
    """``sort(..., stable=...)``: PyTorch's node of the overload with ``stable``."""

    __slots__ = ()


class TopkBackward0(SortBackward0):
    """The ``k`` largest (or smallest) values along ``dim``."""

    __slots__ = ("k", "largest", "sorted")

    def order(self, rows, expanded: bool = False):
        # (topk's kernel has no shortcut for an expanded dimension)
        return topk_order(rows, self.k, self.largest, self.sorted)


def _check_sortable(name: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    if input._data.dtype.kind == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")


def _int_argument(name: str, argument: str, position: int, value) -> int:
    """An int argument as PyTorch's parser takes it: an int, or a one-element integral tensor
    (``topk(x, k)`` with ``k`` computed as a tensor)."""
    if isinstance(value, Tensor) and value._data.dtype.kind in "iu" and value._data.size == 1:
        return int(value._data.reshape(()))
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
        raise TypeError(
            f"{name}(): argument '{argument}' (position {position}) must be int, not "
            f"{type(value).__name__}"
        )
    return int(value)


def _along(node, input, dim: int, name: str):
    """Apply an ordering node along ``dim`` (normalized; None for a 0-d input)."""
    dim = _int_argument(name, "dim", 2, dim)
    ndim = input._data.ndim
    node.given_dim = dim
    axis = normalize_dim(dim, ndim)
    node.dim = axis if ndim else None
    values = unary(node, input)
    return values, wrap(node.returned_indices, None)


def sort(input, dim=-1, descending=False, *, stable=None):
    """``torch.sort``: (values, indices) along ``dim``; NaN sorts as the largest value. With
    ``stable=True`` equal values keep their order; without, they come in the order PyTorch's
    CPU kernel (``std::sort``) leaves them."""
    _check_sortable("sort", input)
    node = SortBackward0() if stable is None else SortBackward1()
    node.descending, node.stable = bool(descending), bool(stable)
    return return_types.sort(*_along(node, input, dim, "sort"))


def argsort(input, dim=-1, descending=False, *, stable=False):
    """``torch.argsort``: the indices that sort ``input`` along ``dim``."""
    return sort(input.detach(), dim, descending, stable=stable).indices


def msort(input):
    """``torch.msort``: ``sort(input, dim=0).values``."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """``torch.topk``: the ``k`` largest (``largest=False``: smallest) values along ``dim``
    and their indices."""
    _check_sortable("topk", input)
    k = _int_argument("topk", "k", 2, k)
    shape = input._data.shape
    axis = normalize_dim(_int_argument("topk", "dim", 3, dim), len(shape))
    if not 0 <= k <= (shape[axis] if shape else 1):
        raise RuntimeError("selected index k out of range")
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    node = TopkBackward0()
    node.k, node.largest, node.sorted = k, bool(largest), bool(sorted)
    return return_types.topk(*_along(node, input, dim, "topk"))


# ---------------------------------------------------------------------- one value along a dim
class KthvalueBackward0(MaxBackward0):
    """The k-th smallest value along ``dim``; the gradient goes to its index only."""

    __slots__ = ("k",)

    def pick(self, rows):
        return kth_index(rows, self.k)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        dim = ctx.dim
        if dim is None:  # a 0-d input
            ctx.indices = xp.zeros((), dtype=xp.int64)
            return xp.array(x)
        rows, lead = rows_along(x, dim)
        indices = unfold_rows(ctx.pick(rows)[:, None], lead, dim)
        ctx.indices = indices  # with the reduced dimension kept, for the backward
        values = xp.take_along_axis(x, indices, axis=dim)
        return values if ctx.keepdim else values.squeeze(dim)

    @staticmethod
    def backward(ctx, g):
        _check_indices_unmodified(ctx)
        return MaxBackward0.backward(ctx, g)


class MedianBackward1(KthvalueBackward0):
    """The median along ``dim`` (the lower of the two middle values; NaN if there is one)."""

    __slots__ = ()
    ignore_nan = False

    def pick(self, rows):
        return median_index(rows, self.ignore_nan)


class NanmedianBackward1(MedianBackward1):
    """The median of the values other than NaN along ``dim``."""

    __slots__ = ()
    ignore_nan = True


class ModeBackward0(KthvalueBackward0):
    """The most frequent value along ``dim`` (the smallest of them)."""

    __slots__ = ()

    def pick(self, rows):
        return mode_index(rows)


_NO_DIM = object()  # "dim not given": the median of all elements


# The kernels without a bool version, by the name PyTorch's error gives them (mode has one).
_NO_BOOL_KERNEL = {"kthvalue": "kthvalue_cpu", "median": "median_out", "nanmedian": "median_out"}


def _one_along(name: str, node, input, dim: int, keepdim: bool):
    _check_sortable(name, input)
    shape = input._data.shape
    axis = normalize_dim(_int_argument(name, "dim", 2, dim), len(shape))
    if shape and shape[axis] == 0:
        shown = "median" if name == "nanmedian" else name  # PyTorch's shared check says median
        raise IndexError(f"{shown}(): Expected reduction dim {axis} to have non-zero size.")
    # (kthvalue returns a 0-d input before it dispatches on the dtype; median does not)
    no_bool_kernel = name in _NO_BOOL_KERNEL and (shape or name != "kthvalue")
    if no_bool_kernel and input._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{_NO_BOOL_KERNEL[name]}\" not implemented for 'Bool'")
    node.keepdim = bool(keepdim)
    return _along(node, input, dim, name)


def kthvalue(input, k, dim=-1, keepdim=False):
    """``torch.kthvalue``: the k-th smallest value along ``dim`` (k from 1) and its index."""
    k = _int_argument("kthvalue", "k", 2, k)
    node = KthvalueBackward0()
    node.k = k
    shape = input._data.shape if isinstance(input, Tensor) else ()
    axis = normalize_dim(_int_argument("kthvalue", "dim", 3, dim), len(shape))
    size = shape[axis] if shape else 1
    if size and not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    return return_types.kthvalue(*_one_along("kthvalue", node, input, dim, keepdim))


class MedianBackward0(MaxBackward1):
    """The median of all elements; the gradient is shared equally among the elements equal to
    it (all NaNs when it is NaN)."""

    __slots__ = ()
    saved_names = SavedNames(self=0, result=1)
    ignore_nan = False

    @staticmethod
    def forward(ctx, x):
        if x.size == 0:
            return xp.full((), xp.nan, dtype=x.dtype)
        rows = x.reshape((1, -1))
        index = median_index(rows, ctx.ignore_nan)
        return xp.take_along_axis(rows, index[:, None], axis=1).reshape(())


class NanmedianBackward0(MedianBackward0):
    __slots__ = ()
    ignore_nan = True


def _median(name, all_node, dim_node, result_type, input, dim, keepdim):
    if dim is _NO_DIM:
        _check_sortable(name, input)
        if input._data.dtype.kind == "b" and input._data.size:
            # (no data: PyTorch returns NaN cast to the dtype before it looks at the dtype)
            raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
        return unary(all_node(), input)
    return result_type(*_one_along(name, dim_node(), input, dim, keepdim))


def median(input, dim=_NO_DIM, keepdim=False):
    """``torch.median``: of all elements, or along ``dim`` with the index (the lower of the
    two middle values; NaN where there is one)."""
    return _median(
        "median", MedianBackward0, MedianBackward1, return_types.median, input, dim, keepdim
    )


def nanmedian(input, dim=_NO_DIM, keepdim=False):
    """``torch.nanmedian``: ``median`` of the values other than NaN."""
    return _median(
        "nanmedian",
        NanmedianBackward0,
        NanmedianBackward1,
        return_types.nanmedian,
        input,
        dim,
        keepdim,
    )


def mode(input, dim=-1, keepdim=False):
    """``torch.mode``: the most frequent value along ``dim`` (the smallest of several) and the
    last of its indices."""
    return return_types.mode(*_one_along("mode", ModeBackward0(), input, dim, keepdim))


# ---------------------------------------------------------------------- explain rules
_BACK_TO_PLACE = "each gradient back to the position its value came from, 0 elsewhere"
_AT_INDEX = "the gradient at each returned index, 0 elsewhere"


def _dim_of(node) -> int:
    return 0 if node.dim is None else node.dim  # None: a 0-d input


def _sort_rule(node) -> Rule:
    dim, order = _dim_of(node), "descending" if node.descending else "ascending"
    shown = ", descending=True" if node.descending else ""
    return Rule(
        f"sort along dim {dim}, {order}",
        f"sort({{x:0}}, dim={dim}{shown})",
        passes=(_BACK_TO_PLACE,),
    )


def _topk_rule(node) -> Rule:
    dim, which = _dim_of(node), "largest" if node.largest else "smallest"
    shown = "" if node.largest else ", largest=False"
    return Rule(
        f"the {node.k} {which} values along dim {dim}",
        f"topk({{x:0}}, {node.k}, dim={dim}{shown})",
        passes=(_BACK_TO_PLACE,),
    )


def _kthvalue_rule(node) -> Rule:
    dim = _dim_of(node)
    return Rule(
        f"the value of rank {node.k} (from the smallest) along dim {dim}",
        f"kthvalue({{x:0}}, {node.k}, dim={dim})",
        passes=(_AT_INDEX,),
    )


def _pick_rule(function: str, words: str):
    def rule(node) -> Rule:
        dim = _dim_of(node)
        return Rule(
            f"{words} along dim {dim}", f"{function}({{x:0}}, dim={dim})", passes=(_AT_INDEX,)
        )

    return rule


def _of_all_rule(function: str, words: str) -> Rule:
    return Rule(
        words,
        f"{function}({{x:0}})",
        passes=("the gradient, shared equally among the elements equal to it, 0 elsewhere",),
    )


DECLARATIONS = (
    declare(
        "sort",
        sort,
        explain={SortBackward0: _sort_rule, SortBackward1: _sort_rule},
    ),
    declare("argsort", argsort),  # indices: not differentiable
    declare("msort", msort),
    declare("topk", topk, explain={TopkBackward0: _topk_rule}),
    declare("kthvalue", kthvalue, explain={KthvalueBackward0: _kthvalue_rule}),
    declare(
        "median",
        median,
        explain={
            MedianBackward0: _of_all_rule("median", "median of all elements"),
            MedianBackward1: _pick_rule("median", "median"),
        },
    ),
    declare(
        "nanmedian",
        nanmedian,
        explain={
            NanmedianBackward0: _of_all_rule("nanmedian", "median of the non-NaN elements"),
            NanmedianBackward1: _pick_rule("nanmedian", "median of the non-NaN values"),
        },
    ),
    declare("mode", mode, explain={ModeBackward0: _pick_rule("mode", "most frequent value")}),
)
