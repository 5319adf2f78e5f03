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

The one-input ops whose VJP is one expression (log1p, ..., cosh) are rows of a table (see
ops/pointwise_table.py); the others are classes. Public operations are declared in
``DECLARATIONS`` (see ops/declare.py).
"""

from __future__ import annotations

import math

from ..backend import SCALAR_TYPE_NAMES, default_float, from_numpy_dtype, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import (
    binary,
    raise_if_not_broadcastable,
    unary,
    unary_op,
)
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import ATOM, NOT_DIFFERENTIABLE, POW, Rule, binary_rule
from .jvp_rules import elementwise_jvp
from .pointwise_table import binary_row, row, table, two_tensor_api, ufunc_binary

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class Atan2Backward0(Op):
    """``atan2(a, b)``, the angle of the point (b, a)."""

    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)
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
    jvp = staticmethod(elementwise_jvp)

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
    jvp = staticmethod(elementwise_jvp)

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
    jvp = staticmethod(elementwise_jvp)
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
    jvp = staticmethod(elementwise_jvp)
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
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.nan_to_num(x, nan=ctx.nan, posinf=ctx.posinf, neginf=ctx.neginf)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(xp.isfinite(x), g, 0.0)


# ---------------------------------------------------------------------- public functions
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


def _rsqrt(x):
    return xp.reciprocal(xp.sqrt(x))


# ---------------------------------------------------------------------- one-expression ops
# name, PyTorch's node, forward, VJP (g: the output's gradient, x: the input, out: the output),
# explain's words and local derivative, the CLI's summary (see ops/pointwise_table.py).
# d log1p(x) = 1/(1 + x); d expm1(x) = e^x = out + 1; d tan(x) = 1 + tan(x)^2;
# d rsqrt(x) = -1/2 x^(-3/2) = -out^3 / 2.
_NODES, _TABLE = table(
    row("log1p", "Log1PBackward0", xp.log1p, "g / (x + 1)",  # accurate for tiny x
        ("log(1 + x)", "1/(1 + {x:6})"), cli="log(1 + x)"),
    row("expm1", "Expm1Backward0", xp.expm1, "g * (out + 1)",  # accurate for tiny x
        ("exp(x) - 1", "exp({x:0})"), cli="e**x - 1"),
    row("log2", "Log2Backward0", xp.log2, "g / (x * LN2)",
        ("base-2 logarithm", "1/({x:6}·log(2))"), cli="base-2 logarithm",
        constants=(("LN2", LN2),)),
    row("log10", "Log10Backward0", xp.log10, "g / (x * LN10)",
        ("base-10 logarithm", "1/({x:6}·log(10))"), cli="base-10 logarithm",
        constants=(("LN10", LN10),)),
    row("exp2", "Exp2Backward0", xp.exp2, "g * out * LN2",
        Rule("power of two", "2^{x:9}", POW, ("2^{x:9}·log(2)",)), cli="2**x",
        constants=(("LN2", LN2),)),
    row("rsqrt", "RsqrtBackward0", _rsqrt, "g * out * out * out * -0.5",
        ("reciprocal square root", "-1/(2·{x:9}^1.5)"), cli="1/sqrt(x)"),
    row("tan", "TanBackward0", xp.tan, "g * (out * out + 1)",
        ("tangent", "1 + tan({x:0})²"), cli="tangent"),
    row("asin", "AsinBackward0", xp.arcsin, "g / sqrt(1 - x * x)",
        ("arcsine", "1/sqrt(1 - {x:9}²)"), cli="arcsine", aliases=("arcsin",)),
    row("acos", "AcosBackward0", xp.arccos, "-g / sqrt(1 - x * x)",
        ("arccosine", "-1/sqrt(1 - {x:9}²)"), cli="arccosine", aliases=("arccos",)),
    row("atan", "AtanBackward0", xp.arctan, "g / (x * x + 1)",
        ("arctangent", "1/(1 + {x:9}²)"), cli="arctangent", aliases=("arctan",)),
    row("sinh", "SinhBackward0", xp.sinh, "g * cosh(x)",
        ("hyperbolic sine", "cosh({x:0})"), cli="hyperbolic sine"),
    row("cosh", "CoshBackward0", xp.cosh, "g * sinh(x)",
        ("hyperbolic cosine", "sinh({x:0})"), cli="hyperbolic cosine"),
    binary_row("logaddexp", "LogaddexpBackward0", xp.logaddexp,
               ("g * exp(a - out)", "g * exp(b - out)"),
               ("log(e^a + e^b)", "exp({a:6} - logaddexp({a:0}, {b:0}))",
                "exp({b:6} - logaddexp({a:0}, {b:0}))"), cli="log(e**x + e**y)"),
    # d/da log2(2^a + 2^b) = 2^a / (2^a + 2^b) = 1 / (1 + 2^(b - a)), as PyTorch writes it
    binary_row("logaddexp2", "Logaddexp2Backward0", xp.logaddexp2,
               ("g / (1 + exp2(b - a))", "g / (1 + exp2(a - b))"),
               ("log2(2^a + 2^b)", "1/(1 + 2^({b:6} - {a:6}))", "1/(1 + 2^({a:6} - {b:6}))"),
               cli="log2(2**x + 2**y)", constants=(("exp2", xp.exp2),)),
)  # fmt: skip
globals().update(_NODES)  # Log1PBackward0, ...: importable like the classes above


def _rounding_rule(words: str, form: str) -> Rule:
    return Rule(words, form, ATOM, NOT_DIFFERENTIABLE)


def _extremum_rule(name: str, wins: str) -> Rule:
    """maximum/minimum: all of the gradient to the input that wins, half each at a tie."""
    return binary_rule(
        f"elementwise {name}",
        f"{name}({{a:0}}, {{b:0}})",
        ATOM,
        f"1 if {{a:0}} {wins} {{b:0}}, ½ if equal, else 0",
        f"1 if {{b:0}} {wins} {{a:0}}, ½ if equal, else 0",
    )


DECLARATIONS = (
    *_TABLE,
    declare(
        "floor",
        floor,
        ufunc=xp.floor,
        explain={FloorBackward0: _rounding_rule("rounding down", "floor({x:0})")},
        cli=Cli("round down"),
    ),
    declare(
        "ceil",
        ceil,
        ufunc=xp.ceil,
        explain={CeilBackward0: _rounding_rule("rounding up", "ceil({x:0})")},
        cli=Cli("round up"),
    ),
    declare(
        "trunc",
        trunc,
        aliases=("fix",),
        ufunc=xp.trunc,
        explain={TruncBackward0: _rounding_rule("rounding toward 0", "trunc({x:0})")},
        cli=Cli("round towards 0"),
    ),
    declare(
        "round",
        round,
        ufunc=xp.rint,
        explain={
            RoundBackward0: _rounding_rule("rounding", "round({x:0})"),
            RoundBackward1: _rounding_rule("rounding", "round({x:0}, …)"),
        },
        cli=Cli("round to nearest (half to even)"),
    ),
    declare(
        "frac",
        frac,
        explain={FracBackward0: Rule("fractional part", "frac({x:0})", ATOM, ("1",))},
        cli=Cli("x - trunc(x)"),
    ),
    declare("square", square, ufunc=xp.square, cli=Cli("x**2")),  # records PowBackward0
    declare(
        "nan_to_num",
        nan_to_num,
        explain={
            NanToNumBackward0: Rule(
                "NaN and infinities replaced by numbers",
                "nan_to_num({x:0})",
                ATOM,
                ("1 where {x:0} is finite, else 0",),
            )
        },
    ),
    declare(
        "atan2",
        atan2,
        method=atan2_method,
        aliases=("arctan2",),
        ufunc=xp.arctan2,
        ufunc_call=ufunc_binary(atan2),
        explain={
            Atan2Backward0: binary_rule(
                "two-argument arctangent",
                "atan2({a:0}, {b:0})",
                ATOM,
                "{b:6}/({a:9}² + {b:9}²)",
                "-{a:8}/({a:9}² + {b:9}²)",
            )
        },
        cli=Cli("angle of the point (x, y)", ("y", "x")),
    ),
    declare(
        "maximum",
        maximum,
        method=maximum_method,
        ufunc=xp.maximum,
        ufunc_call=ufunc_binary(maximum),
        explain={MaximumBackward0: _extremum_rule("maximum", ">")},
        cli=Cli("larger of x and y, elementwise", ("x", "y")),
    ),
    declare(
        "minimum",
        minimum,
        method=minimum_method,
        ufunc=xp.minimum,
        ufunc_call=ufunc_binary(minimum),
        explain={MinimumBackward0: _extremum_rule("minimum", "<")},
        cli=Cli("smaller of x and y, elementwise", ("x", "y")),
    ),
)
