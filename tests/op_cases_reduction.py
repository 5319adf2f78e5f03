"""Op cases: reductions (ops/reduce.py, ops/extrema.py, ops/softmax.py). Run by test_ops.py.

Inputs are continuous random values, so max/min/amax/amin have no ties and finite
differences are valid; prod, cumprod and the norms with a kink at 0 use inputs away from 0.
Ties, zeros and extreme values are covered by test_reduction.py against PyTorch.
"""

from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, Case, S  # noqa: F401

INF = float("inf")
V = (5,)

CASES: list[Case] = [
    # -- sum and mean: the forms not in test_ops.py's table
    Case("x.sum(dtype=float64)", lambda lib, x: x.sum(dtype=lib.float64), (S3,)),
    Case("x.sum(1, dtype=float64)", lambda lib, x: x.sum(1, dtype=lib.float64), (S3,)),
    Case("x.sum(()) all dims", lambda lib, x: x.sum(()), (S3,)),
    Case("x.sum(0) 0-d", lambda lib, x: x.sum(0), ((),)),
    Case("x.mean(-1) 0-d", lambda lib, x: x.mean(-1, keepdim=True), ((),)),
    Case("x.mean(dtype=float64)", lambda lib, x: x.mean(dtype=lib.float64), (S3,)),
    # -- prod
    Case("x.prod()", lambda lib, x: x.prod(), (S3,), NONZERO),
    Case("prod(x)", lambda lib, x: lib.prod(x), (V,), NONZERO),
    Case("x.prod(1)", lambda lib, x: x.prod(1), (S3,), NONZERO),
    Case("x.prod(-1, keepdim)", lambda lib, x: x.prod(-1, keepdim=True), (S3,), NONZERO),
    Case("prod(x, dim=0)", lambda lib, x: lib.prod(x, dim=0), (S,), NONZERO),
    Case("x.prod(dtype=float64)", lambda lib, x: x.prod(dtype=lib.float64), (S,), NONZERO),
    Case("x.prod(1, dtype=float64)", lambda lib, x: x.prod(1, dtype=lib.float64), (S,), NONZERO),
    Case("x.prod() 0-d", lambda lib, x: x.prod(), ((),), NONZERO),
    Case("x.prod(0) 0-d", lambda lib, x: x.prod(0), ((),), NONZERO),
    # (SMALL_INT: zeros, the products of the others read without a division; a polynomial, so
    # finite differences hold)
    Case("x.prod() zeros", lambda lib, x: x.prod(), (S,), SMALL_INT),
    Case("x.prod(1) zeros", lambda lib, x: x.prod(1), (S3,), SMALL_INT),
    # -- var and std
    Case("x.var()", lambda lib, x: x.var(), (S3,)),
    Case("var(x)", lambda lib, x: lib.var(x), (V,)),
    Case("x.var(1)", lambda lib, x: x.var(1), (S3,)),
    Case("x.var(-1, keepdim)", lambda lib, x: x.var(-1, keepdim=True), (S3,)),
    Case("x.var((0,2))", lambda lib, x: x.var((0, 2)), (S3,)),
    Case("x.var(False)", lambda lib, x: x.var(False), (S3,)),
    Case("x.var(1, False, True)", lambda lib, x: x.var(1, False, True), (S3,)),
    Case("x.var(unbiased=False)", lambda lib, x: x.var(unbiased=False), (S,)),
    Case("x.var(dim=0, correction=0)", lambda lib, x: x.var(dim=0, correction=0), (S3,)),
    Case("x.var(correction=2)", lambda lib, x: x.var(correction=2), (S3,)),
    Case("x.var(1, correction=0.5)", lambda lib, x: x.var(1, correction=0.5), (S3,)),
    Case("x.std()", lambda lib, x: x.std(), (S3,)),
    Case("std(x)", lambda lib, x: lib.std(x), (V,)),
    Case("x.std(1)", lambda lib, x: x.std(1), (S3,)),
    Case("x.std((0,-1), keepdim)", lambda lib, x: x.std((0, -1), keepdim=True), (S3,)),
    Case("x.std(-2, unbiased=False)", lambda lib, x: x.std(-2, unbiased=False), (S3,)),
    Case("std(x, correction=0)", lambda lib, x: lib.std(x, correction=0), (S,)),
    # -- max and min
    Case("x.max()", lambda lib, x: x.max(), (S3,)),
    Case("max(x)", lambda lib, x: lib.max(x), (V,)),
    Case("x.min()", lambda lib, x: x.min(), (S3,)),
    Case("min(x)", lambda lib, x: lib.min(x), (V,)),
    Case("x.max() 0-d", lambda lib, x: x.max(), ((),)),
    Case("x.max(1).values", lambda lib, x: x.max(1).values, (S3,)),
    Case("x.max(-1, keepdim)[0]", lambda lib, x: x.max(-1, keepdim=True)[0], (S3,)),
    Case("max(x, dim=0).values", lambda lib, x: lib.max(x, dim=0).values, (S3,)),
    Case("x.min(2).values", lambda lib, x: x.min(2).values, (S3,)),
    Case("min(x, -2, True).values", lambda lib, x: lib.min(x, -2, True).values, (S3,)),
    Case("x.max(0).values 0-d", lambda lib, x: x.max(0).values, ((),)),
    Case("x.max(1).indices", lambda lib, x: x.max(1).indices, (S3,), differentiable=False),
    Case(
        "x.min(0, keepdim).indices", lambda lib, x: x.min(0, True)[1], (S3,), differentiable=False
    ),
    Case(
        "x.max(1).indices ties", lambda lib, x: x.max(1)[1], (S3,), SMALL_INT, differentiable=False
    ),
    Case(
        "x.min(-1).indices ties",
        lambda lib, x: x.min(-1)[1],
        (S3,),
        SMALL_INT,
        differentiable=False,
    ),
    Case("max(values)**2+min(values)", lambda lib, x: x.max(1)[0] ** 2 + x.min(1)[0], (S3,)),
    # -- amax and amin
    Case("x.amax()", lambda lib, x: x.amax(), (S3,)),
    Case("amax(x, 1)", lambda lib, x: lib.amax(x, 1), (S3,)),
    Case("x.amax((0,2))", lambda lib, x: x.amax((0, 2)), (S3,)),
    Case("x.amax(-1, keepdim)", lambda lib, x: x.amax(-1, keepdim=True), (S3,)),
    Case("x.amin()", lambda lib, x: x.amin(), (S3,)),
    Case("amin(x, (0,-1), True)", lambda lib, x: lib.amin(x, (0, -1), True), (S3,)),
    Case("x.amin(dim=1)", lambda lib, x: x.amin(dim=1), (S3,)),
    Case("x.amax() 0-d", lambda lib, x: x.amax(), ((),)),
    # -- argmax and argmin: integer results, forward only (SMALL_INT: ties pick the first)
    Case("x.argmax()", lambda lib, x: x.argmax(), (S3,), differentiable=False),
    Case("argmax(x, 1)", lambda lib, x: lib.argmax(x, 1), (S3,), differentiable=False),
    Case("x.argmax(-1, keepdim)", lambda lib, x: x.argmax(-1, True), (S3,), differentiable=False),
    Case("x.argmax(keepdim)", lambda lib, x: x.argmax(keepdim=True), (S3,), differentiable=False),
    Case("x.argmin()", lambda lib, x: x.argmin(), (S3,), differentiable=False),
    Case("argmin(x, dim=0)", lambda lib, x: lib.argmin(x, dim=0), (S3,), differentiable=False),
    Case("x.argmax(1) ties", lambda lib, x: x.argmax(1), (S3,), SMALL_INT, differentiable=False),
    Case("x.argmin() ties", lambda lib, x: x.argmin(), (S3,), SMALL_INT, differentiable=False),
    Case("x.argmax() 0-d", lambda lib, x: x.argmax(), ((),), differentiable=False),
    Case(
        "x.count_nonzero()",
        lambda lib, x: x.count_nonzero(),
        (S3,),
        SMALL_INT,
        differentiable=False,
    ),
    Case(
        "count_nonzero(x, (0,2))",
        lambda lib, x: lib.count_nonzero(x, (0, 2)),
        (S3,),
        SMALL_INT,
        differentiable=False,
    ),
    Case(
        "x.count_nonzero(-1)",
        lambda lib, x: x.count_nonzero(-1),
        (S3,),
        SMALL_INT,
        differentiable=False,
    ),
    # -- logsumexp
    Case("x.logsumexp(1)", lambda lib, x: x.logsumexp(1), (S3,)),
    Case("logsumexp(x, (0,2))", lambda lib, x: lib.logsumexp(x, (0, 2)), (S3,)),
    Case("x.logsumexp(-1, keepdim)", lambda lib, x: x.logsumexp(-1, keepdim=True), (S3,)),
    Case("logsumexp(x, dim=0) 1-d", lambda lib, x: lib.logsumexp(x, dim=0), (V,)),
    Case("x.logsumexp(0) 0-d", lambda lib, x: x.logsumexp(0), ((),)),
    # -- softmax and log_softmax
    Case("x.softmax(1)", lambda lib, x: x.softmax(1), (S3,)),
    Case("softmax(x, -1)", lambda lib, x: lib.softmax(x, -1), (S3,)),
    Case("softmax(x, dim=0)", lambda lib, x: lib.softmax(x, dim=0), (S,)),
    Case("x.softmax(0) 1-d", lambda lib, x: x.softmax(0), (V,)),
    Case("x.softmax(0) 0-d", lambda lib, x: x.softmax(0), ((),)),
    Case("x.softmax(1, dtype=float64)", lambda lib, x: x.softmax(1, dtype=lib.float64), (S,)),
    Case("x.log_softmax(1)", lambda lib, x: x.log_softmax(1), (S3,)),
    Case("log_softmax(x, -1)", lambda lib, x: lib.log_softmax(x, -1), (S3,)),
    Case("log_softmax(x, dim=0)", lambda lib, x: lib.log_softmax(x, dim=0), (S,)),
    Case("x.log_softmax(-1) 0-d", lambda lib, x: x.log_softmax(-1), ((),)),
    Case("log_softmax(x, 0, float64)", lambda lib, x: lib.log_softmax(x, 0, lib.float64), (S,)),
    Case("softmax(x*y, 1)*y", lambda lib, x, y: (x * y).softmax(1) * y, (S, S)),
    # -- norm
    Case("x.norm()", lambda lib, x: x.norm(), (S3,)),
    Case("norm(x)", lambda lib, x: lib.norm(x), (V,)),
    Case("x.norm(dim=1)", lambda lib, x: x.norm(dim=1), (S3,)),
    Case("norm(x, 2, -1, True)", lambda lib, x: lib.norm(x, 2, -1, True), (S3,)),
    Case("x.norm(p=2, dim=(0,2))", lambda lib, x: x.norm(p=2, dim=(0, 2)), (S3,)),
    Case("x.norm('fro')", lambda lib, x: x.norm("fro"), (S3,)),
    Case("norm(x, 'fro', (0,1))", lambda lib, x: lib.norm(x, "fro", (0, 1)), (S3,)),
    Case("x.norm(1)", lambda lib, x: x.norm(1), (S3,), NONZERO),
    Case("x.norm(1, dim=0)", lambda lib, x: x.norm(1, dim=0), (S3,), NONZERO),
    Case("x.norm(inf)", lambda lib, x: x.norm(INF), (S3,)),
    Case("norm(x, inf, 1)", lambda lib, x: lib.norm(x, INF, 1), (S3,)),
    Case("x.norm(-inf, (0,1))", lambda lib, x: x.norm(-INF, (0, 1)), (S3,)),
    Case("x.norm(3)", lambda lib, x: x.norm(3), (S3,)),
    Case("x.norm(3, dim=-1)", lambda lib, x: x.norm(3, dim=-1), (S3,)),
    Case("x.norm(1.5, 1)", lambda lib, x: x.norm(1.5, 1), (S3,), NONZERO),
    Case("x.norm(0.5, 1, keepdim)", lambda lib, x: x.norm(0.5, 1, True), (S3,), NONZERO),
    Case("x.norm(dim=1, dtype=float64)", lambda lib, x: x.norm(dim=1, dtype=lib.float64), (S3,)),
    Case("x.norm() 0-d", lambda lib, x: x.norm(), ((),), NONZERO),
    # -- cumsum and cumprod
    Case("x.cumsum(1)", lambda lib, x: x.cumsum(1), (S3,)),
    Case("cumsum(x, -1)", lambda lib, x: lib.cumsum(x, -1), (S3,)),
    Case("cumsum(x, dim=0)", lambda lib, x: lib.cumsum(x, dim=0), (S,)),
    Case("x.cumsum(0, dtype=float64)", lambda lib, x: x.cumsum(0, dtype=lib.float64), (S,)),
    Case("x.cumsum(0) 0-d", lambda lib, x: x.cumsum(0), ((),)),
    Case("x.cumprod(1)", lambda lib, x: x.cumprod(1), (S3,), NONZERO),
    Case("cumprod(x, -1)", lambda lib, x: lib.cumprod(x, -1), (S3,), NONZERO),
    Case("cumprod(x, dim=0)", lambda lib, x: lib.cumprod(x, dim=0), (V,), NONZERO),
    Case("x.cumprod(1, dtype=float64)", lambda lib, x: x.cumprod(1, dtype=lib.float64), (S,), POS),
    Case("x.cumprod(0) 0-d", lambda lib, x: x.cumprod(0), ((),), NONZERO),
    Case("x.cumsum(1).cumprod(1)", lambda lib, x: x.cumsum(1).cumprod(1), (S,), POS),
    # -- compositions: reductions feeding reductions
    Case("x.var(1).sqrt()+x.std(1)", lambda lib, x: x.var(1).sqrt() + x.std(1), (S3,)),
    Case("x.softmax(1).prod(1)", lambda lib, x: x.softmax(1).prod(1), (S3,)),
    Case("x.norm(dim=1).logsumexp(0)", lambda lib, x: x.norm(dim=1).logsumexp(0), (S3,)),
]
