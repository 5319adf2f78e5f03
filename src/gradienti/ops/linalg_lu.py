"""LU with partial pivoting: ``torch.linalg.lu_factor``, ``lu_factor_ex``, ``lu_solve`` and
``linalg.lu``; the LU kernel that the inverse, the solve and their errors use too.

``A = P L U``: L unit lower triangular, U upper, P the permutation LAPACK's ``getrf`` records as
``pivots`` (1-based: row k was swapped with row ``pivots[k]``, in order). The factors of a
(batch, m, n) array come from the right-looking elimination, one column per step over the whole
batch, choosing as LAPACK the first row of largest magnitude; ``info`` is the first zero pivot.

Derivatives (square A), with ``dA = P (dL U + L dU)``: VJP ``gA = P L^{-T} (tril(L^T gL, -1) +
triu(gU U^T)) U^{-T}`` (PyTorch's ``linalg_lu_backward``); JVP ``dL = L tril(R, -1)``,
``dU = triu(R) U`` for ``R = L^{-1} P^T dA U^{-1}``. ``lu_solve`` is differentiated through
``A(LU)``: its gradient for A (the solve's) is carried back to LU by the chain rule above.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import all_samples, along_first_axis
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, SAVE_OUTPUT, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import GENERIC
from .extrema import return_types
from .join import cat
from .linalg_common import (
    as_batch,
    beside,
    broadcast_batch,
    check_at_least_matrix,
    check_square,
    constant,
    mT,
    record,
    reduce_to,
    solve_triangular_array,
    tril,
    triu,
    with_out,
)
from .linalg_errors import batch_prefix
from .linalg_triangular import solve_triangular_any


# ------------------------------------------------------------------ the kernel (arrays)
@along_first_axis()
def _lu_batch(a):
    """(LU, pivots, info) of a (batch, m, n) array (see the module docstring)."""
    batch, m, n = a.shape
    lu = xp.array(a, dtype=a.dtype, copy=True)
    steps = min(m, n)
    pivots = xp.zeros((batch, steps), xp.int32)
    info = xp.zeros(batch, xp.int32)
    rows = xp.arange(batch)
    for k in range(steps):
        pivot_rows = k + xp.argmax(xp.abs(lu[:, k:, k]), axis=1)
        pivots[:, k] = pivot_rows + 1
        swapped = lu[rows, pivot_rows].copy()
        lu[rows, pivot_rows] = lu[:, k]
        lu[:, k] = swapped
        pivot = lu[:, k, k]
        zero = pivot == 0
        info[zero & (info == 0)] = k + 1
        # (a zero pivot's column is all zeros below it: LAPACK leaves it unscaled)
        lu[:, k + 1 :, k] /= xp.where(zero, xp.ones((), a.dtype), pivot)[:, None]
        lu[:, k + 1 :, k + 1 :] -= lu[:, k + 1 :, k : k + 1] * lu[:, k : k + 1, k + 1 :]
    return lu, pivots, info


def lu_array(a):
    """(LU, pivots, info) of a (..., m, n) array."""
    shape = a.shape
    batch = shape[:-2]
    if a.size == 0:
        steps = min(shape[-2:])
        return (
            xp.zeros(shape, a.dtype),
            xp.ones(batch + (steps,), xp.int32),
            xp.zeros(batch, xp.int32),
        )
    lu, pivots, info = _lu_batch(as_batch(a))
    return lu.reshape(shape), pivots.reshape(batch + pivots.shape[-1:]), info.reshape(batch)


def permutation_array(pivots, m: int, dtype):
    """P (..., m, m) of ``A = P L U`` from LAPACK's pivots."""
    batch = pivots.shape[:-1]
    if pivots.size == 0:  # no batch, or no rows swapped
        return xp.broadcast_to(xp.eye(m, dtype=dtype), batch + (m, m)).copy()
    flat = pivots.reshape((-1,) + pivots.shape[-1:])
    return _permutation_batch(flat, m, dtype).reshape(batch + (m, m))


@along_first_axis()
def _permutation_batch(pivots, m: int, dtype):
    steps = pivots.shape[-1]
    order = xp.broadcast_to(xp.arange(m), (pivots.shape[0], m)).copy()
    rows = xp.arange(pivots.shape[0])
    for k in range(steps):
        target = pivots[:, k] - 1
        kept = order[:, k].copy()
        order[:, k] = order[rows, target]
        order[rows, target] = kept
    # P^T A = L U takes row order[i] of A to row i: P[order[i], i] = 1
    permutation = xp.zeros((pivots.shape[0], m, m), dtype)
    permutation[rows[:, None], order, xp.arange(m)[None, :]] = 1
    return permutation


