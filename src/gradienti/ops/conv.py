"""Convolution: conv1d and conv2d (one op for any number of spatial dimensions), their VJPs,
and PyTorch's argument checks.

The math, for an input padded with zeros, a kernel offset ``k`` and an output position ``p``::

    out[n, o, p] = b[o] + sum over c in o's group, k of  w[o, c, k] * x_pad[n, c, p*stride + k*dil]

Gathering every window into columns, ``cols[n, (c, k), p] = x_pad[n, c, p*stride + k*dil]``
(im2col), makes it one matrix product per group: ``out[n, g] = W[g] @ cols[n, g]``, where
``W[g]`` is the group's weight as an ``(out/groups, in/groups * kernel)`` matrix. The VJPs are
matrix products too: ``grad_W[g] = sum_n g[n, g] @ cols[n, g]^T`` and
``grad_cols[n, g] = W[g]^T @ g[n, g]``, and the input's gradient is col2im(grad_cols): every
column entry added back onto the pixel it was read from (col2im is the adjoint of im2col).

Two paths, one formula:

* The plain backward runs on raw arrays (``ConvolutionBackward0.backward``): BLAS matrix
  products, im2col/col2im as one array copy or addition per kernel offset (never a loop over
  pixels or the batch); the forward's columns are kept for the weight's gradient.
* ``create_graph=True`` runs the same VJP with differentiable ops: im2col and col2im are the
  ops ``Im2ColBackward0`` and ``Col2ImBackward0`` (PyTorch's names for unfold and fold), each
  the other's VJP, joined by einsum. So derivatives of any order exist.

The convolution is linear in the input and in the weight (and adds the bias), so its forward
derivative (JVP) is ``conv(dx, w) + conv(x, dw) + db``, each share only where that input has a
tangent; im2col and col2im are linear, their JVPs are themselves applied to the tangent.

The input's gradient never builds the gradient's columns (as large as k*k inputs): per kernel
offset, one product ``W_k^T @ g`` is added onto the pixels that offset read, while it is hot
in the cache. With stride 1 it takes the "wide" layout: the gradient's rows padded with zeros to
the padded input's row length, so that each offset is one shift of the flattened image and the
additions run over long contiguous rows; the extra zeros add nothing.

The public functions and the nodes' explain rules are declared in ``DECLARATIONS`` at the
bottom (see ops/declare.py).
"""

from __future__ import annotations

import operator
from functools import lru_cache
from itertools import product

from ..backend import CPP_TYPE_NAMES, LEGACY_TYPE_NAMES, SCALAR_TYPE_NAMES, xp
from ..batching import BatchedArray, along_first_axis
from ..graph.grad_mode import grad_state
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import nary, replace_saved, tensor_argument
from .declare import declare, explain_nodes
from .einsum import einsum
from .explain_rule import Rule
from .jvp_rules import linear
from .products import sum_of_shares
from .saved_names import SavedNames, bias_sizes, value
from .shape import run

as_strided = xp.lib.stride_tricks.as_strided


def _prod(sizes) -> int:
    count = 1
    for size in sizes:
        count *= size
    return count


