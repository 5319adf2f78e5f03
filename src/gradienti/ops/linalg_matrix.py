"""What the decompositions (ops/linalg_spectral.py, linalg_qr.py), the pseudo-inverse and least
squares (linalg_pinv.py) share: the batched NumPy kernels, the matrix helpers their VJPs and
JVPs are written with, PyTorch's argument checks, and their ``torch.return_types``.

A VJP runs on arrays, and on Tensors when the backward pass is recorded (``create_graph=True``),
so each helper takes either: an array gets NumPy, a Tensor the differentiable op. The kernels
take a stack of matrices (``(batch, m, n)``) and are decorated ``along_first_axis``, so that
under vmap the samples fold into the stack (NumPy's ``linalg`` has no batching rule).
"""

from __future__ import annotations

import functools
import math

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import all_samples, along_first_axis
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap
from .apply import record_node, record_special
from .call_forms import _call_into, _write, exact
from .diagonal import diag_embed as diag_embed_tensor
from .diagonal import tril as tril_tensor
from .diagonal import triu as triu_tensor
from .extrema import _return_type, return_types
from .join import cat
from .linalg_errors import LinAlgError, batch_prefix
from .products import _mT
from .shape import unsqueeze

# The named tuples of the decompositions (``torch.return_types.linalg_svd``, ...).
return_types.linalg_svd = _return_type("linalg_svd", "U S Vh")
return_types.svd = _return_type("svd", "U S V")
return_types.linalg_eigh = _return_type("linalg_eigh", "eigenvalues eigenvectors")
return_types.linalg_qr = _return_type("linalg_qr", "Q R")
return_types.qr = _return_type("qr", "Q R")
return_types.linalg_lstsq = _return_type("linalg_lstsq", "solution residuals rank singular_values")


# ------------------------------------------------------------------------ PyTorch's checks
def check_matrix(name: str, x: Tensor) -> None:
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def check_floating(name: str, x: Tensor) -> None:
    dtype = x._data.dtype
    if dtype.kind != "f":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_TYPE_NAMES[str(dtype)]}"
        )


def check_lapack_dtype(x: Tensor, kernel: str) -> None:
    """LAPACK has no half precision: PyTorch's CPU kernels refuse float16."""
    if x._data.dtype == xp.float16:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Half'")


def check_square(name: str, x: Tensor) -> None:
    rows, columns = x._data.shape[-2:]
    if rows != columns:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {rows} by {columns} "
            "matrices"
        )


def constant(array) -> Tensor:
    """A result that needs no gradient (lstsq's rank, svd's zeros without compute_uv)."""
    return wrap(array, NO_EDGE)


def needs_graph(x: Tensor) -> bool:
    """Whether an op must record its node: PyTorch's ``_may_require_fw_or_bw_grad``."""
    return bool(MODES.special) or (x._edge is not None and grad_state.enabled)


def record(node, inputs: tuple, arrays: tuple, outputs: tuple, saved: tuple) -> tuple:
    """The Tensors of a multi-output op's ``outputs`` (arrays), with ``node`` recorded as
    their grad_fn (edges ``(node, i)``) when an input needs a gradient; ``saved`` is what its
    VJP reads (a decomposition keeps its input and its factors)."""
    if MODES.special:
        return record_special(node, inputs, arrays, outputs, saved)
    edges = tuple(value._edge for value in inputs)
    if not grad_state.enabled or all(edge is None for edge in edges):
        return tuple(wrap(out, NO_EDGE) for out in outputs)
    record_node(node, edges, saved)
    node.num_outputs = len(outputs)
    node.output_meta = tuple((out.shape, out.dtype) for out in outputs)
    return tuple(wrap(out, (node, index)) for index, out in enumerate(outputs))


def record_factorization(node, x: Tensor) -> tuple:
    """Run a decomposition's node on ``x`` and record it, keeping the input and the factors."""
    data = x._data
    outputs = tuple(node.forward(node, data))
    return record(node, (x,), (data,), outputs, (data, *outputs))


