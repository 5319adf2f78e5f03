"""Argument parsing and ATen's checks for the pooling functions (ops/pooling.py and
ops/pooling_1d.py).

Each check is ATen's, in ATen's order and with its message, so that a bad call fails as it
does in PyTorch and before anything is computed.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from .apply import tensor_argument

INTEGER_TYPES = (int, xp.integer)


def int_list(value, function: str, argument: str, position: int | None) -> list:
    """PyTorch's parsing of an int-list argument: an int, or a tuple or list of ints."""
    where = f" (position {position})" if position is not None else ""
    if isinstance(value, INTEGER_TYPES) and not isinstance(value, bool):
        return [int(value)]
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"{function}(): argument '{argument}'{where} must be tuple of ints, "
            f"not {type(value).__name__}"
        )
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, INTEGER_TYPES):
            raise TypeError(
                f"{function}(): argument '{argument}'{where} must be tuple of ints, but found "
                f"element of type {type(item).__name__} at pos {index}"
            )
    return [int(item) for item in value]


def check_bool(value, function: str, argument: str, position: int) -> None:
    if type(value) is not bool:
        raise TypeError(
            f"{function}(): argument '{argument}' (position {position}) must be bool, "
            f"not {type(value).__name__}"
        )


def max_pool_arguments(function: str, input, kernel_size, stride, padding, dilation, ceil_mode):
    """``max_pool{1,2}d``'s arguments as int lists, with PyTorch's TypeErrors (each argument's
    position in the signature): ``(kernel, strides, pads, dilations)``, strides ``[]`` where
    not given."""
    kernel, strides, pads = _window_arguments(function, input, kernel_size, stride, padding)
    dilations = int_list(dilation, function, "dilation", 5)
    check_bool(ceil_mode, function, "ceil_mode", 6)
    return kernel, strides, pads, dilations


def avg_pool_arguments(
    function: str, input, kernel_size, stride, padding, ceil_mode, count_include_pad
):
    """``avg_pool{1,2}d``'s arguments as int lists, as ``max_pool_arguments``: ``(kernel,
    strides, pads)``."""
    kernel, strides, pads = _window_arguments(function, input, kernel_size, stride, padding)
    check_bool(ceil_mode, function, "ceil_mode", 5)
    check_bool(count_include_pad, function, "count_include_pad", 6)
    return kernel, strides, pads


def _window_arguments(function: str, input, kernel_size, stride, padding) -> tuple:
    tensor_argument(input, function, "input", 1)
    kernel = int_list(kernel_size, function, "kernel_size", 2)
    strides = [] if stride is None else int_list(stride, function, "stride", 3)
    return kernel, strides, int_list(padding, function, "padding", 4)


def pair(values: list) -> tuple:
    return (values[0], values[-1])


def _c_half(value: int) -> int:
    """``value / 2`` in C++: truncated toward zero."""
    return -((-value) // 2) if value < 0 else value // 2


def pooled_size(size: int, kernel: int, pad: int, stride: int, dilation: int, ceil: bool):
    """ATen's ``pooling_output_shape``, with its checks."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > _c_half((kernel - 1) * dilation + 1):
        raise RuntimeError(
            "pad should be at most half of effective kernel size, but got "
            f"pad={pad}, kernel_size={kernel} and dilation={dilation}"
        )
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil else 0)) // stride
    out += 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def pooled_sizes(shape: tuple, kernel, stride, padding, dilation, ceil: bool) -> tuple:
    """The output (height, width), after ATen's ``pool2d_shape_check``, in its order."""
    size = tuple(shape[-2:])
    out = tuple(
        pooled_size(n, k, p, s, d, ceil)
        for n, k, p, s, d in zip(size, kernel, padding, stride, dilation)
    )
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}"
        )
    ndim = len(shape)
    planes_nonempty = shape[1] != 0 and shape[2] != 0
    if not (ndim == 3 and shape[0] != 0 and planes_nonempty) and not (
        ndim == 4 and planes_nonempty and shape[3] != 0
    ):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(shape)}"
        )
    if kw // 2 < pw or kh // 2 < ph:
        raise RuntimeError(
            "pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}"
        )
    if out[0] < 1 or out[1] < 1:
        planes = shape[-3]
        raise RuntimeError(
            f"Given input size: ({planes}x{size[0]}x{size[1]}). Calculated output size: "
            f"({planes}x{out[0]}x{out[1]}). Output size is too small"
        )
    return out


