"""Batch and layer normalisation as fused ops, under PyTorch's node names.

Both normalise ``x`` over a set of axes A (``count`` = M elements per statistic), then scale
and shift by per-feature parameters::

    mean = sum_A(x) / M,   var = sum_A((x - mean)^2) / M   (biased),
    invstd = 1 / sqrt(var + eps),   xhat = (x - mean) * invstd,   y = xhat * w + b.

Batch norm takes A = every axis but the channel axis 1 (``w`` broadcast along axis 1) and,
outside training, the running statistics instead of the batch's; layer norm takes A = the
trailing ``normalized_shape`` axes, over which ``w`` varies. The VJP, with ``gw = g * w``::

    dx = invstd / M * (M gw - sum_A(gw) - xhat * sum_A(gw * xhat))   (batch statistics)
    dx = gw * invstd                                                  (fixed statistics)
    dw = sum_B(g * xhat),   db = sum_B(g)        B: the axes that w is broadcast over.

The forward derivative (JVP), with ``t`` the input's tangent and ``mean_A`` the mean over A::

    dxhat = invstd * (tc - xhat * mean_A(xhat * tc)),  tc = t - mean_A(t)   (batch statistics)
    dxhat = t * invstd                                                     (fixed statistics)
    dy = dxhat * w + xhat * dw + db

(the running statistics are constants: tangents never reach them).

The forward keeps ``mean`` and ``invstd`` on the node, so the usual backward (raw arrays) is a
few passes over ``g``. When the backward is recorded (``create_graph=True``), the saved input
comes back as a Tensor and the statistics are recomputed from it with differentiable ops, so
the same formula, now on Tensors, has correct second derivatives in x, w and g.

A float16 input computes in float32 (ATen's opmath type: a sum of thousands of half values
overflows, and every half-precision step rounds), forward and backward, and each result is
rounded to float16 once; the saved mean and invstd are float16, as PyTorch's ``result1`` and
``result2``, and the backward reads them so.

nn/functional.py and the modules of nn/normalization.py call these functions; this module
declares no public op, only its nodes' explain rules (``DECLARATIONS`` at the bottom).
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import BatchedArray, writable_for
from ..graph.grad_mode import is_grad_enabled, no_grad
from ..graph.node import SAVE_INPUTS, Op
from ..size import Size
from ..tensor import Tensor, wrap
from .apply import nary
from .declare import explain_nodes
from .explain_rule import Rule
from .normalization_arrays import (
    batch_norm_array_vjp,
    count_over,
    layer_norm_array_vjp,
    normalized,
    plain_arrays,
)
from .normalization_rows import (
    MIN_POSITIONS,
    batch_norm_centered,
    batch_norm_channels_forward,
    batch_norm_channels_vjp,
    fits_rows,
    layer_norm_rows_forward,
    layer_norm_rows_vjp,
    owned_buffer,
    release_owned,
)
from .products import sum_of_shares
from .reduce import sum_keep
from .saved_names import SavedNames, held, value
from .saved_tensors import HOOKS
from .shape import reshape


def _statistics(x, axes: tuple, count: int, eps: float) -> tuple:
    """(mean, invstd, biased var), reduced axes kept: raw arrays, or recorded on Tensors."""
    mean = sum_keep(x, axes) / count
    if type(x) is xp.ndarray:  # one temporary: the centered values squared in place
        squares = x - mean
        squares *= squares
        var = squares.sum(axis=axes, keepdims=True) / count
    else:
        centered = x - mean
        var = sum_keep(centered * centered, axes) / count
    return mean, 1 / xp.sqrt(var + eps), var


class _Normalization(Op):
    """Shared forward: statistics (or the given ones), then the affine map.

    Static parameters: ``axes`` (A), ``param_axes`` (B), ``param_view`` (the shape that
    broadcasts w and b against x), ``param_shape`` (their own shape), ``eps``, ``has_weight``
    and ``has_bias`` (which inputs after x there are), ``batch_stats`` (False: ``mean`` and
    ``invstd`` were set before the forward, batch norm's running statistics), ``owned``
    (what a row-path forward keeps for the backward: normalization_rows.py; None otherwise).
    """

    __slots__ = (
        "axes",
        "param_axes",
        "param_view",
        "param_shape",
        "eps",
        "has_weight",
        "has_bias",
        "batch_stats",
        "mean",
        "invstd",
        "var",
        "opmath_mean",
        "running",
        "owned",
    )
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x, *params):
        if x.dtype.itemsize < 4:
            return _forward_opmath(ctx, x, params)
        if ctx.batch_stats:  # plain contiguous arrays: the row paths (normalization_rows.py)
            out = ctx.rows_forward(x, params)
            if out is not None:
                return out
        with xp.errstate(invalid="ignore", divide="ignore"):  # an empty input: NaN statistics
            if ctx.batch_stats:
                ctx.mean, ctx.invstd, ctx.var = _statistics(
                    x, ctx.axes, count_over(x.shape, ctx.axes), ctx.eps
                )
            out = normalized(x, ctx.mean, ctx.invstd)
        out = writable_for(out, *params)  # (vmap: per-sample parameters, updated in below)
        if ctx.has_weight:
            out *= params[0].reshape(ctx.param_view)
        if ctx.has_bias:
            out += params[-1].reshape(ctx.param_view)
        return out

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        if type(g) is not Tensor and g.dtype.itemsize < 4:
            return _backward_opmath(ctx, g, saved)
        return ctx.vjp(g, saved, ctx.mean, ctx.invstd)

    def vjp(self, g, saved, mean, invstd) -> tuple:
        """The gradients of (x, w, b) from ``g``, the saved inputs and the statistics that the
        forward normalised with (recomputed from x instead when the backward is recorded)."""
        ctx = self
        x = saved[0]
        w = reshape(saved[1], ctx.param_view) if ctx.has_weight else None
        axes = ctx.axes
        count = count_over(x.shape, axes)
        if ctx.batch_stats and type(g) is Tensor:
            mean, invstd, _ = _statistics(x, axes, count, ctx.eps)  # differentiable in x
        xhat = (x - mean) * invstd
        edges = ctx._next
        grads = [None] * len(edges)
        if edges[0] is not None:
            grads[0] = ctx.input_grad(g, w, xhat, invstd, count)
        if ctx.has_weight and edges[1] is not None:
            grads[1] = ctx.param_grad(g * xhat)
        if ctx.has_bias and edges[-1] is not None:
            grads[-1] = ctx.param_grad(g)
        return tuple(grads)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        x, tangent_x = primals[0], tangents[0]
        axes = ctx.axes
        count = count_over(tuple(x.shape), axes)
        if ctx.batch_stats:  # recomputed on Tensors: the tangent is differentiable in x
            mean, invstd, _ = _statistics(x, axes, count, ctx.eps)
        else:
            mean, invstd = ctx.mean, ctx.invstd
        xhat = (x - mean) * invstd
        w = reshape(primals[1], ctx.param_view) if ctx.has_weight else None
        share_x = share_w = share_b = None
        if tangent_x is not None:
            if ctx.batch_stats:
                centered = tangent_x - sum_keep(tangent_x, axes) / count
                spread = sum_keep(xhat * centered, axes) / count
                share_x = (centered - xhat * spread) * invstd
            else:
                share_x = tangent_x * invstd
            if w is not None:
                share_x = share_x * w
        if ctx.has_weight and tangents[1] is not None:
            share_w = xhat * reshape(tangents[1], ctx.param_view)
        if ctx.has_bias and tangents[-1] is not None:
            share_b = reshape(tangents[-1], ctx.param_view)
        return sum_of_shares((share_x, share_w, share_b))

    def param_grad(self, g):
        """``g`` summed over the axes that w and b are broadcast over, in their shape."""
        if self.param_axes:
            g = sum_keep(g, self.param_axes)
        return reshape(g, self.param_shape)


def _forward_opmath(ctx, x, params):
    """The forward of a half-precision input, computed in float32 and rounded once. The batch
    statistics are kept rounded to the input's dtype (PyTorch's saved ``result1``/``result2``)
    and, for batch norm's running update, the float32 mean and variance. Batch norm then
    normalises with the rounded statistics (ATen's CPU kernel reads back its saved ones),
    layer norm with the float32 ones."""
    result_dtype = x.dtype
    opmath = xp.float32
    x = x.astype(opmath)
    params = [None if param is None else param.astype(opmath) for param in params]
    with xp.errstate(invalid="ignore", divide="ignore"):  # an empty input: NaN statistics
        if ctx.batch_stats:
            mean, invstd, ctx.var = _statistics(x, ctx.axes, count_over(x.shape, ctx.axes), ctx.eps)
            ctx.opmath_mean = mean
            ctx.mean = mean.astype(result_dtype)
            ctx.invstd = invstd.astype(result_dtype)
            if ctx.normalizes_with_rounded_statistics:
                mean, invstd = ctx.mean.astype(opmath), ctx.invstd.astype(opmath)
        else:
            mean, invstd = ctx.mean, ctx.invstd
        out = (x - mean) * invstd
    out = writable_for(out, *params)
    if ctx.has_weight:
        out *= params[0].reshape(ctx.param_view)
    if ctx.has_bias:
        out += params[-1].reshape(ctx.param_view)
    return out.astype(result_dtype)


def _backward_opmath(ctx, g, saved) -> tuple:
    """The array backward of a half-precision input: in float32 from the float16 statistics
    (as ATen's CPU kernels read their saved mean and rstd), each gradient rounded once."""
    result_dtype = g.dtype
    opmath = xp.float32
    grads = ctx.vjp(
        g.astype(opmath),
        tuple(None if value is None else value.astype(opmath) for value in saved),
        ctx.mean.astype(opmath),
        ctx.invstd.astype(opmath),
    )
    return tuple(None if grad is None else grad.astype(result_dtype) for grad in grads)


class NativeBatchNormBackward0(_Normalization):
    """PyTorch also saves the running statistics (``running``: their arrays, or None) and the
    batch's mean and invstd (``result1``, ``result2``: empty outside training); the VJP reads
    ``mean`` and ``invstd``, so only the hooks and ``_saved_<name>`` see these."""

    __slots__ = ()
    saved_names = SavedNames(
        input=0,
        running_mean=held("running", index=0),
        running_var=held("running", index=1),
        weight=1,
        result1=held("result1"),
        result2=held("result2"),
        eps=value("eps"),
        training=value("batch_stats"),
    )
    normalizes_with_rounded_statistics = True

    @property
    def result1(self):
        return self._batch_statistic(self.mean)

    @property
    def result2(self):
        return self._batch_statistic(self.invstd)

    def _batch_statistic(self, statistic):
        if not self.batch_stats:  # (the running statistics have the input's dtype)
            return xp.empty((0,), dtype=self.running[0].dtype)
        return statistic.reshape(self.param_shape)

    def rows_forward(self, x, params):
        batch_and_channels = x.shape[0] * x.shape[1] if x.ndim > 1 else 0
        positions = x.size // max(batch_and_channels, 1)
        if positions >= MIN_POSITIONS and fits_rows(x, params, positions, batch_and_channels):
            return batch_norm_channels_forward(self, x, params)
        return None

    def vjp(self, g, saved, mean, invstd) -> tuple:
        x = saved[0]
        if (
            plain_arrays(g, saved, invstd)
            and self.batch_stats
            and x.size
            and self._next[0] is not None
        ):
            centered = owned_buffer(self, x, batch_norm_centered)
            if centered is not None:
                return batch_norm_channels_vjp(self, g, saved, centered, invstd)
            return batch_norm_array_vjp(self, g, saved, mean, invstd)
        release_owned(self)  # (no x gradient, or a recorded backward: the buffer is not used)
        return super().vjp(g, saved, mean, invstd)

    def input_grad(self, g, w, xhat, invstd, count: int):
        # w is constant over A: sum_A(gw) = w sum_A(g), so g is summed before scaling.
        scale = invstd if w is None else invstd * w
        if not self.batch_stats:
            return g * scale
        sum_g = sum_keep(g, self.axes)
        sum_g_xhat = sum_keep(g * xhat, self.axes)
        return (g * count - sum_g - xhat * sum_g_xhat) * (scale / count)


class NativeLayerNormBackward0(_Normalization):
    """PyTorch saves the mean and rstd (``result1``, ``result2``, reduced axes kept), which
    the node keeps as ``mean`` and ``invstd``."""

    __slots__ = ()
    saved_names = SavedNames(
        bias=2,
        input=0,
        weight=1,
        result1=held("mean"),
        result2=held("invstd"),
        normalized_shape=value("param_shape"),
    )
    normalizes_with_rounded_statistics = False

    def rows_forward(self, x, params):
        rows = count_over(x.shape, self.param_axes)
        if fits_rows(x, params, x.size // max(rows, 1), rows):
            return layer_norm_rows_forward(self, x, params)
        return None

    def vjp(self, g, saved, mean, invstd) -> tuple:
        x = saved[0]
        if plain_arrays(g, saved, invstd) and x.size:
            if fits_rows(x, saved[1:], x.size // max(mean.size, 1), mean.size):
                return layer_norm_rows_vjp(self, g, saved, mean, invstd)
            return layer_norm_array_vjp(self, g, saved, mean, invstd)
        return super().vjp(g, saved, mean, invstd)

    def input_grad(self, g, w, xhat, invstd, count: int):
        gw = g if w is None else g * w
        sum_gw = sum_keep(gw, self.axes)
        sum_gw_xhat = sum_keep(gw * xhat, self.axes)
        return (gw * count - sum_gw - xhat * sum_gw_xhat) * (invstd / count)


# ---------------------------------------------------------------------- argument checks
def _check_floating(input, kernel: str) -> None:
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{SCALAR_TYPE_NAMES[dtype.name]}'"
        )


def _check_same_dtype(input, *params) -> None:
    """PyTorch's CPU dtype rules, ``params`` in its order (weight, bias, running stats).

    The first given parameter in another dtype than the input's makes the call "mixed":
    PyTorch allows that only for a half-precision input with float32 parameters, which
    gradienti does not do. Otherwise every parameter must have the input's dtype.
    """
    given = [p._data.dtype for p in params if p is not None]
    expected = input._data.dtype
    if given and given[0] != expected:
        if any(dtype != xp.float32 for dtype in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    for dtype in given:
        if dtype != expected:
            raise RuntimeError(
                f"expected scalar type {SCALAR_TYPE_NAMES[expected.name]} but found "
                f"{SCALAR_TYPE_NAMES[dtype.name]}"
            )


def _apply(node, input, weight, bias) -> Tensor:
    """The node's inputs are always (input, weight, bias), a missing one None (an input with no
    edge, as in PyTorch's graph)."""
    node.has_weight = weight is not None
    node.has_bias = bias is not None
    node.owned = None
    return nary(node, input, weight, bias)


# ---------------------------------------------------------------------- batch norm
def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """``F.batch_norm``: normalise each channel (axis 1) over the batch and spatial axes.

    Training: the batch's statistics, and the running ones (when given) become
    ``(1 - momentum) * running + momentum * batch``, with the unbiased batch variance.
    Otherwise the running statistics normalise.
    """
    shape = tuple(input.shape)
    if training:
        values_per_channel = shape[0] if shape else 1
        for size in shape[2:]:
            values_per_channel *= size
        if values_per_channel == 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{Size(shape)}"
            )
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return native_batch_norm(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )


def native_batch_norm(
    input, running_mean, running_var, weight, bias, training: bool, momentum: float, eps: float
) -> Tensor:
    """ATen's ``batch_norm`` with only its own checks (F.batch_norm's batch size and eps
    checks are Python's, above; ATen's instance_norm calls this one)."""
    shape = tuple(input.shape)
    if (running_mean is None) != (running_var is None) and training:
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if not training:
        for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
            if stat is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    channels = shape[1] if len(shape) > 1 else 0
    named = (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    )
    for name, tensor in named:
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")
    if is_grad_enabled():  # (autograd's check, before the kernel's): buffers, not inputs
        for name, stat in named[:2]:
            if stat is not None and stat.requires_grad:
                raise RuntimeError(
                    "The function 'native_batch_norm' is not differentiable with respect to "
                    f"argument '{name}'. This input cannot have requires_grad True."
                )
    _check_floating(input, "batch_norm")
    _check_same_dtype(input, weight, bias, running_mean, running_var)
    if training and running_mean is not None and type(input._data) is BatchedArray:
        _refuse_batched_input_with_running_stats(input, running_mean, running_var)

    node = NativeBatchNormBackward0()
    node.axes = (0,) + tuple(range(2, len(shape)))
    node.param_axes = node.axes
    node.param_view = (1, channels) + (1,) * (len(shape) - 2)
    node.param_shape = (channels,)
    node.eps = eps
    node.batch_stats = bool(training)
    node.running = None if running_mean is None else (running_mean._data, running_var._data)
    if not training:
        # Copies: a later training step updates the buffers in place, and this node's
        # backward must still see the statistics its forward used.
        stats_dtype = input._data.dtype
        if stats_dtype.itemsize < 4:  # half precision normalises in float32 (opmath)
            stats_dtype = xp.dtype(xp.float32)
        node.mean = xp.array(running_mean._data, dtype=stats_dtype).reshape(node.param_view)
        var = xp.asarray(running_var._data, dtype=stats_dtype).reshape(node.param_view)
        node.invstd = 1 / xp.sqrt(var + stats_dtype.type(eps))
    out = _apply(node, input, weight, bias)
    if HOOKS.stack:
        # The backward must read x as unpack_hook gives it back, which may be this very array
        # changed in place since (hooks bypass the version check): the row path's x - mean
        # would be stale, so its backward rebuilds it from the unpacked x.
        release_owned(node)
    if training and running_mean is not None and input.numel():
        count = count_over(shape, node.axes)
        unbiased_var = node.var * (count / (count - 1)) if count > 1 else node.var
        # (half precision: the float32 batch mean, rounded only into the buffer)
        batch_mean = node.opmath_mean if input._data.dtype.itemsize < 4 else node.mean
        _blend(running_mean, batch_mean, momentum)
        _blend(running_var, unbiased_var, momentum)
    return out


def _refuse_batched_input_with_running_stats(input, running_mean, running_var) -> None:
    """PyTorch's error under vmap: per-sample statistics cannot update shared buffers."""
    level = input._data.level
    for running in (running_mean, running_var):
        data = running._data
        if type(data) is not BatchedArray or data.level < level:
            raise RuntimeError(
                "Batch norm got a batched tensor as input while the running_mean or running_var, "
                "which will be updated in place, were not batched.\nIf you are using a module "
                "and do not need eval mode, please set `track_running_stats` to be False.If you "
                "are using a prebuilt module and do not need eval mode, please see the functorch "
                "website for resources on how to patch your module to work with vmap"
            )


def _blend(running: Tensor, batch_value, momentum: float) -> None:
    """``running = momentum * batch + (1 - momentum) * running``, in place (a buffer)."""
    old = running._data
    value = momentum * batch_value.reshape(old.shape) + (1 - momentum) * old
    with no_grad():
        running._assign_in_place(wrap(value.astype(old.dtype, copy=False), None))


# ---------------------------------------------------------------------- layer norm
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """``F.layer_norm``: normalise over the trailing ``normalized_shape`` axes."""
    if isinstance(normalized_shape, int) or not all(
        isinstance(size, int) for size in normalized_shape
    ):
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    normalized = tuple(normalized_shape)
    shape = tuple(input.shape)
    if not normalized:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != normalized:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(tensor.shape)} and normalized_shape = {list(normalized)}"
            )
    lead = len(shape) - len(normalized)
    if lead < 0 or shape[lead:] != normalized:
        expected = ", ".join(["*"] + [str(size) for size in normalized])
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape "
            f"[{expected}], but got input of size{list(shape)}"
        )
    _check_floating(input, "LayerNormKernelImpl")
    _check_same_dtype(input, weight, bias)

    node = NativeLayerNormBackward0()
    node.axes = tuple(range(lead, len(shape)))
    node.param_axes = tuple(range(lead))
    node.param_view = normalized
    node.param_shape = normalized
    node.eps = eps
    node.batch_stats = True
    return _apply(node, input, weight, bias)


