"""The gamma family: ``lgamma``, ``digamma`` and ``polygamma(n, x)`` (with their methods and
in-place forms). NumPy has none of them, so they are computed here with NumPy ufunc arithmetic
(lgamma and polygamma from order 2 in float64, whatever the input dtype) and returned in
it (an integral input computes in the default float dtype, as PyTorch's).

- ``lgamma(x) = log|Γ(x)|``: Taylor series of log Γ(1 + z) around 1 and 2 (where it vanishes,
  so that its relative error stays at rounding level), elsewhere the recurrence
  ``lgamma(x) = lgamma(x + k) - log(x (x + 1) ... (x + k - 1))`` up to 12 and Stirling's
  series; for x < 0 the reflection ``lgamma(x) = log(π / |sin πx|) - lgamma(1 - x)``. At the
  poles (0, -1, -2, ...) it is +inf, as PyTorch's.
- ``digamma(x) = Γ'(x)/Γ(x)`` and ``polygamma(1, x)`` (trigamma) are PyTorch's own algorithms
  in the input's precision (see their section): PyTorch prints their rounding, not the
  exact values. ψ(±0) = ∓inf and ψ(negative integer) = NaN, as PyTorch's.
- ``polygamma(n, x) = ψ⁽ⁿ⁾(x)``, n ≥ 2: ``(-1)^(n+1) n! ζ(n + 1, x)`` with the Hurwitz zeta
  function ζ(s, q) = Σ_k (q + k)^-s (direct terms up to q ≥ 16 + s, then Euler–Maclaurin);
  for x < 0 the reflection ``ψ⁽ⁿ⁾(x) = (-1)^n ψ⁽ⁿ⁾(1 - x) - π^(n+1) cot⁽ⁿ⁾(πx)``, the
  derivatives of cot being polynomials in cot. At the poles: +inf for odd n, -inf for even n.

Derivatives as derivatives.yaml: lgamma' = digamma, digamma' = polygamma(1, ·),
polygamma(n, ·)' = polygamma(n + 1, ·): each derivative is the next op, so every order is
differentiable.
"""

from __future__ import annotations

import math

from ..arguments import check_int
from ..backend import xp
from ..batching import elementwise
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument, unary
from .declare import declare
from .explain_rule import Rule
from .jvp_rules import elementwise_jvp
from .pointwise_table import row, table

# Bernoulli numbers B_2, B_4, ..., B_20.
_BERNOULLI = (
    1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
    -174611 / 330,
)  # fmt: skip
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_EULER_GAMMA = 0.57721566490153286061
# The least float32 whose lgammaf (glibc's, PyTorch's float32 lgamma) is inf, though the
# exact value is below the float32 maximum up to about 4.085e36.
_LGAMMAF_OVERFLOW = 4.0371103e36


def _float64(x):
    return xp.asarray(x, dtype=xp.float64)


def _in_dtype_of(result, x):
    """``result`` (float64) in ``x``'s floating dtype."""
    return result.astype(xp.result_type(x), copy=False)


# ---------------------------------------------------------------------- Hurwitz zeta
def hurwitz_zeta(s: int, q):
    """ζ(s, q) = Σ_k≥0 (q + k)^-s for an integer s ≥ 2 and q > 0 (float64 arrays): the terms
    while q + k < 16 + s, then the Euler–Maclaurin tail (y = q + k)
    y^(1-s)/(s-1) + y^-s/2 + Σ_j B_2j/(2j)! s(s+1)...(s+2j-2) y^(-s-2j+1)."""
    threshold = 16.0 + s
    y = _float64(q).copy()
    total = xp.zeros_like(y)
    for _ in range(int(threshold) + 1):
        small = y < threshold
        total += xp.where(small, y ** -float(s), 0.0)
        y = xp.where(small, y + 1.0, y)
    total += y ** (1.0 - s) / (s - 1) + 0.5 * y ** -float(s)
    rising = float(s)  # s(s+1)...(s+2j-2)
    factorial = 2.0  # (2j)!
    power = y ** (-float(s) - 1.0)
    inverse_square = 1.0 / (y * y)
    for j, bernoulli in enumerate(_BERNOULLI, start=1):
        total += bernoulli / factorial * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
        power = power * inverse_square
    return total


