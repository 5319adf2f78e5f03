"""Indexing a BatchedArray: ``x[key]``, ``x[key] = v`` and ``np.add.at(x, key, v)``.

The logical key is applied to the physical array with the batch axis kept first. A key of
integers, slices, ``None`` and ``...`` only (basic indexing) is the same key behind one more
``:``. A key with index arrays (advanced indexing) gets one more index array instead, the
samples' numbers ``arange(B)`` shaped to broadcast before the others: each sample then reads
with its own index arrays when they are batched. NumPy puts the broadcast index axes of the
physical result first, ``(B, *index_shape, *rest)``, whereas the logical result has them where
NumPy puts them for the logical key (at the first index array when the index arrays and
integers are adjacent in the key, else first): one transpose moves them there, and values
written are moved the other way.
"""

from __future__ import annotations

from ..backend import xp
from .batched_array import (
    IN_PLACE_ERROR,
    BatchedArray,
    batch_size_at,
    broadcast_batch,
    level_of,
    lift_copy,
    top_level,
    with_batch_rank,
)

_ndarray = xp.ndarray
MASK_INDEXING_ERROR = (
    "vmap: We do not support batching operators that can support dynamic shape. Attempting to "
    "batch over indexing with a boolean mask."
)
DYNAMIC_SHAPE_ERROR = (
    "vmap: We do not support batching operators that can output dynamic shape. Attempted to "
    "vmap over {op}. Please file an issue at https://github.com/pytorch/pytorch/issues if you "
    "need this feature."
)


def _items(key) -> tuple:
    return key if type(key) is tuple else (key,)


def _is_index_array(item) -> bool:
    return type(item) is BatchedArray or isinstance(item, (_ndarray, list))


def _is_integer(item) -> bool:
    return isinstance(item, (int, xp.integer)) and not isinstance(item, (bool, xp.bool_))


def _expand_masks(items: tuple) -> tuple:
    """Boolean index arrays as the integer arrays of their True positions (NumPy's reading);
    a batched mask has a different count per sample: refused, as PyTorch does."""
    expanded = []
    for item in items:
        if type(item) is BatchedArray:
            if item.dtype == xp.bool_:
                raise RuntimeError(MASK_INDEXING_ERROR)
        elif isinstance(item, (_ndarray, list)):
            item = xp.asarray(item)
            if item.dtype == xp.bool_:
                expanded.extend(item.nonzero())
                continue
        expanded.append(item)
    return tuple(expanded)


class Layout:
    """Where advanced indexing puts the index axes: ``index_rank`` axes, ``before`` logical
    result axes in front of them (0 when NumPy puts them first), and the logical result's
    ``shape``."""

    __slots__ = ("index_rank", "before", "shape")

    def __init__(self, index_rank: int, before: int, shape: tuple) -> None:
        self.index_rank = index_rank
        self.before = before
        self.shape = shape

    def to_logical(self) -> list:
        """The axes of a physical result ``(B, *index, *rest)`` in the logical order."""
        rank, before = self.index_rank, self.before
        total = 1 + len(self.shape)
        return (
            [0]
            + list(range(1 + rank, 1 + rank + before))
            + list(range(1, 1 + rank))
            + list(range(1 + rank + before, total))
        )

    def to_physical(self) -> list:
        """The inverse: logical order ``(B, *rest_before, *index, *rest_after)`` -> physical."""
        rank, before = self.index_rank, self.before
        total = 1 + len(self.shape)
        return (
            [0]
            + list(range(1 + before, 1 + before + rank))
            + list(range(1, 1 + before))
            + list(range(1 + before + rank, total))
        )


