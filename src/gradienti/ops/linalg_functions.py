"""Matrix functions: ``torch.linalg.matrix_power`` (``torch.matrix_power``), ``linalg.matrix_exp``
(``torch.matrix_exp``), ``linalg.multi_dot`` and ``linalg.cross``.

``matrix_power`` and ``multi_dot`` are compositions of products, step for step ATen's (the graph
is PyTorch's: clone, copy_, inv, mm in the same order). ``cross`` is ops/geometry.py's op with
``dim=-1`` by default.

``matrix_exp`` is one node. Forward: scaling and squaring, ``exp(A) = exp(A / 2^s)^(2^s)`` with
``||A / 2^s||_1 <= 1/2`` and the Taylor polynomial of the lowest degree (at most 18) whose
remainder is below the dtype's rounding.
Derivatives as PyTorch's: for a function f of a matrix, the Fréchet derivative L(A, E) is the
upper right block of ``f([[A, E], [0, A]])``; the VJP is ``L(A^T, g)`` and the JVP ``L(A, dA)``,
both computed by matrix_exp itself (so they are differentiable again).
"""

from __future__ import annotations

from ..arguments import check_int
from ..backend import CPP_TYPE_NAMES, xp
from ..batching import along_first_axis
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .elementwise import clone
from .explain_rule import Rule
from .geometry import cross
from .inplace import copy_
from .join import cat
from .linalg_common import as_batch, check_floating, check_square, constant, mT, record, with_out
from .linalg_solve import inv
from .products import mm
from .shape import expand_tensor, unsqueeze

_TAYLOR_DEGREE = 18


# ------------------------------------------------------------------ matrix_power
@with_out("matmul")
def matrix_power(A, n):  # noqa: N803 - PyTorch's name
    """``torch.linalg.matrix_power(A, n)``: A^n for an integer n (A^-1 to the -n for n < 0)."""
    tensor_argument(A, "linalg_matrix_power", "A", 1)
    n = check_int(n, "linalg_matrix_power", "n", 2)
    check_square("linalg.matrix_power", A)
    if n == 0:  # the identity, in a copy of A (ATen: clone, then copy_ the identity into it)
        size = A._data.shape[-1]
        identity = constant(xp.eye(size, dtype=A._data.dtype))
        return copy_(clone(A), expand_tensor(identity, *A._data.shape))
    if n == 1:
        return clone(A)
    if n < 0:
        A, n = inv(A), -n
    if n == 2:
        return A @ A
    if n == 3:
        return (A @ A) @ A
    # The binary decomposition of n, least significant bit first: square z, and multiply it
    # into the result where the bit is set.
    z = result = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = A if z is None else z @ z
        if bit:
            result = z if result is None else result @ z
    return result


# ------------------------------------------------------------------ matrix_exp
@along_first_axis()
def _exp_batch(a):
    """exp of each matrix of a (batch, n, n) array (see the module docstring)."""
    norm = xp.abs(a).sum(-2).max(-1).max() if a.size else 0.0
    squarings = int(max(0, xp.ceil(xp.log2(norm / 0.5)))) if norm > 0.5 else 0
    scaled = a / (2.0**squarings)
    degree = _taylor_degree(norm / 2.0**squarings, xp.finfo(a.dtype).eps / 2)
    n = a.shape[-1]
    identity = xp.eye(n, dtype=a.dtype)
    result = identity + scaled / degree
    for k in range(degree - 1, 0, -1):  # Horner: I + X/1 (I + X/2 (... (I + X/k)))
        result = identity + xp.matmul(scaled, result) / k
    for _ in range(squarings):
        result = xp.matmul(result, result)
    return result.astype(a.dtype, copy=False)


def _taylor_degree(norm: float, tolerance: float) -> int:
    """The fewest Taylor terms whose remainder bound ``norm^(m+1) / (m+1)!`` is below the
    dtype's rounding (at most 18: norm is at most 1/2)."""
    term = 1.0
    for degree in range(1, _TAYLOR_DEGREE):
        term *= norm / (degree + 1)
        if term <= tolerance:
            return degree
    return _TAYLOR_DEGREE


def exp_array(a):
    if a.size == 0:
        return xp.zeros(a.shape, a.dtype)
    return _exp_batch(as_batch(a)).reshape(a.shape)


def _frechet(a, e):
    """The derivative of exp at A along E: the upper right block of exp([[A, E], [0, A]])."""
    n = a.shape[-1]
    if type(e) is Tensor:
        a = a if type(a) is Tensor else constant(a)
        zeros = constant(xp.zeros(tuple(e.shape), e._data.dtype))
        top = cat([a, e], -1)
        bottom = cat([zeros, a.expand(*e.shape) if tuple(a.shape) != tuple(e.shape) else a], -1)
        block = matrix_exp(cat([top.expand(*bottom.shape[:-2], n, 2 * n), bottom], -2))
        return block[..., :n, n:]
    a = xp.broadcast_to(a, e.shape)
    block = xp.concatenate(
        [xp.concatenate([a, e], -1), xp.concatenate([xp.zeros_like(e), a], -1)], -2
    )
    return exp_array(block)[..., :n, n:]


