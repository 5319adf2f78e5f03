"""The norms of ``torch.linalg``: ``vector_norm``, ``matrix_norm`` and ``norm``; and
``torch.norm`` (``Tensor.norm``), which routes to them as PyTorch's torch/functional.py does.

``vector_norm`` records ``LinalgVectorNormBackward0`` (ops/norm.py's node, which ``torch.norm``
records too). ``matrix_norm`` and ``norm`` are PyTorch's compositions (LinearAlgebra.cpp), so
their graphs are PyTorch's: 'fro' is a vector 2-norm over the two dims; 'nuc', 2 and -2 are
the sum, largest or smallest singular value of the matrices with the two dims moved last
(PermuteBackward0, LinalgSvdBackward0, then SumBackward1/AmaxBackward0/AminBackward0); 1, -1,
inf and -inf the largest or smallest column (row) 1-norm.
"""

from __future__ import annotations

import numbers

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import tensor_argument, unary
from .declare import Cli, declare
from .extrema import amax, amin
from .linalg_matrix import check_floating, check_matrix, constant, copied_out, out_form
from .linalg_spectral import linalg_svdvals
from .norm import LinalgVectorNormBackward0, _check_identity_free
from .rearrange import permute
from .reduce import reduction_dims
from .reduce import sum as reduce_sum
from .shape import unsqueeze

_INF = float("inf")


def _type_name(dtype) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(xp.dtype(dtype)).name]


def _check_dtype(name: str, source_dtype, dtype) -> None:
    """PyTorch's ``check_linalg_norm_dtype``: a floating dtype= that does not narrow."""
    if dtype is None:
        return
    if dtype.np.kind != "f":
        raise RuntimeError(
            f"{name}: dtype should be floating point or complex, but got {_type_name(dtype.np)}"
        )
    if xp.promote_types(source_dtype, dtype.np) != dtype.np:
        raise RuntimeError(
            f"{name}: the dtype of the input ({_type_name(source_dtype)}) should be convertible "
            f"without narrowing to the specified dtype ({_type_name(dtype.np)})"
        )


@out_form("linalg_vector_norm")
def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """``torch.linalg.vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)``: the
    ``ord``-norm of the elements over ``dim`` (all of them when None); ord may be inf, -inf
    (the largest or smallest |x|) or 0 (the number of nonzero elements)."""
    tensor_argument(x, "linalg_vector_norm", "input", 1)
    if type(ord) is not float and type(ord) is not int:
        if isinstance(ord, Tensor) and ord._data.ndim == 0 and ord._edge is None:
            ord = ord.item()  # noqa: A001 - PyTorch's parser takes a 0-d tensor as a Number
        if not isinstance(ord, numbers.Real):  # (a bool is one: True is the 1-norm)
            raise TypeError(
                "linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                f"{type(ord).__name__}"
            )
    source_dtype = x._data.dtype
    if source_dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_type_name(source_dtype)}"
        )
    _check_dtype("linalg.vector_norm", source_dtype, dtype)
    p = float(ord)
    dims = reduction_dims(dim, x._data.ndim)
    if p < 0 or p == _INF:
        _check_identity_free(x._data.shape, dims, dim, p)
    node = LinalgVectorNormBackward0()
    node.ord = p
    node.dims = dims
    node.keepdim = bool(keepdim)
    node.dtype = None if dtype is None or dtype.np == source_dtype else dtype.np
    return unary(node, x)


def _matrix_dims(A, dim, low_precision: bool = True) -> tuple:
    """``_linalg_matrix_norm_checks``: A a (batch of) matrices, two different dims; float16
    only where no SVD is taken (``low_precision``)."""
    check_matrix("linalg.matrix_norm", A)
    check_floating("linalg.matrix_norm", A)
    if not low_precision and A._data.dtype == xp.float16:
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got Half")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        given = " ".join(str(d) for d in dims)
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {given}")
    ndim = A._data.ndim
    first, second = (normalize_dim(d, ndim) for d in dims)
    if first == second:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({first}, {second})")
    return first, second


