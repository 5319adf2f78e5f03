"""Merging samples into a batch, as ``torch.utils.data._utils.collate``:
``default_collate`` and ``default_convert``."""

from __future__ import annotations

import collections.abc
import copy

import numpy as _np

from ...backend import float64
from ...creation import as_tensor, tensor
from ...ops.join import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]


_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``:
    tensors are stacked on a new first dimension, Python floats become a float64 tensor and
    ints (and bools) an int64 (bool) tensor, numpy arrays and scalars become tensors, strings
    stay a list, and dicts, named tuples, tuples and lists are collated element by element
    (a tuple gives a list, as in PyTorch)."""
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, _np.ndarray):
        if elem.dtype.kind in "OSUa":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (_np.bool_, _np.number)):
        return as_tensor(_np.array(batch))
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):
        return tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(collated)
                return clone
            return elem_type(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = default_collate(samples)
                return clone
            return elem_type([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(_COLLATE_ERROR.format(elem_type))


def default_convert(data):
    """Without batching (``batch_size=None``): numpy arrays become tensors, the rest stays."""
    if isinstance(data, _np.ndarray) and data.dtype.kind not in "OSUa":
        return as_tensor(data)
    if isinstance(data, (list, tuple)) and not isinstance(data, (str, bytes)):
        if isinstance(data, tuple) and hasattr(data, "_fields"):
            return type(data)(*(default_convert(d) for d in data))
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(data[key]) for key in data}
    return data