def unpack_array(lu):
    """L (unit lower, m x k) and U (upper, k x n) of a packed (..., m, n) LU."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    lower = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
    return lower, xp.triu(lu[..., :k, :])


def lu_solve_array(lu, pivots, b):
    """X with ``P L U X = B`` (square LU, batches broadcast): zero pivots give inf/NaN as
    LAPACK's getrs (PyTorch's ``*_ex`` functions return them)."""
    n = lu.shape[-1]
    permutation = permutation_array(pivots, n, lu.dtype)
    lower, upper = unpack_array(lu)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = xp.matmul(mT(permutation), b)
        y = solve_triangular_array(lower, y, False, True, True)
        return solve_triangular_array(upper, y, True, True, False)


# ------------------------------------------------------------ derivatives (arrays or Tensors)
def _like(x, array):
    """``array`` as a constant beside ``x``: a Tensor when the VJP is recorded."""
    return constant(array) if type(x) is Tensor else array


def _factors(lu):
    """L (unit lower, m x k) and U (k x n) of a packed LU, differentiably on Tensors."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    if m != n:
        lu_lower, lu_upper = lu[..., :, :k], lu[..., :k, :]
    else:
        lu_lower = lu_upper = lu
    return tril(lu_lower, -1) + _like(lu, xp.eye(m, k, dtype=_dtype(lu))), triu(lu_upper)


def _cat(parts, axis: int):
    if type(parts[0]) is Tensor:
        return cat([beside(part, parts[0]) for part in parts], axis)
    return xp.concatenate(parts, axis)


def _zeros(like, shape: tuple):
    return _like(like, xp.zeros(tuple(shape), _dtype(like)))


def _dtype(x):
    return x._data.dtype if type(x) is Tensor else x.dtype


def lu_backward(grad_lower, grad_upper, permutation, lower, upper):
    """gA of ``A = P L U``, PyTorch's ``linalg_lu_backward``. Square:
    ``P L^{-T} (tril(L^T gL, -1) + triu(gU U^T)) U^{-T}``; a wide A (U = [U1 U2]) or a tall
    one (L = [L1; L2]) solves with the square block and carries the rest's gradient along."""
    m, k = lower.shape[-2:]
    n = upper.shape[-1]
    if m == n:
        inner = None
        if grad_lower is not None:
            inner = tril(mT(lower) @ grad_lower, -1)
        if grad_upper is not None:
            share = triu(grad_upper @ mT(upper))
            inner = share if inner is None else inner + share
        inner = solve_triangular_any(mT(upper), inner, False, False, False)
        inner = solve_triangular_any(mT(lower), inner, True, True, True)
        return permutation @ inner
    if m < n:  # wide: k = m
        inner = None if grad_lower is None else mT(lower) @ grad_lower
        if grad_upper is not None:
            share = triu(grad_upper) @ mT(upper)
            inner = -share if inner is None else inner - share
        inner = solve_triangular_any(mT(upper[..., :, :k]), tril(inner, -1), False, False, False)
        if grad_upper is not None:
            inner = _cat([inner + triu(grad_upper[..., :, :k]), grad_upper[..., :, k:]], -1)
        inner = solve_triangular_any(mT(lower), inner, True, True, True)
        if grad_upper is None:
            inner = _cat([inner, _zeros(inner, upper[..., :, k:].shape)], -1)
        return permutation @ inner
    # tall: k = n
    inner = None if grad_upper is None else grad_upper @ mT(upper)
    if grad_lower is not None:
        share = mT(lower) @ tril(grad_lower, -1)
        inner = -share if inner is None else inner - share
    inner = solve_triangular_any(mT(lower[..., :k, :]), triu(inner), True, True, True)
    if grad_lower is not None:
        inner = _cat([inner + tril(grad_lower[..., :k, :], -1), grad_lower[..., k:, :]], -2)
    inner = solve_triangular_any(mT(upper), inner, False, False, False)
    if grad_lower is None:
        inner = _cat([inner, _zeros(inner, lower[..., k:, :].shape)], -2)
    return permutation @ inner


