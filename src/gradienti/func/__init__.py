"""``gradienti.func``: PyTorch's function transforms (``torch.func``).

``vmap`` (func/vmap.py) maps a function over a dimension of its inputs, batched: its ops
compute every sample at once (gradienti/batching).
"""

from __future__ import annotations

from . import autograd_function  # noqa: F401 - runs custom Functions' vmap staticmethods
from .vmap import vmap

__all__ = ["vmap"]
