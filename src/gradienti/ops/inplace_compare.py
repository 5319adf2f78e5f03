"""In-place comparisons (``x.eq_(y)``, ``x.lt_(0)``, ...): ``x`` holds 1 where the comparison
holds and 0 elsewhere, in its own dtype. On a tensor that requires grad PyTorch records a node
whose gradient is zero: ``<Op>Backward0`` for a number, ``<Op>Backward1`` for a Tensor."""

from __future__ import annotations

from ..tensor import Tensor
from .declare import declare, explain_nodes
from .explain_rule import ATOM, NOT_DIFFERENTIABLE, Rule
from .sampling import _ZeroGradient, sampled

SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _zero_gradient_node(name: str) -> type:
    return type(name, (_ZeroGradient,), {"__slots__": (), "__module__": __name__})


# name -> (node with a number, node with a Tensor)
NODES = {
    op: tuple(_zero_gradient_node(f"{op.capitalize()}Backward{k}") for k in (0, 1))
    for op in SYMBOLS
}


def _compare_in_place(op: str):
    def method(input, other):
        values = getattr(input, op)(other)._data.astype(input._data.dtype)
        with_tensor = isinstance(other, Tensor)
        inputs = (input, other) if with_tensor else (input,)
        return input._assign_in_place(sampled(NODES[op][with_tensor](), inputs, values))

    method.__name__ = method.__qualname__ = op + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{op}`."
    return method


def _rule(op: str) -> Rule:
    return Rule(
        f"compared in place ({SYMBOLS[op]}), 1 where true",
        f"({{x:0}} {SYMBOLS[op]} other)",
        ATOM,
        NOT_DIFFERENTIABLE,
    )


DECLARATIONS = (
    *(declare(op + "_", None, method=_compare_in_place(op)) for op in SYMBOLS),
    explain_nodes({node: _rule(op) for op, nodes in NODES.items() for node in nodes}),
)
