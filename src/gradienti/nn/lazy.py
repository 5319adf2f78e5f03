"""Lazy modules, as torch.nn.modules.lazy: ``LazyLinear`` learns ``in_features`` from its first
input. Until then its parameters are ``UninitializedParameter``s (shown
``<UninitializedParameter>``, with no shape); the first call materialises them in place (the
same Parameter objects, so an optimizer made before holds them), initialises them as
``Linear`` does from the same random stream, and the module becomes a ``Linear``.
"""

from __future__ import annotations

from ..backend import xp
from ..creation import empty
from ..graph.grad_mode import no_grad
from .layers import Linear
from .module import Module
from .parameter import Parameter

_NO_SHAPE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
    "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
    "one. Call `forward` to initialize the parameters before accessing their attributes."
)


class UninitializedParameter(Parameter):
    """A parameter without a shape yet (its placeholder array only holds the dtype)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        pass

    @property
    def shape(self):
        raise RuntimeError(_NO_SHAPE)

    def size(self, dim=None):
        raise RuntimeError(_NO_SHAPE)

    def numel(self):
        raise RuntimeError(_NO_SHAPE)

    def dim(self):
        raise RuntimeError(_NO_SHAPE)

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


class LazyModuleMixin:
    """Materialises a module's uninitialized parameters on its first call (a forward pre-hook,
    removed after), then turns the module into ``cls_to_become``."""

    cls_to_become = None

    def _wait_for_first_call(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(
            self._infer_parameters, with_kwargs=True
        )

    def _load_from_state_dict(
        self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # PyTorch's _lazy_load_hook: an uninitialized parameter takes the shape of a loaded one
        # (the module stays lazy until its first call, which then only reads in_features)
        for name, param in list(self._parameters.items()) + list(self._buffers.items()):
            loaded = state_dict.get(prefix + name)
            if is_lazy(param) and loaded is not None and not is_lazy(loaded):
                with no_grad():
                    param.materialize(loaded.shape)
        super()._load_from_state_dict(
            state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs
        )

    def has_uninitialized_params(self) -> bool:
        values = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(value) for value in values)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}"
        )

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        delattr(module, "_initialize_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        # (not Linear's own: it would make and initialise parameters to be replaced)
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self._wait_for_first_call()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # materialised by load_state_dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                    f"in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]
