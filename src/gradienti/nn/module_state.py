"""A Module's state: ``state_dict`` (its parameters and persistent buffers, by dotted name) and
loading one back, with PyTorch's report of missing and unexpected keys and its error messages.

``nn.Module``'s ``state_dict``, ``_load_from_state_dict`` and ``load_state_dict`` are thin
methods over these functions. The walks go through those methods on every submodule, so a
subclass that overrides one (BatchNorm's ``_load_from_state_dict``) is still called.
"""

from __future__ import annotations

import itertools
from collections import namedtuple

from ..graph.grad_mode import no_grad
from ..tensor import Tensor

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _IncompatibleKeys(_IncompatibleKeys):  # noqa: F811 - PyTorch's name and repr
    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def save_state(module, destination, prefix: str, keep_vars: bool):
    """Add ``module``'s parameters and persistent buffers to ``destination`` under ``prefix``,
    then each child's (through its ``state_dict``); detached unless ``keep_vars``."""
    for name, param in module._parameters.items():
        if param is not None:
            destination[prefix + name] = param if keep_vars else param.detach()
    for name, buf in module._buffers.items():
        if buf is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = buf if keep_vars else buf.detach()
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(
                destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
            )
    return destination


def load_own_state(
    module, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs
) -> None:
    """Copy the entries under ``prefix`` into ``module``'s own parameters and persistent buffers
    (not its children's), collecting the missing and unexpected keys and the errors."""
    persistent_buffers = {
        k: v for k, v in module._buffers.items() if k not in module._non_persistent_buffers_set
    }
    local_state = {
        k: v
        for k, v in itertools.chain(module._parameters.items(), persistent_buffers.items())
        if v is not None
    }
    for name, param in local_state.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        input_param = state_dict[key]
        if not isinstance(input_param, Tensor):
            error_msgs.append(
                f'While copying the parameter named "{key}", expected torch.Tensor or '
                "Tensor-like object from checkpoint but received "
                f"{type(input_param)}"
            )
            continue
        if input_param.shape != param.shape:
            error_msgs.append(
                f"size mismatch for {key}: copying a param with shape {input_param.shape} "
                f"from checkpoint, the shape in current model is {param.shape}."
            )
            continue
        try:
            with no_grad():
                param.copy_(input_param)
        except Exception as ex:  # noqa: BLE001 - reported as PyTorch does
            error_msgs.append(
                f'While copying the parameter named "{key}", whose dimensions in the model '
                f"are {param.shape} and whose dimensions in the checkpoint are "
                f"{input_param.shape}, an exception occurred : {ex.args}."
            )
    if strict:
        for key in state_dict:
            if key.startswith(prefix):
                input_name = key[len(prefix) :].split(".", 1)
                if len(input_name) > 1:
                    if input_name[0] not in module._modules:
                        unexpected_keys.append(key)
                elif input_name[0] not in local_state:
                    unexpected_keys.append(key)


def load_state(module, state_dict, strict: bool) -> _IncompatibleKeys:
    """Load ``state_dict`` into ``module`` and its submodules (each through its
    ``_load_from_state_dict``); with ``strict``, a missing or unexpected key is an error."""
    missing_keys: list = []
    unexpected_keys: list = []
    error_msgs: list = []

    def load(module, prefix=""):
        module._load_from_state_dict(
            state_dict, prefix, True, missing_keys, unexpected_keys, error_msgs
        )
        for name, child in module._modules.items():
            if child is not None:
                load(child, prefix + name + ".")

    load(module)
    if strict:
        if unexpected_keys:
            error_msgs.insert(
                0,
                "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)
                ),
            )
        if missing_keys:
            error_msgs.insert(
                0,
                "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)
                ),
            )
    if error_msgs:
        raise RuntimeError(
            "Error(s) in loading state_dict for {}:\n\t{}".format(
                module.__class__.__name__, "\n\t".join(error_msgs)
            )
        )
    return _IncompatibleKeys(missing_keys, unexpected_keys)
