"""NumPy ufuncs applied to Tensors run the differentiable ops.

VJPs call ``xp.cos(x)``, ``xp.where(...)`` and operators on whatever they are given; during a
recorded backward (``create_graph=True``) those are Tensors, and the op declarations' ``ufunc``
(gathered in ``ops/api.py``) send each ufunc to the op that records it. A ufunc without an op
is refused rather than silently computed off the graph.
"""

from __future__ import annotations

from .api import UFUNCS


def array_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    handler = UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or handler is None:
        return NotImplemented
    return handler(*inputs)
