"""Lazy modules, as torch.nn.modules.lazy: ``LazyLinear`` learns ``in_features`` from its first
input. Until then its parameters are ``UninitializedParameter``s (shown
``<UninitializedParameter>``, with no shape); the first call materialises them in place (the
same Parameter objects, so an optimizer made before holds them), initialises them as
``Linear`` does from the same random stream, and the module becomes a ``Linear``.
"""

from __future__ import annotations

from ..graph.grad_mode import no_grad
from .layers import Linear
from .module import Module
from .parameter import UninitializedParameter, is_lazy


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
