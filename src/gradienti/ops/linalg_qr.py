"""The QR decomposition: ``linalg.qr(A, mode='reduced'|'complete'|'r')`` and the legacy
``torch.qr(input, some=True)`` (``Tensor.qr``), one ``LinalgQrBackward0`` node with PyTorch's
VJP and JVP (FunctionsManual.cpp's ``linalg_qr_backward`` and ``linalg_qr_jvp``, real case).

A recorded backward (``create_graph=True``) decomposes the input again with the op itself, so
that the VJP's own derivative reaches the input through Q and R (and through
``linalg.solve_triangular``, recorded, as in PyTorch's formula).
"""

from __future__ import annotations

import warnings

from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .linalg_matrix import (
    check_floating,
    check_lapack_dtype,
    check_matrix,
    concatenate,
    diag_embed,
    diagonal,
    mT,
    out_form,
    qr_array,
    record_factorization,
    return_types,
    tril,
    triu,
    zeros_like_shape,
)
from .linalg_triangular import solve_triangular_any

_MODES = ("reduced", "complete", "r")
_R_MODE_MESSAGE = (
    "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
    "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
)
_COMPLETE_MESSAGE = (
    "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
)
QR_WARNING = (
    "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
    "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string parameter "
    "'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, "
    "'reduced' if some else 'complete')"
)


class LinalgQrBackward0(Op):
    """A = QR, Q with orthonormal columns, R upper triangular: both results."""

    __slots__ = ("mode", "num_outputs", "output_meta")
    save = SAVE_INPUTS
    materialize_grads = False

    @staticmethod
    def forward(ctx, a):
        if ctx.mode == "r":  # Q is not computed: an empty tensor stands in for it
            r = qr_array(a, "r")
            return r[..., :0, :0].reshape(0), r
        return qr_array(a, ctx.mode)

    @staticmethod
    def backward(ctx, g_q, g_r):
        a, *factors = ctx.saved_tensors
        _check_differentiable(ctx.mode, a.shape)
        if g_q is None and g_r is None:
            return None
        if type(a) is Tensor:
            factors = linalg_qr(a, ctx.mode)
        q, r = factors
        return qr_backward(g_q, g_r, q, r)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        _check_differentiable(ctx.mode, primals[0].shape)
        if tangents[0] is None:
            return None, None
        return qr_jvp(tangents[0], *out)


def _check_differentiable(mode: str, shape) -> None:
    if mode == "r":
        raise RuntimeError(_R_MODE_MESSAGE)
    if mode == "complete" and shape[-2] > shape[-1]:
        raise RuntimeError(_COMPLETE_MESSAGE)


def qr_backward(g_q, g_r, q, r):
    """PyTorch's ``linalg_qr_backward`` (real case). With M = gR R^T - Q^T gQ:
    m >= n: gA = (Q syminvadj(triu(M)) + gQ) R^-T;
    m < n:  gA = [Q tril(-M + M^T) R_1^-T, 0] + Q gR."""
    m, n = q.shape[-2], r.shape[-1]
    if g_q is not None and g_r is not None:
        g_a = g_r @ mT(r) - mT(q) @ g_q
    elif g_q is not None:
        g_a = -(mT(q) @ g_q)
    else:
        g_a = g_r @ mT(r)
    if m >= n:
        upper = triu(g_a)
        g_a = q @ (upper + mT(upper) - diag_embed(diagonal(upper)))
        if g_q is not None:
            g_a = g_a + g_q
        return solve_triangular_any(mT(r), g_a, False, False, False)  # gA R^-T
    g_a = q @ tril(mT(g_a) - g_a)
    g_a = solve_triangular_any(mT(r[..., :m]), g_a, False, False, False)
    g_a = concatenate([g_a, zeros_like_shape(g_a, g_a.shape[:-1] + (n - m,))], -1)
    if g_r is not None:
        g_a = g_a + q @ g_r
    return g_a


def qr_jvp(d_a, q, r):
    """PyTorch's ``linalg_qr_jvp`` (real case)."""
    m, n = d_a.shape[-2], d_a.shape[-1]
    if m >= n:
        d_a_r = solve_triangular_any(r, d_a, True, False, False)  # dA R^-1
        product = mT(q) @ d_a_r
        symmetric = product + mT(product)
        d_r = triu(symmetric) - 0.5 * diag_embed(diagonal(symmetric))
        d_q = d_a_r - q @ d_r
        return d_q, d_r @ r
    q_d_a = mT(q) @ d_a
    lower = tril(solve_triangular_any(r[..., :m], q_d_a[..., :m], True, False, False), -1)
    d_q = lower - mT(lower)
    d_r = q_d_a - d_q @ r
    return q @ d_q, d_r


def _qr(A, mode: str) -> tuple:
    node = LinalgQrBackward0()
    node.mode = mode
    return record_factorization(node, A)


@out_form("linalg_qr")
def linalg_qr(A, mode: str = "reduced"):  # noqa: N803 - PyTorch's name
    """``torch.linalg.qr(A, mode='reduced')``: ``(Q, R)``; mode 'complete' gives the square Q,
    'r' R alone (Q an empty tensor)."""
    tensor_argument(A, "linalg_qr", "A", 1)
    if mode not in _MODES:
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    check_matrix("linalg.qr", A)
    check_floating("linalg.qr", A)
    check_lapack_dtype(A, "geqrf_cpu")
    return return_types.linalg_qr(*_qr(A, mode))


@out_form("linalg_qr")
def qr(input, some: bool = True):  # noqa: A002
    """The legacy ``torch.qr(input, some=True)``: ``linalg.qr`` in mode 'reduced' or
    'complete', with PyTorch's deprecation warning."""
    tensor_argument(input, "qr", "input", 1)
    warnings.warn(QR_WARNING, UserWarning, stacklevel=2)
    mode = "reduced" if some else "complete"
    check_matrix("linalg.qr", input)
    check_floating("linalg.qr", input)
    check_lapack_dtype(input, "geqrf_cpu")
    return return_types.qr(*_qr(input, mode))


_QR_RULE = Rule(
    "QR decomposition",
    "qr({x:0})",
    passes=("(Q·syminvadj(triu(gR Rᵀ - QᵀgQ)) + gQ) R⁻ᵀ",),
)

DECLARATIONS = (
    declare("qr", qr, explain={LinalgQrBackward0: _QR_RULE}),
    declare("linalg_qr", linalg_qr, public=False),
)
