"""The Tensor methods that name a dtype (``short``, ``char``, ``byte``; ``long``, ``int``, ...
are in tensor.py). They convert with PyTorch's values, as every conversion does: see
gradienti/casting.py.

Public operations are declared in ``DECLARATIONS`` (see ops/declare.py).
"""

from __future__ import annotations

from ..backend import int8, int16, uint8
from .declare import declare


def short(input):
    return input.to(int16)


def char(input):
    return input.to(int8)


def byte(input):
    return input.to(uint8)


# Tensor methods only, as in PyTorch (torch.short does not exist); they record ToCopyBackward0.
DECLARATIONS = (
    declare("short", None, method=short),
    declare("char", None, method=char),
    declare("byte", None, method=byte),
)
