"""Determinants: ``torch.linalg.det`` (``torch.det``, ``Tensor.det``), ``linalg.slogdet``
(``torch.slogdet``) and ``torch.logdet``; nodes, VJPs and JVPs.

``d det(A) = det(A) tr(A^{-1} dA)``, so the VJP is ``gA = (g det) A^{-T}`` and the JVP
``det tr(A^{-1} dA)``; ``d log|det A| = tr(A^{-1} dA)``: ``gA = g A^{-T}`` (the sign of a real
determinant is piecewise constant: no gradient). As PyTorch's ``linalg_det_backward``, a first
derivative solves with A's LU, a zero pivot nudged to epsilon (so that a singular A gets a finite
gradient, approximately its cofactors); a recorded one (``create_graph=True``) solves with A
itself, differentiably (where PyTorch turns to an SVD for a singular A: not done here).
``logdet`` is ``slogdet`` composed as in PyTorch: NaN where the sign is negative.
"""

from __future__ import annotations

from ..backend import xp
from ..batching import all_samples, along_first_axis, any_sample
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .extrema import return_types
from .join import cat
from .linalg_common import (
    as_batch,
    beside,
    check_floating,
    check_square,
    constant,
    mT,
    record,
    with_out,
)
from .linalg_lu import lu_array, lu_solve_general
from .linalg_solve import check_linalg_float, solve, solve_with_info
from .linalg_spectral import linalg_svd


def _eye_scaled(scale, n: int, like):
    """``scale[..., None, None] * I``: the VJP's diagonal right-hand side."""
    if type(scale) is Tensor:
        eye = Tensor.new_tensor(scale, xp.eye(n, dtype=like._data.dtype))
        return scale.unsqueeze(-1).unsqueeze(-1) * eye
    return scale[..., None, None] * xp.eye(n, dtype=like.dtype)


def _transposed_inverse_times(a, rhs):
    """``A^{-T} rhs``: recorded on Tensors; on arrays PyTorch's LU solve with its zero pivots
    nudged to epsilon (a finite gradient at a singular matrix)."""
    if type(a) is Tensor:
        return solve(mT(a), rhs)
    return _nudged_lu_solve(a, rhs)


def _det_gradient(a, value, g):
    """``gA = g det(A) A^{-T}`` (g times the cofactor matrix). Recorded on Tensors: by a solve,
    and, for the matrices whose determinant is nearly zero, by PyTorch's SVD form of the
    cofactors, ``det(U) det(V^T) U diag(prod_{j != i} s_j) V^T`` (valid at a singular A)."""
    n = a.shape[-1]
    if type(a) is not Tensor:
        return _nudged_lu_solve(a, _eye_scaled(g * value, n, a))
    eps = xp.finfo(a._data.dtype).eps
    g = g.expand(*value.shape)
    near_singular = xp.abs(all_samples(value._data)) < 100 * eps
    if not near_singular.any():
        return solve(mT(a), _eye_scaled(g * value, n, a))
    if a._data.ndim == 2:
        return _cofactors_by_svd(a, g)
    # (as PyTorch's masked_fmap: each formula on its own matrices, the results put together)
    mask = constant(near_singular)
    keep = constant(~near_singular)
    result = constant(xp.zeros(a._data.shape, a._data.dtype))
    result = result.index_put((mask,), _cofactors_by_svd(a[mask], g[mask]))
    regular = a[keep]
    regular_scale = (g * value)[keep]
    return result.index_put((keep,), solve(mT(regular), _eye_scaled(regular_scale, n, a)))


def _cofactors_by_svd(a, g):
    u, s, vh = linalg_svd(a, False)
    alpha = det(u) * det(vh)
    weights = _products_of_the_others(s) * (alpha * g).unsqueeze(-1)
    return (u * weights.unsqueeze(-2)) @ vh


def _products_of_the_others(values):
    """``prod_{j != i} v_j`` along the last dim, without dividing (zeros are safe): the
    product of the values before i times the product of those after i."""
    ones = constant(xp.ones(tuple(values.shape[:-1]) + (1,), values._data.dtype))
    before = cat([ones, values[..., :-1]], -1).cumprod(-1)
    after = cat([ones, values[..., 1:].flip(-1)], -1).cumprod(-1).flip(-1)
    return before * after


def _nudged_lu_solve(a, rhs):
    """``A^{-T} rhs`` by A's LU, its zero pivots nudged to epsilon (PyTorch's, for a first
    derivative: finite at a singular A). LAPACK's solve where no pivot is zero (faster than
    the column-by-column LU; the same values to rounding)."""
    solution, info = solve_with_info(mT(a), rhs)
    if not any_sample(info != 0):
        return solution
    lu, pivots, _ = lu_array(a)
    diagonal = xp.diagonal(lu, 0, -2, -1)
    eps = xp.finfo(a.dtype).eps
    lu = lu + (
        xp.where(diagonal == 0, eps, 0).astype(a.dtype)[..., None]
        * xp.eye(a.shape[-1], dtype=a.dtype)
    )
    return lu_solve_general(lu, pivots, rhs, True, True)


