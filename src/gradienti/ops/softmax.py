"""Along a dimension: softmax, log_softmax, logsumexp, and the running sum and product
(cumsum, cumprod).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

softmax, log_softmax and logsumexp subtract the maximum first, so inputs of 1e4 neither
overflow nor lose the small terms; their VJPs are written with differentiable operations (and
``sum_keep``), so second derivatives work.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, sum_dtype, xp
from ..batching import any_sample
from ..graph.node import SAVE_BOTH, SAVE_NOTHING, SAVE_OUTPUT, Op
from ..tensor import Tensor
from .apply import unary
from .declare import declare, explain_nodes
from .explain_rule import Rule
from .jvp_rules import linear
from .reduce import as_dtype, keep_dims, one_dim, raw, reduction_dims, sum_keep, without_diagonal
from .saved_names import SavedNames, value
from .shape import reshape

_ndarray = xp.ndarray
_add_reduce = xp.add.reduce  # (ndarray.sum without its Python wrapper: the same sum)
_maximum_reduce = xp.maximum.reduce  # (ndarray.max's reduction, likewise)


def _dims_of(dim) -> tuple:
    """The axes that an op along ``dim`` works over: none for a 0-d input (dim None)."""
    return () if dim is None else (dim,)


# ---------------------------------------------------------------------- softmax
class SoftmaxBackward0(Op):
    __slots__ = ("dim",)
    save = SAVE_OUTPUT
    saved_names = SavedNames(result=0, dim=value("dim"))

    @staticmethod
    def forward(ctx, x):
        dims = _dims_of(ctx.dim)
        if not x.size:
            return x.copy()
        if x.dtype == xp.float16:  # PyTorch computes half precision in single
            return SoftmaxBackward0.forward(ctx, x.astype(xp.float32)).astype(xp.float16)
        out = xp.asarray(x - x.max(axis=dims, keepdims=True))
        xp.exp(out, out=out)
        out /= out.sum(axis=dims, keepdims=True)
        return out

    @staticmethod
    def backward(ctx, g):
        # J^T g = out * (g - sum(g * out))
        (out,) = ctx.saved_tensors
        return out * (g - sum_keep(g * out, _dims_of(ctx.dim)))

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # J = diag(s) - s s^T is symmetric: J t is the VJP's formula with t for g.
        (tangent,) = tangents
        return out * (tangent - sum_keep(tangent * out, _dims_of(ctx.dim)))


class LogSoftmaxBackward0(Op):
    __slots__ = ("dim",)
    save = SAVE_OUTPUT
    saved_names = SavedNames(result=0, dim=value("dim"))

    @staticmethod
    def forward(ctx, x):
        dims = _dims_of(ctx.dim)
        if not x.size:
            return x.copy()
        if x.dtype == xp.float16:
            return LogSoftmaxBackward0.forward(ctx, x.astype(xp.float32)).astype(xp.float16)
        if type(x) is not _ndarray or not x.ndim:  # (vmap: per-sample values; a 0-d input)
            shifted = x - x.max(axis=dims, keepdims=True)
            return shifted - xp.log(xp.exp(shifted).sum(axis=dims, keepdims=True))
        shifted = x - _maximum_reduce(x, axis=dims, keepdims=True)
        # The same sums as above, the temporaries reused: x - max - log(sum(exp(x - max))).
        log_total = _add_reduce(xp.exp(shifted), axis=dims, keepdims=True)
        xp.log(log_total, out=log_total)
        shifted -= log_total
        return shifted

    @staticmethod
    def backward(ctx, g):
        # J^T g = g - softmax * sum(g)
        (out,) = ctx.saved_tensors
        if (
            type(g) is not _ndarray
            or type(out) is not _ndarray
            or not out.ndim
            or g.dtype != out.dtype
        ):
            return g - xp.exp(out) * sum_keep(g, _dims_of(ctx.dim))
        # The same products as above, written into exp(out)'s array (of g's shape and dtype).
        share = xp.exp(out)
        share *= _add_reduce(g, axis=_dims_of(ctx.dim), keepdims=True)
        return xp.subtract(g, share, out=share)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # J t = t - sum(softmax * t): the tangent less its softmax-weighted mean
        (tangent,) = tangents
        return tangent - sum_keep(out.exp() * tangent, _dims_of(ctx.dim))


def _softmax_like(name, node_class, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    data = input._data
    node = node_class()
    node.dim = one_dim(name, dim, data.ndim)
    if data.dtype.kind != "f":
        last = node.dim is None or node.dim == data.ndim - 1
        kernel = f"{name}_lastdim_kernel_impl" if last else f"{name}_kernel_impl"
        type_name = SCALAR_TYPE_NAMES[from_numpy_dtype(data.dtype).name]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name}'")
    return unary(node, input)


def softmax(input, dim, dtype=None):
    return _softmax_like("softmax", SoftmaxBackward0, input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    return _softmax_like("log_softmax", LogSoftmaxBackward0, input, dim, dtype)


# ---------------------------------------------------------------------- logsumexp
class LogsumexpBackward0(Op):
    __slots__ = ("dims", "keepdim", "input_shape")
    save = SAVE_BOTH
    promotes_integers = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        dims = ctx.dims
        if not x.size:
            total = x.sum(axis=dims, keepdims=ctx.keepdim)
            return xp.log(xp.asarray(total))  # log(0) = -inf
        top = x.max(axis=dims, keepdims=True)
        top = xp.where(xp.isinf(top), xp.zeros((), x.dtype), top)
        out = xp.log(xp.exp(x - top).sum(axis=dims, keepdims=True)) + top
        return (
            out
            if ctx.keepdim
            else out.reshape(tuple(size for i, size in enumerate(x.shape) if i not in dims))
        )

    @staticmethod
    def backward(ctx, g):
        # d logsumexp = softmax: g * exp(x - out)
        x, out = ctx.saved_tensors
        dims, keepdim, shape = ctx.dims, ctx.keepdim, ctx.input_shape
        out = keep_dims(out, dims, keepdim, shape)
        return keep_dims(g, dims, keepdim, shape) * xp.exp(x - out)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # d logsumexp = sum(softmax(x) * t) over the dims, softmax(x) = exp(x - out)
        (x,), (tangent,) = primals, tangents
        dims = ctx.dims
        weights = (x - keep_dims(out, dims, ctx.keepdim, ctx.input_shape)).exp()
        return reshape(sum_keep(tangent * weights, dims), tuple(out.shape))


def logsumexp(input, dim, keepdim: bool = False):
    node = LogsumexpBackward0()
    node.dims = reduction_dims(dim, input._data.ndim)
    node.keepdim = keepdim
    return unary(node, input)


# ---------------------------------------------------------------------- cumsum and cumprod
# PyTorch's CPU kernels run a sum or product in a wider accumulator than the result (its
# ``acc_type``) and round each running value once: float16 in float32, float32 in float64.
# Accumulating in float16 itself, a running sum of ones stops at 2048.
_ACCUMULATORS = {xp.dtype(xp.float16): xp.dtype(xp.float32), xp.dtype(xp.float32): xp.float64}


def running(function, x, axis: int, dtype=None):
    """``function`` (``xp.cumsum`` or ``xp.cumprod``) of array ``x`` along ``axis`` as PyTorch
    computes it: converted to ``dtype`` first, accumulated in PyTorch's accumulator type."""
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    accumulator = _ACCUMULATORS.get(x.dtype)
    if accumulator is None:
        return function(x, axis=axis, dtype=x.dtype)
    return function(x, axis=axis, dtype=accumulator).astype(x.dtype)


