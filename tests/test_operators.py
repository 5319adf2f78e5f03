"""Python's bitwise operators, in-place division, clamp and clip on Tensors, against PyTorch
(the op table covers the differentiable operators)."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

BITWISE = {
    "a & b": lambda a, b: a & b,
    "a | b": lambda a, b: a | b,
    "a ^ b": lambda a, b: a ^ b,
    "~a": lambda a, b: ~a,
    "True & b": lambda a, b: True & b,  # __rand__
    "1 | b": lambda a, b: 1 | b,  # __ror__
    "3 ^ b": lambda a, b: 3 ^ b,  # __rxor__
}


@pytest.mark.parametrize("dtype", ["bool", "int64", "uint8"])
@pytest.mark.parametrize("case", sorted(BITWISE))
def test_bitwise_operators_as_pytorch(case, dtype):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (2, 3)).astype(dtype)
    b = rng.integers(0, 4, (2, 3)).astype(dtype)
    ours = BITWISE[case](gradienti.tensor(a), gradienti.tensor(b))
    theirs = BITWISE[case](torch.tensor(a), torch.tensor(b))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_division_clamp_and_clip_as_pytorch():
    def run(lib):
        x = lib.tensor([1.0, -4.0, 9.0, 2.5])
        x /= 2
        x.clip_(-1.0, 3.0)
        x.clamp_(max=2.0)
        return x.tolist()

    assert run(gradienti) == run(torch) == [0.5, -1.0, 2.0, 1.25]


def test_equal_as_pytorch():
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0])
        assert lib.equal(x, lib.tensor([1.0, 2.0])) is True
        assert lib.equal(x, lib.tensor([1.0, 3.0])) is False
