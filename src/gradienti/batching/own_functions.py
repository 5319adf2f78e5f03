"""Batching rules for gradienti's own array functions: helpers that compute an op's forward or
VJP on raw arrays and that NumPy knows nothing of (``erf_array``, im2col, pooling's running
maximum...). Such a helper may branch on values or write into buffers of its own
(``if near.any()``, ``out=``), which a BatchedArray refuses; its batching rule is simpler
than NumPy's anyway, applied as a decorator:

- ``elementwise``: the function maps each element of its one array argument on its own, so
  it is computed once on the whole physical array (every level's samples at once) and the
  result takes the argument's levels back;
- ``along_first_axis(*positions)``: the function treats the items of the first axis of the
  arrays at ``positions`` independently (a batch of images and its gradient), so the samples
  are folded into that axis (an array of those that is the same for every sample is repeated
  for each), the function is computed once, and its results are unfolded again.

On plain arrays either costs one call and a type test per array.
"""

from __future__ import annotations

import functools

from ..backend import xp
from .batched_array import BatchedArray


def _innermost(array):
    """The plain array inside and the levels around it, outermost (smallest) first."""
    levels = []
    while type(array) is BatchedArray:
        levels.append(array.level)
        array = array.physical
    levels.reverse()
    return array, levels


def _rewrapped(result, levels: list):
    for level in levels:
        result = BatchedArray(result, level)
    return result


def elementwise(function):
    """``function(x, *args)``, elementwise in the array ``x``, batched (see module docstring)."""

    @functools.wraps(function)
    def batched(x, *args, **kwargs):
        if type(x) is not BatchedArray:
            return function(x, *args, **kwargs)
        physical, levels = _innermost(x)
        return _rewrapped(function(physical, *args, **kwargs), levels)

    return batched


def _with_batch_axes(array, levels: list, sizes: dict):
    """``array`` as a plain array with one leading axis per level of ``levels`` (in order),
    repeated along the levels it is not batched at."""
    physical, own = _innermost(array)
    for position, level in enumerate(levels):
        if level not in own:
            physical = xp.expand_dims(physical, position)
    lead = tuple(sizes[level] for level in levels)
    return xp.broadcast_to(physical, lead + physical.shape[len(levels) :])


def any_sample(mask) -> bool:
    """Whether ``mask`` is true anywhere, in any sample: for the branches an op takes for
    speed (``if (x == 0).any()``: the general path is right for every sample, taken when any
    needs it). ``bool()`` of a batched mask refuses, as PyTorch's data-dependent control flow."""
    while type(mask) is BatchedArray:
        mask = mask.physical
    return bool(mask.any())


def all_samples(array):
    """The plain array holding every sample's values of ``array`` (itself when not batched):
    for the checks an op makes of its arguments (indices in range), which hold for the batch
    when they hold for all its values."""
    while type(array) is BatchedArray:
        array = array.physical
    return array


def every_sample(*arrays) -> list:
    """The arrays as plain arrays with one leading axis per vmap level among them (repeated
    where an array is not batched at a level): a check of values (``x`` in [0, 1]) can then
    look at every sample at once."""
    sizes: dict = {}
    for array in arrays:
        physical, own = _innermost(array)
        for index, level in enumerate(own):
            sizes[level] = physical.shape[index]
    levels = sorted(sizes)
    return [_with_batch_axes(array, levels, sizes) for array in arrays]


def along_first_axis(*positions: int):
    """The decorator (see the module docstring); ``positions`` default to ``(0,)``."""
    positions = positions or (0,)

    def decorate(function):
        @functools.wraps(function)
        def batched(*args, **kwargs):
            if all(type(args[position]) is not BatchedArray for position in positions):
                return function(*args, **kwargs)
            sizes: dict = {}
            for position in positions:
                physical, own = _innermost(args[position])
                for index, level in enumerate(own):
                    sizes[level] = physical.shape[index]
            levels = sorted(sizes)
            lead = tuple(sizes[level] for level in levels)
            args = list(args)
            for position in positions:
                full = _with_batch_axes(args[position], levels, sizes)
                args[position] = full.reshape((-1,) + full.shape[len(levels) + 1 :])
            result = function(*args, **kwargs)

            def unfold(value):
                if value is None:
                    return None
                value = value.reshape(lead + (-1,) + value.shape[1:])
                return _rewrapped(value, levels)

            if type(result) is tuple:
                return tuple(unfold(value) for value in result)
            return unfold(result)

        return batched

    return decorate
