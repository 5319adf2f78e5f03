"""Index ops with an index tensor: index_select, gather, take, take_along_dim, masked_select
(reads), scatter, scatter_add, index_add, masked_fill (writes).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Each read is ``x[key]`` for a NumPy index ``key`` built from the index tensor, and each write
an out-of-place put at ``key``: the two ops of indexing.py under PyTorch's node names, so
that they share one VJP (a read's gradient is an accumulating put into zeros, a put's is a
read) and repeated indices add up their gradients.
"""

from __future__ import annotations

from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, xp
from ..batching import BatchedArray, all_samples, copy_for_writing
from ..graph.grad_mode import MODES
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import nary, unary
from .declare import declare
from .elementwise import where
from .explain_rule import INDEXED, Rule, num
from .indexing import IndexBackward0, IndexPutBackward0, put, read, zero_at
from .jvp_rules import filled
from .saved_names import SavedNames, dim_as_given, held, value
from .shape import expand_tensor, reshape_tensor


# The reads' VJP scatters into zeros at ``key``; PyTorch's nodes save the index tensor as given
# (``index``, the node's copy) and, for gather, take and masked_select, ``self``, which no VJP
# here reads: that one is kept (``source``) only while a special mode is on (saved-tensor
# hooks), so on the plain path ``_saved_self`` is None.
class IndexSelectBackward0(IndexBackward0):
    __slots__ = ("given_dim", "index")
    saved_names = SavedNames(
        index=held("index"), dim=value(dim_as_given), self_sym_sizes=value("input_shape")
    )


class GatherBackward0(IndexBackward0):
    __slots__ = ("given_dim", "index", "source", "sparse_grad")
    saved_names = SavedNames(
        index=held("index"),
        self=held("source", input=0),
        dim=value(dim_as_given),
        sparse_grad=value("sparse_grad"),
    )


class TakeBackward0(IndexBackward0):
    __slots__ = ("index", "source")
    saved_names = SavedNames(index=held("index"), self=held("source", input=0))


class MaskedSelectBackward0(IndexBackward0):
    __slots__ = ("mask", "source")
    saved_names = SavedNames(mask=held("mask"), self=held("source", input=0))


class ScatterBackward0(IndexPutBackward0):
    __slots__ = ("given_dim", "index")
    saved_names = SavedNames(index=held("index"), dim=value(dim_as_given))


class ScatterAddBackward0(IndexPutBackward0):
    __slots__ = ("given_dim", "index")
    saved_names = SavedNames(index=held("index"), dim=value(dim_as_given))


class IndexAddBackward0(IndexPutBackward0):
    """``index_add(dim, index, source, alpha=alpha)``: ``source * alpha`` added at ``key``.

    PyTorch saves ``index`` and ``source`` while source needs a gradient; the VJP reads
    neither (``key`` holds the index), so ``source`` is kept only while a special mode is on.
    """

    __slots__ = ("alpha", "given_dim", "index", "source", "source_dim")
    saved_names = SavedNames(
        index=held("index_for_source"),
        source=held("source_for_grad", input=1),
        alpha=value("alpha"),
        dim=value(dim_as_given),
        source_dim=value("source_dim"),
    )

    @property
    def index_for_source(self):
        return self.index if self._next[1] is not None else None

    @property
    def source_for_grad(self):
        return getattr(self, "source", None) if self._next[1] is not None else None

    @staticmethod
    def forward(ctx, x, values):
        out = xp.array(x, copy=True)
        values = values * ctx.alpha if ctx.alpha != 1 else values
        try:
            xp.add.at(out, ctx.key, values)
        except RuntimeError:  # vmap: per-sample values or indices, into an array the same for all
            out = copy_for_writing(x, values, ctx.key)
            xp.add.at(out, ctx.key, values)
        return out

    @staticmethod
    def backward(ctx, g):
        x_edge, source_edge = ctx._next
        grad_source = None
        if source_edge is not None:
            grad_source = read(g, (), ctx.key)
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
        return (g if x_edge is not None else None), grad_source


