"""The pseudo-inverse and least squares: ``linalg.pinv`` (``torch.pinverse``,
``Tensor.pinverse``) and ``linalg.lstsq``.

``pinv`` is one ``LinalgPinvBackward0`` node (PyTorch records it so: its derivative,
FunctionsManual.cpp's ``pinv_backward`` and ``pinv_jvp``, is written with A and A⁺ alone).
The forward is PyTorch's: singular values (eigenvalues when ``hermitian``) below
``max(atol, rtol * largest)`` count as zero.

``lstsq`` is one ``LinalgLstsqBackward0`` node for the solution and the residuals (the rank and
singular values need no gradient), with PyTorch's ``linalg_lstsq_backward``. Its solution is
the minimum-norm least-squares one that LAPACK's drivers give for a matrix of full rank, here
computed from the SVD; the fields each driver fills are PyTorch's (CPU): 'gelsy' (the default)
the rank only, 'gelsd'/'gelss' the rank and singular values, residuals (for m > n and full
rank) every driver but 'gelsy'.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..batching import any_sample
from ..graph.node import NO_EDGE, SAVE_BOTH, SAVE_INPUTS, Op
from ..python_types import type_name
from ..tensor import Tensor, wrap
from .apply import tensor_argument, unary
from .declare import declare
from .explain_rule import Rule
from .linalg_matrix import (
    as_column,
    as_row,
    constant,
    eigh_array,
    mT,
    out_form,
    record,
    return_types,
    svd_array,
)
from .shape import sum_to


# ------------------------------------------------------------------------------- pinv
class LinalgPinvBackward0(Op):
    """A⁺, the Moore-Penrose pseudo-inverse."""

    __slots__ = ("atol", "rtol", "hermitian")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, a):
        return pinv_array(a, ctx.atol, ctx.rtol, ctx.hermitian)

    @staticmethod
    def backward(ctx, g):
        a, pinv_a = ctx.saved_tensors
        grad = pinv_backward(g, pinv_a, a)
        # atol/rtol Tensors may broadcast A⁺ over more batch dims than A's: summed back, as
        # PyTorch's engine sums a gradient to its input's shape.
        return grad if tuple(grad.shape) == tuple(a.shape) else sum_to(grad, tuple(a.shape))

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        if tangents[0] is None:
            return None
        return pinv_jvp(primals[0], out, tangents[0])


def pinv_array(a, atol, rtol, hermitian: bool):
    """A⁺ from the SVD (or the eigendecomposition of a symmetric A): 1/s for each singular
    value s above max(atol, rtol * the largest), 0 for the others."""
    m, n = a.shape[-2:]
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + (n, m), a.dtype)
    with xp.errstate(divide="ignore", invalid="ignore"):
        if hermitian:
            values, vectors = eigh_array(a, "L")
            magnitudes = xp.abs(values)
            tolerance = xp.maximum(atol, rtol * magnitudes.max(axis=-1, keepdims=True))
            inverted = xp.where(magnitudes > tolerance, 1 / values, 0).astype(a.dtype)
            return (vectors * inverted[..., None, :]) @ mT(vectors)
        u, s, vh = svd_array(a, False)
        tolerance = xp.maximum(atol, rtol * s[..., :1])
        inverted = xp.where(s > tolerance, 1 / s, 0).astype(a.dtype)
        return (mT(vh) * inverted[..., None, :]) @ mT(u)


def pinv_backward(g, pinv_a, a):
    """PyTorch's ``pinv_backward`` (real case), arranged to multiply the smallest matrices."""
    m, n = a.shape[-2], a.shape[-1]
    pinv_t = mT(pinv_a)
    g_t = mT(g)
    if m <= n:
        k = g_t @ pinv_a
        k_pinv_t = k @ pinv_t
        return (
            -mT(pinv_a @ k) + k_pinv_t - (a @ pinv_a) @ k_pinv_t + (pinv_t @ pinv_a) @ (g_t - k @ a)
        )
    k = pinv_a @ g_t
    pinv_t_k = pinv_t @ k
    return -mT(k @ pinv_a) + ((g_t - a @ k) @ pinv_a) @ pinv_t + pinv_t_k - (pinv_t_k @ pinv_a) @ a


