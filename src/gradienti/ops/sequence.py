"""Ops along a dimension read as a sequence: ``diff`` (differences of neighbours),
``repeat_interleave`` (each element repeated in place), ``Tensor.unfold`` (sliding windows) and
``tensordot`` (contraction of chosen dims).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

``diff``, ``repeat_interleave`` and ``tensordot`` are compositions of other ops, composed as
PyTorch composes them, so that they record PyTorch's nodes (``diff``: slices and a
subtraction; ``repeat_interleave``: unsqueeze, expand, clone and view for a number of repeats,
``index_select`` for a tensor of them; ``tensordot``: permutes, reshapes and one ``mm``).
``unfold`` is its own view op: its VJP adds each window's gradient back where the window was
taken (``UnfoldBackwardBackward0``, linear, whose VJP is ``unfold`` again).
"""

from __future__ import annotations

import math

from ..arguments import check_int, is_index
from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import writable_for
from ..graph.node import NO_EDGE, SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .declare import declare, explain_nodes
from .elementwise import clone
from .explain_rule import Rule
from .join import cat
from .jvp_rules import linear
from .logical import logical_xor
from .products import mm
from .rearrange import permute
from .scatter import index_select
from .shape import expand_tensor, flatten, narrow, reshape_tensor, run, unsqueeze


# ---------------------------------------------------------------------- diff
def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """``out[i] = x[i + 1] - x[i]`` along ``dim``, ``n`` times; ``prepend``/``append`` are
    concatenated to ``input`` first. Booleans give ``x[i + 1] != x[i]``."""
    n, dim = check_int(n, "diff", "n"), check_int(dim, "diff", "dim")  # (True is no int)
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = normalize_dim(dim, ndim)
    shape = input._data.shape
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
        if extra._data.ndim != ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for axis, (size, got) in enumerate(zip(shape, extra._data.shape)):
            if axis != dim and size != got:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of "
                    "input except along the differencing dimension; "
                    f"input.size({axis}) = {size}, but got tensor.size({axis}) = {got}"
                )
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], dim)
    if n == 0:  # PyTorch's copy into a new tensor (CopyBackwards)
        return wrap(xp.empty_like(input._data), NO_EDGE).copy_(input)
    for _ in range(n):
        length = input._data.shape[dim]
        if length == 0:
            break
        later, earlier = narrow(input, dim, 1, length - 1), narrow(input, dim, 0, length - 1)
        is_bool = input._data.dtype == xp.bool_
        input = logical_xor(later, earlier) if is_bool else later - earlier
    return input


# ---------------------------------------------------------------------- repeat_interleave
def _repeat_counts(repeats, one_argument: bool = False):
    """The repeats as a 1-D integer array, with PyTorch's errors."""
    ndim = repeats._data.ndim
    if ndim > 1 or (one_argument and ndim != 1):
        raise RuntimeError(
            "repeat_interleave only accept 1D vector as repeat"
            if one_argument
            else "repeats must be 0-dim or 1-dim tensor"
        )
    dtype = repeats._data.dtype
    if dtype not in (xp.int64, xp.int32):
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{SCALAR_TYPE_NAMES[dtype.name]}'"
        )
    counts = xp.asarray(repeats._data).reshape(-1)
    if counts.size and counts.min() < 0:
        raise RuntimeError("repeats can not be negative")
    return counts


def _repeated_positions(repeats, output_size=None) -> Tensor:
    """``repeat_interleave(repeats)``: position i repeated repeats[i] times (int64)."""
    counts = _repeat_counts(repeats, one_argument=True)
    positions = xp.repeat(xp.arange(counts.size, dtype=repeats._data.dtype), counts)
    if output_size is not None and output_size != positions.size:
        raise RuntimeError("allocated size does not match required size")
    return wrap(positions, NO_EDGE)


