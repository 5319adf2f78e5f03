"""Batching rules for NumPy ufuncs (``BatchedArray.__array_ufunc__``).

An elementwise ufunc is its own batching rule once the operands line up: NumPy broadcasts
from the right, so a batched operand's logical axes are padded with size-1 axes after the
batch axis to the largest logical rank among the operands, and an operand that is the same for
every sample (a plain array, a number, an array of an outer level) is left as it is: it
broadcasts against the logical axes only. ``reduce`` and ``accumulate`` shift their axes past
the batch axis, ``matmul`` (a generalized ufunc) lines up the loop axes before its two core
axes, and ``at`` (``np.add.at``, the indexing VJPs) writes through indexing.py's layout.
"""

from __future__ import annotations

from numbers import Number

from ..backend import xp
from .batched_array import (
    BatchedArray,
    all_axes,
    logical_ndim,
    physical_at,
    shift_axes,
    top_level,
    with_batch_rank,
    write,
)
from .indexing import add_at

_ndarray = xp.ndarray
_generic = xp.generic


def _known(value) -> bool:
    return (
        type(value) is BatchedArray
        or isinstance(value, (_ndarray, _generic, Number))
        or value is None
    )


def array_ufunc(self, ufunc, method: str, *inputs, **kwargs):
    """``BatchedArray.__array_ufunc__``."""
    out = kwargs.pop("out", None)
    if method == "at":  # (array, index, values): the index is a key, not an operand
        return add_at(ufunc, *inputs)
    if not all(_known(value) for value in inputs):
        return NotImplemented  # (a Tensor among them: Tensor's own __array_ufunc__ takes it)
    if out is not None and not all(_known(value) for value in out):
        return NotImplemented
    # ``out`` is written, not read: the inputs' levels batch the result (write() puts it in).
    level = top_level(inputs)
    # With ``out``, ``where`` keeps out's values where it is False: the result is computed
    # everywhere and chosen from below (each sample by its own mask when the mask is batched).
    where = kwargs.pop("where", True) if out is not None and method == "__call__" else True
    if not level:  # only ``out`` is batched
        result = getattr(ufunc, method)(*inputs, **kwargs)
    elif method == "__call__":
        if ufunc is xp.matmul:
            result = _matmul(level, *inputs, **kwargs)
        elif ufunc.signature is not None:
            return NotImplemented
        else:
            result = _elementwise(ufunc, level, inputs, kwargs)
    elif method == "reduce":
        result = _reduce(ufunc, level, *inputs, **kwargs)
    elif method == "accumulate":
        result = _accumulate(ufunc, level, *inputs, **kwargs)
    elif method == "outer":
        # outer(a, b) is a[..., None, ...] op b: a's axes first, then b's.
        a, b = inputs
        a = xp.reshape(a, tuple(xp.shape(a)) + (1,) * logical_ndim(b))
        result = _elementwise(ufunc, level, (a, b), kwargs)
    else:
        return NotImplemented
    if out is None:
        return result
    results = result if type(result) is tuple else (result,)
    for target, value in zip(out, results):
        if where is not True:
            value = xp.where(where, value, target)
        write(target, value, ufunc.__name__)
    return out[0] if len(out) == 1 else out


def _elementwise(ufunc, level: int, inputs: tuple, kwargs: dict):
    rank = max(logical_ndim(value) for value in inputs)
    where = kwargs.get("where")
    if type(where) is BatchedArray:
        rank = max(rank, where.ndim)
        kwargs = dict(kwargs, where=_line_up(where, level, rank))
    physical = [_line_up(value, level, rank) for value in inputs]
    result = ufunc(*physical, **kwargs)
    if type(result) is tuple:
        return tuple(BatchedArray(part, level) for part in result)
    return BatchedArray(result, level)


def _line_up(value, level: int, rank: int):
    if type(value) is BatchedArray and value.level == level:
        return with_batch_rank(value.physical, rank)
    return value


def _reduce(ufunc, level: int, array, axis=0, dtype=None, keepdims=False, **kwargs):
    ndim = array.ndim
    physical = array.physical
    if "where" in kwargs and type(kwargs["where"]) is BatchedArray:
        kwargs["where"] = with_batch_rank(physical_at(kwargs["where"], level), ndim)
    axes = all_axes(ndim) if axis is None else shift_axes(axis, ndim)
    result = ufunc.reduce(physical, axis=axes, dtype=dtype, keepdims=keepdims, **kwargs)
    return BatchedArray(result, level)


def _accumulate(ufunc, level: int, array, axis=0, dtype=None, **kwargs):
    physical = array.physical
    result = ufunc.accumulate(physical, axis=shift_axes(axis, array.ndim), dtype=dtype, **kwargs)
    return BatchedArray(result, level)


def _matmul(level: int, a, b, **kwargs):
    """``a @ b``: a batched vector gets its matrix axis explicitly (the batch axis must not
    become its rows), loop axes are lined up after the batch axis, and the vector's axis is
    removed again."""
    a_batched = type(a) is BatchedArray and a.level == level
    b_batched = type(b) is BatchedArray and b.level == level
    if not kwargs and a_batched != b_batched:
        # One matrix for every sample: the samples' rows are more rows, one product (as
        # PyTorch's batching of linear; NumPy would loop over the batch).
        if a_batched and logical_ndim(b) == 2:
            rows = a.physical
            product = xp.matmul(rows.reshape(-1, rows.shape[-1]), b)
            return BatchedArray(product.reshape(rows.shape[:-1] + product.shape[-1:]), level)
        if b_batched and logical_ndim(b) == 1 and logical_ndim(a) == 2:
            return BatchedArray(xp.matmul(b.physical, xp.swapaxes(a, -1, -2)), level)
    a_vector = logical_ndim(a) == 1 and a_batched
    b_vector = logical_ndim(b) == 1 and b_batched
    a_rank = max(logical_ndim(a), 2)
    b_rank = max(logical_ndim(b), 2)
    loops = max(a_rank, b_rank) - 2
    a_physical = physical_at(a, level)
    b_physical = physical_at(b, level)
    if a_vector:
        a_physical = xp.expand_dims(a_physical, 1)
    if b_vector:
        b_physical = xp.expand_dims(b_physical, -1)
    if a_physical is not a:
        a_physical = with_batch_rank(a_physical, loops + 2)
    if b_physical is not b:
        b_physical = with_batch_rank(b_physical, loops + 2)
    if (
        not kwargs
        and a_physical.ndim > 1
        and b_physical.ndim > 1
        and a_physical.shape[-1] == 1
        and b_physical.shape[-2] == 1
    ):
        # Outer products (a per-sample weight gradient g x^T): a broadcast multiplication,
        # where NumPy's matmul would make one tiny product per sample (~30x slower).
        result = xp.multiply(a_physical, b_physical)
    else:
        result = xp.matmul(a_physical, b_physical, **kwargs)
    if a_vector:
        # (its row axis is last when b is a plain vector: matmul dropped b's axis itself)
        b_plain_vector = logical_ndim(b) == 1 and not b_vector
        result = xp.squeeze(result, -1 if b_plain_vector else -2)
    if b_vector:
        result = xp.squeeze(result, -1)
    return BatchedArray(result, level)
