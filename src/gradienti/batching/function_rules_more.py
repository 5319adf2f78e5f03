"""Batching rules for NumPy's array functions, part 2: joining and splitting, gathering and
scattering along an axis, and products (``einsum``, ``tensordot``, ``dot``, ``outer``).

Joining needs every argument batched: one that is the same for every sample is broadcast to
the batch (a view). ``einsum`` gives the batch axis a subscript of its own, on the batched
operands and first in the output; the products are ``einsum`` or ``matmul`` in the shapes
where they equal them.
"""

from __future__ import annotations

from ..backend import xp
from .batched_array import (
    BatchedArray,
    batch_size_at,
    broadcast_batch,
    logical_ndim,
    shift_axes,
    top_level,
    with_batch_rank,
)
from .function_rules import NO_RULE, rule_for
from .indexing import getitem


def _all_batched(arrays, level: int, size: int) -> list:
    """Every array as a physical array of ``level`` (broadcast if it is not batched)."""
    return [
        array.physical
        if type(array) is BatchedArray and array.level == level
        else broadcast_batch(array, size)
        for array in arrays
    ]


@rule_for(xp.concatenate)
def _concatenate(arrays, axis=0, *, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    level = top_level(arrays)
    size = batch_size_at(arrays, level)
    if axis is None:
        arrays = [xp.ravel(array) for array in arrays]
        axis = 0
    ndim = logical_ndim(arrays[0])
    physical = _all_batched(arrays, level, size)
    result = xp.concatenate(physical, shift_axes(axis, ndim), dtype=dtype, casting=casting)
    return BatchedArray(result, level)


@rule_for(xp.stack)
def _stack(arrays, axis=0, *, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    level = top_level(arrays)
    size = batch_size_at(arrays, level)
    ndim = logical_ndim(arrays[0]) + 1
    physical = _all_batched(arrays, level, size)
    result = xp.stack(physical, shift_axes(axis, ndim), dtype=dtype, casting=casting)
    return BatchedArray(result, level)


def _splitting(function):
    def rule(ary, indices_or_sections, axis=0):
        if type(indices_or_sections) is BatchedArray:
            return NO_RULE
        parts = function(ary.physical, indices_or_sections, shift_axes(axis, ary.ndim))
        return [BatchedArray(part, ary.level) for part in parts]

    return rule


rule_for(xp.split)(_splitting(xp.split))
rule_for(xp.array_split)(_splitting(xp.array_split))


# ---------------------------------------------------------------------- gathering, scattering
@rule_for(xp.take)
def _take(a, indices, axis=None, mode="raise"):
    level = top_level((a, indices))
    if mode != "raise":
        return NO_RULE
    if axis is None:
        a = xp.ravel(a)
        axis = 0
    if type(indices) is BatchedArray and indices.level == level:
        # Each sample reads with its own indices: advanced indexing along the axis.
        return getitem(a, (slice(None),) * (axis % logical_ndim(a)) + (indices,))
    return BatchedArray(xp.take(a.physical, indices, shift_axes(axis, a.ndim)), level)


def _along_axis_operands(arr, indices, level: int, size: int):
    """Both as physical arrays of ``level`` of the same rank (an index array that is the same
    for every sample gets a size-1 batch axis: the functions broadcast it)."""
    if type(arr) is BatchedArray and arr.level == level:
        arr_physical = arr.physical
    else:
        arr_physical = broadcast_batch(arr, size)
    if type(indices) is BatchedArray and indices.level == level:
        indices_physical = indices.physical
    else:
        indices_physical = xp.expand_dims(indices, 0)
    return arr_physical, indices_physical


@rule_for(xp.take_along_axis)
def _take_along_axis(arr, indices, axis=-1):
    level = top_level((arr, indices))
    size = batch_size_at((arr, indices), level)
    ndim = logical_ndim(arr)
    if axis is None:
        arr = xp.ravel(arr)
        indices = xp.ravel(indices)
        ndim, axis = 1, 0
    arr_physical, indices_physical = _along_axis_operands(arr, indices, level, size)
    if arr_physical.shape[0] != indices_physical.shape[0]:
        indices_physical = xp.broadcast_to(
            indices_physical, (size,) + tuple(indices_physical.shape[1:])
        )
    result = xp.take_along_axis(arr_physical, indices_physical, shift_axes(axis, ndim))
    return BatchedArray(result, level)


@rule_for(xp.put_along_axis)
def _put_along_axis(arr, indices, values, axis):
    level = top_level((arr, indices, values))
    if type(arr) is not BatchedArray or arr.level != level or axis is None:
        return NO_RULE
    size = arr.physical.shape[0]
    _, indices_physical = _along_axis_operands(arr, indices, level, size)
    indices_physical = xp.broadcast_to(
        indices_physical, (size,) + tuple(indices_physical.shape[1:])
    )
    if type(values) is BatchedArray and values.level == level:
        values = with_batch_rank(values.physical, arr.ndim)
    axis = shift_axes(axis, arr.ndim)
    if top_level((indices_physical, values)) > top_level((arr.physical,)):
        return NO_RULE
    xp.put_along_axis(arr.physical, indices_physical, values, axis)
    return None


# ---------------------------------------------------------------------- products
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _implicit_output(inputs: list) -> str:
    """NumPy's output subscripts when none are given: the letters used once, sorted, after the
    broadcast axes of ``...``."""
    letters = "".join(inputs).replace(".", "")
    once = sorted(letter for letter in set(letters) if letters.count(letter) == 1)
    ellipsis = "..." if any("..." in term for term in inputs) else ""
    return ellipsis + "".join(once)


@rule_for(xp.einsum)
def _einsum(*operands, out=None, **kwargs):
    if not operands or not isinstance(operands[0], str):
        return NO_RULE  # the interleaved form einsum(a, [0, 1], b, [1, 2])
    subscripts, arrays = operands[0].replace(" ", ""), list(operands[1:])
    if "->" in subscripts:
        inputs_text, output = subscripts.split("->")
    else:
        inputs_text, output = subscripts, None
    inputs = inputs_text.split(",")
    if output is None:
        output = _implicit_output(inputs)
    level = top_level(arrays)
    free = [letter for letter in _LETTERS if letter not in subscripts]
    batch = free[0]
    terms = []
    physical = []
    for term, array in zip(inputs, arrays):
        if type(array) is BatchedArray and array.level == level:
            terms.append(batch + term)
            physical.append(array.physical)
        else:
            terms.append(term)
            physical.append(array)
    equation = ",".join(terms) + "->" + batch + output
    return BatchedArray(xp.einsum(equation, *physical, **kwargs), level)


def _letters(count: int, start: int) -> str:
    return _LETTERS[start : start + count]


@rule_for(xp.tensordot)
def _tensordot(a, b, axes=2):
    """As ``einsum``: the summed axes of ``a`` (its last ``axes``, or the listed ones) pair
    with ``b``'s (its first ``axes``, or the listed ones)."""
    a_ndim, b_ndim = logical_ndim(a), logical_ndim(b)
    if isinstance(axes, (int, xp.integer)):
        a_axes = list(range(a_ndim - axes, a_ndim))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, (int, xp.integer)) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, (int, xp.integer)) else list(b_axes)
        a_axes = [axis % a_ndim for axis in a_axes]
        b_axes = [axis % b_ndim for axis in b_axes]
    a_letters = list(_letters(a_ndim, 0))
    b_letters = list(_letters(b_ndim, a_ndim))
    for a_axis, b_axis in zip(a_axes, b_axes):
        b_letters[b_axis] = a_letters[a_axis]
    output = [letter for index, letter in enumerate(a_letters) if index not in a_axes] + [
        letter for index, letter in enumerate(b_letters) if index not in b_axes
    ]
    equation = f"{''.join(a_letters)},{''.join(b_letters)}->{''.join(output)}"
    return _einsum(equation, a, b)


@rule_for(xp.dot)
def _dot(a, b):
    if logical_ndim(a) == 0 or logical_ndim(b) == 0:
        return xp.multiply(a, b)
    if logical_ndim(b) <= 2:
        return xp.matmul(a, b)
    return NO_RULE


@rule_for(xp.inner)
def _inner(a, b):
    if logical_ndim(a) == 0 or logical_ndim(b) == 0:
        return xp.multiply(a, b)
    return _tensordot(a, b, ([-1], [-1]))


@rule_for(xp.vdot)
def _vdot(a, b):
    return xp.sum(xp.multiply(xp.ravel(a), xp.ravel(b)))


@rule_for(xp.outer)
def _outer(a, b):
    return xp.multiply(xp.reshape(xp.ravel(a), (-1, 1)), xp.reshape(xp.ravel(b), (1, -1)))
