"""Indexing: ``x[...]`` and ``x[...] = v``, and the two ops every indexing VJP is made of.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

An index expression is taken apart as PyTorch does: its integers, slices, ``None``s and
Python bools are applied in order as views (``steps``: select, slice, unsqueeze), then what is
left, integer and boolean tensors, is one advanced index (``key``, a NumPy index tuple) on the
result. So ``x[0, 1:3, [0, 2]]`` records SelectBackward0, SliceBackward0 and IndexBackward0,
exactly PyTorch's graph.

``IndexBackward0`` reads ``g[key]``; ``IndexPutBackward0`` writes values at a position out of
place (``accumulate`` adds them instead, repeated indices adding up). Each is the other's VJP,
so any derivative order works; gather, scatter, index_select, take, ... are the same two ops
under PyTorch's names (ops/scatter.py).
"""

from __future__ import annotations

import warnings

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import (
    IN_PLACE_ERROR,
    MASK_INDEXING_ERROR,
    BatchedArray,
    all_samples,
    copy_for_writing,
)
from ..batching import getitem as batched_getitem
from ..beginner_hints import LEAF_IN_PLACE_HINT, with_hint
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import record_node, record_special, unary
from .declare import declare
from .explain_rule import ADD, INDEXED, Rule
from .jvp_rules import filled, linear, same_op
from .saved_names import SavedNames, held, value
from .shape import (
    AliasBackward0,
    ViewBackward0,
    expand_tensor,
    expanded_shape,
    select,
    slice_dim,
    unsqueeze,
    view_op,
)

_ndarray = xp.ndarray
_SELECT, _SLICE, _UNSQUEEZE = 0, 1, 2


class IndexBackward0(Op):
    """``x[key]`` for an advanced NumPy index ``key`` (integer arrays and slices)."""

    __slots__ = ("key", "input_shape")
    save = SAVE_NOTHING
    saved_names = SavedNames(
        indices=held("key", many=True),
        self_sym_sizes=value("input_shape"),
    )
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        try:
            out = x[ctx.key]
        except RuntimeError:  # vmap: per-sample indices, into an array the same for all
            out = batched_getitem(x, ctx.key)
        if type(out) is _ndarray and not out.flags.c_contiguous:
            out = xp.ascontiguousarray(out)  # PyTorch's result is contiguous (``view`` works)
        return out

    @staticmethod
    def backward(ctx, g):
        return embed(ctx.input_shape, ctx.key, g)


class IndexPutBackward0(Op):
    """``x`` with ``values`` written (or, with ``accumulate``, added) at ``steps`` then ``key``.

    ``steps`` is a path of views (select, slice, unsqueeze) and ``key`` None or an advanced
    index on the view; nothing is written into ``x`` itself. Gradients: to ``x``, ``g`` with
    zeros where values were written (all of ``g`` when adding); to ``values``, ``g`` read at the
    same place (the engine sums it over broadcasting).
    """

    __slots__ = ("steps", "key", "accumulate")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x, values):
        out = xp.array(x, copy=True)
        try:
            _write(ctx, walk(out, ctx.steps), values)
        except RuntimeError:  # vmap: per-sample values or indices, into an array the same for all
            out = copy_for_writing(x, values, ctx.key)
            _write(ctx, walk(out, ctx.steps), values)
        return out

    @staticmethod
    def backward(ctx, g):
        x_edge, values_edge = ctx._next
        grad_x = grad_values = None
        if x_edge is not None:
            grad_x = g if ctx.accumulate else zero_at(g, ctx.steps, ctx.key)
        if values_edge is not None:
            grad_values = read(g, ctx.steps, ctx.key)
        return grad_x, grad_values

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Linear in x and values together: the same write, of the values' tangent into x's.
        return put(same_op(ctx), *filled(primals, tangents))


class CopySlices(IndexPutBackward0):
    """``x[i, 1:3] = v``: a write through a view of ``x``."""

    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopySlices"


class CopyBackwards(IndexPutBackward0):
    """``x[...] = tensor``: a write of the whole tensor."""

    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"


class FillBackward3(IndexPutBackward0):
    """``x[...] = number``."""

    __slots__ = ()