# ζ(k) for the Taylor series of log Γ(1 + z) = -γz + Σ_k≥2 (-1)^k ζ(k)/k z^k (|z| <= 1/2:
# 60 terms leave less than 2^-60).
_SERIES_TERMS = 60
_ZETA_OVER_K = tuple(
    (-1) ** k * float(hurwitz_zeta(k, 1.0)) / k for k in range(2, _SERIES_TERMS + 1)
)


def _lgamma_near_one(z):
    """log Γ(1 + z) for |z| <= 1/2, by its Taylor series (Horner)."""
    total = xp.zeros_like(z)
    for coefficient in reversed(_ZETA_OVER_K):
        total = (total + coefficient) * z
    return (total - _EULER_GAMMA) * z


def _stirling(y):
    """log Γ(y) for y >= 12: (y - 1/2) log y - y + log(2π)/2 + Σ_k B_2k / (2k(2k-1) y^(2k-1))."""
    inverse = 1.0 / y
    inverse_square = inverse * inverse
    series = xp.zeros_like(y)
    for k, bernoulli in reversed(list(enumerate(_BERNOULLI[:8], start=1))):
        series = series * inverse_square + bernoulli / (2 * k * (2 * k - 1))
    return (y - 0.5) * xp.log(y) - y + _HALF_LOG_2PI + series * inverse


def _lgamma_positive(x):
    """log Γ(x) for x > 0 (float64), without cancellation: below 1/2, log Γ(1 + x) - log x;
    in [1/2, 3/2) the series; in [3/2, 12) the recurrence log Γ(x) = log((x-1)...(x-k)) +
    log Γ(x - k) down into [3/2, 5/2), where log Γ(2 + z) = log(1 + z) + log Γ(1 + z);
    from 12 Stirling's series."""
    reduced = xp.where(x >= 12.0, 2.0, x)
    product = xp.ones_like(x)
    for _ in range(10):
        down = reduced >= 2.5
        reduced = xp.where(down, reduced - 1.0, reduced)
        product = xp.where(down, product * reduced, product)
    around_two = reduced >= 1.5
    series = _lgamma_near_one(xp.where(around_two, reduced - 2.0, reduced - 1.0))
    middle = xp.where(around_two, xp.log1p(reduced - 2.0), 0.0) + series + xp.log(product)
    tiny = _lgamma_near_one(xp.where(x < 0.5, x, 0.0)) - xp.log(x)
    result = xp.where(x < 0.5, tiny, middle)
    large = xp.where(x >= 12.0, x, 12.0)
    return xp.where(x >= 12.0, xp.where(xp.isposinf(x), xp.inf, _stirling(large)), result)


@elementwise  # (its branches see the samples all together)
def lgamma_array(x):
    """log|Γ(x)| of an array, in float64, returned in ``x``'s floating dtype."""
    v = _float64(x)
    negative = v < 0
    positive = _lgamma_positive(xp.where(negative, 1.0 - v, v))
    # |sin(πx)| from x's distance to the nearest integer (exact), so that πx's rounding
    # does not spoil it for large |x|
    sine = xp.abs(xp.sin(math.pi * (v - xp.round(v))))
    reflected = xp.log(math.pi / sine) - positive
    result = xp.where(negative, reflected, positive)
    pole = (v <= 0) & (v == xp.floor(v))  # 0, -0, negative integers, -inf
    if xp.result_type(x) == xp.float32:  # the C library's lgammaf overflows a little early
        pole |= xp.abs(v) >= _LGAMMAF_OVERFLOW
    return _in_dtype_of(xp.where(pole, xp.inf, result), x)


# ---------------------------------------------------------------------- digamma, trigamma
# digamma and trigamma are PyTorch's own algorithms (ATen's calc_digamma and calc_trigamma,
# after Cephes), step for step in the input's precision, so that float32 results agree with
# PyTorch's bit for bit (nearly everywhere) rather than being rounded from more exact values:
# PyTorch's float32 digamma is several ulp off near its root, and its trigamma is ~3e-10
# off in float64 and finite (not inf) at the poles, and these are the numbers it prints.
_DIGAMMA_ASYMPTOTIC = (
    8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
    -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
    8.33333333333333333333e-2,
)  # fmt: skip
_PSI_10 = 2.25175258906672110764  # ψ(10)


