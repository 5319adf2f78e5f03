"""``_trilinear`` as ``nn.functional.bilinear`` uses it: ``out[n, o] = Σ_ij x1[n, i]·W[o, i, j]·
x2[n, j]``, one node (TrilinearBackward0) as in PyTorch, whose VJP is the same contraction with
the gradient in place of the input it is taken for."""

from __future__ import annotations

from ..backend import xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import nary
from .declare import explain_nodes
from .einsum import einsum
from .explain_rule import Rule

_FORWARD = "ni,oij,nj->no"
_GRADIENTS = ("no,oij,nj->ni", "no,ni,nj->oij", "no,ni,oij->nj")


def _contract(spec: str, *operands):
    if any(type(operand) is Tensor for operand in operands):
        return einsum(spec, *operands)
    return xp.einsum(spec, *operands)


class TrilinearBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x1, weight, x2):
        return xp.einsum(_FORWARD, x1, weight, x2)

    @staticmethod
    def backward(ctx, g):
        x1, weight, x2 = ctx.saved_tensors
        wanted = ctx._next
        return (
            _contract(_GRADIENTS[0], g, weight, x2) if wanted[0] is not None else None,
            _contract(_GRADIENTS[1], g, x1, x2) if wanted[1] is not None else None,
            _contract(_GRADIENTS[2], g, x1, weight) if wanted[2] is not None else None,
        )

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # trilinear: one share per input with a tangent, the others at their primal values
        x1, weight, x2 = primals
        t1, tw, t2 = tangents
        total = None
        for share in (
            None if t1 is None else einsum(_FORWARD, t1, weight, x2),
            None if tw is None else einsum(_FORWARD, x1, tw, x2),
            None if t2 is None else einsum(_FORWARD, x1, weight, t2),
        ):
            if share is not None:
                total = share if total is None else total + share
        return total


def trilinear(x1, weight, x2):
    """The contraction of x1 (N, I), weight (O, I, J) and x2 (N, J) to (N, O)."""
    return nary(TrilinearBackward0(), x1, weight, x2)


DECLARATIONS = (
    explain_nodes(
        {
            TrilinearBackward0: Rule(
                "the bilinear form x1ᵀ·W_o·x2 for each output o",
                "trilinear({a:0}, {b:0}, {c:0})",
                passes=(
                    "Σ_o gradient_o · W_o·x2",
                    "gradient_o · x1 x2ᵀ for each o",
                    "Σ_o gradient_o · W_oᵀ·x1",
                ),
            )
        }
    ),
)