def _write(ctx, target, values) -> None:
    if ctx.accumulate:
        xp.add.at(target, ctx.key, values)
    elif ctx.key is None:
        target[...] = values
    else:
        target[ctx.key] = values


# ---------------------------------------------------------------------- helpers for VJPs
def walk(x, steps):
    """``x`` viewed through ``steps``: NumPy views of an array, recorded ops on a Tensor."""
    for kind, dim, argument in steps:
        if kind == _SELECT:
            x = select(x, argument, dim)
        elif kind == _SLICE:
            x = slice_dim(x, dim, argument.start, argument.stop, argument.step)
        elif type(x) is Tensor:
            x = unsqueeze(x, dim)
        else:
            x = xp.expand_dims(x, dim)
    return x


def read(g, steps, key):
    """``g`` at ``steps`` then ``key``: an array, or a Tensor read by recorded ops."""
    g = walk(g, steps)
    if key is None:
        return g
    if type(g) is Tensor:
        return read_key(g, key)
    return g[key]


def read_key(x, key, node_class=IndexBackward0):
    node = node_class()
    node.key = key
    return unary(node, x)


def put(node, x, values):
    """Apply an IndexPutBackward0-like ``node`` to Tensors ``x`` and ``values``.

    The result has ``x``'s dtype (values are converted, as a write converts them); the engine
    sums and casts the gradient of ``values`` back to its shape and dtype.
    """
    x_data = x._data
    values_data = values._data
    out = node.forward(node, x_data, values_data)
    x_edge = x._edge
    values_edge = values._edge
    if MODES.special and out.dtype.kind == "f":
        return record_special(node, (x, values), (x_data, values_data), out, ())
    if (x_edge is None and values_edge is None) or not grad_state.enabled or out.dtype.kind != "f":
        return wrap(out, NO_EDGE)
    meta = (None, (xp.shape(values_data), values_data.dtype))
    return wrap(out, record_node(node, (x_edge, values_edge), (), meta))


def _put_any(node, x, values):
    """``put`` on Tensors (recorded) or the node's forward on raw arrays."""
    if type(x) is Tensor or type(values) is Tensor:
        if type(x) is not Tensor:
            x = wrap(x, NO_EDGE)
        if type(values) is not Tensor:
            values = wrap(values, NO_EDGE)
        return put(node, x, values)
    return node.forward(node, x, values)


def embed(shape, key, g, steps=()):
    """Zeros of ``shape`` with ``g`` added at ``steps`` then ``key`` (repeats add up)."""
    node = IndexPutBackward0()
    node.steps = steps
    node.key = key
    node.accumulate = True
    dtype = g._data.dtype if type(g) is Tensor else g.dtype
    return _put_any(node, xp.zeros(shape, dtype=dtype), g)


def zero_at(g, steps, key):
    """``g`` with zeros at ``steps`` then ``key``."""
    node = IndexPutBackward0()
    node.steps = steps
    node.key = key
    node.accumulate = False
    dtype = g._data.dtype if type(g) is Tensor else g.dtype
    return _put_any(node, g, xp.zeros((), dtype=dtype))


# ---------------------------------------------------------------------- parsing an index
SEQUENCE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
    "a different result"
)
UINT8_WARNING = (
    "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead."
)
_SEQUENCES = (list, tuple, range, str, _ndarray)


def _index_items(index) -> tuple:
    """The index as a tuple of items (NumPy's rule for a list that holds sequences)."""
    if type(index) is tuple:
        return index
    if isinstance(index, (list, range)) and len(index) < 32:
        for item in index:
            if (
                item is None
                or item is Ellipsis
                or isinstance(item, (Tensor, slice, list, tuple, range, str))
                or (isinstance(item, _ndarray) and item.ndim)
            ):
                warnings.warn(SEQUENCE_WARNING, UserWarning, stacklevel=3)
                return tuple(index)
    return (index,)


