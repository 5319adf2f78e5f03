"""Pooling: max_pool2d, avg_pool2d and adaptive_avg_pool2d (their 1-d forms are in
ops/pooling_1d.py).

Every window of a pooling op is the same grid of kernel taps shifted by the stride, so the
value under tap ``(i, j)`` in every window at once is one strided view of the (padded) input:
``plane[..., i*dh :: sh, j*dw :: sw]`` cut to the output size. Each op is a loop over the
kh*kw taps of whole-array operations on those views, never over pixels or the batch. When the
windows tile the input (stride = kernel, no padding) these views are the reshape
``(..., oh, kh, ow, kw)`` of the input, and the backward passes write each view once instead
of accumulating into a zeroed plane. (Reducing that reshape over its kernel axes is slower in
NumPy than the tap loop: a reduction over non-adjacent axes walks the array badly.)

Max pooling keeps, per window, which tap won (``winner``): PyTorch's choice is the first
maximum in row-major tap order, except that a NaN wins and a later NaN wins over it; a window
of only -inf (or only padding) keeps the first tap inside the input, row and column apart.
The flat indices PyTorch returns (into each H*W plane) are computed from it on demand.

The VJPs are ops themselves, so double backward works: max pool's is a scatter of the
gradient to the winners (``MaxPool2DWithIndicesBackwardBackward0``), whose own VJP gathers at
the winners; average pooling is linear, its VJP spreads each gradient over its window
(divided like the forward), and that spread's VJP is average pooling again. Adaptive average
pooling is ``rows @ x @ cols^T`` with 0/1 membership matrices, divided by the window sizes.

Forward derivatives (JVPs): max pooling's tangent is the input's tangent gathered at the
winners (as PyTorch's); every other op here is linear, so its JVP is the op itself applied to
the tangent.

nn/functional.py calls these functions; this module declares no public op, only its nodes'
explain rules (``DECLARATIONS`` at the bottom; the rules are in ops/pooling_explain.py).
"""

from __future__ import annotations

from ..backend import xp
from ..batching import along_first_axis
from ..graph.dual import tangent_of
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from . import pooling_explain
from .apply import tensor_argument, unary
from .declare import explain_nodes
from .jvp_rules import linear
from .pooling_checks import (
    INTEGER_TYPES,
    avg_pool_arguments,
    check_adaptive_input,
    check_adaptive_sizes,
    check_lengths,
    check_planes_dim,
    divisor_argument,
    int_list,
    list_with_default,
    max_pool_arguments,
    not_implemented,
    pair,
    pooled_sizes,
)
from .reduce import mean
from .saved_names import SavedNames, held, value
from .scatter import gather
from .shape import ViewBackward0, view_op


# ------------------------------------------------------------------ where the windows lie
class Windows:
    """The window grid of one pooling call, per axis (rows, columns): kernel, stride,
    padding, dilation, input size and output size."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "size", "out", "extent")

    def __init__(self, kernel, stride, padding, dilation, size, out) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.dilation, self.size, self.out = dilation, size, out
        # The padded plane that holds every tap: the input and its padding, and in ceil mode
        # the part of a last window that hangs past the right padding too.
        self.extent = tuple(
            max(n + 2 * p, (o - 1) * s + (k - 1) * d + 1)
            for n, k, s, p, d, o in zip(size, kernel, stride, padding, dilation, out)
        )

    def taps(self):
        """(tap number, index) per kernel tap in row-major order; the index takes from the
        padded plane the value under that tap in every window, as a strided view."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        for i in range(kh):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            for j in range(kw):
                yield i * kw + j, (..., rows, slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))

    @property
    def tiles(self) -> bool:
        """Whether every input element lies in at most one window and no window in padding."""
        return self.kernel == self.stride and self.dilation == (1, 1) and self.extent == self.size

    def pad(self, x, fill):
        """``x`` inside a plane of ``extent`` filled with ``fill``; ``x`` itself if it fits."""
        if self.extent == self.size:
            return x
        (ph, pw), (h, w) = self.padding, self.size
        plane = xp.full(x.shape[:-2] + self.extent, fill, dtype=x.dtype)
        plane[..., ph : ph + h, pw : pw + w] = x
        return plane

    def crop(self, plane):
        """The input's part of a padded plane."""
        if self.extent == self.size:
            return plane
        (ph, pw), (h, w) = self.padding, self.size
        return plane[..., ph : ph + h, pw : pw + w]

    def new_plane(self, lead: tuple, dtype):
        """A plane to scatter into: uninitialised only where the windows cover every element."""
        if self.tiles and all(o * k == n for o, k, n in zip(self.out, self.kernel, self.size)):
            return xp.empty(lead + self.size, dtype=dtype)
        return xp.zeros(lead + self.extent, dtype=dtype)

    def starts(self, axis: int):
        """Where each window begins along ``axis``, in input coordinates (negative in padding)."""
        return xp.arange(self.out[axis]) * self.stride[axis] - self.padding[axis]


