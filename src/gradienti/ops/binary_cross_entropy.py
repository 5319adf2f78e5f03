"""``binary_cross_entropy`` as PyTorch's fused node BinaryCrossEntropyBackward0, with its VJP
as an op of its own (BinaryCrossEntropyBackwardBackward0) for second derivatives.

The loss of a probability ``x`` and a target ``y`` in [0, 1] is
``-(y * max(log x, -100) + (1 - y) * max(log(1 - x), -100))``. Its derivative is PyTorch's,
``(x - y) / max((1 - x) * x, 1e-12)``, not the derivative of the clamped logs: where ``x`` is
exactly 0 or 1 (a sigmoid of a large logit, in float32) it is large but finite, where the
composition ``log``, ``clamp`` would give ``0 * inf``, NaN. The formulas of the VJPs are
PyTorch's (``FunctionsManual.cpp``), so that gradients match to the last bit where the
arithmetic allows.

``F.binary_cross_entropy`` (nn/functional.py) calls ``binary_cross_entropy`` here; this module
declares no public op, only its nodes' explain rules (``DECLARATIONS`` at the bottom).
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import BatchedArray, every_sample
from ..graph.grad_mode import grad_state
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .activation import logsigmoid
from .apply import nary, raise_if_not_broadcastable, unary
from .declare import explain_nodes
from .explain_rule import Rule, unary_rule
from .jvp_rules import diagonal_shares, elementwise_jvp
from .regression_losses import as_dtype, divide_by_count, numel, reduce_loss, reduce_tangent

# The epsilon of PyTorch's double backward formulas (FunctionsManual.cpp: a double), and of
# its backward kernel (Loss.cpp: ``constexpr float EPSILON``, so 1e-12 rounded to float32,
# then to the input's dtype; in float16 it is 0).
EPSILON = 1e-12
KERNEL_EPSILON = float(xp.float32(EPSILON))


class BinaryCrossEntropyBackward0(Op):
    """The loss of ``(input, target)``, times ``weight`` (an array broadcasting to the
    input's shape, or None), reduced by ``reduction``."""

    __slots__ = ("reduction", "weight")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x, y):
        with xp.errstate(divide="ignore"):  # log(0) is -inf before the clamp
            log_x = xp.maximum(xp.log(x), x.dtype.type(-100))
            log_1mx = xp.maximum(xp.log1p(-x), x.dtype.type(-100))
        loss = (y - 1) * log_1mx - y * log_x
        return reduce_loss(_weighted(loss, ctx.weight), ctx.reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        x_edge, y_edge = ctx._next
        grad_x = grad_y = None
        if x_edge is not None:
            if type(g) is Tensor:
                node = BinaryCrossEntropyBackwardBackward0()
                node.reduction, node.weight = ctx.reduction, ctx.weight
                grad_x = nary(node, g, x, y)
            else:
                grad_x = _input_gradient(g, x, y, ctx.weight, ctx.reduction)
        if y_edge is not None:
            grad_y = _target_gradient(g, x, ctx.weight, ctx.reduction)
        return grad_x, grad_y

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # PyTorch's: each element's derivatives in x and y times the tangents, summed, then
        # reduced as the loss is.
        (x, y), (tangent_x, tangent_y) = primals, tangents
        tangent = None
        if tangent_x is not None:
            node = BinaryCrossEntropyBackwardBackward0()
            node.reduction, node.weight = "none", ctx.weight
            tangent = nary(node, tangent_x, x, y)
        if tangent_y is not None:
            share = _target_gradient(tangent_y, x, ctx.weight, "none")
            tangent = share if tangent is None else tangent + share
        return reduce_tangent(tangent, ctx.reduction)


class BinaryCrossEntropyBackwardBackward0(Op):
    """The input's gradient ``g * (x - y) / max((1 - x) * x, eps)`` as an op of ``(g, x, y)``;
    its VJP is PyTorch's double backward."""

    __slots__ = ("reduction", "weight")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, g, x, y):
        return _input_gradient(g, x, y, ctx.weight, ctx.reduction)

    @staticmethod
    def backward(ctx, gg):
        g, x, y = ctx.saved_tensors
        g_edge, x_edge, y_edge = ctx._next
        weight, reduction = ctx.weight, ctx.reduction
        grad_g = grad_x = grad_y = None
        if g_edge is not None:
            # d/dg: (x - y) / ((x + eps) * (1 - x + eps)), reduced as g was spread
            grad_g = _weighted((x - y) / ((x + EPSILON) * (1 - x + EPSILON)) * gg, weight)
            if reduction != "none":
                grad_g = grad_g.sum()
                if reduction == "mean":
                    grad_g = divide_by_count(grad_g, numel(x))
        if x_edge is not None:
            # d/dx: (x^2 - 2xy + y) / ((x + eps)^2 (1 - x + eps)^2)
            curvature = (x * x - 2 * x * y + y) / ((x + EPSILON) ** 2 * (1 - x + EPSILON) ** 2)
            grad_x = _mean_over(_weighted(curvature * (gg * g), weight), x, reduction)
        if y_edge is not None:
            grad_y = _weighted(-gg * g, weight) / _clamped_denominator(x)
            grad_y = _mean_over(grad_y, x, reduction)
        return grad_g, grad_x, grad_y

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Linear in g: the op itself on g's tangent. Elementwise in x and y (g, a reduced
        # loss's gradient, spread over the elements): their VJP with the tangent for gg.
        (_, x, y), tangent_g = primals, tangents[0]
        tangent = diagonal_shares(ctx, primals, out, tangents, (1, 2))
        if tangent_g is not None:
            node = BinaryCrossEntropyBackwardBackward0()
            node.reduction, node.weight = ctx.reduction, ctx.weight
            share = nary(node, tangent_g, x, y)
            tangent = share if tangent is None else tangent + share
        return tangent


