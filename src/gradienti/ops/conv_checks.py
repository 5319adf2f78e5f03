"""PyTorch's argument checks of conv1d/conv2d, in its order and with its messages; the
geometry of a call whose checks pass (see ops/conv.py)."""

from __future__ import annotations

import operator
from functools import lru_cache

from ..backend import CPP_TYPE_NAMES, LEGACY_TYPE_NAMES, SCALAR_TYPE_NAMES
from .conv_arrays import ConvGeometry


def int_list(value, argument: str, function: str, dims: int) -> tuple:
    """An int (repeated ``dims`` times) or a sequence of ints, as a tuple."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = None if isinstance(value, bool) else [value] * dims
    try:
        if items is None or any(isinstance(item, bool) for item in items):
            raise TypeError
        return tuple(operator.index(item) for item in items)
    except TypeError:
        raise TypeError(
            f"{function}(): argument '{argument}' must be tuple of ints, not {type(value).__name__}"
        ) from None


def _matched(values: tuple, argument: str, spatial: int) -> tuple:
    """A parameter as ``spatial`` ints: one value stands for all (PyTorch's rule)."""
    if len(values) == 1:
        return values * spatial
    if len(values) != spatial:
        raise RuntimeError(
            f"expected {argument} to be a single integer value or a list of {spatial} values to "
            f"match the convolution dimensions, but got {argument}={list(values)}"
        )
    return values


@lru_cache(maxsize=256)
def check_shapes(shape, weight_shape, bias_shape, stride, padding, dilation, groups, dims, mode):
    """PyTorch's checks of the parameters and shapes, in its order; the geometry if all pass.
    Cached (its arguments are tuples and ints): a training loop repeats the same few calls."""
    w_shape = list(weight_shape)
    if len(w_shape) < 3:
        raise RuntimeError("weight should have at least three dimensions")
    spatial = len(w_shape) - 2
    stride = _matched(stride, "stride", spatial)
    padding = _matched(padding, "padding", spatial)
    dilation = _matched(dilation, "dilation", spatial)
    _matched((0,) * dims, "output_padding", spatial)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if len(shape) != len(w_shape):
        raise RuntimeError(
            f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-dimensional weight "
            f"{w_shape}, but got {len(shape)}-dimensional input of size {list(shape)} instead"
        )
    if w_shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {w_shape} instead"
        )
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{w_shape}] instead"
        )
    if shape[1] != w_shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {w_shape}, expected input{list(shape)} to "
            f"have {w_shape[1] * groups} channels, but got {shape[1]} channels instead"
        )
    kernel = tuple(w_shape[2:])
    if mode == "same":  # total padding d*(k-1), the odd one out after (PyTorch's split)
        before = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        after = tuple(d * (k - 1) - b for k, d, b in zip(kernel, dilation, before))
    else:
        before = after = padding
    padded = [n + b + a for n, b, a in zip(shape[2:], before, after)]
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < r for p, r in zip(padded, reach)) or 0 in kernel:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than "
            "actual input size"
        )
    if bias_shape is not None and (len(bias_shape) != 1 or bias_shape[0] != w_shape[0]):
        raise RuntimeError(
            f"Given weight of size {w_shape}, expected bias to be 1-dimensional with "
            f"{w_shape[0]} elements, but got bias of size {list(bias_shape)} instead"
        )
    return ConvGeometry(tuple(shape[2:]), kernel, stride, dilation, before, after)


def check_bias_dtype(input, bias) -> None:
    if bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({CPP_TYPE_NAMES[input.dtype.name]}) and bias type "
            f"({CPP_TYPE_NAMES[bias.dtype.name]}) should be the same"
        )


def check_dtypes(input, weight) -> None:
    x_name, w_name = input.dtype.name, weight.dtype.name
    if x_name != w_name:
        if x_name == "float32":  # the message of PyTorch's MKLDNN-capable float path
            legacy = "CPUBoolType" if w_name == "bool" else f"torch.{LEGACY_TYPE_NAMES[w_name]}"
            raise RuntimeError(
                f"Input type (torch.FloatTensor) and weight type ({legacy}) should be the same "
                "or input should be a MKLDNN tensor and weight is a dense tensor"
            )
        raise RuntimeError(
            f"expected scalar type {SCALAR_TYPE_NAMES[x_name]} but found "
            f"{SCALAR_TYPE_NAMES[w_name]}"
        )
    if x_name == "bool":
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")
