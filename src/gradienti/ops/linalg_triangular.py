"""Triangular solves: ``torch.linalg.solve_triangular`` and the legacy
``torch.triangular_solve``, their nodes, VJPs and JVPs.

``solve_triangular(A, B, upper=, left=True, unitriangular=)`` is X with ``A X = B`` (``left``)
or ``X A = B``, reading only A's triangle (its diagonal taken as ones when unitriangular).
VJP (PyTorch's ``linalg_solve_triangular_backward``): ``gB = A^{-T} g`` (``g A^{-T}`` on the
right), ``gA = -gB X^T`` (``-X^T gB``) projected on the triangle A was read from.
JVP: ``dX = A^{-1} (dB - dA' X)`` (``(dB - X dA') A^{-1}``), dA' the read triangle of dA.
"""

from __future__ import annotations

import warnings

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .extrema import return_types
from .linalg_common import (
    beside,
    broadcast_batch,
    check_at_least_matrix,
    check_square,
    mT,
    record,
    reduce_to,
    solve_triangular_array,
    tril,
    triu,
    with_out,
)


def _project(x, upper: bool, unitriangular: bool):
    """The triangle of ``x`` that a triangular solve reads (without the diagonal if unit)."""
    if upper:
        return triu(x, 1 if unitriangular else 0)
    return tril(x, -1 if unitriangular else 0)


class LinalgSolveTriangularBackward0(Op):
    """X with ``A X = B`` or ``X A = B``, A triangular; batches of A and B broadcast."""

    __slots__ = ("upper", "left", "unitriangular")
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        a, b, x = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        upper, left, unit = ctx.upper, ctx.left, ctx.unitriangular
        grad_b = solve_triangular_any(mT(a), g, not upper, left, unit)
        grad_a = None
        if a_edge is not None:
            grad_a = -(grad_b @ mT(x)) if left else -(mT(x) @ grad_b)
            grad_a = reduce_to(_project(grad_a, upper, unit), a.shape)
        if b_edge is None:
            return grad_a, None
        return grad_a, reduce_to(grad_b, b.shape)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        a, _ = primals
        tangent_a, tangent_b = tangents
        upper, left, unit = ctx.upper, ctx.left, ctx.unitriangular
        rhs = tangent_b
        if tangent_a is not None:
            projected = _project(tangent_a, upper, unit)
            share = projected @ out if left else out @ projected
            rhs = -share if rhs is None else rhs - share
        return solve_triangular(a, rhs, upper=upper, left=left, unitriangular=unit)


def solve_triangular_any(a, b, upper: bool, left: bool, unitriangular: bool):
    """The solve on arrays, or recorded on Tensors (a VJP run with create_graph=True)."""
    if type(b) is Tensor:
        return solve_triangular(a, b, upper=upper, left=left, unitriangular=unitriangular)
    return solve_triangular_array(a, b, upper, left, unitriangular)


def _check_triangular(name: str, a: Tensor, b: Tensor, left: bool) -> None:
    check_square(name, a)
    check_at_least_matrix(name, b, "B")
    n = a._data.shape[-1]
    rows, columns = b._data.shape[-2:]
    if (rows if left else columns) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {equation} "
            f"({n}x{n} and {rows}x{columns})"
        )
    broadcast_batch(b._data.shape[:-2], a._data.shape[:-2])  # (PyTorch's order: B, A)


def _as_dtype_of(a: Tensor, b: Tensor, kernel: str):
    """B in A's dtype (a recorded cast where it changes), as PyTorch's solve_triangular
    computes; LAPACK's trsm has only float32/float64: PyTorch's CPU kernel refuses others."""
    dtype = a._data.dtype
    if dtype.kind != "f" or dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{SCALAR_TYPE_NAMES[str(dtype)]}'"
        )
    return b if b._data.dtype == dtype else b.to(from_numpy_dtype(dtype))


_REQUIRED = object()  # (upper has no default: PyTorch's parser says so)


@with_out("linalg_solve_triangular")
def solve_triangular(input, B, *, upper=_REQUIRED, left=True, unitriangular=False):  # noqa: A002
    """``torch.linalg.solve_triangular(A, B, *, upper, left=True, unitriangular=False)``."""
    name = "linalg.solve_triangular"
    if upper is _REQUIRED:
        raise TypeError(
            'linalg_solve_triangular() missing 1 required positional arguments: "upper"'
        )
    tensor_argument(input, "linalg_solve_triangular", "input", 1)
    tensor_argument(B, "linalg_solve_triangular", "B", 2)
    _check_triangular(name, input, B, bool(left))
    a, b = input, _as_dtype_of(input, B, "triangular_solve_cpu")
    node = LinalgSolveTriangularBackward0()
    node.upper, node.left, node.unitriangular = bool(upper), bool(left), bool(unitriangular)
    x = solve_triangular_array(a._data, b._data, node.upper, node.left, node.unitriangular)
    return record(node, (a, b), (a._data, b._data), x, (a._data, b._data, x))


