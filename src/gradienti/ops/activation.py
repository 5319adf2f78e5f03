"""Activation functions: softplus, gelu, silu, leaky_relu, elu, logsigmoid, hardtanh, relu6.

They take torch.nn.functional's names and arguments (``gradienti.nn.functional`` calls them).
PyTorch has none of them as ``torch.*`` functions or Tensor methods, so their declarations are
not public: they give the explain rules and the functions of ``gradienti grad``. Each op is a
class, not a table row (ops/pointwise_table.py): its node has parameters or its VJP needs more
than one expression, and integral input is refused (PyTorch's "not implemented"), not promoted.

Numerics: softplus and logsigmoid use log1p(exp(-|x|)), finite for any x, and their gradients
the sigmoid through e^-|x| (as PyTorch), so that second derivatives keep float32 accuracy;
elu's VJP takes exp of min(x, 0) only, so a large positive x gives no inf (and no NaN in a
second derivative). Exact GELU uses erf (Cody's rational approximations, see ops/special.py),
computed in float32 for float16 input as PyTorch does.

Values and gradients at kinks follow PyTorch (leaky_relu's and elu's gradient at 0 is the
negative side's; hardtanh's is zero at a bound). Where PyTorch's vectorised and scalar CPU
kernels disagree (the gradient of hardtanh and elu at NaN, float32 gelu at +inf), gradienti
follows the vectorised kernel for the gradients (0 and NaN) and returns inf for gelu(inf).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import unary
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import ATOM, Rule, num, unary_rule
from .jvp_rules import elementwise_jvp
from .pointwise import not_implemented
from .saved_names import SavedNames, value
from .special import erf_any, erf_array

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
GELU_BETA = math.sqrt(2.0 / math.pi)  # the tanh approximation's constants
GELU_KAPPA = 0.044715


def _sigmoid(x):
    """sigmoid of a raw array or, recorded, of a Tensor."""
    if type(x) is Tensor:
        return x.sigmoid()
    return 1 / (1 + xp.exp(-x))


def _sigmoid_stable(x):
    """sigmoid through e^-|x| <= 1: accurate where it is near 1 too, also in the derivative
    that a recorded backward takes of it (logsigmoid's and softplus's second derivatives)."""
    negative = x < 0
    z = xp.exp(where(negative, x, -x))
    return where(negative, z, 1.0) / (z + 1)


def _softplus_array(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class SoftplusBackward0(Op):
    __slots__ = ("beta", "threshold")
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        # PyTorch: x itself where beta * x > threshold, else log1p(exp(beta * x)) / beta.
        scaled = x * ctx.beta
        return xp.where(scaled > ctx.threshold, x, _softplus_array(scaled) / ctx.beta)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scaled = x * ctx.beta
        return where(scaled > ctx.threshold, g, g * _sigmoid_stable(scaled))


class LogSigmoidBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        # log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log1p(e^-|x|)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _sigmoid_stable(-x)


class SiluBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0)
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return x * _sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        # d x s(x) = s(x) (1 + x (1 - s(x)))
        (x,) = ctx.saved_tensors
        s = _sigmoid(x)
        return g * s * (1 + x * (1 - s))


class GeluBackward0(Op):
    __slots__ = ("approximate",)
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0, approximate=value("approximate"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        if x.dtype == xp.float16:  # computed in float32, as PyTorch does for half
            return GeluBackward0.forward(ctx, x.astype(xp.float32)).astype(xp.float16)
        if ctx.approximate == "tanh":
            inner = GELU_BETA * (x + GELU_KAPPA * x * x * x)
            return 0.5 * x * (1 + xp.tanh(inner))
        return x * 0.5 * (1 + erf_array(x * SQRT_HALF))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            square = x * x
            t = xp.tanh(GELU_BETA * (x + GELU_KAPPA * square * x))
            slope = (0.5 * x) * (1 - t * t) * GELU_BETA * (1 + 3 * GELU_KAPPA * square)
            return g * (0.5 * (1 + t) + slope)
        # d x Phi(x) = Phi(x) + x phi(x)
        cdf = 0.5 * (1 + erf_any(x * SQRT_HALF))
        return g * (cdf + x * (xp.exp(-0.5 * (x * x)) * INV_SQRT_2PI))


class LeakyReluBackward0(Op):
    __slots__ = ("negative_slope",)
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0, negative_slope=value("negative_slope"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.where(x > 0, x, x * ctx.negative_slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(x > 0, g, g * ctx.negative_slope)


class EluBackward0(Op):
    """scale·(x where x > 0, else alpha·(e^(input_scale·x) - 1)): elu (scales 1) and selu."""

    __slots__ = ("alpha", "scale", "input_scale")
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        if ctx.scale != 1 or ctx.input_scale != 1:
            negative = ctx.alpha * xp.expm1(xp.minimum(x, 0) * ctx.input_scale)
            return (xp.where(x <= 0, negative, x) * ctx.scale).astype(x.dtype, copy=False)
        return xp.where(x <= 0, ctx.alpha * xp.expm1(xp.minimum(x, 0)), x)

    @staticmethod
    def backward(ctx, g):
        # alpha e^x for x <= 0 (alpha at 0), 1 beyond; NaN for NaN (PyTorch's vectorised
        # kernel; its scalar one gives 1). The exponent is min(x, 0) with a constant at 0, so
        # the second derivative at 0 is 0 as in PyTorch, and 1e4 gives no inf.
        (x,) = ctx.saved_tensors
        exponent = where(x >= 0, 0.0, x)
        if ctx.scale != 1 or ctx.input_scale != 1:
            slope = ctx.scale * ctx.alpha * ctx.input_scale
            return where(x > 0, g * ctx.scale, g * slope * xp.exp(exponent * ctx.input_scale))
        return where(x > 0, g, g * ctx.alpha * xp.exp(exponent))


class HardtanhBackward0(Op):
    __slots__ = ("min_val", "max_val")
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.minimum(xp.maximum(x, ctx.min_val), ctx.max_val)

    @staticmethod
    def backward(ctx, g):
        # Zero at and beyond the bounds, and for NaN (PyTorch's vectorised kernel; its scalar
        # one passes the gradient of a NaN).
        (x,) = ctx.saved_tensors
        return where((x > ctx.min_val) & (x < ctx.max_val), g, 0.0)


# ---------------------------------------------------------------------- public functions
def _floating(input, kernel: str):
    if input._data.dtype.kind != "f":
        raise not_implemented(kernel, input)


def softplus(input, beta=1.0, threshold=20.0):
    _floating(input, "softplus_cpu")
    node = SoftplusBackward0()
    node.beta = beta
    node.threshold = threshold
    return unary(node, input)


def logsigmoid(input):
    _floating(input, "log_sigmoid_cpu")
    return unary(LogSigmoidBackward0(), input)


def silu(input):
    _floating(input, "silu_cpu")
    return unary(SiluBackward0(), input)


def gelu(input, *, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _floating(input, "GeluKernelImpl")
    node = GeluBackward0()
    node.approximate = approximate
    return unary(node, input)


def leaky_relu(input, negative_slope=0.01):
    _floating(input, "leaky_relu_cpu")
    node = LeakyReluBackward0()
    node.negative_slope = float(negative_slope)
    return unary(node, input)


def elu(input, alpha=1.0, scale=1.0, input_scale=1.0):
    _floating(input, "elu_cpu")
    node = EluBackward0()
    node.alpha = float(alpha)
    node.scale = scale
    node.input_scale = input_scale
    return unary(node, input)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input):
    return elu(input, SELU_ALPHA, SELU_SCALE, 1)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind != "f":  # an integral tensor keeps its dtype: the bounds are truncated
        min_val, max_val = int(min_val), int(max_val)
    node = HardtanhBackward0()
    node.min_val = min_val
    node.max_val = max_val
    return unary(node, input)


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


# ---------------------------------------------------------------------- explain rules
def _softplus_rule(node) -> Rule:
    beta = float(node.beta)
    inner = "{x:0}" if beta == 1 else f"{num(beta)}·{{x:8}}"
    return Rule(
        "softplus",
        "softplus({x:0})",
        ATOM,
        (f"sigmoid({inner}) (1 if {inner} > {num(node.threshold)})",),
    )


def _gelu_rule(node) -> Rule:
    if node.approximate == "tanh":
        # d/dx ½x(1 + t), t = tanh(sqrt(2/π)(x + κx³)): ½(1 + t) + ½x(1 - t²)·sqrt(2/π)(1 + 3κx²)
        t = f"tanh(sqrt(2/π)·({{x:5}} + {num(GELU_KAPPA)}·{{x:9}}³))"
        return Rule(
            "GELU (tanh approximation)",
            "gelu({x:0}, approximate='tanh')",
            ATOM,
            (
                f"½·(1 + t) + ½·{{x:6}}·(1 - t²)·sqrt(2/π)·(1 + {num(3 * GELU_KAPPA)}·{{x:9}}²), "
                f"t = {t}",
            ),
        )
    # d/dx x·Φ(x) = Φ(x) + x·φ(x), φ the standard normal density
    return Rule(
        "GELU, x·Φ(x) with Φ the standard normal CDF",
        "gelu({x:0})",
        ATOM,
        ("Φ({x:0}) + {x:6}·exp(-{x:9}²/2)/sqrt(2π)",),
    )


def _leaky_relu_rule(node) -> Rule:
    slope = num(node.negative_slope)
    return Rule("leaky ReLU", "leaky_relu({x:0})", ATOM, (f"1 if {{x:0}} > 0, else {slope}",))


def _elu_rule(node) -> Rule:
    alpha = num(node.alpha)
    return Rule("ELU", "elu({x:0})", ATOM, (f"1 if {{x:0}} > 0, else {alpha}·exp({{x:0}})",))


def _hardtanh_rule(node) -> Rule:
    low, high = num(node.min_val), num(node.max_val)
    return Rule("hard tanh", "hardtanh({x:0})", ATOM, (f"1 if {low} < {{x:0}} < {high}, else 0",))


# Not public (torch.nn.functional's, see the module docstring): no gradienti.<name>, no method.
DECLARATIONS = (
    declare(
        "softplus",
        softplus,
        public=False,
        explain={SoftplusBackward0: _softplus_rule},
        cli=Cli("log(1 + e**x)"),
    ),
    declare(
        "logsigmoid",
        logsigmoid,
        public=False,
        explain={
            LogSigmoidBackward0: unary_rule("log-sigmoid", "logsigmoid", "1 - sigmoid({x:0})")
        },
        cli=Cli("log(sigmoid(x))"),
    ),
    declare(
        "silu",
        silu,
        public=False,
        explain={
            SiluBackward0: unary_rule(
                "SiLU", "silu", "sigmoid({x:0})·(1 + {x:6}·(1 - sigmoid({x:0})))"
            )
        },
        cli=Cli("x*sigmoid(x)"),
    ),
    declare(
        "gelu",
        gelu,
        public=False,
        explain={GeluBackward0: _gelu_rule},
        cli=Cli("x*P(X <= x), X standard normal"),
    ),
    declare(
        "elu",
        elu,
        public=False,
        explain={EluBackward0: _elu_rule},
        cli=Cli("x if x > 0 else e**x - 1"),
    ),
    declare(
        "leaky_relu",
        leaky_relu,
        public=False,
        explain={LeakyReluBackward0: _leaky_relu_rule},
    ),
    # relu6 is hardtanh(x, 0, 6): it records HardtanhBackward0
    declare("hardtanh", hardtanh, public=False, explain={HardtanhBackward0: _hardtanh_rule}),
)
