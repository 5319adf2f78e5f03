"""Convolution: conv1d and conv2d (one op for any number of spatial dimensions) and their VJPs.

The math, for an input padded with zeros, a kernel offset ``k`` and an output position ``p``::

    out[n, o, p] = b[o] + sum over c in o's group, k of  w[o, c, k] * x_pad[n, c, p*stride + k*dil]

Gathering every window into columns, ``cols[n, (c, k), p] = x_pad[n, c, p*stride + k*dil]``
(im2col), makes it one matrix product per group: ``out[n, g] = W[g] @ cols[n, g]``, where
``W[g]`` is the group's weight as an ``(out/groups, in/groups * kernel)`` matrix. The VJPs are
matrix products too: ``grad_W[g] = sum_n g[n, g] @ cols[n, g]^T`` and
``grad_cols[n, g] = W[g]^T @ g[n, g]``, and the input's gradient is col2im(grad_cols): every
column entry added back onto the pixel it was read from (col2im is the adjoint of im2col).

Two paths, one formula:

* The plain forward and backward run on raw arrays: BLAS matrix products, im2col/col2im as one
  array copy or addition per kernel offset (never a loop over pixels or the batch), in
  conv_arrays.py; the forward's columns are kept for the weight's gradient. On plain arrays
  the temporaries (the padded input, the columns, the gradient's wide grid) live in reused
  per-thread scratch memory, and the kept columns in a pool of blocks reused once released
  (conv_scratch.py: fresh ones page-faulted ~10 MB per step of the issue's layer). A depthwise
  convolution (one input channel per group) skips the columns: conv_depthwise.py.
* ``create_graph=True`` runs the same VJP with differentiable ops: im2col and col2im are the
  ops ``Im2ColBackward0`` and ``Col2ImBackward0`` (PyTorch's names for unfold and fold), each
  the other's VJP, joined by einsum. So derivatives of any order exist.

The convolution is linear in the input and in the weight (and adds the bias), so its forward
derivative (JVP) is ``conv(dx, w) + conv(x, dw) + db``, each share only where that input has a
tangent; im2col and col2im are linear, their JVPs are themselves applied to the tangent.

The arguments are checked as PyTorch checks them (conv_checks.py). The public functions and the
nodes' explain rules are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
"""

from __future__ import annotations

import operator

from ..backend import xp
from ..batching import BatchedArray
from ..graph.grad_mode import grad_state
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from . import conv_depthwise
from .apply import nary, replace_saved, tensor_argument
from .conv_arrays import ConvGeometry, batched_input_grad, columns_to_image, product_of
from .conv_checks import check_bias_dtype, check_dtypes, check_shapes, int_list
from .conv_scratch import scratch
from .declare import declare, explain_nodes
from .einsum import einsum
from .explain_rule import Rule
from .jvp_rules import linear
from .products import sum_of_shares
from .saved_names import SavedNames, bias_sizes, value
from .saved_tensors import HOOKS
from .shape import run


# ---------------------------------------------------------------------------------- the ops
class Im2ColBackward0(Op):
    """im2col (PyTorch's unfold) with padding, stride and dilation. Its VJP is col2im, and
    col2im's is im2col: both linear, so every derivative order exists."""

    __slots__ = ("geometry",)

    @staticmethod
    def forward(ctx, x):
        return ctx.geometry.columns(x)

    @staticmethod
    def backward(ctx, g):
        node = Col2ImBackward0()
        node.geometry = ctx.geometry
        node.channels = g.shape[1] // product_of(ctx.geometry.kernel)
        return run(node, g)

    jvp = staticmethod(linear)


class Col2ImBackward0(Op):
    """col2im (PyTorch's fold): the adjoint of ``Im2ColBackward0``."""

    __slots__ = ("geometry", "channels")

    @staticmethod
    def forward(ctx, cols):
        return columns_to_image(ctx.geometry, cols, ctx.channels)

    @staticmethod
    def backward(ctx, g):
        node = Im2ColBackward0()
        node.geometry = ctx.geometry
        return run(node, g)

    jvp = staticmethod(linear)