def _type_name(value) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _index_array(item):
    """An integer or boolean array for a tensor, NumPy array or sequence index item."""
    if isinstance(item, Tensor):
        array = item._data
        kind = array.dtype.kind
        if kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    else:
        array = xp.asarray(item)
        kind = array.dtype.kind
        if kind in "OUSV":
            raise TypeError(f"new(): invalid data type '{_type_name(item)}'")
        if kind not in "biu":
            array = array.astype(xp.int64)  # PyTorch converts a list's numbers to long
    if array.dtype == xp.uint8 and isinstance(item, Tensor):
        warnings.warn(UINT8_WARNING, UserWarning, stacklevel=4)
        array = array.astype(bool)
    # A copy: the node keeps it, and the caller may change its index tensor in place later.
    return xp.array(array)


def _as_int(item):
    """The integer an index item stands for, or None if it is not a single integer."""
    kind = type(item)
    if kind is int:
        return item
    if kind is bool:
        return None
    if isinstance(item, Tensor):
        data = item._data
        if data.ndim == 0 and data.dtype.kind in "iu" and data.dtype != xp.uint8:
            # (per-sample under vmap: then an index array, as PyTorch's vmap takes it)
            return None if type(data) is BatchedArray else int(data)
        return None
    if isinstance(item, xp.integer):
        return int(item)
    return None


def parse(shape: tuple, items: tuple):
    """Take an index apart: (steps, key, view_shape) for a tensor of ``shape``.

    ``steps`` are the views in order; ``key`` is None or the advanced NumPy index (integer
    arrays, booleans already turned into integer arrays) on the view of shape ``view_shape``.
    """
    ndim = len(shape)
    specified = 0
    for item in items:
        if item is None or item is Ellipsis or type(item) is bool:
            continue
        if isinstance(item, Tensor) and item._data.dtype in (xp.bool_, xp.uint8):
            specified += item._data.ndim
            continue
        specified += 1
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    shape = list(shape)
    steps = []
    advanced = {}  # dim of the view -> integer array or boolean mask
    dim = 0
    for position, item in enumerate(items):
        integer = _as_int(item)
        if integer is not None:
            size = shape[dim]
            if not -size <= integer < size:
                raise IndexError(
                    f"index {integer} is out of bounds for dimension {position} with size {size}"
                )
            steps.append((_SELECT, dim, integer % size))
            del shape[dim]
        elif type(item) is slice:
            size = shape[dim]
            start, stop, step = item.indices(size)
            if step < 0:
                raise ValueError("step must be greater than zero")
            if not (_as_int(item.start) in (None, 0) and stop == size and step == 1):
                steps.append((_SLICE, dim, slice(start, stop, step)))
                shape[dim] = len(range(start, stop, step))
            dim += 1
        elif item is None:
            steps.append((_UNSQUEEZE, dim, None))
            shape.insert(dim, 1)
            dim += 1
        elif item is Ellipsis:
            dim += ndim - specified
        elif type(item) is bool or (
            isinstance(item, Tensor) and item._data.ndim == 0 and item._data.dtype.kind in "bu"
        ):
            steps.append((_UNSQUEEZE, dim, None))
            shape.insert(dim, 1)
            advanced[dim] = xp.zeros(1 if bool(item) else 0, dtype=xp.int64)
            dim += 1
        elif isinstance(item, (Tensor,) + _SEQUENCES):
            array = _index_array(item)
            if array.dtype.kind == "b":
                _check_mask(array, shape, dim)
                advanced[dim] = array
                dim += array.ndim
            else:
                advanced[dim] = array
                dim += 1
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {_type_name(item)})"
            )
    key = _advanced_key(advanced, shape) if advanced else None
    return tuple(steps), key, tuple(shape)


def _check_mask(mask, shape, dim):
    for j, size in enumerate(mask.shape):
        if dim + j >= len(shape) or shape[dim + j] != size:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {j} does not match the shape "
                f"of the indexed tensor {shape} at index {dim + j}"
            )


