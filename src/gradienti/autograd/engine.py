"""The backward scheduler, and the public ``backward`` and ``grad``.

Iterative, never recursive: nodes run in decreasing creation order (a topological order, as
every consumer of a node was created after it), each once, with one gradient buffer per node,
so diamonds and ``y = y + y`` graphs stay linear. Gradients are summed out of place.

With ``create_graph=False`` gradients travel as raw arrays and the VJPs run on them; with
``create_graph=True`` they travel as Tensors with grad mode on, so the backward pass is itself
recorded. Leaves' ``.grad`` (and retained non-leaf grads) are written only after the whole pass
succeeded, so a failed backward changes no ``.grad``.
"""

from __future__ import annotations

from heapq import heappop, heappush

from ..backend import xp
from ..tensor import Tensor, wrap  # first: it imports the ops modules

# isort: split
from ..ops.shape import cast, sum_to
from .function import (
    CONFORM_ONLY,
    NO_EDGE,
    SAVED_RELEASED_MESSAGE,
    AccumulateGrad,
    edge_parts,
)
from .grad_mode import grad_state, no_grad
from .hook_calls import run_post_hooks, run_pre_hooks
from .leaves import COMMIT_LOCK, claim, commit_all, commit_grad, mark_delivered
from .versions import MODIFIED
from .versions import check as check_versions

_ndarray = xp.ndarray


# ---------------------------------------------------------------------- public API
def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the leaves' ``.grad``."""
    if (
        type(tensors) is Tensor
        and grad_tensors is None
        and grad_variables is None
        and inputs is None
        and not create_graph
        and tensors._edge is not None
        and type(tensors._data) is not _ndarray
    ):
        # The common case, y.backward() on a scalar (a NumPy scalar), without the general checks.
        root = tensors._edge
        if type(root) is not tuple:
            _run_plain(root, _ones_like(tensors._data), not retain_graph)
            return
        _execute([(root, _ones_like(tensors._data))], bool(retain_graph), False, None, True)
        return
    outputs = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    keep_graph = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    roots = _roots(outputs, grad_tensors, create_graph)
    if inputs is None:
        _execute(roots, keep_graph, create_graph, None, accumulate=True)
        return
    edges = _input_edges(inputs)
    captured = _execute(roots, keep_graph, create_graph, edges, accumulate=True)
    # Non-leaf inputs get their .grad too, as if they retained it (summed out of place).
    with COMMIT_LOCK:
        for tensor, grad_value in zip(inputs, captured):
            if grad_value is not None and not tensor.is_leaf:
                commit_grad(tensor, grad_value, set(), create_graph, in_place=False)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``; no ``.grad`` is touched."""
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = (inputs,) if single_input else tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    keep_graph = create_graph if retain_graph is None else retain_graph
    roots = _roots(outputs, grad_outputs, create_graph)
    edges = _input_edges(inputs)
    captured = _execute(roots, keep_graph, create_graph, edges, accumulate=False)
    results = []
    delivered: set[int] = set()
    for index, (tensor, value) in enumerate(zip(inputs, captured)):
        if value is None:
            if materialize_grads:
                results.append(wrap(xp.zeros_like(tensor._as_array()), NO_EDGE))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior."
                )
            results.append(None)
        elif create_graph:
            results.append(value)
        else:
            results.append(wrap(claim(value, delivered), NO_EDGE))
    return tuple(results)


# ---------------------------------------------------------------------- preparation
def _roots(outputs, grad_outputs, create_graph: bool) -> list:
    """(edge, gradient) for each output, with PyTorch's checks and error texts."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    for given in grad_outputs[: len(outputs)]:
        if given is not None and not isinstance(given, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(given).__name__}"
            )
    if len(grad_outputs) < len(outputs):  # (extra gradients are ignored, as in PyTorch)
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    roots = []
    for index, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(output, Tensor):
            raise AssertionError("Expected output to be a torch.Tensor")  # PyTorch's class
        data = output._data
        if given is None:
            if output._edge is not None and data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            value = _ones_like(data)
            if create_graph:
                value = wrap(value, NO_EDGE)
        else:
            if given._data.shape != data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{index}] has a shape of {given.shape} and "
                    f"output[{index}] has a shape of {output.shape}."
                )
            if given._data.dtype != data.dtype:
                given = given.to(output.dtype)  # PyTorch casts the gradient to the output's dtype
            value = given if create_graph else given._data
        if output._edge is None:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        roots.append((output._edge, value))
    return roots