def _trace_of_solve(a, tangent):
    """``tr(A^{-1} dA)`` on Tensors (a JVP)."""
    return solve(a, tangent).diagonal(0, -2, -1).sum(-1)


@along_first_axis()
def _det_batch(a):
    return xp.linalg.det(a).astype(a.dtype, copy=False)


@along_first_axis()
def _slogdet_batch(a):
    sign, logabsdet = xp.linalg.slogdet(a)
    sign = sign.astype(a.dtype, copy=False)
    singular = sign == 0
    if singular.any():  # PyTorch's sign is the LU's: the row swaps' parity times 0 (-0.)
        sign[singular] = _lu_sign(a[singular])
    return sign, logabsdet.astype(a.dtype, copy=False)


def _lu_sign(a):
    """The sign of the determinant as the product of the LU's pivots and row swaps."""
    lu, pivots, _ = lu_array(a)
    swaps = (pivots != xp.arange(1, pivots.shape[-1] + 1)).sum(-1)
    parity = xp.where(swaps % 2 == 1, -1, 1).astype(a.dtype)
    return parity * xp.sign(xp.diagonal(lu, 0, -2, -1)).prod(-1)


class LinalgDetBackward0(Op):
    """The determinant of each square matrix."""

    __slots__ = ()
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        a, value = ctx.saved_tensors
        return _det_gradient(a, value, g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (a,), (tangent,) = primals, tangents
        return out * _trace_of_solve(a, tangent)


class LinalgSlogdetBackward0(Op):
    """(sign, log|det|) of each square matrix; only log|det| has a gradient (real input)."""

    __slots__ = ("num_outputs", "output_meta")
    save = SAVE_INPUTS

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.saved_tensors
        grad_logabsdet = beside(grad_logabsdet, a)
        return _transposed_inverse_times(a, _eye_scaled(grad_logabsdet, a.shape[-1], a))

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (a,), (tangent,) = primals, tangents
        return None, _trace_of_solve(a, tangent)


def det(A):  # noqa: N803 - PyTorch's name
    """``torch.det(A)`` and ``Tensor.det``: ``linalg.det`` without ``out=``."""
    name = "linalg.det"
    tensor_argument(A, "linalg_det", "A", 1)
    check_square(name, A)
    check_floating(name, A, "lu_cpu")
    data = A._data
    if data.size:
        value = _det_batch(as_batch(data)).reshape(data.shape[:-2])
    else:
        value = xp.ones(data.shape[:-2], data.dtype)
    return record(LinalgDetBackward0(), (A,), (data,), value, (data, value))


@with_out("_linalg_det")
def linalg_det(A):  # noqa: N803 - PyTorch's name
    """``torch.linalg.det(A, *, out=None)``."""
    return det(A)


def _slogdet(name: str, A: Tensor):  # noqa: N803
    tensor_argument(A, name.replace(".", "_"), "A", 1)
    check_square(name, A)
    check_linalg_float(name, A)
    data = A._data
    batch = data.shape[:-2]
    if data.size:
        sign, logabsdet = _slogdet_batch(as_batch(data))
        sign, logabsdet = sign.reshape(batch), logabsdet.reshape(batch)
    else:
        sign, logabsdet = xp.ones(batch, data.dtype), xp.zeros(batch, data.dtype)
    return record(LinalgSlogdetBackward0(), (A,), (data,), (sign, logabsdet), (data,))


@with_out("_linalg_slogdet")
def slogdet(A):  # noqa: N803
    """``torch.linalg.slogdet(A)``: (sign, logabsdet) of the determinant."""
    return return_types.linalg_slogdet(*_slogdet("linalg.slogdet", A))


def slogdet_legacy(input):  # noqa: A002 - PyTorch's name
    """``torch.slogdet`` and ``Tensor.slogdet``: the same values, its own named tuple."""
    return return_types.slogdet(*_slogdet("linalg.slogdet", input))


def logdet(input):  # noqa: A002
    """``torch.logdet``: log(det(A)); NaN for a negative determinant, -inf for a zero one."""
    tensor_argument(input, "logdet", "input", 1)
    check_square("logdet", input)
    if input._data.dtype.kind in "biu":
        check_floating("logdet", input, "lu_cpu")
    sign, logabsdet = _slogdet("linalg.slogdet", input)
    nan = Tensor.new_tensor(logabsdet, float("nan"))
    return nan.where(sign == -1, logabsdet)


_DET_RULE = Rule("the determinant", "det({x:0})", passes=("g det(A) A^-T",))

DECLARATIONS = [
    declare("det", det, explain={LinalgDetBackward0: _DET_RULE}),
    declare("linalg_det", linalg_det, method=None, public=False),
    declare(
        "slogdet",
        slogdet_legacy,
        explain={
            LinalgSlogdetBackward0: Rule(
                "the sign and log-magnitude of the determinant",
                "slogdet({x:0})",
                passes=("g A^-T (from log|det|; the sign passes none)",),
            )
        },
    ),
    declare("linalg_slogdet", slogdet, method=None, public=False),
    declare("logdet", logdet),
]