class ScatterBackward1(Op):
    """``scatter(dim, index, value)`` with a number: one input."""

    __slots__ = ("key", "value", "given_dim", "index")
    save = SAVE_NOTHING
    saved_names = SavedNames(index=held("index"), dim=value(dim_as_given))

    @staticmethod
    def forward(ctx, x):
        out = xp.array(x, copy=True)
        try:
            out[ctx.key] = ctx.value
        except RuntimeError:  # vmap: per-sample indices, into an array the same for all
            out = copy_for_writing(x, ctx.key)
            out[ctx.key] = ctx.value
        return out

    @staticmethod
    def backward(ctx, g):
        return zero_at(g, (), ctx.key)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return zero_at(tangents[0], (), ctx.key)  # the written number is a constant


class MaskedFillBackward0(Op):
    """``masked_fill(mask, number)``."""

    __slots__ = ("mask", "value")
    save = SAVE_NOTHING
    saved_names = SavedNames(mask=held("mask"))

    @staticmethod
    def forward(ctx, x):
        return xp.where(ctx.mask, xp.asarray(ctx.value).astype(x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        return where(ctx.mask, 0.0, g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return where(ctx.mask, 0.0, tangents[0])  # the fill value is a constant


class MaskedFillBackward1(Op):
    """``masked_fill(mask, value)`` with a 0-d tensor value: two inputs."""

    __slots__ = ("mask",)
    save = SAVE_NOTHING
    saved_names = SavedNames(mask=held("mask"))

    @staticmethod
    def forward(ctx, x, value):
        return xp.where(ctx.mask, value, x)

    @staticmethod
    def backward(ctx, g):
        x_edge, value_edge = ctx._next
        grad_x = where(ctx.mask, 0.0, g) if x_edge is not None else None
        grad_value = where(ctx.mask, g, 0.0) if value_edge is not None else None
        return grad_x, grad_value

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        x_tangent, value_tangent = filled(primals, tangents)
        return where(ctx.mask, value_tangent, x_tangent)


# ---------------------------------------------------------------------- keys and checks
def _index_data(index, function: str, message: str | None = None):
    if not isinstance(index, Tensor) or index._data.dtype not in (xp.int64, xp.int32):
        raise RuntimeError(message or f"{function}(): Expected dtype int32/int64 for index")
    return xp.array(index._data)  # a copy: the node keeps it


def _check_range(array, size: int, dim: int, allow_negative: bool = False) -> None:
    if array.size:
        array = all_samples(array)  # (under vmap: every sample's indices)
        low = -size if allow_negative else 0
        outside = (array >= size) | (array < low)
        if outside.any():
            bad = int(array.reshape(-1)[xp.flatnonzero(outside)[0]])
            raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def grid_key(index_array, dim: int) -> tuple:
    """The NumPy index of gather/scatter: ``index`` along ``dim``, positions elsewhere."""
    ndim = index_array.ndim
    key = []
    for d, size in enumerate(index_array.shape):
        if d == dim:
            key.append(index_array)
        else:
            key.append(xp.arange(size).reshape((1,) * d + (size,) + (1,) * (ndim - d - 1)))
    return tuple(key)


def _scatter_gather_key(input, dim: int, index, function: str, src=None):
    """``(dim normalized, the NumPy key, the node's copy of the index)``."""
    shape = input._data.shape
    index_array = _index_data(index, function)
    ndim = len(shape)
    if index_array.ndim != ndim and not (ndim == 0 and index_array.size <= 1):
        target = "input" if function == "gather" else "self"
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as {target} tensor"
        )
    dim = normalize_dim(dim, ndim)
    if ndim == 0:
        _check_range(index_array, 1, dim)
        return dim, (Ellipsis,), index_array
    src_shape = None if src is None else src._data.shape
    for d, size in enumerate(index_array.shape):
        too_big = d != dim and size > shape[d]
        if src_shape is not None and (too_big or size > src_shape[d]):
            raise RuntimeError(
                f"Expected index {list(index_array.shape)} to be no larger than self "
                f"{list(shape)} apart from dimension {dim} and to be no larger size than src "
                f"{list(src_shape)}"
            )
        if too_big:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index_array.shape)} "
                f"to be no larger than self {list(shape)} apart from dimension {dim}"
            )
    _check_range(index_array, shape[dim], dim)
    return dim, grid_key(index_array, dim), index_array


