"""``torch.autograd.graph``: the graph's public tools.

- ``Node``: the base of every backward node (graph/node.py).
- Saved-tensor hooks: ``saved_tensors_hooks(pack_hook, unpack_hook)`` (a stack per thread, as
  in PyTorch; the innermost pair applies), ``save_on_cpu`` and ``disable_saved_tensors_hooks``.
  Where the hooks are called: ops/saved_tensors.py.

- ``increment_version(tensor)``: count an in-place change made where autograd cannot see it.
"""

from __future__ import annotations

import contextlib

from ..graph import versions
from ..graph.node import Node
from ..ops.saved_tensors import HOOKS, pop_hooks, push_hooks
from ..tensor import Tensor

__all__ = [
    "Node",
    "disable_saved_tensors_hooks",
    "increment_version",
    "save_on_cpu",
    "saved_tensors_hooks",
]


# ---------------------------------------------------------------------- saved-tensor hooks
class saved_tensors_hooks:  # noqa: N801 - PyTorch's public name
    """Inside, every tensor an op saves for backward is handed to ``pack_hook(tensor)`` once,
    and what it returns is kept instead; ``unpack_hook(packed)`` must give back a Tensor of the
    same values when backward (or ``grad_fn._saved_<name>``) reads it."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        push_hooks(self.pack_hook, self.unpack_hook)

    def __exit__(self, *exc_info) -> None:
        pop_hooks()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """Saved tensors are kept on the CPU and brought back to their device for backward.
    gradienti computes on the CPU, so a tensor is kept as it is (``pin_memory`` changes
    nothing), as PyTorch does for a CPU tensor."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor):
            return (tensor.device, tensor.cpu())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Inside, entering ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``; so
    does entering this while hooks are on, as in PyTorch."""
    previous = HOOKS.disabled_message
    try:
        if HOOKS.stack:
            raise RuntimeError(error_message)
        HOOKS.disabled_message = error_message
        yield
    finally:
        HOOKS.disabled_message = previous


# ---------------------------------------------------------------------- version counters
def increment_version(tensor) -> None:
    """Count one in-place change of ``tensor`` (or of each tensor of an iterable), made where
    autograd cannot see it: a node that saved it then refuses to run backward, with PyTorch's
    "modified by an inplace operation" error. Views share the count of their memory. (A 0-d
    tensor whose value a node saved as a NumPy scalar keeps that immutable value: no error.)"""
    if isinstance(tensor, Tensor):
        tensor = (tensor,)
    try:
        tensors = iter(tensor)
    except TypeError:
        raise RuntimeError("increment_version expect a Iterable[Tensor] as input") from None
    for each in tensors:
        if not isinstance(each, Tensor):
            raise RuntimeError(
                "increment_version expects each element of the iterable to be a tensor"
            )
        versions.bump(each._as_array())
