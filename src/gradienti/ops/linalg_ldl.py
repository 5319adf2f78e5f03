"""``torch.linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve``: the Bunch-Kaufman
factorization ``P A P^T = L D L^T`` of a symmetric matrix (its lower triangle is read) and the
solve with it, as LAPACK's sytf2 / sytrs (uplo 'L') compute them, so that ``LD`` and the
pivots are PyTorch's: L unit lower triangular below the diagonal, D block diagonal (1x1 and
2x2 blocks) on and just below it; pivot k > 0 a 1x1 block with rows k and pivot swapped, a
pair of equal negative pivots a 2x2 block (1-based, as LAPACK's).

The factorization is sequential in its columns (each step picks the next pivot from the
updated trailing matrix); each step works on whole rows and columns. PyTorch records no
derivative for these (its grad_fn is NotImplemented); here they record none either.
"""

from __future__ import annotations

import functools
import math

from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.grad_mode import no_grad
from ..tensor import Tensor
from .apply import tensor_argument
from .call_forms import _out_result_type, _write, exact
from .declare import declare
from .extrema import _return_type
from .integer_division import NotImplementedNode
from .linalg_common import broadcast_batch, check_square, constant, record

_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0  # Bunch-Kaufman's threshold


def _with_out(function):
    """``out=`` as PyTorch takes it here: each result written into its out tensor (of the
    result's dtype exactly, resized if needed), the out tensors returned (a named tuple
    ``..._out`` for several). PyTorch's ops without a derivative take inputs that require
    grad with out= too: no graph is recorded into out here (PyTorch's NotImplemented node
    would only raise in backward)."""

    @functools.wraps(function)
    def call(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        with no_grad():
            result = function(*args, **kwargs)
        results = tuple(result) if isinstance(result, tuple) else (result,)
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(outs) != len(results) or not all(isinstance(t, Tensor) for t in outs):
            raise TypeError(
                f"{function.__name__}(): argument 'out' must be tuple of {len(results)} Tensors"
                if len(results) > 1
                else f"{function.__name__}(): argument 'out' must be Tensor"
            )
        for value, target in zip(results, outs):
            exact(function.__name__, value._data.dtype, target._data.dtype, ())
        for value, target in zip(results, outs):
            _write(value, target)
        return out if len(outs) == 1 else _out_result_type(type(result))(*outs)

    return call


linalg_ldl_factor = _return_type("linalg_ldl_factor", "LD pivots")
linalg_ldl_factor_ex = _return_type("linalg_ldl_factor_ex", "LD pivots info")


def _swap(matrix, first: int, second: int) -> None:
    """The symmetric interchange of rows and columns ``first`` and ``second``."""
    matrix[[first, second]] = matrix[[second, first]]
    matrix[:, [first, second]] = matrix[:, [second, first]]


def _pivot(a, k: int) -> tuple:
    """sytf2's choice at column k: (kp, kstep), or None for a zero column."""
    n = a.shape[0]
    absakk = abs(a[k, k])
    if k < n - 1:
        imax = k + 1 + int(xp.argmax(xp.abs(a[k + 1 :, k])))
        colmax = abs(a[imax, k])
    else:
        imax, colmax = k, 0.0
    if max(absakk, colmax) == 0 or xp.isnan(absakk):
        return None
    if absakk >= _ALPHA * colmax:
        return k, 1
    row = xp.abs(a[imax, k:])  # (the matrix is kept symmetric: row imax of the lower part)
    row[imax - k] = 0
    rowmax = row.max()
    if absakk >= _ALPHA * colmax * (colmax / rowmax):
        return k, 1
    if abs(a[imax, imax]) >= _ALPHA * rowmax:
        return imax, 1
    return imax, 2


def _factor_one(a) -> tuple:
    """(LD, pivots, info) of one symmetric matrix ``a`` (a copy, full: updated in place)."""
    n = a.shape[0]
    pivots = xp.zeros(n, xp.int32)
    info = 0
    k = 0
    while k < n:
        choice = _pivot(a, k)
        if choice is None:  # a zero column: D singular; LAPACK goes on
            info = info or k + 1
            pivots[k] = k + 1
            k += 1
            continue
        kp, kstep = choice
        kk = k + kstep - 1
        if kp != kk:
            _swap(a[k:, k:], kk - k, kp - k)
        rest = slice(k + kstep, n)
        if kstep == 1:
            column, d11 = a[rest, k].copy(), 1.0 / a[k, k]
            a[rest, rest] -= xp.outer(column, d11 * column)  # (syr's rounding)
            a[rest, k] = column * d11
            pivots[k] = kp + 1
        else:
            d21 = a[k + 1, k]
            d11 = a[k + 1, k + 1] / d21
            d22 = a[k, k] / d21
            d21 = (1.0 / (d11 * d22 - 1.0)) / d21
            first, second = a[rest, k].copy(), a[rest, k + 1].copy()
            wk = d21 * (d11 * first - second)
            wkp1 = d21 * (d22 * second - first)
            a[rest, rest] -= xp.outer(first, wk)
            a[rest, rest] -= xp.outer(second, wkp1)
            a[rest, k], a[rest, k + 1] = wk, wkp1
            pivots[k] = pivots[k + 1] = -(kp + 1)
        # the lower triangle is the factorization's; its mirror keeps the rows readable
        trailing = a[k:, k:]
        trailing[...] = xp.tril(trailing) + xp.tril(trailing, -1).T
        k += kstep
    return xp.tril(a), pivots, info


def _factor_array(a) -> tuple:
    batch, n = a.shape[:-2], a.shape[-1]
    if a.size == 0:
        return (
            xp.zeros(a.shape, a.dtype),
            xp.zeros(a.shape[:-1], xp.int32),
            xp.zeros(batch, xp.int32),
        )
    flat = a.reshape(-1, n, n)
    lds, pivots, infos = xp.empty_like(flat), xp.empty(flat.shape[:-1], xp.int32), []
    for index, matrix in enumerate(flat):
        lower = xp.tril(matrix)
        full = lower + xp.tril(matrix, -1).T  # the symmetric matrix of A's lower triangle
        lds[index], pivots[index], info = _factor_one(full)
        infos.append(info)
    info_array = xp.asarray(infos, xp.int32).reshape(batch)
    return lds.reshape(a.shape), pivots.reshape(a.shape[:-1]), info_array


def _factor(name: str, A, check_errors: bool) -> tuple:  # noqa: N803
    """The checks (named ldl_factor_ex's, as ldl_factor calls it) and the factorization;
    ``name`` in the error of a failed one."""
    tensor_argument(A, name.replace("torch.", "").replace(".", "_"), "A", 1)
    check_square("torch.linalg.ldl_factor_ex", A)
    data = A._data
    if data.dtype.kind != "f":
        raise RuntimeError(
            "torch.linalg.ldl_factor_ex: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_TYPE_NAMES[str(data.dtype)]}"
        )
    if data.dtype == xp.float16:
        raise NotImplementedError("\"ldl_factor_kernel_cpu\" not implemented for 'Half'")
    ld, pivots, info = _factor_array(data)
    if check_errors and (info > 0).any():  # (PyTorch's own text: an internal assert)
        raise RuntimeError(
            f'false INTERNAL ASSERT FAILED at "/__w/pytorch/pytorch/aten/src/ATen/native/'
            f'BatchLinearAlgebra.cpp":1642, please report a bug to PyTorch. {name}: Unknown '
            f"error code: {int(info[info > 0].flat[0])}."
        )
    return _not_differentiable("linalg_ldl_factor_ex", (A,), ld), constant(pivots), constant(info)


def _not_differentiable(aten_name: str, inputs: tuple, result):
    """``result`` recorded by PyTorch's NotImplemented node when an input requires grad."""
    node = NotImplementedNode()
    node.aten_name = aten_name
    return record(node, inputs, tuple(x._data for x in inputs), result, ())


@_with_out
def ldl_factor_ex(A, *, hermitian=False, check_errors=False):  # noqa: N803
    """``torch.linalg.ldl_factor_ex(A, *, hermitian=False, check_errors=False)``: (LD, pivots,
    info), info the first zero column of D per matrix (hermitian: the same for real A)."""
    ld, pivots, info = _factor("torch.linalg.ldl_factor_ex", A, bool(check_errors))
    return linalg_ldl_factor_ex(ld, pivots, info)


@_with_out
def ldl_factor(A, *, hermitian=False):  # noqa: N803
    """``torch.linalg.ldl_factor(A, *, hermitian=False)``: (LD, pivots)."""
    ld, pivots, _ = _factor("torch.linalg.ldl_factor", A, True)
    return linalg_ldl_factor(ld, pivots)


# ------------------------------------------------------------------ solve
def _solve_one(ld, pivots, b):
    """sytrs (uplo 'L'): X with ``A X = B`` from A's LD and pivots; b (n, k) is overwritten."""
    n = ld.shape[0]
    k = 0
    while k < n:  # L D Y = B
        if pivots[k] > 0:
            kp = pivots[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            b[k + 1 :] -= xp.outer(ld[k + 1 :, k], b[k])
            b[k] *= 1.0 / ld[k, k]
            k += 1
        else:
            kp = -pivots[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2 :] -= xp.outer(ld[k + 2 :, k], b[k]) + xp.outer(ld[k + 2 :, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1, ak = ld[k, k] / akm1k, ld[k + 1, k + 1] / akm1k
            denominator = akm1 * ak - 1.0
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denominator, (akm1 * bk - bkm1) / denominator
            k += 2
    k = n - 1
    while k >= 0:  # L^T X = Y
        if pivots[k] > 0:
            b[k] -= ld[k + 1 :, k] @ b[k + 1 :]
            kp = pivots[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            b[k] -= ld[k + 1 :, k] @ b[k + 1 :]
            b[k - 1] -= ld[k + 1 :, k - 1] @ b[k + 1 :]
            kp = -pivots[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


@_with_out
def ldl_solve(LD, pivots, B, *, hermitian=False):  # noqa: N803
    """``torch.linalg.ldl_solve(LD, pivots, B, *, hermitian=False)``: X with ``A X = B``, A's
    factorization from ``ldl_factor``; B's batch broadcasts with LD's."""
    name = "torch.linalg.ldl_solve"
    tensor_argument(LD, "linalg_ldl_solve", "LD", 1)
    tensor_argument(pivots, "linalg_ldl_solve", "pivots", 2)
    tensor_argument(B, "linalg_ldl_solve", "B", 3)
    ld, piv, b = LD._data, pivots._data, B._data
    if ld.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if b.ndim < 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(b.ndim, 1)}, "
            f"{max(b.ndim, 1) - 1}], but got -2)"
        )
    if piv.shape != ld.shape[:-1]:
        raise RuntimeError(
            f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
            f"with shape {list(piv.shape)} instead"
        )
    if piv.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: Expected pivots to be integers. Got {SCALAR_TYPE_NAMES[str(piv.dtype)]}"
        )
    n = ld.shape[-1]
    if b.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b "
            f"matrix is {b.shape[-2]} by {b.shape[-1]}"
        )
    if b.dtype != ld.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type "
            f"{SCALAR_TYPE_NAMES[str(b.dtype)]} and A of type {SCALAR_TYPE_NAMES[str(ld.dtype)]}"
            " instead."
        )
    batch = broadcast_batch(b.shape[:-2], ld.shape[:-2])
    lds = xp.broadcast_to(ld, batch + ld.shape[-2:]).reshape(-1, n, n)
    pivs = xp.broadcast_to(piv, batch + piv.shape[-1:]).reshape(-1, n)
    result = xp.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:]).copy()
    for index in range(result.shape[0]):
        _solve_one(lds[index], pivs[index], result[index])
    return _not_differentiable("linalg_ldl_solve", (LD, B), result.reshape(batch + b.shape[-2:]))


DECLARATIONS = [
    declare("linalg_ldl_factor", ldl_factor, method=None, public=False),
    declare("linalg_ldl_factor_ex", ldl_factor_ex, method=None, public=False),
    declare("linalg_ldl_solve", ldl_solve, method=None, public=False),
]