def lu_jvp(tangent, permutation, lower, upper):
    """(dL, dU) for dA (PyTorch's ``linalg_lu_jvp``). Square: ``R = L^{-1} P^T dA U^{-1}``,
    ``dL = L tril(R, -1)``, ``dU = triu(R) U``. Wide (U = [U1 U2]): ``X = L^{-1} P^T dA``,
    ``R = X1 U1^{-1}``, ``dL = L tril(R, -1)``, ``dU = [triu(R) U1, X2 - tril(R, -1) U2]``.
    Tall (L = [L1; L2]): ``X = P^T dA U^{-1}``, ``R = L1^{-1} X1``, ``dU = triu(R) U``,
    ``dL = [L1 tril(R, -1); X2 - L2 triu(R)]``."""
    m, k = lower.shape[-2:]
    n = upper.shape[-1]
    moved = mT(permutation) @ tangent
    if m == n:
        inner = solve_triangular_any(lower, moved, False, True, True)
        inner = solve_triangular_any(upper, inner, True, False, False)
        return lower @ tril(inner, -1), triu(inner) @ upper
    if m < n:
        inner = solve_triangular_any(lower, moved, False, True, True)
        ratio = solve_triangular_any(upper[..., :, :k], inner[..., :, :k], True, False, False)
        strictly_lower = tril(ratio, -1)
        right = inner[..., :, k:] - strictly_lower @ upper[..., :, k:]
        return lower @ strictly_lower, _cat([triu(ratio) @ upper[..., :, :k], right], -1)
    inner = solve_triangular_any(upper, moved, True, False, False)
    ratio = solve_triangular_any(lower[..., :k, :], inner[..., :k, :], False, True, True)
    upper_part = triu(ratio)
    bottom = inner[..., k:, :] - lower[..., k:, :] @ upper_part
    return _cat([lower[..., :k, :] @ tril(ratio, -1), bottom], -2), upper_part @ upper


def _packed(tangent_lower, tangent_upper):
    """dL (m x k, strictly lower) and dU (k x n) in one m x n tangent, as the packed LU."""
    m, k = tangent_lower.shape[-2:]
    n = tangent_upper.shape[-1]
    if m < n:
        padding = _zeros(tangent_lower, (*tangent_upper.shape[:-1], n - k))
        return _cat([tangent_lower, padding], -1) + tangent_upper
    if m > n:
        padding = _zeros(tangent_upper, (*tangent_lower.shape[:-2], m - k, n))
        return tangent_lower + _cat([tangent_upper, padding], -2)
    return tangent_lower + tangent_upper


class LinalgLuFactorExBackward0(Op):
    """The packed LU of ``A = P L U``; pivots and info need no gradient."""

    __slots__ = ("pivots",)
    save = SAVE_OUTPUT

    @staticmethod
    def backward(ctx, g):
        (lu,) = ctx.saved_tensors
        lower, upper = _factors(lu)
        m, k = lower.shape[-2:]
        permutation = _like(g, permutation_array(ctx.pivots, m, _dtype(lu)))
        grad_lower, grad_upper = tril(g[..., :, :k], -1), triu(g[..., :k, :])
        return lu_backward(grad_lower, grad_upper, permutation, lower, upper)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        lower, upper = _factors(out)
        permutation = constant(permutation_array(ctx.pivots, out.shape[-2], out._data.dtype))
        return _packed(*lu_jvp(tangent, permutation, lower, upper))


class LinalgLuBackward0(Op):
    """(P, L, U) of ``A = P L U``; P needs no gradient. The factors are recomputed from the
    saved A (a recorded backward refactors the Tensor, so that double backward sees them)."""

    __slots__ = ("num_outputs", "output_meta")
    save = SAVE_INPUTS

    @staticmethod
    def backward(ctx, grad_permutation, grad_lower, grad_upper):
        (a,) = ctx.saved_tensors
        grad_lower, grad_upper = beside(grad_lower, a), beside(grad_upper, a)
        if type(a) is Tensor:
            permutation, lower, upper = lu(a)
        else:
            packed, pivots, _ = lu_array(a)
            lower, upper = unpack_array(packed)
            permutation = permutation_array(pivots, a.shape[-2], a.dtype)
        return lu_backward(grad_lower, grad_upper, permutation, lower, upper)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        permutation, lower, upper = out
        tangent_lower, tangent_upper = lu_jvp(tangent, permutation, lower, upper)
        return None, tangent_lower, tangent_upper


# ------------------------------------------------------------------ the public functions
def _check_lu_input(name: str, kernel: str, input: Tensor) -> None:  # noqa: A002
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(
            f"torch.{name.split('.')[-1]}: Expected tensor with 2 or more dimensions. Got size: "
            f"{list(shape)} instead"
        )
    dtype = input._data.dtype
    if dtype.kind != "f" or dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{SCALAR_TYPE_NAMES[str(dtype)]}'"
        )


