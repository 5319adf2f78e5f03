"""``nn.functional``'s regression and binary losses, recording PyTorch 2.13's nodes: the fused
ones (``mse_loss``, ``smooth_l1_loss``, ``huber_loss``, ``soft_margin_loss``,
``binary_cross_entropy_with_logits``: one node each, ops/regression_losses.py and
ops/binary_cross_entropy.py) and the compositions (``l1_loss``, the weighted forms), with
PyTorch's argument checks, warnings and error texts. ``nn/functional.py`` re-exports them.
"""

from __future__ import annotations

import warnings

from ..backend import SCALAR_TYPE_NAMES
from ..graph.grad_mode import grad_state
from ..ops import binary_cross_entropy as _bce
from ..ops import regression_losses as _regression

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "soft_margin_loss",
    "binary_cross_entropy_with_logits",
]


# ---------------------------------------------------------------------- reductions
def reduction_name(reduction: str) -> str:
    """PyTorch's ``_Reduction.get_enum``, by name: 'elementwise_mean' is a deprecated 'mean';
    anything else but 'none', 'mean', 'sum' is refused."""
    if reduction == "elementwise_mean":
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
            stacklevel=3,
        )
        return "mean"
    if reduction not in _regression.REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """``reduction``, or what the deprecated ``size_average``/``reduce`` say when either is
    given (PyTorch's ``_Reduction.legacy_get_string``, with its warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        result = "mean"
    elif reduce:
        result = "sum"
    else:
        result = "none"
    warnings.warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{result}' instead.",
        stacklevel=3,
    )
    return result


def reduce_as(loss, reduction: str):
    """PyTorch's ``apply_loss_reduction``: the loss kept, summed or averaged (recorded)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_weighted(loss, reduction: str, mean_divisor):
    """The weighted losses' reduction (Python code in PyTorch, with its own error text)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / mean_divisor() if mean_divisor is not None else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


# ---------------------------------------------------------------------- shapes and dtypes
def warn_if_sizes_differ(input, target) -> None:
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def broadcast_pair(a, b, expand_both: bool = False) -> tuple:
    """``torch.broadcast_tensors(a, b)``: each expanded to the common shape (ExpandBackward0)
    only where its shape differs; PyTorch's error when they do not broadcast. ``expand_both``:
    ATen's ``expand_outplace``, which expands both once their shapes differ."""
    shape_a, shape_b = tuple(a.shape), tuple(b.shape)
    if shape_a == shape_b:
        return a, b
    common = [1] * max(len(shape_a), len(shape_b))
    for index in range(-1, -len(common) - 1, -1):
        size_a = shape_a[index] if -index <= len(shape_a) else 1
        size_b = shape_b[index] if -index <= len(shape_b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {len(common) + index}"
            )
        common[index] = size_a if size_b == 1 else size_b
    common = tuple(common)
    return (
        a if shape_a == common and not expand_both else a.expand(common),
        b if shape_b == common and not expand_both else b.expand(common),
    )


def _floating_pair(input, target, kernel: str) -> None:
    """PyTorch's kernels run on the two tensors' common dtype: a floating one."""
    for tensor in (input, target):
        if tensor.is_floating_point():
            return
    name = SCALAR_TYPE_NAMES[input.dtype.name]
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _type_name(dtype) -> str:
    """PyTorch's name of a dtype (None: the default float dtype's, Float)."""
    return "Float" if dtype is None else SCALAR_TYPE_NAMES[dtype.name]


def _check_weight_size(weight, input_size) -> None:
    """PyTorch compares the weight with the input as given, not as broadcast with the target."""
    if weight.size() != input_size:
        raise ValueError("Weights and input must have the same size.")


# ---------------------------------------------------------------------- the losses
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """One MseLossBackward0 node; with ``weight``, PyTorch's composition
    ``sum((input - target)² · weight) / sum(weight)`` for a mean."""
    warn_if_sizes_differ(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input_size = input.size()
    input, target = broadcast_pair(input, target)
    if weight is not None:
        _check_weight_size(weight, input_size)
        loss = (input - target).pow(2) * weight
        return _reduce_weighted(loss, reduction, weight.sum)
    reduction = reduction_name(reduction)
    _floating_pair(input, target, "mse_cpu")
    return _regression.mse_loss(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """PyTorch composes it: ``|input - target|``, reduced (with ``weight``, a weighted mean)."""
    warn_if_sizes_differ(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input_size = input.size()
    input, target = broadcast_pair(input, target)
    if weight is not None:
        _check_weight_size(weight, input_size)
        return _reduce_weighted((input - target).abs() * weight, reduction, weight.sum)
    return reduce_as((input - target).abs(), reduction_name(reduction))


def smooth_l1_loss(
    input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
):
    """One SmoothL1LossBackward0 node; a ``beta`` of 0 is ``l1_loss``, as in PyTorch."""
    warn_if_sizes_differ(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = broadcast_pair(input, target)
    if beta == 0.0:
        return reduce_as((input - target).abs(), reduction_name(reduction))
    reduction = reduction_name(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _floating_pair(input, target, "smooth_l1_cpu")
    return _regression.smooth_l1_loss(input, target, reduction, float(beta))


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """One HuberLossBackward0 node; with ``weight``, the unreduced loss times it, reduced."""
    warn_if_sizes_differ(input, target)
    input_size = input.size()
    input, target = broadcast_pair(input, target)
    if weight is None:
        return _huber(input, target, reduction_name(reduction), delta)
    _check_weight_size(weight, input_size)
    return _reduce_weighted(_huber(input, target, "none", delta) * weight, reduction, None)


def _huber(input, target, reduction: str, delta: float):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _floating_pair(input, target, "huber_cpu")
    if not input.is_floating_point():  # (the loss is written into a tensor like the input)
        raise RuntimeError(
            f"result type {_type_name(target.dtype)} can't be cast to the desired output type "
            f"{_type_name(input.dtype)}"
        )
    return _regression.huber_loss(input, target, reduction, float(delta))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """One SoftMarginLossBackward0 node: ``log(1 + exp(-target·input))``, reduced."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    if target._edge is not None and grad_state.enabled:
        raise RuntimeError(_bce.not_differentiable("soft_margin_loss", "target"))
    if not input.is_floating_point():
        raise RuntimeError(
            f"result type {_type_name(target.dtype if target.is_floating_point() else None)} "
            f"can't be cast to the desired output type {_type_name(input.dtype)}"
        )
    return _regression.soft_margin_loss(input, target, reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """One BinaryCrossEntropyWithLogitsBackward0 node, for every reduction and weights."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    if target.size() != input.size():
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size ({input.size()})"
        )
    return _bce.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)
