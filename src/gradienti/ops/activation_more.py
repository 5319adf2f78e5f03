"""More of torch.nn.functional's activations, each one node as in PyTorch: mish, hardswish,
hardsigmoid, celu, threshold, hardshrink, softshrink, glu and prelu (PreluKernelBackward0).
(selu is elu with a scale, EluBackward0: ops/activation.py.)

Like ops/activation.py's, they are not ``torch.*`` functions, so their declarations are not
public (explain rules and ``gradienti grad``'s functions); integral input is refused with
PyTorch's "not implemented" (threshold excepted: it keeps an integral dtype). Values and
gradients at the kinks are PyTorch's: hardswish's slope is 0 at -3 and 1 at 3 (its middle
piece, x/3 + ½, open at both ends), hardsigmoid's gradient is 0 at ±3, hardshrink and
softshrink pass nothing at ±lambd, threshold keeps a NaN (and passes its gradient).
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .activation import softplus
from .apply import binary, tensor_argument, unary
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import ATOM, Rule, num, unary_rule
from .join import cat
from .jvp_rules import elementwise_jvp
from .padding import checked_scalar_value
from .pointwise import not_implemented


def _sigmoid(x):
    if type(x) is Tensor:
        return x.sigmoid()
    return 1 / (1 + xp.exp(-x))


def _softplus(x):
    """log(1 + e^x) without overflow, of a raw array or (recorded) a Tensor. Recorded, it is
    the softplus op, as PyTorch's mish backward records it: its derivative at 0 is ½ (the
    clamp-and-abs form's is 1 there, and mish's second derivative at 0 came out 1.5 times
    PyTorch's)."""
    if type(x) is Tensor:
        return softplus(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class MishBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return x * xp.tanh(_softplus(x))

    @staticmethod
    def backward(ctx, g):
        # d x·tanh(sp(x)) = tanh(sp) + x·sigmoid(x)·(1 - tanh(sp)²), sp' = sigmoid
        (x,) = ctx.saved_tensors
        t = xp.tanh(_softplus(x))
        return g * (t + x * _sigmoid(x) * (1 - t * t))


class HardswishBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, g):
        # PyTorch 2.13's kinks: 0 at -3, the gradient itself at 3 (the middle piece open at
        # both ends, so its second derivative 1/3 too lives on (-3, 3) only)
        (x,) = ctx.saved_tensors
        middle = where(x < 3, g * (x / 3 + 0.5), g)
        return where(x <= -3, 0.0, middle)


# PyTorch's hardsigmoid_backward multiplies by 1/6 as a float32 constant, in double too
_ONE_SIXTH_FLOAT32 = float(xp.float32(1.0) / xp.float32(6.0))


class HardsigmoidBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.minimum(xp.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where((x > -3) & (x < 3), g * _ONE_SIXTH_FLOAT32, 0.0)


class CeluBackward0(Op):
    """celu(x) = max(0, x) + min(0, α(e^(x/α) - 1))."""

    __slots__ = ("alpha",)
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.where(x <= 0, ctx.alpha * xp.expm1(xp.minimum(x, 0) / ctx.alpha), x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        exponent = where(x >= 0, 0.0, x)  # (no overflow for a large positive x)
        return where(x > 0, g, g * xp.exp(exponent / ctx.alpha))


class ThresholdBackward0(Op):
    __slots__ = ("threshold", "value")
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    # ``x <= threshold`` picks the value, as ATen's kernel: NaN is not, so it stays NaN and
    # passes its gradient
    @staticmethod
    def forward(ctx, x):
        return xp.where(x <= ctx.threshold, xp.asarray(ctx.value).astype(x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(x <= ctx.threshold, 0.0, g)


class HardshrinkBackward0(Op):
    __slots__ = ("lambd",)
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.where((x >= -ctx.lambd) & (x <= ctx.lambd), xp.zeros((), x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where((x >= -ctx.lambd) & (x <= ctx.lambd), 0.0, g)


class SoftshrinkBackward0(Op):
    __slots__ = ("lambd",)
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        lambd = ctx.lambd
        shrunk = xp.where(x > lambd, x - lambd, x + lambd)
        return xp.where((x >= -lambd) & (x <= lambd), xp.zeros((), x.dtype), shrunk)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where((x >= -ctx.lambd) & (x <= ctx.lambd), 0.0, g)


class GluBackward0(Op):
    """glu(x, dim) = a·sigmoid(b), a and b the halves of x along dim."""

    __slots__ = ("dim",)
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x):
        a, b = xp.split(x, 2, axis=ctx.dim)
        return a * _sigmoid(b)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if type(x) is Tensor:
            a, b = x.chunk(2, ctx.dim)
            s = b.sigmoid()
            join = cat
        else:
            a, b = xp.split(x, 2, axis=ctx.dim)
            s = _sigmoid(b)
            join = xp.concatenate
        return join((g * s, g * a * s * (1 - s)), ctx.dim)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (x,), (tangent,) = primals, tangents
        a, b = x.chunk(2, ctx.dim)
        ta, tb = tangent.chunk(2, ctx.dim)
        s = b.sigmoid()
        return ta * s + a * s * (1 - s) * tb


class PreluKernelBackward0(Op):
    """prelu(x, w) = x where x > 0, else w·x (w broadcast along the channels)."""

    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x, weight):
        return xp.where(x > 0, x, weight * x)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        positive = x > 0
        grad_x = where(positive, g, weight * g) if ctx._next[0] is not None else None
        grad_w = where(positive, 0.0, x * g) if ctx._next[1] is not None else None
        return grad_x, grad_w


# ---------------------------------------------------------------------- public functions
def _floating(input, kernel: str):
    tensor_argument(input, kernel.removesuffix("_cpu"), "input", 1)
    if input._data.dtype.kind != "f":
        raise not_implemented(kernel, input)


def mish(input):
    _floating(input, "mish_cpu")
    return unary(MishBackward0(), input)


def hardswish(input):
    _floating(input, "hardswish_cpu")
    return unary(HardswishBackward0(), input)


def hardsigmoid(input):
    _floating(input, "hardsigmoid_cpu")
    return unary(HardsigmoidBackward0(), input)


def celu(input, alpha=1.0):
    _floating(input, "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    node = CeluBackward0()
    node.alpha = float(alpha)
    return unary(node, input)


def threshold(input, threshold, value):
    tensor_argument(input, "threshold", "input", 1)
    dtype = input._data.dtype
    if dtype == xp.bool_:
        raise not_implemented("threshold_cpu", input)
    node = ThresholdBackward0()
    node.threshold = checked_scalar_value(threshold, dtype)
    node.value = checked_scalar_value(value, dtype)
    return unary(node, input)


def hardshrink(input, lambd=0.5):
    _floating(input, "hardshrink_cpu")
    node = HardshrinkBackward0()
    node.lambd = lambd
    return unary(node, input)


def softshrink(input, lambd=0.5):
    _floating(input, "softshrink_cpu")
    if lambd < 0:
        dtype = input._data.dtype
        limit = f"{float(xp.finfo(dtype).max):g}"  # (C++'s default formatting of the max)
        kind = SCALAR_TYPE_NAMES[from_numpy_dtype(dtype).name]
        raise RuntimeError(
            f"lambda must be in range [0, {limit}] for input dtype {kind}, but found {num(lambd)}"
        )
    node = SoftshrinkBackward0()
    node.lambd = lambd
    return unary(node, input)


def glu(input, dim=-1):
    _floating(input, "glu_cpu")
    ndim = input.dim()
    if ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
            f"{dim})"
        )
    dim %= ndim
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    node = GluBackward0()
    node.dim = dim
    return unary(node, input)


def prelu(input, weight):
    """ATen's prelu: the weight viewed to broadcast along dimension 1, then the kernel."""
    tensor_argument(input, "prelu", "input", 1)
    tensor_argument(weight, "prelu", "weight", 2)
    if weight.dim() > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}"
        )
    if input._data.dtype != weight._data.dtype:  # (no type promotion, as ATen's prelu)
        names = (SCALAR_TYPE_NAMES[from_numpy_dtype(t._data.dtype).name] for t in (input, weight))
        raise RuntimeError("prelu: Type promoting not supported. Got {} and {}".format(*names))
    if input._data.dtype.kind != "f":
        raise not_implemented("prelu_cpu", input)
    count = weight.numel()
    if count != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() > 1 else 1
        if channels != count:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {count} and channel size = {channels}."
            )
    if input.dim() != weight.dim():
        shape = [1] * input.dim()
        if input.dim() >= 2:
            shape[1] = count
        weight = weight.reshape(shape)
    return binary(PreluKernelBackward0(), input, weight)


# ---------------------------------------------------------------------- explain rules
def _threshold_rule(node) -> Rule:
    limit = num(node.threshold)
    return Rule(
        f"threshold at {limit} (else {num(node.value)})",
        "threshold({x:0})",
        ATOM,
        (f"0 if {{x:0}} ≤ {limit}, else 1",),
    )


def _shrink_rule(words: str, name: str):
    def rule(node) -> Rule:
        lambd = num(node.lambd)
        return Rule(
            f"{words} (λ = {lambd})",
            f"{name}({{x:0}})",
            ATOM,
            (f"0 if |{{x:0}}| ≤ {lambd}, else 1",),
        )

    return rule


def _celu_rule(node) -> Rule:
    alpha = num(node.alpha)
    return Rule("CELU", "celu({x:0})", ATOM, (f"1 if {{x:0}} > 0, else exp({{x:0}}/{alpha})",))


def _glu_rule(node) -> Rule:
    return Rule(
        f"gated linear unit along dim {node.dim}: a·sigmoid(b), a and b the halves",
        f"glu({{x:0}}, {node.dim})",
        passes=("to a: the gradient·sigmoid(b); to b: the gradient·a·sigmoid(b)·(1 - sigmoid(b))",),
    )


_PRELU_RULE = Rule(
    "PReLU: x where x > 0, else w·x",
    "prelu({a:0}, {b:0})",
    ATOM,
    ("1 if {a:0} > 0, else {b:0}", "0 if {a:0} > 0, else {a:0}"),
)

DECLARATIONS = (
    declare(
        "mish",
        mish,
        public=False,
        explain={
            MishBackward0: unary_rule(
                "Mish, x·tanh(softplus(x))",
                "mish",
                "tanh(sp) + {x:6}·sigmoid({x:0})·(1 - tanh(sp)²), sp = softplus({x:0})",
            )
        },
        cli=Cli("x*tanh(log(1 + e**x))"),
    ),
    declare(
        "hardswish",
        hardswish,
        public=False,
        explain={
            HardswishBackward0: unary_rule(
                "hard swish, x·relu6(x + 3)/6",
                "hardswish",
                "0 if {x:0} ≤ -3, 1 if {x:0} ≥ 3, else {x:6}/3 + 0.5",
            )
        },
    ),
    declare(
        "hardsigmoid",
        hardsigmoid,
        public=False,
        explain={
            HardsigmoidBackward0: unary_rule(
                "hard sigmoid, relu6(x + 3)/6", "hardsigmoid", "1/6 if -3 < {x:0} < 3, else 0"
            )
        },
    ),
    declare("celu", celu, public=False, explain={CeluBackward0: _celu_rule}),
    declare("threshold", threshold, public=False, explain={ThresholdBackward0: _threshold_rule}),
    declare(
        "hardshrink",
        hardshrink,
        public=False,
        explain={HardshrinkBackward0: _shrink_rule("hard shrinkage", "hardshrink")},
    ),
    declare(
        "softshrink",
        softshrink,
        public=False,
        explain={SoftshrinkBackward0: _shrink_rule("soft shrinkage", "softshrink")},
    ),
    declare("glu", glu, public=False, explain={GluBackward0: _glu_rule}),
    declare("prelu", prelu, public=False, explain={PreluKernelBackward0: _PRELU_RULE}),
)
