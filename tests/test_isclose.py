"""isclose and allclose (torch.isclose, Tensor.isclose, torch.allclose, Tensor.allclose) against
PyTorch: values, tolerances, NaN and infinities, broadcasting, and the errors."""

from __future__ import annotations

import math

import pytest

import gradienti

torch = pytest.importorskip("torch")

PAIRS = [
    ([1.0, 2.0, 3.0], [1.0, 2.00001, 3.1]),
    ([math.nan, 1.0, math.inf, -math.inf], [math.nan, 1.0, math.inf, math.inf]),
    ([1e-9, 0.0, 100.0], [0.0, 1e-7, 100.001]),
]
TOLERANCES = [{}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 1e-3}, {"atol": 0.05}, {"equal_nan": True}]


@pytest.mark.parametrize("kwargs", TOLERANCES)
@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_isclose_and_allclose_as_pytorch(a, b, kwargs):
    ours_a, ours_b = gradienti.tensor(a), gradienti.tensor(b)
    theirs_a, theirs_b = torch.tensor(a), torch.tensor(b)
    ours = gradienti.isclose(ours_a, ours_b, **kwargs)
    assert str(ours.dtype) == "torch.bool"
    assert ours.tolist() == torch.isclose(theirs_a, theirs_b, **kwargs).tolist()
    assert ours_a.isclose(ours_b, **kwargs).tolist() == ours.tolist()
    assert gradienti.allclose(ours_a, ours_b, **kwargs) is torch.allclose(
        theirs_a, theirs_b, **kwargs
    )
    assert ours_a.allclose(ours_b, **kwargs) is torch.allclose(theirs_a, theirs_b, **kwargs)


def test_broadcasting_and_integers_as_pytorch():
    for lib in (gradienti, torch):
        assert lib.allclose(lib.ones(3), lib.ones(1)) is True
        assert lib.isclose(lib.tensor([1, 2]), lib.tensor([1, 3])).tolist() == [True, False]
        assert lib.isclose(lib.tensor([True]), lib.tensor([True])).tolist() == [True]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.allclose(lib.ones(3), lib.ones(3, dtype=lib.float64)),
        lambda lib: lib.allclose(lib.ones(3), lib.ones(3, dtype=lib.int64)),
        lambda lib: lib.isclose(lib.ones(3), lib.ones(2)),
        lambda lib: lib.allclose(lib.ones(3), 1.0),
        lambda lib: lib.isclose(1.0, lib.ones(3)),
        lambda lib: lib.ones(3).allclose(1.0),
        lambda lib: lib.ones(3).isclose(lib.ones(3, dtype=lib.float64)),
        lambda lib: lib.isclose(lib.ones(3), lib.ones(3), rtol=-1),
        lambda lib: lib.isclose(lib.ones(3), lib.ones(3), atol=-0.5),
    ],
)
def test_errors_as_pytorch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type) as ours:
        call(gradienti)
    assert str(ours.value) == str(theirs.value)
