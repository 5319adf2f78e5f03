"""The losses of a difference ``d = input - target`` as PyTorch's fused nodes: MseLossBackward0,
HuberLossBackward0, SmoothL1LossBackward0, and SoftMarginLossBackward0 (of ``target·input``).

Each is one node of ``(input, target)`` for every reduction. Its VJP is written with operators
and ``xp`` ufuncs, so that during ``create_graph=True`` it runs on Tensors and records itself:
the second derivatives need nothing more (PyTorch has a node for each VJP; those names are not
kept). The gradients are PyTorch's (``Loss.cpp``'s backward kernels):

- mse: ``2·d``;
- huber (delta): ``clamp(d, -delta, delta)``;
- smooth_l1 (beta > 0): ``clamp(d / beta, -1, 1)``;
- soft_margin: ``-target·sigmoid(-target·input)``, for the input only (PyTorch's target takes
  no gradient: ``nn.functional`` refuses one that requires it);

each times the incoming gradient, divided by the number of elements for a mean; the target's
gradient of the first three is the input's, negated.

``nn.functional`` (nn/functional_losses.py) broadcasts the two and checks the arguments; this
module declares no public op, only its nodes' explain rules (``DECLARATIONS`` at the bottom).
"""

from __future__ import annotations

from ..backend import from_numpy_dtype, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .apply import nary, raise_if_not_broadcastable, unary
from .declare import explain_nodes
from .elementwise import where
from .explain_rule import Rule, num
from .saved_names import SavedNames, value

REDUCTIONS = ("none", "mean", "sum")


def reduce_loss(loss, reduction: str):
    """The elementwise loss array summed, averaged (the mean of nothing is NaN) or kept.
    A half-precision loss is reduced in float32, PyTorch's accumulation type for it: in
    float16 the element count alone overflows above 65504, and the mean became 0."""
    if reduction == "none":
        return loss
    wide = loss.astype(xp.float32) if loss.dtype.itemsize < 4 else loss
    total = wide.sum()
    if reduction == "mean":
        with xp.errstate(invalid="ignore", divide="ignore"):
            total = total / total.dtype.type(loss.size)
    return total if wide is loss else total.astype(loss.dtype)


def reduce_tangent(tangent, reduction: str):
    """``reduce_loss`` of a Tensor (a tangent), recorded; None stays None (a zero tangent)."""
    if tangent is None or reduction == "none":
        return tangent
    return tangent.sum() if reduction == "sum" else tangent.mean()


def _clip(values, low, high):
    """``clamp`` of a raw array or, recorded, of a Tensor, whose derivative is 1 only strictly
    inside ``(low, high)``: PyTorch's double backward masks ``|d| < delta`` (``< beta``), where
    a recorded clamp's gradient would also pass at the bounds."""
    if type(values) is Tensor:
        data = values._data
        return where((data > low) & (data < high), values, xp.clip(data, low, high))
    return xp.clip(values, low, high)


def numel(values) -> int:
    """The number of elements of an array or a Tensor."""
    return (values._data if type(values) is Tensor else values).size


def _scale(ctx, x) -> float:
    """What each element's gradient is divided by: the number of elements for a mean."""
    return 1.0 / numel(x) if ctx.reduction == "mean" and numel(x) else 1.0


def _spread(slope, ctx, x, g):
    """``slope · scale · g``, each element's gradient. A half-precision array is computed in
    float32, PyTorch's opmath type for it: in float16, 1/numel is subnormal (inexact)."""
    if type(slope) is not Tensor and slope.dtype.itemsize < 4:
        return (slope.astype(xp.float32) * _scale(ctx, x) * g).astype(slope.dtype)
    return slope * _scale(ctx, x) * g


def divide_by_count(values, count):
    """``values / count`` (a mean's share of each element) as PyTorch computes it: a
    half-precision array in float32 (in float16 a count above 65504 is inf, and the result
    was 0), a half-precision Tensor (recorded) times the reciprocal."""
    if type(values) is Tensor:
        return values * (1.0 / count) if values._data.dtype.itemsize < 4 else values / count
    if values.dtype.itemsize < 4:
        return (values.astype(xp.float32) / count).astype(values.dtype)
    return values / count


