"""The singular value and symmetric eigenvalue decompositions: ``linalg.svd``, ``linalg.svdvals``,
the legacy ``torch.svd`` (``Tensor.svd``), ``linalg.eigh`` and ``linalg.eigvalsh``.

Each is one multi-output node (PyTorch's ``LinalgSvdBackward0``, ``LinalgEighBackward0``) whose
VJP and JVP are PyTorch's (FunctionsManual.cpp's ``svd_backward``, ``linalg_svd_jvp``,
``linalg_eig_backward`` and ``linalg_eig_jvp`` for Hermitian input, real case). The node keeps
the input and the factors. A recorded backward (``create_graph=True``) decomposes the input
again with the op itself, so that the VJP's own derivative reaches the input through the
factors (LAPACK is deterministic: the same factors, signs included).

The factors' signs are LAPACK's. NumPy and PyTorch call the same routines (gesdd, syevd), but
from other LAPACK builds: singular vectors nearly always come with PyTorch's signs, eigh's
eigenvectors often with the opposite sign of some columns. A loss that depends on the signs has
no well-defined gradient, as PyTorch documents.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .linalg_matrix import (
    as_column,
    as_row,
    check_floating,
    check_lapack_dtype,
    check_matrix,
    check_square,
    concatenate,
    constant,
    diag_embed,
    diagonal,
    eigh_array,
    eigvalsh_array,
    identity_like,
    mT,
    needs_graph,
    out_form,
    record_factorization,
    return_types,
    svd_array,
    svdvals_array,
    zeros_like_shape,
)
from .orientation import conjugate_matrix_T


# ------------------------------------------------------------------------------- svd
class LinalgSvdBackward0(Op):
    """A = U diag(S) Vh: the three factors of one decomposition."""

    __slots__ = ("full_matrices", "num_outputs", "output_meta")
    save = SAVE_INPUTS
    materialize_grads = False  # an output without a gradient is None, as PyTorch's undefined

    @staticmethod
    def forward(ctx, a):
        return svd_array(a, ctx.full_matrices)

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        if g_u is None and g_s is None and g_vh is None:
            return None
        a, *factors = ctx.saved_tensors
        if type(a) is Tensor:  # a recorded backward: the factors as recorded results
            factors = linalg_svd(a, full_matrices=ctx.full_matrices)
        u, s, vh = factors
        if ctx.full_matrices:
            # derivatives.yaml: only the first k columns of U (rows of Vh) are differentiable
            k = s.shape[-1]
            u, vh = u[..., :k], vh[..., :k, :]
            g_u = None if g_u is None else g_u[..., :k]
            g_vh = None if g_vh is None else g_vh[..., :k, :]
        return svd_backward(g_u, g_s, g_vh, u, s, vh)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        if tangents[0] is None:
            return None, None, None
        return svd_jvp(tangents[0], *out, ctx.full_matrices)


def _singular_gaps(s):
    """E_jk = S_k^2 - S_j^2 off the diagonal, 1 on it (its entries there divide zeros only)."""
    s2 = s * s
    gaps = as_row(s2) - as_column(s2)
    return gaps + identity_like(gaps)


def svd_backward(g_u, g_s, g_vh, u, s, vh):
    """PyTorch's ``svd_backward`` (real case): gA = U[(skew(U^T gU)/E) S + S (skew(V^T gV)/E)
    + diag(gS)]V^T, plus the projections of gU (m > n) or gV (m < n) off the factors' span."""
    m, n = u.shape[-2], vh.shape[-1]
    if g_u is None and g_vh is None:  # svdvals: U diag(gS) Vh
        return u @ (as_column(g_s) * vh) if m >= n else (u * as_row(g_s)) @ vh
    gaps = _singular_gaps(s)
    if g_u is not None:
        u_g = mT(u) @ g_u
        u_g = u_g - mT(u_g)
    if g_vh is not None:
        v_g = vh @ mT(g_vh)
        v_g = v_g - mT(v_g)
    if g_u is not None and g_vh is not None:
        inner = (u_g * as_row(s) + as_column(s) * v_g) / gaps
    elif g_u is not None:
        inner = (u_g / gaps) * as_row(s)
    else:
        inner = as_column(s) * (v_g / gaps)
    if g_s is not None:
        inner = inner + diag_embed(g_s)
    if m > n and g_u is not None:
        g_a = u @ inner
        g_u_scaled = g_u / as_row(s)
        g_a = g_a + g_u_scaled - u @ (mT(u) @ g_u_scaled)
        return g_a @ vh
    if m < n and g_vh is not None:
        g_a = inner @ vh
        scaled_g_vh = g_vh / as_column(s)
        g_a = g_a + scaled_g_vh - (scaled_g_vh @ mT(vh)) @ vh
        return u @ g_a
    return u @ (inner @ vh) if m >= n else (u @ inner) @ vh