class LinalgMatrixExpBackward0(Op):
    """exp of each square matrix."""

    __slots__ = ()
    save = SAVE_INPUTS

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return _frechet(mT(a), g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return _frechet(primals[0], tangents[0])


def matrix_exp(A):  # noqa: N803 - PyTorch's name
    """``torch.linalg.matrix_exp(A)`` (also ``torch.matrix_exp``, ``Tensor.matrix_exp``)."""
    name = "linalg.matrix_exp"
    tensor_argument(A, "linalg_matrix_exp", "A", 1)
    check_square(name, A)
    check_floating(name, A, "matrix_exp")
    data = A._data
    return record(LinalgMatrixExpBackward0(), (A,), (data,), exp_array(data), (data,))


# ------------------------------------------------------------------ multi_dot
def _chain_order(shapes: list) -> list:
    """ATen's ``matrix_chain_order``: the split of each subchain that costs fewest products."""
    count = len(shapes)
    p = [shapes[0][0]] + [shape[1] for shape in shapes]
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def _chain(tensors: list, split: list, i: int, j: int):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return mm(_chain(tensors, split, i, k), _chain(tensors, split, k + 1, j))


@with_out("mm")
def multi_dot(tensors):
    """``torch.linalg.multi_dot``: the product of the matrices in the cheapest order; the
    first may be a row vector, the last a column vector (1-d)."""
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    first_ndim, last_ndim = tensors[0]._data.ndim, tensors[-1]._data.ndim
    if first_ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first_ndim}D")
    if last_ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last_ndim}D")
    for index, tensor in enumerate(tensors[1:-1], 1):
        if tensor._data.ndim != 2:
            raise RuntimeError(
                f"multi_dot(): tensor {index} must be 2D but got {tensor._data.ndim}D"
            )
    dtype = tensors[0]._data.dtype
    for index, tensor in enumerate(tensors[1:], 1):
        if tensor._data.dtype != dtype:
            raise RuntimeError(
                "multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                f"{CPP_TYPE_NAMES[str(dtype)]} and tensor {index} "
                f"{CPP_TYPE_NAMES[str(tensor._data.dtype)]}"
            )
    matrices = list(tensors)
    if first_ndim == 1:
        matrices[0] = unsqueeze(matrices[0], 0)
    if last_ndim == 1:
        matrices[-1] = unsqueeze(matrices[-1], -1)
    shapes = [tuple(matrix._data.shape) for matrix in matrices]
    for index in range(count - 1):
        if shapes[index][1] != shapes[index + 1][0]:
            raise RuntimeError(
                f"multi_dot(): tensors {index} and {index + 1} with shapes "
                f"{list(tensors[index]._data.shape)} and {list(tensors[index + 1]._data.shape)} "
                "cannot be multiplied"
            )
    if count == 2:
        result = mm(matrices[0], matrices[1])
    elif count == 3:  # ATen's multi_dot_three: (AB)C unless A(BC) costs less
        (a, b), (_, c), (_, d) = shapes
        if a * c * (b + d) > b * d * (a + c):
            result = mm(matrices[0], mm(matrices[1], matrices[2]))
        else:
            result = mm(mm(matrices[0], matrices[1]), matrices[2])
    else:
        result = _chain(matrices, _chain_order(shapes), 0, count - 1)
    out_shape = ()
    if first_ndim == 2:
        out_shape += (shapes[0][0],)
    if last_ndim == 2:
        out_shape += (shapes[-1][1],)
    return result.view(out_shape)


# ------------------------------------------------------------------ cross
@with_out("linalg_cross")
def linalg_cross(input, other, *, dim=-1):  # noqa: A002 - PyTorch's name
    """``torch.linalg.cross(input, other, *, dim=-1)``: ``torch.cross`` along ``dim``."""
    return cross(input, other, check_int(dim, "linalg_cross", "dim", 3))


DECLARATIONS = [
    declare("matrix_power", matrix_power),
    declare("linalg_matrix_power", matrix_power, method=None, public=False),
    declare(
        "matrix_exp",
        matrix_exp,
        explain={
            LinalgMatrixExpBackward0: Rule(
                "the matrix exponential",
                "matrix_exp({x:0})",
                passes=("the upper right block of exp([[A^T, g], [0, A^T]])",),
            )
        },
    ),
    declare("linalg_multi_dot", multi_dot, method=None, public=False),
    declare("linalg_cross", linalg_cross, method=None, public=False),
]
