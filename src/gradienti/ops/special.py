"""The error function, its complement and its inverse (torch.erf, torch.erfc, torch.erfinv),
and ``xlogy`` (x·log y, 0 where x is 0). erf is used by exact GELU.

NumPy has no erf; it is computed here with W. J. Cody's rational Chebyshev approximations
(below), vectorised, in float64 whatever the input dtype, and returned in the input's dtype.

erfinv starts from M. Giles' single-precision approximation ("Approximating the erfinv
function", GPU Computing Gems, 2011) and takes Newton steps on erf (on erfc beyond 1/2, where
1 - x is exact), so it is as accurate as erf itself.

erf, erfc and erfinv are rows of the one-expression table (see ops/pointwise_table.py): d erf(x)
= 2/sqrt(pi) e^(-x^2), d erfc(x) = -2/sqrt(pi) e^(-x^2), d erfinv(x) = sqrt(pi)/2
e^(erfinv(x)^2). xlogy's nodes are classes (ops/xlogy.py). They are declared in
``DECLARATIONS``.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..batching import elementwise
from ..tensor import Tensor
from .declare import declare
from .pointwise_table import row, table

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
# (1969), as in his CALERF (netlib specfun): erf(x) = x P(x^2)/Q(x^2) for |x| <= 0.46875;
# erfc(x) = exp(-x^2) P(x)/Q(x) for 0.46875 < |x| <= 4; erfc(x) = exp(-x^2)/x (1/sqrt(pi) +
# P(1/x^2)/(x^2 Q(1/x^2))) beyond; exp(-x^2) split so that its error stays at rounding level.
# Measured against math.erf/math.erfc on 2e6 points in [-30, 30] plus [1e-300, 1]: max relative
# error 6.8e-16 (erf) and 1.1e-15 (erfc, where erfc > 1e-300); all in float64.
_ERF_A = (3.16112374387056560, 113.864154151050156, 377.485237685302021, 3209.37758913846947)
_ERF_A4 = 0.185777706184603153
_ERF_B = (23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_ERFC_C = (
    0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131,
    881.952221241769090, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725,
)  # fmt: skip
_ERFC_C8 = 2.15311535474403846e-8
_ERFC_D = (
    15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
    3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
)  # fmt: skip
_ERFC_P = (
    0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766,
    6.58749161529837803e-4,
)  # fmt: skip
_ERFC_P5 = 0.0163153871373020978
_ERFC_Q = (
    2.56852019228982242, 1.87295284992346725, 0.527905102951428412, 0.0605183413124413191,
    0.00233520497626869185,
)  # fmt: skip
_INV_SQRT_PI = 0.56418958354775628695


def _exp_minus_square(y):
    """exp(-y^2) to rounding level for large y: y = h + l with h's leading 26 bits (Veltkamp's
    split), so h^2 is exact and exp(-y^2) = exp(-h^2) exp(-l (y + h))."""
    scaled = y * 134217729.0  # 2^27 + 1
    high = scaled - (scaled - y)
    out = xp.exp(-(high * high))
    out *= xp.exp((high - y) * (y + high))
    return out


def _rational(v, lead, numerator, denominator):
    """Cody's (lead v^n + p0 v^(n-1) + ... + pn) / (v^n + q0 v^(n-1) + ... + qn), in place."""
    num = v * lead
    den = v.copy()
    for p, q in zip(numerator[:-1], denominator[:-1]):
        num += p
        num *= v
        den += q
        den *= v
    num += numerator[-1]
    den += denominator[-1]
    num /= den
    return num


def _erf_parts(x):
    """(x, erf(x) where |x| <= 0.46875, erfc(|x|) elsewhere, the mask of the first range)."""
    x = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x)
    near = y <= 0.46875
    middle = (y > 0.46875) & (y <= 4.0)
    far = ~(near | middle)  # NaN falls here and stays NaN
    out = xp.empty_like(y)
    if near.any():
        v = x[near]
        out[near] = v * _rational(v * v, _ERF_A4, _ERF_A, _ERF_B)
    if middle.any():
        v = y[middle]
        out[middle] = _rational(v, _ERFC_C8, _ERFC_C, _ERFC_D) * _exp_minus_square(v)
    if far.any():
        v = y[far]
        capped = xp.minimum(v, 27.0)  # erfc underflows to 0 beyond 26.6; keeps inf finite
        z = 1.0 / (capped * capped)
        tail = (_INV_SQRT_PI - z * _rational(z, _ERFC_P5, _ERFC_P, _ERFC_Q)) / capped
        out[far] = xp.where(v > 27.0, 0.0, tail * _exp_minus_square(capped))
    return x, out, near