_ONES: dict = {}


def _ones_like(data):
    """A gradient of ones; for a 0-d output the cached NumPy scalar one of its dtype."""
    if data.ndim == 0:
        dtype = data.dtype
        one = _ONES.get(dtype)
        if one is None:
            one = _ONES[dtype] = dtype.type(1)
        return one
    return xp.ones_like(data)


def _input_edges(inputs) -> list:
    edges = []
    for tensor in inputs:
        if not isinstance(tensor, Tensor):
            raise RuntimeError(
                f"all inputs have to be Tensors or GradientEdges, but got {type(tensor).__name__}"
            )
        if tensor._edge is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        edges.append(tensor._edge)
    return edges


# ---------------------------------------------------------------------- the pass
def _execute(roots, keep_graph: bool, create_graph: bool, targets, accumulate: bool):
    """Run the backward pass from ``roots`` (a list of (edge, gradient)).

    ``targets``: None to reach every leaf; else a list of edges whose gradients are captured
    and returned, and only the nodes that lead to them run. ``accumulate``: whether the
    AccumulateGrad nodes that run write into ``.grad`` (False for ``autograd.grad``).
    """
    if targets is None:
        executes = None
        capture_at = None
    else:
        capture_at = {}
        for position, edge in enumerate(targets):
            node, output_nr = edge_parts(edge)
            capture_at.setdefault(node, []).append((position, output_nr))
        executes = _nodes_leading_to(roots, capture_at, accumulate)

    # Nodes run in decreasing creation order (``_seq``): every consumer of a node was created
    # after it, so when a node is popped its gradient buffer is complete. A node enters the
    # heap when its first gradient arrives; one that never receives a gradient never runs.
    wanted = None if executes is None else executes.union(capture_at)
    buffers: dict = {}
    heap: list = []
    delivered: set[int] = set()
    for _edge, value in roots:
        if not create_graph and type(value) is _ndarray:
            mark_delivered(delivered, value)  # the caller holds it: never hand it on as is
    handoff = None
    first_root = roots[0][0]
    if len(roots) == 1 and type(first_root) is not tuple:
        handoff, grads = roots[0]  # one root: start with it, no heap round trip
    else:
        for edge, value in roots:
            _deliver(buffers, heap, edge, value)
    captured = [None] * len(targets) if targets is not None else None
    leaf_grads = []
    retained = []

    state = grad_state
    previous_enabled = state.enabled
    state.enabled = create_graph
    release = not keep_graph
    # The backward hot path: rare cases (hooks, captures, several outputs, broadcasting) sit
    # behind one test each; a one-input node's gradient skips the tuple and zip. When a node's
    # one new child was created after every pending node (always so in a chain), it is next
    # for sure: it is handed over directly (``handoff``), without the heap and the buffer dict.
    try:
        while True:
            if handoff is not None:
                node = handoff
                handoff = None
            elif heap:
                node = heappop(heap)[1]
                grads = buffers.pop(node)
            else:
                break
            hooks = node._hooks
            if hooks is not None:
                grads = run_pre_hooks(node, hooks, grads, create_graph, delivered, retained)
            if capture_at is not None and node in capture_at:
                for position, output_nr in capture_at[node]:
                    captured[position] = grads if type(grads) is not list else grads[output_nr]
                if node not in executes:
                    continue
            if type(node) is AccumulateGrad:
                if accumulate:
                    leaf_grads.append((node, grads))
                continue
            saved = node._saved
            if saved is None and not node.checks_saved_on_read:
                raise RuntimeError(SAVED_RELEASED_MESSAGE)
            if MODIFIED and saved:
                check_versions(node)  # a saved array was modified in place: PyTorch's error
            if create_graph:
                results = node.run_recorded(
                    _materialize(node, grads) if type(grads) is list else (grads,)
                )
            elif type(grads) is list:
                results = node.backward(node, *_materialize(node, grads))
            else:
                results = node.backward(node, grads)
            if release and saved:
                node._saved = None  # released (what saved nothing can run again, as in PyTorch)
            if type(results) is not tuple:
                if hooks is not None:
                    results = _finish_results(node, hooks, (results,), grads, create_graph)[0]
                if results is None:
                    continue
                child = node._next[0]
                if child is None:
                    continue
                if type(child) is tuple:  # an output of a multi-output node
                    if wanted is None or child[0] in wanted:
                        _deliver(buffers, heap, child, results)
                    continue
                if wanted is not None and child not in wanted:
                    continue
                previous = buffers.get(child)
                if previous is not None:
                    buffers[child] = previous + results
                elif not heap or heap[0][0] > -child._seq:
                    handoff = child  # created after every pending node, so it runs next
                    grads = results
                else:
                    buffers[child] = results
                    heappush(heap, (-child._seq, child))
                continue
            if hooks is not None:
                results = _finish_results(node, hooks, results, grads, create_graph)
            newest = None  # the newest child reached for the first time: a handoff candidate
            for child, value in zip(node._next, results):
                if value is None or child is None:
                    continue
                if type(child) is tuple:  # an output of a multi-output node
                    if wanted is None or child[0] in wanted:
                        _deliver(buffers, heap, child, value)
                    continue
                if wanted is not None and child not in wanted:
                    continue
                previous = buffers.get(child)
                if previous is not None:
                    buffers[child] = previous + value
                    continue
                buffers[child] = value
                if newest is None:
                    newest = child
                elif child._seq > newest._seq:
                    heappush(heap, (-newest._seq, newest))
                    newest = child
                else:
                    heappush(heap, (-child._seq, child))
            if newest is not None:
                if not heap or heap[0][0] > -newest._seq:
                    handoff = newest
                    grads = buffers.pop(newest)
                else:
                    heappush(heap, (-newest._seq, newest))
    finally:
        state.enabled = previous_enabled

    commit_all(retained, leaf_grads, delivered, create_graph)
    return captured


