"""The backward pass, stated once: the reference loop that every general case runs.

The algorithm, for any graph of any ops (an op is only its VJP, ``node.backward``):

1. Each root's gradient goes into the buffer of its node. A node has one buffer (a list with
   a slot per output for a multi-output node); gradients arriving at it are summed out of
   place, in the order they arrive.
2. Nodes run in decreasing creation order (``_seq``), popped from a heap. Every consumer of a
   node was created after it, so when a node is popped its buffer is complete. A node enters
   the heap with its first gradient, so it runs once; a node that no gradient reaches never
   runs. Iterative, never recursive: diamonds and ``y = y + y`` graphs stay linear.
3. At a node: the user's tensor hooks, ``retain_grad`` and node pre-hooks see its gradient. A
   node whose gradient was asked for (``autograd.grad``, ``backward(inputs=)``) has it
   captured, and stops there unless it leads to another one; then only the nodes that lead to
   one receive gradients. A leaf's AccumulateGrad keeps its gradient for ``.grad``. An op
   checks its saved values (released? modified in place?), runs its VJP (on raw arrays, or on
   Tensors with grad mode on under ``create_graph``, so that the pass is itself recorded),
   releases its saved values unless the graph is kept, undoes broadcasting and promotion
   (``_input_meta``), runs its post-hooks, and hands each input's gradient on, as in 1.
4. Only after the whole pass succeeded are ``.grad`` written (``leaves.commit_all``), so a
   failed backward changes no ``.grad``.

``loss.backward()`` takes a fast path instead (``engine._run_plain``), which must give the same
gradients bit for bit; ``tests/test_backward_paths.py`` checks it on random graphs.
"""

from __future__ import annotations

import threading
from heapq import heappop, heappush
from operator import attrgetter

from ..backend import xp
from ..graph.anomaly import ANOMALY, REFERENCE_LOOP, RUNNING, raise_if_nan, warn_forward_trace
from ..graph.dual import FORWARD, set_tangent
from ..graph.grad_mode import grad_state, no_grad
from ..graph.node import (
    SAVE_INPUTS,
    SAVE_OUTPUT,
    SAVED_RELEASED_MESSAGE,
    AccumulateGrad,
    Op,
    edge_parts,
    special_entry,
)
from ..graph.versions import MODIFIED
from ..graph.versions import check as check_versions
from ..ops.saved_tensors import PackedSaved, unpacked
from ..ops.shape import cast, sum_to
from ..tensor import Tensor, wrap
from .hook_calls import run_node_pre_hooks, run_post_hooks, run_pre_hooks, run_tensor_hooks
from .leaves import commit_all, mark_delivered

_ndarray = xp.ndarray
_creation_order = attrgetter("_seq")


class _PassState(threading.local):
    """Whether this thread's innermost reference-loop pass captures gradients
    (``autograd.grad``, ``backward(inputs=)``): a reentrant checkpoint refuses to run in one."""

    captures = False


PASS = _PassState()


def is_checkpoint_valid() -> bool:
    """PyTorch's ``torch.autograd._is_checkpoint_valid()``."""
    return not PASS.captures


