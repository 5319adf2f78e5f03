"""Cholesky: ``torch.linalg.cholesky``, ``linalg.cholesky_ex``, the legacy ``torch.cholesky``,
``torch.cholesky_solve`` and ``torch.cholesky_inverse``; nodes, VJPs, JVPs.

``A = L L^T`` (``upper=True``: ``A = U^T U``, U read from A's upper triangle). VJP (PyTorch's
``cholesky_backward``): with ``Phi(M)`` the lower triangle of M with its diagonal halved,
``gA = L^{-T} Phi(L^T gL) L^{-1}``, from the symmetric part ``Phi(L^T gL) + Phi(L^T gL)^T``
of ``L^T gL``. JVP: ``dL = L Phi(L^{-1} dA L^{-T})``.
"""

from __future__ import annotations

import warnings

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import all_samples, along_first_axis
from ..graph.node import SAVE_BOTH, SAVE_OUTPUT, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .extrema import return_types
from .linalg_common import (
    as_batch,
    broadcast_batch,
    check_floating,
    check_square,
    constant,
    halve_diagonal,
    mT,
    record,
    reduce_to,
    tril,
    with_out,
)
from .linalg_errors import LinAlgError, batch_prefix
from .linalg_triangular import solve_triangular, solve_triangular_any


class LinalgCholeskyExBackward0(Op):
    """The Cholesky factor L (lower) or U (upper) of a symmetric positive-definite matrix."""

    __slots__ = ("upper",)
    save = SAVE_OUTPUT

    @staticmethod
    def backward(ctx, g):
        (factor,) = ctx.saved_tensors
        return cholesky_backward(g, factor, ctx.upper)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        lower = mT(out) if ctx.upper else out
        tangent = mT(tangent) if ctx.upper else tangent
        # Phi(L^{-1} dA L^{-T}): two triangular solves instead of an inverse.
        inner = solve_triangular(lower, tangent, upper=False)
        inner = solve_triangular(mT(lower), inner, upper=True, left=False)
        grad = lower @ halve_diagonal(inner)
        return mT(grad) if ctx.upper else grad


class CholeskyBackward0(LinalgCholeskyExBackward0):
    """The legacy ``torch.cholesky``: the same factor and derivatives."""

    __slots__ = ()


def cholesky_backward(grad, factor, upper: bool):
    """PyTorch's ``cholesky_backward``: ``L^{-T} Phi(L^T gL) L^{-1}`` (see the docstring)."""
    lower, grad = (mT(factor), mT(grad)) if upper else (factor, grad)
    inner = tril(mT(lower) @ grad)
    inner = (inner + mT(tril(inner, -1))) * 0.5
    inner = solve_triangular_any(mT(lower), inner, True, True, False)
    return solve_triangular_any(lower, inner, False, False, False)


# ------------------------------------------------------------------ the factorization
@along_first_axis()
def _cholesky_lower(a):
    """Per matrix of a (batch, n, n) array read from its lower triangle: L and LAPACK's
    ``info`` (0, or the order of the first leading minor that is not positive-definite)."""
    try:
        factor = xp.linalg.cholesky(a)
        # (NumPy lets a NaN through; LAPACK's potrf, as PyTorch calls it, fails on it)
        if not xp.isnan(xp.diagonal(factor, 0, -2, -1)).any():
            return factor, xp.zeros(a.shape[0], xp.int32)
    except xp.linalg.LinAlgError:
        pass
    factor, info = _cholesky_columns(a)
    good = info == 0
    if good.any():  # LAPACK's values where it succeeds; the column by column ones elsewhere
        factor[good] = xp.linalg.cholesky(a[good])
    return factor, info


def _cholesky_columns(a):
    """The unblocked Cholesky (LAPACK's potf2), one column per step over the whole batch: the
    order at which each matrix fails, and its factor up to there (the failing diagonal entry
    holds the value that was not positive, later columns A's lower triangle), as LAPACK
    leaves it."""
    n = a.shape[-1]
    factor = xp.tril(a).copy()
    info = xp.zeros(a.shape[0], xp.int32)
    with xp.errstate(invalid="ignore", divide="ignore"):
        for column in range(n):
            done = factor[:, column, :column]
            pivot = a[:, column, column] - (done * done).sum(-1)
            failed = (info == 0) & ~(pivot > 0)  # (NaN is not positive either)
            info[failed] = column + 1
            going = info == 0
            root = xp.sqrt(xp.where(going, pivot, 1))
            factor[:, column, column] = xp.where(going, root, factor[:, column, column])
            factor[failed, column, column] = pivot[failed]
            below = (
                a[:, column + 1 :, column]
                - xp.matmul(factor[:, column + 1 :, :column], done[:, :, None])[..., 0]
            )
            factor[going, column + 1 :, column] = (below / root[:, None])[going]
    return factor, info


