"""Op cases: NaN-skipping reductions, quantiles and extremes (ops/nan_reductions.py: nansum,
nanmean; ops/quantile.py: quantile, nanquantile; ops/lerp.py; ops/aminmax.py). Run by
test_ops.py.

A NaN is put in with ``masked_fill`` (its gradient is 0 there), so the cases check that
nansum's gradient is 0 at a NaN; the values, dtypes and errors are compared with PyTorch in
test_nan_reductions.py.
"""

from op_cases import POS, S3, UNIT, Case, S

# Where the NaN go in an S3 input: two in the first row of the first matrix.
_NAN_AT = [[[False, True, False, True], [False] * 4, [False] * 4]] + [[[False] * 4] * 3]


def _with_nan(lib, x):
    return x.masked_fill(lib.tensor(_NAN_AT), float("nan"))


def _q(lib, x, values=(0.2, 0.9)):
    return lib.tensor(values, dtype=x.dtype)


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
    # -- quantile and nanquantile (the inputs have no ties: the ranks do not move)
    Case("quantile(x, 0.3)", lambda lib, x: lib.quantile(x, 0.3), (S3,)),
    Case("x.quantile(0.75, dim=1)", lambda lib, x: x.quantile(0.75, dim=1), (S3,)),
    Case("quantile(x, 0.5, 0, keepdim)", lambda lib, x: lib.quantile(x, 0.5, 0, True), (S3,)),
    Case(
        "quantile(x, q tensor, dim=-1)",
        lambda lib, x: lib.quantile(x, _q(lib, x), dim=-1),
        (S3,),
    ),
    Case(
        "quantile(x, q tensor, keepdim)",
        lambda lib, x: lib.quantile(x, _q(lib, x), dim=1, keepdim=True),
        (S3,),
    ),
    Case(
        "quantile differentiable in q",
        lambda lib, x, q: lib.quantile(x, q * 0.4 + 0.5, dim=1),
        (S, (2,)),
        (POS, UNIT),
    ),
    *[
        Case(
            f"quantile {mode}",
            lambda lib, x, mode=mode: lib.quantile(x, 0.4, dim=2, interpolation=mode),
            (S3,),
        )
        for mode in ("lower", "higher", "midpoint", "nearest")
    ],
    Case("quantile 0-d", lambda lib, x: lib.quantile(x, 0.5, dim=0), ((),)),
    Case("nanquantile(x, 0.4, 2)", lambda lib, x: lib.nanquantile(x, 0.4, 2), (S3,)),
    Case(
        "nanquantile with NaN",
        lambda lib, x: _with_nan(lib, x).nanquantile(_q(lib, x), dim=-1),
        (S3,),
    ),
    Case(
        "nanquantile with NaN, all",
        lambda lib, x: lib.nanquantile(_with_nan(lib, x), 0.6, interpolation="midpoint"),
        (S3,),
    ),
    # -- lerp (quantile's interpolation)
    Case("lerp(a, b, 0.3)", lambda lib, a, b: lib.lerp(a, b, 0.3), (S, S)),
    Case("a.lerp(b, 0.8) broadcast", lambda lib, a, b: a.lerp(b, 0.8), (S, (3,))),
    Case("lerp(a, b, w)", lambda lib, a, b, w: lib.lerp(a, b, w), (S, S, S)),
    Case("lerp(a, b, w) broadcast", lambda lib, a, b, w: lib.lerp(a, b, w), (S, (3,), (2, 1))),
    # -- aminmax (both outputs, stacked; no ties in the inputs)
    Case("aminmax(x)", lambda lib, x: lib.stack(lib.aminmax(x)), (S3,)),
    Case("x.aminmax(dim=1)", lambda lib, x: lib.stack(x.aminmax(dim=1)), (S3,)),
    Case(
        "aminmax(x, dim=-1, keepdim)",
        lambda lib, x: (
            x.aminmax(dim=-1, keepdim=True).max * 3 - x.aminmax(dim=-1, keepdim=True).min
        ),
        (S3,),
    ),
    Case("aminmax 0-d", lambda lib, x: lib.stack(lib.aminmax(x, dim=0)), ((),)),
]