def raise_for_zero_pivot(name: str, info) -> None:
    """PyTorch's error of lu_factor for the first matrix with a zero pivot."""
    info = all_samples(info)
    flat = info.reshape(-1)
    failed = xp.flatnonzero(flat)
    if failed.size:
        index = int(failed[0])
        prefix = batch_prefix(index if info.ndim else None)
        order = int(flat[index])
        raise RuntimeError(
            f"torch.{name}: {prefix}U[{order},{order}] is zero and using it on lu_solve would "
            "result in a division by zero. If you still want to perform the factorization, "
            "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        )


def _factor(name: str, input, pivot, check_errors: bool):  # noqa: A002
    tensor_argument(input, name.replace(".", "_"), "A", 1)
    _check_lu_input(name, "lu_cpu", input)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    packed, pivots, info = lu_array(input._data)
    if check_errors:
        raise_for_zero_pivot(name, info)
    node = LinalgLuFactorExBackward0()
    node.pivots = pivots
    factor = record(node, (input,), (input._data,), packed, (packed,))
    return factor, constant(pivots), constant(info)


@with_out("linalg_lu_factor_ex")
def lu_factor(A, *, pivot=True):  # noqa: N803 - PyTorch's name
    """``torch.linalg.lu_factor(A, *, pivot=True)``: (LU, pivots)."""
    factor, pivots, _ = _factor("linalg.lu_factor", A, pivot, True)
    return return_types.linalg_lu_factor(factor, pivots)


@with_out("linalg_lu_factor_ex")
def lu_factor_ex(A, *, pivot=True, check_errors=False):  # noqa: N803
    """``torch.linalg.lu_factor_ex``: (LU, pivots, info), info the first zero pivot (0: none)."""
    return return_types.linalg_lu_factor_ex(
        *_factor("linalg.lu_factor_ex", A, pivot, bool(check_errors))
    )


@with_out("linalg_lu")
def lu(A, *, pivot=True):  # noqa: N803
    """``torch.linalg.lu(A, *, pivot=True)``: (P, L, U) with ``A = P L U``."""
    tensor_argument(A, "linalg_lu", "A", 1)
    _check_lu_input("linalg.lu", "lu_cpu", A)
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    data = A._data
    packed, pivots, _ = lu_array(data)
    lower, upper = unpack_array(packed)
    permutation = permutation_array(pivots, data.shape[-2], data.dtype)
    node = LinalgLuBackward0()
    _, lower, upper = record(node, (A,), (data,), (permutation, lower, upper), (data,))
    return return_types.linalg_lu(constant(permutation), lower, upper)


# ------------------------------------------------------------------ lu_solve
class LinalgLuSolveBackward0(Op):
    """X with ``op(A) X = B`` (``left``) or ``X op(A) = B``, ``A = P L U`` given packed,
    ``op(A)`` A^T when ``adjoint``. Gradients reach LU and B; pivots need none."""

    __slots__ = ("pivots", "left", "adjoint")
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        lu_saved, b, x = ctx.saved_tensors
        lu_edge, b_edge = ctx._next
        left, adjoint = ctx.left, ctx.adjoint
        grad_b = _lu_solve_any(lu_saved, ctx.pivots, g, left, not adjoint)
        grad_lu = None
        if lu_edge is not None:
            grad_op = -(grad_b @ mT(x)) if left else -(mT(x) @ grad_b)
            grad_a = mT(grad_op) if adjoint else grad_op
            lower, upper = _factors(lu_saved)
            permutation = _like(g, permutation_array(ctx.pivots, lower.shape[-1], _dtype(g)))
            moved = mT(permutation) @ grad_a  # dA = P (dL U + L dU): the chain rule to L, U
            grad_lu = tril(moved @ mT(upper), -1) + triu(mT(lower) @ moved)
            grad_lu = reduce_to(grad_lu, lu_saved.shape)
        return grad_lu, (reduce_to(grad_b, b.shape) if b_edge is not None else None)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        lu_primal, _ = primals
        tangent_lu, tangent_b = tangents
        left, adjoint = ctx.left, ctx.adjoint
        rhs = tangent_b
        if tangent_lu is not None:
            lower, upper = _factors(lu_primal)
            n = lower.shape[-1]
            permutation = constant(permutation_array(ctx.pivots, n, lu_primal._data.dtype))
            tangent_a = permutation @ (tril(tangent_lu, -1) @ upper + lower @ triu(tangent_lu))
            tangent_op = mT(tangent_a) if adjoint else tangent_a
            share = tangent_op @ out if left else out @ tangent_op
            rhs = -share if rhs is None else rhs - share
        return lu_solve(lu_primal, constant(ctx.pivots), rhs, left=left, adjoint=adjoint)


def lu_solve_general(lu_data, pivots, b, left: bool, adjoint: bool):
    """The four solves on arrays: ``op(A) X = B`` or ``X op(A) = B``."""
    if left and not adjoint:
        return lu_solve_array(lu_data, pivots, b)
    if not left:  # X op(A) = B  <=>  op(A)^T X^T = B^T
        return mT(lu_solve_general(lu_data, pivots, mT(b), True, not adjoint))
    # A^T X = B: A^T = U^T L^T P^T, so X = P L^{-T} U^{-T} B
    n = lu_data.shape[-1]
    lower, upper = unpack_array(lu_data)
    y = solve_triangular_array(mT(upper), b, False, True, False)
    y = solve_triangular_array(mT(lower), y, True, True, True)
    return xp.matmul(permutation_array(pivots, n, lu_data.dtype), y)


def _lu_solve_any(lu_value, pivots, b, left: bool, adjoint: bool):
    if type(b) is Tensor:
        return lu_solve(lu_value, constant(pivots), b, left=left, adjoint=adjoint)
    return lu_solve_general(lu_value, pivots, b, left, adjoint)


@with_out("linalg_lu_solve")
def lu_solve(LU, pivots, B, *, left=True, adjoint=False):  # noqa: N803
    """``torch.linalg.lu_solve(LU, pivots, B, *, left=True, adjoint=False)``."""
    name = "linalg.lu_solve"
    tensor_argument(LU, "linalg_lu_solve", "LU", 1)
    tensor_argument(pivots, "linalg_lu_solve", "pivots", 2)
    tensor_argument(B, "linalg_lu_solve", "B", 3)
    lu_dtype, b_dtype = LU._data.dtype, B._data.dtype
    if lu_dtype.kind != "f":
        raise RuntimeError(
            "torch.linalg.lu_solve: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_TYPE_NAMES[str(lu_dtype)]}"
        )
    if lu_dtype != b_dtype:
        raise RuntimeError(
            f"{name}: Expected LU and B to have the same dtype, but found LU of type "
            f"{SCALAR_TYPE_NAMES[str(lu_dtype)]} and B of type {SCALAR_TYPE_NAMES[str(b_dtype)]} "
            "instead"
        )
    if pivots._data.dtype != xp.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type torch.int32")
    check_square("torch.linalg.lu_solve", LU)
    check_at_least_matrix(name, B, "B")
    n = LU._data.shape[-1]
    rows, columns = B._data.shape[-2:]
    if (rows if left else columns) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {equation} "
            f"({n}x{n} and {rows}x{columns})"
        )
    if pivots._data.shape[-1:] != (n,):
        raise RuntimeError(
            f"{name}: Number of pivots per batch should be same as the dimension of the matrix"
        )
    if LU._data.shape[:-1] != pivots._data.shape:
        raise RuntimeError(
            f"{name}: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots "
            f"with shape {list(pivots._data.shape)} instead"
        )
    node = LinalgLuSolveBackward0()
    node.pivots, node.left, node.adjoint = pivots._data, bool(left), bool(adjoint)
    batch = broadcast_batch(B._data.shape[:-2], LU._data.shape[:-2])
    lu_data = xp.broadcast_to(LU._data, batch + LU._data.shape[-2:])
    piv = xp.broadcast_to(pivots._data, batch + pivots._data.shape[-1:])
    b_data = xp.broadcast_to(B._data, batch + B._data.shape[-2:])
    x = lu_solve_general(lu_data, piv, b_data, node.left, node.adjoint)
    node.pivots = pivots._data  # (as given: the recorded VJP calls lu_solve with LU as given)
    return record(node, (LU, B), (LU._data, B._data), x, (LU._data, B._data, x))


DECLARATIONS = [
    declare("linalg_lu_factor", lu_factor, method=None, public=False),
    declare(
        "linalg_lu_factor_ex",
        lu_factor_ex,
        method=None,
        public=False,
        explain={LinalgLuFactorExBackward0: GENERIC},
    ),
    declare("linalg_lu", lu, method=None, public=False, explain={LinalgLuBackward0: GENERIC}),
    declare(
        "linalg_lu_solve",
        lu_solve,
        method=None,
        public=False,
        explain={LinalgLuSolveBackward0: GENERIC},
    ),
]
