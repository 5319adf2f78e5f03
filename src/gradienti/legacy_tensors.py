"""PyTorch's older spellings for making and converting tensors, which lecture code still uses:
``torch.Tensor(2, 3)``, ``torch.Tensor([1, 2])``, ``torch.FloatTensor(...)`` and the other
typed constructors, ``isinstance(x, torch.LongTensor)``, ``x.type(torch.DoubleTensor)`` /
``x.type('torch.DoubleTensor')`` / ``x.type()``, and ``x.new_zeros(...)`` and friends.

The legacy constructor reads its arguments as PyTorch's ``new()`` does: ints (or a
``torch.Size``, or ``size=``) are a shape, left uninitialised; any other object is data,
converted to the constructor's dtype; a Tensor is shared, not copied.
"""

from __future__ import annotations

import operator
import warnings

from .arguments import is_index, size_argument
from .backend import (
    CPP_TYPE_NAMES,
    LEGACY_TYPE_NAMES,
    bool_,
    default_float,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    xp,
)
from .backend import dtype as DType
from .creation import _finish, _non_negative, _options, check_fill_fits
from .devices import as_device
from .graph.grad_mode import is_inference_tensor, mark_inference
from .python_data import array_from_data
from .python_types import type_name
from .size import Size
from .tensor import Tensor

_NEW_SIGNATURES = (
    " * (*, torch.device device = None)\n"
    " * (torch.Storage storage)\n"
    " * (Tensor other)\n"
    " * (tuple of ints size, *, torch.device device = None)\n"
    " * (object data, *, torch.device device = None)\n"
)
# What ``Tensor.type('torch.cuda.FloatTensor')`` meets in a CPU-only build.
_NO_CUDA_LIBRARY = (
    "Cannot initialize CUDA without ATen_cuda library. PyTorch splits its backend into two "
    "shared libraries: a CPU library and a CUDA library; this error has occurred because you "
    "are trying to use some CUDA functionality, but the CUDA library has not been loaded by "
    "the dynamic linker for some reason.  The CUDA library MUST be loaded, EVEN IF you don't "
    "directly use any symbols from the CUDA library! One common culprit is a lack of "
    "-Wl,--no-as-needed in your link arguments; many dynamic linkers will delete dynamic "
    "library dependencies if you don't depend on any of their symbols.  You can check if this "
    "has occurred by using ldd on your binary to see if there is a dependency on *_cuda.so "
    "library."
)


def _argument_type(value) -> str:
    return "torch.dtype" if isinstance(value, DType) else type_name(value)


def _invalid_combination(args: tuple, kwargs: dict) -> TypeError:
    got = ", ".join(
        [_argument_type(a) for a in args] + [f"{k}={_argument_type(v)}" for k, v in kwargs.items()]
    )
    return TypeError(
        f"new() received an invalid combination of arguments - got ({got}), but expected one "
        f"of:\n{_NEW_SIGNATURES}"
    )


def _options_message(dtype) -> str:
    return (
        f"TensorOptions(dtype={CPP_TYPE_NAMES[dtype.name]}, device=cpu, layout=Strided, "
        "requires_grad=false (default), pinned_memory=false (default), "
        "memory_format=(nullopt))"
    )