def _computing_type(x):
    """The precision PyTorch computes in: float32 for float16 and float32, else float64."""
    return xp.float64 if xp.result_type(x) == xp.float64 else xp.float32


def _log(y, real):
    """log in ``real`` rounded from float64: the C library's logf (and sinf) are correctly
    rounded where NumPy's float32 ones can be an ulp off (many ulp of ψ near its root)."""
    return xp.log(y.astype(xp.float64)).astype(real, copy=False)


def _digamma_positive(y, real):
    """ψ(y) for y > 0: ψ(y) = ψ(y + k) - Σ 1/(y + i) up to y + k >= 10, then ψ(10) exactly or
    log y - 1/(2y) - z·A(z), z = 1/y² (no series from 1e17 on)."""
    one = real(1)
    shift = xp.zeros_like(y)
    for _ in range(10):
        small = y < real(10)
        shift = xp.where(small, shift - one / y, shift)
        y = xp.where(small, y + one, y)
    z = one / (y * y)
    polynomial = xp.zeros_like(y)
    for coefficient in _DIGAMMA_ASYMPTOTIC:
        polynomial = polynomial * z + real(coefficient)
    series = xp.where(y < real(1e17), z * polynomial, real(0))
    asymptotic = shift + _log(y, real) - real(0.5) / y - series
    return xp.where(y == real(10), shift + real(_PSI_10), asymptotic)


@elementwise
def digamma_array(x):
    """ψ(x) of an array, returned in ``x``'s floating dtype. For x < 0 the reflection
    ψ(x) = ψ(1 - x) - π / tan(πr), r = fmod(x, 1) in float64 (πr keeps the digits that πx
    would lose). ψ(±0) = ∓inf, ψ(negative integer or -inf) = NaN."""
    real = _computing_type(x)
    v = xp.asarray(x).astype(real, copy=False)
    negative = v < 0
    positive = _digamma_positive(xp.where(negative, real(1) - v, v), real)
    fraction = xp.fmod(v.astype(xp.float64), 1.0)
    pi_over_tan = (math.pi / xp.tan(math.pi * fraction)).astype(real, copy=False)
    result = xp.where(negative, positive - pi_over_tan, positive)
    result = xp.where(negative & (v == xp.trunc(v)), real(xp.nan), result)
    result = xp.where(v == 0, xp.copysign(real(xp.inf), -v), result)
    return _in_dtype_of(result, x)


def _trigamma_array(x):
    """ψ'(x), returned in ``x``'s floating dtype: for x < 1/2 the reflection
    ψ'(x) = π²/sin²(πx) - ψ'(1 - x); then six terms of Σ 1/(x + i)² and the asymptotic
    (1 + 1/(2y) + (1/6 - (1/30 - 1/(42y²))/y²)/y²)/y, y = x + 6."""
    real = _computing_type(x)
    v = xp.asarray(x).astype(real, copy=False)
    one, pi = real(1), real(math.pi)
    reflect = v < real(0.5)
    sine = xp.sin((pi * v).astype(xp.float64)).astype(real, copy=False)  # (as _log)
    total = xp.where(reflect, -(pi * pi) / (sine * sine), real(0))
    y = xp.where(reflect, one - v, v)
    for _ in range(6):
        total = total + one / (y * y)
        y = y + one
    inverse_square = one / (y * y)
    tail = inverse_square * (
        one / real(6) - inverse_square * (one / real(30) - inverse_square * (one / real(42)))
    )
    total = total + (one + one / (real(2) * y) + tail) / y
    return _in_dtype_of(xp.where(reflect, -total, total), x)


# ---------------------------------------------------------------------- polygamma
_COT_DERIVATIVES: dict = {}


def _cot_derivative(n: int) -> tuple:
    """The coefficients (lowest first) of the polynomial P_n with d^n/dy^n cot(y) = P_n(cot y):
    P_0(c) = c, P_(k+1)(c) = -(1 + c²) P_k'(c)."""
    if n not in _COT_DERIVATIVES:
        coefficients = [0.0, 1.0]
        for _ in range(n):
            derivative = [k * c for k, c in enumerate(coefficients)][1:] or [0.0]
            product = [0.0] * (len(derivative) + 2)
            for k, c in enumerate(derivative):
                product[k] -= c
                product[k + 2] -= c
            coefficients = product
        _COT_DERIVATIVES[n] = tuple(coefficients)
    return _COT_DERIVATIVES[n]