class _DifferenceLoss(Op):
    """The shared VJP and JVP of a loss of ``d = x - y``: ``slope(d)`` is d loss / d d.
    ``loss_dtype``: None, or the input's dtype where the loss keeps it although the target's
    is wider (huber_loss writes into a tensor like its input); x and y arrive in their common
    dtype, and the engine casts back only the gradients of inputs whose dtype differs from the
    loss's, so the input's gradient is cast here."""

    __slots__ = ("reduction", "loss_dtype")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x, y):
        loss = reduce_loss(ctx.pointwise(x - y), ctx.reduction)
        return loss if ctx.loss_dtype is None else loss.astype(ctx.loss_dtype)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        grad_x = _spread(ctx.slope(x - y), ctx, x, g)
        if ctx.loss_dtype is not None:
            grad_x = as_dtype(grad_x, ctx.loss_dtype)
        grad_y = None if ctx._next[1] is None else -grad_x
        return (grad_x if ctx._next[0] is not None else None), grad_y

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Each element's loss moves by slope(d)·(dx - dy); the loss is reduced as the forward.
        (x, y), (tangent_x, tangent_y) = primals, tangents
        if tangent_x is None:
            moved = -tangent_y
        else:
            moved = tangent_x if tangent_y is None else tangent_x - tangent_y
        return reduce_tangent(ctx.slope(x - y) * moved, ctx.reduction)


# PyTorch's reduction enum, as its nodes show ``_saved_reduction``: none 0, mean 1, sum 2.
_REDUCTION_ENUM = value(lambda node: REDUCTIONS.index(node.reduction))


class MseLossBackward0(_DifferenceLoss):
    """``d²`` per element."""

    __slots__ = ()
    saved_names = SavedNames(self=0, target=1, reduction=_REDUCTION_ENUM)

    @staticmethod
    def pointwise(d):
        return d * d

    @staticmethod
    def slope(d):
        return d * 2.0


class HuberLossBackward0(_DifferenceLoss):
    """``d²/2`` where ``|d| < delta``, else ``delta·(|d| - delta/2)``."""

    __slots__ = ("delta",)
    saved_names = SavedNames(self=0, target=1, reduction=_REDUCTION_ENUM, delta=value("delta"))

    def pointwise(self, d):
        size = xp.abs(d)
        delta = self.delta
        return xp.where(size < delta, 0.5 * size * size, delta * (size - 0.5 * delta))

    def slope(self, d):
        return _clip(d, -self.delta, self.delta)


class SmoothL1LossBackward0(_DifferenceLoss):
    """``d²/(2·beta)`` where ``|d| < beta``, else ``|d| - beta/2`` (beta > 0: a beta of 0 is
    ``l1_loss``, which ``nn.functional`` records instead, as PyTorch does)."""

    __slots__ = ("beta",)
    saved_names = SavedNames(self=0, target=1, reduction=_REDUCTION_ENUM, beta=value("beta"))

    def pointwise(self, d):
        size = xp.abs(d)
        beta = self.beta
        return xp.where(size < beta, 0.5 * size * size / beta, size - 0.5 * beta)

    def slope(self, d):
        return _clip(d / self.beta, -1.0, 1.0)


