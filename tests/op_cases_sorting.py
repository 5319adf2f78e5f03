"""Op cases: ordering (ops/sorting.py: sort, msort, topk, kthvalue, median, nanmedian, mode).
Run by test_ops.py.

Inputs are continuous random values, so no two are equal: the chosen indices do not move
under a small change of the input and finite differences are valid. Ties, NaN, integer
inputs, the indices and the errors are compared with PyTorch in test_sorting.py.
"""

from op_cases import S3, Case, S

V = (7,)

CASES: list[Case] = [
    # -- sort and msort
    Case("sort(x).values", lambda lib, x: lib.sort(x).values, (S3,)),
    Case("x.sort(0, descending)", lambda lib, x: x.sort(0, descending=True)[0], (S3,)),
    Case("sort(x, stable, dim=1)", lambda lib, x: lib.sort(x, dim=1, stable=True).values, (S3,)),
    Case("x.sort() 0-d", lambda lib, x: x.sort().values, ((),)),
    Case("msort(x)", lambda lib, x: lib.msort(x), (S3,)),
    Case("x.msort() 1-d", lambda lib, x: x.msort(), (V,)),
    # -- topk
    Case("x.topk(2)", lambda lib, x: x.topk(2).values, (S3,)),
    Case("topk(x, 1, dim=0)", lambda lib, x: lib.topk(x, 1, dim=0)[0], (S,)),
    Case(
        "topk smallest unsorted",
        lambda lib, x: lib.topk(x, 4, largest=False, sorted=False).values,
        (V,),
    ),
    Case("x.topk(1) 0-d", lambda lib, x: x.topk(1).values, ((),)),
    # -- kthvalue
    Case("x.kthvalue(2)", lambda lib, x: x.kthvalue(2).values, (S3,)),
    Case("kthvalue(x, 2, 0, keepdim)", lambda lib, x: lib.kthvalue(x, 2, 0, True)[0], (S3,)),
    # -- median and nanmedian
    Case("x.median()", lambda lib, x: x.median(), (S3,)),
    Case("median(x) even count", lambda lib, x: lib.median(x), (S,)),
    Case("x.median(1)", lambda lib, x: x.median(1).values, (S3,)),
    Case("median(x, -1, keepdim)", lambda lib, x: lib.median(x, -1, keepdim=True)[0], (S3,)),
    Case("x.nanmedian()", lambda lib, x: x.nanmedian(), (S3,)),
    Case("nanmedian(x, 0)", lambda lib, x: lib.nanmedian(x, 0).values, (S3,)),
    # -- mode (no two values equal: the smallest)
    Case("x.mode()", lambda lib, x: x.mode().values, (S3,)),
    Case("mode(x, 0, keepdim)", lambda lib, x: lib.mode(x, 0, keepdim=True)[0], (S,)),
]