# ---------------------------------------------------------------------- explain rules
def _rule(node, name: str, words: str, over: str, param_over: str) -> Rule:
    """The rule of a normalization node: ``over`` says which elements share a mean and
    variance, ``param_over`` what the weight and bias gradients are summed over. The slots are
    those of explain: ``a`` (the input), ``b`` (weight) and ``c`` (bias), a missing one an
    input without an edge that the form leaves out."""
    x = "a"
    w = "b" if node.has_weight else None
    gw = "gradient" if w is None else f"gradient·{w}"
    if node.batch_stats:
        input_pass = (
            f"({gw} - mean({gw}) - x̂·mean({gw}·x̂))/σ, means {over}, "
            f"x̂ = ({x} - mean({x}))/σ, σ = sqrt(var({x}) + eps)"
        )
    else:
        input_pass = f"{gw}/σ, σ = sqrt(running_var + eps)"
    form = [f"{{{x}:0}}"]
    passes = [input_pass]
    if node.has_weight:
        form.append(f"weight={{{w}:0}}")
        passes.append(f"gradient·x̂ summed {param_over}")
    else:
        passes.append("nothing (no weight)")
    if node.has_bias:
        form.append("bias={c:0}")
        passes.append(f"the gradient summed {param_over}")
    else:
        passes.append("nothing (no bias)")
    return Rule(words, f"{name}({', '.join(form)})", passes=tuple(passes))


def _batch_norm_rule(node) -> Rule:
    statistics = "the batch's statistics" if node.batch_stats else "the running statistics"
    return _rule(
        node,
        "batch_norm",
        f"batch normalization (each channel, {statistics})",
        "per channel",
        "per channel",
    )


def _layer_norm_rule(node) -> Rule:
    count = len(node.axes)
    dims = "dim" if count == 1 else f"{count} dims"
    return _rule(
        node,
        "layer_norm",
        f"layer normalization (over the last {dims})",
        f"over the last {dims}",
        "over the leading dims",
    )


DECLARATIONS = (
    explain_nodes(
        {NativeBatchNormBackward0: _batch_norm_rule, NativeLayerNormBackward0: _layer_norm_rule}
    ),
)
