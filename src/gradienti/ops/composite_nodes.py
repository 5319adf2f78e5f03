"""Nodes that PyTorch's C++ compositions record and Python's operators never do.

Python's ``x + 1`` records AddBackward0 (the number becomes a wrapped tensor: two edges, the
second None). ATen's composite functions (pairwise_distance, triplet_margin_loss,
margin_ranking_loss, cosine_embedding_loss, poisson_nll_loss, cross_entropy) call the
Tensor-and-Scalar overloads instead, whose nodes have one edge: AddBackward1, SubBackward1,
MulBackward1, DivBackward1; and ``at::norm(x, p, dim, keepdim)``, NormBackward1 (Python's
``Tensor.norm`` records ``linalg.vector_norm``). ``nn.functional`` uses these to record the
graphs PyTorch records. No public op is declared here, only the nodes' explain rules.
"""

from __future__ import annotations

from ..graph.node import SAVE_NOTHING, Op
from .apply import lift_for_division, lift_for_scalar, unary
from .declare import explain_nodes
from .explain_rule import ATOM, Rule, num
from .norm import LinalgVectorNormBackward0, _norm_rule
from .reduce import reduction_dims
from .regression_losses import divide_by_count


class AddBackward1(Op):
    """``x + other·alpha`` of a Scalar ``other`` (the product kept in ``other``)."""

    __slots__ = ("other",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return x + ctx.other

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return tangents[0]  # the constant moves nothing


class SubBackward1(Op):
    """``x - other·alpha`` of a Scalar ``other``."""

    __slots__ = ("other",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return x - ctx.other

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return tangents[0]


class MulBackward1(Op):
    """``x · other`` of a Scalar ``other``."""

    __slots__ = ("other",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return x * ctx.other

    @staticmethod
    def backward(ctx, g):
        return g * ctx.other

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return tangents[0] * ctx.other


class DivBackward1(Op):
    """``x / other`` of a Scalar ``other`` (half precision divided in float32, as PyTorch's
    opmath: a divisor above 65504, cross_entropy's count of positions, is inf in float16)."""

    __slots__ = ("other",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return divide_by_count(x, ctx.other)

    @staticmethod
    def backward(ctx, g):
        return divide_by_count(g, ctx.other)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return divide_by_count(tangents[0], ctx.other)


class NormBackward1(LinalgVectorNormBackward0):
    """``at::norm(x, p, dim, keepdim)``: the vector norm, under the name PyTorch records."""

    __slots__ = ()


def _scalar_op(node_class, x, other, lift=lift_for_scalar):
    """The node applied to ``x`` lifted as PyTorch promotes ``tensor op number``: an integral
    tensor meeting a float (or divided) computes in the default float dtype, not NumPy's
    float64 (integral tensors take no gradient: lifting them records nothing)."""
    node = node_class()
    node.other = other
    return unary(node, lift(x, other))


def add_scalar(x, other):
    """``at::add(x, other)`` with a Python number: AddBackward1."""
    return _scalar_op(AddBackward1, x, other)


def sub_scalar(x, other):
    """``at::sub(x, other)`` with a Python number: SubBackward1."""
    return _scalar_op(SubBackward1, x, other)


def mul_scalar(x, other):
    """``at::mul(x, other)`` with a Python number: MulBackward1."""
    return _scalar_op(MulBackward1, x, other)


def div_scalar(x, other):
    """``at::div(x, other)`` with a Python number: DivBackward1."""
    return _scalar_op(DivBackward1, x, other, lift_for_division)


def norm_over(x, p: float, dim: int, keepdim: bool):
    """``at::norm(x, p, dim, keepdim)`` of a floating-point ``x``: NormBackward1."""
    node = NormBackward1()
    node.ord = float(p)
    node.dims = reduction_dims(dim, x._data.ndim)
    node.keepdim = keepdim
    node.dtype = None
    return unary(node, x)


# ------------------------------------------------------------------------- explain rules
def _scalar_rule(symbol: str, local):
    def rule(node) -> Rule:
        return Rule(
            f"{symbol} a number",
            f"{{x:0}} {symbol} {num(node.other)}",
            ATOM,
            local=(local(node),),
        )

    return rule


DECLARATIONS = (
    explain_nodes(
        {
            AddBackward1: _scalar_rule("+", lambda node: "1"),
            SubBackward1: _scalar_rule("-", lambda node: "1"),
            MulBackward1: _scalar_rule("·", lambda node: num(node.other)),
            DivBackward1: _scalar_rule("/", lambda node: f"1/{num(node.other)}"),
            NormBackward1: _norm_rule,
        }
    ),
)
