"""What ``make_dot(..., show_values=True)`` writes under an operation's name: the expression its
output stands for and that output's forward value (``PowBackward0`` / ``x³ = 8``).

The expressions are ``explain``'s (viz/explain.py's names: the user's names, else the expression
in the inputs' names, ``5·x³``; an expression longer than ``explain`` writes out is replaced by
the short name ``explain`` gives it, ``mul₃``), and the values are the ones the graph still holds
or can replay (viz/explain_values.py). Nothing runs backward: a picture drawn after
``backward()`` freed the saved values shows what can still be known (the leaves, the output,
what replays from them) and no value elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import xp
from ..graph.node import AccumulateGrad, edge_parts
from ..ops.explain_rule import num
from .explain import EXPRESSION_MAX, _Names, _reachable
from .explain_values import known_values

__all__ = ["ForwardFacts", "forward_facts"]


@dataclass
class ForwardFacts:
    """Per backward node (by identity): the text that names its output and the output's value."""

    expressions: dict = field(default_factory=dict)  # op node -> "5·x³"
    values: dict = field(default_factory=dict)  # op node -> its forward output (an array)
    leaf_names: dict = field(default_factory=dict)  # AccumulateGrad -> "x0" (explain's name)
    freed: bool = False  # some node's saved values were freed by backward()


def forward_facts(outputs: list, names: dict) -> ForwardFacts:
    """The expressions and values of every node that leads to ``outputs``.

    ``names`` maps a name to a tensor (make_dot's ``params`` and ``names`` together); the
    tensors it names are written by those names, as ``explain(..., names=...)`` writes them.
    """
    facts = ForwardFacts()
    with_graph = [
        tensor
        for tensor in outputs
        if tensor._edge is not None and type(edge_parts(tensor._edge)[0]) is not AccumulateGrad
    ]
    if not with_graph:
        return facts
    nodes = _union_of_reachable([edge_parts(tensor._edge)[0] for tensor in with_graph])
    known = known_values(nodes, with_graph[0])
    for tensor in with_graph[1:]:
        known[edge_parts(tensor._edge)] = tensor._data
    named = _Names(list(reversed(nodes)), names or None, with_graph[0], known)
    for node in nodes:
        if type(node) is AccumulateGrad:
            facts.leaf_names[node] = named.display[node].text
            continue
        facts.freed = facts.freed or node._saved is None
        facts.expressions[node] = _shown_expression(
            named.expression[node], named.display[node].text
        )
        if node.num_outputs == 1:
            facts.values[node] = known.get((node, 0))
    return facts


def _union_of_reachable(roots: list) -> list:
    """Every node below any of ``roots``, newest first (as ``explain`` orders one root's)."""
    if len(roots) == 1:
        return _reachable(roots[0])
    seen: dict = {}
    for root in roots:
        for node in _reachable(root):
            seen.setdefault(id(node), node)
    return sorted(seen.values(), key=lambda node: -node._seq)


def _shown_expression(expression: str, display: str) -> str:
    """The expression, or the name ``explain`` uses for it where it is too long to write out
    (the output of a long expression has no short name: it is cut with an ellipsis)."""
    if len(expression) <= EXPRESSION_MAX:
        return expression
    if display != expression:
        return display
    return expression[: EXPRESSION_MAX - 1] + "…"


def scalar_text(value) -> str | None:
    """A single real number as ``explain`` writes it (``8``, ``0.5``), else None."""
    try:
        array = xp.asarray(value)
        if array.ndim != 0 or array.dtype.kind not in "biuf":
            return None
        return num(array[()])
    except Exception:  # noqa: BLE001 - a value that cannot be shown must not stop the picture
        return None