# ------------------------------------------------------------------ legacy triangular_solve
TRIANGULAR_SOLVE_WARNING = (
    "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be "
    "removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments "
    "reversed and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, "
    "A).solution\nshould be replaced with\nX = torch.linalg.solve_triangular(A, B)."
)


def _legacy_solve(b, a, upper: bool, transpose: bool, unitriangular: bool):
    """X with ``op(A) X = b``, op(A) = A^T when ``transpose``; on arrays or Tensors."""
    if transpose:
        return solve_triangular_any(mT(a), b, not upper, True, unitriangular)
    return solve_triangular_any(a, b, upper, True, unitriangular)


class TriangularSolveBackward0(Op):
    """(solution, cloned_coefficient) of ``op(A) X = b``; the second output is a copy of A."""

    __slots__ = ("upper", "transpose", "unitriangular", "num_outputs", "output_meta")
    save = SAVE_INPUTS

    @staticmethod
    def backward(ctx, grad_solution, grad_coefficient):
        b, a = ctx.saved_tensors
        grad_solution, grad_coefficient = beside(grad_solution, a), beside(grad_coefficient, a)
        upper, transpose, unit = ctx.upper, ctx.transpose, ctx.unitriangular
        # (recomputed: a recorded backward solves again, so double backward sees X(A, b))
        x = _legacy_solve(b, a, upper, transpose, unit)
        grad_b = _legacy_solve(grad_solution, a, upper, not transpose, unit)
        grad_a = -(x @ mT(grad_b)) if transpose else -(grad_b @ mT(x))
        grad_a = _project(grad_a, upper, unit) + grad_coefficient
        return reduce_to(grad_b, b.shape), reduce_to(grad_a, a.shape)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        _, a = primals
        tangent_b, tangent_a = tangents
        solution = out[0]
        upper, transpose, unit = ctx.upper, ctx.transpose, ctx.unitriangular
        rhs = tangent_b
        if tangent_a is not None:
            projected = _project(tangent_a, upper, unit)
            share = (mT(projected) if transpose else projected) @ solution
            rhs = -share if rhs is None else rhs - share
        return _legacy_solve(rhs, a, upper, transpose, unit), tangent_a


@with_out("triangular_solve")
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):  # noqa: A002, N803
    """``torch.triangular_solve(b, A, upper=True, transpose=False, unitriangular=False)``:
    (solution, cloned_coefficient), deprecated in PyTorch (and warned about)."""
    tensor_argument(input, "triangular_solve", "input", 1)
    tensor_argument(A, "triangular_solve", "A", 2)
    b_shape, a_shape = input._data.shape, A._data.shape
    if len(b_shape) < 2:
        raise RuntimeError(
            "torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
            f"{len(b_shape)} dimensions instead"
        )
    check_at_least_matrix("torch.triangular_solve", A)
    rows, columns = a_shape[-2:]
    if rows != columns:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {rows} by {columns} matrices"
        )
    if b_shape[-2] != rows:
        raise RuntimeError(
            f"Incompatible matrix sizes for triangular_solve: each A matrix is {rows} by {rows} "
            f"but each b matrix is {b_shape[-2]} by {b_shape[-1]}"
        )
    b_dtype, a_dtype = input._data.dtype, A._data.dtype
    if b_dtype != a_dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type "
            f"{SCALAR_TYPE_NAMES[str(b_dtype)]} and A of type {SCALAR_TYPE_NAMES[str(a_dtype)]} "
            "instead."
        )
    _as_dtype_of(A, input, "triangular_solve_cpu")
    broadcast_batch(b_shape[:-2], a_shape[:-2])
    warnings.warn(TRIANGULAR_SOLVE_WARNING, UserWarning, stacklevel=2)
    node = TriangularSolveBackward0()
    node.upper, node.transpose = bool(upper), bool(transpose)
    node.unitriangular = bool(unitriangular)
    b, a = input._data, A._data
    x = _legacy_solve(b, a, node.upper, node.transpose, node.unitriangular)
    batch = broadcast_batch(b_shape[:-2], a_shape[:-2])
    coefficient = xp.array(xp.broadcast_to(a, batch + a_shape[-2:]))
    solution, coefficient = record(node, (input, A), (b, a), (x, coefficient), (b, a))
    return return_types.triangular_solve(solution, coefficient)


DECLARATIONS = [
    declare(
        "linalg_solve_triangular",
        solve_triangular,
        method=None,
        public=False,  # torch.linalg.solve_triangular (gradienti/linalg.py)
        explain={
            LinalgSolveTriangularBackward0: Rule(
                "solves the triangular system A X = B",
                "solve_triangular({a:0}, {b:0})",
                passes=("-(A^-T g) X^T, on A's triangle", "A^-T g"),
            )
        },
    ),
    declare(
        "triangular_solve",
        triangular_solve,
        explain={
            TriangularSolveBackward0: Rule(
                "solves the triangular system A X = b (and copies A)",
                "triangular_solve({a:0}, {b:0})",
                passes=("A^-T g", "-(A^-T g) X^T on A's triangle, plus the copy's gradient"),
            )
        },
    ),
]