def run_backward(
    roots,
    keep_graph: bool,
    create_graph: bool,
    targets=None,
    accumulate: bool = True,
    run_hooks: bool = True,
    observe=None,
    on_tensors: bool | None = None,
):
    """The reference loop: run the backward pass from ``roots``, a list of (edge, gradient).

    ``targets``: None to reach every leaf; else a list of edges whose gradients are captured
    and returned (in that order, None where none arrived). ``accumulate``: whether the leaves
    reached get their ``.grad`` (False for ``autograd.grad``). ``run_hooks=False`` runs no user
    hook and retains no gradient. ``observe(node, grads, computed, passed)``, if given, is
    called at every node reached, in order: its incoming gradient (a list for a multi-output
    node), what its VJP returned (a tuple, one entry per input, possibly shorter) and what is
    passed on (conformed to the inputs, after post-hooks); both None where no VJP ran (a leaf,
    a captured node that leads to no other target). ``on_tensors``: whether the gradients
    travel as Tensors and the VJPs run on Tensors (saved values with their edges and tangents);
    None: as ``create_graph`` says (a dual level's backward passes it True without recording).
    """
    if on_tensors is None:
        on_tensors = create_graph
    capture_at = leading = receives = None
    if targets is not None:
        capture_at = {}  # node -> [(position in targets, output_nr)]
        for position, edge in enumerate(targets):
            node, output_nr = edge_parts(edge)
            capture_at.setdefault(node, []).append((position, output_nr))
        leading = nodes_leading_to([edge for edge, _value in roots], capture_at.keys())
        receives = leading.union(capture_at)  # the only nodes that gradients are passed to
    captured = None if targets is None else [None] * len(targets)
    buffers: dict = {}
    heap: list = []
    delivered: set[int] = set()
    for edge, value in roots:
        if not on_tensors and type(value) is _ndarray:
            mark_delivered(delivered, value)  # the caller holds it: never hand it on as is
        deliver(buffers, heap, edge, value)
    leaf_grads = []
    retained = []
    release = not keep_graph

    previous_enabled = grad_state.enabled
    previous_captures, PASS.captures = PASS.captures, targets is not None
    grad_state.enabled = create_graph  # off, unless the VJPs run on Tensors to be recorded
    try:
        while heap:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
            hooks = node._hooks if run_hooks else None
            stops = False
            if capture_at is not None and node in capture_at:
                # As PyTorch: ``autograd.grad`` takes the gradient of a node that runs anyway
                # as it arrived; else (and for ``backward(inputs=)``) after the tensor hooks
                # and retain_grad, before the node's pre-hooks, which run only where the node
                # does (``backward(inputs=)`` runs them, its results going nowhere).
                stops = node not in leading
                as_arrived = not stops and not accumulate
                if hooks is not None and not as_arrived:
                    grads = run_tensor_hooks(node, hooks, grads, on_tensors, delivered, retained)
                for position, output_nr in capture_at[node]:
                    captured[position] = grads[output_nr] if type(grads) is list else grads
                if hooks is not None:
                    if as_arrived:
                        grads = run_pre_hooks(node, hooks, grads, on_tensors, delivered, retained)
                    elif accumulate:
                        grads = run_node_pre_hooks(node, hooks, grads, on_tensors)
            elif hooks is not None:
                grads = run_pre_hooks(node, hooks, grads, on_tensors, delivered, retained)
            computed = passed = None
            if type(node) is AccumulateGrad:
                if accumulate:
                    leaf_grads.append((node, grads))
            elif not stops:
                computed = run_vjp(node, grads, on_tensors, release)
                passed = finish_results(node, hooks, computed, grads, on_tensors)
                sole = node._sole  # a compact node's one edge; its other inputs are constants
                for edge, value in zip(node._next if sole is None else (sole,), passed):
                    if value is None or edge is None:
                        continue  # no gradient, or a constant
                    if receives is None or edge_parts(edge)[0] in receives:
                        deliver(buffers, heap, edge, value)
            if observe is not None:
                observe(node, grads, computed, passed)
    except Exception:
        if ANOMALY.enabled:  # PyTorch's warning: where the failing node was made
            warn_forward_trace(node)
        raise
    finally:
        grad_state.enabled = previous_enabled
        PASS.captures = previous_captures

    if on_tensors and not create_graph:
        # A leaf's .grad is the gradient detached, so it has no tangent (PyTorch's
        # AccumulateGrad); retained and captured gradients keep theirs.
        leaf_grads = [(node, _without_tangent(value)) for node, value in leaf_grads]
    commit_all(retained, leaf_grads, delivered, on_tensors, create_graph)
    return captured


def _without_tangent(value):
    if type(value) is Tensor and getattr(value, "_tangent", None) is not None:
        return wrap(value._data, value._edge)
    return value