def svd_jvp(d_a, u, s, vh, full_matrices: bool):
    """PyTorch's ``linalg_svd_jvp`` (real case), with dP = U^T dA V: dS = diag(dP),
    dU = U (sym(dX S) / E) (+ (I - UU^T) dA V S^-1 when m > n), dVh likewise."""
    m, n = d_a.shape[-2], d_a.shape[-1]
    k = s.shape[-1]
    if full_matrices:
        u, vh = u[..., :k], vh[..., :k, :]
    v = mT(vh)
    d_p = mT(u) @ (d_a @ v) if m < n else (mT(u) @ d_a) @ v
    d_s = diagonal(d_p)
    d_p = d_p - diag_embed(d_s)
    gaps = _singular_gaps(s)
    scaled = d_p * as_row(s)
    d_u = u @ ((scaled + mT(scaled)) / gaps)
    if m > n:
        d_a_v_s = d_a @ (v / as_row(s))
        d_u = d_u + d_a_v_s - u @ (mT(u) @ d_a_v_s)
        if full_matrices:
            d_u = concatenate([d_u, zeros_like_shape(d_u, d_u.shape[:-1] + (m - n,))], -1)
    scaled = d_p * as_column(-s)
    d_vh = ((scaled + mT(scaled)) / gaps) @ vh
    if m < n:
        u_d_a_s = (mT(u) / as_column(s)) @ d_a
        d_vh = d_vh + u_d_a_s - (u_d_a_s @ v) @ vh
        if full_matrices:
            shape = d_vh.shape[:-2] + (n - m, d_vh.shape[-1])
            d_vh = concatenate([d_vh, zeros_like_shape(d_vh, shape)], -2)
    return d_u, d_s, d_vh


def _svd_node(a: Tensor, full_matrices: bool) -> tuple:
    node = LinalgSvdBackward0()
    node.full_matrices = full_matrices
    return record_factorization(node, a)


def _check_svd_input(name: str, a, driver=None) -> None:
    check_matrix(name, a)
    check_floating(name, a)
    check_lapack_dtype(a, "linalg_svd_cpu")
    if driver is not None:
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs "
            "with cuSOLVER backend."
        )


@out_form("_linalg_svd")
def linalg_svd(A, full_matrices: bool = True, *, driver=None):  # noqa: N803 - PyTorch's name
    """``torch.linalg.svd(A, full_matrices=True)``: ``(U, S, Vh)`` with A = U diag(S) Vh."""
    tensor_argument(A, "linalg_svd", "A", 1)
    _check_svd_input("linalg.svd", A, driver)
    return return_types.linalg_svd(*_svd_node(A, bool(full_matrices)))


@out_form("_linalg_svd")
def linalg_svdvals(A, *, driver=None):  # noqa: N803
    """``torch.linalg.svdvals(A)``: the singular values, in descending order. PyTorch records
    the whole decomposition (``LinalgSvdBackward0``) when a gradient may be asked for."""
    tensor_argument(A, "linalg_svdvals", "A", 1)
    _check_svd_input("linalg.svd", A, driver)
    if needs_graph(A):
        return _svd_node(A, False)[1]
    return constant(svdvals_array(A._data))


