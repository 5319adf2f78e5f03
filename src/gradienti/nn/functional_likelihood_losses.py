"""``nn.functional``'s likelihood losses, composed of ops as PyTorch 2.13 composes them, so that
they record its nodes: ``gaussian_nll_loss`` (Python in PyTorch: the variance cloned, then
clamped in place without recording), ``poisson_nll_loss`` (ATen: its Tensor-and-Scalar
arithmetic records AddBackward1 and MulBackward1, ops/composite_nodes.py).
``nn/functional.py`` re-exports them.
"""

from __future__ import annotations

import math
import warnings

from ..creation import ones_like as _ones_like
from ..graph.grad_mode import no_grad
from ..ops.composite_nodes import add_scalar, mul_scalar
from .functional_losses import legacy_reduction, reduce_as, reduction_name

__all__ = ["kl_div", "gaussian_nll_loss", "poisson_nll_loss"]

_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def kl_div(
    input,
    target,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
):
    """The pointwise KL divergence of log-probabilities ``input`` from ``target``:
    ``xlogy(target, target) - target·input`` (``exp(target)·(target - input)`` for a
    ``log_target``), reduced; 'batchmean' sums and divides by the batch size (the first
    dimension), 'mean' averages over every element (with PyTorch's warning)."""
    if size_average is not None or reduce is not None:
        reduced_as = legacy_reduction(size_average, reduce, reduction)
    else:
        if reduction == "mean":
            warnings.warn(_KL_MEAN_WARNING, stacklevel=2)
        reduced_as = "sum" if reduction == "batchmean" else reduction_name(reduction)
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        output = target.exp() * (target - input)
    else:
        output = target.xlogy(target) - target * input
    reduced = reduce_as(output, reduced_as)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.size()[0]
    return reduced


def gaussian_nll_loss(
    input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
):
    """``0.5·(log(max(var, eps)) + (input - target)² / max(var, eps))`` (plus
    ``0.5·log(2π)`` when ``full``), reduced. ``var`` is a float, or a tensor of the input's
    shape, of it without its last dimension, or with one of its dimensions of size 1."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and _one_dimension_of_size_one(input.size(), var.size()):
            pass  # (the one dimension broadcasts)
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)  # (not recorded: the gradient passes where var < eps too)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_as(loss, reduction)


def _one_dimension_of_size_one(input_size, var_size) -> bool:
    """PyTorch's test: the sizes of ``var`` where they differ from the input's sum to 1."""
    return sum(v for i, v in zip(input_size, var_size) if i != v) == 1


def poisson_nll_loss(
    input,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
):
    """``exp(input) - target·input`` (``log_input``), else ``input - target·log(input + eps)``;
    ``full`` adds Stirling's approximation ``t·log t - t + 0.5·log(2πt)`` where ``t > 1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    reduction = reduction_name(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * add_scalar(input, eps).log()
    if full:
        stirling = (
            target * target.log() - target + mul_scalar(mul_scalar(target, 2 * math.pi).log(), 0.5)
        )
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_as(loss, reduction)