def _advanced_key(advanced: dict, shape: list) -> tuple:
    """The NumPy index of the advanced items, with PyTorch's range and broadcast checks."""
    key = []
    arrays = []
    dim = 0
    last = max(advanced)
    while dim <= last:
        array = advanced.get(dim)
        if array is None:
            key.append(slice(None))
            dim += 1
        elif array.dtype.kind == "b":
            if type(array) is BatchedArray:  # a different count per sample
                raise RuntimeError(MASK_INDEXING_ERROR)
            parts = xp.nonzero(array)
            key.extend(parts)
            arrays.extend((part, None) for part in parts)
            dim += array.ndim
        else:
            key.append(array)
            arrays.append((array, shape[dim]))
            dim += 1
    for ordinal, (array, size) in enumerate(arrays):
        if size is not None and array.size:
            array = all_samples(array)  # (under vmap: every sample's indices)
            outside = (array >= size) | (array < -size)
            if outside.any():
                bad = int(array.reshape(-1)[xp.flatnonzero(outside)[0]])
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {ordinal} with size {size}"
                )
    try:
        xp.broadcast_shapes(*(array.shape for array, _ in arrays))
    except ValueError:
        shapes = ", ".join(str(list(array.shape)) for array, _ in arrays)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}"
        ) from None
    return tuple(key)


# ---------------------------------------------------------------------- x[index]
def getitem(input, index):
    """``x[index]``, recorded as PyTorch records it."""
    shape = input._data.shape
    kind = type(index)
    if kind is int:  # the common case first
        if not shape:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        size = shape[0]
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return select(input, index % size)
    if kind is slice:
        if not shape:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        start, stop, step = index.indices(shape[0])
        if step < 0:
            raise ValueError("step must be greater than zero")
        return slice_dim(input, 0, start, stop, step)  # a lone slice is always recorded
    if kind is Tensor and shape:  # x[idx], idx a tensor of integers in range
        data = index._data
        if data.ndim and data.dtype.kind in "iu" and data.dtype != xp.uint8 and data.size:
            size = shape[0]
            values = all_samples(data)  # (under vmap: every sample's indices)
            if -size <= values.min() and values.max() < size:
                return read_key(input, (data.copy(),))  # kept by the node: a copy
    steps, key, _ = parse(shape, _index_items(index))
    result = walk(input, steps)
    if key is not None:
        return read_key(result, key)
    if result is input:
        return unary(AliasBackward0(), input)
    return result


# ---------------------------------------------------------------------- x[index] = value
# PyTorch's text, then how to update a parameter in place (a hint).
VIEW_OF_LEAF_MESSAGE = with_hint(
    "a view of a leaf Variable that requires grad is being used in an in-place operation.",
    LEAF_IN_PLACE_HINT,
)


def setitem(input, index, value) -> None:
    """``x[index] = value``: an out-of-place write that then becomes ``x`` (see
    ``Tensor._assign_in_place``), recorded as PyTorch records it."""
    if index is False:
        return
    if index is True:
        index = None  # PyTorch writes through x.unsqueeze(0), not a boolean index
    shape = input._data.shape
    steps, key, view_shape = parse(shape, _index_items(index))
    if steps and grad_state.enabled and input.requires_grad and input.is_leaf:
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE)
    dtype = input._data.dtype
    if isinstance(value, Tensor):
        values = value
        if key is not None and values._data.dtype != dtype:
            single_mask = (
                values._data.ndim == 0
                and isinstance(index, Tensor)
                and index._data.dtype.kind == "b"
            )
            if not single_mask:
                raise RuntimeError(
                    "Index put requires the source and destination dtypes match, got "
                    f"{SCALAR_TYPE_NAMES[from_numpy_dtype(dtype).name]} for the destination "
                    f"and {SCALAR_TYPE_NAMES[values.dtype.name]} for the source."
                )
        values = _fit_values(values, view_shape, key)
        node = CopySlices() if steps else IndexPutBackward0() if key is not None else None
        node = node or CopyBackwards()
    else:
        values = wrap(xp.asarray(value, dtype=dtype), NO_EDGE)
        node = CopySlices() if steps else IndexPutBackward0() if key is not None else None
        node = node or FillBackward3()
    node.steps = steps
    node.key = key
    node.accumulate = False
    try:
        input._assign_in_place(put(node, input, values))
    except RuntimeError as error:  # vmap: per-sample values into a shared tensor
        if key is None or str(error) != IN_PLACE_ERROR.format(op="inplace arithmetic"):
            raise
        raise RuntimeError(IN_PLACE_ERROR.format(op="index_put_")) from None


