"""Joining and splitting: cat, stack, hstack, vstack, split, chunk, unbind.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

The VJP of a join is a split of the gradient and the other way round, each written with the
helpers of shape.py and the functions here, so that it runs on raw arrays or on Tensors.
``split``, ``chunk`` and ``unbind`` are multi-output ops (``unary_multi``): each piece is an
output of one node, and a piece that gets no gradient contributes zeros.
"""

from __future__ import annotations

from ..backend import default_float, xp
from ..batching import writable_for
from ..graph.node import NO_EDGE, SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import nary, unary_multi
from .declare import declare
from .explain_rule import Rule, slot_names
from .jvp_rules import linear_multi, linear_nary
from .saved_names import SavedNames, value
from .shape import select, slice_dim


class CatBackward0(Op):
    """``cat(tensors, dim)``. A 1-d empty tensor beside tensors of more dimensions is skipped,
    as PyTorch does for backward compatibility; ``sizes`` holds None for it."""

    __slots__ = ("dim", "sizes")
    save = SAVE_NOTHING
    saved_names = SavedNames(dim=value("dim"))
    jvp = staticmethod(linear_nary)

    @staticmethod
    def forward(ctx, *arrays):
        dim = ctx.dim
        sizes = ctx.sizes
        joined = [array for array, size in zip(arrays, sizes) if size is not None]
        return xp.concatenate(joined, axis=dim) if joined else arrays[0].copy()

    @staticmethod
    def backward(ctx, g):
        dim = ctx.dim
        grads = []
        start = 0
        for edge, size in zip(ctx._next, ctx.sizes):
            if size is None:
                grads.append(None if edge is None else _zeros_like_grad(g, (0,)))
                continue
            if edge is not None:
                grads.append(slice_dim(g, dim, start, start + size))
            else:
                grads.append(None)
            start += size
        return tuple(grads)


class StackBackward0(Op):
    __slots__ = ("dim",)
    save = SAVE_NOTHING
    saved_names = SavedNames(dim=value("dim"))
    jvp = staticmethod(linear_nary)

    @staticmethod
    def forward(ctx, *arrays):
        return xp.stack(arrays, axis=ctx.dim)

    @staticmethod
    def backward(ctx, g):
        dim = ctx.dim
        return tuple(
            None if edge is None else select(g, index, dim) for index, edge in enumerate(ctx._next)
        )


class BlockDiagBackward0(Op):
    """The inputs, each as a matrix (0-d: 1×1, 1-d: one row), along the diagonal of zeros."""

    __slots__ = ("shapes",)  # each input's own shape
    save = SAVE_NOTHING
    jvp = staticmethod(linear_nary)

    @staticmethod
    def forward(ctx, *arrays):
        blocks = [_as_block_shape(shape) for shape in ctx.shapes]
        total = (sum(rows for rows, _ in blocks), sum(columns for _, columns in blocks))
        out = writable_for(xp.zeros(total, dtype=arrays[0].dtype), *arrays)  # (vmap: per sample)
        row = column = 0
        for array, (rows, columns) in zip(arrays, blocks):
            out[row : row + rows, column : column + columns] = xp.reshape(array, (rows, columns))
            row, column = row + rows, column + columns
        return out

    @staticmethod
    def backward(ctx, g):
        grads, row, column = [], 0, 0
        for shape, edge in zip(ctx.shapes, ctx._next):
            rows, columns = _as_block_shape(shape)
            if edge is not None:
                block = g[row : row + rows, column : column + columns]
                grads.append(block.reshape(shape))
            else:
                grads.append(None)
            row, column = row + rows, column + columns
        return tuple(grads)


def _as_block_shape(shape: tuple) -> tuple:
    return (1, 1) if not shape else (1, shape[0]) if len(shape) == 1 else shape


class SplitWithSizesBackward0(Op):
    """``split([sizes], dim)``: one output per size."""

    __slots__ = ("sizes", "dim", "num_outputs", "output_meta")
    save = SAVE_NOTHING
    is_view = True
    jvp = staticmethod(linear_multi)

    @staticmethod
    def forward(ctx, x):
        lead = (slice(None),) * ctx.dim
        pieces = []
        start = 0
        for size in ctx.sizes:
            pieces.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return _cat_grads(grads, ctx.dim)


class SplitBackward0(SplitWithSizesBackward0):
    """``split(size, dim)`` and ``chunk``: equal pieces, the last one shorter."""

    __slots__ = ()


