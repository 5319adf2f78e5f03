"""How ``explain`` tells the pooling nodes (ops/pooling.py declares them with these rules): each
rule is a function of the node, so that it names the node's own windows ("2×2 windows, stride
1") and says whether the windows overlap (their gradients then add up).

A 1-d pooling is its 2-d form on rows of height 1, so it reads "1×3 windows".
"""

from __future__ import annotations

from .explain_rule import Rule

_RECORDED = ", recorded for a second derivative"


def _pair(sizes: tuple):
    """2 for (2, 2), (1, 3) otherwise: as PyTorch's arguments are written."""
    return sizes[0] if sizes[0] == sizes[1] else tuple(sizes)


def _windows_text(windows) -> str:
    """ "2×2 windows", then the stride, padding and dilation where they are not the default."""
    (kh, kw), stride = windows.kernel, windows.stride
    text = f"{kh}×{kw} windows"
    if stride != windows.kernel:
        text += f", stride {_pair(stride)}"
    if windows.padding != (0, 0):
        text += f", padding {_pair(windows.padding)}"
    if windows.dilation != (1, 1):
        text += f", dilation {_pair(windows.dilation)}"
    return text


def _overlap(windows) -> str:
    """Windows overlap where a stride is shorter than the (dilated) window."""
    spans = ((k - 1) * d + 1 for k, d in zip(windows.kernel, windows.dilation))
    shared = any(stride < span for stride, span in zip(windows.stride, spans))
    return " (added up where windows overlap)" if shared else ""


def _divided(divisor) -> str:
    """How a window's gradient is divided: by one number, or by each window's own count."""
    return f"÷ {divisor}" if type(divisor) is int else "÷ its window's divisor"


def max_pool_rule(node) -> Rule:
    """MaxPool2DWithIndicesBackward0: the maximum of each window."""
    windows = node.windows
    return Rule(
        f"max pooling over {_windows_text(windows)}",
        f"max_pool2d({{x:0}}, {_pair(windows.kernel)})",
        passes=(
            "each window's gradient, to the element that was the window's maximum (0 elsewhere)"
            + _overlap(windows),
        ),
    )


def max_pool_backward_rule(node) -> Rule:
    """MaxPool2DWithIndicesBackwardBackward0: max pooling's VJP, a scatter to the maxima."""
    windows = node.windows
    return Rule(
        f"max pooling's backward over {_windows_text(windows)}{_RECORDED}",
        f"max_pool2d_backward({{x:0}}, {_pair(windows.kernel)})",
        passes=("per window, the gradient at the element that was the window's maximum",),
    )


def avg_pool_rule(node) -> Rule:
    """AvgPool2DBackward0: the mean of each window (its sum ÷ the divisor)."""
    windows = node.windows
    return Rule(
        f"average pooling over {_windows_text(windows)}",
        f"avg_pool2d({{x:0}}, {_pair(windows.kernel)})",
        passes=(
            f"each window's gradient {_divided(node.divisor)}, copied to every element of the "
            f"window{_overlap(windows)}",
        ),
    )


def avg_pool_backward_rule(node) -> Rule:
    """AvgPool2DBackwardBackward0: average pooling's VJP (linear: its VJP pools again)."""
    windows = node.windows
    return Rule(
        f"average pooling's backward over {_windows_text(windows)}{_RECORDED}",
        f"avg_pool2d_backward({{x:0}}, {_pair(windows.kernel)})",
        passes=(f"the gradient summed over each window {_divided(node.divisor)}: average pooling",),
    )


def _adaptive_size(node) -> tuple:
    return (int(node.rows.shape[0]), int(node.cols.shape[0]))


def _adaptive_overlap(node) -> str:
    """Windows of adaptive pooling overlap where an input row or column is in two of them."""
    shared = (node.rows.sum(axis=0) > 1).any() or (node.cols.sum(axis=0) > 1).any()
    return " (added up where windows overlap)" if shared else ""


def adaptive_avg_pool_rule(node) -> Rule:
    """AdaptiveAvgPool2DBackward0: the mean of each of an output size's windows."""
    size = _adaptive_size(node)
    return Rule(
        f"adaptive average pooling to {size[0]}×{size[1]}",
        f"adaptive_avg_pool2d({{x:0}}, {size})",
        passes=(
            "each window's gradient ÷ its number of elements, copied to every element of the "
            f"window{_adaptive_overlap(node)}",
        ),
    )


def adaptive_avg_pool_backward_rule(node) -> Rule:
    """AdaptiveAvgPool2DBackwardBackward0: adaptive pooling's VJP (linear: its VJP pools)."""
    size = _adaptive_size(node)
    return Rule(
        f"adaptive average pooling's backward to {size[0]}×{size[1]}{_RECORDED}",
        f"adaptive_avg_pool2d_backward({{x:0}}, {size})",
        passes=("the mean of the gradient over each window: adaptive average pooling",),
    )
