"""``gradienti.func.vmap``: PyTorch's ``torch.func.vmap``, batched rather than looped.

``vmap(f, in_dims, out_dims)(*args)`` runs ``f`` once on tensors whose ``_data`` are
BatchedArrays (gradienti/batching): each presents one sample and holds all of them, so every op
``f`` calls computes the whole batch in one NumPy call, through the batching rules. Arguments,
``in_dims`` and ``out_dims`` are nested structures as PyTorch's (utils/_pytree.py), checked with
PyTorch's error texts. A vmap inside ``f`` is a new level, nested inside this one.

The edge of vmap is made of differentiable ops (ops/batch_dims.py): batching an input and
unbatching an output are recorded when they require grad, and when ``f``'s outputs require
grad, the edges from the graph ``f`` recorded to tensors from outside (captured parameters)
get a node that sums the samples' gradients, so that gradients computed after vmap returns are
those of the batched function. Inside vmap, gradients stay per sample: ``vmap(grad(f))``.
"""

from __future__ import annotations

import functools
import itertools

from .. import batching
from ..graph.grad_mode import enter_special, leave_special
from ..graph.node import next_sequence_number
from ..ops.apply import unary
from ..ops.batch_dims import (
    AddBatchDimBackward0,
    RemoveBatchDimBackward0,
    batch_node,
    sum_gradients_leaving,
)
from ..ops.join import cat
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from ..utils._pytree import LeafSpec, tree_flatten, tree_unflatten

__all__ = ["vmap"]


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (PyTorch's ``torch.func.vmap``)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _vmap_impl(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return wrapped


def _get_name(func) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


# ---------------------------------------------------------------------- structures
def broadcast_to_and_flatten(prefix, spec):
    """``prefix`` (a structure whose leaves may stand for whole subtrees of ``spec``'s) as one
    value per leaf of ``spec``; None when it is not a prefix of it (PyTorch's
    ``_broadcast_to_and_flatten``)."""
    prefix_leaves, prefix_spec = tree_flatten(prefix)
    if prefix_spec.is_leaf():
        return [prefix] * spec.num_leaves
    values = iter(prefix_leaves)
    flat: list = []
    if not _broadcast_into(prefix_spec, spec, values, flat):
        return None
    return flat


def _broadcast_into(prefix_spec, spec, values, flat: list) -> bool:
    if prefix_spec.is_leaf():
        flat.extend([next(values)] * spec.num_leaves)
        return True
    if (
        spec.is_leaf()
        or prefix_spec.type is not spec.type
        or prefix_spec.context != spec.context
        or len(prefix_spec.children_specs) != len(spec.children_specs)
    ):
        return False
    return all(
        _broadcast_into(prefix_child, child, values, flat)
        for prefix_child, child in zip(prefix_spec.children_specs, spec.children_specs)
    )


# ---------------------------------------------------------------------- inputs
def _process_batched_inputs(in_dims, args: tuple, func):
    if not isinstance(in_dims, int) and not isinstance(in_dims, tuple):
        raise ValueError(
            f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to "
            "be int or a (potentially nested) tuple matching the structure of inputs, got: "
            f"{type(in_dims)}."
        )
    if len(args) == 0:
        raise ValueError(
            f"vmap({_get_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, "
            "or you are trying to vmap over a function with no inputs. The latter is "
            "unsupported."
        )
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(
            f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
            "compatible with the structure of `inputs`. in_dims has structure "
            f"{tree_flatten(in_dims)[1]} but inputs has structure {args_spec}."
        )
    for index, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(
                f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} "
                "for an input but in_dim must be either an integer dimension or None."
            )
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(
                f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} "
                f"for an input but the input is of type {type(arg)}. We cannot vmap over "
                "non-Tensor arguments, please use None as the respective in_dim"
            )
        if in_dim is not None and (in_dim < -arg.dim() or in_dim >= arg.dim()):
            raise ValueError(
                f"vmap({_get_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} "
                f"for some input, but that input is a Tensor of dimensionality {arg.dim()} so "
                f"expected in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}."
            )
        if in_dim is not None and in_dim < 0:
            flat_in_dims[index] = in_dim % arg.dim()
    return _batch_size(flat_in_dims, flat_args), flat_in_dims, flat_args, args_spec


def _batch_size(flat_in_dims: list, flat_args: list) -> int:
    sizes = [arg.size(in_dim) for in_dim, arg in zip(flat_in_dims, flat_args) if in_dim is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension"
        )
    return sizes[0]


