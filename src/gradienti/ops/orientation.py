"""Turning and reading a tensor as a matrix: ``rot90``, ``fliplr``, ``flipud``, ``Tensor.H`` /
``Tensor.mH`` (for real tensors, the transpose), ``atleast_1d/2d/3d``.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

``rot90`` is its own op (PyTorch's ``Rot90Backward0``): a quarter turn k times in the plane of
two dims, a copy; its VJP turns the gradient back (-k). The others are flips, transposes,
unsqueezes and views, recorded as PyTorch records them.
"""

from __future__ import annotations

import warnings

from ..arguments import check_int
from ..backend import xp
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor
from .declare import declare
from .explain_rule import Rule
from .jvp_rules import linear
from .rearrange import flip, matrix_T, transpose
from .shape import reshape_tensor, run, unsqueeze


class Rot90Backward0(Op):
    __slots__ = ("k", "dims")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        # Written with flip and swapaxes (NumPy's rot90 is made of them), which vmap batches.
        # As ATen's: a flipped copy in the input's memory order, then for an odd k the dims
        # swapped as a view of it (so the result's strides are PyTorch's, not contiguous).
        # An expanded input (a zero stride) gets a contiguous copy, as from PyTorch's flip.
        first, second = ctx.dims
        repeats = any(step == 0 and size > 1 for size, step in zip(x.shape, x.strides))
        order = "C" if repeats else "K"
        if ctx.k == 1:
            return xp.swapaxes(xp.flip(x, second).copy(order=order), first, second)
        if ctx.k == 2:
            return xp.flip(x, (first, second)).copy(order=order)
        if ctx.k == 3:
            return xp.swapaxes(xp.flip(x, first).copy(order=order), first, second)
        return x.copy()  # (k = 0: PyTorch's contiguous clone)

    @staticmethod
    def backward(ctx, g):
        return run(_rot90_node(-ctx.k, ctx.dims), g)


def _rot90_node(k: int, dims: tuple) -> Rot90Backward0:
    node = Rot90Backward0()
    node.k, node.dims = k % 4, dims
    return node


def rot90(input, k: int = 1, dims=(0, 1)):
    """A quarter turn ``k`` times from the first dim of ``dims`` towards the second."""
    k = check_int(k, "rot90", "k", 2)
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    axes = (normalize_dim(dims[0], ndim), normalize_dim(dims[1], ndim))
    if axes[0] == axes[1]:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}"
        )
    return run(_rot90_node(int(k), axes), input)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def conjugate_T(input):  # noqa: N802 - x.H
    """``x.H``: for a real matrix, its transpose (TransposeBackward0)."""
    ndim = input._data.ndim
    if ndim == 0:
        warnings.warn(
            "Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
            UserWarning,
            stacklevel=2,
        )
        return input
    if ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if ndim > 2 else ""
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {ndim}-D tensor.{hint}"
        )
    return transpose(input, 0, 1)


def conjugate_matrix_T(input):  # noqa: N802 - x.mH
    """``x.mH``: for real tensors, ``x.mT`` (with mH's error)."""
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(
            f"tensor.mH is only supported on matrices or batches of matrices. Got {ndim}-D tensor."
        )
    return matrix_T(input)


def _at_least(name: str, shaped, tensors: tuple):
    """One tensor gives one result; several (or a list or tuple of them) give a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(shaped(tensor) for tensor in tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return shaped(tensors[0])
    if len(tensors) == 1:  # neither a Tensor nor a sequence of them
        got = type(tensors[0]).__name__
        mismatch = (
            f"      didn't match because some of the arguments have invalid types: (!{got}!)\n"
        )
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but "
            f"expected one of:\n * (Tensor input)\n{mismatch} * (tuple of Tensors tensors)\n"
            f"{mismatch}"
        )
    return tuple(shaped(tensor) for tensor in tensors)


def _as_1d(x):
    return reshape_tensor(x, (1,)) if x._data.ndim == 0 else x


def _as_2d(x):
    ndim = x._data.ndim
    return reshape_tensor(x, (1, 1)) if ndim == 0 else unsqueeze(x, 0) if ndim == 1 else x


def _as_3d(x):
    ndim = x._data.ndim
    if ndim == 0:
        return reshape_tensor(x, (1, 1, 1))
    if ndim == 1:
        return unsqueeze(unsqueeze(x, 0), -1)
    return unsqueeze(x, -1) if ndim == 2 else x


def atleast_1d(*tensors):
    return _at_least("atleast_1d", _as_1d, tensors)


def atleast_2d(*tensors):
    return _at_least("atleast_2d", _as_2d, tensors)


def atleast_3d(*tensors):
    return _at_least("atleast_3d", _as_3d, tensors)


def _rot90_rule(node) -> Rule:
    return Rule(
        "rotation by quarter turns",
        f"rot90({{x:0}}, {node.k}, {list(node.dims)})",
        passes=("the gradient, turned back",),
    )


DECLARATIONS = (
    declare("rot90", rot90, explain={Rot90Backward0: _rot90_rule}),
    declare("fliplr", fliplr),  # records FlipBackward0
    declare("flipud", flipud),
    declare("H", None, method=property(conjugate_T)),  # records TransposeBackward0
    declare("mH", None, method=property(conjugate_matrix_T)),
    declare("atleast_1d", atleast_1d, method=None),  # records views and unsqueezes
    declare("atleast_2d", atleast_2d, method=None),
    declare("atleast_3d", atleast_3d, method=None),
)
