"""Batching rules for NumPy's array functions (``BatchedArray.__array_function__``), part 1:
the dispatcher, elementwise functions, reductions and reshaping.

A rule computes the function once on the physical arrays: a logical axis ``a`` is physical
axis ``a + 1``, ``axis=None`` (every logical axis, or the flattened array) never includes the
batch axis, and an argument that is the same for every sample is broadcast where the function
needs every argument batched. A rule returns ``NO_RULE`` for a case it does not cover; then,
as for a function without a rule, fallback.py runs it once per sample. Joining, indexing-like
and product rules are in function_rules_more.py; ``RULES`` maps each NumPy function to its
rule.
"""

from __future__ import annotations

from ..backend import xp
from .batched_array import (
    BatchedArray,
    all_axes,
    flat_values,
    logical_ndim,
    shift_axes,
    top_level,
    with_batch_rank,
    write,
)
from .fallback import run_per_sample
from .own_functions import all_samples

_ndarray = xp.ndarray
NO_RULE = object()
RULES: dict = {}


def rule_for(*functions):
    """Register the decorated function as the batching rule of ``functions``."""

    def register(rule):
        for function in functions:
            RULES[function] = rule
        return rule

    return register


def array_function(self, func, types, args, kwargs):
    """``BatchedArray.__array_function__``: the function's rule, else the per-sample loop."""
    for kind in types:
        if kind is not BatchedArray and not issubclass(kind, _ndarray):
            return NotImplemented
    level = top_level(flat_values((args, kwargs)))
    rule = RULES.get(func)
    if rule is not None:
        out = kwargs.get("out")
        if "out" in kwargs:
            kwargs = {name: value for name, value in kwargs.items() if name != "out"}
        result = rule(*args, **kwargs)
        if result is not NO_RULE:
            if out is None:
                return result
            write(out, result, func.__name__)
            return out
        if out is not None:
            kwargs = dict(kwargs, out=out)
    return run_per_sample(func, level, args, kwargs)


def _batched(value, level: int) -> bool:
    return type(value) is BatchedArray and value.level == level


# ---------------------------------------------------------------------- metadata
@rule_for(xp.shape)
def _shape(a):
    return a.shape


@rule_for(xp.ndim)
def _ndim(a):
    return a.ndim


@rule_for(xp.size)
def _size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


@rule_for(xp.result_type)
def _result_type(*arrays_and_dtypes):
    return xp.result_type(
        *(value.dtype if type(value) is BatchedArray else value for value in arrays_and_dtypes)
    )


@rule_for(xp.may_share_memory, xp.shares_memory)
def _shares_memory(a, b, max_work=None):
    return xp.may_share_memory(all_samples(a), all_samples(b))


# ---------------------------------------------------------------------- elementwise
def _elementwise_call(function, args, kwargs):
    """``function`` applied elementwise to its array arguments, broadcasting (``where``,
    ``clip``, ``isclose``...): batched arguments lined up as a ufunc's operands are."""
    values = list(args) + list(kwargs.values())
    level = top_level(values)
    rank = max(
        (logical_ndim(value) for value in values if isinstance(value, (_ndarray, BatchedArray))),
        default=0,
    )

    def line_up(value):
        if _batched(value, level):
            return with_batch_rank(value.physical, rank)
        return value

    result = function(
        *(line_up(value) for value in args),
        **{name: line_up(value) for name, value in kwargs.items()},
    )
    if type(result) is tuple:
        return tuple(BatchedArray(part, level) for part in result)
    return BatchedArray(result, level)


for _function in (
    xp.clip,
    xp.isclose,
    xp.nan_to_num,
    xp.round,
    xp.around,
    xp.isneginf,
    xp.isposinf,
    xp.real,
    xp.imag,
    xp.fix,
    xp.sinc,
    xp.i0,
):
    RULES[_function] = (lambda function: lambda *a, **k: _elementwise_call(function, a, k))(
        _function
    )


