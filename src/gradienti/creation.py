"""Creating tensors: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, ...

Each factory checks its arguments as PyTorch's argument parser does (arguments.py) and in the
order of PyTorch's signature (the size or data, then dtype, device, requires_grad), so that a
mistake gets PyTorch's error before anything is made.
"""

from __future__ import annotations

import warnings

from .arguments import (
    check_bool,
    check_dtype,
    check_int,
    check_number,
    check_tensor,
    positional_or_keyword_size,
    size_argument,
    wrong_type,
)
from .backend import (
    OVERFLOW_TYPE_NAMES,
    bool_,
    default_float,
    device,
    from_numpy_dtype,
    int64,
    to_numpy_dtype,
    xp,
)
from .devices import DEFAULT_DEVICE_EVER_SET, check_available, default_device
from .graph.grad_mode import MODES, grad_state, mark_inference
from .graph.node import NO_EDGE, AccumulateGrad
from .graph.provenance import PROVENANCE, note_creation
from .python_data import array_from_data
from .python_types import type_name
from .tensor import Tensor, wrap

REQUIRES_GRAD_DTYPE_MESSAGE = (
    "Only Tensors of floating point and complex dtype can require gradients"
)


def _finish(array, requires_grad: bool, dtype_message: str = REQUIRES_GRAD_DTYPE_MESSAGE):
    t = wrap(array, NO_EDGE)
    if MODES.inference:  # (also counts the provenance recording of graph/provenance.py)
        if grad_state.inference:
            mark_inference(t)
        if PROVENANCE.active and not requires_grad:
            note_creation(t, array)
    if requires_grad:
        t._set_requires_grad(True, dtype_message)
    return t


def _options(function: str, dtype, where, requires_grad, *, none_is_false: bool = True):
    """The keyword arguments every factory takes, checked in PyTorch's order: the NumPy dtype
    (None if not given) and requires_grad as a bool (the factories but ``tensor`` read None as
    False)."""
    check_dtype(dtype, function)
    _check_device(where, function)
    requires_grad = check_bool(requires_grad, function, none=none_is_false)
    return (None if dtype is None else to_numpy_dtype(dtype)), requires_grad


def _check_device(where, function: str = "tensor") -> None:
    """A ``device=`` argument (None: the default device) must be the CPU; another device
    raises what a CPU-only PyTorch raises (``tensor`` and ``as_tensor`` copy data to it,
    the others allocate there: their errors differ for backends without kernels)."""
    if where is None:
        where = default_device()
        if where is None:
            return
    elif not isinstance(where, (str, int, device)) or where is True or where is False:
        raise wrong_type(function, "device", "torch.device", where)
    check_available(where, creating=function not in ("tensor", "as_tensor"))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python numbers, nested lists, arrays).

    A 0-d result is stored as a NumPy scalar: arithmetic on those is several times cheaper
    than on 0-d arrays, and the lesson's graph is all 0-d.
    """
    if (
        type(data) is float
        and dtype is None
        and device is None
        and type(requires_grad) is bool
        and not DEFAULT_DEVICE_EVER_SET.value
        and not MODES.inference
    ):
        t = wrap(default_float.value.np.type(data), NO_EDGE)
        if requires_grad:
            t._edge = AccumulateGrad(t)  # a float: no dtype check needed
        return t
    np_dtype, requires_grad = _options("tensor", dtype, device, requires_grad, none_is_false=False)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True),"
            " rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    array = array_from_data(data, np_dtype)
    return _finish(array[()] if array.ndim == 0 else array, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no copy is needed."""
    check_dtype(dtype, "as_tensor")
    _check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or dtype == data.dtype else data.to(dtype)
    if isinstance(data, xp.ndarray):
        if dtype is None or to_numpy_dtype(dtype) == data.dtype:
            return _share_numpy(data, stacklevel=4)
        _check_numpy_layout(data, stacklevel=3)  # (PyTorch wraps the array, then converts)
    return tensor(data, dtype=dtype)


