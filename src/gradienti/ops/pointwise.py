"""Elementwise math beyond the basics: log1p, expm1, logarithms and exponentials in other bases,
trigonometric and hyperbolic functions, atan2, rounding, maximum/minimum and nan_to_num.
Clamp lives in ops/clamp.py, erf/erfc in ops/special.py, the boolean tests (isnan,
logical_and, any, ...) in ops/logical.py.

Each op's VJP is PyTorch's formula (derivatives.yaml), written once with operators, ``xp``
ufuncs and ``where``, so that it runs on raw arrays and, recorded, on Tensors (see
ops/elementwise.py). Values and gradients at edges follow PyTorch: rounding ops have zero
gradient, atan2's is zero at the origin, nan_to_num's is zero where it replaced a value;
maximum/minimum split the gradient half and half at a tie, and where either input is NaN both
inputs get all of it.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

import math

from ..autograd.function import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, SAVE_OUTPUT, Op
from ..backend import SCALAR_TYPE_NAMES, default_float, from_numpy_dtype, xp
from ..tensor import Tensor, wrap
from .apply import (
    as_operand,
    binary,
    raise_if_not_broadcastable,
    tensor_argument,
    unary,
    unary_op,
)
from .elementwise import where

LN2 = math.log(2.0)
LN10 = math.log(10.0)


# ---------------------------------------------------------------- logarithms and exponentials
class Log1PBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.log1p  # accurate for tiny x, unlike log(1 + x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1)


class Expm1Backward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    promotes_integers = True
    function = xp.expm1  # accurate for tiny x, unlike exp(x) - 1

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)


class Log2Backward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.log2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * LN2)


class Log10Backward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.log10

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * LN10)


class Exp2Backward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    promotes_integers = True
    function = xp.exp2

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * LN2


class RsqrtBackward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    promotes_integers = True

    @staticmethod
    def forward(ctx, x):
        return xp.reciprocal(xp.sqrt(x))

    @staticmethod
    def backward(ctx, g):
        # d x^(-1/2) = -1/2 x^(-3/2) = -out^3 / 2
        (out,) = ctx.saved_tensors
        return g * out * out * out * -0.5


# ---------------------------------------------------------------- trigonometric, hyperbolic
class TanBackward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    promotes_integers = True
    function = xp.tan

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out * out + 1)


class AsinBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.arcsin

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / xp.sqrt(1 - x * x)


class AcosBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.arccos

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g / xp.sqrt(1 - x * x)


class AtanBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.arctan

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * x + 1)


class SinhBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.sinh

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * xp.cosh(x)


class CoshBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    promotes_integers = True
    function = xp.cosh

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * xp.sinh(x)


class Atan2Backward0(Op):
    """``atan2(a, b)``, the angle of the point (b, a)."""

    __slots__ = ()
    save = SAVE_INPUTS
    function = xp.arctan2

    @staticmethod
    def backward(ctx, g):
        # d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2); PyTorch gives 0 at the origin. The
        # division is by a safe denominator, so the unused branch gives no NaN when recorded.
        a, b = ctx.saved_tensors
        a_node, b_node = ctx._next
        norm = a * a + b * b
        origin = norm == 0
        scale = where(origin, 0.0, 1 / where(origin, 1.0, norm))
        grad_a = g * b * scale if a_node is not None else None
        grad_b = g * -a * scale if b_node is not None else None
        return grad_a, grad_b


# ---------------------------------------------------------------- rounding (zero gradient)
class _Rounding(Op):
    """A piecewise-constant op: its gradient is zero everywhere, as in PyTorch."""

    __slots__ = ()
    save = SAVE_NOTHING

    @staticmethod
    def backward(ctx, g):
        if type(g) is Tensor:
            return wrap(xp.zeros(g._data.shape, g._data.dtype), NO_EDGE)
        return xp.zeros_like(g)


class FloorBackward0(_Rounding):
    __slots__ = ()
    function = xp.floor


class CeilBackward0(_Rounding):
    __slots__ = ()
    function = xp.ceil


class TruncBackward0(_Rounding):
    __slots__ = ()
    function = xp.trunc


class RoundBackward0(_Rounding):
    __slots__ = ()
    function = xp.rint  # half to even, as PyTorch


class RoundBackward1(_Rounding):
    """``round(x, decimals=d)``, computed as PyTorch does: rint(x * 10^d) / 10^d."""

    __slots__ = ("decimals",)

    @staticmethod
    def forward(ctx, x):
        decimals = ctx.decimals
        scale = x.dtype.type(10.0 ** abs(decimals))
        if decimals < 0:
            return xp.rint(x / scale) * scale
        return xp.rint(x * scale) / scale


class FracBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return x - xp.trunc(x)

    @staticmethod
    def backward(ctx, g):
        return g


# ---------------------------------------------------------------- maximum, minimum
class MaximumBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    function = xp.maximum  # propagates NaN, as PyTorch

    @staticmethod
    def backward(ctx, g):
        # PyTorch: half to each at a tie; where either is NaN, both get all of it.
        a, b = ctx.saved_tensors
        a_node, b_node = ctx._next
        shared = where(a == b, g * 0.5, g)
        grad_a = where(a < b, 0.0, shared) if a_node is not None else None
        grad_b = where(a > b, 0.0, shared) if b_node is not None else None
        return grad_a, grad_b


class MinimumBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    function = xp.minimum

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_node, b_node = ctx._next
        shared = where(a == b, g * 0.5, g)
        grad_a = where(a > b, 0.0, shared) if a_node is not None else None
        grad_b = where(a < b, 0.0, shared) if b_node is not None else None
        return grad_a, grad_b


# ---------------------------------------------------------------- nan_to_num
class NanToNumBackward0(Op):
    __slots__ = ("nan", "posinf", "neginf")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x):
        return xp.nan_to_num(x, nan=ctx.nan, posinf=ctx.posinf, neginf=ctx.neginf)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(xp.isfinite(x), g, 0.0)


# ---------------------------------------------------------------------- public functions


log1p = unary_op(Log1PBackward0, "log1p")
expm1 = unary_op(Expm1Backward0, "expm1")
log2 = unary_op(Log2Backward0, "log2")
log10 = unary_op(Log10Backward0, "log10")
exp2 = unary_op(Exp2Backward0, "exp2")
rsqrt = unary_op(RsqrtBackward0, "rsqrt")
tan = unary_op(TanBackward0, "tan")
asin = unary_op(AsinBackward0, "asin")
acos = unary_op(AcosBackward0, "acos")
atan = unary_op(AtanBackward0, "atan")
sinh = unary_op(SinhBackward0, "sinh")
cosh = unary_op(CoshBackward0, "cosh")
_frac = unary_op(FracBackward0, "frac")


def not_implemented(kernel: str, input: Tensor):
    name = SCALAR_TYPE_NAMES[from_numpy_dtype(input._data.dtype).name]
    return NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _rounding_function(op_class, name: str, kernel: str):
    def function(input):
        kind = input._data.dtype.kind
        if kind == "f":
            return unary(op_class(), input)
        if kind == "b":
            raise not_implemented(kernel, input)
        return wrap(xp.array(input._data), NO_EDGE)  # an integer is its own floor

    function.__name__ = function.__qualname__ = name
    return function


floor = _rounding_function(FloorBackward0, "floor", "floor_vml_cpu")
ceil = _rounding_function(CeilBackward0, "ceil", "ceil_vml_cpu")
trunc = _rounding_function(TruncBackward0, "trunc", "trunc_vml_cpu")
_round0 = _rounding_function(RoundBackward0, "round", "round_vml_cpu")


def round(input, *, decimals: int = 0):  # noqa: A001 - PyTorch's name
    if decimals == 0:
        return _round0(input)
    if input._data.dtype.kind != "f":
        raise not_implemented("round_cpu", input)
    node = RoundBackward1()
    node.decimals = int(decimals)
    return unary(node, input)


def frac(input):
    if input._data.dtype.kind != "f":
        raise not_implemented("frac_cpu", input)
    return _frac(input)


def square(input):
    """PyTorch records ``square`` as ``pow(x, 2)`` (PowBackward0)."""
    if input._data.dtype.kind == "b":
        input = input.long()
    return input**2


def check_broadcast(*tensors) -> None:
    """PyTorch's error if the tensors' shapes do not broadcast (see apply.py)."""
    raise_if_not_broadcastable(*(tensor._data for tensor in tensors))


def binary_functions(op_class, name: str, floating: bool = False):
    """``torch.<name>(input, other)`` and ``Tensor.<name>(other)`` for a two-tensor op."""

    def apply(input, other):
        if floating and input._data.dtype.kind != "f" and other._data.dtype.kind != "f":
            # Integers compute in the default float dtype (atan2 of two int tensors).
            float_type = default_float.value.np
            input = wrap(input._data.astype(float_type), NO_EDGE)
            other = wrap(other._data.astype(float_type), NO_EDGE)
        try:
            return binary(op_class(), input, other)
        except ValueError:
            check_broadcast(input, other)
            raise

    return two_tensor_api(apply, name)


def two_tensor_api(apply, name: str):
    """``torch.<name>(input, other)`` and ``Tensor.<name>(other)`` around ``apply``, with
    PyTorch's TypeError for an argument that is not a Tensor."""

    def function(input, other):
        tensor_argument(input, name, "input", 1)
        tensor_argument(other, name, "other", 2)
        return apply(input, other)

    def method(self, other):
        tensor_argument(other, name, "other", 1)
        return apply(self, other)

    function.__name__ = function.__qualname__ = method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    return function, method


