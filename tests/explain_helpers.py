"""What the explain-rule tests of the op modules share: the node classes a module defines, a
leaf with distinct values, the nodes of a graph, and whether explain tells a node generically."""

from __future__ import annotations

import inspect

import numpy as np

import gradienti
from gradienti.graph.node import Op
from gradienti.viz.explain_rules import rule_for


def node_classes(*modules) -> list:
    """The Op classes the modules define themselves (not the ones they import), by name."""
    return sorted(
        {
            cls
            for module in modules
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Op) and cls.__module__ == module.__name__
        },
        key=lambda cls: cls.__name__,
    )


def leaf(*size):
    """A float64 leaf that requires grad, with distinct values (none 0 or 1)."""
    count = int(np.prod(size)) if size else 1
    values = (np.arange(count, dtype=np.float64) * 0.7 - 1.1).reshape(size)
    return gradienti.tensor(values, requires_grad=True)


def nodes_below(tensor) -> list:
    """Every node of ``tensor``'s graph, each once."""
    seen, stack, found = set(), [tensor.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(child for child, _ in node.next_functions)
    return found


def told_generically(node) -> bool:
    """Whether explain has no rule of its own for ``node`` (the "∂ computed by" text)."""
    return any("∂ computed by" in text for text in rule_for(node).passes)
