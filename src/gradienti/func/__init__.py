"""``gradienti.func``: PyTorch's function transforms (``torch.func``).

``vmap`` (func/vmap.py) maps a function over a dimension of its inputs, batched: its ops
compute every sample at once (gradienti/batching). ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``linearize`` (func/transforms.py), ``jacrev``, ``jacfwd``, ``hessian``
(func/jacobians.py) differentiate functions and nest (func/level.py); ``functional_call``
(func/functional_call.py) runs a module with other parameters and buffers.
"""

from __future__ import annotations

from . import autograd_function  # noqa: F401 - runs custom Functions' vmap staticmethods
from .functional_call import functional_call
from .jacobians import hessian, jacfwd, jacrev
from .transforms import grad, grad_and_value, jvp, linearize, vjp
from .vmap import vmap

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "vjp",
    "vmap",
]