class ConvolutionBackward0(Op):
    """``conv{d}d(x, w, b)`` on batched input; ``b`` None without a bias (an input all the same,
    with no edge, as in PyTorch's graph: ``has_bias`` tells). ``keep_columns``: whether the
    forward hands its columns over for the weight's gradient (see ``convolve``), through
    ``columns`` (the depthwise path has none: its backward reads the saved input)."""

    __slots__ = ("geometry", "groups", "has_bias", "keep_columns", "columns")
    save = SAVE_INPUTS
    saved_names = SavedNames(
        input=0,
        weight=1,
        bias_sym_sizes_opt=value(bias_sizes),
        dilation=value(lambda node: node.geometry.dilation),
        groups=value("groups"),
        output_padding=value(lambda node: (0,) * len(node.geometry.stride)),
        padding=value(lambda node: node.geometry.before),
        stride=value(lambda node: node.geometry.stride),
        transposed=value(lambda node: False),
    )

    @staticmethod
    def forward(ctx, x, w, b):
        groups = ctx.groups
        if conv_depthwise.applies(x, w, groups):
            ctx.columns = None  # the weight's gradient reads the input's slices instead
            return conv_depthwise.forward(ctx.geometry, x, w, b)
        plain = type(x) is xp.ndarray and type(w) is xp.ndarray
        # A plain array's columns are built in scratch memory (conv_scratch.py); kept for the
        # weight's gradient, in a pooled block that is reused once the node has let go of it.
        if plain:
            cols = ctx.geometry.scratch_columns(x, keep=ctx.keep_columns)
        else:
            cols = ctx.geometry.columns(x)
        n, o, length = x.shape[0], w.shape[0], cols.shape[-1]
        per_weight = product_of(w.shape[1:])  # the inputs of one output: in/groups * kernel
        if groups == 1:
            out = xp.matmul(w.reshape(o, per_weight), cols)
        else:
            out = xp.matmul(
                w.reshape(groups, o // groups, per_weight),
                cols.reshape(n, groups, per_weight, length),
            )
        out = out.reshape((n, o) + ctx.geometry.out)
        if b is not None:
            out += b.reshape((o,) + (1,) * (out.ndim - 2))
        ctx.columns = cols if ctx.keep_columns else None
        return out

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return _recorded_vjp(ctx, g)
        saved = ctx.saved_tensors
        w = saved[1]
        edges = ctx._next
        geometry, groups = ctx.geometry, ctx.groups
        n, o = g.shape[:2]
        length = product_of(geometry.out)
        grad_x = grad_w = grad_b = None
        if edges[1] is not None:
            grad_w = _weight_grad(ctx, saved, g, w)
        if edges[0] is not None:
            if type(g) is BatchedArray or type(w) is BatchedArray:  # vmap
                grad_x = batched_input_grad(geometry, g, w, groups)
            elif conv_depthwise.applies(g, w, groups):
                grad_x = conv_depthwise.input_grad(geometry, g, w, w.shape[1] * groups)
            else:
                grad_x = geometry.input_grad(g, w, groups)
        if edges[2] is not None:
            grad_b = g.reshape(n, o, length).sum(axis=2).sum(axis=0)
        return grad_x, grad_w, grad_b

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # conv(dx, w) + conv(x, dw) + db (the bias's tangent broadcast along the positions).
        x, w = primals[0], primals[1]
        tangent_x, tangent_w, tangent_b = tangents
        geometry, groups = ctx.geometry, ctx.groups
        return sum_of_shares(
            (
                None if tangent_x is None else convolve(geometry, groups, tangent_x, w),
                None if tangent_w is None else convolve(geometry, groups, x, tangent_w),
                None
                if tangent_b is None
                else tangent_b.reshape((-1,) + (1,) * len(geometry.kernel)),
            )
        )


def _weight_grad(ctx, saved: tuple, g, w):
    """``grad_W[g] = sum_n g[n, g] @ cols[n, g]^T`` on arrays. The columns: the forward's
    (saved last) when it kept them; else built again from the saved input (a depthwise forward
    keeps none; nor does one whose weight did not require grad then), in scratch memory on
    plain arrays."""
    geometry, groups = ctx.geometry, ctx.groups
    x = saved[0]
    plain = type(x) is xp.ndarray and type(g) is xp.ndarray
    if len(saved) == 3:
        if plain and conv_depthwise.applies(g, w, groups):
            return conv_depthwise.weight_grad(geometry, g, x, w.shape)
        # (vmap of the backward alone also lands here: the samples' columns)
        cols = geometry.scratch_columns(x) if plain else geometry.columns(x)
    else:
        cols = saved[-1]
    n, o = g.shape[:2]
    length = product_of(geometry.out)
    per_weight = product_of(w.shape[1:])
    cols = cols.reshape(n, groups, per_weight, length)
    # sum_n cols[n] @ g[n]^T. Measured with OpenBLAS: a contiguous copy of g^T pays off once
    # the products are large (many columns per output), not for a first layer.
    g_rows = g.reshape(n, groups, o // groups, length).swapaxes(-1, -2)
    if plain:
        if per_weight > 32:
            rows = scratch("conv gradient rows", g_rows.shape, g.dtype)
            xp.copyto(rows, g_rows)
            g_rows = rows
        products = scratch("conv weight products", (n, groups, per_weight, o // groups), g.dtype)
        xp.matmul(cols, g_rows, out=products)
    else:
        if per_weight > 32:
            g_rows = xp.ascontiguousarray(g_rows)
        products = xp.matmul(cols, g_rows)
    return products.sum(axis=0).swapaxes(-1, -2).reshape(w.shape)


def _recorded_vjp(ctx, g: Tensor) -> tuple:
    """The VJP with differentiable ops (``create_graph=True``), in the compact layout."""
    saved = ctx.saved_tensors
    x, w = saved[0], saved[1]
    edges = ctx._next
    geometry, groups = ctx.geometry, ctx.groups
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    length, per_weight = product_of(geometry.out), product_of(w.shape[1:])
    per_group = g.reshape(n, groups, o // groups, length)
    grad_x = grad_w = grad_b = None
    if edges[0] is not None:
        w_groups = w.reshape(groups, o // groups, per_weight)
        grad_cols = einsum("goc,ngol->ngcl", w_groups, per_group)
        node = Col2ImBackward0()
        node.geometry, node.channels = geometry, c
        grad_x = run(node, grad_cols.reshape(n, groups * per_weight, length))
    if edges[1] is not None:
        node = Im2ColBackward0()
        node.geometry = geometry
        cols = run(node, x).reshape(n, groups, per_weight, length)
        grad_w = einsum("ngol,ngcl->goc", per_group, cols).reshape(tuple(w.shape))
    if edges[2] is not None:
        grad_b = g.sum((0,) + tuple(range(2, g.dim())))
    return grad_x, grad_w, grad_b


# ------------------------------------------------------------------------ public functions
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _convolution(name, dims, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    """Check the arguments in PyTorch's order, with its messages, then run the op."""
    tensor_argument(input, name, "input", 1)
    tensor_argument(weight, name, "weight", 2)
    if bias is not None:
        tensor_argument(bias, name, "bias", 3)
        check_bias_dtype(input, bias)
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but "
            f"got input of size: {list(input.shape)}"
        )
    unbatched = input.dim() == dims + 1
    batched_shape = (1,) * unbatched + tuple(input.shape)
    stride = int_list(stride, "stride", name, dims)
    dilation = int_list(dilation, "dilation", name, dims)
    if isinstance(groups, bool) or not hasattr(groups, "__index__"):
        raise TypeError(f"{name}(): argument 'groups' must be int, not {type(groups).__name__}")
    groups = operator.index(groups)
    mode = None
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        mode, padding = padding, (0,) * dims
    else:
        padding = int_list(padding, "padding", name, dims)
    bias_shape = None if bias is None else tuple(bias.shape)
    geometry = check_shapes(
        batched_shape,
        tuple(weight.shape),
        bias_shape,
        stride,
        padding,
        dilation,
        groups,
        dims,
        mode,
    )
    check_dtypes(input, weight)
    x = input.unsqueeze(0) if unbatched else input
    out = convolve(geometry, groups, x, weight, bias)
    return out.squeeze(0) if unbatched else out


def convolve(geometry: ConvGeometry, groups: int, x, weight, bias=None) -> Tensor:
    """The recorded convolution of a batched input whose arguments have been checked."""
    node = ConvolutionBackward0()
    node.geometry, node.groups, node.has_bias = geometry, groups, bias is not None
    # (not under saved-tensor hooks: the backward reads x as unpack_hook gives it back, which
    # may be the input changed in place since, unchecked; columns kept now would be stale)
    node.keep_columns = weight.requires_grad and grad_state.enabled and not HOOKS.stack
    out = nary(node, x, weight, bias)
    columns, node.columns = node.columns, None
    if out._edge is node and columns is not None:
        # Kept with the saved inputs, so the engine frees them with those after backward.
        replace_saved(node, node._saved + (columns,))
    return out


# ---------------------------------------------------------------------- explain rules
def _sizes(values: tuple) -> str:
    """A per-dimension parameter as PyTorch's argument: "2", or "(2, 1)" when they differ."""
    return str(values[0]) if len(set(values)) == 1 else str(values)


def _convolution_rule(node) -> Rule:
    """``conv2d(a, b, c, stride=2)``: the parameters that are not the defaults are shown."""
    geometry = node.geometry
    dims = len(geometry.kernel)
    shown = ""
    if any(s != 1 for s in geometry.stride):
        shown += f", stride={_sizes(geometry.stride)}"
    if geometry.before != geometry.after:
        shown += ", padding='same'"
    elif any(geometry.before):
        shown += f", padding={_sizes(geometry.before)}"
    if any(d != 1 for d in geometry.dilation):
        shown += f", dilation={_sizes(geometry.dilation)}"
    if node.groups != 1:
        shown += f", groups={node.groups}"
    slots = ", ".join(f"{{{slot}:0}}" for slot in "abc"[: 3 if node.has_bias else 2])
    passes = (
        "the gradient spread back through the weight (a transposed convolution)",
        "the gradient times the input's windows, summed over the batch and the positions",
        "the gradient summed over the batch and the positions"
        if node.has_bias
        else "nothing (no bias)",
    )
    return Rule(
        f"{dims}-d convolution (a sliding dot product with the weight)",
        f"conv{dims}d({slots}{shown})",
        passes=passes,
    )


DECLARATIONS = (
    declare("conv1d", conv1d, method=None, explain={ConvolutionBackward0: _convolution_rule}),
    declare("conv2d", conv2d, method=None),  # records ConvolutionBackward0 too
    explain_nodes(  # the ops of the recorded VJP (create_graph=True)
        {
            Im2ColBackward0: Rule(
                "the input's sliding windows as columns (im2col, F.unfold)",
                "im2col({x:0})",
                passes=("the gradient, each entry added onto the pixel it was read from",),
            ),
            Col2ImBackward0: Rule(
                "columns added onto the pixels they were read from (col2im, F.fold)",
                "col2im({x:0})",
                passes=("the gradient's sliding windows as columns (im2col)",),
            ),
        }
    ),
)
