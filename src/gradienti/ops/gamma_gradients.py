"""Reparameterised gradients of gamma and Dirichlet samples: ``_standard_gamma_grad`` and
``_dirichlet_grad``, PyTorch's approximations (Distributions.h) computed in float64 on whole
arrays.

For a sample ``x`` of Gamma(alpha, 1), implicit differentiation of ``F(x; alpha) = u`` gives
``dx/dalpha = -(dF/dalpha) / pdf(x; alpha)``. PyTorch evaluates it with a Taylor series of the
incomplete gamma function for ``x < 0.8``, Rice's saddle-point expansion for ``alpha > 8`` and a
fitted bivariate rational function elsewhere; ``_dirichlet_grad`` is the same for a Beta
marginal, scaled by ``1 / (1 - x)``. PyTorch records neither as differentiable:
``_standard_gamma_grad``'s derivative raises its NotImplementedError, ``_dirichlet_grad`` records
a ``NotImplemented`` node.
"""

from __future__ import annotations

import numpy as np

from ..arguments import check_tensor
from ..backend import SCALAR_TYPE_NAMES
from ..graph.node import SAVE_NOTHING, Op
from ..tensor import Tensor
from .apply import raise_if_not_broadcastable
from .batched_elementwise import batched_elementwise
from .declare import declare
from .explain_rule import ATOM, NOT_DIFFERENTIABLE, Rule
from .gamma import digamma_array
from .integer_division import NotImplementedNode
from .sampling import not_implemented, sampled

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _ignoring_fp_errors():
    return np.errstate(all="ignore")


# ---------------------------------------------------------------- gamma
# Rational approximation of dx/dalpha in u = log(x / alpha), v = log(alpha): rows are the
# coefficients of u**0, u**1, u**2; columns 0-3 the numerator's powers of v, 4-7 the
# denominator's.
_GAMMA_UV = np.array(
    [
        [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
         0.0014179084],
        [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
         -0.0035938915, -0.00058392623],
        [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642,
         -0.0021309326, 0.00085092367, -1.5247877e-07],
    ]
)  # fmt: skip


def _gamma_grad_small_x(alpha, x):
    """x < 0.8: F(x; a) = x^a Σ_k (-x)^k / (k! (a + k)), six terms, and its a-derivative."""
    numer = np.ones_like(x)
    denom = alpha.copy()
    series1 = numer / denom
    series2 = numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = np.power(x, alpha)
    pdf = np.power(x, alpha - 1) * np.exp(-x)
    cdf = pow_x_alpha * series1
    cdf_alpha = (np.log(x) - digamma_array(alpha)) * cdf - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)


def _gamma_grad_large_alpha(alpha, x):
    """alpha > 8: Rice's saddle-point expansion, a polynomial near the mode x ≈ alpha."""
    near = (0.9 * alpha <= x) & (x <= 1.1 * alpha)
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (
        1440 * (alpha * alpha)
        + 6 * x * (53 - 120 * x)
        - 65 * x * x / alpha
        + alpha * (107 + 3600 * x)
    )
    polynomial = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    denom = np.sqrt(8 * alpha)
    term2 = denom / (alpha - x)
    term3 = np.power(x - alpha - alpha * np.log(x / alpha), -1.5)
    term23 = np.where(x < alpha, term2 - term3, term2 + term3)
    term1 = np.log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / (
        (alpha - x) * (alpha - x)
    )
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    expansion = -stirling * (x * term1) / denom
    return np.where(near, polynomial, expansion)


def _gamma_grad_rational(alpha, x):
    u = np.log(x / alpha)
    v = np.log(alpha)
    coef = [_GAMMA_UV[0, i] + u * (_GAMMA_UV[1, i] + u * _GAMMA_UV[2, i]) for i in range(8)]
    p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
    q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
    return np.exp(p / q)


