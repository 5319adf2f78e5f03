"""Running the user's backward hooks during a pass, with PyTorch's checks of what they return
(autograd/hook_checks.py)."""

from __future__ import annotations

from ..backend import xp
from ..graph.node import CONFORM_ONLY, NO_EDGE
from ..tensor import wrap
from .hook_checks import check_replacement, check_replacements
from .leaves import mark_delivered

_ndarray = xp.ndarray


def run_pre_hooks(node, hooks, grads, create_graph, delivered, retained):
    """Tensor hooks (their return value replaces the gradient), retain_grad, node pre-hooks."""
    if hooks is CONFORM_ONLY:
        return grads
    grads = run_tensor_hooks(node, hooks, grads, create_graph, delivered, retained)
    if hooks.pre:
        grads = run_node_pre_hooks(node, hooks, grads, create_graph)
    return grads


def run_tensor_hooks(node, hooks, grads, create_graph, delivered, retained):
    """The hooks of the tensors that are the node's outputs, then retain_grad: what PyTorch
    runs for a node reached by a pass even where the node itself does not run."""
    if hooks is CONFORM_ONLY:
        return grads
    single = node.num_outputs == 1
    grads = grads if single else list(grads)
    for output_nr, tensor_hooks in list(hooks.tensor_hooks.items()):
        current = grads if single else grads[output_nr]
        if current is None or not tensor_hooks:
            continue
        as_tensor = current if create_graph else wrap(current, NO_EDGE)
        for hook in list(tensor_hooks.values()):
            replaced = hook(as_tensor)
            if replaced is not None:
                check_replacement(hook, as_tensor, replaced)
                as_tensor = replaced
        current = as_tensor if create_graph else as_tensor._data
        if type(current) is _ndarray:
            mark_delivered(delivered, current)  # a hook may keep what it returned
        if single:
            grads = current
        else:
            grads[output_nr] = current
    for output_nr, tensor_ref in hooks.retained.items():
        current = grads if single else grads[output_nr]
        if current is not None:
            retained.append((tensor_ref, current))
    return grads


def run_node_pre_hooks(node, hooks, grads, create_graph):
    """The node's pre-hooks: ``hook(grad_outputs)`` may return new grad_outputs."""
    if hooks is CONFORM_ONLY or not hooks.pre:
        return grads
    single = node.num_outputs == 1
    outputs = (grads,) if single else tuple(grads)
    outputs = _wrap_all(outputs, create_graph)
    for hook in list(hooks.pre.values()):
        replaced = hook(outputs)
        if replaced is not None:
            check_replacements(hook, outputs, replaced)
            outputs = replaced
    outputs = _unwrap_all(outputs, create_graph)
    return outputs[0] if single else list(outputs)


def run_post_hooks(hooks, results, grads, create_graph) -> tuple:
    """Node post-hooks: ``hook(grad_inputs, grad_outputs)`` may replace ``grad_inputs``."""
    grad_outputs = (grads,) if not isinstance(grads, list) else tuple(grads)
    grad_outputs = _wrap_all(grad_outputs, create_graph)
    grad_inputs = _wrap_all(results, create_graph)
    for hook in list(hooks.post.values()):
        replaced = hook(grad_inputs, grad_outputs)
        if replaced is not None:
            check_replacements(hook, grad_inputs, replaced)
            grad_inputs = replaced
    return _unwrap_all(grad_inputs, create_graph)


def _wrap_all(values, create_graph: bool) -> tuple:
    if create_graph:
        return tuple(values)
    return tuple(None if value is None else wrap(value, NO_EDGE) for value in values)


def _unwrap_all(values, create_graph: bool) -> tuple:
    if create_graph:
        return tuple(values)
    return tuple(None if value is None else value._data for value in values)
