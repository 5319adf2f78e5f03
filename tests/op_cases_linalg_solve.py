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
    """``x + 2 I``: a triangle of it is far from singular (float32 results keep 6 digits)."""
    return x + 2 * lib.eye(x.shape[-1], dtype=x.dtype)


CASES: list[Case] = [
    # -- solve_triangular (A's triangle only is read)
    Case(
        "linalg.solve_triangular(x,y,upper=True)",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
        ((3, 3), (3, 2)),
        (POS, ANY),
    ),
    Case(
        "linalg.solve_triangular(x+2I,y,upper=False) batched",
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