_REPEAT_INTERLEAVE_SIGNATURES = (
    " * (Tensor input, Tensor repeats, int dim = None, *, int output_size = None)\n"
    " * (Tensor repeats, *, int output_size = None)\n"
    " * (Tensor input, int repeats, int dim = None, *, int output_size = None)\n"
)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element of ``input`` repeated ``repeats`` times along ``dim`` (``dim=None``: of
    the flattened input); ``repeat_interleave(repeats)``: the positions, each repeated."""
    if repeats is None:  # the one-argument form
        return _repeated_positions(input, output_size)
    if dim is None:
        input, dim = flatten(input), 0
    shape = input._data.shape
    given_dim, dim = dim, normalize_dim(dim, len(shape))
    if isinstance(repeats, Tensor):
        if not shape:  # a 0-d input with a dim: PyTorch reads input.size(dim)
            raise IndexError(f"Dimension specified as {given_dim} but tensor has no dimensions")
        counts = _repeat_counts(repeats)
        if counts.size == 1:
            counts = xp.repeat(counts, shape[dim])
        if counts.size != shape[dim]:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {counts.size} and input.size({dim}) = {shape[dim]}"
            )
        positions = _repeated_positions(wrap(counts, NO_EDGE), output_size)
        return index_select(input, dim, positions)
    if not is_index(repeats):  # (a float or a bool was truncated to an int before)
        raise TypeError(
            "repeat_interleave() received an invalid combination of arguments - got (Tensor, "
            f"{type(repeats).__name__}), but expected one of:\n{_REPEAT_INTERLEAVE_SIGNATURES}"
        )
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if not shape:  # a 0-d input with a dim: PyTorch's unsqueeze(dim + 1) refuses it
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    expected = shape[dim] * repeats
    if output_size is not None and output_size != expected:
        raise RuntimeError(
            f"repeat_interleave: Invalid output_size, expected {expected} but got {output_size}"
        )
    # [..., n, ...] -> [..., n, 1, ...] -> [..., n, repeats, ...] -> [..., n * repeats, ...]
    expanded = shape[: dim + 1] + (repeats,) + shape[dim + 1 :]
    copies = clone(expand_tensor(unsqueeze(input, dim + 1), expanded))
    return flatten(copies, dim, dim + 1)


# ---------------------------------------------------------------------- unfold
def _window_starts_key(dim: int, step: int) -> tuple:
    return (slice(None),) * dim + (slice(None, None, step),)


class UnfoldBackward0(Op):
    """``x.unfold(dim, size, step)``: windows of ``size`` along ``dim`` every ``step`` (a new
    last dim holds each window), a view of ``x``."""

    __slots__ = ("dim", "size", "step", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        if not x.shape:  # a 0-d tensor is one window of size 1 (or 0)
            return xp.reshape(x, (1,))[: ctx.size]
        # Writable as PyTorch's view is, unless windows overlap: then, like an expanded
        # tensor, read-only, since an in-place op would touch shared elements twice.
        writable = ctx.step >= ctx.size and x.flags.writeable
        windows = xp.lib.stride_tricks.sliding_window_view(
            x, ctx.size, axis=ctx.dim, writeable=writable
        )
        return windows[_window_starts_key(ctx.dim, ctx.step)]

    @staticmethod
    def backward(ctx, g):
        node = UnfoldBackwardBackward0()
        node.dim, node.size, node.step = ctx.dim, ctx.size, ctx.step
        node.input_shape = ctx.input_shape
        return run(node, g)


class UnfoldBackwardBackward0(Op):
    """The VJP of ``unfold``: window k's element j goes back to position k·step + j (summed
    where windows overlap). Linear; its VJP is ``unfold`` again."""

    __slots__ = ("dim", "size", "step", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, g):
        input_shape = ctx.input_shape
        if not input_shape:
            return xp.reshape(g, (-1,)).sum(0)  # (one window of size 1, or none)
        out = writable_for(xp.zeros(input_shape, dtype=g.dtype), g)  # (vmap: per sample)
        dim, step = ctx.dim, ctx.step
        windows = g.shape[dim]
        for offset in range(ctx.size):  # one strided add per position in the window
            stop = offset + step * (windows - 1) + 1
            out[(slice(None),) * dim + (slice(offset, stop, step),)] += g[..., offset]
        return out

    @staticmethod
    def backward(ctx, g):
        node = UnfoldBackward0()
        node.dim, node.size, node.step = ctx.dim, ctx.size, ctx.step
        return run(node, g)


def unfold(input, dimension: int, size: int, step: int):
    dimension = check_int(dimension, "unfold", "dimension", 1)
    size, step = check_int(size, "unfold", "size", 2), check_int(step, "unfold", "step", 3)
    shape = input._data.shape
    dim = normalize_dim(dimension, len(shape))
    length = shape[dim] if shape else 1
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {dim} is {length} but size is {size}"
        )
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    node = UnfoldBackward0()
    node.dim, node.size, node.step = dim, int(size), int(step)
    return run(node, input)


# ---------------------------------------------------------------------- tensordot
def _contracted_dims(a, b, dims) -> tuple:
    """``dims`` as two lists of dims, as torch.functional.tensordot reads it: a number n is
    a's last n dims (counted from the end, as PyTorch's messages show them) and b's first n."""
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a._data.ndim or dims > b._data.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    if not isinstance(dims, list | tuple):  # (a list of another length: unpacking fails)
        raise RuntimeError(
            "tensordot expects dims to be int or tuple[list[int], list[int]] or "
            f"list[list[int]] containing two lists, but got dims={dims}"
        )
    dims_a, dims_b = dims
    dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
    dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    return dims_a, dims_b


