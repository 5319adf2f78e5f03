"""A custom ``Function`` called under ``gradienti.func.vmap``: PyTorch's rules for it.

Inside vmap a batched tensor's ``_data`` is a BatchedArray (gradienti/batching), which every op
computes on as one sample's value. A Function meets it in one of three ways, as PyTorch decides
(torch/_functorch/autograd_function.py), at the innermost vmap level that batches one of its
arguments (levels that batch none are passed, as PyTorch lowers past them):

- ``generate_vmap_rule = True``: forward, setup_context and backward run on the batched values
  as they are (they must use gradienti's ops only, as PyTorch requires);
- a ``vmap(info, in_dims, *args)`` staticmethod: it gets the arguments unbatched at that level
  (the batch along dim 0; ``in_dims`` says which were batched) and ``info`` (PyTorch's
  ``VmapInfo``: ``batch_size``, ``randomness``), runs with that level and the ones inside it
  off, and returns ``(outputs, out_dims)``, which batch the outputs again. Its runner needs
  the pytree tools of the layer above, so gradienti.func registers it here
  (``VMAP_STATICMETHOD.run``; func/autograd_function.py);
- neither: PyTorch's RuntimeError. Any Function under vmap needs the separate ``forward`` /
  ``setup_context`` style (PyTorch's RuntimeError otherwise, even when nothing is batched).

``autograd.grad(..., is_grads_batched=True)`` batches its backward pass with vmap levels of its
own (``PLAIN_LEVELS``), under which Functions run as they are, as under PyTorch's legacy vmap.
"""

from __future__ import annotations

from .. import batching
from ..graph.dual import tangent_of
from ..tensor import Tensor

EXTENDING_FUNC_DOCS = "https://pytorch.org/docs/main/notes/extending.func.html"
SETUP_CONTEXT_REQUIRED = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
    "...), it must override the setup_context staticmethod. For more details, please see "
    f"{EXTENDING_FUNC_DOCS}"
)

# What ``routed`` returns when ``apply`` runs the Function on the batched values as they are.
RUN_AS_IS = object()

# Ids of the vmap levels of ``is_grads_batched`` (autograd/batched_grad.py).
PLAIN_LEVELS: set = set()


class _VmapStaticmethod:
    """``run(cls, level, args)``: set by gradienti.func (func/autograd_function.py)."""

    run = None


VMAP_STATICMETHOD = _VmapStaticmethod()


def routed(cls, args: tuple, separate: bool, overrides_vmap: bool):
    """What ``cls.apply(*args)`` gives under vmap: RUN_AS_IS, or the outputs of its vmap
    staticmethod; PyTorch's errors (see the module docstring). Called while a vmap runs."""
    levels = [level for level in batching.ACTIVE.levels if level.id not in PLAIN_LEVELS]
    if not levels:
        return RUN_AS_IS
    if not separate:
        raise RuntimeError(SETUP_CONTEXT_REQUIRED)
    level = _innermost_batching(levels, args)
    if level is None:
        return RUN_AS_IS
    name = cls.__name__
    if cls.generate_vmap_rule:
        if overrides_vmap:
            raise RuntimeError(
                f"You tried to vmap over {name}, but it has both generate_vmap_rule=True and an "
                "overridden vmap staticmethod. Please set generate_vmap_rule=False or delete the "
                "overridden vmap staticmethod to avoid ambiguity. For more details, please see "
                f"{EXTENDING_FUNC_DOCS}"
            )
        return RUN_AS_IS
    if not overrides_vmap:
        raise RuntimeError(
            f"You tried to vmap over {name}, but it does not have vmap support. Please override "
            "and implement the vmap staticmethod or set generate_vmap_rule=True. For more "
            f"details, please see {EXTENDING_FUNC_DOCS}"
        )
    return VMAP_STATICMETHOD.run(cls, level, args)


def _innermost_batching(levels: list, args: tuple):
    """The innermost of ``levels`` at which some tensor argument is batched, or None."""
    tensors = [arg for arg in args if isinstance(arg, Tensor)]
    for level in reversed(levels):
        if any(batched_at(tensor, level) for tensor in tensors):
            return level
    return None


def batched_at(tensor: Tensor, level) -> bool:
    """Whether the tensor is batched at ``level``: its value, or its tangent (``jacfwd`` vmaps
    over the tangents; in PyTorch that makes the dual tensor itself batched)."""
    if batching.is_batched_at(tensor._data, level.id):
        return True
    tangent = tangent_of(tensor)
    return tangent is not None and batching.is_batched_at(tangent._data, level.id)


class lowered:  # noqa: N801 - reads as a statement: ``with lowered(level):``
    """Run with ``level`` and the levels inside it off (PyTorch's ``interpreter.lower()``): the
    code sees the arrays of those levels as plain, physical arrays."""

    __slots__ = ("_level", "_removed")

    def __init__(self, level) -> None:
        self._level = level

    def __enter__(self) -> None:
        levels = batching.ACTIVE.levels
        index = levels.index(self._level)
        self._removed = levels[index:]
        del levels[index:]

    def __exit__(self, *exc_info) -> None:
        batching.ACTIVE.levels.extend(self._removed)
