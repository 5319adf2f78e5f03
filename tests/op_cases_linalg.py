"""Op cases: linear algebra (ops/linalg.py, ops/products.py, ops/einsum.py).

``CASES`` are run by test_ops.py (finite differences, and PyTorch's forward, graph, gradient
and double backward). ``EINSUM_CASES`` are run by test_linalg.py with the same checks except
the graph: PyTorch records einsum as a chain of permutes and bmm's, gradienti as one
EinsumBackward node.
"""

import numpy as np
from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, Case, S  # noqa: F401


def _const(lib, like, shape, seed):
    """A constant operand (not requiring grad) in the dtype of ``like``."""
    values = np.random.default_rng(seed).uniform(-2.0, 2.0, shape)
    return lib.tensor(values, dtype=like.dtype)


def _matmul(a, b):
    """``x@y`` for shapes a and b."""
    return Case(f"x@y {a}@{b}", lambda lib, x, y: x @ y, (a, b))


CASES: list[Case] = [
    # -- matmul: each branch of PyTorch's decomposition (graphs compared node for node)
    _matmul((3, 4), (4, 5)),  # mm
    _matmul((4,), (4,)),  # dot
    _matmul((3, 4), (4,)),  # mv
    _matmul((4,), (4, 5)),  # unsqueeze, mm, squeeze_
    _matmul((2, 3, 4), (2, 4, 5)),  # expand, view, bmm
    _matmul((2, 3, 4), (4, 5)),  # folded into one mm
    _matmul((3, 4), (2, 4, 5)),  # folded, transposed
    _matmul((2, 1, 3, 4), (5, 4, 6)),  # broadcast batches: expand, clone, bmm
    _matmul((2, 3, 4), (4,)),  # folded into one mv
    _matmul((4,), (2, 4, 5)),
    _matmul((1, 3, 4), (2, 4, 5)),  # a batch of one is squeezed, then folded
    _matmul((2, 3, 4), (1, 4, 5)),
    _matmul((2, 2, 3, 4), (2, 2, 4, 5)),
    _matmul((2, 3, 4), (2, 1, 4, 5)),
    _matmul((3, 2, 3, 4), (4,)),
    _matmul((2, 3, 1), (1, 5)),
    Case("matmul(x,y)", lambda lib, x, y: lib.matmul(x, y), ((3, 4), (4, 2))),
    Case("x.matmul(y) batched", lambda lib, x, y: x.matmul(y), ((2, 3, 4), (2, 4, 2))),
    Case("x.__rmatmul__(y)", lambda lib, x, y: x.__rmatmul__(y), ((4, 2), (3, 4))),
    Case("x@x square", lambda lib, x: x @ x, ((3, 3),)),
    Case("x@x vector", lambda lib, x: x @ x, ((4,),)),
    # a constant operand changes PyTorch's path (folding then depends on the strides)
    Case("x@constant (2,3,4)@(4,5)", lambda lib, x: x @ _const(lib, x, (4, 5), 1), (S3,)),
    Case("constant@x (3,4)@(2,4,5)", lambda lib, x: _const(lib, x, (3, 4), 2) @ x, ((2, 4, 5),)),
    Case("x@constant (2,3,4)@(4,)", lambda lib, x: x @ _const(lib, x, (4,), 3), (S3,)),
    Case("constant@x (4,)@(2,4,5)", lambda lib, x: _const(lib, x, (4,), 4) @ x, ((2, 4, 5),)),
    Case(
        "x@constant (1,3,4)@(2,4,5)", lambda lib, x: x @ _const(lib, x, (2, 4, 5), 5), ((1, 3, 4),)
    ),
    Case(
        "((x@y).tanh()@z).sum()", lambda lib, x, y, z: ((x @ y).tanh() @ z).sum(), (S, (3, 4), (4,))
    ),
    Case("(x@y)*(x@y)", lambda lib, x, y: (x @ y) * (x @ y), ((2, 3, 4), (4, 2))),
    # -- mm, bmm, mv, dot, outer
    Case("mm(x,y)", lambda lib, x, y: lib.mm(x, y), ((2, 3), (3, 4))),
    Case("x.mm(y)", lambda lib, x, y: x.mm(y), ((3, 3), (3, 1))),
    Case("bmm(x,y)", lambda lib, x, y: lib.bmm(x, y), ((2, 3, 4), (2, 4, 3))),
    Case("x.bmm(y)", lambda lib, x, y: x.bmm(y), ((3, 1, 2), (3, 2, 2))),
    Case("mv(x,y)", lambda lib, x, y: lib.mv(x, y), ((2, 3), (3,))),
    Case("x.mv(y)", lambda lib, x, y: x.mv(y), ((4, 2), (2,))),
    Case("dot(x,y)", lambda lib, x, y: lib.dot(x, y), ((3,), (3,))),
    Case("x.dot(y)", lambda lib, x, y: x.dot(y), ((5,), (5,))),
    Case("outer(x,y)", lambda lib, x, y: lib.outer(x, y), ((3,), (4,))),
    Case("x.outer(y)", lambda lib, x, y: x.outer(y), ((2,), (3,))),
    Case("ger(x,y)", lambda lib, x, y: lib.ger(x, y), ((3,), (2,))),
    Case("x.ger(y)", lambda lib, x, y: x.ger(y), ((4,), (1,))),
    # -- trace, tril, triu
    Case("trace(x)", lambda lib, x: lib.trace(x), ((3, 3),)),
    Case("x.trace() rectangular", lambda lib, x: x.trace(), ((3, 5),)),
    Case("trace(x@y)", lambda lib, x, y: lib.trace(x @ y), ((3, 4), (4, 3))),
    Case("tril(x)", lambda lib, x: lib.tril(x), ((4, 4),)),
    Case("tril(x,1)", lambda lib, x: lib.tril(x, 1), ((3, 4),)),
    Case("x.tril(-1)", lambda lib, x: x.tril(-1), ((4, 3),)),
    Case("x.tril(diagonal=-1) 3-d", lambda lib, x: x.tril(diagonal=-1), (S3,)),
    Case("triu(x)", lambda lib, x: lib.triu(x), ((4, 4),)),
    Case("triu(x,-1)", lambda lib, x: lib.triu(x, -1), ((3, 4),)),
    Case("x.triu(2) 3-d", lambda lib, x: x.triu(2), (S3,)),
    # -- diag, diagonal
    Case("diag(x) 1-d", lambda lib, x: lib.diag(x), ((3,),)),
    Case("diag(x,1) 1-d", lambda lib, x: lib.diag(x, 1), ((3,),)),
    Case("diag(x,diagonal=-2) 1-d", lambda lib, x: lib.diag(x, diagonal=-2), ((2,),)),
    Case("diag(x) 2-d", lambda lib, x: lib.diag(x), ((3, 3),)),
    Case("diag(x,1) 2-d", lambda lib, x: lib.diag(x, 1), ((3, 4),)),
    Case("x.diag(-1) 2-d", lambda lib, x: x.diag(-1), ((4, 3),)),
    Case("diagonal(x)", lambda lib, x: lib.diagonal(x), ((3, 4),)),
    Case("diagonal(x,1)", lambda lib, x: lib.diagonal(x, 1), ((3, 3),)),
    Case("x.diagonal(-1,1,2) 3-d", lambda lib, x: x.diagonal(-1, 1, 2), (S3,)),
    Case("x.diagonal(0,2,0) 3-d", lambda lib, x: x.diagonal(0, 2, 0), (S3,)),
    Case(
        "diagonal(x,offset=1,dim1=-1,dim2=0)",
        lambda lib, x: lib.diagonal(x, offset=1, dim1=-1, dim2=0),
        (S3,),
    ),
    Case("diag(diag(x))", lambda lib, x: lib.diag(lib.diag(x)), ((3, 3),)),
    # -- declared ops reached by no case above (tests/test_completeness.py asks for one each)
    Case("addmm(b,x,y)", lambda lib, b, x, y: lib.addmm(b, x, y), ((4,), (2, 3), (3, 4))),
    Case(
        "conv1d(x,w,b,padding=1)",
        lambda lib, x, w, b: lib.conv1d(x, w, b, padding=1),
        ((2, 3, 5), (4, 3, 3), (4,)),
    ),
    Case(
        "conv2d(x,w,b,stride=2)",
        lambda lib, x, w, b: lib.conv2d(x, w, b, stride=2),
        ((1, 2, 5, 5), (3, 2, 3, 3), (3,)),
    ),
]


