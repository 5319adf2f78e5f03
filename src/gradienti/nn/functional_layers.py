"""``nn.functional``'s padding, resizing, bilinear and the further activations (re-exported by
nn/functional.py): argument handling as PyTorch's Python layer, the work in ops/padding.py,
ops/upsample.py, ops/activation.py and ops/activation_more.py."""

from __future__ import annotations

import warnings

from ..backend import CPP_TYPE_NAMES as _CPP_TYPE_NAMES
from ..backend import xp as _xp
from ..ops import activation as _act
from ..ops import activation_more as _more
from ..ops.apply import tensor_argument as _tensor_argument
from ..ops.bilinear import trilinear as _trilinear
from ..ops.padding import pad
from ..ops.pointwise import not_implemented as _not_implemented
from ..ops.upsample import interpolate

__all__ = [
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "bilinear",
    "prelu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "softmin",
    "glu",
    "softsign",
    "tanhshrink",
    "threshold",
    "celu",
    "selu",
    "hardshrink",
    "softshrink",
]


# ---------------------------------------------------------------------- resizing
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------- bilinear
def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1ᵀ A_k x2 + b_k``, composed as ATen's ``bilinear`` (its ``_trilinear``
    computed with einsum): batch dimensions of the inputs flattened, then restored."""
    _tensor_argument(input1, "bilinear", "input1", 1)
    _tensor_argument(input2, "bilinear", "input2", 2)
    _tensor_argument(weight, "bilinear", "weight", 3)
    _check_same_dtype(input1, input2, weight, bias)
    if input1.dim() != input2.dim():
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}"
        )
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got "
                f"{input1.shape[i]} and {input2.shape[i]}"
            )
    if input1.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
            f"expected {weight.shape[1]}"
        )
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
            f"expected {weight.shape[2]}"
        )
    if bias is not None:
        if bias.dim() == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if bias.shape[0] != weight.shape[0]:  # (ATen reads the bias's first size)
            raise RuntimeError(
                f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but "
                f"expected {weight.shape[0]}"
            )
    if input1._data.dtype == _xp.bool_:  # (ATen's contraction is a bmm)
        raise _not_implemented("bmm", input1)
    batch = tuple(input1.shape[:-1])
    flat1 = input1.reshape(-1, input1.shape[-1])
    flat2 = input2.reshape(-1, input2.shape[-1])
    out = _trilinear(flat1, weight, flat2).reshape(*batch, weight.shape[0])
    return out if bias is None else out + bias


def _check_same_dtype(input1, input2, weight, bias) -> None:
    """ATen's bilinear promotes nothing: every tensor of one dtype (the first check)."""
    named = [("input1", input1), ("input2", input2), ("weight", weight)]
    if bias is not None:
        named.append(("bias", bias))
    dtypes = [tensor._data.dtype for _, tensor in named]
    if any(dtype != dtypes[0] for dtype in dtypes):
        listed = ", ".join(
            f"{name}: {_CPP_TYPE_NAMES[dtype.name]}" for (name, _), dtype in zip(named, dtypes)
        )
        raise RuntimeError(f"All tensors must have the same dtype, got {listed}")


# ---------------------------------------------------------------------- activations
def prelu(input, weight):
    return _more.prelu(input, weight)


def mish(input, inplace: bool = False):
    return _more.mish(input)


def hardswish(input, inplace: bool = False):
    return _more.hardswish(input)


def hardsigmoid(input, inplace: bool = False):
    return _more.hardsigmoid(input)


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    if dim is None:
        warnings.warn(
            "Implicit dimension choice for softmin has been deprecated. Change the call to "
            "include dim=X as an argument.",
            stacklevel=_stacklevel,
        )
        dim = _softmax_dim(input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def glu(input, dim: int = -1):
    return _more.glu(input, dim)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def threshold(input, threshold, value, inplace: bool = False):
    return _more.threshold(input, threshold, value)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    return _more.celu(input, alpha)


def selu(input, inplace: bool = False):
    return _act.selu(input)


def hardshrink(input, lambd: float = 0.5):
    return _more.hardshrink(input, lambd)


def softshrink(input, lambd: float = 0.5):
    return _more.softshrink(input, lambd)
