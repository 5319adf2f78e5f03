"""Inverses and general solves: ``torch.linalg.inv``, ``inv_ex``, ``torch.inverse``,
``linalg.solve`` (``left=``) and ``solve_ex``; their nodes, VJPs and JVPs.

Inverse, X = A^{-1}: VJP ``gA = -X^T g X^T``, JVP ``dX = -X dA X``.
Solve, ``A X = B`` (``left``) or ``X A = B``: VJP ``gB = A^{-T} g`` (``g A^{-T}``),
``gA = -gB X^T`` (``-X^T gB``); JVP ``dX = A^{-1} (dB - dA X)`` (``(dB - X dA) A^{-1}``).
A B of one dimension fewer than A whose shape is A's batch and rows (or a 1-d B) is a (batch of)
vector(s), as in PyTorch.

The forward is NumPy's (LAPACK's gesv); a singular matrix goes to the LU of ops/linalg_lu.py,
which tells the first zero pivot (PyTorch's error) and gives the inf/NaN results that PyTorch's
``*_ex`` functions return.
"""

from __future__ import annotations

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
    check_at_least_matrix,
    check_same_dtype,
    check_square,
    constant,
    mT,
    record,
    reduce_to,
    with_out,
)
from .linalg_errors import LinAlgError, batch_prefix
from .linalg_lu import lu_array, lu_solve_array


def check_linalg_float(name: str, x: Tensor, argument: str = "input") -> None:
    """float32/float64, with the texts of PyTorch's inv/solve/slogdet checks."""
    dtype = x._data.dtype
    if dtype.kind in "biu":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as {argument}. Got "
            f"{SCALAR_TYPE_NAMES[str(dtype)]}"
        )
    if dtype == xp.float16:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")


def _first_failure(info):
    """(batch index or None for one matrix, the info code) of the first failed matrix."""
    info = all_samples(info)
    flat = info.reshape(-1)
    failed = xp.flatnonzero(flat)
    if not failed.size:
        return None
    index = int(failed[0])
    return (index if info.ndim else None), int(flat[index])


# ------------------------------------------------------------------ kernels (arrays)
@along_first_axis(0, 1)
def _solve_batch(a, b):
    """(X, info) per matrix of (batch, n, n) and (batch, n, k) arrays."""
    try:
        return xp.linalg.solve(a, b), xp.zeros(a.shape[0], xp.int32)
    except xp.linalg.LinAlgError:
        lu, pivots, info = lu_array(a)
        good = info == 0
        x = lu_solve_array(lu, pivots, b)
        if good.any():  # LAPACK's values where it succeeds
            x[good] = xp.linalg.solve(a[good], b[good])
        return x, info


def solve_with_info(a, b):
    """(X, info) for (..., n, n) and (..., n, k) arrays whose batches broadcast."""
    batch = broadcast_batch(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    if a.size == 0:
        return xp.zeros(b.shape, b.dtype), xp.zeros(batch, xp.int32)
    if b.size == 0:  # (A is still factored: a singular one is an error, as in PyTorch)
        return xp.zeros(b.shape, b.dtype), lu_array(a)[2]
    x, info = _solve_batch(as_batch(a), as_batch(b))
    return x.reshape(b.shape), info.reshape(batch)


def solve_array(a, b):
    return solve_with_info(a, b)[0]


def inverse_with_info(a):
    n = a.shape[-1]
    return solve_with_info(a, xp.broadcast_to(xp.eye(n, dtype=a.dtype), a.shape))


# ------------------------------------------------------------------ inverse
class LinalgInvExBackward0(Op):
    """The inverse X of a square matrix."""

    __slots__ = ()
    save = SAVE_OUTPUT

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        x_t = mT(x)
        return -(x_t @ g @ x_t)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        return -(out @ tangent @ out)


def _inverse(name: str, input: Tensor, check_errors: bool, error_name: str):  # noqa: A002
    tensor_argument(input, name.replace(".", "_"), "A", 1)
    check_square(name, input)
    check_linalg_float(name, input)
    data = input._data
    inverse, info = inverse_with_info(data)
    if check_errors:
        failure = _first_failure(info)
        if failure is not None:
            index, order = failure
            raise LinAlgError(
                f"{error_name}: {batch_prefix(index)}The diagonal element {order} is zero, the "
                "inversion could not be completed because the input matrix is singular."
            )
    node = LinalgInvExBackward0()
    return record(node, (input,), (data,), inverse, (inverse,)), constant(info)


@with_out("linalg_inv_ex")
def inv(A):  # noqa: N803 - PyTorch's name
    """``torch.linalg.inv(A)``: the inverse; LinAlgError for a singular matrix."""
    return _inverse("linalg.inv", A, True, "linalg.inv")[0]


@with_out("linalg_inv_ex")
def inverse(input):  # noqa: A002 - PyTorch's name
    """``torch.inverse`` and ``Tensor.inverse``: ``linalg.inv``."""
    return _inverse("linalg.inv", input, True, "linalg.inv")[0]


@with_out("linalg_inv_ex")
def inv_ex(A, *, check_errors=False):  # noqa: N803
    """``torch.linalg.inv_ex``: (inverse, info), info the first zero pivot per matrix."""
    result, info = _inverse("linalg.inv", A, bool(check_errors), "linalg.inv_ex")
    return return_types.linalg_inv_ex(result, info)


# ------------------------------------------------------------------ solve
def _column(x, vector: bool):
    if not vector:
        return x
    return x.unsqueeze(-1) if type(x) is Tensor else x[..., None]


def _uncolumn(x, vector: bool):
    if not vector:
        return x
    return x.squeeze(-1) if type(x) is Tensor else x[..., 0]


class LinalgSolveExBackward0(Op):
    """X with ``A X = B`` (``left``) or ``X A = B``; batches broadcast, B may be vectors."""

    __slots__ = ("left", "vector")
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        a, b, x = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        left, vector = ctx.left, ctx.vector
        g, x = _column(g, vector), _column(x, vector)
        grad_b = _solve_any(mT(a), g, left)
        grad_a = None
        if a_edge is not None:
            grad_a = -(grad_b @ mT(x)) if left else -(mT(x) @ grad_b)
            grad_a = reduce_to(grad_a, a.shape)
        if b_edge is None:
            return grad_a, None
        return grad_a, reduce_to(_uncolumn(grad_b, vector), b.shape)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        a, _ = primals
        tangent_a, tangent_b = tangents
        left, vector = ctx.left, ctx.vector
        rhs = None if tangent_b is None else _column(tangent_b, vector)
        if tangent_a is not None:
            column = _column(out, vector)
            share = tangent_a @ column if left else column @ tangent_a
            rhs = -share if rhs is None else rhs - share
        return _uncolumn(_solve_any(a, rhs, left), vector)


def _solve_any(a, b, left: bool):
    """The solve on arrays, or recorded on Tensors (a VJP with create_graph=True)."""
    if type(b) is Tensor:
        return solve(a, b, left=left)
    if left:
        return solve_array(a, b)
    return mT(solve_array(mT(a), mT(b)))


def is_vector_rhs(a_shape: tuple, b_shape: tuple) -> bool:
    """PyTorch's ``linalg_solve_is_vector_rhs``: B 1-d, or A's batch and rows exactly."""
    return len(b_shape) == 1 or (
        len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1])
    )


