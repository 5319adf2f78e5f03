"""In-place forms of the ops that overwrite part of a tensor: ``masked_fill_``,
``index_fill_``, ``tril_``, ``triu_``. Each computes the out-of-place op (which records its
node: MaskedFillBackward0, TrilBackward0, ...) and hands the result to
``Tensor._assign_in_place`` (ops/inplace.py), as the other in-place ops do.

Tensor methods only, declared in ``DECLARATIONS`` (see ops/declare.py).
"""

from __future__ import annotations

from ..arguments import check_int
from .declare import declare


def masked_fill_(input, mask, value):
    return input._assign_in_place(input.masked_fill(mask, value))


def index_fill_(input, dim: int, index, value):
    return input._assign_in_place(input.index_fill(dim, index, value))


def tril_(input, diagonal: int = 0):
    check_int(diagonal, "tril_", "diagonal", 1)
    return input._assign_in_place(input.tril(diagonal))


def triu_(input, diagonal: int = 0):
    check_int(diagonal, "triu_", "diagonal", 1)
    return input._assign_in_place(input.triu(diagonal))


DECLARATIONS = (
    declare("masked_fill_", None, method=masked_fill_),
    declare("index_fill_", None, method=index_fill_),
    declare("tril_", None, method=tril_),
    declare("triu_", None, method=triu_),
)