class SoftMarginLossBackward0(Op):
    """``log(1 + exp(-y·x))`` per element of a target ``y`` of ±1. Its one edge is the input's
    (PyTorch's node has no other): the target is a constant array kept on the node."""

    __slots__ = ("reduction", "target")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x):
        return reduce_loss(xp.log1p(xp.exp(-x * ctx.target)), ctx.reduction)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _spread(_soft_margin_slope(x, _constant(ctx.target, x)), ctx, x, g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (x,), (tangent,) = primals, tangents
        slope = _soft_margin_slope(x, _constant(ctx.target, x))
        return reduce_tangent(slope * tangent, ctx.reduction)


def _constant(array, like):
    """A constant array as an operand of ``like``: a Tensor without an edge beside a Tensor."""
    if type(like) is Tensor:
        return wrap(array, NO_EDGE)
    return array


def _soft_margin_slope(x, y):
    """d/dx log(1 + e^(-y·x)) = -y·z/(1 + z), z = e^(-y·x) (PyTorch's kernel's form)."""
    z = xp.exp(-y * x)
    return -y * z / (z + 1.0)


def as_dtype(values, dtype):
    """An array, or (recorded) a Tensor, in ``dtype``."""
    if type(values) is Tensor:
        return values if values._data.dtype == dtype else values.to(from_numpy_dtype(dtype))
    return values if values.dtype == dtype else values.astype(dtype)


def _apply(node, input, target, reduction: str, loss_dtype=None):
    node.reduction = reduction
    node.loss_dtype = loss_dtype
    return nary(node, input, target)


def mse_loss(input, target, reduction: str):
    """The fused ``mse_loss`` of two tensors of one shape."""
    return _apply(MseLossBackward0(), input, target, reduction)


def huber_loss(input, target, reduction: str, delta: float):
    """PyTorch writes the loss into ``empty_like(input)``: it keeps the input's dtype."""
    node = HuberLossBackward0()
    node.delta = delta
    dtype = input._data.dtype
    return _apply(node, input, target, reduction, None if dtype == target._data.dtype else dtype)


def smooth_l1_loss(input, target, reduction: str, beta: float):
    node = SmoothL1LossBackward0()
    node.beta = beta
    return _apply(node, input, target, reduction)


def soft_margin_loss(input, target, reduction: str):
    """The target is read in the input's dtype and broadcast to its shape (PyTorch writes the
    loss into a tensor of the input's shape: it cannot widen)."""
    shape = input._data.shape
    try:
        widened = xp.broadcast_shapes(shape, target._data.shape)
    except ValueError:
        raise_if_not_broadcastable(input._data, target._data)  # (PyTorch's text)
        raise
    if widened != shape:
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape {list(widened)}"
        )
    node = SoftMarginLossBackward0()
    node.reduction = reduction
    node.target = xp.broadcast_to(target._data.astype(input._data.dtype), shape)
    return unary(node, input)


# ------------------------------------------------------------------------- explain rules
_REDUCED = {"none": "{} per element", "sum": "summed {}", "mean": "mean {}"}


def _per_element(gradient: str, node) -> str:
    return gradient + (" ÷ the number of elements" if node.reduction == "mean" else "")


def _difference_rule(words, form: str, slope):
    """The rule of a loss of ``a - b``: ``words`` and ``slope`` (its derivative in ``a``; in
    ``b`` the negation) are functions of the node, for its delta or beta."""

    def rule(node) -> Rule:
        text = slope(node)
        passes = (f"gradient·{text}", f"-gradient·{text}")
        return Rule(
            _REDUCED[node.reduction].format(words(node)),
            form + "({a:0}, {b:0})",
            passes=tuple(_per_element(gradient, node) for gradient in passes),
        )

    return rule


def _soft_margin_rule(node) -> Rule:
    return Rule(
        _REDUCED[node.reduction].format("soft margin loss log(1 + exp(-target·x))"),
        "soft_margin_loss({x:0}, target)",
        passes=(_per_element("-gradient·target·sigmoid(-target·x)", node),),
    )


DECLARATIONS = (
    explain_nodes(
        {
            MseLossBackward0: _difference_rule(
                lambda node: "squared error (a - b)²", "mse_loss", lambda node: "2(a - b)"
            ),
            HuberLossBackward0: _difference_rule(
                lambda node: f"Huber loss (delta={num(node.delta)})",
                "huber_loss",
                lambda node: f"clamp(a - b, -{num(node.delta)}, {num(node.delta)})",
            ),
            SmoothL1LossBackward0: _difference_rule(
                lambda node: f"smooth L1 loss (beta={num(node.beta)})",
                "smooth_l1_loss",
                lambda node: f"clamp((a - b)/{num(node.beta)}, -1, 1)",
            ),
            SoftMarginLossBackward0: _soft_margin_rule,
        }
    ),
)
