"""Creating tensors: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, ..."""

from __future__ import annotations

import warnings
from numbers import Number

from .autograd.function import NO_EDGE, AccumulateGrad
from .backend import bool_, default_float, device, from_numpy_dtype, int64, to_numpy_dtype, xp
from .size import shape_arguments
from .tensor import Tensor, wrap

REQUIRES_GRAD_DTYPE_MESSAGE = (
    "Only Tensors of floating point and complex dtype can require gradients"
)


def _finish(array, requires_grad: bool, dtype_message: str = REQUIRES_GRAD_DTYPE_MESSAGE):
    t = wrap(array, NO_EDGE)
    if requires_grad:
        t._set_requires_grad(True, dtype_message)
    return t


def _check_device(where) -> None:
    if where is not None:
        device(where)


def _default_dtype_of(array):
    """PyTorch's inference for Python data: floats -> default float, ints -> int64."""
    kind = array.dtype.kind
    if kind == "f":
        return default_float.value.np
    if kind in "iu":
        return int64.np
    if kind == "b":
        return bool_.np
    raise TypeError(f"Could not infer dtype of {array.dtype}")


def _array_from_data(data, dtype):
    """Convert Python data, NumPy data or Tensors to a fresh array of the right dtype."""
    np_dtype = None if dtype is None else to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        array = xp.array(data._data, dtype=np_dtype)
    elif isinstance(data, (xp.ndarray, xp.generic)):
        from_numpy_dtype(data.dtype)  # PyTorch's error for unsupported dtypes
        array = xp.array(data, dtype=np_dtype)
    else:
        _check_nesting(data)
        python = _unwrap_tensors(data)
        array = xp.array(python)
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        array = array.astype(np_dtype if np_dtype is not None else _default_dtype_of(array))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"can't convert np.ndarray of type {array.dtype}")
    return array


def _unwrap_tensors(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap_tensors(item) for item in data]
    return data


def _check_nesting(data, depth: int = 0) -> int | None:
    """PyTorch's error for ragged nested sequences: 'expected sequence of length ...'."""
    if not isinstance(data, (list, tuple)):
        return None
    lengths = [len(item) for item in data if isinstance(item, (list, tuple))]
    if lengths and (len(lengths) != len(data) or len(set(lengths)) > 1):
        expected = lengths[0]
        for item in data:
            got = len(item) if isinstance(item, (list, tuple)) else None
            if got != expected:
                raise ValueError(
                    f"expected sequence of length {expected} at dim {depth + 1} (got {got})"
                )
    for item in data:
        _check_nesting(item, depth + 1)
    return len(data)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python numbers, nested lists, arrays).

    A 0-d result is stored as a NumPy scalar: arithmetic on those is several times cheaper
    than on 0-d arrays, and the lesson's graph is all 0-d.
    """
    if type(data) is float and dtype is None and device is None:
        t = wrap(default_float.value.np.type(data), NO_EDGE)
        if requires_grad:
            t._edge = AccumulateGrad(t)  # a float: no dtype check needed
        return t
    _check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True),"
            " rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    array = _array_from_data(data, dtype)
    return _finish(array[()] if array.ndim == 0 else array, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no copy is needed."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or dtype == data.dtype else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or to_numpy_dtype(dtype) == data.dtype):
        from_numpy_dtype(data.dtype)
        return wrap(data, NO_EDGE)
    return tensor(data, dtype=dtype)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    from_numpy_dtype(array.dtype)
    return wrap(array, NO_EDGE)


def _size_arguments(size: tuple) -> tuple:
    shape = shape_arguments(size)
    for extent in shape:
        if extent < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {extent}: {list(shape)}"
            )
    return shape


def _float_or(dtype):
    return default_float.value.np if dtype is None else to_numpy_dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _check_device(device)
    shape = shape_arguments(size)
    if any(extent < 0 for extent in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # zeros' own text
    return _finish(xp.zeros(shape, _float_or(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _check_device(device)
    return _finish(xp.ones(_size_arguments(size), _float_or(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _check_device(device)
    return _finish(xp.empty(_size_arguments(size), _float_or(dtype)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _check_device(device)
    if dtype is None:
        # PyTorch infers the dtype from the fill value: bool, int64 or the default float.
        dtype = (
            bool_
            if isinstance(fill_value, bool)
            else (int64 if isinstance(fill_value, int) else default_float.value)
        )
    fill = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _finish(xp.full(_size_arguments((size,)), fill, to_numpy_dtype(dtype)), requires_grad)


def _like(source: Tensor, dtype):
    return source._data.dtype if dtype is None else to_numpy_dtype(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(xp.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(xp.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(xp.empty(input._data.shape, _like(input, dtype)), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(xp.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values in [start, end) by step; int64 for integer arguments, else the default float."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    numbers = [_as_number(value) for value in (start, end, step)]
    if numbers[2] == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        integral = all(isinstance(value, int) and not isinstance(value, bool) for value in numbers)
        np_dtype = int64.np if integral else default_float.value.np
    else:
        np_dtype = to_numpy_dtype(dtype)
    begin, stop, stride = numbers
    if (stop - begin) * stride < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    # Count in float64 as PyTorch does, then fill in the requested dtype.
    count = int(xp.ceil((stop - begin) / stride))
    values = begin + stride * xp.arange(count, dtype=xp.float64)
    return _finish(values.astype(np_dtype), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    values = xp.linspace(_as_number(start), _as_number(end), int(steps), dtype=xp.float64)
    return _finish(values.astype(_float_or(dtype)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _check_device(device)
    return _finish(xp.eye(n, n if m is None else m, dtype=_float_or(dtype)), requires_grad)


def _as_number(value):
    if isinstance(value, Tensor):
        return value.item()
    if not isinstance(value, Number):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "is_tensor",
    "linspace",
    "numel",
    "ones",
    "ones_like",
    "tensor",
    "zeros",
    "zeros_like",
]
