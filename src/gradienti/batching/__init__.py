"""Batched arrays: what ``gradienti.func.vmap`` runs ops on (see batched_array.py).

This package sits at the bottom of gradienti's layers, beside ``backend``: it knows NumPy and
nothing of Tensors or graphs, so that the Tensor, the ops, the engine and the random functions
can all recognise a batched value. Here the NumPy protocols are attached to BatchedArray (the
rules' modules import the class, so it cannot import them), and random draws are batched as
the enclosing vmaps' ``randomness`` asks (``batched_draw``).
"""

from __future__ import annotations

from ..backend import pass_through
from . import function_rules_more  # noqa: F401 - registers its rules in function_rules.RULES
from .batched_array import (
    CONTROL_FLOW_ERROR,
    IN_PLACE_ERROR,
    ITEM_ERROR,
    NO_STORAGE_ERROR,
    BatchedArray,
    add_batch_dim,
    check_in_place,
    copy_for_writing,
    is_batched_at,
    level_of,
    remove_batch_dim,
    sum_batch_dim,
    top_level,
    writable_for,
)
from .fallback import FALLBACK_WARNING, FALLBACKS
from .function_rules import array_function
from .indexing import MASK_INDEXING_ERROR, getitem, setitem
from .levels import ACTIVE, RANDOM_ERROR, depth_of, enter, in_vmap, leave, transform_running
from .own_functions import (
    all_samples,
    along_first_axis,
    any_sample,
    elementwise,
    every_sample,
)
from .ufunc_rules import array_ufunc

BatchedArray.__array_ufunc__ = array_ufunc
BatchedArray.__array_function__ = array_function
BatchedArray.__getitem__ = getitem
BatchedArray.__setitem__ = setitem
pass_through(BatchedArray)


def batched_draw(shape: tuple, draw):
    """``draw(shape)`` (random values), under the vmaps in force: a vmap with randomness
    ``"error"`` refuses (PyTorch's error), ``"same"`` shares one draw among its samples,
    ``"different"`` draws for each of its samples (one draw of the batch's shape, outermost
    level first, as PyTorch's batched random ops draw)."""
    levels = ACTIVE.levels
    if not levels:
        return draw(shape)
    different = []
    for level in levels:
        if level.randomness == "error":
            raise RuntimeError(RANDOM_ERROR)
        if level.randomness == "different":
            different.append(level)
    values = draw(tuple(level.size for level in different) + tuple(shape))
    for level in different:
        values = BatchedArray(values, level.id)
    return values


RANDOM_IN_PLACE_ERROR = (
    "vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will appear "
    "like same randomness. If this is necessary for your usage, please file an issue with "
    "functorch."
)


def check_in_place_draw(array) -> None:
    """PyTorch's error for an in-place random fill (``uniform_``) of a tensor that is the same
    for every sample of a vmap whose ``randomness`` is ``"different"``."""
    for level in ACTIVE.levels:
        if level.randomness == "error":
            raise RuntimeError(RANDOM_ERROR)
        if level.randomness == "different" and not is_batched_at(array, level.id):
            raise RuntimeError(RANDOM_IN_PLACE_ERROR)


__all__ = [
    "CONTROL_FLOW_ERROR",
    "FALLBACKS",
    "FALLBACK_WARNING",
    "IN_PLACE_ERROR",
    "ITEM_ERROR",
    "MASK_INDEXING_ERROR",
    "NO_STORAGE_ERROR",
    "BatchedArray",
    "add_batch_dim",
    "all_samples",
    "along_first_axis",
    "any_sample",
    "batched_draw",
    "check_in_place",
    "check_in_place_draw",
    "copy_for_writing",
    "depth_of",
    "elementwise",
    "enter",
    "every_sample",
    "getitem",
    "in_vmap",
    "is_batched_at",
    "leave",
    "level_of",
    "remove_batch_dim",
    "setitem",
    "sum_batch_dim",
    "top_level",
    "transform_running",
    "writable_for",
]