def pinv_jvp(a, pinv_a, d_a):
    """PyTorch's ``pinv_jvp`` (real case)."""
    m, n = a.shape[-2], a.shape[-1]
    d_a_t = mT(d_a)
    pinv_t = mT(pinv_a)
    if m <= n:
        k = pinv_t @ d_a_t
        return pinv_a @ (k - mT(k) - k @ (a @ pinv_a)) + (d_a_t - pinv_a @ (a @ d_a_t)) @ (
            pinv_t @ pinv_a
        )
    k = pinv_a @ d_a
    k_t = mT(k)
    return (k_t - k - (pinv_a @ a) @ k_t) @ pinv_a + (pinv_a @ pinv_t) @ (
        d_a_t - (d_a_t @ a) @ pinv_a
    )


def _tolerance(value, name: str):
    """atol/rtol as a float or an array (a Tensor's values: no gradient flows to them)."""
    if isinstance(value, Tensor):
        if value._data.dtype.kind not in "fiub":
            raise RuntimeError(f"{name} tensor must be real-valued")
        return xp.asarray(value._data)[..., None]
    return float(value)


def _castable_pinv(name, result, out, inputs) -> None:
    """linalg.pinv's out may be of any dtype the result casts to safely (float32 included)."""
    if out.kind != "f":
        raise RuntimeError(
            f"linalg.pinv: Expected result to be safely castable from "
            f"{SCALAR_TYPE_NAMES[str(result)]} dtype, but got result with dtype "
            f"{SCALAR_TYPE_NAMES[str(out)]}"
        )


@out_form("linalg_pinv", _castable_pinv)
def linalg_pinv(A, rcond=None, hermitian: bool = False, *, atol=None, rtol=None):  # noqa: N803
    """``torch.linalg.pinv(A, *, atol=None, rtol=None, hermitian=False)`` (and the older
    positional ``rcond``, a relative tolerance)."""
    tensor_argument(A, "linalg_pinv", "input", 1)
    data = A._data
    if data.ndim < 2 or data.dtype.kind != "f" or data.dtype == xp.float16:
        name = SCALAR_TYPE_NAMES[str(data.dtype)]
        shape = ", ".join(str(size) for size in data.shape)
        raise RuntimeError(
            f"linalg.pinv({name}{{[{shape}]}}): expected a tensor with 2 or more dimensions of "
            "float, double, cfloat or cdouble types"
        )
    if rcond is not None:
        if atol is not None or rtol is not None:
            _refuse_rcond_with_tolerances(rcond, hermitian, atol, rtol)
        rtol, atol = rcond, 0.0
    if rtol is None:
        default = float(xp.finfo(data.dtype).eps) * max(data.shape[-2:])
        if atol is None:
            rtol = default
        elif isinstance(atol, Tensor):
            rtol = wrap(xp.where(atol._data > 0, 0.0, default), NO_EDGE)
        else:
            rtol = 0.0 if atol > 0 else default
    node = LinalgPinvBackward0()
    node.atol = _tolerance(0.0 if atol is None else atol, "atol")
    node.rtol = _tolerance(rtol, "rtol")
    node.hermitian = bool(hermitian)
    return unary(node, A)


_PINV_SIGNATURES = (
    " * (Tensor input, *, Tensor atol = None, Tensor rtol = None, bool hermitian = False, "
    "Tensor out = None)\n"
    " * (Tensor input, *, float atol = None, float rtol = None, bool hermitian = False, "
    "Tensor out = None)\n"
    " * (Tensor input, Tensor rcond, bool hermitian = False, *, Tensor out = None)\n"
    " * (Tensor input, float rcond, bool hermitian = False, *, Tensor out = None)\n"
)