def _input_gradient(g, x, y, weight, reduction: str):
    """PyTorch's ``binary_cross_entropy_backward``, on arrays."""
    grad = g * (x - y) / xp.maximum((1 - x) * x, x.dtype.type(KERNEL_EPSILON))
    return _mean_over(_weighted(grad, weight), x, reduction)


def _target_gradient(g, x, weight, reduction: str):
    """PyTorch's ``binary_cross_entropy_target_backward``: ``-logit(x) * g``, on arrays or
    (recorded) Tensors; infinite where ``x`` is 0 or 1, as PyTorch's."""
    log_odds = unary(LogitBackward0(), x) if type(x) is Tensor else _logit(x)
    return _mean_over(_weighted(-log_odds * g, weight), x, reduction)


class LogitBackward0(Op):
    """``log(x / (1 - x))``; its derivative ``1 / (x (1 - x))`` is infinite at 0 and 1 (a
    composition of log and division would give NaN there)."""

    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return _logit(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        with xp.errstate(divide="ignore", invalid="ignore"):
            return g / (x * (1 - x))


def _logit(x):
    with xp.errstate(divide="ignore"):  # 1 / 0 and log(0): the infinities are the values
        return xp.log(x / (1 - x))


def _clamped_denominator(x):
    """``max((1 - x) * x, eps)`` whose gradient is that of ``(1 - x) * x``: PyTorch clamps it
    in place without recording the clamp."""
    product = (1 - x) * x
    if type(product) is Tensor:
        return wrap(xp.maximum(product._data, product._data.dtype.type(EPSILON)), product._edge)
    return xp.maximum(product, product.dtype.type(EPSILON))


def _weighted(values, weight):
    """``values * weight`` in the dtype of ``values`` (PyTorch multiplies in place)."""
    if weight is None:
        return values
    if type(values) is Tensor:
        return values * wrap(weight.astype(values._data.dtype, copy=False), NO_EDGE)
    product = values * weight
    return product if product.dtype == values.dtype else product.astype(values.dtype)


def _mean_over(values, x, reduction: str):
    """``values / numel(x)`` for a mean (PyTorch divides each element's gradient)."""
    return divide_by_count(values, numel(x)) if reduction == "mean" else values


def not_differentiable(function: str, argument: str) -> str:
    return (
        f"The function '{function}' is not differentiable with respect to argument "
        f"'{argument}'. This input cannot have requires_grad True."
    )


WEIGHT_GRAD_ERROR = not_differentiable("binary_cross_entropy", "weight")


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """``F.binary_cross_entropy`` once its reduction is known valid, with PyTorch's checks in
    its order: sizes, the weight's broadcast, dtypes, then every element in [0, 1]."""
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    weight_array = None
    if weight is not None:
        weight_shape = broadcast_shapes(target.size(), weight.size())
        if weight._edge is not None and grad_state.enabled:
            raise RuntimeError(WEIGHT_GRAD_ERROR)
        weight_array = xp.array(weight._data)  # a copy: the node keeps it
    x, y = input._data, target._data
    if y.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_type_name(y)} but expected {_type_name(x)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for '{_type_name(x)}'")
    _check_probabilities(x, y)
    if weight_array is not None and tuple(weight_shape) != x.shape:
        # PyTorch multiplies the loss by the expanded weight in place: it cannot grow.
        raise RuntimeError(
            f"output with shape {list(x.shape)} doesn't match the broadcast shape "
            f"{list(weight_shape)}"
        )
    node = BinaryCrossEntropyBackward0()
    node.reduction, node.weight = reduction, weight_array
    return nary(node, input, target)


def _type_name(array) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(array.dtype).name]