def _check_out_dims(out_dims, func) -> None:
    if isinstance(out_dims, int):
        return
    for value in tree_flatten(out_dims)[0]:
        if not isinstance(value, int) and value is not None:
            raise ValueError(
                f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                "None or a python collection of ints representing where in the outputs the "
                "vmapped dimension should appear."
            )


# ---------------------------------------------------------------------- running
def _vmap_impl(func, in_dims, out_dims, randomness, chunk_size, args, kwargs):
    _check_out_dims(out_dims, func)
    batch_size, flat_in_dims, flat_args, args_spec = _process_batched_inputs(in_dims, args, func)
    if chunk_size is None:
        return _flat_vmap(
            func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs
        )
    return _chunked_vmap(
        func, batch_size, chunk_size, flat_in_dims, flat_args, args_spec, out_dims, randomness,
        kwargs,
    )  # fmt: skip


def _flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs):
    level = batching.enter(batch_size, randomness)
    enter_special()  # (ops take the general path; backward() there refuses, as PyTorch)
    try:
        first_node = next_sequence_number()  # every node recorded inside comes after it
        batched = [
            arg if in_dim is None else _apply(AddBatchDimBackward0, arg, level, in_dim)
            for in_dim, arg in zip(flat_in_dims, flat_args)
        ]
        outputs = func(*tree_unflatten(batched, args_spec), **kwargs)
        results = _unwrap_batched(outputs, out_dims, level, func)
        sum_gradients_leaving(tree_flatten(results)[0], level, first_node)
        return results
    finally:
        leave_special()
        batching.leave(level)


def _apply(node_class, tensor: Tensor, level, dim) -> Tensor:
    return unary(batch_node(node_class, level.id, level.size, dim), tensor)


def _unwrap_batched(outputs, out_dims, level, func):
    flat_outputs, output_spec = tree_flatten(outputs)

    def incompatible():
        return ValueError(
            f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
            "compatible with the structure of `outputs`. out_dims has structure "
            f"{tree_flatten(out_dims)[1]} but outputs has structure {output_spec}."
        )

    if isinstance(outputs, Tensor):
        # (PyTorch's edge case: a lone Tensor output takes an int, a 1-tuple or None)
        if isinstance(out_dims, int) or out_dims is None:
            flat_out_dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat_out_dims = list(out_dims)
        else:
            raise incompatible()
    else:
        flat_out_dims = broadcast_to_and_flatten(out_dims, output_spec)
        if flat_out_dims is None:
            raise incompatible()
    name = _get_name(func)
    unbatched = [
        _remove_batch_dim(name, output, level, out_dim)
        for output, out_dim in zip(flat_outputs, flat_out_dims)
    ]
    return tree_unflatten(unbatched, output_spec)


def _remove_batch_dim(name: str, output, level, out_dim):
    if out_dim is None:
        if isinstance(output, Tensor) and batching.is_batched_at(output._data, level.id):
            raise ValueError(
                f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
            )
        return output
    if not isinstance(output, Tensor):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(output)}. "
            "Did you mean to set out_dims= to None for output?"
        )
    ndim = output.dim() + 1
    if not -ndim <= out_dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
            f"{out_dim})"
        )
    return _apply(RemoveBatchDimBackward0, output, level, out_dim % ndim)


# ---------------------------------------------------------------------- chunks
def _chunked_vmap(
    func, batch_size, chunk_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs
):
    starts = range(0, batch_size, chunk_size)
    state = get_rng_state() if randomness == "same" else None
    chunk_outputs = []
    for start in starts:
        length = min(chunk_size, batch_size - start)
        chunk_args = [
            arg if in_dim is None else arg.narrow(in_dim, start, length)
            for arg, in_dim in zip(flat_args, flat_in_dims)
        ]
        if state is not None:
            set_rng_state(state)
        chunk_outputs.append(
            _flat_vmap(
                func, length, flat_in_dims, chunk_args, args_spec, out_dims, randomness, kwargs
            )
        )
    flat_chunks, output_spec = [], None
    for output in chunk_outputs:
        leaves, spec = tree_flatten(output)
        flat_chunks.append(leaves)
        output_spec = output_spec or spec
    flat_out_dims = (
        [out_dims]
        if isinstance(output_spec, LeafSpec)
        else broadcast_to_and_flatten(out_dims, output_spec)
    )
    joined = [
        cat(list(parts), dim=out_dim)
        for parts, out_dim in zip(itertools.zip_longest(*flat_chunks), flat_out_dims)
    ]
    return tree_unflatten(joined, output_spec)
