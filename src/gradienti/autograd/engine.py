"""The public ``backward`` and ``grad``, and the fast path of ``loss.backward()``.

The backward pass itself is stated once, in :mod:`gradienti.autograd.schedule` (the reference
loop ``run_backward``): nodes run in decreasing creation order, each once, with one gradient
buffer per node. ``backward`` and ``grad`` check their arguments as PyTorch does and hand the
pass to it, except ``loss.backward()`` (and ``y.backward(gradient)``), the case that training
loops and the benchmarks time, which takes the fast path ``_run_plain`` below (bitwise the same
gradients).

With ``create_graph=False`` gradients travel as raw arrays and the VJPs run on them; with
``create_graph=True`` they travel as Tensors with grad mode on, so the backward pass is itself
recorded.
"""

from __future__ import annotations

from heapq import heappop, heappush

from ..backend import xp
from ..batching import in_vmap
from ..graph.anomaly import REFERENCE_LOOP
from ..graph.dual import FORWARD
from ..graph.grad_mode import MODES, no_grad
from ..graph.node import CONFORM_ONLY, NO_EDGE, SAVED_RELEASED_MESSAGE, AccumulateGrad
from ..graph.versions import MODIFIED
from ..graph.versions import check as check_versions
from ..tensor import Tensor, wrap
from ..tensor_checks import backward_arguments, grad_outputs_tuple
from .batched_grad import batched_grad
from .error_hints import no_grad_fn_hint, with_hint
from .hook_calls import run_pre_hooks
from .leaves import COMMIT_LOCK, claim, commit_all, commit_grad, mark_delivered
from .schedule import deliver, finish_results, materialize, run_backward

_ndarray = xp.ndarray


