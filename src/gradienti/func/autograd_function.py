"""A custom Function's ``vmap`` staticmethod, run under ``vmap`` as PyTorch runs it.

autograd/function_vmap.py decides when it runs (PyTorch's rules); this runs it, as
torch/_functorch/autograd_function.py's ``custom_function_call_vmap_helper``: the arguments
batched at the level are unbatched (batch along dim 0: their ``in_dims`` entry is 0, None for
the others), ``vmap(info, in_dims, *args)`` runs with that level and the ones inside it off,
its result must be ``(outputs, out_dims)`` with ``out_dims`` a prefix of the outputs'
structure, and each output with an ``out_dim`` is batched again at the level; an output that is
one of the unbatched arguments is handed back as the argument itself (so ``mark_dirty``'s
identity holds). Unbatching and batching are vmap's own differentiable ops (ops/batch_dims.py),
so gradients flow through the staticmethod's outputs to the arguments.
"""

from __future__ import annotations

from typing import NamedTuple

from ..autograd.function_vmap import (
    EXTENDING_FUNC_DOCS,
    VMAP_STATICMETHOD,
    batched_at,
    lowered,
)
from ..ops.apply import unary
from ..ops.batch_dims import AddBatchDimBackward0, RemoveBatchDimBackward0, batch_node
from ..tensor import Tensor
from ..utils._pytree import tree_flatten, tree_unflatten
from .vmap import broadcast_to_and_flatten


class VmapInfo(NamedTuple):
    """What a vmap staticmethod learns of the vmap it runs under (PyTorch's ``VmapInfo``)."""

    batch_size: int
    randomness: str


def run_vmap_staticmethod(cls, level, args: tuple):
    """``cls.vmap`` on ``args`` at vmap ``level``: the Function's batched outputs."""
    unbatched, in_dims = [], []
    for arg in args:
        if isinstance(arg, Tensor) and batched_at(arg, level):
            node = batch_node(RemoveBatchDimBackward0, level.id, level.size, 0)
            unbatched.append(unary(node, arg))
            in_dims.append(0)
        else:
            unbatched.append(arg)
            in_dims.append(None)
    info = VmapInfo(batch_size=level.size, randomness=level.randomness)
    with lowered(level):
        result = cls.vmap(info, tuple(in_dims), *unbatched)
    _check_two_returns(result)
    outputs, out_dims = result
    flat, spec = tree_flatten(outputs)
    flat_out_dims = broadcast_to_and_flatten(out_dims, spec)
    if flat_out_dims is None:
        raise RuntimeError(
            "The autograd.Function's vmap staticmethod returned an incompatible (output, "
            f"out_dims) tuple. Expected out_dims={out_dims} to be compatible with the structure "
            f"of `output`. out_dims has structure {tree_flatten(out_dims)[1]} but output has "
            f"structure {spec}. For more details, please see {EXTENDING_FUNC_DOCS}"
        )
    batched = []
    for output, out_dim in zip(flat, flat_out_dims):
        argument = next((arg for arg, inner in zip(args, unbatched) if output is inner), None)
        if not isinstance(output, Tensor) or (argument is None and out_dim is None):
            batched.append(output)
        elif argument is not None:
            batched.append(argument)
        else:
            node = batch_node(AddBatchDimBackward0, level.id, level.size, out_dim)
            batched.append(unary(node, output))
    return tree_unflatten(batched, spec)


def _check_two_returns(result) -> None:
    message = (
        "Expected the vmap staticmethod to have two returns, an output and out_dims with "
        "pytree structure compatible with the output. "
    )
    if not isinstance(result, tuple):
        raise RuntimeError(message + f"Got a {type(result)} instead")
    if len(result) != 2:
        raise RuntimeError(message + f"Got {len(result)} returns instead")


VMAP_STATICMETHOD.run = run_vmap_staticmethod
