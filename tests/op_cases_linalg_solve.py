"""Op cases: torch.linalg's inverses, determinants, solves and factorizations
(ops/linalg_triangular.py, linalg_cholesky.py, ...). Run by test_ops.py with the whole table
(finite differences, PyTorch's forward, graph, gradient and double backward; forward mode,
vmap and saved-tensor hooks in their own test files).

A factorization needs a matrix it applies to: ``_spd`` makes a symmetric positive-definite one
of a random square (``x x^T + n I``); a triangular solve reads a triangle with a diagonal in
[0.5, 2] (the POS domain), far from singular.
"""

from op_cases import ANY, POS, S3, Case


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


def _factor(lib, x):
    """The lower Cholesky factor of ``spd(x)``: a well-conditioned triangular operand."""
    return lib.linalg.cholesky(_spd(lib, x))


CASES += [
    # -- Cholesky solve and inverse
    Case(
        "cholesky_solve(y,chol(spd(x)))",
        lambda lib, x, b: lib.cholesky_solve(b, _factor(lib, x)),
        ((3, 3), (3, 2)),
    ),
    Case(
        "cholesky_solve(y,chol(spd(x)).mT,upper=True) broadcast",
        lambda lib, x, b: lib.cholesky_solve(b, _factor(lib, x).mT, upper=True),
        ((3, 3), (2, 3, 2)),
    ),
    Case(
        "cholesky_inverse(chol(spd(x)))",
        lambda lib, x: lib.cholesky_inverse(_factor(lib, x)),
        ((3, 3),),
    ),
    Case(
        "chol(spd(x)).mT.cholesky_inverse(upper=True) batched",
        lambda lib, x: _factor(lib, x).mT.cholesky_inverse(upper=True),
        ((2, 3, 3),),
    ),
    # -- matrix_power
    *(
        Case(
            f"linalg.matrix_power(x,{n})",
            lambda lib, x, n=n: lib.linalg.matrix_power(x, n),
            ((3, 3),),
        )
        for n in (0, 1, 2, 3, 4, 5, 6)
    ),
    Case(
        "matrix_power(x+4I,-1)",
        lambda lib, x: lib.matrix_power(_diagonal_up(lib, x), -1),
        ((3, 3),),
    ),
    Case(
        "(x+4I).matrix_power(-3)",
        lambda lib, x: _diagonal_up(lib, x).matrix_power(-3),
        ((3, 3),),
    ),
    Case(
        "linalg.matrix_power(x,3) batched",
        lambda lib, x: lib.linalg.matrix_power(x, 3),
        (S3[:1] + (3, 3),),
    ),
    # -- matrix_exp
    Case("linalg.matrix_exp(x)", lambda lib, x: lib.linalg.matrix_exp(x), ((3, 3),)),
    Case("matrix_exp(x) batched", lambda lib, x: lib.matrix_exp(x), ((2, 3, 3),)),
    Case("x.matrix_exp() 1x1", lambda lib, x: x.matrix_exp(), ((1, 1),)),
    Case(
        "linalg.matrix_exp(3x) large norm",
        lambda lib, x: lib.linalg.matrix_exp(3 * x),
        ((2, 2),),
    ),
    # -- multi_dot
    Case(
        "linalg.multi_dot([x,y])",
        lambda lib, a, b: lib.linalg.multi_dot([a, b]),
        ((2, 3), (3, 4)),
    ),
    Case(
        "linalg.multi_dot([x,y,z]) (xy)z",
        lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
        ((2, 5), (5, 3), (3, 4)),
    ),
    Case(
        "linalg.multi_dot([x,y,z]) x(yz)",
        lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
        ((5, 2), (2, 6), (6, 1)),
    ),
    Case(
        "linalg.multi_dot([u,x,y,z,v]) vectors at the ends",
        lambda lib, u, a, b, c, v: lib.linalg.multi_dot([u, a, b, c, v]),
        ((3,), (3, 5), (5, 2), (2, 4), (4,)),
    ),
    Case(
        "linalg.multi_dot([u,x]) row vector",
        lambda lib, u, a: lib.linalg.multi_dot((u, a)),
        ((3,), (3, 2)),
    ),
    # -- linalg.cross (dim=-1 by default, unlike torch.cross)
    Case("linalg.cross(x,y)", lambda lib, a, b: lib.linalg.cross(a, b), ((3, 3), (3, 3))),
    Case(
        "linalg.cross(x,y,dim=0) broadcast",
        lambda lib, a, b: lib.linalg.cross(a, b, dim=0),
        ((3, 2), (3, 1)),
    ),
    Case(
        "linalg.cross(x,y) batched",
        lambda lib, a, b: lib.linalg.cross(a, b),
        ((2, 4, 3), (2, 4, 3)),
    ),
]

CASES += [
    # -- legacy triangular_solve: (solution, cloned_coefficient), both differentiable
    Case(
        "triangular_solve(y,x+4I).solution",
        lambda lib, a, b: lib.triangular_solve(b, _diagonal_up(lib, a)).solution,
        ((3, 3), (3, 2)),
    ),
    Case(
        "y.triangular_solve(x,upper=False,transpose=True) both outputs",
        lambda lib, a, b: sum(
            (part * part).sum() for part in b.triangular_solve(a, upper=False, transpose=True)
        ),
        ((2, 3, 3), (2, 3, 2)),
        (POS, ANY),
    ),
    Case(
        "triangular_solve(y,x,unitriangular=True) broadcast",
        lambda lib, a, b: lib.triangular_solve(b, a, unitriangular=True)[0],
        ((3, 3), (2, 3, 1)),
    ),
]

CASES += [
    # -- LU of rectangular matrices (PyTorch's wide and tall formulas)
    Case("linalg.lu_factor(x).LU wide", lambda lib, x: lib.linalg.lu_factor(x).LU, ((2, 3, 5),)),
    Case("linalg.lu(x).L tall", lambda lib, x: lib.linalg.lu(x).L, ((5, 3),)),
    Case("linalg.lu(x).U wide", lambda lib, x: lib.linalg.lu(x).U, ((3, 4),)),
]

CASES += [
    Case(
        "linalg.lu_solve(lu_factor(x+4I),y) broadcast",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(_diagonal_up(lib, a)), b),
        ((3, 3), (2, 3, 2)),
    ),
]
