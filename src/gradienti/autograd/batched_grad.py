"""``autograd.grad(..., is_grads_batched=True)``: one backward pass for a batch of gradients.

As PyTorch's: the first dimension of each ``grad_output`` is a batch, and each result gets that
dimension too: ``grad(y, x, torch.eye(n), is_grads_batched=True)`` is the Jacobian, one row per
sample. PyTorch vmaps the backward pass over that dimension (with its legacy vmap); so does
gradienti, at the array layer: the grad outputs enter as BatchedArrays of a vmap level of
their own, every VJP of the pass computes all the samples at once (gradienti/batching), and the
results leave unbatched. Under that level custom Functions run as they are, as under PyTorch's
legacy vmap (autograd/function_vmap.py's ``PLAIN_LEVELS``).

With ``create_graph=True`` the batched pass is recorded; entering and leaving the level are then
vmap's differentiable ops (ops/batch_dims.py), and where the recorded pass reaches the
forward graph (values shared by every sample), the samples' gradients are summed (the bridge
that vmap puts on the edges that leave it: ops/batch_dims.sum_gradients_leaving), so that the
results can be differentiated again.
"""

from __future__ import annotations

from .. import batching
from ..backend import xp
from ..graph.grad_mode import enter_special, leave_special
from ..graph.node import NO_EDGE, next_sequence_number
from ..ops.apply import unary
from ..ops.batch_dims import (
    AddBatchDimBackward0,
    RemoveBatchDimBackward0,
    batch_node,
    sum_gradients_leaving,
)
from ..size import Size
from ..tensor import Tensor, wrap
from ..tensor_checks import grad_outputs_tuple
from .function_vmap import PLAIN_LEVELS


def batched_grad(grad, outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                 materialize_grads) -> tuple:  # fmt: skip
    """``grad(...)`` (autograd/engine.py's) run once on the batched ``grad_outputs``."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = (inputs,) if single_input else tuple(inputs)
    grad_outputs = _checked_grad_outputs(outputs, grad_outputs)
    size = _batch_size(grad_outputs)
    level = batching.enter(size, "error")
    PLAIN_LEVELS.add(level.id)
    enter_special()  # (as vmap: ops on batched values take the general path)
    try:
        first_node = next_sequence_number()
        batched = tuple(
            None if given is None else unary(_node(AddBatchDimBackward0, level, 0), given)
            for given in grad_outputs
        )
        results = grad(
            outputs,
            inputs,
            batched,
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph,
            allow_unused=True if materialize_grads else allow_unused,
        )
        unbatched = tuple(
            None if result is None else _unbatched(result, level, create_graph)
            for result in results
        )
        if create_graph:
            sum_gradients_leaving(unbatched, level, first_node)
    finally:
        leave_special()
        PLAIN_LEVELS.discard(level.id)
        batching.leave(level)
    if materialize_grads:  # an unused input gets zeros of its own shape, not batched (PyTorch)
        unbatched = tuple(
            wrap(xp.zeros_like(tensor._as_array()), NO_EDGE) if result is None else result
            for tensor, result in zip(inputs, unbatched)
        )
    return unbatched


def _node(node_class, level, dim=None):
    return batch_node(node_class, level.id, level.size, dim)


def _unbatched(result: Tensor, level, create_graph: bool) -> Tensor:
    if create_graph:
        return unary(_node(RemoveBatchDimBackward0, level, 0), result)
    return wrap(batching.remove_batch_dim(result._data, level.id, level.size, 0), NO_EDGE)


def _checked_grad_outputs(outputs: tuple, grad_outputs) -> tuple:
    """The grad outputs, each of one more (first) dimension than its output: PyTorch's check,
    whose message shows the shapes as PyTorch 2.13 computes them (past the first dim twice)."""
    grad_outputs = grad_outputs_tuple(grad_outputs, len(outputs))
    checked = []
    for index, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(given, Tensor) and isinstance(output, Tensor):
            first = given[0]
            if first._data.shape != output._data.shape:
                shown = Size(first._data.shape[1:])
                raise RuntimeError(
                    "If `is_grads_batched=True`, we interpret the first dimension of each "
                    "grad_output as the batch dimension. The sizes of the remaining dimensions "
                    "are expected to match the shape of corresponding output, but a mismatch "
                    f"was detected: grad_output[{index}] has a shape of {shown} and "
                    f"output[{index}] has a shape of {output.shape}. If you only want some "
                    "tensors in `grad_output` to be considered batched, consider using vmap."
                )
        elif given is None and isinstance(output, Tensor) and output._edge is not None:
            if output._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            given = wrap(xp.ones_like(output._as_array()), NO_EDGE)  # 0-d: vmap refuses it
        checked.append(given)
    return tuple(checked) + grad_outputs[len(outputs) :]


def _batch_size(grad_outputs: tuple) -> int:
    """The batch size, with the errors of PyTorch's legacy vmap over ``vjp``."""
    sizes = []
    for given in grad_outputs:
        if given is None:
            continue
        if given.dim() == 0:
            raise ValueError(
                "vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that "
                "input is a Tensor of dimensionality 0 so expected in_dim to satisfy "
                "0 <= in_dim < 0."
            )
        sizes.append(given._data.shape[0])
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension"
        )
    return sizes[0]