@rule_for(xp.where)
def _where(condition, x=NO_RULE, y=NO_RULE):
    if x is NO_RULE and y is NO_RULE:
        return xp.nonzero(condition)  # (a dynamic shape: refused by the fallback)
    return _elementwise_call(xp.where, (condition, x, y), {})


@rule_for(xp.copyto)
def _copyto(dst, src, casting="same_kind", where=True):
    if where is not True:  # dst keeps its values where the mask is False
        src = xp.where(where, src, dst)
    write(dst, src, "inplace arithmetic")
    return None


# ---------------------------------------------------------------------- creation from a model
def _like(function):
    def rule(a, *args, shape=None, **kwargs):
        if shape is not None:
            return function(xp.empty(a.shape, a.dtype), *args, shape=shape, **kwargs)
        if not isinstance(a, BatchedArray):
            return NO_RULE
        if any(type(value) is BatchedArray for value in args):
            return NO_RULE
        return BatchedArray(function(a.physical, *args, **kwargs), a.level)

    return rule


for _function in (xp.zeros_like, xp.ones_like, xp.empty_like, xp.full_like):
    RULES[_function] = _like(_function)


@rule_for(xp.copy)
def _copy(a, order="K", subok=False):
    return BatchedArray(xp.copy(a.physical), a.level)


# ---------------------------------------------------------------------- reductions
def _reduction(function):
    """``function(a, axis, ...)`` reducing the given logical axes (all of them for None)."""

    def rule(a, axis=None, *args, **kwargs):
        others = tuple(flat_values((args, kwargs)))
        if type(a) is not BatchedArray or top_level(others) >= a.level:
            return NO_RULE
        axes = all_axes(a.ndim) if axis is None else shift_axes(axis, a.ndim)
        return BatchedArray(function(a.physical, axes, *args, **kwargs), a.level)

    return rule


for _function in (
    xp.sum,
    xp.mean,
    xp.prod,
    xp.max,
    xp.amax,
    xp.min,
    xp.amin,
    xp.all,
    xp.any,
    xp.std,
    xp.var,
    xp.nansum,
    xp.nanmean,
    xp.nanmax,
    xp.nanmin,
    xp.nanprod,
    xp.ptp,
    xp.median,
    xp.count_nonzero,
):
    RULES[_function] = _reduction(_function)


def _arg_reduction(function):
    """argmax/argmin: ``axis=None`` is an index into the flattened logical array."""

    def rule(a, axis=None, out=None, *, keepdims=False):
        physical = a.physical
        if axis is None:
            flat = physical.reshape(physical.shape[0], -1)
            result = function(flat, axis=1)
            if keepdims:
                result = result.reshape((physical.shape[0],) + (1,) * a.ndim)
            return BatchedArray(result, a.level)
        result = function(physical, axis=shift_axes(axis, a.ndim), keepdims=keepdims)
        return BatchedArray(result, a.level)

    return rule


RULES[xp.argmax] = _arg_reduction(xp.argmax)
RULES[xp.argmin] = _arg_reduction(xp.argmin)


def _scan(function):
    """cumsum/cumprod: ``axis=None`` scans the flattened logical array."""

    def rule(a, axis=None, dtype=None):
        physical = a.physical
        if axis is None:
            flat = physical.reshape(physical.shape[0], -1)
            return BatchedArray(function(flat, axis=1, dtype=dtype), a.level)
        return BatchedArray(function(physical, axis=shift_axes(axis, a.ndim), dtype=dtype), a.level)

    return rule


for _function in (xp.cumsum, xp.cumprod, xp.nancumsum, xp.nancumprod):
    RULES[_function] = _scan(_function)