def _run_plain(node, grads, release: bool) -> None:
    """``loss.backward()``: one root node, every leaf reached, no graph of the backward pass.

    The schedule of ``_execute`` without the tests of its optional features (targets, captures,
    create_graph), since on scalar graphs this loop is most of the time backward takes. An
    AccumulateGrad is recognised by its empty ``_next`` (every op has at least one input); an
    edge to an output of a multi-output node, a ``(node, output_nr)`` tuple, by having no
    ``_seq`` (a try costs nothing until it fails); such a node's gradients, a list, only ever
    come from the heap, never by handoff.
    """
    buffers: dict = {}
    heap: list = []
    leaf_grads = []
    retained = []
    delivered: set[int] = set()
    if type(grads) is _ndarray:
        mark_delivered(delivered, grads)
    several = False  # whether ``grads`` is a multi-output node's list
    # Grad mode stays as it is: the VJPs run on raw arrays, which record nothing, and the user
    # code that a pass may run (hooks, a custom Function's backward) turns it off itself.
    while True:
        hooks = node._hooks
        if hooks is not None and hooks is not CONFORM_ONLY:
            with no_grad():  # user code, run as PyTorch runs it
                grads = run_pre_hooks(node, hooks, grads, False, delivered, retained)
        children = node._next
        if not children:
            leaf_grads.append((node, grads))
        else:
            saved = node._saved
            if saved:
                if MODIFIED:
                    check_versions(node)
            elif saved is None and not node.checks_saved_on_read:
                raise RuntimeError(SAVED_RELEASED_MESSAGE)
            if several:
                results = node.backward(node, *_materialize(node, grads))
                several = False
            else:
                results = node.backward(node, grads)
            if release and saved:
                node._saved = None
            if type(results) is not tuple:
                if hooks is not None:
                    results = _finish_results(node, hooks, (results,), grads, False)[0]
                child = children[0]
                if results is not None and child is not None:
                    try:
                        seq = child._seq
                    except AttributeError:  # an output of a multi-output node
                        _deliver(buffers, heap, child, results)
                    else:
                        if buffers and child in buffers:
                            buffers[child] = buffers[child] + results
                        elif not heap or heap[0][0] > -seq:
                            node = child  # created after every pending node: it runs next
                            grads = results
                            continue
                        else:
                            buffers[child] = results
                            heappush(heap, (-seq, child))
            else:
                if hooks is not None:
                    results = _finish_results(node, hooks, results, grads, False)
                newest = None  # the newest child reached for the first time
                for child, value in zip(children, results):
                    if value is None or child is None:
                        continue
                    previous = buffers.get(child)  # (a tuple edge is never a key)
                    if previous is not None:
                        buffers[child] = previous + value
                        continue
                    try:
                        seq = child._seq
                    except AttributeError:  # an output of a multi-output node
                        _deliver(buffers, heap, child, value)
                        continue
                    buffers[child] = value
                    if newest is None:
                        newest = child
                    elif seq > newest._seq:
                        heappush(heap, (-newest._seq, newest))
                        newest = child
                    else:
                        heappush(heap, (-seq, child))
                if newest is not None:
                    if not heap or heap[0][0] > -newest._seq:
                        node = newest
                        grads = buffers.pop(newest)
                        continue
                    heappush(heap, (-newest._seq, newest))
        if not heap:
            break
        node = heappop(heap)[1]
        grads = buffers.pop(node)
        several = type(grads) is list
    commit_all(retained, leaf_grads, delivered, False)


