"""The ops at the edge of ``vmap`` (gradienti.func.vmap): a tensor entering is batched, a
tensor leaving is unbatched, and a tensor that was the same for every sample gets the sum of
the samples' gradients. Inside, ops compute on BatchedArrays (gradienti/batching), so a graph
recorded under vmap holds the samples' values batched, and gradients flowing through it are
batched too; these nodes convert them where the graph crosses the edge, so that reverse mode
through ``vmap`` (``vmap(f)(x).sum().backward()``, ``jacrev(vmap(f))``) and forward mode
(``jvp(vmap(f), ...)``) both work. PyTorch's graph has no such nodes (its autograd sees the
physical tensors); gradienti's shows them, named after what they do.

Each is linear, and each one's VJP is another of them: any derivative order works.
"""

from __future__ import annotations

from ..batching import add_batch_dim, is_batched_at, remove_batch_dim, sum_batch_dim
from ..graph.node import SAVE_NOTHING, AccumulateGrad, Op, edge_parts
from ..tensor import Tensor
from .declare import explain_nodes
from .explain_rule import Rule
from .shape import run


def batch_node(node_class, level: int, size: int, dim=None):
    """A fresh node of one of the classes below, for vmap to apply or to put in the graph."""
    node = node_class()
    node.level = level
    node.size = size
    node.dim = dim
    return node


class _BatchOp(Op):
    __slots__ = ("level", "size", "dim")
    save = SAVE_NOTHING

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        return (
            None
            if tangent is None
            else run(batch_node(type(ctx), ctx.level, ctx.size, ctx.dim), tangent)
        )


class AddBatchDimBackward0(_BatchOp):
    """vmap's input: axis ``dim`` of the tensor becomes the batch of vmap level ``level``."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return add_batch_dim(x, ctx.dim, ctx.level, ctx.size)

    @staticmethod
    def backward(ctx, g):
        return run(batch_node(RemoveBatchDimBackward0, ctx.level, ctx.size, ctx.dim), g)


class RemoveBatchDimBackward0(_BatchOp):
    """vmap's output: the batch of level ``level`` becomes axis ``dim`` (an output that is the
    same for every sample is expanded along it)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return remove_batch_dim(x, ctx.level, ctx.size, ctx.dim)

    @staticmethod
    def backward(ctx, g):
        return run(batch_node(AddBatchDimBackward0, ctx.level, ctx.size, ctx.dim), g)


class BroadcastBatchBackward0(_BatchOp):
    """A tensor from outside vmap used inside it: the same for every sample, so its gradient
    is the sum of the samples' (vmap puts this node on the edges that leave it)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return add_batch_dim(x, None, ctx.level, ctx.size)

    @staticmethod
    def backward(ctx, g):
        return run(batch_node(SumBatchBackward0, ctx.level, ctx.size), g)


class SumBatchBackward0(_BatchOp):
    """The sum over the samples of a vmap level (the VJP of BroadcastBatchBackward0)."""

    __slots__ = ()

    @staticmethod
    def forward(ctx, x):
        return sum_batch_dim(x, ctx.level)

    @staticmethod
    def backward(ctx, g):
        return run(batch_node(BroadcastBatchBackward0, ctx.level, ctx.size), g)


def sum_gradients_leaving(outputs: list, level, first_node: int) -> None:
    """Where the graph recorded inside vmap ``level`` (a vmap call, or the batched backward
    pass of ``autograd.grad(..., is_grads_batched=True)``) reaches a tensor from outside it (a
    captured parameter, an input not mapped over, the forward graph), put a
    BroadcastBatchBackward0 on the edge: the samples' gradients reaching that tensor are
    summed, as its value was shared by all. ``outputs``: the tensors leaving the level.

    Nodes recorded inside come after ``first_node`` in creation order (the ones put here too:
    each sits just before the node it follows, so that the order stays topological); a leaf
    made inside is inside when its value is batched at this level."""
    stack = [
        edge_parts(output._edge)[0]
        for output in outputs
        if isinstance(output, Tensor) and output._edge is not None
    ]
    seen: set = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not _inside(node, level, first_node):
            continue
        seen.add(id(node))
        if type(node) is AddBatchDimBackward0 and node.level == level.id:
            continue  # its gradient leaves unbatched already
        edges = node._next
        changed = list(edges)
        for index, edge in enumerate(edges):
            target = edge_parts(edge)[0]
            if target is None:
                continue
            if _inside(target, level, first_node):
                stack.append(target)
                continue
            bridge = batch_node(BroadcastBatchBackward0, level.id, level.size)
            bridge._next = (edge,)
            bridge._sole = None  # (not compact: graph/node.py)
            bridge._saved = ()
            bridge._input_meta = None
            bridge._hooks = None
            bridge._seq = node._seq - (index + 1) / (len(edges) + 1)
            changed[index] = bridge
        if changed != list(edges):
            node._next = tuple(changed)
            node._sole = None  # (a compact node's one edge is now in _next: graph/node.py)


def _inside(node, level, first_node: int) -> bool:
    if type(node) is AccumulateGrad:
        leaf = node._variable()
        return leaf is None or is_batched_at(leaf._data, level.id)
    return node._seq > first_node


DECLARATIONS = (
    explain_nodes(
        {
            AddBatchDimBackward0: Rule(
                "vmap's input, batched",
                "{x:0}",
                passes=("the samples' gradients, stacked along the mapped dimension",),
            ),
            RemoveBatchDimBackward0: Rule(
                "vmap's output, unbatched",
                "{x:0}",
                passes=("each sample's gradient: its slice of the mapped dimension",),
            ),
            BroadcastBatchBackward0: Rule(
                "a tensor used by every sample of vmap",
                "{x:0}",
                passes=("the sum of the samples' gradients",),
            ),
            SumBatchBackward0: Rule(
                "the sum over vmap's samples",
                "{x:0}",
                passes=("the gradient, the same for every sample",),
            ),
        }
    ),
)
