"""The compositions of ``torch.linalg``: ``matmul``, ``diagonal``, ``vecdot``, ``matrix_rank``,
``cond``, ``tensorinv``, ``tensorsolve`` and ``vander``.

Each is ATen's composition (LinearAlgebra.cpp, BatchLinearAlgebra.cpp) of existing ops, step
for step, so the recorded graph and its gradients are PyTorch's:

- ``vecdot(x, y, dim)`` is ``(x * y).sum(dim)`` (x conjugated, a no-op for real dtypes);
- ``cond`` with p None/2/-2 is ``s_max / s_min`` of the singular values (``narrow``s of
  ``svdvals``); 'nuc' is ``sum(s) * sum(1 / s)``; 'fro', 1, -1, inf and -inf are
  ``matrix_norm(A) * matrix_norm(inv(A))``, inv(A) filled with inf where A is singular and
  ``0 * inf`` taken as inf;
- ``tensorinv(A, ind)`` the inverse of A as a (prod(shape[ind:]), prod(shape[:ind])) matrix,
  reshaped to ``shape[ind:] + shape[:ind]``; ``tensorsolve(A, B, dims)`` ``linalg.solve`` of
  A as a matrix (``dims`` moved last) and B flattened;
- ``vander(x, N)`` the columns ``x^0 .. x^(N-1)``: ones, then the cumulative product of x
  repeated N - 1 times;
- ``matrix_rank`` counts the singular values (absolute eigenvalues when hermitian) above
  ``max(atol, rtol * largest)``; an integer result, without a graph.
"""

from __future__ import annotations

import math
import numbers

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.grad_mode import grad_state, no_grad
from ..tensor import Tensor
from .apply import binary, tensor_argument, unary
from .call_forms import _write
from .declare import declare
from .explain_rule import Rule
from .join import cat
from .linalg import ReshapeAliasBackward0
from .linalg import _reshape as strided_reshape  # a view, alias or copy as ATen's reshape
from .linalg_matrix import constant
from .linalg_norms import matrix_norm
from .linalg_solve import _inverse as checked_inverse
from .linalg_solve import inv_ex, solve
from .linalg_spectral import linalg_eigvalsh as eigvalsh
from .linalg_spectral import linalg_svdvals
from .products import DotBackward0
from .saved_names import SavedNames, needed

_INF = float("inf")


def _type_name(dtype) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(xp.dtype(dtype)).name]


def _copied_into(out: Tensor, result: Tensor) -> Tensor:
    """``out=`` of a composite function as ATen's ``*_out`` wrappers write it: ``out`` resized
    to the result's shape (with PyTorch's warning unless it was empty), then a recorded
    ``copy_`` (CopyBackwards), converting to out's dtype."""
    if out._data.shape != result._data.shape:
        _write(result.detach().to(out.dtype), out)
    return out.copy_(result)