def _solve(name: str, A: Tensor, B: Tensor, left: bool, check_errors: bool, error_name: str):  # noqa: N803
    tensor_argument(A, name.replace(".", "_"), "A", 1)
    tensor_argument(B, name.replace(".", "_"), "B", 2)
    check_square(name, A)
    a_shape, b_shape = A._data.shape, B._data.shape
    vector = is_vector_rhs(a_shape, b_shape)
    if not vector:
        check_at_least_matrix(name, B, "B")
    column_shape = b_shape + (1,) if vector else b_shape
    n = a_shape[-1]
    rows, columns = column_shape[-2:]
    if (rows if left else columns) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {equation} "
            f"({n}x{n} and {rows}x{columns})"
        )
    check_same_dtype(name, A, B)
    check_linalg_float(name, A)
    broadcast_batch(column_shape[:-2], a_shape[:-2])
    a, b = A._data, _column(B._data, vector)
    if left:
        x, info = solve_with_info(a, b)
    else:
        x, info = solve_with_info(mT(a), mT(b))
        x = mT(x)
    if check_errors:
        failure = _first_failure(info)
        if failure is not None:
            raise LinAlgError(
                f"torch.{error_name}: {batch_prefix(failure[0])}The solver failed because the "
                "input matrix is singular."
            )
    x = _uncolumn(x, vector)
    node = LinalgSolveExBackward0()
    node.left, node.vector = left, vector
    return record(node, (A, B), (A._data, B._data), x, (A._data, B._data, x)), constant(info)


@with_out("_linalg_solve_ex")
def solve(A, B, *, left=True):  # noqa: N803 - PyTorch's names
    """``torch.linalg.solve(A, B, *, left=True)``: X with ``A X = B`` (or ``X A = B``)."""
    return _solve("linalg.solve", A, B, bool(left), True, "linalg.solve")[0]


@with_out("_linalg_solve_ex")
def solve_ex(A, B, *, left=True, check_errors=False):  # noqa: N803
    """``torch.linalg.solve_ex``: (result, info), info the first zero pivot per matrix."""
    result, info = _solve("linalg.solve", A, B, bool(left), bool(check_errors), "linalg.solve_ex")
    return return_types.linalg_solve_ex(result, info)


DECLARATIONS = [
    declare(
        "linalg_inv",
        inv,
        method=None,
        public=False,  # torch.linalg.inv (gradienti/linalg.py)
        explain={
            LinalgInvExBackward0: Rule(
                "the matrix inverse", "inv({x:0})", passes=("-X^T g X^T, X the inverse",)
            )
        },
    ),
    declare("linalg_inv_ex", inv_ex, method=None, public=False),
    declare("inverse", inverse),
    declare(
        "linalg_solve",
        solve,
        method=None,
        public=False,
        explain={
            LinalgSolveExBackward0: Rule(
                "solves the linear system A X = B",
                "solve({a:0}, {b:0})",
                passes=("-(A^-T g) X^T", "A^-T g"),
            )
        },
    ),
    declare("linalg_solve_ex", solve_ex, method=None, public=False),
]
