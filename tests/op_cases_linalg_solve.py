"""Op cases: torch.linalg's inverses, determinants, solves and factorizations
(ops/linalg_triangular.py, linalg_cholesky.py, ...). Run by test_ops.py with the whole table
(finite differences, PyTorch's forward, graph, gradient and double backward; forward mode,
vmap and saved-tensor hooks in their own test files).

A factorization needs a matrix it applies to: ``_spd`` makes a symmetric positive-definite one
of a random square (``x x^T + n I``); a triangular solve reads a triangle with a diagonal in
[0.5, 2] (the POS domain), far from singular.
"""

from op_cases import ANY, POS, Case


def _spd(lib, x):
    """``x x^T + n I``: symmetric positive-definite, its eigenvalues at least n."""
    n = x.shape[-1]
    return x @ x.mT + n * lib.eye(n, dtype=x.dtype)


def _diagonal_up(lib, x):
    """``x + 4 I``: far from singular (float32 results keep 6 digits)."""
    return x + 4 * lib.eye(x.shape[-1], dtype=x.dtype)


CASES: list[Case] = [
    # -- solve_triangular (A's triangle only is read)
    Case(
        "linalg.solve_triangular(x,y,upper=True)",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
        ((3, 3), (3, 2)),
        (POS, ANY),
    ),
    Case(
        "linalg.solve_triangular(x+4I,y,upper=False) batched",
        lambda lib, a, b: lib.linalg.solve_triangular(_diagonal_up(lib, a), b, upper=False),
        ((2, 3, 3), (2, 3, 4)),
        (POS, ANY),
    ),
    Case(
        "linalg.solve_triangular(x,y,upper=True,left=False)",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True, left=False),
        ((3, 3), (2, 3)),
        (POS, ANY),
    ),
    Case(
        "linalg.solve_triangular(x,y,upper=False,unitriangular=True)",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
        ((3, 3), (3, 2)),
        (ANY, ANY),
    ),
    Case(
        "linalg.solve_triangular(x,y,upper=False,left=False,unitriangular=True)",
        lambda lib, a, b: lib.linalg.solve_triangular(
            a, b, upper=False, left=False, unitriangular=True
        ),
        ((3, 3), (4, 3)),
        (ANY, ANY),
    ),
    Case(
        "linalg.solve_triangular broadcast batches",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
        ((3, 3), (2, 3, 2)),
        (POS, ANY),
    ),
    # -- cholesky
    Case("linalg.cholesky(spd(x))", lambda lib, x: lib.linalg.cholesky(_spd(lib, x)), ((3, 3),)),
    Case(
        "linalg.cholesky(spd(x),upper=True) batched",
        lambda lib, x: lib.linalg.cholesky(_spd(lib, x), upper=True),
        ((2, 3, 3),),
    ),
    Case(
        "linalg.cholesky_ex(spd(x)).L",
        lambda lib, x: lib.linalg.cholesky_ex(_spd(lib, x)).L,
        ((4, 4),),
    ),
]

CASES += [
    # -- inverse
    Case("linalg.inv(x+4I)", lambda lib, x: lib.linalg.inv(_diagonal_up(lib, x)), ((3, 3),)),
    Case("linalg.inv(x) batched", lambda lib, x: lib.linalg.inv(x), ((2, 2, 2),), POS),
    Case(
        "linalg.inv_ex(x+4I).inverse",
        lambda lib, x: lib.linalg.inv_ex(_diagonal_up(lib, x)).inverse,
        ((2, 3, 3),),
    ),
    Case("inverse(x+4I)", lambda lib, x: lib.inverse(_diagonal_up(lib, x)), ((3, 3),)),
    Case("(x+4I).inverse()", lambda lib, x: _diagonal_up(lib, x).inverse(), ((2, 3, 3),)),
    # -- solve
    Case(
        "linalg.solve(x+4I,y)",
        lambda lib, a, b: lib.linalg.solve(_diagonal_up(lib, a), b),
        ((3, 3), (3, 2)),
    ),
    Case(
        "linalg.solve(x+4I,y) vector",
        lambda lib, a, b: lib.linalg.solve(_diagonal_up(lib, a), b),
        ((3, 3), (3,)),
    ),
    Case(
        "linalg.solve(x+4I,y) batch of vectors",
        lambda lib, a, b: lib.linalg.solve(_diagonal_up(lib, a), b),
        ((2, 3, 3), (2, 3)),
    ),
    Case(
        "linalg.solve(x+4I,y,left=False) broadcast",
        lambda lib, a, b: lib.linalg.solve(_diagonal_up(lib, a), b, left=False),
        ((3, 3), (2, 4, 3)),
    ),
    Case(
        "linalg.solve_ex(x+4I,y).result",
        lambda lib, a, b: lib.linalg.solve_ex(_diagonal_up(lib, a), b).result,
        ((2, 1, 3, 3), (2, 3, 1)),
    ),
    # -- determinants
    Case("linalg.det(x)", lambda lib, x: lib.linalg.det(x), ((3, 3),)),
    Case("linalg.det(x) batched", lambda lib, x: lib.linalg.det(x), ((2, 2, 2),)),
    Case("det(x)", lambda lib, x: lib.det(x), ((3, 3),)),
    Case("x.det() batched", lambda lib, x: x.det(), ((2, 3, 3),)),
    Case(
        "linalg.slogdet(x+4I).logabsdet",
        lambda lib, x: lib.linalg.slogdet(_diagonal_up(lib, x)).logabsdet,
        ((2, 3, 3),),
    ),
    Case(
        "linalg.slogdet(x)[1] negative determinants",
        lambda lib, x: lib.linalg.slogdet(x)[1],
        ((3, 2, 2),),
        POS,
    ),
    Case(
        "slogdet(x+4I).logabsdet",
        lambda lib, x: lib.slogdet(_diagonal_up(lib, x)).logabsdet,
        ((3, 3),),
    ),
    Case(
        "x.slogdet()[1]",
        lambda lib, x: _diagonal_up(lib, x).slogdet()[1],
        ((3, 3),),
    ),
    Case("logdet(spd(x))", lambda lib, x: lib.logdet(_spd(lib, x)), ((2, 3, 3),)),
    Case("spd(x).logdet()", lambda lib, x: _spd(lib, x).logdet(), ((3, 3),)),
    # -- LU
    Case(
        "linalg.lu_factor(x).LU",
        lambda lib, x: lib.linalg.lu_factor(x + 0).LU,
        ((3, 3),),
    ),
    Case(
        "linalg.lu_factor_ex(x)[0] batched",
        lambda lib, x: lib.linalg.lu_factor_ex(x)[0],
        ((2, 3, 3),),
    ),
    Case("linalg.lu(x).L", lambda lib, x: lib.linalg.lu(x).L, ((3, 3),)),
    Case("linalg.lu(x).U batched", lambda lib, x: lib.linalg.lu(x).U, ((2, 3, 3),)),
    Case(
        "linalg.lu_solve(lu_factor(x+4I),y)",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(_diagonal_up(lib, a)), b),
        ((3, 3), (3, 2)),
    ),
    Case(
        "linalg.lu_solve(lu_factor(x+4I),y,left=False,adjoint=True) batched",
        lambda lib, a, b: lib.linalg.lu_solve(
            *lib.linalg.lu_factor(_diagonal_up(lib, a)), b, left=False, adjoint=True
        ),
        ((2, 3, 3), (2, 4, 3)),
    ),
]