class CumsumBackward0(Op):
    __slots__ = ("dim", "dtype", "input_dtype")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)  # a running sum of the tangent

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        if ctx.dim is None:  # a 0-d input
            return xp.array(x, dtype=ctx.dtype)
        return running(xp.cumsum, x, ctx.dim, ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        grad = reverse_cumsum(g, ctx.dim)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)


class ReverseCumsumBackward(Op):
    """Sums from the end along ``dim``: the VJP of cumsum, itself differentiable (by cumsum)."""

    __slots__ = ("dim",)
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return reverse_cumsum(x, ctx.dim)

    @staticmethod
    def backward(ctx, g):
        if type(g) is Tensor:
            return cumsum(g, ctx.dim)
        return running(xp.cumsum, g, ctx.dim)


def reverse_cumsum(g, dim):
    """``g`` summed from the end along ``dim`` (None: a 0-d value, returned as is)."""
    if dim is None:
        return g
    if type(g) is Tensor:
        node = ReverseCumsumBackward()
        node.dim = dim
        return unary(node, g)
    return xp.flip(running(xp.cumsum, xp.flip(g, dim), dim), dim)


class CumprodBackward0(Op):
    __slots__ = ("dim", "dtype", "input_dtype")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        if ctx.dim is None:
            return xp.array(x, dtype=ctx.dtype)
        return running(xp.cumprod, x, ctx.dim, ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if dim is None or x.shape[dim] == 1:
            grad = g
        elif ctx.dtype is not None:
            grad = _cumprod_vjp(g, as_dtype(x, ctx.dtype), out, dim)
        else:
            grad = _cumprod_vjp(g, x, out, dim)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # In the input's dtype where ``dtype=`` widens the output, as PyTorch's (the product
        # with the output widens it; the caller casts the rest).
        (x,), (tangent,) = primals, tangents
        dim = ctx.dim
        if dim is None or x.shape[dim] == 1:
            return tangent
        return _cumprod_jvp(tangent, x, out, dim)


def _cumprod_vjp(g, x, out, dim: int):
    """grad_i = sum over j >= i of g_j * prod_{k <= j, k != i} x_k."""
    x_raw = raw(x)
    zero = x_raw == 0
    if not any_sample(zero):  # (under vmap: in any sample)
        return reverse_cumsum(g * out, dim) / x
    if type(g) is Tensor:
        # Differentiable, O(n^2) along dim: the products that leave x_i out, by cumprod.
        n = x_raw.shape[dim]
        leave_out = cumprod(without_diagonal(x, dim), dim + 1)  # [.., i, j, ..]
        shape = tuple(x_raw.shape)
        g_row = reshape(g, shape[:dim] + (1,) + shape[dim:])
        upper = xp.triu(xp.ones((n, n), dtype=x_raw.dtype))  # j >= i
        upper = upper.reshape((n, n) + (1,) * (len(shape) - dim - 1))
        return (g_row * leave_out * upper).sum(dim + 1)
    return _cumprod_vjp_zeros(g, x_raw, raw(out), dim)


def _cumprod_jvp(tangent, x, out, dim: int):
    """d out_j = sum over i <= j of t_i * prod_{k <= j, k != i} x_k (Tensors)."""
    if not any_sample(raw(x) == 0):  # (under vmap: in any sample)
        return out * cumsum(tangent / x, dim)  # out_j * sum over i <= j of t_i / x_i
    # With zeros: the products that leave x_i out, by cumprod, as in _cumprod_vjp; O(n^2).
    shape = tuple(x.shape)
    n = shape[dim]
    leave_out = cumprod(without_diagonal(x, dim), dim + 1)  # [.., i, j, ..]
    t_column = reshape(tangent, shape[:dim] + (n, 1) + shape[dim + 1 :])
    upper = xp.triu(xp.ones((n, n), dtype=raw(x).dtype))  # i <= j
    upper = upper.reshape((n, n) + (1,) * (len(shape) - dim - 1))
    return (t_column * leave_out * upper).sum(dim)


def _cumprod_vjp_zeros(g, x, out, dim: int):
    """The cumprod VJP on arrays with zeros, in O(n) along ``dim``.

    Before the first zero z of a line: reverse_cumsum(g * out) / x (out is 0 from z on).
    After it: 0. At z: prod_{k<z} x_k * sum_{j>=z} g_j * prod_{z<k<=j} x_k.
    """
    g, x, out = (xp.moveaxis(xp.asarray(a), dim, -1) for a in (g, x, out))
    g = xp.broadcast_to(g, x.shape)
    n = x.shape[-1]
    positions = xp.arange(n)
    zero = x == 0
    first = xp.argmax(zero, axis=-1)[..., None]  # the first zero (0 if none)
    has_zero = zero.any(axis=-1, keepdims=True)
    grad = reverse_cumsum(g * out, -1) / xp.where(zero, xp.ones((), x.dtype), x)
    after_first = positions > first
    after_ones = xp.where(positions <= first, xp.ones((), x.dtype), x)
    running_product = running(xp.cumprod, after_ones, -1)
    tail = xp.where(positions >= first, g * running_product, xp.zeros((), x.dtype))
    tail = tail.sum(-1, keepdims=True)
    previous = xp.take_along_axis(out, xp.maximum(first - 1, 0), axis=-1)
    at_first = xp.where(first > 0, previous, xp.ones((), x.dtype)) * tail
    grad = xp.where(has_zero & after_first, xp.zeros((), x.dtype), grad)
    grad = xp.where(has_zero & (positions == first), at_first, grad)
    return xp.moveaxis(grad, -1, dim)


def _cumulative(node_class, name, input, dim, dtype):
    node = node_class()
    node.dim = one_dim(name, dim, input._data.ndim)
    node.dtype = sum_dtype(input._data.dtype, dtype)
    return unary(node, input)


def cumsum(input, dim, *, dtype=None):
    return _cumulative(CumsumBackward0, "cumsum", input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    return _cumulative(CumprodBackward0, "cumprod", input, dim, dtype)


# ---------------------------------------------------------------------- explain rules
def _along(name: str, words: str, passes: str):
    """The rule of an op along one dim; ``passes`` may name the dim as ``{dim}``."""

    def rule(node) -> Rule:
        dim = 0 if node.dim is None else node.dim  # None: a 0-d input
        return Rule(
            f"{words} along dim {dim}",
            f"{name}({{x:0}}, dim={dim})",
            passes=(passes.format(dim=dim),),
        )

    return rule


def _logsumexp_rule(node) -> Rule:
    return Rule(
        f"log of the sum of exponentials over dim {node.dims}",
        f"logsumexp({{x:0}}, dim={node.dims})",
        passes=(
            f"the gradient times softmax(x) = exp(x - logsumexp(x)), copied along dim {node.dims}",
        ),
    )


DECLARATIONS = (
    declare(
        "softmax",
        softmax,
        explain={
            SoftmaxBackward0: _along(
                "softmax",
                "softmax",
                "s·(gradient - sum(gradient·s)), s = softmax(x), the sum along dim {dim}",
            )
        },
    ),
    declare(
        "log_softmax",
        log_softmax,
        explain={
            LogSoftmaxBackward0: _along(
                "log_softmax",
                "log of softmax",
                "gradient - softmax(x)·sum(gradient), the sum along dim {dim}",
            )
        },
    ),
    declare("logsumexp", logsumexp, explain={LogsumexpBackward0: _logsumexp_rule}),
    declare(
        "cumsum",
        cumsum,
        explain={
            CumsumBackward0: _along(
                "cumsum",
                "running sum",
                "the gradient summed from the end along dim {dim} (each element is in every "
                "later running sum)",
            )
        },
    ),
    declare(
        "cumprod",
        cumprod,
        explain={
            CumprodBackward0: _along(
                "cumprod",
                "running product",
                "for each element i, the sum over j ≥ i of gradient_j times running product j "
                "without x_i (along dim {dim})",
            )
        },
    ),
    explain_nodes(  # cumsum's VJP, recorded when the backward is
        {
            ReverseCumsumBackward: _along(
                "reverse_cumsum",
                "sum from the end",
                "the running sum of the gradient along dim {dim}",
            )
        }
    ),
)
