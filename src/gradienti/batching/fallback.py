"""The batching rule of last resort: run the function once per sample, then stack the results.

Used for a NumPy function that has no rule in function_rules.py; it warns with PyTorch's text
(through ``warnings``, so Python's filters show it once per op) and counts the op in
``FALLBACKS``, which the tests read to check that the ops with rules never come here. A
function whose samples give results of different shapes (``np.unique``, ``np.nonzero``) is
refused with PyTorch's dynamic-shape error; one whose result is a Python value (``allclose``)
with PyTorch's data-dependent control flow error.
"""

from __future__ import annotations

import warnings
from collections import Counter

from ..backend import xp
from .batched_array import CONTROL_FLOW_ERROR, BatchedArray, batch_size_at, flat_values
from .indexing import DYNAMIC_SHAPE_ERROR

FALLBACK_WARNING = (
    "There is a performance drop because we have not yet implemented the batching rule for "
    "{op}. Please file us an issue on GitHub so that we can prioritize its implementation."
)

# How often each op ran per sample (op name -> count): the tests' record of fallbacks.
FALLBACKS: Counter = Counter()

# NumPy functions whose result's shape depends on the values: PyTorch's op name for each.
DYNAMIC_SHAPE_OPS = {
    xp.nonzero: "aten::nonzero",
    xp.flatnonzero: "aten::nonzero",
    xp.argwhere: "aten::nonzero",
    xp.unique: "aten::_unique2",
    xp.extract: "aten::masked_select",
    xp.compress: "aten::masked_select",
}


def op_name(function) -> str:
    module = getattr(function, "__module__", None) or "numpy"
    return f"{module}.{getattr(function, '__name__', repr(function))}"


def _sample(value, level: int, index: int):
    """One sample's value of an argument (containers searched, as for ``concatenate``)."""
    if type(value) is BatchedArray:
        return value.physical[index] if value.level == level else value
    if type(value) in (list, tuple):
        return type(value)(_sample(item, level, index) for item in value)
    if type(value) is dict:
        return {name: _sample(item, level, index) for name, item in value.items()}
    return value


def _stack(results: list, level: int, name: str):
    first = results[0]
    if first is None:
        return None  # an in-place function: each sample wrote through its view
    if type(first) in (tuple, list):
        return type(first)(_stack(list(parts), level, name) for parts in zip(*results))
    if not isinstance(first, (xp.ndarray, xp.generic, BatchedArray)):
        raise RuntimeError(CONTROL_FLOW_ERROR)
    try:
        return BatchedArray(xp.stack(results), level)
    except ValueError:
        raise RuntimeError(DYNAMIC_SHAPE_ERROR.format(op=name)) from None


def run_per_sample(function, level: int, args: tuple, kwargs: dict):
    """``function(*args, **kwargs)`` computed sample by sample at ``level``."""
    dynamic = DYNAMIC_SHAPE_OPS.get(function)
    if dynamic is not None:
        raise RuntimeError(DYNAMIC_SHAPE_ERROR.format(op=dynamic))
    name = op_name(function)
    FALLBACKS[name] += 1
    warnings.warn(FALLBACK_WARNING.format(op=name), UserWarning, stacklevel=4)
    size = batch_size_at(flat_values((args, kwargs)), level)
    results = [
        function(*_sample(args, level, index), **_sample(kwargs, level, index))
        for index in range(size)
    ]
    return _stack(results, level, name)