def _check_probabilities(x, y) -> None:
    """PyTorch's error for the first element (in order) of the input, then of the target,
    that is not in [0, 1]; NaN is not."""
    if type(x) is BatchedArray or type(y) is BatchedArray:  # vmap: every sample is checked
        x, y = every_sample(x, y)
    bad_x = ~((x >= 0) & (x <= 1))
    bad_y = ~((y >= 0) & (y <= 1))
    bad = bad_x | bad_y
    if bad.any():
        first = xp.flatnonzero(bad)[0]
        which = "input" if xp.reshape(bad_x, -1)[first] else "target"
        raise RuntimeError(f"all elements of {which} should be between 0 and 1")


def broadcast_shapes(*shapes) -> list:
    """``torch.broadcast_shapes`` with PyTorch's (``torch._refs``) error text."""
    common = [1] * max((len(shape) for shape in shapes), default=0)
    for position, shape in enumerate(shapes):
        for index in range(-1, -1 - len(shape), -1):
            size = shape[index]
            if size == common[index]:
                continue
            if common[index] == 1:
                common[index] = size
            if size != 1 and common[index] != size:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {index}! "
                    f"Mismatching argument at index {position} had {shape}; but expected "
                    f"shape should be broadcastable to {common}"
                )
    return common


# --------------------------------------------------------- binary_cross_entropy_with_logits
class BinaryCrossEntropyWithLogitsBackward0(Op):
    """The loss of a logit ``x`` and a target ``y``, ``(1 - y)·x - (1 + (pw - 1)·y)·logsigmoid(x)``
    (``pw`` the ``pos_weight``, 1 without one), times ``weight``, reduced by ``reduction``.
    Its VJP is written with ops (recorded for second derivatives); both are PyTorch's formulas:
    ``(1 + pw·y - y)·sigmoid(x) - pw·y`` for the logit, ``logsigmoid(-x) - pw·logsigmoid(x)``
    for the target."""

    # ``loss_dtype``: the target's, as PyTorch computes the loss in place on ``1 - target``.
    __slots__ = ("reduction", "weight", "pos_weight", "loss_dtype")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x, y):
        log_sigmoid = _log_sigmoid(x)
        if ctx.pos_weight is not None:
            log_sigmoid = log_sigmoid * ((ctx.pos_weight - 1) * y + 1)
        loss = _weighted((1 - y) * x - log_sigmoid, ctx.weight)
        if loss.dtype != ctx.loss_dtype:  # (x and y arrive in their common dtype)
            loss = loss.astype(ctx.loss_dtype)
        return reduce_loss(loss, ctx.reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        x_edge, y_edge = ctx._next
        grad_x = None if x_edge is None else _logit_gradient(ctx, g, x, y, ctx.reduction)
        grad_y = None
        if y_edge is not None:
            # (in x's dtype when x is wider: the engine casts back only inputs whose dtype
            # differs from the loss's, and the target's is the loss's)
            grad_y = as_dtype(_logits_target_gradient(ctx, g, x, ctx.reduction), ctx.loss_dtype)
        return grad_x, grad_y

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Each element's derivatives in x and y times the tangents, then reduced as the loss.
        (x, y), (tangent_x, tangent_y) = primals, tangents
        tangent = None
        if tangent_x is not None:
            tangent = _logit_gradient(ctx, tangent_x, x, y, "none")
        if tangent_y is not None:
            share = _logits_target_gradient(ctx, tangent_y, x, "none")
            tangent = share if tangent is None else tangent + share
        return reduce_tangent(tangent, ctx.reduction)


def _log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|), of an array or (recorded) a Tensor."""
    if type(x) is Tensor:
        return logsigmoid(x)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _pos_weight(ctx, like):
    """``pos_weight`` as an operand of ``like`` (a constant Tensor in a recorded backward)."""
    if type(like) is Tensor:
        return wrap(ctx.pos_weight.astype(like._data.dtype, copy=False), NO_EDGE)
    return ctx.pos_weight


def _logit_gradient(ctx, g, x, y, reduction: str):
    sigmoid = x.sigmoid() if type(x) is Tensor else 1 / (1 + xp.exp(-x))
    if ctx.pos_weight is None:
        grad = sigmoid - y
    else:
        positive = _pos_weight(ctx, x) * y
        grad = (positive + 1 - y) * sigmoid - positive
    return _mean_over(_weighted(grad, ctx.weight) * g, x, reduction)


def _logits_target_gradient(ctx, g, x, reduction: str):
    if ctx.pos_weight is None:
        grad = -x
    else:
        grad = _log_sigmoid(-x) - _log_sigmoid(x) * _pos_weight(ctx, x)
    return _mean_over(_weighted(grad * g, ctx.weight), x, reduction)


def binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction: str):
    """``F.binary_cross_entropy_with_logits`` once its sizes and reduction are checked: the
    weights are constants (PyTorch refuses ones that require grad) that broadcast to the
    loss's shape without widening it (PyTorch multiplies in place)."""
    name = "binary_cross_entropy_with_logits"
    for argument, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is not None and value._edge is not None and grad_state.enabled:
            raise RuntimeError(not_differentiable(name, argument))
    if not input.is_floating_point():  # ATen's first step is log_sigmoid(input)
        raise NotImplementedError(
            f"\"log_sigmoid_cpu\" not implemented for '{_type_name(input._data)}'"
        )
    shape = list(input.size())
    if pos_weight is not None:  # ATen's ``(pos_weight - 1).mul(target)``
        _check_in_place(shape, _arithmetic_broadcast(pos_weight.size(), target.size()))
    _check_logits_target(input, target)
    if weight is not None:  # ATen's ``loss.mul_(weight)``
        _check_in_place(shape, _arithmetic_broadcast(shape, weight.size()))
    node = BinaryCrossEntropyWithLogitsBackward0()
    node.reduction = reduction
    # Copies (the node keeps them) in the loss's dtype, the target's: PyTorch computes the
    # loss in place on ``1 - target``, then multiplies it by the weights in place.
    dtype = node.loss_dtype = target._data.dtype
    node.weight = None if weight is None else xp.array(weight._data, dtype=dtype)
    node.pos_weight = None if pos_weight is None else xp.array(pos_weight._data, dtype=dtype)
    return nary(node, input, target)