class UnbindBackward0(Op):
    __slots__ = ("dim", "num_outputs", "output_meta")
    save = SAVE_NOTHING
    is_view = True
    jvp = staticmethod(linear_multi)

    @staticmethod
    def forward(ctx, x):
        lead = (slice(None),) * ctx.dim
        return tuple(x[lead + (index, Ellipsis)] for index in range(x.shape[ctx.dim]))

    @staticmethod
    def backward(ctx, *grads):
        if not any(type(g) is Tensor for g in grads):
            return xp.stack(grads, axis=ctx.dim)
        return stack([_as_tensor(g) for g in grads], ctx.dim)


def _as_tensor(g):
    """A gradient the engine materialised as a zero array, as a constant Tensor."""
    return g if type(g) is Tensor else wrap(g, NO_EDGE)


def _cat_grads(grads, dim):
    if not any(type(g) is Tensor for g in grads):
        return xp.concatenate(grads, axis=dim)
    return cat([_as_tensor(g) for g in grads], dim)


def _zeros_like_grad(g, shape):
    dtype = g._data.dtype if type(g) is Tensor else g.dtype
    zeros = xp.zeros(shape, dtype=dtype)
    return wrap(zeros, NO_EDGE) if type(g) is Tensor else zeros


# ---------------------------------------------------------------------- public functions
def _tensor_list(function: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{function}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got "
                f"{type(tensor).__name__}"
            )
    return list(tensors)


def cat(tensors, dim: int = 0, *, axis=None, out=None):
    """``torch.cat`` (also ``concat``, ``concatenate``; ``axis`` is NumPy's name of ``dim``)."""
    if axis is not None:
        dim = axis
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    shapes = [tensor._data.shape for tensor in tensors]
    for position, shape in enumerate(shapes):
        if not shape:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {position}) cannot be concatenated"
            )
    # PyTorch skips 1-d empty tensors (a legacy rule), unless every tensor is one.
    legacy = [shape == (0,) for shape in shapes]
    if all(legacy):
        legacy = [False] * len(shapes)
    first = next(shape for shape, skipped in zip(shapes, legacy) if not skipped)
    dim = normalize_dim(dim, len(first))
    sizes = []
    for position, (shape, skipped) in enumerate(zip(shapes, legacy)):
        if skipped:
            sizes.append(None)
            continue
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}"
            )
        for d, (expected, got) in enumerate(zip(first, shape)):
            if d != dim and expected != got:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{expected} but got size {got} for tensor number {position} in the list."
                )
        sizes.append(shape[dim])
    node = CatBackward0()
    node.dim = dim
    node.sizes = tuple(sizes)
    return nary(node, *tensors)


def stack(tensors, dim: int = 0, *, axis=None, out=None):
    if axis is not None:
        dim = axis
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for position, tensor in enumerate(tensors):
        if tensor._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(tensor._data.shape)} at entry {position}"
            )
    node = StackBackward0()
    node.dim = normalize_dim(dim, len(first) + 1)
    return nary(node, *tensors)


def _stacked(function: str, tensors) -> list:
    """The inputs of hstack, vstack, column_stack, dstack: a non-empty list of Tensors."""
    tensors = _tensor_list(function, tensors)
    if not tensors:  # (cat's own message names cat)
        raise RuntimeError(f"{function} expects a non-empty TensorList")
    return tensors


def hstack(tensors, *, out=None):
    tensors = [t if t._data.ndim else t.reshape(1) for t in _stacked("hstack", tensors)]
    return cat(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1)


def vstack(tensors, *, out=None):
    tensors = _stacked("vstack", tensors)
    tensors = [
        t if t._data.ndim >= 2 else t.unsqueeze(0) if t._data.ndim else t.reshape(1, 1)
        for t in tensors
    ]
    return cat(tensors, 0)


def column_stack(tensors):
    """Columns side by side: a 0-d or 1-d input becomes one column; ``cat`` along dim 1."""
    tensors = _stacked("column_stack", tensors)
    tensors = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(tensors, 1)