atan2, atan2_method = binary_functions(Atan2Backward0, "atan2", floating=True)
maximum, maximum_method = binary_functions(MaximumBackward0, "maximum")
minimum, minimum_method = binary_functions(MinimumBackward0, "minimum")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced; the infinities default to the dtype's extreme values."""
    if input._data.dtype.kind != "f":
        return wrap(xp.array(input._data), NO_EDGE)
    node = NanToNumBackward0()
    node.nan = 0.0 if nan is None else nan
    node.posinf = posinf
    node.neginf = neginf
    return unary(node, input)


def ufunc_binary(function):
    """A NumPy ufunc's form (a recorded VJP may pass a number on either side)."""

    def call(a, b):
        like = a if isinstance(a, Tensor) else b
        return function(as_operand(a, like), as_operand(b, like))

    return call


_UNARY = {
    "log1p": log1p, "expm1": expm1, "log2": log2, "log10": log10, "exp2": exp2,
    "rsqrt": rsqrt, "tan": tan, "asin": asin, "acos": acos, "atan": atan, "sinh": sinh,
    "cosh": cosh, "floor": floor, "ceil": ceil, "trunc": trunc,
    "round": round, "frac": frac, "square": square, "nan_to_num": nan_to_num,
    "arcsin": asin, "arccos": acos, "arctan": atan, "fix": trunc,
}  # fmt: skip

TENSOR_METHODS = {
    **_UNARY,
    "atan2": atan2_method,
    "arctan2": atan2_method,
    "maximum": maximum_method,
    "minimum": minimum_method,
}
FUNCTIONS = {
    **_UNARY,
    "atan2": atan2,
    "arctan2": atan2,
    "maximum": maximum,
    "minimum": minimum,
}
UFUNCS = {
    xp.log1p: log1p, xp.expm1: expm1, xp.log2: log2, xp.log10: log10, xp.exp2: exp2,
    xp.tan: tan, xp.arcsin: asin, xp.arccos: acos, xp.arctan: atan, xp.sinh: sinh,
    xp.cosh: cosh, xp.floor: floor, xp.ceil: ceil, xp.trunc: trunc, xp.rint: round,
    xp.square: square, xp.arctan2: ufunc_binary(atan2), xp.maximum: ufunc_binary(maximum),
    xp.minimum: ufunc_binary(minimum),
}  # fmt: skip