@rule_for(xp.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    physical = x.physical
    if axis is None:
        if ord is None:
            flat = physical.reshape(physical.shape[0], -1)
            result = xp.linalg.norm(flat, axis=1)
            if keepdims:
                result = result.reshape((physical.shape[0],) + (1,) * x.ndim)
            return BatchedArray(result, x.level)
        axis = tuple(range(x.ndim))
    axes = shift_axes(axis, x.ndim)
    return BatchedArray(xp.linalg.norm(physical, ord, axes, keepdims), x.level)


def _sorting(function):
    def rule(a, axis=-1, kind=None, order=None, *, stable=None):
        physical = a.physical
        if axis is None:
            flat = physical.reshape(physical.shape[0], -1)
            return BatchedArray(function(flat, axis=1, kind=kind, stable=stable), a.level)
        axis = shift_axes(axis, a.ndim)
        return BatchedArray(function(physical, axis=axis, kind=kind, stable=stable), a.level)

    return rule


RULES[xp.sort] = _sorting(xp.sort)
RULES[xp.argsort] = _sorting(xp.argsort)


@rule_for(xp.diff)
def _diff(a, n=1, axis=-1, **kwargs):
    if kwargs:
        return NO_RULE
    return BatchedArray(xp.diff(a.physical, n, shift_axes(axis, a.ndim)), a.level)


# ---------------------------------------------------------------------- reshaping
def _logical_shape(shape, size: int) -> tuple:
    """A requested shape with its -1 resolved against ``size`` elements."""
    if isinstance(shape, (int, xp.integer)):
        shape = (shape,)
    shape = tuple(int(length) for length in shape)
    if -1 in shape:
        known = 1
        for length in shape:
            if length != -1:
                known *= length
        missing = size // known if known else 0
        if known * missing != size:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(missing if length == -1 else length for length in shape)
    return shape


@rule_for(xp.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":  # (another order would read the physical array across the batch axis)
        return NO_RULE
    shape = _logical_shape(newshape if shape is None else shape, a.size)
    physical = a.physical
    return BatchedArray(physical.reshape((physical.shape[0],) + shape, order=order), a.level)


@rule_for(xp.ravel)
def _ravel(a, order="C"):
    if order != "C":  # (as reshape's; "K" and "A" follow each sample's memory layout)
        return NO_RULE
    physical = a.physical
    return BatchedArray(physical.reshape(physical.shape[0], -1), a.level)


@rule_for(xp.transpose)
def _transpose(a, axes=None):
    ndim = a.ndim
    if axes is None:
        order = (0,) + tuple(range(ndim, 0, -1))
    else:
        order = (0,) + tuple(shift_axes(tuple(axes), ndim))
    return BatchedArray(a.physical.transpose(order), a.level)


@rule_for(xp.permute_dims)
def _permute_dims(a, axes=None):
    return _transpose(a, axes)


@rule_for(xp.moveaxis)
def _moveaxis(a, source, destination):
    ndim = a.ndim
    return BatchedArray(
        xp.moveaxis(a.physical, shift_axes(source, ndim), shift_axes(destination, ndim)), a.level
    )


@rule_for(xp.swapaxes)
def _swapaxes(a, axis1, axis2):
    ndim = a.ndim
    return BatchedArray(
        xp.swapaxes(a.physical, shift_axes(axis1, ndim), shift_axes(axis2, ndim)), a.level
    )


@rule_for(xp.expand_dims)
def _expand_dims(a, axis):
    ndim = a.ndim
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    new_ndim = ndim + len(axes)
    return BatchedArray(xp.expand_dims(a.physical, shift_axes(tuple(axes), new_ndim)), a.level)


@rule_for(xp.squeeze)
def _squeeze(a, axis=None):
    if axis is None:
        axis = tuple(index for index, length in enumerate(a.shape) if length == 1)
    elif not isinstance(axis, (tuple, list)):
        axis = (axis,)
    if not axis:
        return a
    return BatchedArray(xp.squeeze(a.physical, shift_axes(tuple(axis), a.ndim)), a.level)


@rule_for(xp.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    if isinstance(shape, (int, xp.integer)):
        shape = (shape,)
    shape = tuple(shape)
    physical = with_batch_rank(array.physical, len(shape))
    return BatchedArray(xp.broadcast_to(physical, physical.shape[:1] + shape), array.level)


@rule_for(xp.atleast_1d, xp.atleast_2d, xp.atleast_3d)
def _atleast(*arrays):
    return NO_RULE


@rule_for(xp.flip)
def _flip(m, axis=None):
    axes = all_axes(m.ndim) if axis is None else shift_axes(axis, m.ndim)
    return BatchedArray(xp.flip(m.physical, axes), m.level)


@rule_for(xp.roll)
def _roll(a, shift, axis=None):
    if type(shift) is BatchedArray:
        return NO_RULE
    physical = a.physical
    if axis is None:
        flat = physical.reshape(physical.shape[0], -1)
        return BatchedArray(xp.roll(flat, shift, 1).reshape(physical.shape), a.level)
    return BatchedArray(xp.roll(physical, shift, shift_axes(axis, a.ndim)), a.level)


@rule_for(xp.repeat)
def _repeat(a, repeats, axis=None):
    if type(repeats) is BatchedArray or type(a) is not BatchedArray:
        return NO_RULE
    physical = a.physical
    if axis is None:
        physical = physical.reshape(physical.shape[0], -1)
        return BatchedArray(xp.repeat(physical, repeats, 1), a.level)
    return BatchedArray(xp.repeat(physical, repeats, shift_axes(axis, a.ndim)), a.level)


@rule_for(xp.tile)
def _tile(A, reps):  # noqa: N803 - NumPy's name
    reps = (reps,) if isinstance(reps, (int, xp.integer)) else tuple(reps)
    rank = max(A.ndim, len(reps))
    physical = with_batch_rank(A.physical, rank)
    reps = (1,) + (1,) * (rank - len(reps)) + reps
    return BatchedArray(xp.tile(physical, reps), A.level)


@rule_for(xp.diagonal)
def _diagonal(a, offset=0, axis1=0, axis2=1):
    ndim = a.ndim
    return BatchedArray(
        xp.diagonal(a.physical, offset, shift_axes(axis1, ndim), shift_axes(axis2, ndim)), a.level
    )


@rule_for(xp.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    ndim = a.ndim
    axes = shift_axes(axis1, ndim), shift_axes(axis2, ndim)
    return BatchedArray(xp.trace(a.physical, offset, *axes, dtype=dtype), a.level)


def _triangular(function):
    def rule(m, k=0):
        if m.ndim < 2:
            return NO_RULE
        return BatchedArray(function(m.physical, k), m.level)

    return rule


RULES[xp.tril] = _triangular(xp.tril)
RULES[xp.triu] = _triangular(xp.triu)


@rule_for(xp.pad)
def _pad(array, pad_width, mode="constant", **kwargs):
    if any(type(value) is BatchedArray for value in flat_values((pad_width, kwargs))):
        return NO_RULE
    widths = xp.broadcast_to(xp.asarray(pad_width, dtype=xp.int64), (array.ndim, 2))
    widths = ((0, 0),) + tuple((int(before), int(after)) for before, after in widths)
    return BatchedArray(xp.pad(array.physical, widths, mode, **kwargs), array.level)


@rule_for(xp.lib.stride_tricks.sliding_window_view)
def _sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    if axis is None:
        axis = tuple(range(x.ndim))
    window_shape = (window_shape,) if isinstance(window_shape, int) else tuple(window_shape)
    axes = shift_axes(axis if isinstance(axis, (tuple, list)) else (axis,), x.ndim)
    view = xp.lib.stride_tricks.sliding_window_view(
        x.physical, window_shape, axes, writeable=writeable
    )
    return BatchedArray(view, x.level)


@rule_for(xp.unravel_index)
def _unravel_index(indices, shape, order="C"):
    if type(indices) is not BatchedArray:
        return NO_RULE
    return tuple(
        BatchedArray(part, indices.level) for part in xp.unravel_index(indices.physical, shape)
    )
