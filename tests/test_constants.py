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


FLOATING = ["float16", "bfloat16", "float32", "float64"]
INTEGER = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATING)
def test_finfo_as_pytorch(name):
    ours, theirs = gradienti.finfo(getattr(gradienti, name)), torch.finfo(getattr(torch, name))
    assert repr(ours) == repr(theirs)
    for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        value = getattr(ours, attribute)
        assert type(value) is type(getattr(theirs, attribute))
        assert value == getattr(theirs, attribute), attribute
    assert ours.dtype == theirs.dtype == name


def test_finfo_of_the_default_dtype():
    assert repr(gradienti.finfo()) == repr(torch.finfo())
    gradienti.set_default_dtype(gradienti.float64)
    try:
        assert gradienti.finfo().dtype == "float64"
    finally:
        gradienti.set_default_dtype(gradienti.float32)
    assert gradienti.finfo(gradienti.float32) == gradienti.finfo()
    assert gradienti.finfo(gradienti.float32) != gradienti.finfo(gradienti.float16)


@pytest.mark.parametrize("name", INTEGER)
def test_iinfo_as_pytorch(name):
    ours, theirs = gradienti.iinfo(getattr(gradienti, name)), torch.iinfo(getattr(torch, name))
    assert repr(ours) == repr(theirs)
    for attribute in ("bits", "min", "max", "dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
        assert type(getattr(ours, attribute)) is type(getattr(theirs, attribute))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.finfo(lib.int32),
        lambda lib: lib.finfo(lib.bool),
        lambda lib: lib.iinfo(lib.float32),
        lambda lib: lib.iinfo(lib.bool),
        lambda lib: lib.finfo(3),
        lambda lib: lib.iinfo("int32"),
    ],
)
def test_type_info_errors_as_pytorch(call):
    def raised(lib):
        with pytest.raises(Exception) as info:
            call(lib)
        return type(info.value), str(info.value)

    assert raised(gradienti) == raised(torch)


def test_masking_with_the_smallest_value():
    """``scores.masked_fill(mask, torch.finfo(scores.dtype).min)`` as attention code writes it."""

    def run(lib):
        scores = lib.tensor([[0.5, 1.5], [2.0, -1.0]])
        mask = lib.tensor([[False, True], [False, False]])
        return scores.masked_fill(mask, lib.finfo(scores.dtype).min).softmax(-1).tolist()

    assert run(gradienti) == run(torch)