# ---------------------------------------------------------------------- public functions
def index_select(input, dim: int, index):
    index_array = _index_data(
        index, "index_select", "index_select(): Expected dtype int32 or int64 for index"
    )
    if index_array.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    node = IndexSelectBackward0()
    node.given_dim, node.index = dim, index_array
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape))
    index_array = index_array.reshape(-1)
    if not shape:
        if index_array.size != 1:
            raise RuntimeError(
                "index_select(): Index to scalar can have only 1 value, got "
                f"{index_array.size} value(s)"
            )
        _check_select_range(index_array, shape, 0, 1)
        return _read(node, reshape_tensor(input, (1,)), (index_array.reshape(()),))
    _check_select_range(index_array, shape, dim, shape[dim])
    return _read(node, input, (slice(None),) * dim + (index_array,))


def _check_select_range(index_array, shape: tuple, dim: int, size: int) -> None:
    """index_select's range check, as ATen's CPU kernel words it on each of its paths: an input
    of more than one dim that is empty, or selected along dim 1, names the first index out of
    range (a RuntimeError); otherwise an IndexError without it."""
    values = all_samples(index_array).reshape(-1)  # (under vmap: every sample's indices)
    outside = (values < 0) | (values >= size)
    if not outside.any():
        return
    if len(shape) > 1 and (dim == 1 or 0 in shape):
        if size == 0:
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        first = int(values[xp.flatnonzero(outside)[0]])
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={first} axis_dim={size}")
    raise IndexError("index out of range in self")


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    node = GatherBackward0()
    node.given_dim, node.sparse_grad = dim, sparse_grad
    _, key, node.index = _scatter_gather_key(input, dim, index, "gather")
    return _read(node, input, key, input)


def _read(node, input, key, source=None):
    """``input[key]`` recorded as ``node``; ``source``: the Tensor whose value PyTorch saves
    as ``self``, kept while a special mode is on (see the node classes)."""
    node.key = key
    if source is not None and MODES.special:
        node.source = source._data
    return unary(node, input)


def take(input, index):
    if not isinstance(index, Tensor) or index._data.dtype != xp.int64:
        got = SCALAR_TYPE_NAMES[index.dtype.name] if isinstance(index, Tensor) else "?"
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {got}")
    index_array = xp.array(index._data)
    numel = input._data.size
    values = all_samples(index_array)  # (under vmap: every sample's indices)
    outside = (values >= numel) | (values < -numel)
    if outside.any():
        bad = int(values.reshape(-1)[xp.flatnonzero(outside)[0]])
        raise IndexError(
            f"out of range: tried to access index {bad} on a tensor of {numel} elements."
        )
    node = TakeBackward0()
    node.index = index_array
    source, shape = input, input._data.shape
    if not shape:
        input, shape = reshape_tensor(input, (1,)), (1,)
    key = xp.unravel_index(index_array % max(numel, 1), shape)
    return _read(node, input, tuple(key), source)


def take_along_dim(input, indices, dim=None):
    if not isinstance(indices, Tensor) or indices._data.dtype != xp.int64:
        got = SCALAR_TYPE_NAMES[indices.dtype.name] if isinstance(indices, Tensor) else "?"
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {got}")
    if dim is None:
        return gather(reshape_tensor(input, (-1,)), 0, reshape_tensor(indices, (-1,)))
    shape = input._data.shape
    index_shape = indices._data.shape
    if len(shape) != len(index_shape):
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {len(shape)} dimensions for input, and {len(index_shape)} "
            "dimensions for indices"
        )
    dim = normalize_dim(dim, len(shape))
    common = list(
        xp.broadcast_shapes(
            shape[:dim] + (1,) + shape[dim + 1 :], index_shape[:dim] + (1,) + index_shape[dim + 1 :]
        )
    )
    input_shape = common[:dim] + [shape[dim]] + common[dim + 1 :]
    index_target = common[:dim] + [index_shape[dim]] + common[dim + 1 :]
    indices = indices if list(index_shape) == index_target else indices.expand(index_target)
    return gather(expand_tensor(input, input_shape), dim, indices)


