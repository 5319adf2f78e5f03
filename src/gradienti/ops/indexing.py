"""Indexing: basic and advanced x[...], index assignment, gather/scatter and friends.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

from ..tensor import Tensor
from .shape import select


def getitem(input, index):
    """``x[i]`` for an integer ``i`` (the rest of indexing is still to come)."""
    if isinstance(index, Tensor):
        index = index.__index__()
    if not isinstance(index, int):
        raise NotImplementedError("only integer indexing is implemented so far")
    size = len(input)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
    return select(input, index % size)


TENSOR_METHODS: dict = {"__getitem__": getitem}
FUNCTIONS: dict = {}
UFUNCS: dict = {}