def legacy_new(dtype, args: tuple, kwargs: dict) -> Tensor:
    """``torch.Tensor(*args, **kwargs)`` (``dtype`` None: the default float dtype, and a Tensor
    of any dtype is shared) or a typed constructor's (a Tensor must have its dtype)."""
    unexpected = set(kwargs) - {"device", "size"}
    if unexpected or ("size" in kwargs and args):
        raise _invalid_combination(args, kwargs)
    where = kwargs.get("device")
    if where is not None and as_device(where).type != "cpu":
        raise RuntimeError(
            "legacy constructor expects device type: cpu but device type: "
            f"{as_device(where).type} was passed"
        )
    np_dtype = (default_float.value if dtype is None else dtype).np
    if not args and "size" not in kwargs:
        return _finish(xp.empty(0, np_dtype), False)
    first = args[0] if args else None
    if (
        "size" in kwargs
        or all(_is_size_int(a, len(args)) for a in args)
        or (len(args) == 1 and isinstance(first, Size))
    ):
        if not isinstance(first, Size):  # NumPy ints are sizes too: Tensor(np.int64(2))
            args = tuple(operator.index(a) for a in args)
        shape = size_argument(args or (kwargs["size"],), "new")
        return _finish(xp.empty(_non_negative(shape), np_dtype), False)
    if len(args) > 1:
        raise _invalid_combination(args, kwargs)
    if isinstance(first, Tensor):
        if dtype is not None and first._data.dtype != np_dtype:
            raise TypeError(
                f"expected {_options_message(dtype)} (got {_options_message(first.dtype)})"
            )
        # PyTorch's alias: the same memory, recorded as AliasBackward0 (``x[...]``), so a
        # gradient reaches the source.
        return first[...]
    if isinstance(first, (float, bool, complex, xp.generic)) or first is None:  # one number
        raise TypeError(f"new(): data must be a sequence (got {type_name(first)})")
    array = array_from_data(first, np_dtype)
    return _finish(array, False)


def tensor_new(self, *args, **kwargs) -> Tensor:
    """``x.new(...)``: the legacy constructor in ``x``'s dtype (``x.new(2, 3)`` uninitialised,
    ``x.new([1, 2])`` data, ``x.new()`` empty, ``x.new(t)`` an alias of ``t``)."""
    return legacy_new(self.dtype, args, kwargs)


def is_inference(self) -> bool:
    """``x.is_inference()``: whether ``x`` was made inside ``inference_mode()`` (by a factory
    or an op; a view of a normal tensor stays normal)."""
    return is_inference_tensor(self)


def _is_size_int(value, count: int) -> bool:
    """Whether PyTorch's parser reads ``value`` as one int of a size: anything with
    ``__index__`` (a NumPy int, a 0-d integral array), a bool only among several arguments
    (``Tensor(True)`` alone is data)."""
    if isinstance(value, (bool, xp.bool_)):
        return count > 1
    return is_index(value) and not isinstance(value, Tensor)


def tensor_init(self, *args, **kwargs) -> None:
    """``Tensor.__init__``: ``torch.Tensor(...)`` builds a tensor as PyTorch's legacy
    constructor does (the object ``Tensor`` made is filled with the new tensor's state)."""
    made = legacy_new(None, args, kwargs)
    self._data, self._edge, self._grad = made._data, made._edge, None
    if is_inference_tensor(made):
        mark_inference(self)


class _LegacyTensorType(type):
    """The metaclass of ``FloatTensor`` and friends: calling one builds a Tensor of its dtype,
    and ``isinstance(x, torch.FloatTensor)`` asks whether ``x`` is a float32 Tensor."""

    def __call__(cls, *args, **kwargs) -> Tensor:
        return legacy_new(cls.dtype, args, kwargs)

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance._data.dtype == cls.dtype.np

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(dtype) -> type:
    name = LEGACY_TYPE_NAMES[dtype.name]
    return _LegacyTensorType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False})


FloatTensor = _legacy_type(float32)
DoubleTensor = _legacy_type(float64)
HalfTensor = _legacy_type(float16)
LongTensor = _legacy_type(int64)
IntTensor = _legacy_type(int32)
ShortTensor = _legacy_type(int16)
CharTensor = _legacy_type(int8)
ByteTensor = _legacy_type(uint8)
BoolTensor = _legacy_type(bool_)
LEGACY_TYPES = {
    f"torch.{cls.__name__}": cls
    for cls in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        LongTensor,
        IntTensor,
        ShortTensor,
        CharTensor,
        ByteTensor,
        BoolTensor,
    )
}