def _broadcast_mask(mask, input, function: str):
    """The output shape of a masked op, with PyTorch's broadcast error (mask is tensor a)."""
    a, b = mask._data.shape, input._data.shape
    ndim = max(len(a), len(b))
    a_full = (1,) * (ndim - len(a)) + a
    b_full = (1,) * (ndim - len(b)) + b
    for i in range(ndim - 1, -1, -1):
        if a_full[i] != b_full[i] and a_full[i] != 1 and b_full[i] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a_full[i]}) must match the size of tensor b "
                f"({b_full[i]}) at non-singleton dimension {i}"
            )
    return tuple(max(x, y) for x, y in zip(a_full, b_full))


def masked_select(input, mask):
    if not isinstance(mask, Tensor) or mask._data.dtype != xp.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    out_shape = _broadcast_mask(mask, input, "masked_select")
    source = input
    if not input._data.ndim:
        input = reshape_tensor(input, (1,))
    if type(mask._data) is BatchedArray:  # a different count per sample
        raise RuntimeError(
            "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot "
            "support this because for each batch this would return a differently shaped Tensor. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues if you need this "
            "feature."
        )
    node = MaskedSelectBackward0()
    node.mask = mask._data
    positions = xp.nonzero(xp.broadcast_to(mask._data, out_shape))
    shape = input._data.shape
    lead = len(out_shape) - len(shape)
    key = tuple(
        positions[lead + d] if size == out_shape[lead + d] else xp.zeros_like(positions[0])
        for d, size in enumerate(shape)
    )
    return _read(node, input, key, source)


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._data.dtype != xp.bool_:
        name = CPP_TYPE_NAMES[mask.dtype.name] if isinstance(mask, Tensor) else "?"
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {name}"
        )
    out_shape = _broadcast_mask(mask, input, "masked_fill")
    grows = out_shape != input._data.shape
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        if input._data.dtype.kind == "f":
            node = MaskedFillBackward1()
            node.mask = xp.array(mask._data)  # a copy: the node keeps it
            return nary(node, input, value)
        value = value._data.item()
    node = MaskedFillBackward0()
    node.mask = xp.array(mask._data)
    node.value = value
    return nary(node, input) if grows else unary(node, input)


def _write(node_class, input, dim, index, src, function: str, accumulate: bool):
    if src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _, key, index_array = _scatter_gather_key(input, dim, index, function, src)
    index_shape = index._data.shape
    if src._data.shape != index_shape:
        src = src[tuple(slice(0, size) for size in index_shape)]
    node = node_class()
    node.given_dim, node.index = dim, index_array
    node.steps = ()
    node.key = key
    node.accumulate = accumulate
    return put(node, input, src)


def scatter(input, dim: int, index, src=None, value=None, *, reduce=None):
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    if src is None:
        src = value
    if isinstance(src, Tensor):
        return _write(ScatterBackward0, input, dim, index, src, "scatter", False)
    _, key, index_array = _scatter_gather_key(input, dim, index, "scatter")
    node = ScatterBackward1()
    node.given_dim, node.index = dim, index_array
    node.key = key
    node.value = src
    return unary(node, input)


def scatter_add(input, dim: int, index, src):
    return _write(ScatterAddBackward0, input, dim, index, src, "scatter", True)