def _refuse_rcond_with_tolerances(rcond, hermitian, atol, rtol) -> None:
    """PyTorch's parser has no signature with rcond and atol/rtol together. It lists the
    keywords in the reverse of the order they were passed in, which is not known here: with
    more than one keyword the text may list them in another order than PyTorch's."""
    given = ["Tensor", type_name(rcond)]
    given += [f"{key}={type_name(value)}" for key, value in (("atol", atol), ("rtol", rtol))]
    given = [part for part in given if not part.endswith("=NoneType")]
    if hermitian:
        given.append(f"hermitian={type_name(hermitian)}")
    raise TypeError(
        f"linalg_pinv() received an invalid combination of arguments - got ({', '.join(given)}), "
        f"but expected one of:\n{_PINV_SIGNATURES}"
    )


def pinverse(input, rcond: float = 1e-15):  # noqa: A002
    """``torch.pinverse(input, rcond=1e-15)``: ``linalg.pinv`` with relative tolerance rcond."""
    tensor_argument(input, "pinverse", "input", 1)
    return linalg_pinv(input, rcond)


# ------------------------------------------------------------------------------ lstsq
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class LinalgLstsqBackward0(Op):
    """The least-squares solution X of AX ≈ B and its squared residuals."""

    __slots__ = ("vector", "num_outputs", "output_meta")
    save = SAVE_INPUTS
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, b):
        raise NotImplementedError  # (computed by lstsq, which records the node itself)

    @staticmethod
    def backward(ctx, g_x, g_residuals):
        a, b, *rest = ctx.saved_tensors
        has_residuals = g_residuals is not None and g_residuals.shape[-1] != 0
        if g_x is None and not has_residuals:
            return None, None
        vector = ctx.vector
        b_matrix = as_column(b) if vector else b
        pinv_a = linalg_pinv(a) if type(a) is Tensor else rest[1]
        grad_a = grad_b = None
        if g_x is not None:
            g_x = as_column(g_x) if vector else g_x
            grad_a = pinv_backward(g_x @ mT(b_matrix), pinv_a, a)
            grad_b = mT(pinv_a) @ g_x
        if has_residuals:
            x = pinv_a @ b_matrix if type(a) is Tensor else rest[0]
            residual = a @ x - b_matrix
            g_l = as_row(g_residuals)
            term_a = 2 * ((g_l * residual) @ mT(x))
            term_b = -2 * g_l * residual
            grad_a = term_a if grad_a is None else grad_a + term_a
            grad_b = term_b if grad_b is None else grad_b + term_b
        if vector:
            grad_b = grad_b[..., 0]
        return _reduce(grad_a, a.shape, ctx._next[0]), _reduce(grad_b, b.shape, ctx._next[1])

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        a, b = primals
        d_a, d_b = tangents
        vector = ctx.vector
        b_matrix = as_column(b) if vector else b
        pinv_a = linalg_pinv(a)
        d_x = 0
        if d_a is not None:
            d_x = pinv_jvp(a, pinv_a, d_a) @ b_matrix
        if d_b is not None:
            d_x = d_x + pinv_a @ (as_column(d_b) if vector else d_b)
        d_residuals = None
        if out[1].shape[-1] != 0:
            x = as_column(out[0]) if vector else out[0]
            residual = a @ x - b_matrix
            d_residual = 0
            if d_a is not None:
                d_residual = d_a @ x
            if d_b is not None:
                d_residual = d_residual - (as_column(d_b) if vector else d_b)
            d_residuals = (2 * (residual * d_residual)).sum(-2)
        return (d_x[..., 0] if vector else d_x), d_residuals


def _reduce(grad, shape, edge):
    """A gradient computed on the broadcast batch, summed back to its input's shape."""
    if grad is None or edge is None:
        return None
    return grad if tuple(grad.shape) == tuple(shape) else sum_to(grad, tuple(shape))


