"""``once_differentiable``: a custom Function's backward that cannot itself be differentiated.

As PyTorch's (torch/autograd/function.py): the decorated backward runs with grad mode off, so
it records nothing and may compute with anything (NumPy, ...). When the backward pass is
recorded (``create_graph=True``) and a gradient it received requires grad, the gradients it
returns are handed on through an ``Error`` node (PyTorch's ``torch::autograd::Error``, made by
``DelayedError``): each is a new tensor on the same data, whose graph leads to a fresh leaf, so
a second backward that reaches one raises PyTorch's RuntimeError instead of silently giving a
wrong (missing) second derivative.
"""

from __future__ import annotations

import functools

from ..graph.grad_mode import grad_state, no_grad
from ..graph.node import NO_EDGE, Node
from ..ops.api import EXPLAIN_RULES
from ..ops.apply import record_node
from ..ops.explain_rule import Rule
from ..tensor import Tensor, wrap

ONCE_DIFFERENTIABLE_MESSAGE = (
    "trying to differentiate twice a function that was marked with @once_differentiable"
)


class Error(Node):
    """A node whose backward raises its message (PyTorch's ``torch::autograd::Error``)."""

    def __init__(self, message: str) -> None:
        self._message = message

    def name(self) -> str:
        return "torch::autograd::Error"

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(ctx._message)


def _error_rule(node) -> Rule:
    count = len(node._next)
    slots = ["x"] if count == 1 else [chr(ord("a") + position) for position in range(count)]
    return Rule(
        "the gradients of a @once_differentiable backward, which cannot be differentiated again",
        ", ".join(f"{{{slot}:9}}" for slot in slots),
        passes=("nothing: a backward pass that reaches this node raises",) * count,
    )


# The node is autograd's, not an op's: its explain rule joins the ops' here.
EXPLAIN_RULES[Error.__name__] = _error_rule


def once_differentiable(fn):
    """Decorate a custom Function's ``backward`` (under ``@staticmethod``): see the module
    docstring."""

    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            outputs = fn(ctx, *args, **kwargs)
        if not grad_state.enabled:
            return outputs
        if not any(isinstance(arg, Tensor) and arg._edge is not None for arg in args):
            return outputs
        single = not isinstance(outputs, tuple)
        delayed = _delayed_error((outputs,) if single else outputs)
        return delayed[0] if single else delayed

    return wrapper


def _delayed_error(values: tuple) -> tuple:
    """``DelayedError(message, n)(*values)``: each tensor again, with an ``Error`` grad_fn."""
    leaves = [
        None if value is None else wrap(value._data, NO_EDGE).requires_grad_() for value in values
    ]
    node = Error(ONCE_DIFFERENTIABLE_MESSAGE)
    record_node(node, tuple(None if leaf is None else leaf._edge for leaf in leaves), ())
    several = len(values) > 1
    if several:
        node.num_outputs = len(values)
        node.output_meta = tuple(
            ((), None) if value is None else (value._data.shape, value._data.dtype)
            for value in values
        )
    return tuple(
        None if value is None else wrap(value._data, (node, position) if several else node)
        for position, value in enumerate(values)
    )