# ------------------------------------------------------------------------ out=
def out_form(name: str, rule=exact):
    """``out=`` as PyTorch's native linalg functions take it (ops/call_forms.py's rules): the
    results written into the given tensors, no graph recorded (an input that requires grad
    raises, naming the ATen function ``name``); ``rule`` the dtypes out may have."""

    def decorate(function):
        @functools.wraps(function)
        def call(*args, out=None, **kwargs):
            if out is None:
                return function(*args, **kwargs)
            return _call_into(name, function, rule, args, kwargs, out)

        return call

    return decorate


def copied_out(name: str):
    """``out=`` of a composite function (matrix_norm, norm): the result copied into ``out``
    by a recorded ``copy_`` (PyTorch's CopyBackwards), ``out`` resized first if needed; out
    of another dtype raises PyTorch's error naming ``name`` (linalg.matrix_norm, ...)."""

    def decorate(function):
        @functools.wraps(function)
        def call(*args, out=None, **kwargs):
            result = function(*args, **kwargs)
            if out is None:
                return result
            if out._data.dtype != result._data.dtype:
                raise RuntimeError(
                    f"{name} expected out tensor dtype {SCALAR_TYPE_NAMES[str(result._data.dtype)]}"
                    f" but got: {SCALAR_TYPE_NAMES[str(out._data.dtype)]}"
                )
            if out._data.shape != result._data.shape:
                _write(result.detach(), out)
            return out.copy_(result)

        return call

    return decorate


# ------------------------------------------------------------------ batched array kernels
def _stacked(kernel, a, *args):
    """``kernel`` on ``a`` (..., m, n) as a stack of matrices; its results back in the batch."""
    batch = a.shape[:-2]
    results = kernel(a.reshape((math.prod(batch),) + a.shape[-2:]), *args)
    if type(results) is not tuple:
        return results.reshape(batch + results.shape[1:])
    return tuple(result.reshape(batch + result.shape[1:]) for result in results)


@along_first_axis()
def _svd_kernel(a, full_matrices: bool):
    if a.size == 0:
        return _empty_svd(a, full_matrices)
    return tuple(xp.linalg.svd(a, full_matrices=full_matrices))


def _empty_svd(a, full_matrices: bool):
    """LAPACK's factors of matrices with no element: identities where a factor is square."""
    count, m, n = a.shape
    k = min(m, n)
    u_columns, v_rows = (m, n) if full_matrices else (k, k)
    u = xp.broadcast_to(xp.eye(m, u_columns, dtype=a.dtype), (count, m, u_columns)).copy()
    vh = xp.broadcast_to(xp.eye(v_rows, n, dtype=a.dtype), (count, v_rows, n)).copy()
    return u, xp.zeros((count, k), a.dtype), vh


@along_first_axis()
def _svdvals_kernel(a):
    if a.size == 0:
        return xp.zeros((a.shape[0], min(a.shape[1:])), a.dtype)
    return xp.linalg.svd(a, compute_uv=False)


@along_first_axis()
def _eigh_kernel(a, uplo: str):
    if a.size == 0:
        return xp.zeros(a.shape[:-1], a.dtype), xp.zeros(a.shape, a.dtype)
    return tuple(xp.linalg.eigh(a, UPLO=uplo))


@along_first_axis()
def _eigvalsh_kernel(a, uplo: str):
    if a.size == 0:
        return xp.zeros(a.shape[:-1], a.dtype)
    return xp.linalg.eigvalsh(a, UPLO=uplo)


@along_first_axis()
def _qr_kernel(a, mode: str):
    return tuple(xp.linalg.qr(a, mode=mode))


@along_first_axis()
def _r_kernel(a):
    return xp.linalg.qr(a, mode="r")


@along_first_axis(0, 1)
def _solve_kernel(a, b):
    return xp.linalg.solve(a, b)


