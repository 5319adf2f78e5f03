"""prelu, threshold, softshrink and bilinear with dtypes and Scalars at their edges, against
PyTorch: no type promotion (prelu, bilinear), Scalars checked into the tensor's type as c10's
checked_convert (threshold), bool refused, and the messages' type names."""

from __future__ import annotations

import pytest

import gradienti

torch = pytest.importorskip("torch")


def _outcome(lib, call):
    try:
        result = call(lib, lib.nn.functional)
    except Exception as error:  # noqa: BLE001 - the class and text are compared
        return type(error).__name__, str(error)
    return str(result.dtype), result.tolist()


CALLS = {
    "prelu float32 input, float64 weight": lambda lib, F: F.prelu(
        -lib.ones(2, 3), lib.full((3,), 0.25, dtype=lib.float64)
    ),
    "prelu int64 input, float32 weight": lambda lib, F: F.prelu(
        lib.ones(2, 3, dtype=lib.int64), lib.full((3,), 0.25)
    ),
    "prelu int64 both": lambda lib, F: F.prelu(
        lib.ones(2, 3, dtype=lib.int64), lib.ones(3, dtype=lib.int64)
    ),
    "prelu float16 input, float32 weight": lambda lib, F: F.prelu(
        -lib.ones(2, 3, dtype=lib.float16), lib.full((3,), 0.25)
    ),
    "threshold bool": lambda lib, F: F.threshold(lib.tensor([True, False]), 0, 1),
    "threshold float32 value 1e40": lambda lib, F: F.threshold(lib.arange(5.0), 1, 1e40),
    "threshold int64 threshold 1e40": lambda lib, F: F.threshold(lib.arange(5), 1e40, 1),
    "threshold uint8 value -1.0": lambda lib, F: F.threshold(lib.arange(5).to(lib.uint8), 1, -1.0),
    "threshold uint8 value -1 wraps": lambda lib, F: F.threshold(
        lib.arange(5).to(lib.uint8), 1, -1
    ),
    "threshold float16 value 1e5": lambda lib, F: F.threshold(
        lib.arange(5.0, dtype=lib.float16), 1, 1e5
    ),
    "threshold int64 threshold -1.5 truncates": lambda lib, F: F.threshold(
        lib.arange(-3, 3), -1.5, 7
    ),
    "softshrink float16 negative lambd": lambda lib, F: F.softshrink(
        lib.arange(-2.0, 3.0, dtype=lib.float16), -1.0
    ),
    "bilinear float64 input1": lambda lib, F: F.bilinear(
        lib.ones(2, 3, dtype=lib.float64), lib.ones(2, 4), lib.ones(5, 3, 4)
    ),
    "bilinear float64 bias": lambda lib, F: F.bilinear(
        lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 4), lib.ones(5, dtype=lib.float64)
    ),
    "bilinear dtype checked before the dims": lambda lib, F: F.bilinear(
        lib.ones(2, 3), lib.ones(2, 4, 3), lib.ones(5, 3, 4, dtype=lib.float64)
    ),
    "bilinear bias (2, 5) read by its first size": lambda lib, F: F.bilinear(
        lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 4), lib.ones(2, 5)
    ),
    "bilinear 0-d bias": lambda lib, F: F.bilinear(
        lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 4), lib.ones(())
    ),
    "bilinear 0-d inputs": lambda lib, F: F.bilinear(lib.ones(()), lib.ones(()), lib.ones(5, 3, 4)),
    "bilinear bool": lambda lib, F: F.bilinear(
        lib.ones(2, 3, dtype=lib.bool),
        lib.ones(2, 4, dtype=lib.bool),
        lib.ones(5, 3, 4, dtype=lib.bool),
    ),
    "bilinear int32": lambda lib, F: F.bilinear(
        lib.ones(2, 3, dtype=lib.int32),
        lib.ones(2, 4, dtype=lib.int32),
        lib.ones(5, 3, 4, dtype=lib.int32),
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_dtype_edge_matches_torch(name):
    assert _outcome(gradienti, CALLS[name]) == _outcome(torch, CALLS[name])
