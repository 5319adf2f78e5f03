"""``igamma`` and ``igammac``: the regularised lower and upper incomplete gamma functions
P(a, x) = γ(a, x) / Γ(a) and Q(a, x) = 1 - P(a, x) (``torch.special.gammainc`` /
``gammaincc``; Gamma's CDF). Computed in float64 on whole arrays: the power series of γ for
x < a + 1, the continued fraction of Γ(a, x) (modified Lentz) beyond, each iterated until every
element has converged. As PyTorch, only x is differentiable:
dP/dx = x^(a-1) e^(-x) / Γ(a); the derivative in a raises its NotImplementedError.
"""

from __future__ import annotations

import numpy as np

from ..arguments import check_tensor
from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import binary
from .batched_elementwise import batched_elementwise
from .declare import declare
from .explain_rule import Rule
from .gamma import lgamma_array
from .jvp_rules import elementwise_jvp

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300
_MAX_ITERATIONS = 100_000


def _log_prefactor(a, x):
    """log(x^a e^-x / Γ(a))."""
    return a * np.log(x) - x - lgamma_array(a)


def _lower_series(a, x):
    """P(a, x) = x^a e^-x / Γ(a) Σ_n x^n / (a (a+1) ... (a+n)), for x < a + 1."""
    term = 1.0 / a
    total = term.copy()
    denominator = a.copy()
    active = np.ones(a.shape, bool)
    for _ in range(_MAX_ITERATIONS):
        denominator = denominator + 1.0
        term = np.where(active, term * x / denominator, 0.0)
        total = total + term
        active = active & (np.abs(term) > np.abs(total) * _EPS)
        if not active.any():
            break
    return total * np.exp(_log_prefactor(a, x))


def _upper_fraction(a, x):
    """Q(a, x) = x^a e^-x / Γ(a) · 1/(x+1-a- 1·(1-a)/(x+3-a- 2·(2-a)/(x+5-a- ...))), x >= a + 1,
    by the modified Lentz method."""
    b = x + 1.0 - a
    c = np.full(a.shape, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    active = np.ones(a.shape, bool)
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = np.where(active, d * c, 1.0)
        h = h * delta
        active = active & (np.abs(delta - 1.0) > _EPS)
        if not active.any():
            break
    return np.exp(_log_prefactor(a, x)) * h


def _regularised(a, x, upper: bool):
    """P(a, x) (or Q for ``upper``) of float64 arrays, with PyTorch's values at the edges:
    NaN for a < 0, x < 0, a = x = 0 or a NaN; P = 1 at a = 0 < x or x = inf; P = 0 at x = 0
    or a = inf (x finite)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    regular = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    safe_a = np.where(regular, a, 1.0)
    safe_x = np.where(regular, x, 1.0)
    series = safe_x < safe_a + 1.0
    with np.errstate(all="ignore"):
        lower = _lower_series(np.where(series, safe_a, 1.0), np.where(series, safe_x, 0.5))
        upper_value = _upper_fraction(np.where(series, 1.0, safe_a), np.where(series, 3.0, safe_x))
    p = np.where(series, lower, 1.0 - upper_value)
    q = np.where(series, 1.0 - lower, upper_value)
    result = q if upper else p
    one_for_p = ((a == 0) & (x > 0)) | ((x == np.inf) & (a >= 0) & (a < np.inf))
    zero_for_p = ((x == 0) & (a > 0)) | ((a == np.inf) & (x >= 0) & (x < np.inf))
    result = np.where(one_for_p, 0.0 if upper else 1.0, result)
    result = np.where(zero_for_p, 1.0 if upper else 0.0, result)
    invalid = (a < 0) | (x < 0) | ((a == 0) & (x == 0)) | np.isnan(a) | np.isnan(x)
    invalid = invalid | ((a == np.inf) & (x == np.inf))
    return np.where(invalid, np.nan, result)


@batched_elementwise
def igamma_arrays(a, x):
    return _regularised(a, x, False).astype(np.result_type(a, x))


@batched_elementwise
def igammac_arrays(a, x):
    return _regularised(a, x, True).astype(np.result_type(a, x))


def _density(a, x):
    """x^(a-1) e^-x / Γ(a), on arrays or recorded on Tensors."""
    if type(a) is Tensor:
        return ((a - 1) * x.log() - x - a.lgamma()).exp()
    return xp.exp((a - 1) * xp.log(x) - x - lgamma_array(a))


def _not_implemented_in_a(ctx):
    raise NotImplementedError(f"the derivative for '{ctx.aten_name}: input' is not implemented.")


class IgammaBackward0(Op):
    """P(a, x): dP/dx is Gamma(a)'s density at x; dP/da is not implemented (PyTorch's)."""

    __slots__ = ()
    save = SAVE_INPUTS
    aten_name = "igamma"
    function = staticmethod(igamma_arrays)
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx._saved
        a_node, x_node = ctx._next
        if a_node is not None:
            _not_implemented_in_a(ctx)
        return None, g * _density(a, x)


class IgammacBackward0(Op):
    """Q(a, x) = 1 - P(a, x): dQ/dx = -density."""

    __slots__ = ()
    save = SAVE_INPUTS
    aten_name = "igammac"
    function = staticmethod(igammac_arrays)
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx._saved
        a_node, x_node = ctx._next
        if a_node is not None:
            _not_implemented_in_a(ctx)
        return None, -(g * _density(a, x))


_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _apply(node, kernel: str, input, other) -> Tensor:
    check_tensor(input, kernel)
    check_tensor(other, kernel, "other", 2)
    dtype = np.result_type(input._data, other._data)
    if dtype not in _FLOATS:
        raise NotImplementedError(
            f"\"{kernel}_cpu\" not implemented for '{SCALAR_TYPE_NAMES[dtype.name]}'"
        )
    return binary(node, input, other)


def igamma(input, other) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other)."""
    return _apply(IgammaBackward0(), "igamma", input, other)


def igammac(input, other) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P."""
    return _apply(IgammacBackward0(), "igammac", input, other)


def igamma_(self, other) -> Tensor:
    return self._assign_in_place(igamma(self, other))


def igammac_(self, other) -> Tensor:
    return self._assign_in_place(igammac(self, other))


DECLARATIONS = (
    declare(
        "igamma",
        igamma,
        explain={
            IgammaBackward0: Rule(
                "the regularised lower incomplete gamma function",
                "igamma({a:0}, {b:0})",
                local=("not implemented", "{b:0}^({a:0}-1)·e^(-{b:0})/Γ({a:0})"),
            )
        },
    ),
    declare(
        "igammac",
        igammac,
        explain={
            IgammacBackward0: Rule(
                "the regularised upper incomplete gamma function",
                "igammac({a:0}, {b:0})",
                local=("not implemented", "-{b:0}^({a:0}-1)·e^(-{b:0})/Γ({a:0})"),
            )
        },
    ),
    declare("igamma_", None, method=igamma_),
    declare("igammac_", None, method=igammac_),
)
