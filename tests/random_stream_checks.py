"""Shared by the sampling tests: seeds, shapes and dtypes, and the checks that gradienti and
torch drew the same values and left their generators at the same place."""

import numpy as np
import pytest

import gradienti
from gradienti import random as grandom

torch = pytest.importorskip("torch")  # (a test module importing this is skipped without it)

SEEDS = (0, 7, 2**31 - 1)
SHAPES = ((), (1,), (5,), (15,), (16,), (17,), (4, 5), (3, 20), (100,))
FLOATS = (
    (gradienti.float32, torch.float32),
    (gradienti.float64, torch.float64),
)
FLOAT_IDS = ["float32", "float64"]
HALF_AND_FLOATS = ((gradienti.float16, torch.float16), *FLOATS)
ALL_DTYPES = (
    (gradienti.int8, torch.int8),
    (gradienti.uint8, torch.uint8),
    (gradienti.int16, torch.int16),
    (gradienti.int32, torch.int32),
    (gradienti.int64, torch.int64),
    (gradienti.float16, torch.float16),
    (gradienti.float32, torch.float32),
    (gradienti.float64, torch.float64),
    (gradienti.bool, torch.bool),
)


def same(ours, theirs):
    ours, theirs = np.asarray(ours.detach().numpy()), theirs.detach().numpy()
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs, equal_nan=True), (ours.ravel()[:8], theirs.ravel()[:8])


def both(seed):
    torch.manual_seed(seed)
    grandom.manual_seed(seed)


def stream_continues():
    same(gradienti.rand(5), torch.rand(5))
    same(gradienti.randn(3, dtype=gradienti.float64), torch.randn(3, dtype=torch.float64))


def pair(array, ours_dtype, theirs_dtype):
    """The same values as a gradienti and a torch tensor (torch rounds float64 to float16
    through float32, so gradienti's tensor is made from torch's values)."""
    theirs = torch.tensor(array, dtype=theirs_dtype)
    ours = gradienti.tensor(theirs.numpy(), dtype=ours_dtype)
    return ours, theirs
