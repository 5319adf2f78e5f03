"""gradienti.inf, nan, pi, e, newaxis and the name-only dtype bfloat16, against PyTorch."""

from __future__ import annotations

import math
import pickle

import pytest

import gradienti

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["inf", "pi", "e"])
def test_float_constants_are_pytorchs(name):
    ours, theirs = getattr(gradienti, name), getattr(torch, name)
    assert type(ours) is type(theirs) is float
    assert ours == theirs


def test_nan_and_newaxis():
    assert type(gradienti.nan) is float and math.isnan(gradienti.nan) and math.isnan(torch.nan)
    assert gradienti.newaxis is None and torch.newaxis is None
    x = gradienti.arange(3)
    assert x[:, gradienti.newaxis].shape == torch.arange(3)[:, torch.newaxis].shape


def test_constants_in_expressions():
    t = torch.tensor([1.0, torch.inf, -torch.inf]).clamp(max=torch.pi)
    g = gradienti.tensor([1.0, gradienti.inf, -gradienti.inf]).clamp(max=gradienti.pi)
    assert g.tolist() == t.tolist()


def test_bfloat16_names_like_pytorchs():
    ours, theirs = gradienti.bfloat16, torch.bfloat16
    assert repr(ours) == repr(theirs) == "torch.bfloat16"
    assert str(ours) == str(theirs)
    assert ours.is_floating_point is theirs.is_floating_point is True
    assert ours.is_signed == theirs.is_signed and ours.itemsize == theirs.itemsize
    assert isinstance(ours, gradienti.dtype)
    assert ours != gradienti.float16 and ours != gradienti.float32
    assert pickle.loads(pickle.dumps(ours)) is ours


def test_bfloat16_in_a_configuration_lookup():
    """nanoGPT's ``ptdtype = {...}[dtype]``."""
    table = {"float32": gradienti.float32, "bfloat16": gradienti.bfloat16}
    assert table["bfloat16"] is gradienti.bfloat16
    assert {gradienti.bfloat16: 1}[gradienti.bfloat16] == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: gradienti.zeros(2, dtype=gradienti.bfloat16),
        lambda: gradienti.tensor([1.0], dtype=gradienti.bfloat16),
        lambda: gradienti.randn(2, dtype=gradienti.bfloat16),
        lambda: gradienti.ones(2).to(gradienti.bfloat16),
        lambda: gradienti.ones(2).type(gradienti.bfloat16),
    ],
)
def test_no_tensor_can_hold_bfloat16(make):
    with pytest.raises(TypeError, match="no tensors of dtype torch.bfloat16"):
        make()


def test_set_default_dtype_bfloat16_fails_and_changes_nothing():
    before = gradienti.get_default_dtype()
    with pytest.raises(TypeError, match="no tensors of dtype torch.bfloat16"):
        gradienti.set_default_dtype(gradienti.bfloat16)
    assert gradienti.get_default_dtype() is before
