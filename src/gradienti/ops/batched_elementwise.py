"""``batched_elementwise``: an elementwise NumPy function of several arrays (which broadcast)
made to run under vmap. Functions that iterate until every element has converged (``while
active.any()``) or that call ``np.asarray`` cannot take a BatchedArray as it is; this folds the
samples into the operands' first axis (``batching.along_first_axis``) after broadcasting them to
one logical shape, so the function sees plain arrays, then gives the result the logical shape
back. Outside vmap the function is called directly."""

from __future__ import annotations

import functools

import numpy as np

from ..backend import xp
from ..batching import BatchedArray, along_first_axis


def batched_elementwise(function):
    folded_by_arity: dict = {}

    @functools.wraps(function)
    def run(*arrays):
        if all(type(array) is not BatchedArray for array in arrays):
            return function(*arrays)
        shape = np.broadcast_shapes(*(tuple(array.shape) for array in arrays))
        at_least_1d = shape or (1,)  # along_first_axis folds into a first logical axis
        operands = [xp.broadcast_to(array, shape).reshape(at_least_1d) for array in arrays]
        folded = folded_by_arity.get(len(arrays))
        if folded is None:
            folded = folded_by_arity[len(arrays)] = along_first_axis(*range(len(arrays)))(function)
        return folded(*operands).reshape(shape)

    return run
