"""Linear maps applied along the trailing axes, one axis at a time: the ops of reflection and
replication padding (ops/padding.py) and of upsampling (ops/upsample.py).

Each of these ops maps every trailing axis on its own: output position ``j`` along an axis is a
weighted sum of a few input positions along that axis (one for padding and nearest upsampling,
two for linear, four for cubic). Such a map is a tuple of *taps*, ``(index, weight)`` pairs of
arrays as long as the output axis (``weight`` None for 1), so that along that axis
``out[j] = sum over taps of weight[j] * x[index[j]]``. The ops' forward takes the taps (the
last axis first, as PyTorch's kernels combine them: bilinear is ``h0·(w0·x00 + w1·x01) + ...``),
their VJP adds the gradient back through the same taps (the transposed map), and since both are
linear the VJP of the VJP is the forward again and the JVP is the op on the tangent.

``axis_map_nodes(name, save)`` makes the pair of node classes of one such op: PyTorch's
``<name>Backward0`` and ``<name>BackwardBackward0`` (what a recorded backward records).

A node holds two tap tuples: ``maps``, which every gather (the op and the backward's backward)
reads, and ``scatter_maps``, which every scatter (the backward) reads. They are the same except
where PyTorch's backward kernel computes its indices otherwise than its forward kernel (nearest
upsampling: ops/upsample.py), so that both directions give PyTorch's numbers.
"""

from __future__ import annotations

from ..backend import xp
from ..batching import along_first_axis
from ..graph.node import SAVE_NOTHING, Op
from ..tensor import Tensor
from .apply import unary
from .jvp_rules import linear


def _weights_along(weight, axis: int, ndim: int, dtype):
    """``weight`` shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return weight.astype(dtype, copy=False).reshape(shape)


@along_first_axis()  # (vmap: the samples are more rows of the leading axis)
def gather_axes(x, maps: tuple):
    """``x`` with ``maps[k]``'s taps taken along trailing axis ``k`` (None: left as it is),
    the last axis first."""
    count = len(maps)
    for offset in reversed(range(count)):
        taps = maps[offset]
        if taps is None:
            continue
        axis = x.ndim - count + offset
        total = None
        for index, weight in taps:
            part = xp.take(x, index, axis=axis)
            if weight is not None:
                part = part * _weights_along(weight, axis, x.ndim, x.dtype)
            total = part if total is None else total + part
        x = total
    return xp.ascontiguousarray(x)


@along_first_axis()
def scatter_axes(g, maps: tuple, sizes: tuple):
    """The transposed maps: each output position's gradient added, weighted, into the input
    positions its taps read (``sizes``: the input's trailing sizes), the first axis first."""
    count = len(maps)
    for offset in range(count):
        taps = maps[offset]
        if taps is None:
            continue
        axis = g.ndim - count + offset
        moved = xp.moveaxis(g, axis, 0)
        total = xp.zeros((sizes[offset],) + moved.shape[1:], dtype=g.dtype)
        for index, weight in taps:
            share = moved
            if weight is not None:
                share = moved * _weights_along(weight, 0, moved.ndim, g.dtype)
            xp.add.at(total, index, share)
        g = xp.moveaxis(total, 0, axis)
    return xp.ascontiguousarray(g)


class _AxisMapOp(Op):
    """A node of an axis-map op: ``maps`` and ``scatter_maps`` (the taps per trailing axis of
    the gather and of the scatter) and ``sizes`` (the input's trailing sizes), shared by the
    op's node and its backward's."""

    __slots__ = ("maps", "scatter_maps", "sizes")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)
    partner = None  # the other node class of the pair


def _with_geometry(node_class, ctx):
    node = node_class()
    node.maps, node.scatter_maps, node.sizes = ctx.maps, ctx.scatter_maps, ctx.sizes
    return node


def _forward_backward(ctx, g):
    if ctx.save:
        ctx.saved_tensors  # noqa: B018 - raises PyTorch's error on a second backward
    if type(g) is Tensor:  # a recorded backward: the transposed map, as an op
        return unary(_with_geometry(ctx.partner, ctx), g)
    return scatter_axes(g, ctx.scatter_maps, ctx.sizes)


def _backward_backward(ctx, gg):
    if type(gg) is Tensor:
        return unary(_with_geometry(ctx.partner, ctx), gg)
    return gather_axes(gg, ctx.maps)


def axis_map_nodes(name: str, save=SAVE_NOTHING) -> tuple:
    """The node classes ``<name>Backward0`` (forward: the maps) and ``<name>BackwardBackward0``
    (forward: the transposed maps) of one axis-map op; ``save`` is what the first saves (PyTorch
    keeps the input of a padding op, so modifying it in place invalidates the backward)."""
    forward_class = type(
        f"{name}Backward0",
        (_AxisMapOp,),
        {
            "__slots__": (),
            "save": save,
            "forward": staticmethod(lambda ctx, x: gather_axes(x, ctx.maps)),
            "backward": staticmethod(_forward_backward),
            "__module__": __name__,
        },
    )
    backward_class = type(
        f"{name}BackwardBackward0",
        (_AxisMapOp,),
        {
            "__slots__": (),
            "forward": staticmethod(lambda ctx, g: scatter_axes(g, ctx.scatter_maps, ctx.sizes)),
            "backward": staticmethod(_backward_backward),
            "__module__": __name__,
        },
    )
    forward_class.partner = backward_class
    backward_class.partner = forward_class
    return forward_class, backward_class
