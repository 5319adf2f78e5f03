"""Group normalisation as one fused op (PyTorch's ``NativeGroupNormBackward0``), and the
composites ``rms_norm`` and ``instance_norm`` built as ATen builds them on CPU.

Group norm splits the C channels of ``x`` (shape ``(N, C, *)``) into G groups and normalises
each (sample, group) over its ``C/G`` channels and the spatial positions. The node computes on
the grouped view ``(N, G, C/G, S)`` (S: the spatial positions), where the statistics are taken
over A = axes (2, 3) and the per-channel ``w``, ``b`` vary over axes (1, 2)::

    xhat = (x - mean_A(x)) * invstd,   invstd = 1 / sqrt(var_A(x) + eps),   y = xhat * w + b.

w varies inside A, so the VJP is layer norm's, with ``gw = g * w`` and M = |A|::

    dx = invstd / M * (M gw - sum_A(gw) - xhat * sum_A(gw * xhat))
    dw = sum_{0,3}(g * xhat),   db = sum_{0,3}(g)

and the JVP, with ``tc = t - mean_A(t)``::

    dy = w * invstd * (tc - xhat * mean_A(xhat * tc)) + xhat * dw + db.

As in ops/normalization.py, the forward keeps ``mean`` and ``invstd``; a recorded backward
(``create_graph=True``) recomputes them from the saved input as Tensors, so the same formula
is twice differentiable.
"""

from __future__ import annotations

from ..arguments import check_int, is_number, wrong_type
from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import writable_for
from ..graph.grad_mode import no_grad
from ..graph.node import SAVE_INPUTS, Op
from ..size import Size
from ..tensor import Tensor
from .apply import nary
from .composite_nodes import add_scalar
from .declare import declare
from .explain_rule import Rule
from .normalization import _check_same_dtype, _statistics, native_batch_norm
from .products import sum_of_shares
from .reduce import sum_keep
from .saved_names import SavedNames, held, value
from .shape import reshape

_STATISTIC_AXES = (2, 3)  # of the grouped view (N, G, C/G, S)
_PARAMETER_SUM_AXES = (0, 3)