def _factor(name: str, input: Tensor, upper: bool, check_errors: bool):  # noqa: A002
    """The factor and info of ``input`` (checked), raising LinAlgError where asked."""
    tensor_argument(input, name.replace(".", "_"), "input", 1)
    check_square(name, input)
    check_floating(name, input, "cholesky_cpu")
    data = input._data
    read = mT(data) if upper else data  # U^T is the lower factor of A's upper triangle
    shape = data.shape
    if data.size == 0:
        factor, info = xp.zeros(shape, data.dtype), xp.zeros(shape[:-2], xp.int32)
    else:
        factor, info = _cholesky_lower(as_batch(read))
        factor, info = factor.reshape(shape), info.reshape(shape[:-2])
    if check_errors:
        raise_for_info(name, info)
    return (mT(factor).copy() if upper else factor), info


def raise_for_info(name: str, info) -> None:
    """PyTorch's LinAlgError for the first matrix whose factorization failed."""
    info = all_samples(info)  # (under vmap: every sample's)
    flat = info.reshape(-1)
    failed = xp.flatnonzero(flat)
    if failed.size:
        index = int(failed[0])
        prefix = batch_prefix(index if info.ndim else None)
        raise LinAlgError(
            f"{name}: {prefix}The factorization could not be completed because the input is "
            f"not positive-definite (the leading minor of order {int(flat[index])} is not "
            "positive-definite)."
        )


def _apply(node, input: Tensor, upper: bool, name: str, check_errors: bool):  # noqa: A002
    factor, info = _factor(name, input, upper, check_errors)
    node.upper = upper
    return record(node, (input,), (input._data,), factor, (factor,)), constant(info)


@with_out("linalg_cholesky_ex")
def cholesky(input, *, upper=False):  # noqa: A002 - PyTorch's name
    """``torch.linalg.cholesky(A, *, upper=False)``: L with ``A = L L^T`` (or U)."""
    node = LinalgCholeskyExBackward0()
    return _apply(node, input, bool(upper), "linalg.cholesky", True)[0]


@with_out("linalg_cholesky_ex")
def cholesky_ex(input, *, upper=False, check_errors=False):  # noqa: A002
    """``torch.linalg.cholesky_ex``: (L, info), info the failing order per matrix (0: none)."""
    node = LinalgCholeskyExBackward0()
    factor, info = _apply(node, input, bool(upper), "linalg.cholesky_ex", bool(check_errors))
    return return_types.linalg_cholesky_ex(factor, info)


CHOLESKY_WARNING = (
    "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
    "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = "
    "torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced "
    "with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for "
    "all valid (symmetric positive definite) inputs."
)


@with_out("cholesky")
def cholesky_legacy(input, upper=False):  # noqa: A002
    """``torch.cholesky(A, upper=False)``, deprecated in PyTorch (and warned about)."""
    warnings.warn(CHOLESKY_WARNING, UserWarning, stacklevel=2)
    return _apply(CholeskyBackward0(), input, bool(upper), "cholesky", True)[0]


# ------------------------------------------------------------------ solve and inverse
def _gram_tangent(factor, tangent, upper: bool):
    """dA of ``A = L L^T`` (``U^T U``) along dL (dU)."""
    if upper:
        return mT(tangent) @ factor + mT(factor) @ tangent
    return tangent @ mT(factor) + factor @ mT(tangent)


def _solve_factored(b, factor, upper: bool):
    """``(L L^T)^{-1} B`` (``(U^T U)^{-1} B``) by two triangular solves; on Tensors (a recorded
    VJP) cholesky_solve itself, whose derivative for L is PyTorch's (not projected on L's
    triangle), as PyTorch's double backward has it."""
    if type(b) is Tensor:
        return cholesky_solve(b, factor if type(factor) is Tensor else constant(factor), upper)
    lower = mT(factor) if upper else factor
    y = solve_triangular_any(lower, b, False, True, False)
    return solve_triangular_any(mT(lower), y, True, True, False)


class CholeskySolveBackward0(Op):
    """X with ``A X = B`` for ``A = L L^T`` given L (or ``U^T U`` given U); batches broadcast."""

    __slots__ = ("upper",)
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        b, factor, x = ctx.saved_tensors
        b_edge, factor_edge = ctx._next
        grad_b = _solve_factored(g, factor, ctx.upper)
        grad_factor = None
        if factor_edge is not None:
            common = grad_b @ mT(x)
            common = common + mT(common)
            grad_factor = -(factor @ common) if ctx.upper else -(common @ factor)
            grad_factor = reduce_to(grad_factor, factor.shape)
        return (reduce_to(grad_b, b.shape) if b_edge is not None else None), grad_factor

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        _, factor = primals
        tangent_b, tangent_factor = tangents
        rhs = tangent_b
        if tangent_factor is not None:
            share = _gram_tangent(factor, tangent_factor, ctx.upper) @ out
            rhs = -share if rhs is None else rhs - share
        return cholesky_solve(rhs, factor, ctx.upper)


