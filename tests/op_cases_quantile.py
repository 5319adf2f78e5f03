"""Op cases: NaN-skipping reductions and quantiles (ops/nan_reductions.py: nansum, nanmean;
ops/quantile.py: quantile, nanquantile). Run by test_ops.py.

A NaN is put in with ``masked_fill`` (its gradient is 0 there), so the cases check that
nansum's gradient is 0 at a NaN; the values, dtypes and errors are compared with PyTorch in
test_nan_reductions.py.
"""

from op_cases import S3, Case, S

# Where the NaN go in an S3 input: two in the first row of the first matrix.
_NAN_AT = [[[False, True, False, True], [False] * 4, [False] * 4]] + [[[False] * 4] * 3]


def _with_nan(lib, x):
    return x.masked_fill(lib.tensor(_NAN_AT), float("nan"))


CASES: list[Case] = [
    # -- nansum and nanmean
    Case("nansum(x)", lambda lib, x: lib.nansum(x), (S3,)),
    Case("x.nansum(1)", lambda lib, x: x.nansum(1), (S3,)),
    Case("nansum(x, (0, 2), keepdim)", lambda lib, x: lib.nansum(x, (0, 2), True), (S3,)),
    Case("nansum with NaN", lambda lib, x: lib.nansum(_with_nan(lib, x), -1), (S3,)),
    Case("nansum with NaN, all", lambda lib, x: _with_nan(lib, x).nansum(), (S3,)),
    Case("nansum 0-d", lambda lib, x: lib.nansum(x), ((),)),
    Case("x.nanmean()", lambda lib, x: x.nanmean(), (S,)),
    Case("nanmean(x, 0, keepdim)", lambda lib, x: lib.nanmean(x, 0, keepdim=True), (S3,)),
    Case("nanmean with NaN", lambda lib, x: lib.nanmean(_with_nan(lib, x), dim=2), (S3,)),
    Case("nanmean with NaN, all", lambda lib, x: _with_nan(lib, x).nanmean(), (S3,)),
]