@elementwise  # (its branches and masks see the samples all together)
def erf_array(x):
    """erf of an array, in float64, returned in ``x``'s floating dtype."""
    values, parts, near = _erf_parts(x)
    result = xp.where(near, parts, xp.copysign(0.5 - parts + 0.5, values))
    return result.astype(xp.result_type(x), copy=False)


@elementwise
def erfc_array(x):
    """erfc of an array, in float64, returned in ``x``'s floating dtype."""
    values, parts, near = _erf_parts(x)
    result = xp.where(near, 1.0 - parts, xp.where(values < 0, 2.0 - parts, parts))
    return result.astype(xp.result_type(x), copy=False)


def erf_any(x):
    """erf of a raw array or, recorded, of a Tensor (GELU's VJP needs both)."""
    if type(x) is Tensor:
        return x.erf()
    return erf_array(x)


# M. Giles' approximation: erfinv(x) ~ x p(w), w = -log((1 - x)(1 + x)), p a polynomial in
# w - 2.5 (w < 5) or in sqrt(w) - 3; relative error below 4e-7 down to 1 - x = 1e-7 (its
# single-precision range), about 0.1 at 1 - x = 1e-16; the Newton steps take it to rounding.
_GILES_CENTRAL = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
)  # fmt: skip
_GILES_TAIL = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
)  # fmt: skip


def _horner(coefficients, v):
    total = xp.zeros_like(v)
    for coefficient in coefficients:
        total = total * v + coefficient
    return total


@elementwise
def erfinv_array(x):
    """erfinv of an array, in float64, returned in ``x``'s floating dtype: ±inf at ±1, NaN
    beyond."""
    v = xp.asarray(x, dtype=xp.float64)
    size = xp.abs(v)
    inside = size < 1.0
    safe = xp.where(inside, size, 0.0)
    w = -xp.log((1.0 - safe) * (1.0 + safe))
    central = w < 5.0
    guess = xp.where(
        central,
        _horner(_GILES_CENTRAL, w - 2.5),
        _horner(_GILES_TAIL, xp.sqrt(xp.where(central, 5.0, w)) - 3.0),
    )
    y = guess * safe  # erfinv(|x|); the sign is set at the end (erfinv is odd)
    near = safe <= 0.5
    tail = xp.log(xp.where(near, 1.0, 1.0 - safe))  # log(1 - |x|), 1 - |x| exact beyond 1/2
    for _ in range(5):
        # Up to 1/2: Newton on erf(y) = |x|. Beyond: on log(erfc(y)) = log(1 - |x|), which
        # keeps erfc's digits and is nearly quadratic in y, so that a far start converges.
        slope = TWO_OVER_SQRT_PI * xp.exp(-(y * y))
        complement = erfc_array(xp.where(near, 1.0, y))
        step = xp.where(
            near,
            (erf_array(y) - safe) / slope,
            (tail - xp.log(complement)) * complement / slope,
        )
        y = y - step
    y = xp.where(inside, y, xp.where(size == 1.0, xp.inf, xp.nan))
    return xp.copysign(y, v).astype(xp.result_type(x), copy=False)


def erfinv_any(x):
    """erfinv of a raw array or, recorded, of a Tensor (its VJP reads it)."""
    if type(x) is Tensor:
        return x.erfinv()
    return erfinv_array(x)


def erfinv_(self):
    return self._assign_in_place(self.erfinv())


# No NumPy ufunc computes erf, so nothing is routed to these ops.
_NODES, DECLARATIONS = table(
    row("erf", "ErfBackward0", erf_array, "g * TWO_OVER_SQRT_PI * exp(-(x * x))",
        ("error function", "2/sqrt(π)·exp(-{x:9}²)"), cli="error function",
        constants=(("TWO_OVER_SQRT_PI", TWO_OVER_SQRT_PI),)),
    row("erfc", "ErfcBackward0", erfc_array, "g * -TWO_OVER_SQRT_PI * exp(-(x * x))",
        ("complementary error function", "-2/sqrt(π)·exp(-{x:9}²)"), cli="1 - erf(x)",
        constants=(("TWO_OVER_SQRT_PI", TWO_OVER_SQRT_PI),)),
    # (the VJP recomputes erfinv(x): PyTorch's node saves self, not the result)
    row("erfinv", "ErfinvBackward0", erfinv_array,
        "g * HALF_SQRT_PI * exp(erfinv(x) * erfinv(x))",
        ("inverse error function", "sqrt(π)/2·exp(erfinv({x:0})²)"), cli="inverse of erf",
        constants=(("HALF_SQRT_PI", math.sqrt(math.pi) / 2), ("erfinv", erfinv_any))),
)  # fmt: skip
globals().update(_NODES)  # ErfBackward0, ErfcBackward0, ErfinvBackward0

DECLARATIONS = (*DECLARATIONS, declare("erfinv_", None, method=erfinv_))