class NativeGroupNormBackward0(Op):
    """Static parameters: ``grouped`` (the view ``(N, G, C/G, S)``), ``param_view``
    (``(1, G, C/G, 1)``), ``channels``, ``eps``, ``has_weight``, ``has_bias``; the forward
    sets ``mean`` and ``invstd`` (shape ``(N, G, 1, 1)``)."""

    __slots__ = (
        "grouped",
        "param_view",
        "channels",
        "eps",
        "has_weight",
        "has_bias",
        "mean",
        "invstd",
    )
    save = SAVE_INPUTS
    saved_names = SavedNames(
        input=0,
        weight=1,
        result1=held("result1"),
        result2=held("result2"),
        N=value(lambda node: node.grouped[0]),
        C=value("channels"),
        HxW=value(lambda node: node.grouped[3]),
        group=value(lambda node: node.grouped[1]),
        eps=value("eps"),
    )

    @property
    def result1(self):  # PyTorch's mean, shape (N, G)
        return self.mean.reshape(self.grouped[:2])

    @property
    def result2(self):  # PyTorch's rstd, shape (N, G)
        return self.invstd.reshape(self.grouped[:2])

    @staticmethod
    def forward(ctx, x, *params):
        grouped = x.reshape(ctx.grouped)
        if type(grouped) is _ndarray and all(p is None or type(p) is _ndarray for p in params):
            return _forward_arrays(ctx, grouped, params).reshape(x.shape)
        with xp.errstate(invalid="ignore", divide="ignore"):  # an empty input: NaN statistics
            ctx.mean, ctx.invstd, _ = _statistics(
                grouped, _STATISTIC_AXES, ctx.grouped[2] * ctx.grouped[3], ctx.eps
            )
            out = (grouped - ctx.mean) * ctx.invstd
        out = writable_for(out, *params)  # (vmap: per-sample parameters, updated in below)
        if ctx.has_weight:
            out *= params[0].reshape(ctx.param_view)
        if ctx.has_bias:
            out += params[-1].reshape(ctx.param_view)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        shape = tuple(saved[0].shape)
        x = reshape(saved[0], ctx.grouped)
        g = reshape(g, ctx.grouped)
        count = ctx.grouped[2] * ctx.grouped[3]
        if type(g) is _ndarray and type(x) is _ndarray:
            w = saved[1] if ctx.has_weight else None
            return _backward_arrays(ctx, x, g, w, shape)
        if type(g) is Tensor:  # recorded: statistics differentiable in x
            mean, invstd, _ = _statistics(x, _STATISTIC_AXES, count, ctx.eps)
        else:
            mean, invstd = ctx.mean, ctx.invstd
        xhat = (x - mean) * invstd
        edges = ctx._next
        grads = [None] * len(edges)
        if edges[0] is not None:
            gw = g * reshape(saved[1], ctx.param_view) if ctx.has_weight else g
            sum_gw = sum_keep(gw, _STATISTIC_AXES)
            sum_gw_xhat = sum_keep(gw * xhat, _STATISTIC_AXES)
            dx = (gw * count - sum_gw - xhat * sum_gw_xhat) * (invstd / count)
            grads[0] = reshape(dx, shape)
        if ctx.has_weight and edges[1] is not None:
            grads[1] = ctx.param_grad(g * xhat)
        if ctx.has_bias and edges[-1] is not None:
            grads[-1] = ctx.param_grad(g)
        return tuple(grads)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        x_in, tangent_x = primals[0], tangents[0]
        x = reshape(x_in, ctx.grouped)
        count = ctx.grouped[2] * ctx.grouped[3]
        mean, invstd, _ = _statistics(x, _STATISTIC_AXES, count, ctx.eps)
        xhat = (x - mean) * invstd
        share_x = share_w = share_b = None
        if tangent_x is not None:
            t = reshape(tangent_x, ctx.grouped)
            centered = t - sum_keep(t, _STATISTIC_AXES) / count
            spread = sum_keep(xhat * centered, _STATISTIC_AXES) / count
            share_x = (centered - xhat * spread) * invstd
            if ctx.has_weight:
                share_x = share_x * reshape(primals[1], ctx.param_view)
        if ctx.has_weight and tangents[1] is not None:
            share_w = xhat * reshape(tangents[1], ctx.param_view)
        if ctx.has_bias and tangents[-1] is not None:
            share_b = reshape(tangents[-1], ctx.param_view)
        return reshape(sum_of_shares((share_x, share_w, share_b)), tuple(x_in.shape))

    def param_grad(self, g):
        """``g`` summed over the batch and spatial axes, as a vector of C."""
        return reshape(sum_keep(g, _PARAMETER_SUM_AXES), (self.channels,))


# ---------------------------------------------------------------------- the array paths
# The same formulas on plain arrays in fewer passes over the data (the op is memory-bound):
# products summed by einsum without temporaries, per-(sample, group, channel) factors folded
# into one multiplication, buffers updated in place. Tensors (a recorded backward) and
# vmap's batched arrays take the general code above.
_ndarray = xp.ndarray


def _opmath(dtype):
    """ATen's accumulation type: half precision computes in float32 (its sums of thousands of
    values would overflow or lose the mean), the result rounded once."""
    return xp.dtype(xp.float32) if dtype.itemsize < 4 else dtype


def _forward_arrays(ctx, grouped, params):
    count = ctx.grouped[2] * ctx.grouped[3]
    result_dtype = grouped.dtype
    dtype = _opmath(result_dtype)
    if dtype != result_dtype:
        grouped = grouped.astype(dtype)
        params = tuple(None if p is None else p.astype(dtype) for p in params)
    with xp.errstate(invalid="ignore", divide="ignore"):  # an empty input: NaN statistics
        mean = grouped.sum(axis=_STATISTIC_AXES, keepdims=True) / dtype.type(count)
        out = grouped - mean
        var = xp.einsum("ngcs,ngcs->ng", out, out)[:, :, None, None] / dtype.type(count)
        invstd = 1 / xp.sqrt(var + dtype.type(ctx.eps))
    # (kept in the input's dtype, as PyTorch's saved mean and rstd)
    ctx.mean = mean.astype(result_dtype, copy=False)
    ctx.invstd = invstd.astype(result_dtype, copy=False)
    scale = invstd.astype(dtype, copy=False)
    if ctx.has_weight:
        scale = scale * params[0].reshape(ctx.param_view)  # (N, G, C/G, 1): one pass below
    out *= scale
    if ctx.has_bias:
        out += params[-1].reshape(ctx.param_view)
    return out.astype(result_dtype, copy=False)