def _converged(kernel, a, *args):
    """``kernel`` on ``a``; LAPACK's SVD that does not converge (NumPy's LinAlgError, on NaN
    input) raises PyTorch's LinAlgError, naming the first matrix of a batch with a NaN."""
    try:
        return _stacked(kernel, a, *args)
    except xp.linalg.LinAlgError:
        finite = xp.isfinite(all_samples(a)).all(axis=(-2, -1))
        if finite.all():
            reason = "is ill-conditioned or has too many repeated singular values"
        else:
            reason = "contained non-finite values"
        index = None if a.ndim == 2 else int(xp.argmin(finite.reshape(-1)))
        raise LinAlgError(
            f"linalg.svd: {batch_prefix(index)}The algorithm failed to converge because the "
            f"input matrix {reason}."
        ) from None


def svd_array(a, full_matrices: bool) -> tuple:
    return _converged(_svd_kernel, a, full_matrices)


def svdvals_array(a):
    return _converged(_svdvals_kernel, a)


def eigh_array(a, uplo: str) -> tuple:
    return _stacked(_eigh_kernel, a, uplo)


def eigvalsh_array(a, uplo: str):
    return _stacked(_eigvalsh_kernel, a, uplo)


def qr_array(a, mode: str) -> tuple:
    """(Q, R) of ``mode`` 'reduced' or 'complete', or R alone for 'r'."""
    if mode == "r":
        return _stacked(_r_kernel, a)
    return _stacked(_qr_kernel, a, mode)


# ------------------------------------------------------------- helpers on arrays or Tensors
def mT(x):  # noqa: N802 - PyTorch's name for the transpose of the last two dims
    return _mT(x)


def as_row(v):
    """``v.unsqueeze(-2)``: a vector broadcast along the rows of a matrix."""
    return unsqueeze(v, -2) if type(v) is Tensor else v[..., None, :]


def as_column(v):
    """``v.unsqueeze(-1)``."""
    return unsqueeze(v, -1) if type(v) is Tensor else v[..., :, None]


def diagonal(x):
    return x.diagonal(0, -2, -1)


def diag_embed(v):
    if type(v) is Tensor:
        return diag_embed_tensor(v)
    return v[..., :, None] * xp.eye(v.shape[-1], dtype=v.dtype)


def identity_like(x):
    """The identity of x's last dimension, in x's dtype and kind (array or constant Tensor)."""
    n = x.shape[-1]
    eye = xp.eye(n, dtype=x._data.dtype if type(x) is Tensor else x.dtype)
    return wrap(eye, NO_EDGE) if type(x) is Tensor else eye


def triu(x, diagonal_offset: int = 0):
    if type(x) is Tensor:
        return triu_tensor(x, diagonal_offset)
    rows, columns = x.shape[-2:]
    return x * xp.triu(xp.ones((rows, columns), dtype=x.dtype), diagonal_offset)


def tril(x, diagonal_offset: int = 0):
    if type(x) is Tensor:
        return tril_tensor(x, diagonal_offset)
    rows, columns = x.shape[-2:]
    return x * xp.tril(xp.ones((rows, columns), dtype=x.dtype), diagonal_offset)


def zeros_like_shape(x, shape: tuple):
    """Zeros of ``shape`` in x's dtype and kind."""
    dtype = x._data.dtype if type(x) is Tensor else x.dtype
    zeros = xp.zeros(shape, dtype)
    return wrap(zeros, NO_EDGE) if type(x) is Tensor else zeros


def concatenate(parts: list, axis: int):
    if type(parts[0]) is Tensor:
        return cat(parts, axis)
    return xp.concatenate(parts, axis=axis)


def solve_array(a, b):
    """``a^{-1} b`` for arrays (..., n, n) and (..., n, k) of the same batch shape."""
    batch = b.shape[:-2]
    count = math.prod(batch)
    result = _solve_kernel(a.reshape((count,) + a.shape[-2:]), b.reshape((count,) + b.shape[-2:]))
    return result.reshape(batch + result.shape[1:])
