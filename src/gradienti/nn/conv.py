"""Convolution layers: ``Conv1d`` and ``Conv2d``, with PyTorch's attributes, checks, repr and
default initialisation (so the same seed gives the same weights)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..backend import int64
from ..creation import empty, tensor
from ..ops.conv import conv1d, conv2d
from . import init
from .module import Module
from .parameter import Parameter

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(value, dims: int) -> tuple:
    """PyTorch's ``_single``/``_pair``: an iterable as a tuple, anything else repeated (so a
    wrong argument meets the same check in PyTorch's order)."""
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,) * dims


class _ConvNd(Module):
    """What Conv1d and Conv2d share: parameters, checks, initialisation and repr."""

    _dims = 0
    _function = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        dims = self._dims
        kernel_size = _ntuple(kernel_size, dims)
        stride = _ntuple(stride, dims)
        padding = padding if isinstance(padding, str) else _ntuple(padding, dims)
        dilation = _ntuple(dilation, dims)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_PADDING_MODES}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = False
        self.output_padding = (0,) * dims
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _reversed_padding(padding, kernel_size, dilation)
        self.weight = Parameter(
            empty((out_channels, in_channels // groups) + kernel_size, dtype=dtype, device=device)
        )
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in), ...),
        # and the bias from the same range, drawn in this order from the global generator.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            padded = _pad(input, self._reversed_padding_repeated_twice, self.padding_mode)
            return type(self)._function(
                padded, weight, bias, self.stride, 0, self.dilation, self.groups
            )
        return type(self)._function(
            input, weight, bias, self.stride, self.padding, self.dilation, self.groups
        )

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        # PyTorch's text: non-default settings only; a padding string is printed bare.
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * len(self.padding):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    _dims = 1
    _function = staticmethod(conv1d)


class Conv2d(_ConvNd):
    _dims = 2
    _function = staticmethod(conv2d)


def _reversed_padding(padding, kernel_size: tuple, dilation: tuple) -> list | tuple:
    """The padding in ``F.pad``'s order (last dimension first, before/after each), as PyTorch
    keeps it in ``_reversed_padding_repeated_twice``; 'same' puts the odd one out after."""
    if not isinstance(padding, str):
        return tuple(p for p in reversed(padding) for _ in range(2))
    pads = [0, 0] * len(kernel_size)
    if padding == "same":
        for i, (d, k) in enumerate(zip(reversed(dilation), reversed(kernel_size))):
            total = d * (k - 1)
            pads[2 * i] = total // 2
            pads[2 * i + 1] = total - total // 2
    return pads


def _pad(input, pads, mode: str):
    """Non-zero padding of the last ``len(pads) // 2`` dimensions (``pads`` in ``F.pad``'s
    order), as an ``index_select`` per dimension: differentiable to any order, its gradient
    adds each copied pixel's gradient back onto its source."""
    spatial = range(len(pads) // 2)
    for position in spatial:  # every dimension is checked before any is padded
        dim = input.dim() - 1 - position
        before, after = pads[2 * position], pads[2 * position + 1]
        size = input.shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                f"Argument #{4 + 2 * position}: Padding size should be less than the "
                f"corresponding input dimension, but got: padding ({before}, {after}) at "
                f"dimension {dim} of input {list(input.shape)}"
            )
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    for position in spatial:
        dim = input.dim() - 1 - position
        before, after = pads[2 * position], pads[2 * position + 1]
        size = input.shape[dim]
        sources = [_source_index(i, size, mode) for i in range(-before, size + after)]
        input = input.index_select(dim, tensor(sources, dtype=int64))
    return input


def _source_index(i: int, size: int, mode: str) -> int:
    """Which input position padded position ``i`` (-before <= i < size + after) copies."""
    if mode == "reflect":  # mirror about the edge pixels, which are not repeated
        return -i if i < 0 else 2 * (size - 1) - i if i >= size else i
    if mode == "replicate":
        return min(max(i, 0), size - 1)
    return i % size  # circular