def _fit_values(values, view_shape, key):
    """``values`` made to fit the written region, with PyTorch's errors.

    Both kinds of write view ``values`` without its leading size-1 dimensions, recorded, as
    PyTorch does. A write through views (no advanced index) then expands it to the region, as
    PyTorch's ``copy_to`` does; an advanced write broadcasts inside the op (the engine sums the
    gradient of ``values`` back to its shape).
    """
    value_shape = values._data.shape
    if key is None:
        if value_shape == view_shape or not value_shape:
            return values
        lead = 0
        while lead < len(value_shape) and value_shape[lead] == 1:
            lead += 1
        values = view_op(ViewBackward0, values, value_shape[lead:])
        target = expanded_shape(values, view_shape)  # raises PyTorch's expand errors
        return values if target == value_shape[lead:] else expand_tensor(values, target)
    lead = 0
    while lead < len(value_shape) and value_shape[lead] == 1:
        lead += 1
    if lead:
        value_shape = value_shape[lead:]
        values = view_op(ViewBackward0, values, value_shape)
    region = xp.broadcast_to(xp.empty((), dtype=bool), view_shape)[key].shape
    try:
        xp.broadcast_to(xp.empty(value_shape, dtype=bool), region)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast "
            f"to indexing result of shape {list(region)}"
        ) from None
    return values


def index_put(input, indices, values, accumulate: bool = False):
    """``x.index_put((i, j), values)``: ``x[i, j] = values`` out of place (added with
    ``accumulate``, repeated indices adding up)."""
    advanced = {}
    shape = input._data.shape
    dim = 0
    for position, item in enumerate(indices):
        if not isinstance(item, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got {_type_name(item)}"
            )
        array = _index_array(item)
        if array.dtype.kind == "b":
            _check_mask(array, list(shape), dim)
        advanced[dim] = array
        dim += array.ndim if array.dtype.kind == "b" else 1
    if dim > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{SCALAR_TYPE_NAMES[input.dtype.name]} for the destination "
            f"and {SCALAR_TYPE_NAMES[values.dtype.name]} for the source."
        )
    key = _advanced_key(advanced, list(shape)) if advanced else (Ellipsis,)
    node = IndexPutBackward0()
    node.steps = ()
    node.key = key
    node.accumulate = bool(accumulate)
    return put(node, input, _fit_values(values, shape, key))


# ---------------------------------------------------------------------- explain rules
# "x[…] ← v" (x with v written at […]) binds more loosely than any operator: "(x[…] ← v)·2".
_WRITE = ADD - 1
_WRITTEN = ("the gradient, 0 where values were written", "the gradient at the written positions")
_OVERWRITTEN = "0: every element was overwritten"


def _index_put_rule(node) -> Rule:
    if node.accumulate:
        return Rule(
            "adding values at the indices",
            "{a:9}.index_put(indices, {b:0}, accumulate=True)",
            passes=("the gradient", "the gradient at the positions each value was added to"),
        )
    return Rule("writing values at the indices", "{a:9}.index_put(indices, {b:0})", passes=_WRITTEN)


DECLARATIONS = (
    declare(
        "__getitem__",
        None,
        method=getitem,  # records SelectBackward0, SliceBackward0, ... (ops/shape.py) and:
        explain={IndexBackward0: Rule("indexing", "{x:9}[…]", passes=INDEXED)},
    ),
    declare(
        "__setitem__",
        None,
        method=setitem,  # records these, or IndexPutBackward0 for an advanced index alone
        explain={
            CopySlices: Rule(
                "writing into part of a tensor",
                "{a:9}[…] ← {b:5}",
                _WRITE,
                passes=_WRITTEN,
            ),
            CopyBackwards: Rule(
                "copying a tensor over all of another",
                "{a:9}[...] ← {b:5}",
                _WRITE,
                passes=(_OVERWRITTEN, "the gradient"),
            ),
            FillBackward3: Rule(
                "filling with a number",
                "{a:9}[...] ← {b:5}",
                _WRITE,
                passes=(_OVERWRITTEN, "nothing (a number needs no gradient)"),
            ),
        },
    ),
    declare("index_put", index_put, explain={IndexPutBackward0: _index_put_rule}),
)
