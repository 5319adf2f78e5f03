"""What the linear-algebra ops (ops/linalg_solve.py, linalg_factor.py, linalg_det.py,
linalg_functions.py) share: PyTorch's argument checks and their texts, recording a node with
several inputs or outputs, and the matrix helpers their VJPs and JVPs are written with.

A VJP runs on arrays, and on Tensors when a backward is recorded (``create_graph=True``), so
the helpers here take either: an array gets NumPy, a Tensor gets the differentiable op. Their
array kernels are batched over a leading axis and decorated ``along_first_axis``, so that under
vmap the samples fold into that axis (NumPy's ``linalg`` has no batching rule of its own).
"""

from __future__ import annotations

import functools

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import along_first_axis
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap
from .apply import record_node, record_special
from .call_forms import _call_into, exact
from .diagonal import tril as tril_tensor
from .diagonal import triu as triu_tensor
from .products import _mT
from .shape import expand, sum_to


# ------------------------------------------------------------------------ PyTorch's checks
def check_at_least_matrix(name: str, x: Tensor, argument: str = "A") -> None:
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {argument} must have at least 2 dimensions.")


def check_square(name: str, x: Tensor, argument: str = "A") -> None:
    """``A`` (a batch of) square matrices, with PyTorch's ``squareCheckInputs`` text."""
    check_at_least_matrix(name, x, argument)
    rows, columns = x._data.shape[-2:]
    if rows != columns:
        raise RuntimeError(
            f"{name}: {argument} must be batches of square matrices, but they are {rows} by "
            f"{columns} matrices"
        )


def check_floating(name: str, x: Tensor, kernel: str, argument: str = "input") -> None:
    """A float32/float64 input: an integral one is refused with ``checkFloatingOrComplex``'s
    text, a float16 one with the CPU kernel's NotImplementedError (LAPACK has no half)."""
    dtype = x._data.dtype
    if dtype.kind in "biu":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as {argument}. Got "
            f"{SCALAR_TYPE_NAMES[str(dtype)]}"
        )
    if dtype == xp.float16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Half'")


def check_same_dtype(name: str, a: Tensor, b: Tensor, a_name="A", b_name="B") -> None:
    first, second = a._data.dtype, b._data.dtype
    if first != second:
        raise RuntimeError(
            f"{name}: Expected {a_name} and {b_name} to have the same dtype, but found "
            f"{a_name} of type {SCALAR_TYPE_NAMES[str(first)]} and {b_name} of type "
            f"{SCALAR_TYPE_NAMES[str(second)]} instead"
        )


def broadcast_batch(a_shape: tuple, b_shape: tuple) -> tuple:
    """The broadcast of two batch shapes, with PyTorch's error (``infer_size``)."""
    ndim = max(len(a_shape), len(b_shape))
    padded_a = (1,) * (ndim - len(a_shape)) + tuple(a_shape)
    padded_b = (1,) * (ndim - len(b_shape)) + tuple(b_shape)
    out = []
    for i, (size_a, size_b) in enumerate(zip(padded_a, padded_b)):
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
        out.append(size_b if size_a == 1 else size_a)
    return tuple(out)


# ------------------------------------------------------------------------ recording
def record(node, inputs: tuple, arrays: tuple, outputs, saved: tuple):
    """Record ``node`` for an op of any number of Tensor inputs and one output array or a tuple
    of them (each output's edge ``(node, index)``); ``saved`` is what its VJP reads."""
    if MODES.special:
        return record_special(node, inputs, arrays, outputs, saved)
    multi = type(outputs) is tuple
    edges = tuple(value._edge for value in inputs)
    if not grad_state.enabled or all(edge is None for edge in edges):
        return tuple(wrap(out, NO_EDGE) for out in outputs) if multi else wrap(outputs, NO_EDGE)
    record_node(node, edges, saved)
    if not multi:
        return wrap(outputs, node)
    node.num_outputs = len(outputs)
    node.output_meta = tuple((out.shape, out.dtype) for out in outputs)
    return tuple(wrap(out, (node, index)) for index, out in enumerate(outputs))


def constant(array) -> Tensor:
    """A result that needs no gradient (an ``info`` code, pivots)."""
    return wrap(array, NO_EDGE)


