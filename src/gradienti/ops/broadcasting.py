"""Broadcasting made explicit: ``broadcast_tensors`` (every input expanded to the common shape),
``broadcast_shapes`` (that shape, computed from shapes alone) and ``Tensor.sum_to_size`` (the
reverse: summed down to a shape that broadcasts to the tensor's).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
An input that already has the common shape is returned as it is; the others are expanded
(ExpandBackward0), as in PyTorch.
"""

from __future__ import annotations

from ..backend import xp
from ..size import Size, shape_arguments
from .apply import raise_if_not_broadcastable
from .declare import declare
from .shape import expand_tensor


def broadcast_tensors(*tensors):
    """The inputs expanded to their common shape (views), as a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    shapes = [tensor._data.shape for tensor in tensors]
    try:
        shape = xp.broadcast_shapes(*shapes)
    except ValueError:
        raise_if_not_broadcastable(*(xp.broadcast_to(0, s) for s in shapes))
        raise
    return tuple(
        tensor if tensor._data.shape == shape else expand_tensor(tensor, shape)
        for tensor in tensors
    )


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` (each a tuple, list or int) broadcast to: a Size."""
    as_tuples = []
    for shape in shapes:
        if isinstance(shape, int):
            shape = (shape,)
        if not isinstance(shape, tuple | list):
            raise RuntimeError(
                "Input shapes should be of type ints, a tuple of ints, or a list of ints, got ",
                shape,
            )
        as_tuples.append(tuple(shape))
    result = [1] * max((len(shape) for shape in as_tuples), default=0)
    for position, shape in enumerate(as_tuples):
        for index in range(-1, -1 - len(shape), -1):
            size = shape[index]
            if size < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            if size == 1 or size == result[index]:
                continue
            if result[index] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {index}! "
                    f"Mismatching argument at index {position} had {shape}; but expected shape "
                    f"should be broadcastable to {result}"
                )
            result[index] = size
    return Size(result)


def sum_to_size(input, *size):
    """The sum of ``input`` over the dims that broadcasting ``size`` to its shape would add or
    stretch: a tensor of shape ``size`` (SumBackward1 with keepdim, a view when dims go)."""
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    shape = input._data.shape
    target = shape_arguments(size)
    lead = len(shape) - len(target)
    expandable = lead >= 0 and all(
        want == have or want == 1 for want, have in zip(target, shape[lead:])
    )
    if not expandable:
        raise RuntimeError(f"size {{{list(target)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(
        lead + i for i, want in enumerate(target) if want == 1 and shape[lead + i] != 1
    )
    if not dims:
        return input
    summed = input.sum(dims, keepdim=True)
    return summed.view(target) if lead else summed


DECLARATIONS = (
    declare("broadcast_tensors", broadcast_tensors, method=None),  # records ExpandBackward0
    declare("broadcast_shapes", broadcast_shapes, method=None),
    declare("sum_to_size", None, method=sum_to_size),  # records SumBackward1 (and a view)
)