# ---------------------------------------------------------------------- public API
def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward`` (attached to Tensor when the package is imported)."""
    data = self._data
    edge = self._edge
    if (
        gradient is None
        and inputs is None
        and create_graph is False
        and type(data) is not _ndarray
        and edge is not None
        and type(edge) is not tuple
        and (retain_graph is None or type(retain_graph) is bool)  # else checked below
        and not MODES.special
    ):
        # y.backward() on a scalar (a NumPy scalar): straight to the short path. Its one is
        # looked up by the scalar's type: a type hashes by identity, a dtype by its fields
        # (``data.dtype`` and its hash: ~30-60 ns more per lookup on a NumPy scalar).
        one = _ONE_OF_SCALAR_TYPE.get(type(data))
        if one is None:
            one = _ones_like(data)
            if type(one) is type(data):
                _ONE_OF_SCALAR_TYPE[type(data)] = one
        _run_plain(edge, one, not retain_graph)
        return
    gradient, inputs = backward_arguments(gradient, retain_graph, create_graph, inputs)
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


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
        and not MODES.special
    ):
        # The common case, y.backward() on a scalar (a NumPy scalar), without the general checks.
        root = tensors._edge
        if type(root) is not tuple:
            _run_plain(root, _ones_like(tensors._data), not retain_graph)
            return
        run_backward([(root, _ones_like(tensors._data))], bool(retain_graph), False)
        return
    if in_vmap():  # (vmap is a special mode: a backward() under it comes here)
        raise RuntimeError(
            "backward() called inside a functorch transform. This is not supported, please use "
            "functorch.grad or functorch.vjp instead or call backward() outside of functorch "
            "transforms."
        )
    outputs = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    keep_graph = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    on_tensors = create_graph or _carries_tangents()
    roots = _roots(outputs, grad_tensors, on_tensors)
    if inputs is None:
        if len(roots) == 1 and not on_tensors and type(roots[0][0]) is not tuple:
            _run_plain(roots[0][0], roots[0][1], not keep_graph)  # y.backward(gradient)
        else:
            run_backward(roots, keep_graph, create_graph, on_tensors=on_tensors)
        return
    edges = _input_edges(inputs)
    captured = run_backward(
        roots, keep_graph, create_graph, edges, accumulate=True, on_tensors=on_tensors
    )
    # Non-leaf inputs get their .grad too, as if they retained it (summed out of place); one
    # that does retain it got it from its retain_grad hook in the pass already.
    with COMMIT_LOCK:
        for tensor, grad_value in zip(inputs, captured):
            if grad_value is not None and not tensor.is_leaf and not tensor.retains_grad:
                commit_grad(tensor, grad_value, set(), on_tensors, in_place=False)


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
    if is_grads_batched:  # one pass, vmapped over the grad outputs' first dim
        return batched_grad(grad, outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads)  # fmt: skip
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
    on_tensors = create_graph or _carries_tangents()
    roots = _roots(outputs, grad_outputs, on_tensors)
    edges = _input_edges(inputs)
    captured = run_backward(
        roots, keep_graph, create_graph, edges, accumulate=False, on_tensors=on_tensors
    )
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
        elif on_tensors:
            results.append(value if type(value) is Tensor else wrap(value, NO_EDGE))
        else:
            results.append(wrap(claim(value, delivered), NO_EDGE))
    return tuple(results)


def _carries_tangents() -> bool:
    """Whether a backward pass must run on Tensors so that its gradients carry forward-AD
    tangents: inside a dual level (forward over reverse). (``FORWARD.token`` reads a property:
    the special-mode count, a plain attribute, is tested first.)"""
    return MODES.special != 0 and FORWARD.token is not None


# ---------------------------------------------------------------------- preparation
def _roots(outputs, grad_outputs, create_graph: bool) -> list:
    """(edge, gradient) for each output, with PyTorch's checks and error texts."""
    grad_outputs = grad_outputs_tuple(grad_outputs, len(outputs))
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
            message = (
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
            raise RuntimeError(with_hint(message, no_grad_fn_hint(output)))
        roots.append((output._edge, value))
    return roots


_ONES: dict = {}
_ONE_OF_SCALAR_TYPE: dict = {}  # a NumPy scalar type -> _ONES's one of its dtype


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


# ---------------------------------------------------------------------- the fast path
# THE FAST PATH, the only one. ``loss.backward()`` and ``y.backward(gradient)``: one root whose
# grad_fn has one output, every leaf reached, no graph of the backward pass (called by
# ``Tensor.backward`` and ``backward()``). It must give bitwise the same ``.grad`` as the
# reference loop ``schedule.run_backward``, which tests/test_backward_paths.py checks on random
# graphs: a change to the schedule is made there first, then here. What it saves: on a scalar
# chain of 600 nodes, ~0.27 µs per node instead of the reference loop's ~1.1 µs (most of
# backward's time on scalar graphs, the seed/chain/deep benchmarks).
def _run_plain(node, grads, release: bool) -> None:
    """``loss.backward()``: ``schedule.run_backward`` for one root and every leaf.

    Without the tests of the features this case cannot meet (targets, captures, create_graph,
    observers), and with the reference loop's steps written out in place: no call to run a
    node's VJP, to conform or to deliver its gradients in the common cases, and a bare
    gradient (a one-input node's) skips the tuple and zip. A node whose one new child was
    created after every pending node hands it over directly, without the heap and the buffer
    dict (in a chain, always). A compact node's one edge is its ``_sole`` (its ``_next``, which
    it does not hold until something reads it, would add the constants); an AccumulateGrad is
    recognised by its empty ``_next`` (every op has at least one input); an edge to an output
    of a multi-output node, a ``(node, output_nr)`` tuple, by having no ``_seq`` (a try costs
    nothing until it fails); such a node's gradients, a list, only ever come from the heap,
    never by handoff. A leaf without hooks that a bare gradient reaches while other nodes wait
    is not scheduled at all: its buffer collects its gradients (in the same order) and it is
    committed once the heap is empty. The per-pass containers for hooks (``retained``,
    ``delivered``) are made on first need, and one leaf's 0-d gradient is committed here.
    """
    if REFERENCE_LOOP:  # anomaly detection, or saved values that hooks packed: one test a pass
        run_backward([(node, grads)], not release, False)
        return
    buffers: dict = {}
    heap: list = []
    leaf_grads = []
    # What hooks retain and the arrays someone outside may hold: made on first need (a tensor
    # hook, an array root gradient), two containers fewer on a scalar graph without hooks.
    retained = delivered = None
    if type(grads) is _ndarray:
        delivered = set()
        mark_delivered(delivered, grads)
    several = False  # whether ``grads`` is a multi-output node's list
    # Grad mode stays as it is: the VJPs run on raw arrays, which record nothing, and the user
    # code that a pass may run (hooks, a custom Function's backward) turns it off itself.
    while True:
        hooks = node._hooks
        if hooks is not None and hooks is not CONFORM_ONLY:
            if retained is None:
                retained = []
            if delivered is None:
                delivered = set()
            with no_grad():  # user code, run as PyTorch runs it
                grads = run_pre_hooks(node, hooks, grads, False, delivered, retained)
        sole = node._sole  # a compact node's one edge (graph/node.py): it has no _next yet
        if sole is None and not (children := node._next):
            leaf_grads.append((node, grads))
        else:
            saved = node._saved
            if saved:
                if MODIFIED:
                    check_versions(node)
            elif saved is None and not node.checks_saved_on_read:
                raise RuntimeError(SAVED_RELEASED_MESSAGE)
            if several:
                results = node.backward(node, *materialize(node, grads))
                several = False
            else:
                results = node.backward(node, grads)
            if release and saved:
                node._saved = None
            if type(results) is not tuple:
                if hooks is not None:
                    results = finish_results(node, hooks, (results,), grads, False)[0]
                child = children[0] if sole is None else sole
                if results is not None and child is not None:
                    try:
                        seq = child._seq
                    except AttributeError:  # an output of a multi-output node
                        deliver(buffers, heap, child, results)
                    else:
                        if buffers and child in buffers:
                            buffers[child] = buffers[child] + results
                        elif not heap or heap[0][0] > -seq:
                            node = child  # created after every pending node: it runs next
                            grads = results
                            continue
                        else:
                            buffers[child] = results
                            if type(child) is not AccumulateGrad or child._hooks is not None:
                                heappush(heap, (-seq, child))
                            # else a leaf without hooks: running it only records its gradient,
                            # so it is not scheduled; it stays in ``buffers`` (where later
                            # gradients are added in the same order) until the heap is empty
                            # (below): a push, a pop and a turn of the loop fewer per such leaf.
            else:
                if hooks is not None:
                    results = finish_results(node, hooks, results, grads, False)
                newest = None  # the newest child reached for the first time
                if sole is not None:
                    children = (sole,)  # (a compact node's other inputs are constants)
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
                        deliver(buffers, heap, child, value)
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
            if not buffers:
                break
            # What is left in ``buffers`` are the leaves not scheduled (above). If a hook added
            # during the pass is now on one of them, they run as scheduled nodes after all.
            for leaf in buffers:
                if leaf._hooks is not None:
                    for pending in buffers:
                        heappush(heap, (-pending._seq, pending))
                    break
            else:  # (a loop, not any(): no generator frame)
                # Committed after the scheduled leaves. A leaf without hooks runs nothing when
                # its .grad is written, but another leaf's post-accumulate hook may read it:
                # once such hooks exist, the leaves commit in the order the loop would have run
                # them, newest first. (Otherwise the order only picks which of two leaves handed
                # the same array keeps it, the other getting a copy of the same values.)
                leaf_grads.extend(buffers.items())
                if AccumulateGrad.hooked_after_accumulation and len(leaf_grads) > 1:
                    leaf_grads.sort(key=_newest_first)
                break
        node = heappop(heap)[1]
        grads = buffers.pop(node)
        several = type(grads) is list
    if (
        retained is None
        and len(leaf_grads) == 1
        and type(leaf_grads[0][1]) is not _ndarray
        and not AccumulateGrad.hooked_after_accumulation
    ):
        # One leaf, a 0-d gradient (a NumPy scalar, immutable: nothing to claim), no hooks:
        # commit_all's first-gradient case written out, without its call, loops and the
        # ``delivered`` set (every scalar graph with one input, the seed benchmark's).
        accumulator, value = leaf_grads[0]
        leaf = accumulator._variable()
        if leaf is None:
            return
        with COMMIT_LOCK:
            if leaf._grad is None:
                leaf._grad = wrap(value, NO_EDGE)
            else:
                commit_grad(leaf, value, set(), False)
        return
    commit_all(retained or [], leaf_grads, set() if delivered is None else delivered, False)


def _newest_first(leaf_and_grad) -> int:
    """The key that orders (AccumulateGrad, gradient) pairs as the loop runs leaves."""
    return -leaf_and_grad[0]._seq