NEGATIVE_STRIDES_MESSAGE = (
    "At least one stride in the given numpy array is negative, and tensors with negative "
    "strides are not currently supported. (You can probably work around this by making a copy "
    "of your array  with array.copy().) "
)
NOT_WRITABLE_WARNING = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
    "This means writing to this tensor will result in undefined behavior. You may want to copy "
    "the array to protect its data or make it writable before converting it to a tensor. This "
    "type of warning will be suppressed for the rest of this program."
)
# PyTorch warns about a read-only array once per process (TORCH_WARN_ONCE).
_WARNED_ONCE: set[str] = set()


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with ``array``, checked as PyTorch checks it: a dtype PyTorch
    has, no negative strides (PyTorch's tensors have none), native byte order; a read-only
    array is shared with a warning (writes through the tensor then fail, PyTorch's are
    undefined)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type_name(array)})")
    return _share_numpy(array, stacklevel=4)


def _share_numpy(array, stacklevel: int) -> Tensor:
    """``stacklevel``: the read-only warning's, which points at the user's call."""
    # (a foreign byte order is refused after the dtype and the strides, as in PyTorch)
    from_numpy_dtype(array.dtype if array.dtype.isnative else array.dtype.newbyteorder("="))
    _check_numpy_layout(array, stacklevel)
    return _finish(array, False)


def _check_numpy_layout(array, stacklevel: int) -> None:
    if any(stride < 0 for stride in array.strides):
        raise ValueError(NEGATIVE_STRIDES_MESSAGE)
    if not array.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. "
            "Conversion between byte orders is currently not supported."
        )
    if not array.flags.writeable and NOT_WRITABLE_WARNING not in _WARNED_ONCE:
        _WARNED_ONCE.add(NOT_WRITABLE_WARNING)
        warnings.warn(NOT_WRITABLE_WARNING, UserWarning, stacklevel=stacklevel)


def shared_tensor(array) -> Tensor:
    """A tensor around an array that another library shares with it (DLPack): no copy and no
    warning, the exporter decided about read-only memory. NumPy exports negative strides
    (``a[::-1]``), which no tensor may have: PyTorch's importer aborts the process on them, and
    handing such a tensor on to PyTorch would too, so they get from_numpy's error."""
    from_numpy_dtype(array.dtype)
    if any(stride < 0 for stride in array.strides):
        raise ValueError(NEGATIVE_STRIDES_MESSAGE)
    return _finish(array, False)


def _non_negative(shape: tuple) -> tuple:
    """PyTorch's error for a negative extent (checked after the arguments' types)."""
    for extent in shape:
        if extent < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {extent}: {list(shape)}"
            )
    return shape


def _default_float(np_dtype):
    return default_float.value.np if np_dtype is None else np_dtype