def beside(value, like):
    """``value`` as a Tensor when ``like`` is one (a recorded VJP, where the engine hands an
    output that got no gradient its zeros as an array), else as it is."""
    if type(like) is Tensor and type(value) is not Tensor:
        return constant(xp.asarray(value))
    return value


def with_out(name: str):
    """``out=`` as PyTorch's native linalg functions take it (ops/call_forms.py's rules): the
    results written into the given tensors (a tuple for a named tuple), no graph recorded; an
    argument that requires grad raises, naming the ATen function ``name``."""

    def decorate(function):
        @functools.wraps(function)
        def call(*args, out=None, **kwargs):
            if out is None:
                return function(*args, **kwargs)
            return _call_into(name, function, exact, args, kwargs, out)

        return call

    return decorate


# ------------------------------------------------------------- helpers on arrays or Tensors
def mT(x):  # noqa: N802 - PyTorch's name for the transpose of the last two dims
    return _mT(x)


def tril(x, diagonal: int = 0):
    return tril_tensor(x, diagonal) if type(x) is Tensor else xp.tril(x, diagonal)


def triu(x, diagonal: int = 0):
    return triu_tensor(x, diagonal) if type(x) is Tensor else xp.triu(x, diagonal)


def halve_diagonal(x):
    """The lower triangle of ``x`` with its diagonal halved: Cholesky's ``Phi``."""
    return (tril(x) + tril(x, -1)) * 0.5


def reduce_to(grad, shape: tuple):
    """A gradient computed on the broadcast batch, summed back to its input's shape."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    return sum_to(grad, tuple(shape))


def expand_to(x, shape: tuple):
    return expand(x, tuple(shape))


# ------------------------------------------------------------------ batched array kernels
def as_batch(array):
    """A (..., m, n) array as (batch, m, n), for the kernels below."""
    return array.reshape((-1,) + array.shape[-2:])


@along_first_axis(0, 1)
def _solve_batch(a, b):
    return xp.linalg.solve(a, b)


def solve_array(a, b):
    """``a^{-1} b`` for (..., n, n) and (..., n, k) arrays with the same batch shape."""
    if a.size == 0 or b.size == 0:
        return xp.zeros(b.shape, b.dtype)
    return _solve_batch(as_batch(a), as_batch(b)).reshape(b.shape)


def triangle_of(a, upper: bool, unitriangular: bool):
    """The triangle of ``a`` that a triangular solve reads, its diagonal 1 if unitriangular."""
    triangle = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        n = a.shape[-1]
        triangle = xp.where(xp.eye(n, dtype=bool), xp.ones((), a.dtype), triangle)
    return triangle


def solve_triangular_array(a, b, upper: bool, left: bool, unitriangular: bool):
    """X with ``T X = B`` (left) or ``X T = B``, T the triangle of ``a``; batches broadcast."""
    triangle = triangle_of(a, upper, unitriangular)
    if not left:  # X T = B  <=>  T^T X^T = B^T
        return mT(solve_triangular_array(mT(a), mT(b), not upper, True, unitriangular))
    batch = broadcast_batch(a.shape[:-2], b.shape[:-2])
    triangle = xp.broadcast_to(triangle, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    if b.size == 0:
        return xp.zeros(b.shape, xp.result_type(a, b))
    with xp.errstate(divide="ignore", invalid="ignore"):
        return _substitute(as_batch(triangle), as_batch(b), upper).reshape(b.shape)


@along_first_axis(0, 1)
def _substitute(triangle, b, upper: bool):
    """Forward (lower) or back (upper) substitution, one row of the solution per step, each
    vectorized over the batch and the right-hand sides; a zero on the diagonal gives inf/NaN
    as LAPACK's trsm does (PyTorch's solve_triangular does not check it)."""
    n = triangle.shape[-1]
    x = xp.zeros(b.shape, xp.result_type(triangle, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    for row in order:
        rest = slice(row + 1, n) if upper else slice(0, row)
        known = xp.matmul(triangle[..., row : row + 1, rest], x[..., rest, :])
        x[..., row : row + 1, :] = (b[..., row : row + 1, :] - known) / triangle[
            ..., row : row + 1, row : row + 1
        ]
    return x
