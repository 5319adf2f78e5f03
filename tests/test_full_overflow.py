"""``full`` refuses a fill value its dtype cannot hold, with c10's overflow text (it wrapped
-inf to INT_MIN before, so ``generate_square_subsequent_mask(dtype=int64)`` was silently
wrong), and wraps a small negative int into an unsigned type as PyTorch does."""

import pytest

import gradienti

torch = pytest.importorskip("torch")

FILLS = [
    (float("-inf"), "int64"),
    (float("nan"), "int64"),
    (1e30, "int32"),
    (300, "uint8"),
    (-1, "uint8"),
    (-255, "uint8"),
    (-256, "uint8"),
    (2.5, "int64"),
    (-2.5, "int16"),
    (True, "int64"),
    (float("inf"), "float32"),
    (1e300, "float32"),
    (2**63, "int64"),
]


@pytest.mark.parametrize(("fill", "dtype"), FILLS, ids=[f"{f}-{d}" for f, d in FILLS])
def test_full_fill_value_fits_or_is_refused_as_pytorch(fill, dtype):
    try:
        theirs = torch.full((2,), fill, dtype=getattr(torch, dtype))
    except RuntimeError as error:
        with pytest.raises(RuntimeError) as ours:
            gradienti.full((2,), fill, dtype=getattr(gradienti, dtype))
        assert str(ours.value) == str(error)
        return
    ours = gradienti.full((2,), fill, dtype=getattr(gradienti, dtype))
    assert repr(ours) == repr(theirs)


def test_square_subsequent_mask_of_an_integer_dtype_is_refused_as_pytorch():
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.int64)
    with pytest.raises(RuntimeError) as ours:
        gradienti.nn.Transformer.generate_square_subsequent_mask(3, dtype=gradienti.int64)
    assert str(ours.value) == str(theirs.value)
