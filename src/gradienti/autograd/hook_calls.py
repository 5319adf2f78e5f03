"""Running the user's backward hooks during a pass, with PyTorch's checks of what they return.

A hook may replace a gradient, but not with something of another kind: what it returns must be
a Tensor of the same dtype and shape as the gradient it was shown (else the next node would
receive a gradient that does not fit its input, and a leaf's ``.grad`` would silently change
shape or type), and node hooks return a tuple of the right length. The error texts are
PyTorch's (``torch/csrc/autograd/python_hook.cpp``).
"""

from __future__ import annotations

from ..backend import LEGACY_TYPE_NAMES, xp
from ..graph.node import CONFORM_ONLY, NO_EDGE
from ..tensor import Tensor, wrap
from .leaves import mark_delivered

_ndarray = xp.ndarray


def run_pre_hooks(node, hooks, grads, create_graph, delivered, retained):
    """Tensor hooks (their return value replaces the gradient), retain_grad, node pre-hooks."""
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
    if hooks.pre:
        outputs = (grads,) if single else tuple(grads)
        outputs = _wrap_all(outputs, create_graph)
        for hook in list(hooks.pre.values()):
            replaced = hook(outputs)
            if replaced is not None:
                check_replacements(hook, outputs, replaced)
                outputs = replaced
        outputs = _unwrap_all(outputs, create_graph)
        grads = outputs[0] if single else list(outputs)
    return grads


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


def check_replacements(hook, originals: tuple, replaced) -> None:
    """A node hook's result: a tuple as long as what it was shown, each entry a valid
    replacement of the gradient in its place."""
    if type(replaced) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type_name(replaced)}'")
    if len(replaced) != len(originals):
        raise RuntimeError(
            f"hook '{hook_name(hook)}' has returned an incorrect number of values "
            f"(got {len(replaced)}, but expected {len(originals)})"
        )
    for original, value in zip(originals, replaced):
        if value is None:
            continue
        if original is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        check_replacement(hook, original, value)


def check_replacement(hook, original: Tensor, replaced) -> None:
    """A tensor hook's result replaces ``original``: a Tensor of the same dtype and shape."""
    if not isinstance(replaced, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type_name(replaced)}'")
    was, got = original._data.dtype, replaced._data.dtype
    if was != got:
        raise RuntimeError(
            f"hook '{hook_name(hook)}' has changed the type of value (was "
            f"{_legacy_type(was)} got {_legacy_type(got)})"
        )
    if original._data.shape != replaced._data.shape:
        raise RuntimeError(f"hook '{hook_name(hook)}' has changed the size of value")


def hook_name(hook) -> str:
    """The name PyTorch's messages give a hook: its ``__name__``, else ``<unknown>``."""
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python


def type_name(value) -> str:
    """The C ``tp_name`` PyTorch prints: ``int``, ``numpy.ndarray``, a Python class's name."""
    kind = type(value)
    module = kind.__module__
    if kind.__flags__ & _HEAP_TYPE or module == "builtins":
        return kind.__name__
    return f"{module}.{kind.__name__}"


def _legacy_type(dtype) -> str:
    return "torch." + LEGACY_TYPE_NAMES.get(dtype.name, dtype.name)


def _wrap_all(values, create_graph: bool) -> tuple:
    if create_graph:
        return tuple(values)
    return tuple(None if value is None else wrap(value, NO_EDGE) for value in values)


def _unwrap_all(values, create_graph: bool) -> tuple:
    if create_graph:
        return tuple(values)
    return tuple(None if value is None else value._data for value in values)
