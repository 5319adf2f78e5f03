"""Copying tensors: ``copy.deepcopy``, ``copy.copy`` and pickling, as PyTorch does them.

``deepcopy`` copies a leaf only (PyTorch refuses a tensor with a ``grad_fn``): the copy is a
new leaf with memory of its own, the same ``requires_grad`` and a deep copy of ``.grad``, so a
backward pass through it never touches the original. Tensors that share memory within one
``deepcopy`` call share the copied memory too, as PyTorch's storage memo makes them: a view
stays a view of the copied base.

``copy.copy`` and ``pickle`` rebuild the tensor from its values and ``requires_grad`` (PyTorch's
``_rebuild_tensor_v2``): a leaf without ``.grad`` (and without a ``grad_fn``, even where the
original had one). ``copy.copy`` shares the memory; pickle carries the values.
"""

from __future__ import annotations

import copy

from .backend import xp
from .batching import BatchedArray
from .graph.node import NO_EDGE
from .tensor import Tensor, wrap

DEEPCOPY_NON_LEAF_MESSAGE = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol "
    "at the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
)

_ndarray = xp.ndarray


def rebuild_tensor(cls, data, requires_grad: bool):
    """A leaf of class ``cls`` (Tensor or Parameter) around ``data`` (used by pickle)."""
    if cls is Tensor:
        tensor = wrap(data, NO_EDGE)
        if requires_grad:
            tensor.requires_grad_()
        return tensor
    return cls(wrap(data, NO_EDGE), requires_grad)


def reduce_tensor(tensor, protocol: int = 2) -> tuple:
    """``__reduce_ex__``: how ``copy.copy`` and pickle rebuild ``tensor``."""
    if type(tensor._data) is BatchedArray:  # one sample of a vmap: PyTorch's error
        raise NotImplementedError("Cannot access storage of BatchedTensorImpl")
    return (rebuild_tensor, (type(tensor), tensor._data, tensor._edge is not None))


def deepcopy_tensor(tensor, memo: dict):
    """``copy.deepcopy`` of a plain Tensor (a Parameter has its own, see nn/parameter.py)."""
    if not tensor.is_leaf:
        raise RuntimeError(DEEPCOPY_NON_LEAF_MESSAGE)
    found = memo.get(id(tensor))
    if found is not None:
        return found
    result = rebuild_tensor(type(tensor), deepcopy_data(tensor._data, memo), tensor.requires_grad)
    if tensor._grad is not None:
        result._grad = copy.deepcopy(tensor._grad, memo)
    memo[id(tensor)] = result
    return result


def deepcopy_data(data, memo: dict):
    """A copy of an array for one ``deepcopy`` call: arrays viewing the same memory get views
    of one copy of it (the memo holds the copy of the array that owns the memory)."""
    if type(data) is not _ndarray:
        if type(data) is BatchedArray:  # one sample of a vmap: PyTorch's error
            raise NotImplementedError("Cannot access storage of BatchedTensorImpl")
        return data  # a NumPy scalar cannot change
    owner = data
    while type(owner.base) is _ndarray:
        owner = owner.base
    owner_copy = copy.deepcopy(owner, memo)
    if owner is data:
        return owner_copy
    contiguous = owner.flags.c_contiguous or owner.flags.f_contiguous
    if not contiguous or owner_copy.strides != owner.strides:
        return data.copy()  # the owner's layout cannot be repeated: no sharing to keep
    offset = data.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    memory = owner_copy.ravel(order="K").view(xp.uint8)
    return xp.ndarray(data.shape, data.dtype, buffer=memory, offset=offset, strides=data.strides)