def tensor_type(self, dtype=None, non_blocking: bool = False, **kwargs):
    """``Tensor.type()``: the legacy type name ('torch.FloatTensor'); ``Tensor.type(t)``: the
    tensor converted to ``t`` (a dtype, a legacy type or its name), itself if it has it."""
    if dtype is None:
        return f"torch.{LEGACY_TYPE_NAMES[self._data.dtype.name]}"
    if dtype is Tensor or dtype == "torch.Tensor":  # the default float type, as in PyTorch
        dtype = default_float.value
    if isinstance(dtype, str):
        if dtype.startswith("torch.cuda."):
            raise RuntimeError(_NO_CUDA_LIBRARY)
        if dtype not in LEGACY_TYPES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = LEGACY_TYPES[dtype]
    if isinstance(dtype, _LegacyTensorType):
        dtype = dtype.dtype
    if isinstance(dtype, type):  # float, numpy.float32, Parameter: no tensor type
        raise ValueError(f"invalid type: '{_type_name_as_python(dtype)}'")
    if not isinstance(dtype, DType):
        raise TypeError("dtype must be a type, str, or dtype object")
    if dtype.np == self._data.dtype:
        return self
    return self.to(dtype)


def _type_name_as_python(cls: type) -> str:
    """A class's tp_name, which PyTorch quotes: the bare name of a class defined in Python
    or a builtin, the module-qualified one of an extension type (numpy.float32)."""
    defined_in_python = cls.__flags__ & _HEAP_TYPE_FLAG
    if defined_in_python or cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


_HEAP_TYPE_FLAG = 1 << 9  # CPython's Py_TPFLAGS_HEAPTYPE: a class made by a class statement


# ---------------------------------------------------------------------- Tensor.new_*
def _new_options(self, function: str, dtype, device, requires_grad):
    """``new_*``'s dtype (self's unless given) and requires_grad, checked as the factories'."""
    np_dtype, requires_grad = _options(function, dtype, device, requires_grad)
    return (self._data.dtype if np_dtype is None else np_dtype), requires_grad


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = size_argument(_size_keyword(size, kwargs), "new_zeros")
    np_dtype, requires_grad = _new_options(self, "new_zeros", dtype, device, requires_grad)
    return _finish(xp.zeros(_non_negative(shape), np_dtype), requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = size_argument(_size_keyword(size, kwargs), "new_ones")
    np_dtype, requires_grad = _new_options(self, "new_ones", dtype, device, requires_grad)
    return _finish(xp.ones(_non_negative(shape), np_dtype), requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    shape = size_argument(_size_keyword(size, kwargs), "new_empty")
    np_dtype, requires_grad = _new_options(self, "new_empty", dtype, device, requires_grad)
    return _finish(xp.empty(_non_negative(shape), np_dtype), requires_grad)


def new_full(
    self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs
) -> Tensor:
    shape = size_argument((size,), "new_full", varargs=False)
    np_dtype, requires_grad = _new_options(self, "new_full", dtype, device, requires_grad)
    _no_other_keywords("new_full", kwargs)
    check_fill_fits(fill_value, xp.dtype(np_dtype))
    return _finish(xp.full(_non_negative(shape), fill_value).astype(np_dtype), requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    np_dtype, requires_grad = _new_options(self, "new_tensor", dtype, device, requires_grad)
    _no_other_keywords("new_tensor", kwargs)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True),"
            " rather than tensor.new_tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    array = array_from_data(data, np_dtype)
    return _finish(array[()] if array.ndim == 0 else array, requires_grad)


def _size_keyword(size: tuple, kwargs: dict) -> tuple:
    """``new_zeros(size=(2, 3))``: PyTorch names the size argument ``size``."""
    if "size" in kwargs:
        if size:
            raise TypeError("new_zeros() got multiple values for argument 'size'")
        size = (kwargs.pop("size"),)
    kwargs.pop("pin_memory", None)
    kwargs.pop("layout", None)
    if kwargs:
        raise TypeError(f"got an unexpected keyword argument '{next(iter(kwargs))}'")
    return size


def _no_other_keywords(function: str, kwargs: dict) -> None:
    kwargs.pop("pin_memory", None)
    kwargs.pop("layout", None)
    if kwargs:
        raise TypeError(f"{function}() got an unexpected keyword argument '{next(iter(kwargs))}'")


TENSOR_METHODS = {
    "__init__": tensor_init,
    "type": tensor_type,
    "new_zeros": new_zeros,
    "new_ones": new_ones,
    "new_empty": new_empty,
    "new_full": new_full,
    "new_tensor": new_tensor,
    "new": tensor_new,
    "is_inference": is_inference,
}
