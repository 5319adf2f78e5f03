"""The array module, dtypes with PyTorch's names, and PyTorch's type promotion.

Every other module reaches NumPy through ``xp`` so that another array library with NumPy's
interface (CuPy) is a change to this file alone.
"""

from __future__ import annotations

import types

import numpy

from .devices import CPU, device  # noqa: F401 - devices.py; importers read them here

_numpy_asarray = numpy.asarray
_numpy_array = numpy.array
_numpy_ascontiguousarray = numpy.ascontiguousarray
_passed_through = type(None)  # (set by ``pass_through``)


def pass_through(array_type) -> None:
    """Make ``xp.asarray``, ``xp.array`` and ``xp.ascontiguousarray`` hand values of
    ``array_type`` back as they are (a copy, a cast where asked) instead of converting them:
    gradienti/batching's BatchedArray, one sample of a batch, has no single ndarray to
    become, and the ops convert their results with these (a NumPy scalar to a 0-d array)."""
    global _passed_through
    _passed_through = array_type


def _asarray(a, dtype=None, order=None, **kwargs):
    if type(a) is _passed_through:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    if dtype is None and order is None and not kwargs:
        return _numpy_asarray(a)
    return _numpy_asarray(a, dtype, order, **kwargs)


def _array(a, dtype=None, *args, copy=True, **kwargs):
    if type(a) is _passed_through:
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a
    return _numpy_array(a, dtype, *args, copy=copy, **kwargs)


def _ascontiguousarray(a, dtype=None, **kwargs):
    if type(a) is _passed_through:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return _numpy_ascontiguousarray(a, dtype, **kwargs)


# NumPy, with those three conversions wrapped (every other name is NumPy's own object).
xp = types.ModuleType("numpy", numpy.__doc__)
xp.__dict__.update(numpy.__dict__)
xp.asarray = _asarray
xp.array = _array
xp.ascontiguousarray = _ascontiguousarray

# PyTorch never warns on overflow, division by zero or log(0): it returns inf/nan silently.
# NumPy would print a RuntimeWarning for each of those, on every op, in the user's face.
xp.seterr(all="ignore")


class dtype:  # noqa: N801 - PyTorch's public name
    """A tensor element type, printed as PyTorch prints it (``torch.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = xp.dtype(np_dtype)
        self.is_floating_point = category == _FLOAT
        self.is_signed = category != _BOOL and self.np.kind != "u"
        self.itemsize = self.np.itemsize
        self._category = category

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    @property
    def is_complex(self) -> bool:
        return False

    def to_real(self) -> dtype:
        return self


# Promotion categories, weakest first (PyTorch: bool < integral < floating).
_BOOL, _INT, _FLOAT = 0, 1, 2

bool_ = dtype("bool", xp.bool_, _BOOL)
uint8 = dtype("uint8", xp.uint8, _INT)
int8 = dtype("int8", xp.int8, _INT)
int16 = dtype("int16", xp.int16, _INT)
int32 = dtype("int32", xp.int32, _INT)
int64 = dtype("int64", xp.int64, _INT)
float16 = dtype("float16", xp.float16, _FLOAT)
float32 = dtype("float32", xp.float32, _FLOAT)
float64 = dtype("float64", xp.float64, _FLOAT)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NUMPY = {d.np: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


class _NameOnlyDtype(dtype):
    """A dtype PyTorch has and NumPy lacks (bfloat16): it can be named, compared and looked up
    in a dict, as configuration code does, but no array can hold it, so asking for its NumPy
    type (to create or cast a tensor) raises a TypeError that says so."""

    __slots__ = ()

    def __init__(self, name: str, itemsize: int) -> None:
        self.name = name
        self.is_floating_point = True
        self.is_signed = True
        self.itemsize = itemsize
        self._category = _FLOAT

    @property
    def np(self):
        raise TypeError(
            f"gradienti has no tensors of dtype torch.{self.name}: NumPy, which holds "
            "gradienti's data, has no such type (use torch.float32 or torch.float16)"
        )

    def __reduce__(self):
        return (_name_only_dtype, (self.name,))


bfloat16 = _NameOnlyDtype("bfloat16", 2)


def _name_only_dtype(name: str) -> dtype:
    return {"bfloat16": bfloat16}[name]


class _DefaultDtype:
    """The default floating dtype (``torch.get_default_dtype()``), float32 unless changed."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = float32


default_float = _DefaultDtype()


def get_default_dtype() -> dtype:
    return default_float.value


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _ = d.np  # bfloat16 (no NumPy type) raises its TypeError before anything changes
    default_float.value = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The gradienti dtype of a NumPy dtype; TypeError for one PyTorch has no equivalent of."""
    found = _BY_NUMPY.get(np_dtype)
    if found is None:
        found = _BY_NUMPY.get(xp.dtype(np_dtype))
        if found is None:
            # named as PyTorch names it, by NumPy's scalar type: numpy.object_, numpy.uint16
            raise TypeError(
                f"can't convert np.ndarray of type numpy.{xp.dtype(np_dtype).type.__name__}. "
                "The only supported types"
                " are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
            )
    return found


def to_numpy_dtype(d) -> numpy.dtype:
    """Accept a gradienti dtype, a NumPy dtype or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d.np
    if d is float:
        return float64.np
    if d is int:
        return int64.np
    if d is bool:
        return bool_.np
    return from_numpy_dtype(d).np


def category(np_dtype) -> int:
    kind = np_dtype.kind
    if kind == "b":
        return _BOOL
    if kind in "iu":
        return _INT
    return _FLOAT


def result_type(a, b, a_dim: int, b_dim: int):
    """PyTorch's promotion of two tensors' NumPy dtypes.

    A 0-d tensor is weak against a tensor with dimensions: it only decides the result when it
    is of a higher category (bool < integral < floating); otherwise the dimensioned operand's
    dtype wins. Between operands of the same dimension class, ordinary promotion applies.
    """
    if a is b:
        return a
    if (a_dim == 0) != (b_dim == 0):
        strong, weak = (a, b) if b_dim == 0 else (b, a)
        return weak if category(weak) > category(strong) else strong
    a_category, b_category = category(a), category(b)
    if a_category != b_category:
        # Unlike NumPy (int64 + float32 -> float64), the higher category's dtype is kept.
        return a if a_category > b_category else b
    return xp.promote_types(a, b)


def scalar_result_type(array_dtype, scalar):
    """The dtype of ``tensor op python_scalar``: the scalar only lifts the category.

    An integral or bool tensor combined with a Python float gives the default float dtype
    (NumPy would give float64); a bool tensor with a Python int gives int64.
    """
    kind = array_dtype.kind
    if type(scalar) is float:
        if kind in "biu":
            return default_float.value.np
        return array_dtype
    if type(scalar) is int and kind == "b":
        return int64.np
    return array_dtype


# PyTorch's names in its messages and in ``Tensor.type()``.
LEGACY_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}

SCALAR_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}
# c10's names in "value cannot be converted to type ... without overflow" (checked_convert).
OVERFLOW_TYPE_NAMES = {
    "uint8": "uint8_t",
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int",
    "int64": "int64_t",
    "float16": "c10::Half",
    "float32": "float",
    "float64": "double",
}
# The C++ element type names PyTorch prints in some messages (caffe2::TypeMeta's names).
CPP_TYPE_NAMES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}


def sum_dtype(input_dtype, requested):
    """PyTorch sums bool and integer tensors in int64."""
    if requested is not None:
        return requested.np
    return int64.np if input_dtype.kind in "biu" else None