def _number_text(value) -> str:
    """A Scalar as c10 prints it in an error: 3, 0.5, inf."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


# ------------------------------------------------------------------ diagonal
def linalg_diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):  # noqa: N803
    """``torch.linalg.diagonal(A, *, offset=0, dim1=-2, dim2=-1)``: ``A.diagonal``."""
    tensor_argument(A, "linalg_diagonal", "A", 1)
    return A.diagonal(offset, dim1, dim2)


# ------------------------------------------------------------------ vecdot
def _check_vecdot(x, y) -> None:
    tensor_argument(x, "linalg_vecdot", "x", 1)
    tensor_argument(y, "linalg_vecdot", "y", 2)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vecdot: Expected a floating point or complex tensor as input. Got "
            f"{_type_name(x._data.dtype)}"
        )
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{_type_name(x._data.dtype)} and y of type {_type_name(y._data.dtype)} instead"
        )


class VdotBackward0(DotBackward0):
    """``vdot(x, y)``, the conjugate of x dotted with y: for real vectors ``dot``."""

    __slots__ = ()
    saved_names = SavedNames(self=needed(0, by=1), other=needed(1, by=0))


def _vdot(x, y):
    """ATen's ``vdot`` of two real vectors, recorded as VdotBackward0 (dot's checks)."""
    if x._data.shape[0] != y._data.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x._data.shape[0]}] and src "
            f"[{y._data.shape[0]}] to have the same number of elements, but got "
            f"{x._data.shape[0]} and {y._data.shape[0]} elements respectively"
        )
    return binary(VdotBackward0(), x, y)


def linalg_vecdot(x, y, *, dim: int = -1, out=None):
    """``torch.linalg.vecdot(x, y, *, dim=-1)``: the dot product of the vectors along ``dim``
    (x and y broadcast), ``(x * y).sum(dim)``; two vectors (1-D) are ATen's ``vdot``, which
    ignores ``dim``."""
    _check_vecdot(x, y)
    vectors = x._data.ndim == 1 and y._data.ndim == 1
    if out is None:
        return _vdot(x, y) if vectors else (x * y).sum(dim)
    if not isinstance(out, Tensor):
        raise TypeError(f"linalg_vecdot(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected out of dtype{_type_name(x._data.dtype)} but found "
            f"{_type_name(out._data.dtype)}"
        )
    if grad_state.enabled and (x.requires_grad or y.requires_grad or out.requires_grad):
        raise RuntimeError(  # (the ATen function that writes out: vdot, or sum of x * y)
            f"{'vdot' if vectors else 'sum'}(): functions with out=... arguments don't support "
            "automatic differentiation, but one of the arguments requires grad."
        )
    _write(_vdot(x, y) if vectors else (x * y).sum(dim), out)
    return out


# ------------------------------------------------------------------ matrix_rank
_MATRIX_RANK = "torch.linalg.matrix_rank"


def _tolerance(value, name: str):
    """atol or rtol as an array (a Tensor's data, a number in float64, as ATen's)."""
    if isinstance(value, Tensor):
        if value._data.dtype.kind == "c":
            raise RuntimeError(
                f"{_MATRIX_RANK}: {name} tensor of complex type is not supported. Got "
                f"{_type_name(value._data.dtype)}"
            )
        return value._data
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "linalg_matrix_rank() received an invalid combination of arguments - got "
            f"({name}={type(value).__name__})"
        )
    return xp.asarray(float(value), dtype=xp.float64)


def _default_rtol(A, atol):
    """``rtol = eps * max(m, n)``, or 0 where atol > 0 (ATen's ``get_atol_rtol``)."""
    dtype = A._data.dtype
    if dtype not in (xp.float32, xp.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    rtol = xp.asarray(xp.finfo(dtype).eps * max(A._data.shape[-2:]), dtype=xp.float64)
    if atol is None:
        return rtol
    return xp.where(atol > 0, xp.zeros((), xp.float64), rtol)


def _check_rank_out(out) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(
            f"linalg_matrix_rank(): argument 'out' must be Tensor, not {type(out).__name__}"
        )
    if out._data.dtype == xp.bool_:
        raise RuntimeError(
            f"{_MATRIX_RANK}: Expected result to be safely castable from Long dtype, but got "
            "result with dtype Bool"
        )


def linalg_matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None, out=None):  # noqa: N803
    """``torch.linalg.matrix_rank(A, *, atol=None, rtol=None, hermitian=False)``: the number of
    singular values (absolute eigenvalues when ``hermitian``: A's lower triangle is read)
    above ``max(atol, rtol * the largest)``; rtol defaults to ``eps * max(m, n)`` unless
    atol > 0. Also NumPy's form ``matrix_rank(A, tol, hermitian=False)``: atol=tol, rtol=0."""
    tensor_argument(A, "linalg_matrix_rank", "input", 1)
    if tol is not None and (atol is not None or rtol is not None):
        raise TypeError(
            "linalg_matrix_rank() received an invalid combination of arguments - got "
            "(Tensor, tol=..., atol=..., rtol=...): tol is NumPy's form, atol/rtol the other"
        )
    if A._data.ndim < 2:
        raise RuntimeError(
            f"{_MATRIX_RANK}: The input tensor input must have at least 2 dimensions."
        )
    if out is not None:
        _check_rank_out(out)
    if tol is not None:  # NumPy's form: no default rtol
        atol_array = _tolerance(tol, "tol")
        rtol_array = xp.zeros((), atol_array.dtype if isinstance(tol, Tensor) else xp.float64)
    else:
        atol_array = None if atol is None else _tolerance(atol, "atol")
        rtol_array = _default_rtol(A, atol_array) if rtol is None else _tolerance(rtol, "rtol")
        if atol_array is None:
            atol_array = xp.zeros((), xp.float64)
    rank = _rank_array(A, atol_array, rtol_array, bool(hermitian))
    if out is None:
        return constant(rank)
    _write(constant(rank), out)
    return out


def _rank_array(A, atol, rtol, hermitian: bool):  # noqa: N803
    data = A._data
    if data.size == 0:  # no nonzero rows: rank 0 (NumPy would fail on the max of nothing)
        return xp.zeros(data.shape[:-2], xp.int64)
    with no_grad():  # (with their checks and errors: a floating, not half, matrix)
        if hermitian:
            values = xp.abs(eigvalsh(A.detach())._data)
            largest = values.max(-1, keepdims=True)
        else:
            values = linalg_svdvals(A.detach())._data
            largest = values[..., :1]  # (in descending order)
    # (unsqueezed, atol and rtol promote with the values as ATen's max(atol, rtol * largest))
    threshold = xp.maximum(atol[..., None], rtol[..., None] * largest)
    return (values > threshold).sum(-1).astype(xp.int64)


# ------------------------------------------------------------------ cond
def _check_cond_order(p):
    """None (2), 1, -1, 2, -2, inf, -inf, 'fro' or 'nuc', else PyTorch's error."""
    if isinstance(p, str):
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
        return p
    if p is None:
        return 2
    if isinstance(p, Tensor) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"linalg_cond(): argument 'p' must be Number or str, not {type(p).__name__}"
        )
    if abs(float(p)) not in (1.0, 2.0, _INF):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_number_text(p)}")
    return p


