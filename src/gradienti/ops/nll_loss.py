"""``nll_loss`` as PyTorch's fused nodes: NllLossBackward0 for a ``(N, C)`` or ``(C,)`` input,
NllLoss2DBackward0 for ``(N, C, H, W)`` (other spatial shapes are viewed as ``(N, C, 1, -1)``
around it, as ``at::nll_loss_nd`` does), each with its VJP as an op of its own
(NllLossBackwardBackward0, NllLoss2DBackwardBackward0) for second derivatives.

The loss of a position is minus the input at its target class, times the class weight; the
positions whose target is ``ignore_index`` take no part: they are never read (an ignored
``-inf`` costs nothing) and their gradient is never written (so a batch of nothing but
padding has the gradient zero, not 0 * inf, while its mean is 0 / 0, NaN, as PyTorch's).
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import BatchedArray, all_samples, any_sample, writable_for
from ..beginner_hints import (
    loss_batch_size_hint,
    loss_multi_target_hint,
    loss_target_bounds_hint,
    loss_target_dtype_hint,
    with_hint,
)
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import nary, record_special, replace_saved, unary
from .declare import explain_nodes
from .explain_rule import Rule
from .saved_names import SavedNames, held, value

_ndarray = xp.ndarray
_add_reduce = xp.add.reduce  # (what ndarray.sum runs, without its Python wrapper)
_all = xp.logical_and.reduce  # (ndarray.all's reduction, without its Python wrapper)


class NllLossBackward0(Op):
    """The loss(es) of the kept positions: summed, averaged over their total weight, or put
    in place (``reduction``). Saved: the index of every kept position into the input (one
    array per dimension, the class at dimension 1), its weight (None: every one weighs 1)
    and the total weight. Its VJP puts the weighted gradient at those positions into zeros;
    as a recorded op (``vjp_class``) whose own VJP is this op again. ``inputs``: the input,
    target, weight and ignore_index as given, which PyTorch saves (saved-tensor hooks see them
    packed); the VJP reads none of them."""

    __slots__ = ("reduction", "input_shape", "output_shape", "inputs")
    save = SAVE_NOTHING
    saved_names = SavedNames(
        self=held("inputs", 0, input=0),
        target=held("inputs", 1),
        weight=held("inputs", 2),
        total_weight=2,
        # (PyTorch shows an int argument as unsigned 64 bits: -100 as 2**64 - 100)
        ignore_index=value(lambda node: node.inputs[3] % 2**64),
        reduction=value(lambda node: ("none", "mean", "sum").index(node.reduction)),
    )
    vjp_class: type  # set below, once both classes exist

    @staticmethod
    def forward(ctx, x):
        return _pick(ctx, x, ctx._saved)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        if type(g) is Tensor:
            return _apply(type(ctx).vjp_class, ctx, g, saved, input_edge=ctx._next[0])
        return _put(ctx, g, saved)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Linear in the input: the loss of the tangent, at the same positions and weights.
        return _apply(type(ctx), _same_loss(ctx), tangents[0], ctx._saved)


class NllLossBackwardBackward0(Op):
    """The VJP of ``nll_loss`` as an op: the gradient of the loss(es) put at the targets.
    As PyTorch's, its second input is the loss's input, whose gradient is zero: the VJP does
    not depend on it, yet a gradient of the VJP with respect to it is zeros, not an error."""

    __slots__ = ("reduction", "input_shape", "output_shape")
    save = SAVE_NOTHING
    vjp_class: type

    @staticmethod
    def forward(ctx, g, _input=None):
        return _put(ctx, g, ctx._saved)

    @staticmethod
    def backward(ctx, gg):
        saved = ctx.saved_tensors
        if type(gg) is Tensor:
            grad_g = _apply(type(ctx).vjp_class, ctx, gg, saved)
        else:
            grad_g = _pick(ctx, gg, saved)
        if len(ctx._next) == 1:
            return grad_g
        if type(gg) is Tensor:
            return grad_g, wrap(xp.zeros(ctx.input_shape, dtype=gg._data.dtype), NO_EDGE)
        return grad_g, xp.zeros(ctx.input_shape, dtype=gg.dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Linear in g and independent of the loss's input: the op on g's tangent.
        tangent_g = tangents[0]
        if tangent_g is None:
            return None
        return _apply(type(ctx), _same_loss(ctx), tangent_g, ctx._saved)


class NllLoss2DBackward0(NllLossBackward0):
    __slots__ = ()


class NllLoss2DBackwardBackward0(NllLossBackwardBackward0):
    __slots__ = ()


NllLossBackward0.vjp_class = NllLossBackwardBackward0
NllLossBackwardBackward0.vjp_class = NllLossBackward0
NllLoss2DBackward0.vjp_class = NllLoss2DBackwardBackward0
NllLoss2DBackwardBackward0.vjp_class = NllLoss2DBackward0


def _apply(node_class, like, x: Tensor, saved: tuple, input_edge=NO_EDGE) -> Tensor:
    """Apply ``node_class`` to ``x`` with the parameters of ``like`` (a node of the pair, or
    the first node itself) and the positions and weights kept as saved values (so that a
    second backward raises PyTorch's error once they are freed). ``input_edge``: the edge
    of the loss's input, the VJP's second input (an input-shaped stand-in carries it)."""
    node = like if type(like) is node_class else _same_loss(like, node_class)
    node._saved = saved  # read by forward; unary replaces it, so it is set again below
    if input_edge is NO_EDGE:
        inputs = (x,)
    else:
        stand_in = xp.broadcast_to(xp.zeros((), dtype=x._data.dtype), like.input_shape)
        inputs = (x, wrap(stand_in, input_edge))
    if MODES.special:
        # record_special keeps ``saved`` as given, so the JVP rule (run inside it) reads it.
        arrays = tuple(value._data for value in inputs)
        return record_special(node, inputs, arrays, node.forward(node, *arrays), saved)
    out = unary(node, x) if input_edge is NO_EDGE else nary(node, *inputs)
    if out._edge is node:
        replace_saved(node, saved)
    return out


def _same_loss(like, node_class=None):
    """A fresh node of ``node_class`` (default: ``like``'s) with ``like``'s parameters."""
    node = (type(like) if node_class is None else node_class)()
    node.reduction = like.reduction
    node.input_shape, node.output_shape = like.input_shape, like.output_shape
    return node


def _divide_by_total(value, total):
    """``value / total``; a total weight of 0 (nothing kept) gives NaN without a warning."""
    if type(total) is not BatchedArray and total:
        return value / total
    with xp.errstate(invalid="ignore", divide="ignore"):
        return value / total


def _work_shape(input_shape: tuple) -> tuple:
    """The input's shape as the node works on it: a single row ``(C,)`` as ``(1, C)``."""
    return (1,) + input_shape if len(input_shape) == 1 else input_shape


def _pick(ctx, x, saved):
    """Minus the input at the kept positions, times their weights, reduced: the loss."""
    key, weights, total = saved
    input_shape = ctx.input_shape
    picked = (x.reshape(_work_shape(input_shape)) if len(input_shape) == 1 else x)[key]
    if weights is None and ctx.reduction != "none" and type(picked) is _ndarray:
        # -sum(picked): the same number as sum(-picked) (negation is exact), one array fewer
        summed = -_add_reduce(picked, axis=None)
        return summed if ctx.reduction == "sum" else _divide_by_total(summed, total)
    losses = -picked if weights is None else -(picked * weights)
    if ctx.reduction == "none":
        out = xp.zeros(ctx.output_shape, dtype=x.dtype)  # an ignored position's loss is 0
        out = writable_for(out, losses)  # (vmap: per-sample losses)
        out[key[:1] + key[2:]] = losses
        return out.reshape(()) if len(input_shape) == 1 else out
    summed = losses.sum()
    return summed if ctx.reduction == "sum" else _divide_by_total(summed, total)


def _put(ctx, g, saved):
    """The loss gradient ``g`` spread to the input: minus the weight at each kept position
    (PyTorch's ``nll_loss_backward``: -w * (g / total) for the mean), zero elsewhere."""
    key, weights, total = saved
    grad = xp.zeros(_work_shape(ctx.input_shape), dtype=g.dtype)
    if type(g) is BatchedArray or BatchedArray in map(type, key):
        grad = writable_for(grad, g, key)  # (vmap: per-sample gradients or targets)
    if key[0].size:
        if ctx.reduction == "none":
            values = -xp.reshape(g, ctx.output_shape)[key[:1] + key[2:]]
            if weights is not None:
                values = weights * values
        else:
            scale = -_divide_by_total(g, total) if ctx.reduction == "mean" else -g
            values = scale if weights is None else weights * scale
        grad[key] = values
    return grad.reshape(ctx.input_shape)


WEIGHT_GRAD_ERROR = (
    "The function '{}' is not differentiable with respect to argument 'weight'. "
    "This input cannot have requires_grad True."
)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """``F.nll_loss`` once its reduction is known valid: PyTorch's ``nll_loss_nd``."""
    input_shape, target_shape = input._data.shape, target._data.shape
    ndim = len(input_shape)
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim != 1 and (not target_shape or target_shape[0] != input_shape[0]):
        message = (
            f"Expected input batch_size ({input_shape[0]}) to match target batch_size "
            f"({target_shape[0] if target_shape else 0})."
        )
        hint = loss_batch_size_hint(input.shape, target.shape, target._data.dtype)
        raise ValueError(with_hint(message, hint))
    if ndim <= 2:
        return nll_loss_rows(input, target, weight, ignore_index, reduction)
    if ndim == 4:
        return nll_loss_2d(input, target, weight, ignore_index, reduction)
    # Any other spatial shape is folded into one spatial dimension around nll_loss2d.
    n, n_classes = input.shape[:2]
    out_size = [n, *input.shape[2:]]
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {out_size}, got {list(target.shape)}")
    input, target = input.contiguous(), target.contiguous()
    # (-1 cannot be inferred when a size is 0)
    input = input.view(n, n_classes, 1, -1) if input.numel() else input.view(n, n_classes, 0, 0)
    target = target.view(n, 1, -1) if target.numel() else target.view(n, 0, 0)
    loss = nll_loss_2d(input, target, weight, ignore_index, reduction)
    return loss if reduction != "none" else loss.view(out_size)


def nll_loss_rows(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """``nll_loss`` of a ``(N, C)`` input and ``(N,)`` target, or a ``(C,)`` input and a 0-d
    (or one-element) target, with PyTorch's checks in its order."""
    _check_weight_grad(weight, "nll_loss_forward")
    x, t = input._data, target._data
    if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
        raise ValueError(
            f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}"
        )
    if t.ndim > 1:
        message = "0D or 1D target tensor expected, multi-target not supported"
        raise RuntimeError(with_hint(message, loss_multi_target_hint(x.shape, t.shape, t.dtype)))
    _check_target_dtype(t, x.shape)
    n_classes = x.shape[-1]
    w = None
    if weight is not None:
        w = weight._data
        if w.ndim != 1 or w.shape[0] != n_classes:
            raise RuntimeError(
                f"weight tensor should be defined either for all {n_classes} classes or no "
                f"classes but got weight tensor of shape: {list(w.shape)}"
            )
        _check_weight_dtype(w, x)
    _check_float_input(x, "nll_loss_out_frame")
    classes = t.reshape(-1)
    saved = _kept_positions(classes, n_classes, ignore_index, w, x.dtype, (x.shape, t.shape))
    given = (x, t, w, ignore_index)
    return _apply_new(NllLossBackward0, input, reduction, classes.shape, saved, given)


def nll_loss_2d(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """``nll_loss`` of a ``(N, C, H, W)`` input and ``(N, H, W)`` target: PyTorch's
    ``nll_loss2d``, with its checks in its order."""
    _check_weight_grad(weight, "nll_loss2d_forward")
    x, t = input._data, target._data
    if t.ndim != 3:
        raise RuntimeError(
            "only batches of spatial targets supported (3D tensors) but got targets of "
            f"dimension: {t.ndim}"
        )
    _check_target_dtype(t, x.shape)
    n_classes = x.shape[1]
    w = None if weight is None else weight._data
    if w is not None and w.size != n_classes:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if (x.shape[0], x.shape[2], x.shape[3]) != t.shape:
        raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: {list(t.shape)}")
    _check_float_input(x, "nll_loss2d_forward_out_frame")
    if w is not None:
        _check_weight_dtype(w, x)
        w = w.reshape(-1)
    if t.dtype == xp.uint8 and (t.size or reduction == "none"):
        raise RuntimeError("expected scalar type Long but found Byte")
    saved = _kept_positions(t, n_classes, ignore_index, w, x.dtype, (x.shape, t.shape))
    given = (x, t, None if weight is None else weight._data, ignore_index)
    return _apply_new(NllLoss2DBackward0, input, reduction, t.shape, saved, given)


def _apply_new(node_class, input, reduction: str, output_shape: tuple, saved: tuple, given):
    node = node_class()
    node.reduction = reduction
    node.input_shape, node.output_shape = tuple(input._data.shape), tuple(output_shape)
    node.inputs = given
    return _apply(node_class, node, input, saved)


def _check_weight_grad(weight, function: str) -> None:
    if weight is not None and weight._edge is not None and grad_state.enabled:
        raise RuntimeError(WEIGHT_GRAD_ERROR.format(function))


def _type_name(array) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(array.dtype).name]


def _check_target_dtype(target_array, input_shape: tuple) -> None:
    if target_array.dtype != xp.int64 and target_array.dtype != xp.uint8:
        message = f"expected target dtype to be Long or Byte, but got {_type_name(target_array)}"
        hint = loss_target_dtype_hint(input_shape, target_array.shape, target_array.dtype)
        raise RuntimeError(with_hint(message, hint))


def _refuse_target(value, n_classes: int, given_shapes: tuple, target_dtype):
    """PyTorch's IndexError for a target that is no class, then which argument is which."""
    input_shape, target_shape = given_shapes
    hint = loss_target_bounds_hint(input_shape, target_shape, target_dtype, n_classes)
    raise IndexError(with_hint(f"Target {int(value)} is out of bounds.", hint))


def _check_weight_dtype(weight_array, x) -> None:
    if weight_array.dtype != x.dtype:
        raise RuntimeError(
            f"expected scalar type {_type_name(x)} but found {_type_name(weight_array)}"
        )


def _check_float_input(x, kernel: str) -> None:
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(x)}'")


def _kept_positions(
    classes, n_classes: int, ignore_index: int, class_weights, dtype, given_shapes: tuple
) -> tuple:
    """The saved values for targets ``classes`` (one per row, or ``(N, H, W)``): the index of
    each kept position into the input (the class at dimension 1), their weights (None: all
    1) and the total weight. PyTorch's IndexError for a kept target outside the classes
    (``given_shapes``: the input's and the target's, named in its hint)."""
    if type(classes) is BatchedArray:
        return _kept_positions_batched(
            classes, n_classes, ignore_index, class_weights, dtype, given_shapes
        )
    # Seen as unsigned, a negative class is huge: one comparison checks both bounds.
    in_range = classes.view(xp.uint64 if classes.dtype == xp.int64 else xp.uint8) < n_classes
    if _all(in_range, axis=None):
        # Every target is a class; the ignored class, if it is a class, may still occur.
        maybe_ignored = 0 <= ignore_index < n_classes
        kept = classes != ignore_index if maybe_ignored else None
        if kept is not None and _all(kept, axis=None):
            kept = None
    else:
        kept = classes != ignore_index
        bad = kept & ~in_range
        if bad.any():
            _refuse_target(classes[bad][0], n_classes, given_shapes, classes.dtype)
    if kept is None and classes.ndim == 1:  # every row: the common case, without a mask
        positions = (xp.arange(classes.size),)
        targets = classes.astype(xp.intp)  # a copy: writing into the target later is harmless
    else:
        positions = xp.nonzero(xp.ones(classes.shape, dtype=bool) if kept is None else kept)
        targets = classes[positions].astype(xp.intp, copy=False)  # (a copy already)
    key = positions[:1] + (targets,) + positions[1:]
    weights = None if class_weights is None else class_weights[targets]
    total = dtype.type(targets.size) if weights is None else weights.sum(dtype=dtype)
    return key, weights, total


def _kept_positions_batched(
    classes, n_classes, ignore_index, class_weights, dtype, given_shapes
) -> tuple:
    """``_kept_positions`` for per-sample targets (vmap): every position is kept, so that the
    samples share one layout, and an ignored one weighs 0 (its class read as 0)."""
    kept = classes != ignore_index
    bad = kept & ((classes < 0) | (classes >= n_classes))
    if any_sample(bad):
        values, bad = all_samples(classes), all_samples(bad)
        _refuse_target(values[bad][0], n_classes, given_shapes, classes.dtype)
    positions = xp.nonzero(xp.ones(classes.shape, dtype=bool))
    targets = xp.where(kept, classes, 0).astype(xp.intp)
    weights = kept.astype(dtype)
    if class_weights is not None:
        weights = weights * class_weights[targets]
    key = positions[:1] + (targets[positions],) + positions[1:]
    return key, weights[positions], weights.sum(dtype=dtype)


# ---------------------------------------------------------------------- explain rules
def _vjp_rule(node) -> Rule:
    """The VJP as an op: its first input is the loss's gradient; the second, when present, the
    loss's input, which it does not depend on."""
    reduced = {"none": "one per position", "sum": "summed"}.get(
        node.reduction, "summed ÷ the total weight"
    )
    read = f"minus the gradient at each target (times its class weight), {reduced}"
    if len(node._next) == 1:
        return Rule(
            "nll_loss's gradient, put at the targets",
            "nll_loss_backward({x:0}, target)",
            passes=(read,),
        )
    return Rule(
        "nll_loss's gradient, put at the targets",
        "nll_loss_backward({a:0}, {b:0}, target)",
        passes=(read, "0 (this gradient does not depend on the loss's input)"),
    )


DECLARATIONS = (
    explain_nodes(
        {
            NllLossBackward0: Rule(  # cross-entropy's second half, on log-probabilities
                "negative log-likelihood",
                "nll_loss({x:0}, target)",
                passes=("-1 (÷ the batch for a mean) at each row's target, 0 elsewhere",),
            ),
            NllLoss2DBackward0: Rule(
                "negative log-likelihood at each position",
                "nll_loss({x:0}, target)",
                passes=(
                    "-1 (÷ the positions for a mean) at each position's target class, 0 elsewhere",
                ),
            ),
            NllLossBackwardBackward0: _vjp_rule,
            NllLoss2DBackwardBackward0: _vjp_rule,
        }
    ),
)