def _backward_arrays(ctx, x, g, w, shape):
    """ATen's CPU form: per (sample, group, channel) ``ds = sum_s g x`` and ``db = sum_s g``
    (two reads, no temporaries), then ``dx = c1 g + c2 x + c3`` with, per group,
    ``ds_g = sum_c w ds``, ``db_g = sum_c w db``::

        c1 = invstd w,   c2 = (db_g mean - ds_g) invstd³ / M,   c3 = -c2 mean - db_g invstd / M

    (the input gradient above, expanded), ``dw = sum_n (ds - db mean) invstd``,
    ``db = sum_n db``."""
    result_dtype = g.dtype
    dtype = _opmath(result_dtype)
    if dtype != result_dtype:
        g, x = g.astype(dtype), x.astype(dtype)
        w = None if w is None else w.astype(dtype)
    count = dtype.type(ctx.grouped[2] * ctx.grouped[3])
    mean = ctx.mean[:, :, :, 0].astype(dtype, copy=False)  # (N, G, 1)
    invstd = ctx.invstd[:, :, :, 0].astype(dtype, copy=False)
    ds = xp.einsum("ngcs,ngcs->ngc", g, x)
    db = g.sum(axis=3)
    edges = ctx._next
    grads = [None] * len(edges)
    if ctx.has_weight and edges[1] is not None:
        grads[1] = ((ds - db * mean) * invstd).sum(axis=0).reshape(ctx.channels)
    if ctx.has_bias and edges[-1] is not None:
        grads[-1] = db.sum(axis=0).reshape(ctx.channels)
    if edges[0] is not None:
        if w is not None:
            w_view = w.reshape(ctx.param_view[:3])
            ds = ds * w_view
            db = db * w_view
            c1 = (invstd * w_view)[..., None]
        else:
            c1 = invstd[..., None]
        ds_group = ds.sum(axis=2, keepdims=True)
        db_group = db.sum(axis=2, keepdims=True)
        c2 = (db_group * mean - ds_group) * invstd**3 / count
        c3 = -c2 * mean - db_group * invstd / count
        dx = g * c1
        dx += x * c2[..., None]
        dx += c3[..., None]
        grads[0] = dx.reshape(shape)
    return tuple(None if grad is None else grad.astype(result_dtype, copy=False) for grad in grads)


