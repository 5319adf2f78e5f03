"""The 1-d pooling functions: max_pool1d, avg_pool1d and adaptive_avg_pool1d (nn/functional.py
calls them). Each is its 2-d form (ops/pooling.py) on the input with a row axis of size 1
inserted, as in ATen, after the 1-d form's own argument checks; so the nodes, the VJPs and the
JVPs are the 2-d ones.
"""

from __future__ import annotations

from .apply import tensor_argument
from .pooling import adaptive_avg_pool2d_checked, avg_pool2d_checked, max_pool2d_checked
from .pooling_checks import (
    avg_pool_arguments,
    check_dim_range,
    check_max_pool1d,
    check_one,
    int_list,
    max_pool_arguments,
)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    function = "max_pool1d_with_indices" if return_indices else "max_pool1d"
    kernel, strides, pads, dilations = max_pool_arguments(
        function, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    if not return_indices:
        check_max_pool1d(input, kernel, strides, pads, dilations, ceil_mode)
    strides = strides or kernel
    check_dim_range(input, "max_pool1d")
    check_one(
        "max_pool1d",
        {"kernel_size": kernel, "stride": strides, "padding": pads, "dilation": dilations},
    )
    result = max_pool2d_checked(
        input.unsqueeze(-2),
        [1, kernel[0]],
        [1, strides[0]],
        [0, pads[0]],
        [1, dilations[0]],
        ceil_mode,
        return_indices,
    )
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    kernel, strides, pads = avg_pool_arguments(
        "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad
    )
    strides = strides or kernel
    check_dim_range(input, "avg_pool1d")
    check_one("avg_pool1d", {"kernel_size": kernel, "stride": strides, "padding": pads})
    out = avg_pool2d_checked(
        input.unsqueeze(-2),
        [1, kernel[0]],
        [1, strides[0]],
        [0, pads[0]],
        ceil_mode,
        count_include_pad,
        None,
    )
    return out.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    tensor_argument(input, "adaptive_avg_pool1d", "input", 1)
    sizes = int_list(output_size, "adaptive_avg_pool1d", "output_size", 2)
    check_dim_range(input, "adaptive_avg_pool1d")
    check_one("adaptive_avg_pool1d", {"output_size": sizes})
    return adaptive_avg_pool2d_checked(input.unsqueeze(-2), [1, sizes[0]]).squeeze(-2)