def run_vjp(node, grads, create_graph: bool, release: bool) -> tuple:
    """Check the node's saved values, run its VJP, release them: a gradient per input."""
    if REFERENCE_LOOP:  # anomaly detection, or saved values that hooks packed
        return run_vjp_special(node, grads, create_graph, release)
    saved = node._saved
    if saved is None and not node.checks_saved_on_read:
        raise RuntimeError(SAVED_RELEASED_MESSAGE)
    if MODIFIED and saved:
        check_versions(node)  # a saved array was modified in place: PyTorch's error
    grads = materialize(node, grads) if type(grads) is list else (grads,)
    results = run_recorded(node, grads) if create_graph else node.backward(node, *grads)
    if release and saved:
        node._saved = None  # released (what saved nothing can run again, as in PyTorch)
    return results if type(results) is tuple else (results,)  # a bare value: input 0's


def run_vjp_special(node, grads, create_graph: bool, release: bool) -> tuple:
    """``run_vjp`` with what the special modes add. Saved values that hooks packed are unpacked
    just before the VJP (PyTorch checks no version of them then: the hooks own them) and
    dropped after it; under anomaly detection a node recorded by this VJP remembers this node
    (its parent in the warning), and with ``check_nan`` a VJP that returned NaN raises."""
    saved = node._saved
    if saved is None and not node.checks_saved_on_read:
        raise RuntimeError(SAVED_RELEASED_MESSAGE)
    packed = type(saved) is PackedSaved
    if packed:
        node._saved = unpacked(saved)
    elif MODIFIED and saved:
        check_versions(node)
    parent = RUNNING.node
    if create_graph and ANOMALY.enabled:
        RUNNING.node = node
    try:
        grads = materialize(node, grads) if type(grads) is list else (grads,)
        results = run_recorded(node, grads) if create_graph else node.backward(node, *grads)
    finally:
        RUNNING.node = parent
        if packed:
            node._saved = saved
    if release and (saved or packed):
        node._saved = None
    results = results if type(results) is tuple else (results,)
    if ANOMALY.enabled and ANOMALY.check_nan:
        raise_if_nan(node, results)
    return results


def run_recorded(node, grads: tuple):
    """Run the VJP on Tensors (``create_graph=True``), with the saved values as Tensors, so
    that the VJP itself is recorded. A custom Function's saved values are Tensors already."""
    if node.checks_saved_on_read:
        return node.backward(node, *grads)
    saved = node._saved
    if saved:
        node._saved = saved_as_tensors(node)
    try:
        return node.backward(node, *grads)
    finally:
        node._saved = saved


def saved_as_tensors(node) -> tuple:
    """The saved values as Tensors connected to the graph, so the VJP is recorded.

    A saved input comes back as a new Tensor with the input's edge (its grad_fn and output_nr),
    as PyTorch unpacks a SavedVariable: gradients through it reach the same node. Keeping the
    edge, not the input Tensor itself, lets the input object die.
    """
    saved = list(node._saved)
    input_tangents, output_tangent = saved_tangents(node)
    if node.save & SAVE_INPUTS:
        meta = node._input_meta
        for position, edge in enumerate(node._next):
            value = saved[position]
            if value is None or type(value) in (int, float, bool):
                continue  # not kept (not needed), or a Python number operand
            if meta is not None and meta[position] is not None:
                value = value.astype(meta[position][1], copy=False)  # undo a promotion
            saved[position] = wrap(value, edge)
            if input_tangents is not None and input_tangents[position] is not None:
                set_tangent(saved[position], input_tangents[position])
    if node.save & SAVE_OUTPUT:
        saved[-1] = wrap(saved[-1], node)
        if output_tangent is not None:
            set_tangent(saved[-1], output_tangent)
    return tuple(saved)


