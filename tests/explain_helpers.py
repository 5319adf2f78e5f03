"""What the explain-rule tests of the op modules share: the node classes a module defines, and a
leaf with distinct values."""

from __future__ import annotations

import inspect

import numpy as np

import gradienti
from gradienti.graph.node import Op


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