def zeros(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = size_argument(positional_or_keyword_size(sizes, size, "zeros"), "zeros")
    np_dtype, requires_grad = _options("zeros", dtype, device, requires_grad)
    if any(extent < 0 for extent in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # zeros' own text
    return _finish(xp.zeros(shape, _default_float(np_dtype)), requires_grad)


def ones(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = size_argument(positional_or_keyword_size(sizes, size, "ones"), "ones")
    np_dtype, requires_grad = _options("ones", dtype, device, requires_grad)
    return _finish(xp.ones(_non_negative(shape), _default_float(np_dtype)), requires_grad)


def empty(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = size_argument(positional_or_keyword_size(sizes, size, "empty"), "empty")
    np_dtype, requires_grad = _options("empty", dtype, device, requires_grad)
    return _finish(xp.empty(_non_negative(shape), _default_float(np_dtype)), requires_grad)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = size_argument((size,), "full", varargs=False)
    fill = check_number(fill_value, "full", "fill_value", 2)
    np_dtype, requires_grad = _options("full", dtype, device, requires_grad)
    if np_dtype is None:
        # PyTorch infers the dtype from the fill value: bool, int64 or the default float.
        if isinstance(fill, (bool, xp.bool_)):
            np_dtype = bool_.np
        elif isinstance(fill, (int, xp.integer)):
            np_dtype = int64.np
        else:
            np_dtype = default_float.value.np
    np_dtype = xp.dtype(np_dtype)
    check_fill_fits(fill, np_dtype)
    if np_dtype.kind == "u" and isinstance(fill, (int, xp.integer)) and fill < 0:
        fill = int(fill) + int(xp.iinfo(np_dtype).max) + 1  # wraps, as c10's cast does
    return _finish(xp.full(_non_negative(shape), fill, np_dtype), requires_grad)


def check_fill_fits(value, np_dtype) -> None:
    """c10's ``overflows<To, From>`` on a fill value, before it is cast: an int must lie in
    the type's range (an unsigned type also takes -max..-1, which wraps); a float must lie in
    it too, NaN not for an integral type, infinities only for a floating one."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (bool, xp.bool_)) or np_dtype.kind not in "iuf":
        return
    limits = xp.iinfo(np_dtype) if np_dtype.kind in "iu" else xp.finfo(np_dtype)
    highest, lowest = limits.max, limits.min
    if isinstance(value, (int, xp.integer)):
        if np_dtype.kind == "u":
            lowest = -int(highest)  # negatives wrap as two's complement
        fits = lowest <= int(value) <= highest
    else:
        value = float(value)
        if value != value:  # NaN: a floating type has it
            fits = np_dtype.kind == "f"
        else:
            fits = (np_dtype.kind == "f" and abs(value) == float("inf")) or (
                float(lowest) <= value <= float(highest)
            )
    if not fits:
        raise RuntimeError(
            f"value cannot be converted to type {OVERFLOW_TYPE_NAMES[np_dtype.name]} without "
            "overflow"
        )


def _like_options(function: str, input, dtype, where, requires_grad):
    check_tensor(input, function)
    np_dtype, requires_grad = _options(function, dtype, where, requires_grad)
    return input._data.shape, (input._data.dtype if np_dtype is None else np_dtype), requires_grad


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape, np_dtype, requires_grad = _like_options(
        "zeros_like", input, dtype, device, requires_grad
    )
    return _finish(xp.zeros(shape, np_dtype), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape, np_dtype, requires_grad = _like_options("ones_like", input, dtype, device, requires_grad)
    return _finish(xp.ones(shape, np_dtype), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape, np_dtype, requires_grad = _like_options(
        "empty_like", input, dtype, device, requires_grad
    )
    return _finish(xp.empty(shape, np_dtype), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_tensor(input, "full_like")
    fill = check_number(fill_value, "full_like", "fill_value", 2)
    shape, np_dtype, requires_grad = _like_options("full_like", input, dtype, device, requires_grad)
    return _finish(xp.full(shape, fill, np_dtype), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values in [start, end) by step; int64 for integer arguments, else the default float."""
    if end is None:
        numbers = [0, check_number(start, "arange", "end", 1), check_number(step, "arange", "step")]
    else:
        names = ("start", "end", "step")
        numbers = [
            check_number(value, "arange", name, position)
            for position, (name, value) in enumerate(zip(names, (start, end, step)), 1)
        ]
    np_dtype, requires_grad = _options("arange", dtype, device, requires_grad)
    begin, stop, stride = numbers
    if stride == 0:
        raise RuntimeError("step must be nonzero")
    if not (xp.isfinite(begin) and xp.isfinite(stop)):
        raise RuntimeError(f"unsupported range: {float(begin):g} -> {float(stop):g}")
    if (stop - begin) * stride < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if np_dtype is None:
        integral = all(isinstance(value, (int, xp.integer)) for value in numbers)  # bool too
        np_dtype = int64.np if integral else default_float.value.np
    # Count in float64 as PyTorch does, then fill in the requested dtype.
    count = int(xp.ceil((stop - begin) / stride))
    values = begin + stride * xp.arange(count, dtype=xp.float64)
    return _finish(values.astype(np_dtype), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, Tensor) and value._data.ndim:
            raise RuntimeError(
                "linspace only supports 0-dimensional start and end tensors, but got "
                f"{name} with {value._data.ndim} dimension(s)."
            )
    low = check_number(start, "linspace", "start", 1)
    high = check_number(end, "linspace", "end", 2)
    count = check_int(steps, "linspace", "steps", 3)
    np_dtype, requires_grad = _options("linspace", dtype, device, requires_grad)
    if count < 0:
        raise RuntimeError("number of steps must be non-negative")
    values = xp.linspace(low, high, count, dtype=xp.float64)
    return _finish(values.astype(_default_float(np_dtype)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    rows = check_int(n, "eye", "n", 1)
    columns = rows if m is None else check_int(m, "eye", "m", 2)
    np_dtype, requires_grad = _options("eye", dtype, device, requires_grad)
    if rows < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {rows}")
    if columns < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {columns}")
    return _finish(xp.eye(rows, columns, dtype=_default_float(np_dtype)), requires_grad)


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
