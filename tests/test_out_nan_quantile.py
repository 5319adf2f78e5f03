"""``out=`` of nansum, nanmean, quantile, nanquantile and aminmax (ops/call_forms.py's rules)
against PyTorch: the result written into out (computed in out's dtype for nansum/nanmean), the
returned object, and the errors."""

import math

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

DATA = [[1.0, math.nan, 4.0], [2.0, 3.0, -1.0]]


@pytest.mark.parametrize(
    ("call", "out"),
    [
        ("lib.nansum(x, 1, out=o)", "lib.empty(2, dtype=lib.float64)"),
        ("lib.nansum(x, out=o)", "lib.empty(())"),
        ("lib.nansum(lib.tensor([1, 2]), out=o)", "lib.empty((), dtype=lib.float32)"),
        ("lib.nanmean(x, 1, out=o)", "lib.empty(2, dtype=lib.float64)"),
        ("lib.nanmean(x, 0, keepdim=True, out=o)", "lib.empty(0)"),
        ("lib.quantile(x, 0.5, 1, out=o)", "lib.empty(2)"),
        ("lib.nanquantile(x, lib.tensor([0.25, 0.5]), 1, out=o)", "lib.empty(2, 2)"),
    ],
)
def test_written_into_out_like_torch(call, out):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(DATA)
        o = eval(out, {"lib": lib})
        result = eval(call, {"lib": lib, "x": x, "o": o})
        assert result is o
        results.append(o)
    ours, theirs = results
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


def test_aminmax_out_like_torch():
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(DATA)
        low, high = lib.empty(3), lib.empty(3)
        result = lib.aminmax(x, dim=0, out=(low, high))
        assert result.min is low and result.max is high
        results.append((repr(result), type(result).__name__))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    ("call", "out"),
    [
        ("lib.nansum(x, out=o)", "lib.empty((), dtype=lib.int64)"),
        ("lib.nanmean(x, out=o)", "lib.empty((), dtype=lib.int64)"),
        ("lib.nansum(x, dtype=lib.float64, out=o)", "lib.empty(())"),
        ("lib.quantile(x, 0.5, out=o)", "lib.empty((), dtype=lib.float64)"),
        ("lib.nanquantile(x, 0.5, out=o)", "lib.empty((), dtype=lib.float64)"),
        ("lib.nansum(x.requires_grad_(), out=o)", "lib.empty(())"),
    ],
)
def test_errors_like_torch(call, out):
    caught = []
    for lib in (gradienti, torch):
        x = lib.tensor(DATA)
        o = eval(out, {"lib": lib})
        with pytest.raises(Exception) as error:
            eval(call, {"lib": lib, "x": x, "o": o})
        caught.append((type(error.value).__name__, str(error.value)))
    assert caught[0] == caught[1]
