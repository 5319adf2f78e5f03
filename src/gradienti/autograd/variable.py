"""``torch.autograd.Variable``: before PyTorch 0.4 a wrapper that made a tensor differentiable;
now ``Variable(t, requires_grad=True)`` returns a Tensor (a leaf sharing ``t``'s memory) and
every Tensor is an instance of ``Variable``, as in PyTorch."""

from __future__ import annotations

import warnings

from ..creation import REQUIRES_GRAD_DTYPE_MESSAGE, empty
from ..python_types import type_name
from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: ``data`` detached (the same
    memory), a leaf that requires grad if asked; ``volatile`` has no effect any more."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(data)}")
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        result = data.detach()
        if requires_grad:
            result._set_requires_grad(True, REQUIRES_GRAD_DTYPE_MESSAGE)
        return result
