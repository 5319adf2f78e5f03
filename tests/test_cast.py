"""Float to integer (and narrower float) conversions against torch: NaN, infinities and values
out of range get PyTorch's values (x86: the minimum of the 32- or 64-bit conversion, low bits
kept by narrower dtypes) from every way of converting (.to, .long(), .int(), .short(),
.char(), .byte(), .bool(), .type()), with or without requires_grad, for 0-d tensors too, and
without NumPy's RuntimeWarning even where the user has turned NumPy's warnings on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle

SPECIAL = [float("nan"), float("inf"), float("-inf"), 1e20, -1e20, 9.3e18, -9.3e18]
LARGE = [5000000007.0, -5000000007.0, 4294967596.0, 3e9, -3e9, 2147483648.0, -2147483649.0]
ORDINARY = [2147483647.9, -2147483648.9, 70000.0, -70000.0, 40000.0, 300.0, -300.0, 255.9]
SMALL = [256.0, 200.7, 128.0, -129.0, -1.7, 2.5, -0.5, 0.0, -0.0]
VALUES = SPECIAL + LARGE + ORDINARY + SMALL
INTEGER_DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool"]
METHODS = {"int64": "long", "int32": "int", "int16": "short", "int8": "char", "uint8": "byte"}


def _strict():
    """NumPy's warnings on (as a user may have them) and every warning an error."""
    stack = warnings.catch_warnings()
    stack.__enter__()
    warnings.simplefilter("error")
    state = np.errstate(all="warn")
    state.__enter__()
    return stack, state


def _converted(lib, source, target, requires_grad, how):
    x = lib.tensor(np.array(VALUES, dtype=np.float64)).to(getattr(lib, source))
    if requires_grad:
        x.requires_grad_()
    dtype = getattr(lib, target)
    if how == "to":
        out = x.to(dtype)
    elif how == "method":
        out = getattr(x, METHODS.get(target, target))()
    elif how == "type":
        out = x.type(dtype)
    else:  # like another tensor
        out = x.to(lib.zeros(1, dtype=dtype))
    assert not out.requires_grad
    return out.numpy()


@pytest.mark.parametrize("how", ["to", "method", "type", "like"])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires-grad"])
@pytest.mark.parametrize("target", INTEGER_DTYPES)
@pytest.mark.parametrize("source", ["float64", "float32", "float16"])
def test_float_to_integer_as_torch(source, target, requires_grad, how):
    stack, state = _strict()
    try:
        ours = _converted(gradienti, source, target, requires_grad, how)
    finally:
        state.__exit__(None, None, None)
        stack.__exit__(None, None, None)
    theirs = _converted(torch, source, target, requires_grad, how)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("target", INTEGER_DTYPES)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e20, 5000000007.0, -300.7])
def test_zero_dimensional(value, target):
    stack, state = _strict()
    try:
        ours = gradienti.tensor(value, dtype=gradienti.float64).to(getattr(gradienti, target))
    finally:
        state.__exit__(None, None, None)
        stack.__exit__(None, None, None)
    theirs = torch.tensor(value, dtype=torch.float64).to(getattr(torch, target))
    assert ours.shape == theirs.shape == ()
    assert ours.item() == theirs.item()


@pytest.mark.parametrize("target", ["float16", "float32"])
def test_narrowing_overflows_to_infinity_silently(target):
    values = np.array([1e10, -1e10, 1e300, -1e300, 65519.0, 65520.0, float("nan")])
    stack, state = _strict()
    try:
        x = gradienti.tensor(values, requires_grad=True)
        ours = x.to(getattr(gradienti, target))
        ours.backward(gradienti.ones(7, dtype=ours.dtype))  # the gradient converts back
    finally:
        state.__exit__(None, None, None)
        stack.__exit__(None, None, None)
    theirs = torch.tensor(values).to(getattr(torch, target))
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(7))


def test_short_char_byte_methods():
    x = gradienti.tensor([1.5, -2.5])
    assert (x.short().dtype, x.char().dtype, x.byte().dtype) == (
        gradienti.int16,
        gradienti.int8,
        gradienti.uint8,
    )
    assert x.byte().tolist() == torch.tensor([1.5, -2.5]).byte().tolist() == [1, 254]


@pytest.mark.parametrize("target", INTEGER_DTYPES + ["float16"])
@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
def test_tensor_from_floats_with_a_dtype(kind, target):
    """tensor(data, dtype=...) of a float tensor or array converts as .to() does."""
    values = np.array(VALUES, dtype=np.float64)
    results = []
    for lib in (gradienti, torch):
        data = lib.tensor(values) if kind == "tensor" else values
        stack, state = _strict()
        warnings.filterwarnings("ignore", "To copy construct", UserWarning)
        try:
            results.append(lib.tensor(data, dtype=getattr(lib, target)).numpy())
        finally:
            state.__exit__(None, None, None)
            stack.__exit__(None, None, None)
    assert results[0].dtype == results[1].dtype
    np.testing.assert_array_equal(*results)