def index_add(input, dim: int, index, source, *, alpha=1):
    shape = input._data.shape
    given_dim, dim = dim, normalize_dim(dim, len(shape))
    if not isinstance(index, Tensor) or index._data.dtype not in (xp.int64, xp.int32):
        raise RuntimeError("index_add_(): Expected dtype int32/int64 for index")
    index_array = xp.array(index._data).reshape(-1) if index._data.ndim < 2 else None
    if index_array is None:
        raise IndexError(
            "index_add_(): Index is supposed to be a vector, but got dim: "
            f"{index._data.ndim} with type: {SCALAR_TYPE_NAMES[index.dtype.name]} and size: "
            f"{list(index._data.shape)}"
        )
    source_shape = source._data.shape
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"index_add_(): self ({SCALAR_TYPE_NAMES[input.dtype.name]}) and source "
            f"({SCALAR_TYPE_NAMES[source.dtype.name]}) must have the same scalar type"
        )
    if source_shape and index_array.size != source_shape[dim]:
        raise RuntimeError(
            f"index_add_(): Number of indices ({index_array.size}) should be equal to "
            f"source.size(dim): ({source_shape[dim]}), for dim: {dim}"
        )
    if source_shape[:dim] + source_shape[dim + 1 :] != shape[:dim] + shape[dim + 1 :]:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(shape)} source.shape = {list(source_shape)}"
        )
    _check_range(index_array, shape[dim], dim)
    node = IndexAddBackward0()
    node.given_dim, node.index = given_dim, index_array.reshape(index._data.shape)
    node.source_dim = len(source_shape)
    if MODES.special:
        node.source = source._data
    node.steps = ()
    node.key = (slice(None),) * dim + (index_array,)
    node.accumulate = True
    node.alpha = alpha
    return put(node, input, source)


# ---------------------------------------------------------------------- explain rules
_MASKED_OUT = "the gradient, 0 where the mask is True"


def _index_add_rule(node) -> Rule:
    alpha = "" if node.alpha == 1 else f", alpha={num(node.alpha)}"
    times = "" if node.alpha == 1 else f", times {num(node.alpha)}"
    return Rule(
        "adding source at the indices along a dim",
        f"{{a:9}}.index_add(dim, index, {{b:0}}{alpha})",
        passes=("the gradient", f"the gradient at the indexed positions{times}"),
    )


def _scatter_value_rule(node) -> Rule:
    return Rule(
        "writing a number at the indices",
        f"{{x:9}}.scatter(dim, index, {num(node.value)})",
        passes=("the gradient, 0 where the number was written",),
    )


def _masked_fill_rule(node) -> Rule:
    return Rule(
        "filling where the mask is True",
        f"{{x:9}}.masked_fill(mask, {num(node.value)})",
        passes=(_MASKED_OUT,),
    )


DECLARATIONS = (
    declare(
        "index_select",
        index_select,
        explain={
            IndexSelectBackward0: Rule(
                "selection by index", "{x:9}.index_select(…)", passes=INDEXED
            )
        },
    ),
    declare(
        "gather",
        gather,
        explain={GatherBackward0: Rule("gathering along a dim", "{x:9}.gather(…)", passes=INDEXED)},
    ),
    declare(
        "take",
        take,
        explain={TakeBackward0: Rule("taking by flat index", "{x:9}.take(…)", passes=INDEXED)},
    ),
    declare("take_along_dim", take_along_dim),  # records GatherBackward0
    declare(
        "masked_select",
        masked_select,
        explain={
            MaskedSelectBackward0: Rule(
                "selection by a mask", "{x:9}.masked_select(mask)", passes=INDEXED
            )
        },
    ),
    declare(
        "masked_fill",
        masked_fill,
        explain={
            MaskedFillBackward0: _masked_fill_rule,
            MaskedFillBackward1: Rule(
                "filling where the mask is True",
                "{a:9}.masked_fill(mask, {b:0})",
                passes=(_MASKED_OUT, "the gradient where the mask is True, summed"),
            ),
        },
    ),
    declare(
        "scatter",
        scatter,
        explain={
            ScatterBackward0: Rule(
                "writing src at the indices",
                "{a:9}.scatter(dim, index, {b:0})",
                passes=(
                    "the gradient, 0 where src was written",
                    "the gradient at the written positions",
                ),
            ),
            ScatterBackward1: _scatter_value_rule,
        },
    ),
    declare(
        "scatter_add",
        scatter_add,
        explain={
            ScatterAddBackward0: Rule(
                "adding src at the indices",
                "{a:9}.scatter_add(dim, index, {b:0})",
                passes=("the gradient", "the gradient at the positions it was added to"),
            )
        },
    ),
    declare("index_add", index_add, explain={IndexAddBackward0: _index_add_rule}),
)