def _arithmetic_broadcast(shape_a, shape_b) -> list:
    """The broadcast shape of two operands of ATen's arithmetic, with its error text (not
    ``torch.broadcast_shapes``')."""
    try:
        return list(xp.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    except ValueError:
        raise_if_not_broadcastable(*(xp.broadcast_to(xp.empty(()), s) for s in (shape_a, shape_b)))
        raise


def _check_logits_target(input, target) -> None:
    """PyTorch's errors for ``(1 - target).mul_(input)`` of a target that is not floating."""
    if target._data.dtype.kind == "b":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if target._data.dtype.kind != "f":
        raise RuntimeError(
            f"result type {_type_name(input._data)} can't be cast to the desired output type "
            f"{_type_name(target._data)}"
        )


def _check_in_place(shape: list, widened: list) -> None:
    if list(widened) != shape:
        raise RuntimeError(
            f"output with shape {shape} doesn't match the broadcast shape {list(widened)}"
        )


# ------------------------------------------------------------------------- explain rules
_REDUCED = {"none": "{} per element", "sum": "summed {}", "mean": "mean {}"}


def _as_reduced(gradient: str, node) -> str:
    """One element's gradient, times the weight and divided as the loss was reduced."""
    if node.weight is not None:
        gradient += "·weight"
    if node.reduction == "mean":
        gradient += " ÷ the number of elements"
    return gradient


def _loss_rule(node) -> Rule:
    """``-(b·log a + (1 - b)·log(1 - a))`` of a probability ``a`` and a target ``b``."""
    loss = "binary cross-entropy" if node.weight is None else "weighted binary cross-entropy"
    return Rule(
        _REDUCED[node.reduction].format(loss),
        "binary_cross_entropy({a:0}, {b:0})",
        passes=(
            _as_reduced("gradient·(a - b)/(a·(1 - a))", node),
            _as_reduced("-gradient·log(a/(1 - a))", node),
        ),
    )


def _loss_gradient_rule(node) -> Rule:
    """The input's gradient ``a·(b - c)/(b·(1 - b))`` as an op of (gradient a, input b,
    target c), recorded for a second derivative."""
    summed = "" if node.reduction == "none" else ", summed"
    return Rule(
        "binary cross-entropy's gradient, recorded for a second derivative",
        "binary_cross_entropy_backward({a:0}, {b:0}, {c:0})",
        passes=(
            _as_reduced("gradient·(b - c)/(b·(1 - b))", node) + summed,
            _as_reduced("gradient·a·(b² - 2b·c + c)/(b²·(1 - b)²)", node),
            _as_reduced("-gradient·a/(b·(1 - b))", node),
        ),
    )


def _logits_rule(node) -> Rule:
    """``(1 - b)·a - logsigmoid(a)`` of a logit ``a`` and a target ``b``."""
    loss = "binary cross-entropy of logits"
    if node.pos_weight is not None:
        loss += " (with pos_weight)"
    if node.pos_weight is None:
        slopes = ("gradient·(sigmoid(a) - b)", "-gradient·a")
    else:
        slopes = (
            "gradient·((1 + pos_weight·b - b)·sigmoid(a) - pos_weight·b)",
            "gradient·(logsigmoid(-a) - pos_weight·logsigmoid(a))",
        )
    return Rule(
        _REDUCED[node.reduction].format(loss),
        "binary_cross_entropy_with_logits({a:0}, {b:0})",
        passes=tuple(_as_reduced(slope, node) for slope in slopes),
    )


DECLARATIONS = (
    explain_nodes(
        {
            BinaryCrossEntropyWithLogitsBackward0: _logits_rule,
            BinaryCrossEntropyBackward0: _loss_rule,
            BinaryCrossEntropyBackwardBackward0: _loss_gradient_rule,
            LogitBackward0: unary_rule("log-odds", "logit", "1/({x:6}·(1 - {x:6}))"),
        }
    ),
)