def _einsum(equation, shapes, note=""):
    return Case(
        f"einsum {equation!r} {shapes}{note}", lambda lib, *xs: lib.einsum(equation, *xs), shapes
    )


EINSUM_CASES: list[Case] = [
    _einsum("ij,jk->ik", ((2, 3), (3, 4))),
    _einsum("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))),
    _einsum("ii->i", ((3, 3),)),
    _einsum("ii", ((3, 3),)),
    _einsum("i,j->ij", ((3,), (4,))),
    _einsum("...ij,...jk->...ik", ((2, 2, 3), (2, 3, 4))),
    _einsum("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))),
    _einsum("...ij,...jk->...ik", ((2, 3), (3, 2))),
    _einsum("ij->ji", ((2, 3),)),
    _einsum("ijk->", (S3,)),
    _einsum("ij->i", (S,)),
    _einsum("ji", (S,)),
    _einsum("ij,jk", ((2, 3), (3, 2))),
    _einsum("i,i->", ((4,), (4,))),
    _einsum("ij,j->i", ((2, 3), (3,))),
    _einsum("iij->j", ((3, 3, 2),)),
    _einsum("iji->j", ((3, 2, 3),)),
    _einsum("ii,i->i", ((3, 3), (3,))),
    _einsum("ijk,ikl->jl", ((2, 3, 4), (2, 4, 2))),
    _einsum("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))),
    _einsum("i,j,k->ijk", ((2,), (3,), (2,))),
    _einsum("ij,ij->ij", ((1, 3), (2, 3))),
    _einsum("ij,jk->ik", ((2, 1), (3, 4))),
    _einsum("ij,kj->", ((2, 3), (4, 3))),
    _einsum("b...,b->...", ((2, 3, 2), (2,))),
    _einsum("...ii->...i", ((2, 3, 3),)),
    _einsum("i,->i", ((3,), ())),
    _einsum("ij,jk->ik", ((8, 24), (24, 24)), " (optimized)"),
    Case("einsum x,x same tensor", lambda lib, x: lib.einsum("i,i->", x, x), ((4,),)),
    Case("einsum list of operands", lambda lib, x, y: lib.einsum("ij,jk->ik", [x, y]), (S, (3, 2))),
    Case(
        "einsum sublists",
        lambda lib, x, y: lib.einsum(x, [0, 1], y, [1, 2], [0, 2]),
        (S, (3, 2)),
    ),
    Case("einsum(x@y) chain", lambda lib, x, y: lib.einsum("ij->j", (x @ y).tanh()), (S, (3, 4))),
]
