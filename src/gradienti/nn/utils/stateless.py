"""``nn.utils.stateless``: call a module with other tensors in place of its parameters and
buffers (PyTorch's torch/nn/utils/stateless.py and _named_member_accessor.py).

``functional_call`` here is PyTorch's deprecated spelling; ``gradienti.func.functional_call``
is the current one. Both swap the given tensors into the module (``module._parameters[name]``,
``_buffers[name]`` or a plain attribute), call it, and swap the module's own tensors back,
also when the call raises. A tensor given under one of several tied names (the same Parameter
reached by two paths) replaces it under all of them unless ``tie_weights=False``; ``strict``
requires exactly the module's names.
"""

from __future__ import annotations

import contextlib
import warnings

from ...tensor import Tensor
from ..module import Module

__all__ = ["functional_call"]

# A name the module did not have before the swap: swapping back deletes it.
_MISSING = object()


# ---------------------------------------------------------------------- one module's tensors
def _check_name(name: str) -> None:
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')


def _swap_tensor(module: Module, name: str, tensor, allow_missing: bool = False):
    """Put ``tensor`` (``_MISSING``: remove) under ``name`` in ``module``; return what was
    there (``_MISSING`` if nothing)."""
    if not isinstance(module, Module):
        raise TypeError(f"{module} is not an instance of torch.nn.Module")
    if tensor is not _MISSING and not isinstance(tensor, Tensor) and tensor is not None:
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    _check_name(name)
    for table in (module._parameters, module._buffers):
        if name in table:
            original = table[name]
            if tensor is _MISSING:
                del table[name]
            else:
                table[name] = tensor
            return original
    if hasattr(module, name):
        original = getattr(module, name)
    elif allow_missing:
        original = _MISSING
    else:
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    if original is not _MISSING and not isinstance(original, Tensor) and original is not None:
        raise TypeError(f"attribute `{name}`: {original} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return original


class _NamedMemberAccessor:
    """Tensors of a module and its submodules by dotted name (``"layer.0.weight"``)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.memo: dict = {}

    def get_submodule(self, name: str) -> Module:
        if not name:
            return self.module
        if name in self.memo:
            return self.memo[name]
        prefix, dot, attr = name.rpartition(".")
        module = self.get_submodule(prefix) if dot else self.module
        try:
            submodule = getattr(module, attr)
        except AttributeError as error:
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`") from error
        if not isinstance(submodule, Module):
            raise TypeError(
                f"submodule `{name}`: {submodule} is not an instance of torch.nn.Module"
            )
        self.memo[name] = submodule
        return submodule

    def swap_tensor(self, name: str, value, allow_missing: bool = False):
        prefix, _, attr = name.rpartition(".")
        return _swap_tensor(self.get_submodule(prefix), attr, value, allow_missing)

    def swap_tensors_dict(self, named_tensors: dict) -> dict:
        """Swap all of them in; on an error, swap back the ones already swapped and raise."""
        originals: dict = {}
        try:
            for name, tensor in named_tensors.items():
                originals[name] = self.swap_tensor(name, tensor, allow_missing=True)
        except Exception:
            for name, original in originals.items():
                self.swap_tensor(name, original, allow_missing=True)
            raise
        return originals

    def check_keys(self, keys) -> tuple[list, list]:
        """(missing, unexpected) names, sorted: the module's tensors not in ``keys``, and the
        ``keys`` that are none of them."""
        keys = set(keys)
        valid = {name for name, _ in self.module.named_parameters(remove_duplicate=False)}
        valid |= {name for name, _ in self.module.named_buffers(remove_duplicate=False)}
        return sorted(valid - keys), sorted(keys - valid)


# ---------------------------------------------------------------------- tied weights
def _untie_named_tensors_map(module: Module, parameters_and_buffers: dict) -> dict:
    """The given tensors, each also under every other name of the tensor it replaces."""
    all_named: dict = dict(module.named_parameters(remove_duplicate=False))
    all_named.update(module.named_buffers(remove_duplicate=False))
    names_of: dict = {}  # id(tensor) -> its names
    for name, tensor in all_named.items():
        names_of.setdefault(id(tensor), set()).add(name)
    tied_names: dict = {}  # name -> all names of its tensor, for tensors with several names
    for names in names_of.values():
        if len(names) > 1:
            for name in names:
                tied_names[name] = names
    given_tied = {name for name in parameters_and_buffers if name in tied_names}
    for given in given_tied:
        names = tied_names[given]
        # As PyTorch: compares the values of all the tied names (a KeyError when only some
        # of three or more are given).
        if (
            len(names & given_tied) > 1
            and len({id(parameters_and_buffers[name]) for name in names}) != 1
        ):
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                "Consider using tie_weights=False"
            )
    untied = dict(parameters_and_buffers)
    for given in given_tied:
        for name in tied_names[given]:
            untied[name] = parameters_and_buffers[given]
    return untied


@contextlib.contextmanager
def _reparametrize_module(
    module: Module, parameters_and_buffers: dict, tie_weights: bool = False, strict: bool = False
):
    """Inside: the module computes with ``parameters_and_buffers``; after (also on an error):
    its own tensors again."""
    if tie_weights:
        untied = _untie_named_tensors_map(module, parameters_and_buffers)
    else:
        untied = parameters_and_buffers
    accessor = _NamedMemberAccessor(module)
    if strict:
        missing, unexpected = accessor.check_keys(untied)
        messages = []
        if unexpected:
            messages.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            messages.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if messages:
            raise RuntimeError(
                f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(messages)
            )
    originals: dict = {}
    try:
        originals = accessor.swap_tensors_dict(untied)
        yield
    finally:
        swapped_out = accessor.swap_tensors_dict(originals)
        # A module that assigned a tensor in place of a given one during the call: the
        # caller's dict gets the new tensor (as PyTorch writes it back).
        parameters_and_buffers.update(
            {name: swapped_out[name] for name in parameters_and_buffers if name in swapped_out}
        )


def call_with(module: Module, parameters_and_buffers: dict, args, kwargs, *, tie_weights, strict):
    """``module(*args, **kwargs)`` with ``parameters_and_buffers`` in place of its own."""
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(
        module, parameters_and_buffers, tie_weights=tie_weights, strict=strict
    ):
        return module(*args, **kwargs)


def functional_call(
    module: Module,
    parameters_and_buffers: dict,
    args=None,
    kwargs=None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
):
    """Deprecated as in PyTorch: ``gradienti.func.functional_call`` is the drop-in replacement."""
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will "
        "be removed in a future version of PyTorch. Please use `torch.func.functional_call` "
        "instead which is a drop-in replacement.",
        FutureWarning,
        stacklevel=2,
    )
    return call_with(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
