"""``out=`` of the sampling functions (``normal``, ``bernoulli``, ``multinomial``), which draw
straight into ``out`` as PyTorch's ``*_out`` kernels do (so ``out``'s dtype and memory order
set the draws): PyTorch's checks, and the resize of an ``out`` of another shape.
"""

from __future__ import annotations

import warnings

from ..graph.grad_mode import grad_state
from ..python_types import type_name
from ..tensor import Tensor
from .call_forms import RESIZE_WARNING, _resized


def check_out(name: str, out, inputs: tuple) -> None:
    """``out`` is a Tensor, and no argument requires grad (PyTorch records no graph into an
    ``out``)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type_name(out)}")
    tensors = [value for value in (*inputs, out) if isinstance(value, Tensor)]
    if grad_state.enabled and any(value._edge is not None for value in tensors):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )


def resize_out(out: Tensor, shape: tuple, warn: bool = True) -> None:
    """``out`` resized to ``shape`` as ``resize_output`` does (PyTorch's warning when ``out``
    had elements; ``warn=False``: a plain ``resize_``)."""
    shape = tuple(shape)
    if out._data.shape == shape:
        return
    if warn and out._data.size:
        warnings.warn(
            RESIZE_WARNING.format(old=list(out._data.shape), new=list(shape)),
            UserWarning,
            stacklevel=4,
        )
    out._data = _resized(out._data, shape)