# ------------------------------------------------------------------ geometry, im2col, col2im
class ConvGeometry:
    """The sizes of one convolution over ``d`` spatial dimensions (tuples of ``d`` ints):
    input ``size``, ``kernel``, ``stride``, ``dilation``, zero padding ``before``/``after``
    each dimension; derived: the ``padded`` and ``out`` sizes, ``wide``: whether the input's
    gradient takes the wide layout (stride 1, at most 50% extra columns), and the index plans
    below. Immutable, and cached per call signature (see ``_check_shapes``)."""

    __slots__ = (
        "size", "kernel", "stride", "dilation", "before", "after", "padded", "out", "wide",
        "wide_grid", "interior", "windows", "shifts",
    )  # fmt: skip

    def __init__(self, size, kernel, stride, dilation, before, after) -> None:
        self.size, self.kernel, self.stride = size, kernel, stride
        self.dilation, self.before, self.after = dilation, before, after
        self.padded = tuple(n + a + b for n, a, b in zip(size, before, after))
        self.out = tuple(
            (p - d * (k - 1) - 1) // s + 1
            for p, k, s, d in zip(self.padded, kernel, stride, dilation)
        )
        # The wide layout's output grid: the output's first size, then the padded sizes.
        self.wide_grid = self.out[:1] + self.padded[1:]
        self.wide = all(s == 1 for s in stride) and 2 * _prod(self.wide_grid) <= 3 * _prod(self.out)
        # Where the unpadded input sits in the padded grid (None: there is no padding).
        every = (slice(None), slice(None))
        self.interior = None
        if any(before) or any(after):
            self.interior = every + tuple(slice(b, b + n) for b, n in zip(before, size))
        offsets = list(product(*(range(k) for k in kernel)))
        # Per kernel offset: the slices of the padded grid it reads for all outputs, and its
        # shift in the flattened padded image (wide layout).
        self.windows = [
            every
            + tuple(
                slice(k * d, k * d + s * (o - 1) + 1, s)
                for k, d, s, o in zip(offset, dilation, stride, self.out)
            )
            for offset in offsets
        ]
        row_lengths = [_prod(self.padded[i + 1 :]) for i in range(len(self.padded))]
        self.shifts = [
            sum(k * d * r for k, d, r in zip(offset, dilation, row_lengths)) for offset in offsets
        ]

    def _unpadded(self, grid):
        if self.interior is None:
            return grid
        return xp.ascontiguousarray(grid[self.interior])

    @along_first_axis(1)  # (vmap: the samples' images are more images)
    def columns(self, x):
        """im2col: ``(N, C, *size)`` -> ``(N, C * prod(kernel), prod(out))``, kernel offsets
        inner to channels (the weight's layout): one copy of a strided view of the windows,
        ``view[n, c, k, p] = padded[n, c, p * stride + k * dilation]`` (per dimension)."""
        n, c = x.shape[:2]
        if self.interior is not None:
            grid = xp.zeros((n, c) + self.padded, dtype=x.dtype)
            grid[self.interior] = x
        else:
            grid = x
        spatial = grid.strides[2:]
        view = as_strided(
            grid,
            (n, c) + self.kernel + self.out,
            grid.strides[:2]
            + tuple(d * step for d, step in zip(self.dilation, spatial))
            + tuple(s * step for s, step in zip(self.stride, spatial)),
            writeable=False,
        )
        cols = xp.ascontiguousarray(view)
        return cols.reshape(n, c * _prod(self.kernel), _prod(self.out))

    def image(self, cols, n: int, c: int):
        """col2im, the adjoint of ``columns``: ``(N, C * prod(kernel), prod(out))`` ->
        ``(N, C, *size)``, each entry added onto the input pixel it was read from."""
        grid = xp.zeros((n, c) + self.padded, dtype=cols.dtype)
        per_offset = cols.reshape((n, c, _prod(self.kernel)) + self.out)
        for k, window in enumerate(self.windows):
            grid[window] += per_offset[:, :, k]
        return self._unpadded(grid)

    def input_grad(self, g, w, groups: int):
        """``image(W^T @ g)`` without the columns: per kernel offset k, ``W_k^T @ g`` (one
        matrix product per group) is added onto the input pixels that offset read. In the wide
        layout each offset is one shift of the flattened padded image (long contiguous runs);
        g is widened with zeros, so the extra columns add nothing (only a weight holding inf or
        NaN turns them into NaN, as 0 * inf: a gradient that is not finite anyway)."""
        n, o = g.shape[:2]
        c_group = w.shape[1]
        c = c_group * groups
        # (K, groups, in/groups, out/groups): each offset's transposed weight, per group.
        w_t = xp.ascontiguousarray(
            w.reshape(groups, o // groups, c_group, _prod(self.kernel)).transpose(3, 0, 2, 1)
        )
        if self.wide:
            grid = xp.zeros((n, o) + self.wide_grid, dtype=g.dtype)
            grid[(slice(None), slice(None)) + tuple(slice(0, size) for size in self.out)] = g
            g_groups = grid.reshape(n, groups, o // groups, _prod(self.wide_grid))
        else:
            g_groups = g.reshape(n, groups, o // groups, _prod(self.out))
        length = g_groups.shape[-1]
        product_k = xp.empty((n, groups, c_group, length), dtype=g.dtype)
        if not self.wide:
            grid = xp.zeros((n, c) + self.padded, dtype=g.dtype)
            for k, window in enumerate(self.windows):
                group_product(w_t[k], g_groups, out=product_k)
                grid[window] += product_k.reshape((n, c) + self.out)
            return self._unpadded(grid)
        shifts = self.shifts
        plane = _prod(self.padded)
        # Spare room at the end: the last offsets' extra columns reach past the last image.
        flat = xp.zeros(n * c * plane + shifts[-1], dtype=g.dtype)
        for k, shift in enumerate(shifts):
            group_product(w_t[k], g_groups, out=product_k)
            rows = flat[shift : shift + n * c * plane].reshape(n * c, plane)
            rows[:, :length] += product_k.reshape(n * c, length)
        return self._unpadded(flat[: n * c * plane].reshape((n, c) + self.padded))


@along_first_axis(1)  # (vmap: the samples' columns are more columns)
def _image(geometry: ConvGeometry, cols, channels: int):
    return geometry.image(cols, cols.shape[0], channels)


def _batched_input_grad(geometry: ConvGeometry, g, w, groups: int):
    """``input_grad`` under vmap: with per-sample weights, col2im of ``W^T g`` (batched
    products); else the samples' gradients are more images."""
    if type(w) is not BatchedArray:
        return along_first_axis(1)(ConvGeometry.input_grad)(geometry, g, w, groups)
    n, o = g.shape[:2]
    per_weight = _prod(w.shape[1:])
    grad_cols = xp.einsum(
        "goc,ngol->ngcl",
        w.reshape(groups, o // groups, per_weight),
        g.reshape(n, groups, o // groups, -1),
    )
    return _image(geometry, grad_cols.reshape(n, groups * per_weight, -1), w.shape[1] * groups)


def group_product(a, b, out):
    """``a @ b`` per group, into ``out``: ``a`` (G, M, 1) and ``b`` (N, G, 1, L) make an outer
    product (depthwise convolution), one broadcast multiplication instead of N*G tiny BLAS calls."""
    if a.shape[-1] == 1:
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)


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
        node.channels = g.shape[1] // _prod(ctx.geometry.kernel)
        return run(node, g)

    jvp = staticmethod(linear)


class Col2ImBackward0(Op):
    """col2im (PyTorch's fold): the adjoint of ``Im2ColBackward0``."""

    __slots__ = ("geometry", "channels")

    @staticmethod
    def forward(ctx, cols):
        return _image(ctx.geometry, cols, ctx.channels)

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
    ``columns``."""

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
        cols = ctx.geometry.columns(x)
        n, o, length = x.shape[0], w.shape[0], cols.shape[-1]
        per_weight = _prod(w.shape[1:])  # the inputs of one output: in/groups * kernel
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
        length = _prod(geometry.out)
        grad_x = grad_w = grad_b = None
        if edges[1] is not None:
            # the forward's columns, saved last (a weight that requires grad keeps them)
            per_weight = _prod(w.shape[1:])
            cols = saved[-1].reshape(n, groups, per_weight, length)
            # sum_n cols[n] @ g[n]^T. Measured with OpenBLAS: a contiguous copy of g^T pays off
            # once the products are large (many columns per output), not for a first layer.
            g_rows = g.reshape(n, groups, o // groups, length).swapaxes(-1, -2)
            if per_weight > 32:
                g_rows = xp.ascontiguousarray(g_rows)
            grad_w = xp.matmul(cols, g_rows).sum(axis=0).swapaxes(-1, -2).reshape(w.shape)
        if edges[0] is not None:
            if type(g) is BatchedArray or type(w) is BatchedArray:  # vmap
                grad_x = _batched_input_grad(geometry, g, w, groups)
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


def _recorded_vjp(ctx, g: Tensor) -> tuple:
    """The VJP with differentiable ops (``create_graph=True``), in the compact layout."""
    saved = ctx.saved_tensors
    x, w = saved[0], saved[1]
    edges = ctx._next
    geometry, groups = ctx.geometry, ctx.groups
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    length, per_weight = _prod(geometry.out), _prod(w.shape[1:])
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
        _check_bias_dtype(input, bias)
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but "
            f"got input of size: {list(input.shape)}"
        )
    unbatched = input.dim() == dims + 1
    batched_shape = (1,) * unbatched + tuple(input.shape)
    stride = _int_list(stride, "stride", name, dims)
    dilation = _int_list(dilation, "dilation", name, dims)
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
        padding = _int_list(padding, "padding", name, dims)
    bias_shape = None if bias is None else tuple(bias.shape)
    geometry = _check_shapes(
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
    _check_dtypes(input, weight)
    x = input.unsqueeze(0) if unbatched else input
    out = convolve(geometry, groups, x, weight, bias)
    return out.squeeze(0) if unbatched else out


def convolve(geometry: ConvGeometry, groups: int, x, weight, bias=None) -> Tensor:
    """The recorded convolution of a batched input whose arguments have been checked."""
    node = ConvolutionBackward0()
    node.geometry, node.groups, node.has_bias = geometry, groups, bias is not None
    node.keep_columns = weight.requires_grad and grad_state.enabled
    out = nary(node, x, weight, bias)
    columns, node.columns = node.columns, None
    if out._edge is node and node.keep_columns:
        # Kept with the saved inputs, so the engine frees them with those after backward.
        replace_saved(node, node._saved + (columns,))
    return out


def _int_list(value, argument: str, function: str, dims: int) -> tuple:
    """An int (repeated ``dims`` times) or a sequence of ints, as a tuple."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = None if isinstance(value, bool) else [value] * dims
    try:
        if items is None or any(isinstance(item, bool) for item in items):
            raise TypeError
        return tuple(operator.index(item) for item in items)
    except TypeError:
        raise TypeError(
            f"{function}(): argument '{argument}' must be tuple of ints, not {type(value).__name__}"
        ) from None


def _matched(values: tuple, argument: str, spatial: int) -> tuple:
    """A parameter as ``spatial`` ints: one value stands for all (PyTorch's rule)."""
    if len(values) == 1:
        return values * spatial
    if len(values) != spatial:
        raise RuntimeError(
            f"expected {argument} to be a single integer value or a list of {spatial} values to "
            f"match the convolution dimensions, but got {argument}={list(values)}"
        )
    return values


@lru_cache(maxsize=256)
def _check_shapes(shape, weight_shape, bias_shape, stride, padding, dilation, groups, dims, mode):
    """PyTorch's checks of the parameters and shapes, in its order; the geometry if all pass.
    Cached (its arguments are tuples and ints): a training loop repeats the same few calls."""
    w_shape = list(weight_shape)
    if len(w_shape) < 3:
        raise RuntimeError("weight should have at least three dimensions")
    spatial = len(w_shape) - 2
    stride = _matched(stride, "stride", spatial)
    padding = _matched(padding, "padding", spatial)
    dilation = _matched(dilation, "dilation", spatial)
    _matched((0,) * dims, "output_padding", spatial)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if len(shape) != len(w_shape):
        raise RuntimeError(
            f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-dimensional weight "
            f"{w_shape}, but got {len(shape)}-dimensional input of size {list(shape)} instead"
        )
    if w_shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {w_shape} instead"
        )
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{w_shape}] instead"
        )
    if shape[1] != w_shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {w_shape}, expected input{list(shape)} to "
            f"have {w_shape[1] * groups} channels, but got {shape[1]} channels instead"
        )
    kernel = tuple(w_shape[2:])
    if mode == "same":  # total padding d*(k-1), the odd one out after (PyTorch's split)
        before = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        after = tuple(d * (k - 1) - b for k, d, b in zip(kernel, dilation, before))
    else:
        before = after = padding
    padded = [n + b + a for n, b, a in zip(shape[2:], before, after)]
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < r for p, r in zip(padded, reach)) or 0 in kernel:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). Kernel size can't be greater than "
            "actual input size"
        )
    if bias_shape is not None and (len(bias_shape) != 1 or bias_shape[0] != w_shape[0]):
        raise RuntimeError(
            f"Given weight of size {w_shape}, expected bias to be 1-dimensional with "
            f"{w_shape[0]} elements, but got bias of size {list(bias_shape)} instead"
        )
    return ConvGeometry(tuple(shape[2:]), kernel, stride, dilation, before, after)


def _check_bias_dtype(input, bias) -> None:
    if bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({CPP_TYPE_NAMES[input.dtype.name]}) and bias type "
            f"({CPP_TYPE_NAMES[bias.dtype.name]}) should be the same"
        )


def _check_dtypes(input, weight) -> None:
    x_name, w_name = input.dtype.name, weight.dtype.name
    if x_name != w_name:
        if x_name == "float32":  # the message of PyTorch's MKLDNN-capable float path
            legacy = "CPUBoolType" if w_name == "bool" else f"torch.{LEGACY_TYPE_NAMES[w_name]}"
            raise RuntimeError(
                f"Input type (torch.FloatTensor) and weight type ({legacy}) should be the same "
                "or input should be a MKLDNN tensor and weight is a dense tensor"
            )
        raise RuntimeError(
            f"expected scalar type {SCALAR_TYPE_NAMES[x_name]} but found "
            f"{SCALAR_TYPE_NAMES[w_name]}"
        )
    if x_name == "bool":
        raise NotImplementedError("\"slow_conv2d_cpu\" not implemented for 'Bool'")


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
