"""``jacrev``, ``jacfwd`` and ``hessian`` of ``gradienti.func``, as PyTorch's (torch.func).

A Jacobian is a VJP (``jacrev``: one row per output element) or a JVP (``jacfwd``: one column
per input element) for each vector of the standard basis, all at once: ``vmap`` over the basis
(as PyTorch), so that the rows or columns come from one batched pass. Shapes: the Jacobian of
an output of shape ``O`` with respect to an input of shape ``I`` has shape ``O + I``; several
outputs and inputs give nested structures, as PyTorch's.
"""

from __future__ import annotations

import functools

from ..backend import xp
from ..graph.node import NO_EDGE
from ..ops.join import cat, split
from ..tensor import Tensor, wrap
from ..utils._pytree import tree_flatten, tree_map, tree_unflatten
from .level import slice_argnums
from .transforms import jvp_with_argnums, vjp_with_argnums
from .vmap import vmap

__all__ = ["hessian", "jacfwd", "jacrev"]


def _chunk_sizes(total: int, chunk_size: int) -> list:
    sizes = [chunk_size] * (total // chunk_size)
    if total % chunk_size:
        sizes.append(total % chunk_size)
    return sizes


def _chunked_standard_basis(tensors, numels, chunk_size=None):
    """The standard basis of the concatenated (flattened) ``tensors``, in chunks of rows: for
    each chunk, one tensor per input of shape ``(rows, *input.shape)``."""
    total = sum(numels)
    chunks = _chunk_sizes(total, chunk_size) if chunk_size and chunk_size < total else [total]
    start = 0
    for rows in chunks:
        row_index = xp.arange(rows)
        pieces = []
        offset = 0
        for tensor, numel in zip(tensors, numels):
            data = xp.zeros((rows, numel), dtype=tensor._data.dtype)
            column = row_index + start - offset
            inside = (column >= 0) & (column < numel)
            data[row_index[inside], column[inside]] = 1
            pieces.append(wrap(data.reshape((rows, *tensor.shape)), NO_EDGE))
            offset += numel
        start += rows
        yield tuple(pieces)


# ---------------------------------------------------------------------- jacrev
def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to ``args[argnums]`` in reverse mode (a VJP per
    output element); ``chunk_size`` rows at a time (None: all at once)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        result = vjp_with_argnums(func, *args, argnums=argnums, has_aux=has_aux)
        output, vjp_fn = result[0], result[1]
        flat_outputs, output_spec = tree_flatten(output)
        output_numels = [out.numel() for out in flat_outputs]
        flat_primals, primals_spec = tree_flatten(slice_argnums(args, argnums))
        chunked_rows = []
        for basis_chunk in _chunked_standard_basis(flat_outputs, output_numels, chunk_size):
            if chunk_size == 1:  # one row: vjp_fn itself, as PyTorch (no vmap)
                basis = tree_unflatten([b.squeeze(0) for b in basis_chunk], output_spec)
                rows = [r.unsqueeze(0) for r in tree_flatten(vjp_fn(basis))[0]]
            else:
                basis = tree_unflatten(list(basis_chunk), output_spec)
                rows = tree_flatten(vmap(vjp_fn)(basis))[0]
            chunked_rows.append(rows)
        if len(chunked_rows) == 1:
            rows_per_input = chunked_rows[0]
        else:
            rows_per_input = [
                cat([rows[i] for rows in chunked_rows]) for i in range(len(flat_primals))
            ]
        # rows_per_input[i]: (sum of output numels, *input_i.shape) -> one block per output
        per_input = [
            [
                block.reshape(tuple(out.shape) + tuple(primal.shape))
                for block, out in zip(split(rows, output_numels), flat_outputs)
            ]
            for rows, primal in zip(rows_per_input, flat_primals)
        ]
        per_output = [tree_unflatten(list(blocks), primals_spec) for blocks in zip(*per_input)]
        if isinstance(argnums, int):
            per_output = [blocks[0] for blocks in per_output]
        jacobian = tree_unflatten(per_output, output_spec)
        return (jacobian, result[2]) if has_aux else jacobian

    return wrapper


# ---------------------------------------------------------------------- jacfwd
def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian of ``func`` with respect to ``args[argnums]`` in forward mode (a JVP per
    input element)."""

    @functools.wraps(func)
    def wrapper(*args):
        primals = args if argnums is None else slice_argnums(args, argnums)
        flat_primals, primals_spec = tree_flatten(primals)
        primal_numels = [p.numel() for p in flat_primals]
        (flat_basis,) = _chunked_standard_basis(flat_primals, primal_numels)
        basis = tree_unflatten(list(flat_basis), primals_spec)

        def push_jvp(tangents):
            result = jvp_with_argnums(func, args, tangents, argnums=argnums, has_aux=has_aux)
            return (result[1], result[2]) if has_aux else result[1]

        results = vmap(push_jvp, randomness=randomness)(basis)
        aux = None
        if has_aux:
            results, aux = results
            aux = tree_map(lambda value: value[0], aux)
        columns_per_output, output_spec = tree_flatten(results)
        per_output = []
        for columns in columns_per_output:
            # columns: (sum of input numels, *output.shape) -> output.shape + input.shape
            moved = columns.movedim(0, -1)
            blocks = [
                _unflatten_last(block, primal.shape)
                for block, primal in zip(split(moved, primal_numels, dim=-1), flat_primals)
            ]
            per_output.append(tree_unflatten(blocks, primals_spec))
        if isinstance(argnums, int):
            per_output = [blocks[0] for blocks in per_output]
        jacobian = tree_unflatten(per_output, output_spec)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def _unflatten_last(tensor: Tensor, shape) -> Tensor:
    """The last dim of ``tensor`` unflattened to ``shape`` (squeezed for a 0-d input)."""
    if len(shape) == 0:
        return tensor.squeeze(-1)
    return tensor.unflatten(-1, tuple(shape))


# ---------------------------------------------------------------------- hessian
def hessian(func, argnums=0):
    """The Hessian of ``func`` with respect to ``args[argnums]``: ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)