@with_out("cholesky_solve")
def cholesky_solve(input, input2, upper=False):  # noqa: A002 - PyTorch's names
    """``torch.cholesky_solve(B, L, upper=False)``: ``A^{-1} B`` for ``A = L L^T``."""
    tensor_argument(input, "cholesky_solve", "input", 1)
    tensor_argument(input2, "cholesky_solve", "input2", 2)
    b_shape, factor_shape = input._data.shape, input2._data.shape
    if len(b_shape) < 2:
        raise RuntimeError(
            f"b should have at least 2 dimensions, but has {len(b_shape)} dimensions instead"
        )
    if len(factor_shape) < 2:
        raise RuntimeError(
            f"u should have at least 2 dimensions, but has {len(factor_shape)} dimensions instead"
        )
    check_square_plain(input2)
    if factor_shape[-1] != b_shape[-2]:
        n = factor_shape[-1]
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} but "
            f"each b matrix is {b_shape[-2]} by {b_shape[-1]}"
        )
    check_b_and_a_dtype(input, input2, "cholesky_solve_cpu")
    broadcast_batch(b_shape[:-2], factor_shape[:-2])
    node = CholeskySolveBackward0()
    node.upper = bool(upper)
    x = _solve_factored(input._data, input2._data, node.upper)
    return record(
        node, (input, input2), (input._data, input2._data), x, (input._data, input2._data, x)
    )


class CholeskyInverseBackward0(Op):
    """The inverse of ``A = L L^T`` given L (or ``U^T U`` given U)."""

    __slots__ = ("upper",)
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        factor, inverse = ctx.saved_tensors
        common = inverse @ ((g + mT(g)) @ inverse)
        return -(factor @ common) if ctx.upper else -(common @ factor)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (factor,), (tangent,) = primals, tangents
        return -(out @ _gram_tangent(factor, tangent, ctx.upper) @ out)


@with_out("cholesky_inverse")
def cholesky_inverse(input, upper=False):  # noqa: A002
    """``torch.cholesky_inverse(L, upper=False)``: ``(L L^T)^{-1}``."""
    name = "cholesky_inverse"
    tensor_argument(input, name, "input", 1)
    check_square(name, input)
    dtype = input._data.dtype
    if dtype.kind != "f" or dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"cholesky_inverse_out_cpu\" not implemented for '{SCALAR_TYPE_NAMES[str(dtype)]}'"
        )
    data = input._data
    node = CholeskyInverseBackward0()
    node.upper = bool(upper)
    identity = xp.broadcast_to(xp.eye(data.shape[-1], dtype=dtype), data.shape)
    inverse = _solve_factored(identity, data, node.upper)
    return record(node, (input,), (data,), inverse, (data, inverse))


def check_square_plain(a: Tensor) -> None:
    """PyTorch's square check without an op's name (the legacy solvers')."""
    rows, columns = a._data.shape[-2:]
    if rows != columns:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {rows} by {columns} matrices"
        )


def check_b_and_a_dtype(b: Tensor, a: Tensor, kernel: str) -> None:
    """The legacy solvers' dtype checks: the same dtype, one LAPACK has a kernel for."""
    b_dtype, a_dtype = b._data.dtype, a._data.dtype
    if b_dtype != a_dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type "
            f"{SCALAR_TYPE_NAMES[str(b_dtype)]} and A of type {SCALAR_TYPE_NAMES[str(a_dtype)]} "
            "instead."
        )
    if b_dtype.kind != "f" or b_dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{SCALAR_TYPE_NAMES[str(b_dtype)]}'"
        )


_CHOLESKY_RULE = Rule(
    "the Cholesky factor",
    "cholesky({x:0})",
    passes=("L^-T Phi(L^T g) L^-1, Phi the lower triangle with its diagonal halved",),
)

DECLARATIONS = [
    declare(
        "linalg_cholesky",
        cholesky,
        method=None,
        public=False,  # torch.linalg.cholesky (gradienti/linalg.py)
        explain={LinalgCholeskyExBackward0: _CHOLESKY_RULE},
    ),
    declare("linalg_cholesky_ex", cholesky_ex, method=None, public=False),
    declare("cholesky", cholesky_legacy, explain={CholeskyBackward0: _CHOLESKY_RULE}),
    declare(
        "cholesky_solve",
        cholesky_solve,
        explain={
            CholeskySolveBackward0: Rule(
                "solves A X = B with A = L L^T given L",
                "cholesky_solve({a:0}, {b:0})",
                passes=("A^-1 g", "-(C + C^T) L, C = (A^-1 g) X^T"),
            )
        },
    ),
    declare(
        "cholesky_inverse",
        cholesky_inverse,
        explain={
            CholeskyInverseBackward0: Rule(
                "the inverse of L L^T",
                "cholesky_inverse({x:0})",
                passes=("-X (g + g^T) X L, X the inverse",),
            )
        },
    ),
]
