"""Op cases: torch.linalg's compositions (ops/linalg_composite.py): vecdot, diagonal, matmul,
cond (its singular-value forms: the norm forms fill the inverse in place, so PyTorch's
backward refuses them; tests/test_linalg_composite.py checks that), tensorinv, tensorsolve
and vander. Run by test_ops.py with the whole table.

A matrix to invert is ``x + 4 I`` (far from singular: float32 results keep 6 digits).
"""

from op_cases import ANY, POS, UNIT, Case


def _shifted(lib, x, n: int):
    """x (any shape of n * n elements) plus 4 on the diagonal of its n x n matrix, reshaped
    back."""
    shape = x.shape
    return (x.reshape(n, n) + 4 * lib.eye(n, dtype=x.dtype)).reshape(shape)


CASES: list[Case] = [
    # -- vecdot: (x * y).sum(dim), broadcast; two vectors: vdot
    Case(
        "linalg.vecdot(x,y) vectors",
        lambda lib, x, y: lib.linalg.vecdot(x, y),
        ((4,), (4,)),
    ),
    Case(
        "linalg.vecdot(x,y)",
        lambda lib, x, y: lib.linalg.vecdot(x, y),
        ((2, 3), (2, 3)),
    ),
    Case(
        "linalg.vecdot(x,y,dim=0) broadcast",
        lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0),
        ((4, 3), (4, 1)),
    ),
    # -- diagonal
    Case(
        "linalg.diagonal(x)",
        lambda lib, x: lib.linalg.diagonal(x),
        ((2, 3, 4),),
    ),
    Case(
        "linalg.diagonal(x,offset=-1,dim1=0,dim2=2)",
        lambda lib, x: lib.linalg.diagonal(x, offset=-1, dim1=0, dim2=2),
        ((3, 2, 4),),
    ),
    # -- matmul (torch.matmul)
    Case(
        "linalg.matmul(x,y) batch by vector",
        lambda lib, x, y: lib.linalg.matmul(x, y),
        ((2, 3, 4), (4,)),
    ),
    # -- cond by singular values: s_max / s_min, s_min / s_max, sum(s) * sum(1 / s)
    Case(
        "linalg.cond(x+4I)",
        lambda lib, x: lib.linalg.cond(_shifted(lib, x, 3)),
        ((3, 3),),
    ),
    Case(
        "linalg.cond(x,-2) batched",
        lambda lib, x: lib.linalg.cond(x + 4 * lib.eye(3, dtype=x.dtype), -2),
        ((2, 3, 3),),
    ),
    Case(
        "linalg.cond(x,2) wide",
        lambda lib, x: lib.linalg.cond(x, 2),
        ((3, 4),),
    ),
    Case(
        "linalg.cond(x+4I,'nuc') batched",
        lambda lib, x: lib.linalg.cond(x + 4 * lib.eye(3, dtype=x.dtype), "nuc"),
        ((2, 3, 3),),
    ),
    # -- tensorinv: the inverse of x as a (6, 6) matrix, reshaped
    Case(
        "linalg.tensorinv(x,ind=2)",
        lambda lib, x: lib.linalg.tensorinv(_shifted(lib, x, 6), ind=2),
        ((2, 3, 6),),
    ),
    Case(
        "linalg.tensorinv(x,ind=1)",
        lambda lib, x: lib.linalg.tensorinv(_shifted(lib, x, 6), ind=1),
        ((6, 2, 3),),
    ),
    # -- tensorsolve: solve of x as a (6, 6) matrix and y flattened
    Case(
        "linalg.tensorsolve(x,y)",
        lambda lib, a, b: lib.linalg.tensorsolve(_shifted(lib, a, 6), b),
        ((2, 3, 6), (2, 3)),
    ),
    Case(
        "linalg.tensorsolve(x,y,dims=(0,))",
        lambda lib, a, b: lib.linalg.tensorsolve(
            _shifted(lib, a, 6).reshape(6, 2, 3), b, dims=(0,)
        ),
        ((6, 6), (2, 3)),
    ),
    # -- vander: ones, then the cumulative product of x repeated
    Case(
        "linalg.vander(x)",
        lambda lib, x: lib.linalg.vander(x),
        ((3,),),
        POS,
    ),
    Case(
        "linalg.vander(x,N=4) batched",
        lambda lib, x: lib.linalg.vander(x, N=4),
        ((2, 3),),
        ANY,
    ),
    # -- householder_product (orgqr): one node, its own VJP and JVP. Entries in [-0.9, 0.9]:
    # larger ones make a product of growing non-orthogonal reflections, whose float32
    # rounding (PyTorch's as ours) exceeds the table's tolerance.
    Case(
        "linalg.householder_product(x,tau)",
        lambda lib, a, tau: lib.linalg.householder_product(a, tau),
        ((4, 3), (3,)),
        UNIT,
    ),
    Case(
        "linalg.householder_product(x,tau) batched, fewer reflectors",
        lambda lib, a, tau: lib.linalg.householder_product(a, tau),
        ((2, 5, 3), (2, 2)),
        UNIT,
    ),
    Case(
        "orgqr(x,tau) square",
        lambda lib, a, tau: lib.orgqr(a, tau),
        ((3, 3), (3,)),
        UNIT,
    ),
    Case(
        "x.orgqr(tau)",
        lambda lib, a, tau: a.orgqr(tau),
        ((4, 2), (2,)),
        UNIT,
    ),
]
