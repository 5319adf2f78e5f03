"""Dropout: ``F.dropout`` and ``nn.Dropout``, with PyTorch's CPU mask stream.

PyTorch's CPU dropout is ``input * noise`` (so its node is ``MulBackward0``), where ``noise``
is ``bernoulli_(1 - p)`` divided by ``1 - p`` in the input's dtype. Without MKL's generator
(non-Intel CPUs, builds without MKL) ``bernoulli_`` with a scalar probability draws, element
by element in memory order, a 53-bit double uniform ``u`` from the generator and keeps the
element when ``u < 1 - p``; that is what is done here, from gradienti's global generator, so
the same seed gives the same mask. On Intel CPUs PyTorch's MKL build draws the mask from an
MKL stream (MCG31) seeded from the generator instead, which is not repeated here.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..creation import zeros
from ..random import uniform_values
from ..tensor import wrap
from .module import Module


def _check_probability(p) -> None:
    if p < 0 or p > 1:  # ints, as PyTorch compares (its TypeError names int for p="0.5")
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Outside training, or with ``p == 0``, the input itself is returned, as PyTorch does.
    """
    _check_probability(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    data = input._data
    if data.dtype.kind != "f":  # the noise is divided by 1 - p in the input's dtype
        type_name = SCALAR_TYPE_NAMES[data.dtype.name]
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {type_name}"
        )
    if p == 1:
        noise = zeros((), dtype=input.dtype)
    else:
        keep = _uniform_in_memory_order(data) < 1 - p
        noise = wrap(keep.astype(data.dtype) / data.dtype.type(1 - p), None)
    return input.mul_(noise) if inplace else input * noise


def _uniform_in_memory_order(data):
    """Uniforms of ``data``'s shape, drawn in the order its elements lie in memory: PyTorch
    fills the mask of ``empty_like(input)`` (same strides) in memory order, so the mask of a
    transposed input (a batch_first attention output) is drawn along its storage."""
    strides = getattr(data, "strides", None)
    if (
        strides is None
        or type(data) is not xp.ndarray
        or data.flags.c_contiguous
        or not all(stride > 0 for stride in strides)
    ):
        return uniform_values(data.shape, 0.0, 1.0, xp.float64)
    order = sorted(range(data.ndim), key=lambda axis: -strides[axis])  # outermost first
    drawn = uniform_values(tuple(data.shape[axis] for axis in order), 0.0, 1.0, xp.float64)
    return drawn.transpose(xp.argsort(order))


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_probability(p)
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements in training mode (``model.train()``); identity in eval mode."""

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)