def _finish_results(node, hooks, results: tuple, grads, create_graph: bool) -> tuple:
    """Conform the gradients to the inputs' shapes and dtypes, then run post-hooks."""
    meta = node._input_meta
    if meta is not None:
        results = tuple(
            _conform(value, entry) if entry is not None and value is not None else value
            for value, entry in zip(results, meta)
        )
    if hooks is not None and hooks.post:
        # A bare gradient (input 0's) is shown to the hooks as PyTorch's full tuple.
        results += (None,) * (len(node._next) - len(results))
        if create_graph:
            results = run_post_hooks(hooks, results, grads, create_graph)
        else:
            with no_grad():  # user code: a plain pass leaves grad mode to it (see _run_plain)
                results = run_post_hooks(hooks, results, grads, create_graph)
    return results


def _conform(value, entry):
    """Undo broadcasting (sum to the input's shape) and promotion (cast to its dtype)."""
    shape, dtype = entry
    if tuple(value.shape) != shape:
        value = sum_to(value, shape)
    value_dtype = value._data.dtype if type(value) is Tensor else value.dtype
    if value_dtype != dtype:
        value = cast(value, dtype)
    return value


def _materialize(node, grads: list) -> list:
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


def _deliver(buffers: dict, heap: list, edge, value) -> None:
    """Add ``value`` to the buffer of the node at ``edge``; a node enters the heap once."""
    node, output_nr = edge_parts(edge)
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


def _nodes_leading_to(roots, capture_at: dict, accumulate: bool) -> set:
    """The nodes that must run so that every target's gradient is complete.

    A node runs when a target lies strictly below it; with ``accumulate`` (backward with
    ``inputs=``) a target AccumulateGrad runs too, so that its leaf's ``.grad`` is written.
    """
    leads: dict = {}
    stack = []
    for edge, _value in roots:
        stack.append((edge_parts(edge)[0], False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            leads[node] = any(
                child in capture_at or leads.get(child, False)
                for child, _ in node.next_functions
                if child is not None
            )
            continue
        if node in leads:
            continue
        leads[node] = False  # provisional, marks the node as visited
        stack.append((node, True))
        for child, _ in node.next_functions:
            if child is not None and child not in leads:
                stack.append((child, False))
    executes = {node for node, flag in leads.items() if flag}
    if accumulate:
        executes.update(node for node in capture_at if type(node) is AccumulateGrad)
    return executes