def _polygamma_positive(n: int, y):
    return (-1.0) ** (n + 1) * math.factorial(n) * hurwitz_zeta(n + 1, y)


@elementwise
def polygamma_array(x, n: int):
    """ψ⁽ⁿ⁾(x) of an array (n ≥ 0), in float64, returned in ``x``'s floating dtype."""
    if n == 0:
        return digamma_array(x)
    if n == 1:
        return _trigamma_array(x)
    v = _float64(x)
    negative = v < 0
    positive = _polygamma_positive(n, xp.where(negative, 1.0 - v, v))
    cot = 1.0 / xp.tan(math.pi * (v - xp.round(v)))  # (as digamma's)
    polynomial = xp.zeros_like(v)
    for coefficient in reversed(_cot_derivative(n)):
        polynomial = polynomial * cot + coefficient
    reflected = (-1.0) ** n * positive - math.pi ** (n + 1) * polynomial
    result = xp.where(negative, reflected, positive)
    pole = (v <= 0) & (v == xp.floor(v))
    result = xp.where(pole, xp.inf if n % 2 else -xp.inf, result)
    if n >= 2:  # PyTorch's zeta gives NaN at +inf from order 2 (and 0 for trigamma)
        result = xp.where(xp.isposinf(v), xp.nan, result)
    return _in_dtype_of(result, x)


def polygamma_any(n: int, x):
    """ψ⁽ⁿ⁾ of a raw array or, recorded, of a Tensor (the VJPs run on both)."""
    if type(x) is Tensor:
        return polygamma(n, x)
    return polygamma_array(x, n)


def digamma_any(x):
    if type(x) is Tensor:
        return x.digamma()
    return digamma_array(x)


def trigamma_any(x):
    return polygamma_any(1, x)


class PolygammaBackward0(Op):
    """``polygamma(n, x)``; its derivative is ``polygamma(n + 1, x)``."""

    __slots__ = ("n",)
    save = SAVE_INPUTS
    promotes_integers = True
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return polygamma_array(x, ctx.n)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx._saved
        return g * polygamma_any(ctx.n + 1, x)


def polygamma(n, input) -> Tensor:
    """ψ⁽ⁿ⁾(input), the n-th derivative of digamma."""
    n = check_int(n, "polygamma", "n", 1)
    tensor_argument(input, "polygamma", "input", 2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    node = PolygammaBackward0()
    node.n = n
    return unary(node, input)


def polygamma_method(self, n) -> Tensor:
    return polygamma(n, self)


def polygamma_(self, n) -> Tensor:
    return self._assign_in_place(polygamma(n, self))


def lgamma_(self) -> Tensor:
    return self._assign_in_place(self.lgamma())


def digamma_(self) -> Tensor:
    return self._assign_in_place(self.digamma())


_NODES, _TABLE = table(
    row("lgamma", "LgammaBackward0", lgamma_array, "g * digamma(x)",
        ("log of the absolute gamma function", "digamma({x:0})"), cli="log |gamma(x)|",
        constants=(("digamma", digamma_any),)),
    row("digamma", "DigammaBackward0", digamma_array, "g * trigamma(x)",
        ("digamma (derivative of lgamma)", "polygamma(1, {x:0})"), cli="d/dx lgamma(x)",
        constants=(("trigamma", trigamma_any),)),
)  # fmt: skip
globals().update(_NODES)  # LgammaBackward0, DigammaBackward0


def _polygamma_rule(node) -> Rule:
    return Rule(
        f"polygamma of order {node.n}",
        f"polygamma({node.n}, {{x:0}})",
        local=(f"polygamma({node.n + 1}, {{x:0}})",),
    )


DECLARATIONS = (
    *_TABLE,
    declare(
        "polygamma",
        polygamma,
        method=polygamma_method,
        explain={PolygammaBackward0: _polygamma_rule},
    ),
    declare("polygamma_", None, method=polygamma_),
    declare("lgamma_", None, method=lgamma_),
    declare("digamma_", None, method=digamma_),
)
