"""Boolean elementwise tests and reductions: isnan, isinf, isfinite, isposinf, isneginf,
logical_and/or/xor/not, isclose, allclose (a Python bool), any and all. Their results are bool
tensors (``any``/``all`` of a uint8 tensor stay uint8, as in PyTorch) and never require grad.

Public operations are declared in ``DECLARATIONS`` (see ops/declare.py); none records a node.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import NO_EDGE
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import tensor_argument
from .declare import declare
from .pointwise import check_broadcast
from .pointwise_table import two_tensor_api


def _floating_test(ufunc, name: str, integral_value: bool):
    """A float test; an integral or bool tensor is never NaN or infinite."""

    def function(input):
        data = input._data
        if data.dtype.kind != "f":
            return wrap(xp.full(data.shape, integral_value), NO_EDGE)
        return wrap(ufunc(data), NO_EDGE)

    function.__name__ = function.__qualname__ = name
    return function


isnan = _floating_test(xp.isnan, "isnan", False)
isinf = _floating_test(xp.isinf, "isinf", False)
isfinite = _floating_test(xp.isfinite, "isfinite", True)
isposinf = _floating_test(xp.isposinf, "isposinf", False)
isneginf = _floating_test(xp.isneginf, "isneginf", False)


def _logical_binary(ufunc, name: str):
    def apply(input, other):
        try:
            return wrap(ufunc(input._data, other._data), NO_EDGE)
        except ValueError:
            check_broadcast(input, other)
            raise

    return two_tensor_api(apply, name)


logical_and, logical_and_method = _logical_binary(xp.logical_and, "logical_and")
logical_or, logical_or_method = _logical_binary(xp.logical_or, "logical_or")
logical_xor, logical_xor_method = _logical_binary(xp.logical_xor, "logical_xor")


def logical_not(input):
    return wrap(xp.logical_not(input._data), NO_EDGE)


def _isclose(input, other, rtol, atol, equal_nan):
    """|input - other| <= atol + rtol * |other|, elementwise (PyTorch's checks first)."""
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol:g}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol:g}")
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{SCALAR_TYPE_NAMES[a.dtype.name]} did not match {SCALAR_TYPE_NAMES[b.dtype.name]}"
        )
    check_broadcast(input, other)
    return xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _closeness(reduce, name: str):
    """``torch.<name>(input, other, ...)`` and ``Tensor.<name>(other, ...)``: ``reduce`` of the
    elementwise test (the arguments' positions in the TypeError as PyTorch's)."""

    def function(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        tensor_argument(input, name, "input", 1)
        tensor_argument(other, name, "other", 2)
        return reduce(_isclose(input, other, rtol, atol, equal_nan))

    def method(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        tensor_argument(other, name, "other", 1)
        return reduce(_isclose(self, other, rtol, atol, equal_nan))

    function.__name__ = function.__qualname__ = method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    return function, method


isclose, isclose_method = _closeness(lambda close: wrap(xp.asarray(close), NO_EDGE), "isclose")
# allclose: whether every element is close, a Python bool
allclose, allclose_method = _closeness(lambda close: bool(close.all()), "allclose")


def _reduce_dims(dim, ndim: int):
    """The normalised dims of a reduction; an empty tuple reduces nothing (as in PyTorch)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normalized = []
    for d in dims:
        d = normalize_dim(d, ndim)
        if d in normalized:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        normalized.append(d)
    return tuple(normalized) if ndim else ()


def _truth_reduction(reduce, name: str):
    def function(input, dim=None, keepdim: bool = False):
        data = xp.asarray(input._data)
        if dim is None:
            out = reduce(data, keepdims=keepdim)
        else:
            dims = _reduce_dims(dim, data.ndim)
            out = reduce(data, axis=dims, keepdims=keepdim) if dims else data.astype(bool)
        if data.dtype == xp.uint8:  # PyTorch keeps uint8 for uint8 input
            out = xp.asarray(out, dtype=xp.uint8)
        return wrap(out, NO_EDGE)

    function.__name__ = function.__qualname__ = name
    return function


any = _truth_reduction(xp.any, "any")  # noqa: A001 - PyTorch's name
all = _truth_reduction(xp.all, "all")  # noqa: A001 - PyTorch's name


def _ufunc_logical(function):
    """The ufunc form: a recorded VJP may pass an array or a number as either operand."""

    def call(a, b):
        a_data = a._data if type(a) is Tensor else a
        b_data = b._data if type(b) is Tensor else b
        return wrap(function(a_data, b_data), NO_EDGE)

    return call


DECLARATIONS = (
    declare("isnan", isnan, ufunc=xp.isnan),
    declare("isinf", isinf, ufunc=xp.isinf),
    declare("isfinite", isfinite, ufunc=xp.isfinite),
    declare("isposinf", isposinf),
    declare("isneginf", isneginf),
    declare(
        "logical_and",
        logical_and,
        method=logical_and_method,
        ufunc=xp.logical_and,
        ufunc_call=_ufunc_logical(xp.logical_and),
    ),
    declare(
        "logical_or",
        logical_or,
        method=logical_or_method,
        ufunc=xp.logical_or,
        ufunc_call=_ufunc_logical(xp.logical_or),
    ),
    declare(
        "logical_xor",
        logical_xor,
        method=logical_xor_method,
        ufunc=xp.logical_xor,
        ufunc_call=_ufunc_logical(xp.logical_xor),
    ),
    declare("logical_not", logical_not, ufunc=xp.logical_not),
    declare("isclose", isclose, method=isclose_method),
    declare("allclose", allclose, method=allclose_method),
    declare("any", any),
    declare("all", all),
)