@batched_elementwise
def standard_gamma_grad_array(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dalpha for samples ``x`` of Gamma(alpha, 1), in ``alpha``'s dtype."""
    a = np.asarray(alpha, np.float64)
    v = np.asarray(x, np.float64)
    a, v = np.broadcast_arrays(a, v)
    with _ignoring_fp_errors():
        result = np.where(
            v < 0.8,
            _gamma_grad_small_x(a, v),
            np.where(a > 8.0, _gamma_grad_large_alpha(a, v), _gamma_grad_rational(a, v)),
        )
    return result.astype(np.result_type(alpha, x))


# ---------------------------------------------------------------- Dirichlet (Beta marginals)
def _beta_grad_alpha_small(x, alpha, beta):
    """x near 0: a Taylor series of the Beta CDF in x, differentiated by alpha."""
    factor = digamma_array(alpha) - digamma_array(alpha + beta) - np.log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * np.power(1 - x, -beta) * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_beta_small(x, alpha, beta):
    """x near 0: the same series differentiated by beta."""
    factor = digamma_array(alpha + beta) - digamma_array(beta)
    numer = np.ones_like(x)
    betas = np.ones_like(x)
    dbetas = np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -np.power(1 - x, 1 - beta) * series
    return np.where(np.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(x, alpha, beta):
    """alpha and beta both large: Rice's saddle-point expansion, a polynomial near the mean."""
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta
        + alpha
        * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta)
            + alpha
            * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta
                + alpha * (8 * (1 - x) * (135 * beta - 11))
            )
        )
    )
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    polynomial = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = (
        (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
        * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
        / (1 + 1 / (12 * total) + 1 / (288 * total * total))
    )
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = np.sqrt(2 * alpha / beta) * np.power(total, 1.5) * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * np.log(alpha / (total * x))
    term3 = np.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4_base = beta * np.log(beta / (total * (1 - x))) + alpha * np.log(alpha / (total * x))
    term4 = np.power(term4_base, -1.5)
    term1234 = term1 + term2 * (term3 + np.where(x < mean, term4, -term4))
    return np.where(near, polynomial, stirling * prefactor * term1234)


# Rational correction: _DIRICHLET_RATIONAL[0] the numerator's, [1] the denominator's
# coefficients of u**i a**j b**k (indices i, j, k), u = log x, a = log alpha - u, b = log total - a.
_DIRICHLET_RATIONAL = np.array(
    [
        [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
          [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
          [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
         [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
          [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
          [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
         [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
          [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
          [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
        [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
          [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
          [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
         [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
          [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
          [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
         [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
          [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
          [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]],
    ]
)  # fmt: skip


def _beta_grad_rational(x, alpha, total):
    u = np.log(x)
    a = np.log(alpha) - u
    b = np.log(total) - a
    p = np.zeros_like(x)
    q = np.zeros_like(x)
    for i, u_power in enumerate((1.0, u, u * u)):
        for j, a_power in enumerate((1.0, a, a * a)):
            ua = u_power * a_power
            num, den = _DIRICHLET_RATIONAL[0, i, j], _DIRICHLET_RATIONAL[1, i, j]
            p = p + ua * (num[0] + b * (num[1] + b * (num[2] + b * num[3])))
            q = q + ua * (den[0] + b * (den[1] + b * (den[2] + b * den[3])))
    approx = x * (digamma_array(total) - digamma_array(alpha)) / (total - alpha)
    return p / q * approx


@batched_elementwise
def dirichlet_grad_array(x: np.ndarray, alpha: np.ndarray, total: np.ndarray) -> np.ndarray:
    """-(dF/dalpha) / pdf / (1 - x) of Beta(alpha, total - alpha) at ``x``, in ``x``'s dtype."""
    x64, alpha64, total64 = np.broadcast_arrays(
        *(np.asarray(value, np.float64) for value in (x, alpha, total))
    )
    beta = total64 - alpha64
    boundary = total64 * x64 * (1 - x64)
    with _ignoring_fp_errors():
        result = np.where(
            (x64 <= 0.5) & (boundary < 2.5),
            _beta_grad_alpha_small(x64, alpha64, beta),
            np.where(
                (x64 >= 0.5) & (boundary < 0.75),
                -_beta_grad_beta_small(1 - x64, beta, alpha64),
                np.where(
                    (alpha64 > 6) & (beta > 6),
                    _beta_grad_alpha_mid(x64, alpha64, beta),
                    _beta_grad_rational(x64, alpha64, total64),
                ),
            ),
        )
    return result.astype(np.asarray(x).dtype)


# ---------------------------------------------------------------- the ops
class StandardGammaGradBackward0(Op):
    """PyTorch records ``_standard_gamma_grad`` without a derivative formula."""

    __slots__ = ()
    save = SAVE_NOTHING

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


def _checked_arrays(kernel: str, tensors: tuple) -> tuple:
    """The operands' arrays, after ATen's TensorIterator checks (shapes that broadcast, one
    dtype) and its float-only dispatch, each with PyTorch's message."""
    for value in tensors:
        check_tensor(value, kernel.removesuffix("_cpu"))
    arrays = tuple(value._data for value in tensors)
    raise_if_not_broadcastable(*arrays)
    dtype = arrays[0].dtype
    for array in arrays[1:]:
        if array.dtype != dtype:
            raise RuntimeError(
                f"Found dtype {SCALAR_TYPE_NAMES[array.dtype.name]} but expected "
                f"{SCALAR_TYPE_NAMES[dtype.name]}"
            )
    if dtype not in _FLOATS:
        raise not_implemented(kernel, dtype)
    return arrays


def _standard_gamma_grad(self, output) -> Tensor:
    """dx/dalpha of standard gamma samples ``output`` of concentrations ``self``."""
    alpha, x = _checked_arrays("_standard_gamma_grad_cpu", (self, output))
    return sampled(
        StandardGammaGradBackward0(), (self, output), standard_gamma_grad_array(alpha, x)
    )


def _dirichlet_grad(x, alpha, total) -> Tensor:
    """The scaled reparameterised gradient of Dirichlet samples ``x`` (Beta marginals of
    ``alpha`` within ``total``)."""
    arrays = _checked_arrays("_dirichlet_grad_cpu", (x, alpha, total))
    node = NotImplementedNode()
    node.aten_name = "_dirichlet_grad"
    return sampled(node, (x, alpha, total), dirichlet_grad_array(*arrays))


_GRADIENT_RULE = Rule(
    "a reparameterised-gradient approximation", "gradient({x:0})", ATOM, NOT_DIFFERENTIABLE
)

DECLARATIONS = (
    declare(
        "_standard_gamma_grad",
        _standard_gamma_grad,
        method=None,
        explain={StandardGammaGradBackward0: _GRADIENT_RULE},
    ),
    declare("_dirichlet_grad", _dirichlet_grad, method=None),
)