@out_form("_linalg_svd")
def svd(input, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """The legacy ``torch.svd``: ``(U, S, V)`` with V = Vh^T (``some=False`` gives the full
    factors); without ``compute_uv``, U and V are zeros of the full factors' shapes."""
    tensor_argument(input, "svd", "input", 1)
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(
            f"linalg.svd: input should have at least 2 dimensions, but has {ndim} dimensions "
            "instead"
        )
    _check_svd_input("linalg.svd", input)
    if compute_uv:
        u, s, vh = _svd_node(input, not some)
        return return_types.svd(u, s, conjugate_matrix_T(vh))
    s = linalg_svdvals(input)
    shape = input._data.shape
    m, n = shape[-2:]
    u = constant(xp.zeros(shape[:-1] + (m,), input._data.dtype))
    v = constant(xp.zeros(shape[:-2] + (n, n), input._data.dtype))
    return return_types.svd(u, s, conjugate_matrix_T(v))


# ------------------------------------------------------------------------------- eigh
class LinalgEighBackward0(Op):
    """A = V diag(L) V^T for a symmetric A (one triangle of it read): both results."""

    __slots__ = ("uplo", "num_outputs", "output_meta")
    save = SAVE_INPUTS
    materialize_grads = False

    @staticmethod
    def forward(ctx, a):
        return eigh_array(a, ctx.uplo)

    @staticmethod
    def backward(ctx, g_l, g_v):
        if g_l is None and g_v is None:
            return None
        a, *factors = ctx.saved_tensors
        if type(a) is Tensor:
            factors = linalg_eigh(a, ctx.uplo)
        eigenvalues, vectors = factors
        return eigh_backward(g_l, g_v, eigenvalues, vectors)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        if tangents[0] is None:
            return None, None
        return eigh_jvp(tangents[0], *out)


def _eigen_gaps(eigenvalues):
    """E_ij = L_j - L_i off the diagonal, 1 on it."""
    gaps = as_row(eigenvalues) - as_column(eigenvalues)
    return gaps + identity_like(gaps)


def eigh_backward(g_l, g_v, eigenvalues, vectors):
    """PyTorch's ``linalg_eig_backward`` for Hermitian input (real case):
    gA = V (diag(gL) + skew(V^T gV)/2 / E) V^T; without gV, V diag(gL) V^T."""
    if g_v is None:
        return (vectors * as_row(g_l)) @ mT(vectors)
    v_g = mT(vectors) @ g_v
    inner = (v_g - mT(v_g)) * 0.5 / _eigen_gaps(eigenvalues)
    if g_l is not None:
        inner = inner + diag_embed(g_l)  # (the skew part's diagonal is zero)
    return vectors @ (inner @ mT(vectors))


def eigh_jvp(d_a, eigenvalues, vectors):
    """PyTorch's ``linalg_eig_jvp`` (Hermitian): dP = V^T dA V, dL = diag(dP),
    dV = V (dP / E with a zero diagonal)."""
    d_p = mT(vectors) @ d_a @ vectors
    identity = identity_like(d_p)
    off_diagonal = d_p / _eigen_gaps(eigenvalues) * (1 - identity)
    return diagonal(d_p), vectors @ off_diagonal


def _check_uplo(uplo) -> str:
    if uplo not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def _check_eigh_input(A, uplo) -> str:
    check_matrix("linalg.eigh", A)
    check_square("linalg.eigh", A)
    uplo = _check_uplo(uplo)
    if A._data.dtype.kind != "f" or A._data.dtype == xp.float16:
        name = SCALAR_TYPE_NAMES[str(A._data.dtype)]
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{name}'")
    return uplo


@out_form("_linalg_eigh")
def linalg_eigh(A, UPLO: str = "L"):  # noqa: N803 - PyTorch's names
    """``torch.linalg.eigh(A, UPLO='L')``: eigenvalues (ascending) and eigenvectors (columns)
    of the symmetric matrix whose lower (or upper) triangle A holds."""
    tensor_argument(A, "linalg_eigh", "A", 1)
    node = LinalgEighBackward0()
    node.uplo = _check_eigh_input(A, UPLO)
    return return_types.linalg_eigh(*record_factorization(node, A))


@out_form("_linalg_eigh")
def linalg_eigvalsh(A, UPLO: str = "L"):  # noqa: N803
    """``torch.linalg.eigvalsh(A, UPLO='L')``: the eigenvalues; PyTorch records the whole
    decomposition (``LinalgEighBackward0``) when a gradient may be asked for."""
    tensor_argument(A, "linalg_eigvalsh", "A", 1)
    uplo = _check_eigh_input(A, UPLO)
    if needs_graph(A):
        return linalg_eigh(A, uplo).eigenvalues
    return constant(eigvalsh_array(A._data, uplo))


# ---------------------------------------------------------------------- explain rules
_SVD_RULE = Rule(
    "singular value decomposition",
    "svd({x:0})",
    passes=("U[(skew(UᵀgU)/E)S + S(skew(VᵀgV)/E) + diag(gS)]Vᵀ, E_jk = S_k² - S_j²",),
)
_EIGH_RULE = Rule(
    "symmetric eigendecomposition",
    "eigh({x:0})",
    passes=("V[diag(gL) + skew(VᵀgV)/(2E)]Vᵀ, E_ij = L_j - L_i",),
)

DECLARATIONS = (
    declare("svd", svd, explain={LinalgSvdBackward0: _SVD_RULE}),
    declare("linalg_svd", linalg_svd, public=False),
    declare("linalg_svdvals", linalg_svdvals, public=False),
    declare("linalg_eigh", linalg_eigh, public=False, explain={LinalgEighBackward0: _EIGH_RULE}),
    declare("linalg_eigvalsh", linalg_eigvalsh, public=False),
)