def saved_tangents(node) -> tuple:
    """(the inputs' tangents, the output's tangent) that ``record_special`` kept on the node
    for the current dual level; (None, None) when there are none (or they are of a level that
    has ended)."""
    if FORWARD.token is None:  # no dual level: skip the probe (a node without _special
        return None, None  # costs a Node.__getattr__ call and two AttributeErrors)
    kept = special_entry(node, "tangents")
    if kept is None or kept[0] is not FORWARD.token:
        return None, None
    return kept[1], kept[2]


def finish_results(node, hooks, results: tuple, grads, create_graph: bool) -> tuple:
    """Conform the gradients to the inputs' shapes and dtypes, then run post-hooks."""
    meta = node._input_meta
    if meta is not None:
        results = tuple(
            conform(value, entry) if entry is not None and value is not None else value
            for value, entry in zip(results, meta)
        )
    if hooks is not None and hooks.post:
        # A bare gradient (input 0's) is shown to the hooks as PyTorch's full tuple. A built-in
        # op's has None for an input without an edge (its VJP may compute one anyway: ``2 + x``
        # gives both). A custom Function's is not masked here: PyTorch shows what its backward
        # returned for such an input (gradienti's shows None: a known difference).
        edges = node._next
        results += (None,) * (len(edges) - len(results))
        if isinstance(node, Op):
            results = tuple(None if edge is None else value for value, edge in zip(results, edges))
        if create_graph:
            results = run_post_hooks(hooks, results, grads, create_graph)
        else:
            with no_grad():  # user code: the fast path leaves grad mode to it
                results = run_post_hooks(hooks, results, grads, create_graph)
    return results


def conform(value, entry):
    """Undo broadcasting (sum to the input's shape) and promotion (cast to its dtype)."""
    shape, dtype = entry
    if tuple(value.shape) != shape:
        value = sum_to(value, shape)
    value_dtype = value._data.dtype if type(value) is Tensor else value.dtype
    if value_dtype != dtype:
        value = cast(value, dtype)
    return value


def materialize(node, grads: list) -> list:
    """Missing gradients of a multi-output node become zeros, as in PyTorch.

    A multi-output op keeps ``output_meta``, the (shape, dtype) of each output, for this.
    """
    if not getattr(node, "materialize_grads", True):
        return grads  # a custom Function that asked for None (set_materialize_grads(False))
    metas = node.output_meta
    return [
        grad_value if grad_value is not None else xp.zeros(shape, dtype)
        for grad_value, (shape, dtype) in zip(grads, metas)
    ]


def deliver(buffers: dict, heap: list, edge, value) -> None:
    """Add ``value`` to the buffer of the node at ``edge``; a node enters the heap once."""
    node, output_nr = edge if type(edge) is tuple else (edge, 0)  # edge_parts, without a call
    previous = buffers.get(node)
    if previous is None:
        heappush(heap, (-node._seq, node))
        if node.num_outputs == 1:
            buffers[node] = value
            return
        previous = buffers[node] = [None] * node.num_outputs
    elif type(previous) is not list:
        buffers[node] = previous + value
        return
    slot = previous[output_nr]
    previous[output_nr] = value if slot is None else slot + value


def nodes_leading_to(root_edges, targets) -> set:
    """The nodes below the roots with a node of ``targets`` (a set, or a dict's keys) strictly
    below them: those that must run so that every target's gradient is complete."""
    below: dict = {}  # each node reached -> the nodes of its inputs
    stack = [edge_parts(edge)[0] for edge in root_edges]
    while stack:
        node = stack.pop()
        if node not in below:
            sole = node._sole  # (a compact node's other inputs are constants: graph/node.py)
            edges = node._next if sole is None else (sole,)
            below[node] = [edge_parts(edge)[0] for edge in edges if edge is not None]
            stack.extend(below[node])
    leading: set = set()
    for node in sorted(below, key=_creation_order):  # a node's inputs' nodes come before it
        inputs = below[node]
        if not targets.isdisjoint(inputs) or not leading.isdisjoint(inputs):
            leading.add(node)
    return leading