def _no_repeats(dims: list, ndim: int) -> list:
    """``dims`` made non-negative, each at most once (ATen's dim_list_to_bitset)."""
    seen = []
    for dim in dims:
        axis = normalize_dim(dim, ndim)
        if axis in seen:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
        seen.append(axis)
    return seen


def tensordot(a, b, dims=2):
    """Sum over ``dims`` of ``a`` and ``b`` paired: the product of ``a``'s other dims (rows)
    with ``b``'s other dims (columns), as one matrix product. As ATen's, a contracted dim of
    size 1 on one side broadcasts: the other side is summed over that dim first."""
    dims_a, dims_b = _contracted_dims(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    ndim_a, ndim_b = a._data.ndim, b._data.ndim
    contracted = 1
    for da, db in zip(dims_a, dims_b):
        size_a = a._data.shape[normalize_dim(da, ndim_a)]
        size_b = b._data.shape[normalize_dim(db, ndim_b)]
        if size_b == 1:
            a = a.sum(da, keepdim=True)
        elif size_a == 1:
            b = b.sum(db, keepdim=True)
        elif size_a != size_b:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {size_a} in dim "
                f"{da} and second has size {size_b} in dim {db}"
            )
        else:
            contracted *= size_a
    dims_a, dims_b = _no_repeats(dims_a, ndim_a), _no_repeats(dims_b, ndim_b)
    shape_a, shape_b = a._data.shape, b._data.shape
    kept_a = [d for d in range(ndim_a) if d not in dims_a]
    kept_b = [d for d in range(ndim_b) if d not in dims_b]
    rows = math.prod(shape_a[d] for d in kept_a)
    columns = math.prod(shape_b[d] for d in kept_b)
    left = reshape_tensor(permute(a, kept_a + dims_a), (rows, contracted))
    right = reshape_tensor(permute(b, dims_b + kept_b), (contracted, columns))
    shape = tuple(shape_a[d] for d in kept_a) + tuple(shape_b[d] for d in kept_b)
    return reshape_tensor(mm(left, right), shape)


# ---------------------------------------------------------------------- explain rules
def _unfold_rule(node) -> Rule:
    return Rule(
        "sliding windows",
        f"{{x:9}}.unfold({node.dim}, {node.size}, {node.step})",
        passes=("each window's gradient, added back where the window was taken",),
    )


DECLARATIONS = (
    declare("diff", diff),  # records slices and SubBackward0 (CatBackward0 with prepend/append)
    declare("repeat_interleave", repeat_interleave),  # records view ops or IndexSelectBackward0
    declare("unfold", None, method=unfold, explain={UnfoldBackward0: _unfold_rule}),
    declare("tensordot", tensordot, method=None),  # records permutes, views and MmBackward0
    explain_nodes(
        {
            UnfoldBackwardBackward0: Rule(
                "windows' gradients added back into the input's shape (the VJP of unfold)",
                "unfold_backward({x:0}, …)",
                passes=("the gradient, cut into the same windows",),
            )
        }
    ),
)