def _order_text(p) -> str:
    """The ord as ATen's message prints it: a float with six decimals (std::to_string),
    an int as it is, inf as inf."""
    if isinstance(p, str):
        return p
    if isinstance(p, float) and math.isinf(p):
        return "inf" if p > 0 else "-inf"
    return f"{p:f}" if isinstance(p, float) else str(int(p))


def _check_square_for(p, A) -> None:  # noqa: N803
    name = f"linalg.cond(ord={_order_text(p)})"
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    rows, columns = A._data.shape[-2:]
    if rows != columns:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {rows} by {columns} "
            "matrices"
        )


def linalg_cond(A, p=None, *, out=None):  # noqa: N803 - PyTorch's name
    """``torch.linalg.cond(A, p=None)``: the condition number of (a batch of) matrices."""
    tensor_argument(A, "linalg_cond", "A", 1)
    if isinstance(p, str):
        _check_square_for(p, A)
        p = _check_cond_order(p)
    else:
        if A._data.ndim < 2:
            raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
        p = _check_cond_order(p)
    result = _condition_number(A, p)
    return result if out is None else _copied_into(out, result)


def _condition_number(A, p):  # noqa: N803
    data = A._data
    if data.size == 0:  # NumPy leaves 0x0 matrices undefined; PyTorch's condition number is 0
        return constant(xp.zeros(data.shape[:-2], data.dtype))
    if p == "nuc":  # (by its definition: matrix_norm's 'nuc' fails on the inverse's inf)
        singular_values = linalg_svdvals(A)
        return singular_values.sum(-1) * singular_values.reciprocal().sum(-1)
    if not isinstance(p, str) and abs(float(p)) == 2.0:
        singular_values = linalg_svdvals(A)  # in descending order
        largest = singular_values.narrow(-1, 0, 1)
        smallest = singular_values.narrow(-1, -1, 1)
        ratio = smallest / largest if float(p) == -2.0 else largest / smallest
        return ratio.squeeze(-1)
    if not isinstance(p, str):
        _check_square_for(p, A)
    inverse, info = inv_ex(A)
    info = info.unsqueeze(-1).unsqueeze(-1)
    inverse.masked_fill_(info > 0, _INF)  # a singular matrix: an infinite condition number
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    return result.nan_to_num_(_INF, _INF, -_INF)  # 0 * inf (a zero matrix) is inf, as NumPy's


