"""``nn.functional``'s margin and embedding losses, composed of ops exactly as PyTorch 2.13
composes them (in ATen or in Python), so that they record its nodes: ``margin_ranking_loss``,
``triplet_margin_loss``, ``hinge_embedding_loss``, ``cosine_embedding_loss`` and
``multilabel_soft_margin_loss``. ATen's Tensor-and-Scalar arithmetic records AddBackward1 /
SubBackward1 (ops/composite_nodes.py); its ``number - tensor`` records SubBackward0 of a
constant, as Python's ``tensor(number) - tensor`` does. ``nn/functional.py`` re-exports them.
"""

from __future__ import annotations

from ..creation import tensor as _tensor
from ..creation import zeros_like as _zeros_like
from ..ops.activation import logsigmoid as _logsigmoid
from ..ops.composite_nodes import add_scalar, sub_scalar
from ..ops.elementwise import where as _where
from .functional_distance import pairwise_distance
from .functional_losses import legacy_reduction, reduce_as, reduction_name

__all__ = [
    "margin_ranking_loss",
    "triplet_margin_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "multilabel_soft_margin_loss",
]

# ATen's ``constexpr float EPSILON = 1e-12`` (Loss.cpp), added to the squared magnitudes.
_COSINE_EPSILON = 9.999999960041972e-13


def _constant(value: float, like):
    """A number as a 0-d constant of ``like``'s dtype (ATen's wrapped scalar)."""
    return _tensor(value, dtype=like.dtype)


def margin_ranking_loss(
    input1,
    input2,
    target,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """``max(0, -target·(input1 - input2) + margin)``, reduced."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    # ATen's ``double margin``: a float even when given 0 (integral inputs then give floats).
    output = add_scalar(-target * (input1 - input2), float(margin)).clamp_min(0)
    return reduce_as(output, reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``pairwise_distance``; ``swap``: the negative's distance is the smaller of its distances
    to the anchor and to the positive."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs"
        )
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_swap = pairwise_distance(positive, negative, p, eps)
        distance_negative = distance_negative.minimum(distance_swap)
    output = (add_scalar(distance_positive, margin) - distance_negative).clamp_min(0)
    return reduce_as(output, reduction)


def hinge_embedding_loss(
    input, target, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"
):
    """``max(0, margin - input)`` where the target is not 1, plus ``input`` where it is not
    -1 (so: the input where the target is 1, the hinge where it is -1)."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    zeros = _zeros_like(input)
    margin_clamp = (_constant(margin, input) - input).clamp_min(0)
    output_margin = _where(target != 1, margin_clamp, zeros)
    output_self = _where(target != -1, input, zeros)
    return reduce_as(output_margin + output_self, reduction)


def cosine_embedding_loss(
    input1,
    input2,
    target,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
):
    """``1 - cos(input1, input2)`` where the target is 1, ``max(0, cos - margin)`` where it is
    -1; the cosine of ATen's loss: ``<x1, x2> / sqrt((|x1|² + eps)(|x2|² + eps))``."""
    reduction = reduction_name(legacy_reduction(size_average, reduce, reduction))
    target_dim = target.dim()
    if target_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = 2 if target_dim == 1 else 1
    if input1.dim() != expected or input2.dim() != expected:
        raise RuntimeError(
            f"{target_dim}D target tensor expects {expected}D input tensors, but found inputs "
            f"with sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    product_sum = (input1 * input2).sum(target_dim)
    magnitude1 = add_scalar((input1 * input1).sum(target_dim), _COSINE_EPSILON)
    magnitude2 = add_scalar((input2 * input2).sum(target_dim), _COSINE_EPSILON)
    cosine = product_sum / (magnitude1 * magnitude2).sqrt()
    zeros = _zeros_like(cosine)
    positive = _constant(1.0, cosine) - cosine
    negative = sub_scalar(cosine, margin).clamp_min(0)
    output_positive = _where(target == 1, positive, zeros)
    output_negative = _where(target == -1, negative, zeros)
    return reduce_as(output_positive + output_negative, reduction)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
):
    """The binary cross-entropy of each class's logit, averaged over the classes (the last
    dimension), then reduced over the samples."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return reduce_as(loss, reduction)
