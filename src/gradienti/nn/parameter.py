"""``nn.Parameter``: a Tensor that a Module registers as one of its parameters; and
``UninitializedParameter``, a lazy module's parameter before its shape is known (nn/lazy.py)."""

from __future__ import annotations

from ..arguments import check_bool
from ..backend import xp
from ..creation import REQUIRES_GRAD_DTYPE_MESSAGE, empty
from ..tensor import Tensor
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
        p._set_requires_grad(requires_grad, REQUIRES_GRAD_DTYPE_MESSAGE)  # (_make_subclass's)
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


_NO_SHAPE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
    "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
    "one. Call `forward` to initialize the parameters before accessing their attributes."
)


def _used_uninitialized(what: str) -> ValueError:
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when you "
        "are using a `LazyModule` or explicitly manipulating "
        "`torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
        "`forward` with a dummy batch to initialize the parameters before calling torch "
        "functions"
    )


class UninitializedParameter(Parameter):
    """A parameter without a shape yet (its placeholder array only holds the dtype). As in
    PyTorch, ``shape`` raises a RuntimeError; ``numel()``, ``dim()`` and ``len()`` raise
    PyTorch's ValueError; ``size()`` and ``ndim`` answer for the empty placeholder."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        pass

    @property
    def shape(self):
        raise RuntimeError(_NO_SHAPE)

    def numel(self):
        raise _used_uninitialized("<method 'numel' of 'torch._C.TensorBase' objects>")

    nelement = numel

    def dim(self):
        raise _used_uninitialized("<method 'dim' of 'torch._C.TensorBase' objects>")

    ndimension = dim

    def __len__(self):
        raise _used_uninitialized("<function Tensor.__len__>")

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter ``shape`` (uninitialised values) and make it a Parameter."""
        dtype = self._data.dtype if dtype is None else empty(0, dtype=dtype)._data.dtype
        self._data = xp.empty(tuple(shape), dtype=dtype)
        self.__class__ = self.cls_to_become

    def detach(self):
        return self  # (a state_dict holds the parameter itself, as PyTorch's lazy modules')

    def __repr__(self, *, tensor_contents=None) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        found = memo.get(id(self))
        if found is None:
            found = memo[id(self)] = type(self)(self.requires_grad, dtype=None)
            found._data = self._data.copy()
        return found


def is_lazy(value) -> bool:
    return isinstance(value, UninitializedParameter)
