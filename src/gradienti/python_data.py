"""``tensor(data)``'s conversion of Python data (numbers, nested sequences, NumPy arrays and
one-element Tensors inside them) to a fresh array, with PyTorch's dtype inference and errors.

NumPy converts well-formed data at C speed; where it fails, or gives a dtype PyTorch would
not (strings, objects, integers past 64 bits), the data is walked as PyTorch's
``internal_new_from_data`` walks it, so the error is PyTorch's, raised at the same place:
the shape from the first elements (``compute_sizes``), the dtype from every element
(``infer_scalar_type``), then each element stored (``recursive_store``).
"""

from __future__ import annotations

import operator

from .arguments import type_name
from .backend import bool_, default_float, from_numpy_dtype, int64, result_type, xp
from .casting import cast_array
from .tensor import Tensor

MAX_DIMS = 64


class _Irregular(Exception):
    """NumPy's fast conversion cannot be trusted for this data; walk it as PyTorch does."""


def array_from_data(data, np_dtype):
    """A fresh array holding ``data`` in ``np_dtype`` (None: inferred as PyTorch does)."""
    if isinstance(data, Tensor):
        return _supported(_converted_copy(data._data, np_dtype))
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type_name(data)}'")
    if isinstance(data, (xp.ndarray, xp.generic)):
        from_numpy_dtype(data.dtype)  # PyTorch's error for unsupported dtypes
        return _supported(_converted_copy(data, np_dtype))
    integral = np_dtype is not None and np_dtype.kind in "iu"
    try:
        inferred = xp.array(_unwrap_tensors(data, integral))
    except (_Irregular, ValueError, TypeError, OverflowError):
        return _array_as_pytorch_walks(data, np_dtype)
    kind = inferred.dtype.kind
    if kind not in "biuf" or (kind == "u" and inferred.dtype.itemsize == 8):
        # strings, objects, or Python ints of 2**63 and more (NumPy's uint64)
        return _array_as_pytorch_walks(data, np_dtype)
    if np_dtype is None:
        np_dtype = _default_dtype_of(inferred)
    elif np_dtype.kind in "iu":
        _check_integer_range(inferred, np_dtype)
    return inferred.astype(np_dtype)


def _supported(array):
    if array.dtype.kind not in "biuf":
        raise TypeError(f"can't convert np.ndarray of type {array.dtype}")
    return array


def _converted_copy(array, np_dtype):
    """A copy of an array in ``np_dtype`` with PyTorch's values where a float does not fit an
    integer dtype (NaN, infinities, out of range: see ops/cast.py)."""
    array = xp.asarray(array)
    return xp.array(array) if np_dtype is None else cast_array(array, np_dtype)


def _unwrap_tensors(data, integral: bool):
    """Tensors in the data become their one value (PyTorch reads each as a scalar; into an
    integer dtype, only an integral or bool one)."""
    if isinstance(data, Tensor):
        if data._data.size != 1 or (integral and data._data.dtype.kind == "f"):
            raise _Irregular
        return xp.asarray(data._data).reshape(())[()]
    if isinstance(data, (list, tuple)):
        return [_unwrap_tensors(item, integral) for item in data]
    return data


def _default_dtype_of(array):
    """PyTorch's inference for Python data: floats -> default float, ints -> int64."""
    kind = array.dtype.kind
    if kind == "f":
        return default_float.value.np
    return bool_.np if kind == "b" else int64.np


def _check_integer_range(values, np_dtype) -> None:
    """PyTorch's ``checked_convert`` of each Python number into an integer dtype. An int may
    also be down to ``-max`` for an unsigned dtype (it wraps, two's complement); a float must
    lie within the dtype's range and not be NaN."""
    if values.size == 0 or values.dtype.kind == "b":
        return
    limits = xp.iinfo(np_dtype)
    if values.dtype.kind == "f":
        lowest, highest = float(limits.min), float(limits.max)
        bad = xp.isnan(values).any() or values.min() < lowest or values.max() > highest
    else:
        lowest = -limits.max if limits.min == 0 else limits.min
        bad = values.min() < lowest or values.max() > limits.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {np_dtype} without overflow")


