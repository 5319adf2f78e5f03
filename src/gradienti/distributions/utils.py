"""``torch.distributions.utils``: broadcasting parameters, converting between probabilities
and logits, and ``lazy_property`` (a parameter computed from another on first use)."""

from __future__ import annotations

from functools import update_wrapper
from numbers import Number

from ..size import Size
from ..tensor import Tensor
from ._ops import ops

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant
# the default sample_shape and batch/event shape: torch.Size()
EMPTY_SIZE = Size()

__all__ = [
    "broadcast_all",
    "logits_to_probs",
    "clamp_probs",
    "probs_to_logits",
    "lazy_property",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def broadcast_all(*values):
    """``values`` (Tensors or Python numbers) broadcast to one shape, as Tensors: numbers
    become Tensors of the first Tensor's dtype, or of the default dtype when there is none."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, "
            "torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
        if dtype is None:
            dtype = ops.get_default_dtype()
        values = [v if isinstance(v, Tensor) else ops.tensor(v, dtype=dtype) for v in values]
    return ops.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device=None):
    """Standard normal values of ``shape`` drawn as PyTorch's ``empty(shape).normal_()``."""
    return ops.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim: int):
    """``value`` summed over its ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary: bool = False):
    """Probabilities from logits: the sigmoid of each for a binary variable, else the softmax
    over the last dimension (logits as unnormalised log probabilities)."""
    if is_binary:
        return ops.sigmoid(logits)
    return ops.softmax(logits, dim=-1)


def clamp_probs(probs):
    """``probs`` clamped into [eps, 1 - eps] (eps of their dtype), so that a log or a logit of
    them is finite."""
    eps = ops.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """Logits from probabilities: log(p) - log(1 - p) for a binary variable, else log(p)
    (clamped first, see ``clamp_probs``)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(clamped) - ops.log1p(-clamped)
    return ops.log(clamped)


class lazy_property:  # noqa: N801 - PyTorch's public name
    """A property computed on first access and then stored on the instance (which the next
    access reads directly, the descriptor being non-data). Computed with grad enabled, so that
    ``probs`` made from ``logits`` stays differentiable even when first read under no_grad."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ops.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):  # noqa: N801
    """What the class attribute reads as: both a lazy_property (``Distribution`` skips
    validating a parameter not computed yet) and a property (for documentation tools)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n: int, diag: int):
    rows = ops.arange(n).view(-1, 1)
    return ops.arange(n) < rows + (diag + 1)


def tril_matrix_to_vec(mat, diag: int = 0):
    """The lower triangle (from diagonal ``diag`` down) of each matrix, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec, diag: int = 0):
    """The inverse of ``tril_matrix_to_vec``: square matrices whose lower triangle is ``vec``
    and zeros elsewhere; the size ``n`` solves n(n+1)/2 + ... = len(vec) for ``diag``."""
    n = (
        -(1 + 2 * diag)
        + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5
    ) / 2
    eps = ops.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            + "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    mat = vec.new_zeros(Size(tuple(vec.shape[:-1]) + (n, n)))
    mat[..., _tril_mask(n, diag)] = vec
    return mat
