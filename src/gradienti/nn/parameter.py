"""``nn.Parameter``: a Tensor that a Module registers as one of its parameters."""

from __future__ import annotations

from ..arguments import check_bool
from ..creation import empty
from ..tensor import FLOAT_ONLY_MESSAGE, Tensor
from ..tensor_copy import rebuild_tensor


class Parameter(Tensor):
    """A leaf Tensor (sharing ``data``'s memory) that requires grad by default."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        # PyTorch's check, made by the call that builds the Parameter
        check_bool(requires_grad, "_make_subclass", "require_grad", 3)
        p = object.__new__(cls)
        p._data = data._as_array()
        p._edge = None
        p._grad = None
        p._set_requires_grad(requires_grad, FLOAT_ONLY_MESSAGE)
        return p

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self, *, tensor_contents=None) -> str:
        return "Parameter containing:\n" + super().__repr__(tensor_contents=tensor_contents)

    __str__ = __repr__  # print(p) too (Tensor binds __str__ to its own __repr__)

    def __deepcopy__(self, memo):
        """A new Parameter with a copy of the values and the same requires_grad; unlike a
        Tensor's deep copy it has no ``.grad`` (PyTorch's ``Parameter.__deepcopy__``)."""
        found = memo.get(id(self))
        if found is None:
            found = memo[id(self)] = rebuild_tensor(
                type(self), self._as_array().copy(), self.requires_grad
            )
        return found