def translate(array: BatchedArray, key):
    """(physical key, Layout or None for basic indexing) of ``array[key]``."""
    items = _items(key)
    if not any(_is_index_array(item) for item in items):
        return (slice(None),) + items, None
    items = _expand_masks(items)
    level = array.level
    shape = array.shape
    advanced = [
        position
        for position, item in enumerate(items)
        if _is_index_array(item) or _is_integer(item)
    ]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    index_shape = xp.broadcast_shapes(*(tuple(xp.shape(items[position])) for position in advanced))
    rank = len(index_shape)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    rest = []
    before = None
    dim = 0
    for position, item in enumerate(items):
        if position == advanced[0]:
            before = len(rest)
        if item is None:
            rest.append(1)
        elif item is Ellipsis:
            for _ in range(len(shape) - consumed):
                rest.append(shape[dim])
                dim += 1
        elif type(item) is slice:
            rest.append(len(range(*item.indices(shape[dim]))))
            dim += 1
        else:
            dim += 1
    rest.extend(shape[dim:])
    before = before if adjacent else 0
    size = array.physical.shape[0]
    samples = xp.arange(size).reshape((size,) + (1,) * rank)
    physical_items = tuple(
        with_batch_rank(item.physical, rank)
        if type(item) is BatchedArray and item.level == level
        else xp.asarray(item)
        if type(item) is list
        else item
        for item in items
    )
    logical_shape = tuple(rest[:before]) + tuple(index_shape) + tuple(rest[before:])
    return (samples,) + physical_items, Layout(rank, before, logical_shape)


def _at_level(array, items: tuple):
    """``array`` as a BatchedArray of the largest level among it and the key (a broadcast
    view when it is the same for every sample of that level)."""
    level = top_level((array,) + items)
    if type(array) is BatchedArray and array.level == level:
        return array
    return BatchedArray(broadcast_batch(array, batch_size_at(items, level)), level)


def getitem(array, key):
    """``array[key]`` where the array or an index array is batched (else NumPy's own)."""
    items = _items(key)
    if not top_level((array,) + items):
        return array[key]
    array = _at_level(array, items)
    physical_key, layout = translate(array, items)
    physical = array.physical
    inner = top_level(physical_key)
    if inner > level_of(physical):
        physical = BatchedArray(
            broadcast_batch(physical, batch_size_at(physical_key, inner)), inner
        )
    result = physical[physical_key]
    if layout is not None and layout.before:
        result = xp.transpose(result, layout.to_logical())
    return BatchedArray(result, array.level)


def _physical_values(array: BatchedArray, layout, values, rank: int):
    """Values to write at ``array[key]`` (logical, broadcasting to the logical result, of
    ``rank`` axes) in the physical result's layout."""
    level = array.level
    batched = type(values) is BatchedArray and values.level == level
    if layout is None:
        return with_batch_rank(values.physical, rank) if batched else values
    if batched:
        physical = with_batch_rank(values.physical, len(layout.shape))
        if layout.before:
            size = array.physical.shape[0]
            physical = xp.transpose(
                xp.broadcast_to(physical, (size,) + layout.shape), layout.to_physical()
            )
        return physical
    if not layout.before:
        return values
    order = [axis - 1 for axis in layout.to_physical()[1:]]
    return xp.transpose(xp.broadcast_to(values, layout.shape), order)


def _write_at(array, key, values, write_physical, op_name: str) -> None:
    items = _items(key)
    level = top_level((array, values) + items)
    if type(array) is not BatchedArray or array.level != level:
        raise RuntimeError(IN_PLACE_ERROR.format(op=op_name))
    physical_key, layout = translate(array, items)
    # (basic indexing: the result is a view, its rank known without a copy)
    rank = array.physical[physical_key].ndim - 1 if layout is None else len(layout.shape)
    physical_values = _physical_values(array, layout, values, rank)
    physical = array.physical
    inner = top_level((physical_values,) + physical_key)
    if inner > level_of(physical):
        sources = (physical_values,) + physical_key
        physical = array.physical = lift_copy(physical, inner, batch_size_at(sources, inner))
    write_physical(physical, physical_key, physical_values)


def _assign(physical, key, values) -> None:
    physical[key] = values


def setitem(array, key, values) -> None:
    """``array[key] = values`` in place (PyTorch's error when ``array`` is the same for every
    sample and what is written is not)."""
    _write_at(array, key, values, _assign, "index_put_")


def add_at(ufunc, array, key, values=None) -> None:
    """``ufunc.at(array, key, values)``: unbuffered in place, repeated indices applied each
    time (the VJP of indexing adds gradients so)."""
    if values is None:
        raise TypeError("unary ufunc.at is not supported on a batched array")

    def apply(physical, physical_key, physical_values):
        ufunc.at(physical, physical_key, physical_values)

    _write_at(array, key, values, apply, f"{ufunc.__name__}.at")