def _windows(shape: tuple, kernel, stride, padding, dilation, ceil: bool) -> Windows:
    out = pooled_sizes(shape, kernel, stride, padding, dilation, ceil)
    return Windows(kernel, stride, padding, dilation, tuple(shape[-2:]), out)


def _spread(term, windows: Windows, lead: tuple, dtype):
    """The adjoint of reading the taps: ``term(tap number)`` (output-shaped) added back under
    that tap of every window; the input-sized result."""
    plane = windows.new_plane(lead, dtype)
    overlap = not windows.tiles
    for number, index in windows.taps():
        if overlap:
            plane[index] += term(number)
        else:
            plane[index] = term(number)
    return windows.crop(plane)


# ------------------------------------------------------------------------- max pooling
def _lowest(dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def _winner_dtype(windows: Windows):
    return xp.uint8 if windows.kernel[0] * windows.kernel[1] <= 255 else xp.int32


@along_first_axis()  # (vmap: the samples' planes are more planes)
def _max_pool(x, windows: Windows, track: bool):
    """(maximum of every window, winning tap number or None when not tracked)."""
    fill = _lowest(x.dtype)
    plane = windows.pad(x, fill)
    taps = list(windows.taps())
    best = plane[taps[0][1]].copy()
    if not track:
        for _, index in taps[1:]:
            xp.maximum(best, plane[index], out=best)  # NaN propagates, as in PyTorch
        return best, None
    winner = _running_winner(plane, taps, best, windows, nan_aware=False)
    if x.dtype.kind == "f" and xp.isnan(best).any():
        best = plane[taps[0][1]].copy()
        winner = _running_winner(plane, taps, best, windows, nan_aware=True)
    stuck = best == fill
    if stuck.any():  # nothing above -inf: PyTorch keeps its first in-input tap
        winner = xp.where(stuck, _first_inside_tap(windows).astype(winner.dtype), winner)
    return best, winner


def _running_winner(plane, taps, best, windows: Windows, nan_aware: bool):
    """Update ``best`` in place tap by tap; return which tap improved on it last.

    PyTorch replaces the running maximum when ``value > max`` (or value is NaN). A later tap
    has a larger number, so the last improving tap is the largest ``number * improved``.
    """
    number_type = _winner_dtype(windows)
    winner = xp.zeros(best.shape, dtype=number_type)
    improved_number = xp.empty(best.shape, dtype=number_type)
    for number, index in taps[1:]:
        value = plane[index]
        improved = value > best
        if nan_aware:
            improved |= xp.isnan(value)
        xp.maximum(best, value, out=best)
        xp.multiply(improved, number_type(number), out=improved_number)
        xp.maximum(winner, improved_number, out=winner)
    return winner


def _first_inside_tap(windows: Windows):
    """Per window, the tap at its first row and first column at or after 0 (PyTorch's
    default index when no value beats -inf)."""
    firsts = []
    for axis in (0, 1):
        before = xp.maximum(-windows.starts(axis), 0)
        firsts.append(-(-before // windows.dilation[axis]))  # taps to skip: ceil(before / d)
    return firsts[0][:, None] * windows.kernel[1] + firsts[1][None, :]


def _winner_positions(winner, windows: Windows):
    """(row, column) in the input of each window's winning tap."""
    tap = winner.astype(xp.int64)
    kw = windows.kernel[1]
    rows = windows.starts(0)[:, None] + (tap // kw) * windows.dilation[0]
    cols = windows.starts(1)[None, :] + (tap % kw) * windows.dilation[1]
    return rows, cols


def flat_indices(winner, windows: Windows):
    """PyTorch's indices: the winning tap's position in the flattened H*W input plane."""
    rows, cols = _winner_positions(winner, windows)
    return rows * windows.size[1] + cols


@along_first_axis(0, 1)
def _scatter_to_winners(g, winner, windows: Windows):
    """Each window's gradient added at its winning input element."""
    return _spread(lambda number: (winner == number) * g, windows, g.shape[:-2], g.dtype)


@along_first_axis(0, 1)
def _gather_at_winners(gg, winner, windows: Windows):
    """Per window, ``gg`` at its winning input element (the adjoint of the scatter)."""
    plane = windows.pad(gg, 0)
    out = xp.zeros(winner.shape, dtype=gg.dtype)
    for number, index in windows.taps():
        out += (winner == number) * plane[index]
    return out


class MaxPool2DWithIndicesBackward0(Op):
    __slots__ = ("windows", "track", "winner", "arguments")
    save = SAVE_INPUTS  # as PyTorch: modifying the input in place invalidates the backward
    # PyTorch also saves the indices (``result1``): the VJP reads the winning taps instead, so
    # only the hooks and ``_saved_result1`` compute them. ``arguments``: the int lists given.
    saved_names = SavedNames(
        self=0,
        result1=held("result1"),
        ceil_mode=value(lambda node: node.arguments[4]),
        dilation=value(lambda node: node.arguments[3]),
        kernel_size=value(lambda node: node.arguments[0]),
        padding=value(lambda node: node.arguments[2]),
        stride=value(lambda node: node.arguments[1]),
    )

    @property
    def result1(self):
        return flat_indices(self.winner, self.windows)

    @staticmethod
    def forward(ctx, x):
        out, ctx.winner = _max_pool(x, ctx.windows, ctx.track)
        return out

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # noqa: B018 - raises PyTorch's error on a second backward
        if type(g) is Tensor:
            node = MaxPool2DWithIndicesBackwardBackward0()
            node.windows, node.winner = ctx.windows, ctx.winner
            return unary(node, g)
        return _scatter_to_winners(g, ctx.winner, ctx.windows)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return _gathered_at_winners(tangents[0], ctx.winner, ctx.windows)


class MaxPool2DWithIndicesBackwardBackward0(Op):
    """Max pooling's VJP as an op: the gradient scattered to the winners."""

    __slots__ = ("windows", "winner")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, g):
        return _scatter_to_winners(g, ctx.winner, ctx.windows)

    @staticmethod
    def backward(ctx, gg):
        if type(gg) is not Tensor:
            return _gather_at_winners(gg, ctx.winner, ctx.windows)
        return _gathered_at_winners(gg, ctx.winner, ctx.windows)

    jvp = staticmethod(linear)


def _gathered_at_winners(values: Tensor, winner, windows: Windows) -> Tensor:
    """Per window, ``values`` (input-shaped) at its winning element, recorded as PyTorch's
    graph: the planes viewed flat, gathered at the flat indices, viewed as the output."""
    rows, cols = _winner_positions(winner, windows)
    (h, w), lead = windows.size, winner.shape[:-2]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = xp.where(inside, rows * w + cols, 0).reshape(lead + (-1,))
    flat = view_op(ViewBackward0, values, values._data.shape[:-2] + (-1,))
    picked = view_op(ViewBackward0, gather(flat, -1, wrap(index, NO_EDGE)), winner.shape)
    if not inside.all():  # windows with no input element (PyTorch's index points past it)
        picked = picked * wrap(inside.astype(picked._data.dtype), NO_EDGE)
    return picked


# --------------------------------------------------------------------- average pooling
def _compute_dtype(dtype):
    """float16 is summed in float32, as PyTorch accumulates half precision."""
    return xp.dtype(xp.float32) if dtype == xp.float16 else dtype


def _avg_divisor(windows: Windows, count_include_pad: bool, divisor_override):
    """PyTorch's divisor per window: the override, or the window's size counting the padding
    (but not what hangs past it in ceil mode), or only the input elements it covers."""
    if divisor_override is not None:
        return divisor_override
    counts = []
    for axis in (0, 1):
        start = windows.starts(axis)
        size, pad = windows.size[axis], windows.padding[axis]
        end = xp.minimum(start + windows.kernel[axis], size + pad)
        inside = xp.minimum(end, size) - xp.maximum(start, 0)
        counts.append(end - start if count_include_pad else xp.maximum(inside, 0))
    divisor = counts[0][:, None] * counts[1][None, :]
    if (divisor == divisor.flat[0]).all():
        return int(divisor.flat[0])  # one divisor for all windows: a scalar is faster
    return xp.where(divisor == 0, 1, divisor)  # a window without input elements sums to 0


def _divide(total, divisor):
    """``total / divisor`` in total's dtype; integers truncate toward zero, as C++ does."""
    if total.dtype.kind != "f":
        quotient = xp.abs(total) // xp.abs(divisor)
        return xp.where((total < 0) != (xp.asarray(divisor) < 0), -quotient, quotient)
    if type(divisor) is int:
        return xp.divide(total, divisor, out=total)
    return xp.divide(total, divisor.astype(total.dtype), out=total)


@along_first_axis()  # (vmap: the samples' planes are more planes)
def _avg_pool(x, windows: Windows, divisor):
    compute = _compute_dtype(x.dtype)
    plane = windows.pad(x, 0)
    taps = windows.taps()
    total = plane[next(taps)[1]].astype(compute)  # a copy, summed into below
    for _, index in taps:
        total += plane[index]
    return _divide(total, divisor).astype(x.dtype, copy=False)


@along_first_axis()  # (vmap: the samples' planes are more planes)
def _avg_spread(g, windows: Windows, divisor):
    """avg_pool2d's VJP: each window's gradient, divided like the forward, over its taps."""
    share = _divide(g.astype(_compute_dtype(g.dtype)), divisor)
    return _spread(lambda _: share, windows, g.shape[:-2], share.dtype).astype(g.dtype, copy=False)


class AvgPool2DBackward0(Op):
    __slots__ = ("windows", "divisor")
    save = SAVE_INPUTS  # as PyTorch: modifying the input in place invalidates the backward

    @staticmethod
    def forward(ctx, x):
        return _avg_pool(x, ctx.windows, ctx.divisor)

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # noqa: B018 - raises PyTorch's error on a second backward
        if type(g) is Tensor:
            return unary(_same_geometry(AvgPool2DBackwardBackward0, ctx), g)
        return _avg_spread(g, ctx.windows, ctx.divisor)

    jvp = staticmethod(linear)


class AvgPool2DBackwardBackward0(Op):
    """avg_pool2d's VJP as an op (linear); its own VJP is avg_pool2d."""

    __slots__ = ("windows", "divisor")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, g):
        return _avg_spread(g, ctx.windows, ctx.divisor)

    @staticmethod
    def backward(ctx, gg):
        if type(gg) is Tensor:
            return unary(_same_geometry(AvgPool2DBackward0, ctx), gg)
        return _avg_pool(gg, ctx.windows, ctx.divisor)

    jvp = staticmethod(linear)


def _same_geometry(node_class, ctx):
    node = node_class()
    node.windows, node.divisor = ctx.windows, ctx.divisor
    return node


# ------------------------------------------------------------ adaptive average pooling
def _adaptive_members(size: int, out: int, dtype):
    """(out, size) 0/1 matrix of which inputs each output window covers, and the window
    sizes: window i is [floor(i*size/out), ceil((i+1)*size/out))."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    position = xp.arange(size)
    members = (position >= start[:, None]) & (position < end[:, None])
    return members.astype(dtype), end - start


class AdaptiveAvgPool2DBackward0(Op):
    __slots__ = ("rows", "cols", "counts")
    save = SAVE_INPUTS  # as PyTorch: modifying the input in place invalidates the backward

    @staticmethod
    def forward(ctx, x):
        return _adaptive_pool(x, ctx)

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # noqa: B018 - raises PyTorch's error on a second backward
        if type(g) is Tensor:
            return unary(_same_members(AdaptiveAvgPool2DBackwardBackward0, ctx), g)
        return _adaptive_spread(g, ctx)

    jvp = staticmethod(linear)


class AdaptiveAvgPool2DBackwardBackward0(Op):
    """adaptive_avg_pool2d's VJP as an op (linear); its own VJP is the pooling again."""

    __slots__ = ("rows", "cols", "counts")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, g):
        return _adaptive_spread(g, ctx)

    @staticmethod
    def backward(ctx, gg):
        if type(gg) is Tensor:
            return unary(_same_members(AdaptiveAvgPool2DBackward0, ctx), gg)
        return _adaptive_pool(gg, ctx)

    jvp = staticmethod(linear)


def _same_members(node_class, ctx):
    node = node_class()
    node.rows, node.cols, node.counts = ctx.rows, ctx.cols, ctx.counts
    return node


def _adaptive_pool(x, ctx):
    """Window sums ``rows @ x @ cols^T``, divided by the window sizes."""
    total = ctx.rows @ (x.astype(ctx.rows.dtype, copy=False) @ ctx.cols.T)
    return (total / ctx.counts).astype(x.dtype, copy=False)


def _adaptive_spread(g, ctx):
    share = g.astype(ctx.rows.dtype, copy=False) / ctx.counts
    return (ctx.rows.T @ share @ ctx.cols).astype(g.dtype, copy=False)


# ------------------------------------------------------------------- public functions
def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    function = "max_pool2d_with_indices" if return_indices else "max_pool2d"
    kernel, strides, pads, dilations = max_pool_arguments(
        function, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    given = (kernel_size, stride, padding, dilation)
    arguments = tuple(
        () if raw is None else (parsed[0],) * 2 if type(raw) not in (tuple, list) else tuple(parsed)
        for raw, parsed in zip(given, (kernel, strides, pads, dilations))
    )
    return max_pool2d_checked(
        input, kernel, strides, pads, dilations, ceil_mode, return_indices, arguments
    )


def max_pool2d_checked(
    input, kernel, stride, padding, dilation, ceil_mode, return_indices, arguments=None
):
    """max_pool2d on parsed int lists (also the 1-d form's body). ``arguments``: kernel_size,
    stride, padding and dilation as PyTorch's node shows them (an int given for two), else
    the lists."""
    check_lengths("max_pool2d", kernel, stride, padding, dilation)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    given_stride, stride = stride, stride or kernel
    windows = _windows(
        input.shape, pair(kernel), pair(stride), pair(padding), pair(dilation), ceil_mode
    )
    if input.dtype.name == "bool":
        raise not_implemented("max_pool2d", input._data.dtype)
    node = MaxPool2DWithIndicesBackward0()
    node.windows = windows
    if arguments is None:
        arguments = tuple(map(tuple, (kernel, given_stride, padding, dilation)))
    node.arguments = arguments + (ceil_mode,)
    # The winners are kept where a gradient, the indices or a tangent (forward AD) need them.
    node.track = (
        bool(return_indices)
        or (grad_state.enabled and input._edge is not None)
        or (MODES.special and tangent_of(input) is not None)
    )
    out = unary(node, input)
    if return_indices:
        return out, wrap(flat_indices(node.winner, windows), NO_EDGE)
    return out


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    kernel, strides, pads = avg_pool_arguments(
        "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad
    )
    divisor = divisor_argument(divisor_override)
    return avg_pool2d_checked(input, kernel, strides, pads, ceil_mode, count_include_pad, divisor)


def avg_pool2d_checked(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor):
    """avg_pool2d on parsed int lists (also the 1-d form's body)."""
    check_lengths("avg_pool2d", kernel, stride, padding)
    if divisor == 0:
        raise RuntimeError("divisor must be not zero")
    check_planes_dim(input.ndim)
    stride = stride or kernel
    windows = _windows(input.shape, pair(kernel), pair(stride), pair(padding), (1, 1), ceil_mode)
    dtype = input._data.dtype
    if dtype.kind != "f" and dtype != xp.int64:
        raise not_implemented("avg_pool2d", dtype)
    node = AvgPool2DBackward0()
    node.windows = windows
    node.divisor = _avg_divisor(windows, count_include_pad, divisor)
    return unary(node, input)


def adaptive_avg_pool2d(input, output_size):
    # As torch.nn.functional: None entries keep the input's size (read before any check).
    output_size = list_with_default(output_size, input.size())
    tensor_argument(input, "adaptive_avg_pool2d", "input", 1)
    sizes = int_list(output_size, "adaptive_avg_pool2d", "output_size", 2)
    if isinstance(output_size, INTEGER_TYPES):
        sizes = sizes * 2
    return adaptive_avg_pool2d_checked(input, sizes)


def adaptive_avg_pool2d_checked(input, sizes: list):
    check_adaptive_sizes(sizes)
    if sizes == [1, 1]:
        return mean(input, (-1, -2), keepdim=True)  # PyTorch's shortcut (MeanBackward1)
    shape = input.shape
    check_adaptive_input(shape)
    if input._data.dtype.kind != "f":
        raise not_implemented("adaptive_avg_pool2d", input._data.dtype)
    compute = _compute_dtype(input._data.dtype)
    node = AdaptiveAvgPool2DBackward0()
    node.rows, row_counts = _adaptive_members(shape[-2], sizes[0], compute)
    node.cols, col_counts = _adaptive_members(shape[-1], sizes[1], compute)
    node.counts = (row_counts[:, None] * col_counts[None, :]).astype(compute)
    return unary(node, input)


DECLARATIONS = (
    explain_nodes(
        {
            MaxPool2DWithIndicesBackward0: pooling_explain.max_pool_rule,
            MaxPool2DWithIndicesBackwardBackward0: pooling_explain.max_pool_backward_rule,
            AvgPool2DBackward0: pooling_explain.avg_pool_rule,
            AvgPool2DBackwardBackward0: pooling_explain.avg_pool_backward_rule,
            AdaptiveAvgPool2DBackward0: pooling_explain.adaptive_avg_pool_rule,
            AdaptiveAvgPool2DBackwardBackward0: pooling_explain.adaptive_avg_pool_backward_rule,
        }
    ),
)