def check_lengths(function: str, kernel, stride, padding, dilation=None) -> None:
    if len(kernel) not in (1, 2):
        raise RuntimeError(
            f"{function}: kernel_size must either be a single int, or a tuple of two ints"
        )
    if len(stride) not in (0, 1, 2):
        raise RuntimeError(
            f"{function}: stride must either be omitted, a single int, or a tuple of two ints"
        )
    if len(padding) not in (1, 2):
        raise RuntimeError(
            f"{function}: padding must either be a single int, or a tuple of two ints"
        )
    if dilation is not None and len(dilation) not in (1, 2):
        raise RuntimeError(
            f"{function}: dilation must be either a single int, or a tuple of two ints"
        )


def not_implemented(function: str, dtype) -> NotImplementedError:
    name = SCALAR_TYPE_NAMES[from_numpy_dtype(dtype).name]
    return NotImplementedError(f"\"{function}\" not implemented for '{name}'")


def list_with_default(out_size, defaults):
    """torch.nn.functional's reading of an output size with None entries."""
    if isinstance(out_size, INTEGER_TYPES):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size) :])]


def check_dim_range(input, function: str) -> None:
    if not 2 <= input.ndim <= 3:
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            f"#1 'self' (while checking arguments for {function})"
        )


def check_one(function: str, arguments: dict) -> None:
    for argument, values in arguments.items():
        if len(values) != 1:
            raise RuntimeError(
                f"{function}() argument '{argument}' should contain one int (got {len(values)})"
            )


def check_max_pool1d(input, kernel, stride, padding, dilation, ceil_mode) -> None:
    """ATen's checks of max_pool1d without indices, in its order."""
    shape = input.shape
    if not (input.ndim == 2 and shape[0] != 0 and shape[1] != 0) and not (
        input.ndim == 3 and shape[1] != 0 and shape[2] != 0
    ):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(shape)}"
        )
    for argument, values, allowed, wording in (
        ("kernel_size", kernel, (1,), "an int, list of ints or tuple of ints"),
        ("stride", stride, (0, 1), "None, an int, list of ints, or tuple of ints"),
        ("padding", padding, (1,), "an int, list of ints, or tuple of ints"),
        ("dilation", dilation, (1,), "an int, list of ints or tuple of ints"),
    ):
        if len(values) not in allowed:
            raise RuntimeError(
                f"max_pool1d() {argument} must be {wording} of size 1 but got size {len(values)}"
            )
    (k,), (s,), (p,), (d,) = kernel, stride or kernel, padding, dilation
    for ok, message in (
        (k > 0, f"kernel_size must be greater than zero, but got {k}"),
        (s > 0, f"stride must be greater than zero, but got {s}"),
        (p >= 0, f"padding must be non-negative, but got {p}"),
        (
            p <= k // 2,
            f"padding should be at most half of kernel size, but got padding={p} and "
            f"kernel_size={k}",
        ),
        (d > 0, f"dilation must be greater than zero, but got {d}"),
    ):
        if not ok:
            raise RuntimeError(f"max_pool1d() {message}")
    out = pooled_size(shape[-1], k, p, s, d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")


def divisor_argument(divisor_override):
    """avg_pool2d's ``divisor_override``: None or an int."""
    if divisor_override is None:
        return None
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, INTEGER_TYPES):
        raise TypeError(
            "avg_pool2d(): argument 'divisor_override' must be int, "
            f"not {type(divisor_override).__name__}"
        )
    return int(divisor_override)


def check_planes_dim(ndim: int) -> None:
    """avg_pool2d reads the plane count ``input.size(-3)`` first: PyTorch's IndexError."""
    if ndim == 0:
        raise IndexError("Dimension specified as -3 but tensor has no dimensions")
    if ndim < 3:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got -3)"
        )


def check_adaptive_sizes(sizes: list) -> None:
    if len(sizes) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if sizes[0] < 0 or sizes[1] < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
            f"but received {{{sizes[0]}, {sizes[1]}}}"
        )


def check_adaptive_input(shape: tuple) -> None:
    if len(shape) not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(shape)}"
        )
    for dim in (-2, -1):
        if shape[dim] == 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                f"dimensions, but input has sizes {list(shape)} with dimension "
                f"{dim + len(shape)} being empty"
            )