def _singular_values_over(A, dims: tuple, keepdim: bool, dtype, reduce):
    """``reduce`` over the singular values of A's (dims[0], dims[1]) matrices (moved last)."""
    if dtype is not None:
        A = A.to(dtype)
    ndim = A._data.ndim
    order = [d for d in range(ndim) if d not in dims] + list(dims)
    result = reduce(linalg_svdvals(permute(A, *order)))
    if keepdim:
        back = [order.index(d) for d in range(ndim)]
        result = permute(unsqueeze(result, -1), *back)
    return result


@copied_out("linalg.matrix_norm")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):  # noqa: N803, A002
    """``torch.linalg.matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None)``:
    'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    tensor_argument(A, "linalg_matrix_norm", "input", 1)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        dims = _matrix_dims(A, dim, low_precision=ord != "nuc")
        _check_dtype("linalg.matrix_norm", A._data.dtype, dtype)
        if ord == "fro":
            return vector_norm(A, 2, dims, keepdim, dtype=dtype)
        return _singular_values_over(A, dims, keepdim, dtype, lambda s: reduce_sum(s, -1, keepdim))
    p = float(ord)
    if abs(p) not in (1.0, 2.0, _INF):
        raise RuntimeError(f"linalg.matrix_norm: Order {_number_text(ord)} not supported.")
    dims = list(_matrix_dims(A, dim, low_precision=abs(p) != 2.0))
    _check_dtype("linalg.matrix_norm", A._data.dtype, dtype)
    extreme = _largest if p > 0 else amin
    if abs(p) == 2.0:
        return _singular_values_over(
            A, tuple(dims), keepdim, dtype, lambda s: extreme(s, -1, keepdim)
        )
    if abs(p) == _INF:  # the inf-norm is the 1-norm of the transpose
        dims.reverse()
    if not keepdim and dims[0] < dims[1]:
        dims[1] -= 1  # the first reduction removed a dim in front of the second
    column_sums = vector_norm(A, 1.0, (dims[0],), keepdim, dtype=dtype)
    return extreme(column_sums, dims[1], keepdim)


def _largest(x, dim: int, keepdim: bool):
    """``amax``, except that PyTorch's matrix_norm takes the largest of nothing (an empty
    matrix's 1-, inf- or 2-norm) as 0, a constant without a graph."""
    shape = list(x._data.shape)
    if shape[dim] != 0:
        return amax(x, dim, keepdim)
    if keepdim:
        shape[dim] = 1
    else:
        del shape[dim]
    return constant(xp.zeros(shape, x._data.dtype))


def _number_text(value) -> str:
    """A number as c10 prints a double: 3, 0.5, inf."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


@copied_out("linalg.norm")
def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: N803, A002
    """``torch.linalg.norm(A, ord=None, dim=None, keepdim=False, *, dtype=None)``: a matrix norm
    when ``ord`` is given and the reduction is over two dims (a 2-D A without dim), a vector
    norm otherwise (ord=None: the 2-norm of every element, 'fro' for a matrix alike)."""
    tensor_argument(A, "linalg_norm", "input", 1)
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    ndim = A._data.ndim
    if dims is not None:
        if len(dims) not in (1, 2):
            listed = ", ".join(str(d) for d in dims)
            raise RuntimeError(
                f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got [{listed}]"
            )
    elif ord is not None and ndim not in (1, 2):
        raise RuntimeError(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
            f"Got {ndim}D."
        )
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is not None and ((dims is not None and len(dims) == 2) or (dims is None and ndim == 2)):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None, *, out=None):  # noqa: A002
    """``torch.norm(input, p='fro', dim=None, keepdim=False, out=None, dtype=None)`` and
    ``Tensor.norm``: 'fro' over at most two dims, and every number p, is
    ``linalg.vector_norm`` (p=None the 2-norm); 'nuc', 'fro' over more dims and other strings
    are ``linalg.matrix_norm`` over ``dim`` (every dim when None), whose errors they raise."""
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            p = 2
        else:
            if dims is None:
                dims = list(range(input._data.ndim))
            return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    p = 2.0 if p is None else p
    if out is None:  # (Tensor.norm's common call, without out='s wrapper)
        return _vector_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, p, dims, keepdim, dtype=dtype, out=out)


_vector_norm = vector_norm.__wrapped__


DECLARATIONS = (declare("norm", norm, cli=Cli("Euclidean norm")),)