# ---------------------------------------------------------------------- PyTorch's walk
def _is_sequence(value) -> bool:
    """Python's sequence protocol as PyTorch tests it; a Tensor is read as a scalar."""
    if isinstance(value, xp.ndarray):
        return value.ndim > 0
    return isinstance(value, (list, tuple, str, bytes, bytearray, range))


def _array_as_pytorch_walks(data, np_dtype):
    sizes = _compute_sizes(data)
    if np_dtype is None:
        np_dtype = _infer_dtype(data)
    values: list = []
    if all(sizes):
        _store(data, sizes, 0, np_dtype, values)
    # Each value is checked for np_dtype already; NumPy would refuse to wrap -1 into uint8.
    return xp.array(values).astype(np_dtype).reshape(sizes)


def _compute_sizes(data) -> tuple:
    """The shape, read along the first elements only."""
    sizes = []
    value = data
    while _is_sequence(value):
        length = len(value)
        sizes.append(length)
        if len(sizes) > MAX_DIMS:  # a string is a sequence of strings, without end
            raise ValueError(f"too many dimensions '{type_name(value)}'")
        if length == 0:
            break
        value = value[0]
    return tuple(sizes)


def _infer_dtype(value):
    if isinstance(value, (xp.ndarray, xp.generic)) and not isinstance(value, xp.str_):
        return from_numpy_dtype(value.dtype).np
    if isinstance(value, bool):
        return bool_.np
    if isinstance(value, float):
        return default_float.value.np
    if isinstance(value, int):
        return int64.np
    if isinstance(value, Tensor):
        return value._data.dtype
    if isinstance(value, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type_name(value)}'")
    if isinstance(value, complex):
        raise TypeError("gradienti has no complex dtypes: Could not infer dtype of complex")
    if not _is_sequence(value):
        raise RuntimeError(f"Could not infer dtype of {type_name(value)}")
    inferred = None
    for item in value:
        found = _infer_dtype(item)
        inferred = found if inferred is None else result_type(inferred, found, 1, 1)
    return default_float.value.np if inferred is None else inferred


def _store(value, sizes: tuple, dim: int, np_dtype, values: list) -> None:
    if dim == len(sizes):
        values.append(_scalar(value, np_dtype))
        return
    if isinstance(value, Tensor) and value._data.ndim:
        value = list(value)  # where a sequence is due, a Tensor is one
    if not _is_sequence(value):
        raise TypeError("not a sequence")
    if len(value) != sizes[dim]:
        raise ValueError(
            f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(value)})"
        )
    for item in value:
        _store(item, sizes, dim + 1, np_dtype, values)


def _scalar(value, np_dtype):
    """One element as ``store_scalar`` reads it for ``np_dtype``: a Python float (or a
    one-element Tensor, for a float dtype) by value, anything else into an integer dtype by
    ``__index__``, as PyTorch does."""
    if isinstance(value, Tensor):
        if np_dtype.kind in "iu":
            value = operator.index(value)  # a float Tensor: PyTorch's TypeError
        elif value._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        else:
            value = value.item()
    if np_dtype.kind in "bf":
        if not hasattr(type(value), "__float__") and not hasattr(type(value), "__index__"):
            raise TypeError(f"must be real number, not {type_name(value)}")
        return bool(value) if np_dtype.kind == "b" else float(value)
    if not isinstance(value, float):
        value = operator.index(value)  # "'list' object cannot be interpreted as an integer"
        if not -(2**63) <= value < 2**63:
            raise ValueError("Overflow when unpacking long long")
    _check_integer_range(xp.array([value]), np_dtype)
    return value
