"""``nn.functional``'s distances: ``normalize``, ``cosine_similarity``, ``pairwise_distance``,
composed as PyTorch 2.13 composes them, so that they record its nodes (``normalize`` in Python:
LinalgVectorNormBackward0, ClampMinBackward0, ExpandBackward0, DivBackward0; the other two in
ATen: its clone and in-place clamp of the norms, its ``at::norm`` as NormBackward1).
``nn/functional.py`` re-exports them.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.grad_mode import no_grad
from ..ops.call_forms import public_function
from ..ops.composite_nodes import add_scalar, norm_over
from ..ops.operators import div
from .functional_losses import broadcast_pair

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]

# ``gradienti.div``, which takes ``out=`` (ops/call_forms.py): normalize's ``out`` goes to it.
_div_into = public_function("div", div)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input / max(‖input‖_p, eps)`` along ``dim``: each slice scaled to norm 1."""
    if out is None:
        denominator = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
        return input / denominator
    # PyTorch clamps the norm in place, then divides into ``out`` (which refuses inputs that
    # require grad, with div's message).
    norm = input.norm(p, dim, keepdim=True)
    norm.clamp_(min=eps)
    return _div_into(input, norm.expand_as(input), out=out)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """PyTorch 2.13's formula: each input divided by its own norm along ``dim`` (the norm
    clamped below at ``eps`` without recording the clamp), then the products summed:
    ``sum(x1 / max(‖x1‖, eps) · x2 / max(‖x2‖, eps))``. Inputs of different shapes are both
    expanded to the common one; an integral input is converted to the common floating dtype."""
    common = xp.result_type(x1._data, x2._data)
    if common.kind != "f":
        name = SCALAR_TYPE_NAMES[from_numpy_dtype(common).name]
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {name}"
        )
    x1, x2 = (_as_floating(x, x1 if x is x2 else x2) for x in (x1, x2))
    if tuple(x1.shape) != tuple(x2.shape):
        x1, x2 = broadcast_pair(x1, x2, expand_both=True)
    norm1 = x1.norm(2, dim, keepdim=True).clone()
    norm2 = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():
        norm1.clamp_(min=eps)
        norm2.clamp_(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def _as_floating(x, other):
    """An integral (or bool) input converted to the other input's floating dtype."""
    return x if x.is_floating_point() else x.to(other.dtype)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """``‖x1 - x2 + eps‖_p`` over the last dimension of the broadcast pair (ATen's
    ``at::norm(x1 - x2 + eps, p, innermost_dim, keepdim)``)."""
    innermost = max(x1.dim(), x2.dim()) - 1
    return norm_over(add_scalar(x1 - x2, eps), p, innermost, keepdim)