# ------------------------------------------------------------------ tensorinv, tensorsolve
def linalg_tensorinv(A, ind: int = 2, *, out=None):  # noqa: N803 - PyTorch's name
    """``torch.linalg.tensorinv(A, ind=2)``: X with ``tensordot(X, A, ind) = I``: the inverse
    of A as a matrix of its first ``ind`` dims by the rest, reshaped to
    ``A.shape[ind:] + A.shape[:ind]``."""
    tensor_argument(A, "linalg_tensorinv", "input", 1)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A._data.shape)
    rows, columns = math.prod(shape[ind:]), math.prod(shape[:ind])
    if rows != columns:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {rows} != {columns}"
        )
    # linalg.inv_ex, its errors raised naming "inv" (ATen's _linalg_check_errors)
    inverse = checked_inverse("linalg.inv", A.reshape(rows, rows), True, "inv")[0]
    result_shape = shape[ind:] + shape[:ind]
    if rows > 1:  # LAPACK's inverse is column-major: ATen's reshape is an alias of it
        node = ReshapeAliasBackward0()
        node.shape = result_shape
        result = unary(node, inverse)
    else:
        result = inverse.reshape(result_shape)
    return result if out is None else _copied_into(out, result)


def linalg_tensorsolve(A, B, dims=None, *, out=None):  # noqa: N803 - PyTorch's names
    """``torch.linalg.tensorsolve(A, B, dims=None)``: X with ``tensordot(A, X, X.ndim) = B``;
    ``dims``, when given, are A's dims moved last first."""
    tensor_argument(A, "linalg_tensorsolve", "A", 1)
    tensor_argument(B, "linalg_tensorsolve", "B", 2)
    ndim = A._data.ndim
    if dims is not None:
        if not isinstance(dims, (tuple, list)) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in dims
        ):
            raise TypeError(
                "linalg_tensorsolve(): argument 'dims' must be tuple of ints, not "
                f"{type(dims).__name__}"
            )
        moved = list(dims)
        A = A.movedim(moved, list(range(ndim - len(moved), ndim)))
    result_shape = tuple(A._data.shape[B._data.ndim :])
    result_size, b_size = math.prod(result_shape), B._data.size
    if result_size != b_size:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {result_size} != {b_size}"
        )
    matrix = strided_reshape(A, (result_size, result_size))
    result = solve(matrix, B.flatten()).reshape(result_shape)
    return result if out is None else _copied_into(out, result)


# ------------------------------------------------------------------ vander
def linalg_vander(x, N=None):  # noqa: N803 - PyTorch's name
    """``torch.linalg.vander(x, N=None)``: the columns ``x^0, x^1, ..., x^(N-1)`` (N the
    size of x's last dim by default)."""
    tensor_argument(x, "linalg_vander", "x", 1)
    dtype = x._data.dtype
    if not (dtype in (xp.float32, xp.float64) or dtype.kind in "iu"):
        raise RuntimeError(
            "linalg.vander supports floating point, complex, and integer tensors, but got "
            f"{_type_name(dtype)}"
        )
    x = x.unsqueeze(-1) if x._data.ndim == 0 else x
    shape = list(x._data.shape)
    n = shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x.unsqueeze(-1).expand(*shape, n - 1).cumprod(-1)  # x^1 .. x^(N-1)
    ones = powers.new_ones((*shape, 1))
    return cat([ones, powers], -1)


DECLARATIONS = [
    declare("linalg_diagonal", linalg_diagonal, method=None, public=False),
    declare(
        "linalg_vecdot",
        linalg_vecdot,
        method=None,
        public=False,
        explain={
            VdotBackward0: Rule(
                "dot product", "vdot({a:0}, {b:0})", passes=("gradient·b", "gradient·a")
            )
        },
    ),
    declare("linalg_matrix_rank", linalg_matrix_rank, method=None, public=False),
    declare("linalg_cond", linalg_cond, method=None, public=False),
    declare("linalg_tensorinv", linalg_tensorinv, method=None, public=False),
    declare("linalg_tensorsolve", linalg_tensorsolve, method=None, public=False),
    declare("linalg_vander", linalg_vander, method=None, public=False),
]