def dstack(tensors):
    """``cat`` along dim 2 of the inputs made at least 3-d (1-d: (1, n, 1); 2-d: (m, n, 1))."""
    tensors = _stacked("dstack", tensors)
    deep = []
    for t in tensors:
        ndim = t._data.ndim
        if ndim == 0:
            t = t.reshape(1, 1, 1)
        elif ndim == 1:
            t = t.unsqueeze(0).unsqueeze(-1)
        elif ndim == 2:
            t = t.unsqueeze(-1)
        deep.append(t)
    return cat(deep, 2)


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (promoted to one dtype), zeros elsewhere."""
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got "
                f"{type(tensor).__name__}"
            )
        if tensor._data.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{position} has {tensor._data.ndim} dimensions"
            )
    if not tensors:
        return wrap(xp.zeros((1, 0), dtype=default_float.value.np), NO_EDGE)
    node = BlockDiagBackward0()
    node.shapes = tuple(tensor._data.shape for tensor in tensors)
    return nary(node, *tensors)


def _split_dim(input, dim: int) -> tuple:
    shape = input._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = normalize_dim(dim, len(shape))
    return dim, shape[dim]


def split(input, split_size_or_sections, dim: int = 0):
    dim, size = _split_dim(input, dim)
    if not isinstance(split_size_or_sections, int):
        return split_with_sizes(input, split_size_or_sections, dim)
    split_size = int(split_size_or_sections)
    if split_size < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={split_size}"
        )
    if split_size == 0 and size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
        )
    count = max(-(-size // split_size), 1) if split_size else 1
    sizes = [split_size] * (count - 1) + [size - split_size * (count - 1)]
    node = SplitBackward0()
    node.sizes = tuple(sizes)
    node.dim = dim
    return unary_multi(node, input)


def split_with_sizes(input, split_sizes, dim: int = 0):
    dim, size = _split_dim(input, dim)
    sizes = tuple(int(s) for s in split_sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={list(sizes)}"
        )
    if sum(sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={list(sizes)}"
        )
    node = SplitWithSizesBackward0()
    node.sizes = sizes
    node.dim = dim
    return unary_multi(node, input)


def chunk(input, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim, size = _split_dim(input, dim)
    if size == 0:
        return split_with_sizes(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def unbind(input, dim: int = 0):
    ndim = input._data.ndim
    if not ndim:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    node = UnbindBackward0()
    node.dim = normalize_dim(dim, ndim)
    return unary_multi(node, input)


# ---------------------------------------------------------------------- explain rules
def _tensor_list_form(name: str, count: int, dim: int) -> str:
    listed = ", ".join(f"{{{slot}:0}}" for slot in slot_names(count))
    return f"{name}([{listed}], dim={dim})"


def _cat_rule(node) -> Rule:
    dim = node.dim
    passes = tuple(
        "nothing (an empty 1-d tensor, skipped)"
        if size is None
        else f"its part of the gradient along dim {dim} (size {size})"
        for size in node.sizes
    )
    return Rule(
        f"concatenation along dim {dim}",
        _tensor_list_form("cat", len(node.sizes), dim),
        passes=passes,
    )


def _stack_rule(node) -> Rule:
    dim, count = node.dim, len(node._next)
    return Rule(
        f"stacking along a new dim {dim}",
        _tensor_list_form("stack", count, dim),
        passes=tuple(f"the gradient's slice {i} along dim {dim}" for i in range(count)),
    )


def _split_rule(node) -> Rule:
    dim = node.dim
    return Rule(
        f"split along dim {dim} into pieces of sizes {list(node.sizes)}",
        f"{{x:9}}.split({list(node.sizes)}, dim={dim})",
        passes=(
            f"the pieces' gradients, concatenated along dim {dim} (zeros for a piece that got "
            "none)",
        ),
    )


def _unbind_rule(node) -> Rule:
    dim = node.dim
    return Rule(
        f"taking apart along dim {dim}",
        f"{{x:9}}.unbind({dim})",
        passes=(
            f"the pieces' gradients, stacked along dim {dim} (zeros for a piece that got none)",
        ),
    )


DECLARATIONS = (
    declare(
        "cat",
        cat,
        method=None,
        aliases=("concat", "concatenate"),
        explain={CatBackward0: _cat_rule},  # hstack and vstack record it too
    ),
    declare("stack", stack, method=None, explain={StackBackward0: _stack_rule}),
    declare("hstack", hstack, method=None),
    declare("vstack", vstack, method=None, aliases=("row_stack",)),
    declare("column_stack", column_stack, method=None),
    declare("dstack", dstack, method=None),
    declare(
        "block_diag",
        block_diag,
        method=None,
        explain={
            BlockDiagBackward0: Rule(
                "block-diagonal matrix",
                "block_diag(…)",
                passes=("the gradient's block at that input's place",),
            )
        },
    ),
    declare("split", split, explain={SplitBackward0: _split_rule}),  # and chunk
    declare("split_with_sizes", split_with_sizes, explain={SplitWithSizesBackward0: _split_rule}),
    declare("chunk", chunk),
    declare("unbind", unbind, explain={UnbindBackward0: _unbind_rule}),
)
