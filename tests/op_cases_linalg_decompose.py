"""Op cases: decompositions, pseudo-inverse, least squares and norms of ``linalg``
(ops/linalg_spectral.py, linalg_qr.py, linalg_pinv.py, linalg_norms.py).

Singular vectors and eigenvectors are defined up to sign, and LAPACK builds may choose
differently: the cases read them through quantities that do not depend on the signs (the
product U diag(S) Vh, squares of the entries, projections), as PyTorch's documentation
advises, so that their values and gradients are compared with PyTorch's. A symmetric input is
made as ``x + x.mT`` (eigh reads one triangle: finite differences need the whole matrix).
"""

from op_cases import NONZERO, Case


def _recomposed(lib, x, **options):
    u, s, vh = lib.linalg.svd(x, **options)
    k = s.shape[-1]
    return (u[..., :k] * (s * s).unsqueeze(-2)) @ vh[..., :k, :]


def _symmetric(x):
    return x + x.mT


CASES: list[Case] = [
    # -- linalg.svd: U diag(S) Vh is A (every term of svd_backward), squares of the vectors
    Case("linalg.svd(x) U S^2 Vh", lambda lib, x: _recomposed(lib, x), ((3, 3),)),
    Case(
        "linalg.svd(x, full_matrices=False) U S^2 Vh tall",
        lambda lib, x: _recomposed(lib, x, full_matrices=False),
        ((4, 3),),
    ),
    Case("linalg.svd(x) U S^2 Vh wide full", lambda lib, x: _recomposed(lib, x), ((2, 5),)),
    Case("linalg.svd(x) U S^2 Vh tall full", lambda lib, x: _recomposed(lib, x), ((3, 2),)),
    Case("linalg.svd(x).S batched", lambda lib, x: lib.linalg.svd(x).S, ((2, 3, 3),)),
    Case(
        "linalg.svd(x).U**2 tall (5,3)",
        lambda lib, x: lib.linalg.svd(x, full_matrices=False).U ** 2,
        ((5, 3),),
    ),
    Case(
        "linalg.svd(x).Vh**2 wide",
        lambda lib, x: lib.linalg.svd(x, full_matrices=False).Vh ** 2,
        ((3, 5),),
    ),
    Case(
        "linalg.svd(x) U*S*U",
        lambda lib, x: (lambda r: (r.U * r.U) @ r.S + (r.Vh * r.Vh).sum(0))(lib.linalg.svd(x)),
        ((3, 3),),
    ),
    Case("linalg.svdvals(x)", lambda lib, x: lib.linalg.svdvals(x), ((2, 4, 3),)),
    Case("linalg.svdvals(x) wide", lambda lib, x: lib.linalg.svdvals(x), ((3, 5),)),
    # -- legacy torch.svd: V, not Vh
    Case("svd(x) V**2", lambda lib, x: lib.svd(x).V ** 2, ((4, 3),)),
    Case(
        "x.svd() U S^2 V^T",
        lambda lib, x: (lambda u, s, v: (u * s * s) @ v.mT)(*x.svd()),
        ((3, 4),),
    ),
    Case("svd(x, some=False).S", lambda lib, x: lib.svd(x, some=False).S, ((4, 3),)),
    Case("svd(x, compute_uv=False).S", lambda lib, x: lib.svd(x, compute_uv=False)[1], ((3, 2),)),
    # -- linalg.eigh / eigvalsh of x + x^T
    Case("linalg.eigh(x).eigenvalues", lambda lib, x: lib.linalg.eigh(_symmetric(x))[0], ((3, 3),)),
    Case(
        "linalg.eigh(x).eigenvectors**2 batched",
        lambda lib, x: lib.linalg.eigh(_symmetric(x)).eigenvectors ** 2,
        ((2, 3, 3),),
    ),
    Case(
        "linalg.eigh(x, UPLO='U') V L^2 V^T",
        lambda lib, x: (lambda lv: (lv[1] * (lv[0] * lv[0]).unsqueeze(-2)) @ lv[1].mT)(
            lib.linalg.eigh(_symmetric(x), UPLO="U")
        ),
        ((4, 4),),
    ),
    Case("linalg.eigvalsh(x)", lambda lib, x: lib.linalg.eigvalsh(_symmetric(x)), ((2, 4, 4),)),
    Case(
        "linalg.eigvalsh(x, 'U')", lambda lib, x: lib.linalg.eigvalsh(_symmetric(x), "U"), ((3, 3),)
    ),
    # -- linalg.qr (the same LAPACK routine: the signs agree), legacy torch.qr
    Case("linalg.qr(x).Q tall", lambda lib, x: lib.linalg.qr(x).Q, ((4, 3),)),
    Case("linalg.qr(x).R tall", lambda lib, x: lib.linalg.qr(x).R, ((4, 3),)),
    Case(
        "linalg.qr(x) Q@R square",
        lambda lib, x: (lambda q, r: q * 2 + r)(*lib.linalg.qr(x)),
        ((3, 3),),
    ),
    Case("linalg.qr(x).Q wide (2,4)", lambda lib, x: lib.linalg.qr(x).Q, ((2, 4),)),
    Case("linalg.qr(x).R wide", lambda lib, x: lib.linalg.qr(x).R, ((3, 5),)),
    Case(
        "linalg.qr(x, 'complete') wide batched",
        lambda lib, x: (lambda q, r: q.sum(-1, keepdim=True) * r)(*lib.linalg.qr(x, "complete")),
        ((2, 2, 4),),
    ),
    Case("x.qr().R", lambda lib, x: x.qr().R, ((4, 2),)),
    # -- linalg.pinv, pinverse
    Case("linalg.pinv(x)", lambda lib, x: lib.linalg.pinv(x), ((3, 3),)),
    Case("linalg.pinv(x) tall", lambda lib, x: lib.linalg.pinv(x), ((4, 3),)),
    Case("linalg.pinv(x) wide batched", lambda lib, x: lib.linalg.pinv(x), ((2, 2, 4),)),
    Case(
        "linalg.pinv(x, hermitian=True)",
        lambda lib, x: lib.linalg.pinv(_symmetric(x), hermitian=True),
        ((3, 3),),
    ),
    Case("linalg.pinv(x, atol=0.1)", lambda lib, x: lib.linalg.pinv(x, atol=0.1), ((3, 2),)),
    Case("pinverse(x)", lambda lib, x: lib.pinverse(x), ((2, 3),)),
    Case("x.pinverse(rcond=1e-6)", lambda lib, x: x.pinverse(rcond=1e-6), ((4, 2),)),
    # -- linalg.lstsq: the solution (every driver), the residuals (gelsd)
    Case(
        "linalg.lstsq(a,b).solution tall",
        lambda lib, a, b: lib.linalg.lstsq(a, b).solution,
        ((6, 3), (6, 2)),
    ),
    Case("linalg.lstsq(a,b) wide", lambda lib, a, b: lib.linalg.lstsq(a, b)[0], ((2, 4), (2, 3))),
    Case("linalg.lstsq(a,b) square", lambda lib, a, b: lib.linalg.lstsq(a, b)[0], ((3, 3), (3, 2))),
    Case("linalg.lstsq(a,b) vector b", lambda lib, a, b: lib.linalg.lstsq(a, b)[0], ((4, 3), (4,))),
    Case(
        "linalg.lstsq(a,b) batch of 2",
        lambda lib, a, b: lib.linalg.lstsq(a, b)[0],
        ((2, 4, 3), (2, 4, 1)),
    ),
    Case(
        "linalg.lstsq(a,b) broadcast b",
        lambda lib, a, b: lib.linalg.lstsq(a, b)[0],
        ((2, 4, 3), (1, 4, 2)),
    ),
    Case(
        "linalg.lstsq(a,b,driver='gelsd').residuals",
        lambda lib, a, b: (lambda r: r.residuals * 2 + r.solution.sum(0))(
            lib.linalg.lstsq(a, b, driver="gelsd")
        ),
        ((5, 3), (5, 2)),
    ),
    # -- linalg.vector_norm
    Case("linalg.vector_norm(x)", lambda lib, x: lib.linalg.vector_norm(x), ((2, 3, 4),)),
    Case(
        "linalg.vector_norm(x, 3, dim=1)",
        lambda lib, x: lib.linalg.vector_norm(x, 3, dim=1),
        ((2, 3, 4),),
    ),
    Case(
        "linalg.vector_norm(x, inf, (0,2), keepdim)",
        lambda lib, x: lib.linalg.vector_norm(x, float("inf"), (0, 2), keepdim=True),
        ((2, 3, 4),),
    ),
    Case(
        "linalg.vector_norm(x, -inf, -1)",
        lambda lib, x: lib.linalg.vector_norm(x, float("-inf"), -1),
        ((3, 4),),
    ),
    Case(
        "linalg.vector_norm(x, 1)", lambda lib, x: lib.linalg.vector_norm(x, 1), ((3, 4),), NONZERO
    ),
    Case(
        "linalg.vector_norm(x, 0.5, 0)",
        lambda lib, x: lib.linalg.vector_norm(x, 0.5, 0),
        ((3, 4),),
        NONZERO,
    ),
    Case(
        "linalg.vector_norm(x, dtype=float64)",
        lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
        ((3, 4),),
    ),
    # -- linalg.matrix_norm: each order
    Case("linalg.matrix_norm(x)", lambda lib, x: lib.linalg.matrix_norm(x), ((2, 3, 4),)),
    Case(
        "linalg.matrix_norm(x, 'nuc')",
        lambda lib, x: lib.linalg.matrix_norm(x, "nuc"),
        ((2, 3, 4),),
    ),
    Case("linalg.matrix_norm(x, 2)", lambda lib, x: lib.linalg.matrix_norm(x, 2), ((3, 4),)),
    Case("linalg.matrix_norm(x, -2)", lambda lib, x: lib.linalg.matrix_norm(x, -2), ((2, 4, 3),)),
    Case(
        "linalg.matrix_norm(x, 1)",
        lambda lib, x: lib.linalg.matrix_norm(x, 1),
        ((2, 3, 4),),
        NONZERO,
    ),
    Case(
        "linalg.matrix_norm(x, -1)",
        lambda lib, x: lib.linalg.matrix_norm(x, -1),
        ((3, 4),),
        NONZERO,
    ),
    Case(
        "linalg.matrix_norm(x, inf)",
        lambda lib, x: lib.linalg.matrix_norm(x, float("inf")),
        ((2, 3, 4),),
        NONZERO,
    ),
    Case(
        "linalg.matrix_norm(x, -inf, keepdim)",
        lambda lib, x: lib.linalg.matrix_norm(x, float("-inf"), keepdim=True),
        ((2, 3, 4),),
        NONZERO,
    ),
    Case(
        "linalg.matrix_norm(x, 'nuc', dim=(0,2), keepdim)",
        lambda lib, x: lib.linalg.matrix_norm(x, "nuc", dim=(0, 2), keepdim=True),
        ((2, 3, 4),),
    ),
    Case(
        "linalg.matrix_norm(x, 2, dim=(2,0))",
        lambda lib, x: lib.linalg.matrix_norm(x, 2, dim=(2, 0)),
        ((2, 3, 4),),
    ),
    Case(
        "linalg.matrix_norm(x, 1, dim=(2,0), keepdim)",
        lambda lib, x: lib.linalg.matrix_norm(x, 1, dim=(2, 0), keepdim=True),
        ((2, 3, 4),),
        NONZERO,
    ),
    # -- linalg.norm: a vector or a matrix norm, by ord and dim
    Case("linalg.norm(x)", lambda lib, x: lib.linalg.norm(x), ((2, 3, 4),)),
    Case("linalg.norm(x, 2) matrix", lambda lib, x: lib.linalg.norm(x, 2), ((3, 4),)),
    Case("linalg.norm(x, 'fro')", lambda lib, x: lib.linalg.norm(x, "fro"), ((3, 4),)),
    Case(
        "linalg.norm(x, 'nuc', (1,2))",
        lambda lib, x: lib.linalg.norm(x, "nuc", (1, 2)),
        ((2, 3, 4),),
    ),
    Case("linalg.norm(x, 3) vector", lambda lib, x: lib.linalg.norm(x, 3), ((5,),)),
    Case(
        "linalg.norm(x, inf, dim=1)",
        lambda lib, x: lib.linalg.norm(x, float("inf"), dim=1),
        ((3, 4),),
    ),
]