def _check_lstsq(A, B, driver) -> bool:
    """PyTorch's checks; whether B is a vector (or a batch of them) rather than matrices."""
    name = "torch.linalg.lstsq"
    a, b = A._data, B._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{name}: Expected input and other to have the same dtype, but got input's dtype "
            f"{SCALAR_TYPE_NAMES[str(a.dtype)]} and other's dtype "
            f"{SCALAR_TYPE_NAMES[str(b.dtype)]}"
        )
    if a.dtype.kind == "f" and a.dtype.itemsize < 4:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if a.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_TYPE_NAMES[str(a.dtype)]}"
        )
    if b.ndim > a.ndim or a.ndim - b.ndim > 1:
        raise RuntimeError(
            f"{name}: input.dim() must be greater or equal to other.dim() and (input.dim() - "
            "other.dim()) <= 1"
        )
    vector = b.ndim == a.ndim - 1
    if a.shape[-2] != (b.shape[-1] if vector else b.shape[-2]):
        where = "other.size(-1)" if vector else "other.size(-2)"
        raise RuntimeError(f"{name}: input.size(-2) should match {where}")
    if driver is not None and driver not in _DRIVERS:
        raise RuntimeError(
            f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"
        )
    return vector


def linalg_lstsq(A, B, rcond=None, *, driver=None):  # noqa: N803 - PyTorch's names
    """``torch.linalg.lstsq(A, B, rcond=None, *, driver=None)``: the least-squares solution
    of AX = B, as ``torch.return_types.linalg_lstsq(solution, residuals, rank,
    singular_values)``."""
    tensor_argument(A, "linalg_lstsq", "self", 1)
    tensor_argument(B, "linalg_lstsq", "b", 2)
    vector = _check_lstsq(A, B, driver)
    driver = "gelsy" if driver is None else driver
    a, b = A._data, B._data
    b_matrix = b[..., None] if vector else b
    batch = xp.broadcast_shapes(a.shape[:-2], b_matrix.shape[:-2])
    m, n = a.shape[-2:]
    a_full = xp.broadcast_to(a, batch + (m, n))
    b_full = xp.broadcast_to(b_matrix, batch + b_matrix.shape[-2:])
    default_rcond = float(xp.finfo(a.dtype).eps) * max(m, n)
    rcond = default_rcond if rcond is None else rcond
    u, s, vh = svd_array(a_full, False)

    def truncated_pinv(relative):
        with xp.errstate(divide="ignore", invalid="ignore"):
            kept = s > relative * s[..., :1]
            inverted = xp.where(kept, 1 / s, 0).astype(a.dtype)
        return kept, (mT(vh) * inverted[..., None, :]) @ mT(u)

    kept, pinv_a = truncated_pinv(rcond)
    x = pinv_a @ b_full
    # PyTorch's derivative reads linalg.pinv(A) at its default tolerance whatever rcond cut
    # off (the recorded backward takes it so too).
    pinv_default, x_default = pinv_a, x
    if rcond != default_rcond:
        pinv_default = truncated_pinv(default_rcond)[1]
        x_default = pinv_default @ b_full
    rank = kept.sum(axis=-1).astype(xp.int64)
    full_rank = not any_sample(rank != min(m, n))
    if driver != "gelsy" and m > n and full_rank:
        residuals = ((a_full @ x - b_full) ** 2).sum(axis=-2)
    else:
        residuals = xp.zeros((0,), a.dtype)
    solution = x[..., 0] if vector else x
    ranks = constant(rank if driver != "gels" else xp.zeros((0,), xp.int64))
    values = constant(s if driver in ("gelsd", "gelss") else xp.zeros((0,), a.dtype))
    node = LinalgLstsqBackward0()
    node.vector = vector
    outputs = record(node, (A, B), (a, b), (solution, residuals), (a, b, x_default, pinv_default))
    return return_types.linalg_lstsq(outputs[0], outputs[1], ranks, values)


_PINV_RULE = Rule(
    "pseudo-inverse",
    "pinv({x:0})",
    passes=("PyTorch's pinv_backward: -A⁺ᵀ g A⁺ᵀ plus the projections off A's range",),
)
_LSTSQ_RULE = Rule(
    "least-squares solution",
    "lstsq({a:0}, {b:0})",
    passes=("through A⁺: pinv_backward(g Bᵀ)", "A⁺ᵀ g"),
)

DECLARATIONS = (
    declare("pinverse", pinverse, explain={LinalgPinvBackward0: _PINV_RULE}),
    declare("linalg_pinv", linalg_pinv, public=False),
    declare(
        "linalg_lstsq", linalg_lstsq, public=False, explain={LinalgLstsqBackward0: _LSTSQ_RULE}
    ),
)