def group_norm(
    input, num_groups: int, weight=None, bias=None, eps: float = 1e-5, cudnn_enabled=True
) -> Tensor:
    """``torch.group_norm``: normalise each group of ``C / num_groups`` channels per sample."""
    num_groups = check_int(num_groups, "group_norm", "num_groups", 2)
    _check_float(eps, "group_norm", "eps", 5)
    shape = tuple(input.shape)
    if len(shape) < 2:  # ATen reads the channel count first
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(len(shape), 1)}, "
            f"{max(len(shape), 1) - 1}], but got 1)"
        )
    channels = shape[1]
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if channels % num_groups != 0:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={num_groups}"
        )
    # PyTorch's bias message prints the weight's shape ([0] without a weight), as here.
    weight_shape = list(weight.shape) if weight is not None else [0]
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.dim() != 1 or tensor.numel() != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {weight_shape} and input of shape {list(shape)}"
            )
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            '"GroupNormKernelImpl" not implemented for '
            f"'{SCALAR_TYPE_NAMES[input._data.dtype.name]}'"
        )
    _check_same_dtype(input, weight, bias)
    spatial = 1
    for size in shape[2:]:
        spatial *= size
    node = NativeGroupNormBackward0()
    node.grouped = (shape[0], num_groups, channels // num_groups, spatial)
    node.param_view = (1, num_groups, channels // num_groups, 1)
    node.channels = channels
    node.eps = eps
    node.has_weight = weight is not None
    node.has_bias = bias is not None
    return nary(node, input, weight, bias)


def _check_float(value, function: str, name: str, position: int) -> None:
    """PyTorch's parser for a ``float`` argument: a real number (an int or bool too)."""
    if not is_number(value) or isinstance(value, complex):
        raise wrong_type(function, name, "float", value, position)


# ---------------------------------------------------------------------- rms norm
def rms_norm(input, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """``torch.rms_norm``: ``x / sqrt(mean(x²) + eps) * w`` over the trailing
    ``normalized_shape`` axes, composed as ATen's CPU kernel (so its graph is PyTorch's):
    half precision computes in float32, the result is cast back to the input's dtype, and
    ``eps=None`` is the machine epsilon of the dtype computed in."""
    if isinstance(normalized_shape, int) or not all(
        isinstance(size, int) for size in normalized_shape
    ):
        raise TypeError(
            "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    normalized = tuple(normalized_shape)
    shape = tuple(input.shape)
    if not normalized:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []"
        )
    if weight is not None and tuple(weight.shape) != normalized:
        raise RuntimeError(
            "Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(normalized)}"
        )
    lead = len(shape) - len(normalized)
    if lead < 0 or shape[lead:] != normalized:
        # (rms_norm's text has no ", " after the "*", unlike layer_norm's)
        expected = ", ".join(str(size) for size in normalized)
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape "
            f"[*{expected}], but got input of size{list(shape)}"
        )
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(
            f"\"rms_norm\" not implemented for '{SCALAR_TYPE_NAMES[dtype.name]}'"
        )
    compute = xp.dtype(xp.float32) if dtype.itemsize < 4 else dtype  # ATen's opmath type
    if eps is None:
        eps = float(xp.finfo(compute).eps)
    upcast = input if compute == dtype else input.to(from_numpy_dtype(compute))
    dims = tuple(range(len(shape) - 1, lead - 1, -1))  # ATen lists them last first
    # ATen's ``mean(...).add_(eps)`` on the C++ side records AddBackward1 (Tensor + Scalar).
    out = upcast * add_scalar(upcast.pow(2).mean(dims, keepdim=True), eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out if out._data.dtype == dtype else out.to(input.dtype)


# ---------------------------------------------------------------------- instance norm
def instance_norm(
    input,
    weight,
    bias,
    running_mean,
    running_var,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """``torch.instance_norm``, as ATen composes it: the batch folded into the channels
    (``(1, N*C, *)``), the per-channel tensors repeated N times, one ``batch_norm``; the
    running statistics become the mean over the batch of the N updated copies."""
    _check_float(momentum, "instance_norm", "momentum", 7)
    _check_float(eps, "instance_norm", "eps", 8)
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError(
            "Expected running_mean and running_var to be defined when use_input_stats is false"
        )
    shape = tuple(input.shape)
    batch, channels = shape[0], shape[1]
    folded = (1, batch * channels) + shape[2:]

    def repeated(tensor):
        return None if tensor is None else tensor.repeat(batch)

    running_mean_copies = repeated(running_mean)
    running_var_copies = repeated(running_var)
    out = native_batch_norm(
        input.contiguous().view(folded),
        running_mean_copies,
        running_var_copies,
        repeated(weight),
        repeated(bias),
        use_input_stats,
        momentum,
        eps,
    )
    with no_grad():
        for running, copies in (
            (running_mean, running_mean_copies),
            (running_var, running_var_copies),
        ):
            if running is not None:
                running.copy_(copies.view(batch, channels).mean(0))
    return out.view(Size(shape))


def _group_norm_rule(node) -> Rule:
    gw = "gradient·b" if node.has_weight else "gradient"
    form = ["{a:0}", f"groups={node.grouped[1]}"]
    passes = [
        f"({gw} - mean({gw}) - x̂·mean({gw}·x̂))/σ, means over each group of a sample, "
        "x̂ = (a - mean(a))/σ, σ = sqrt(var(a) + eps)"
    ]
    if node.has_weight:
        form.append("weight={b:0}")
        passes.append("gradient·x̂ summed per channel")
    else:
        passes.append("nothing (no weight)")
    if node.has_bias:
        form.append("bias={c:0}")
        passes.append("the gradient summed per channel")
    else:
        passes.append("nothing (no bias)")
    return Rule(
        f"group normalization ({node.grouped[1]} groups of channels, per sample)",
        f"group_norm({', '.join(form)})",
        passes=tuple(passes),
    )


DECLARATIONS = (
    declare(
        "group_norm", group_norm, method=None, explain={NativeGroupNormBackward0: _group_norm_rule}
    ),
    declare("rms_norm", rms_norm, method=None),
    declare("instance_norm", instance_norm, method=None),
)
