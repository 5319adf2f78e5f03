"""nansum and nanmean (ops/nan_reductions.py) against PyTorch: values with NaN, dtypes,
nodes and saved values, the gradient's 0 at NaN, and the errors. Their derivatives are also
checked by the op table (op_cases_quantile.py)."""

import math

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

NAN = math.nan
DATA = [[1.5, NAN, 3.0, -2.0], [NAN, NAN, NAN, NAN], [4.0, 5.0, NAN, 0.25]]


def _both(expression, **names):
    """``expression`` run with gradienti and with torch as ``lib``."""
    return [eval(expression, {"lib": lib, "NAN": NAN, **names}) for lib in (gradienti, torch)]


def _same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "expression",
    [
        "lib.nansum(lib.tensor(DATA))",
        "lib.tensor(DATA).nansum(1)",
        "lib.nansum(lib.tensor(DATA), dim=(0, 1), keepdim=True)",
        "lib.nansum(lib.tensor(DATA), -1, dtype=lib.float64)",
        "lib.nansum(lib.tensor(DATA), [])",
        "lib.nansum(lib.tensor([[1, 2], [3, 4]]), 0)",
        "lib.nansum(lib.tensor([True, True, False]))",
        "lib.nansum(lib.tensor([1, 2], dtype=lib.int8))",
        "lib.nansum(lib.tensor([1, 2]), dtype=lib.float32)",
        "lib.nansum(lib.zeros(0, 3), 0)",
        "lib.nansum(lib.tensor(NAN))",
        "lib.nanmean(lib.tensor(DATA))",
        "lib.tensor(DATA).nanmean(1)",
        "lib.nanmean(lib.tensor(DATA), dim=(0,), keepdim=True)",
        "lib.nanmean(lib.tensor(DATA, dtype=lib.float64), 1)",
        "lib.nanmean(lib.tensor(DATA), 1, dtype=lib.float64)",
        "lib.nanmean(lib.tensor(DATA), [])",
        "lib.nanmean(lib.zeros(0, 3), 0)",
        "lib.nanmean(lib.tensor(2.5))",
    ],
)
def test_values_and_dtypes_like_torch(expression):
    _same(*_both(expression, DATA=DATA))


@pytest.mark.parametrize(
    ("call", "node", "root"),
    [
        ("lib.nansum(x, 1)", "NansumBackward0", "NansumBackward0"),
        ("x.nansum()", "NansumBackward0", "NansumBackward0"),
        ("lib.nansum(x, 0, keepdim=True, dtype=lib.float64)", "NansumBackward0", None),
        ("lib.nanmean(x, 1)", "DivBackward0", "NansumBackward0"),
        ("x.nanmean(dim=(0, 1), keepdim=True)", "DivBackward0", "NansumBackward0"),
    ],
)
def test_gradient_is_zero_at_nan_like_torch(call, node, root):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(DATA, requires_grad=True)
        y = eval(call, {"lib": lib, "x": x})
        upstream = lib.linspace(-1.0, 2.0, y.numel()).reshape(y.shape).to(y.dtype)
        y.backward(upstream)
        names = [type(y.grad_fn).__name__]
        names += [type(f).__name__ for f, _ in y.grad_fn.next_functions if f is not None]
        results.append((names, x.grad))
    (our_names, our_grad), (their_names, their_grad) = results
    assert our_names == their_names
    assert our_names[0] == node and (root is None or root in our_names)
    _same(our_grad, their_grad)
    if node == "NansumBackward0":  # (nanmean's all-NaN row divides by a count of 0: NaN)
        assert np.all(our_grad.numpy()[np.isnan(np.array(DATA))] == 0)


def test_nan_upstream_gradient_stays_nan_like_torch():
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, NAN], requires_grad=True)
        lib.nansum(x).backward(lib.tensor(NAN))
        grads.append(x.grad)
    _same(*grads)


def test_saved_values_like_torch():
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(DATA, requires_grad=True)
        node = lib.nansum(x, 1, keepdim=True).grad_fn
        full = lib.nansum(x).grad_fn
        results.append((node._saved_dim, node._saved_keepdim, full._saved_dim, node._saved_self))
    ours, theirs = results
    assert ours[:3] == theirs[:3]
    _same(ours[3], theirs[3])


@pytest.mark.parametrize(
    "expression",
    [
        "lib.nanmean(lib.tensor([1, 2]))",
        "lib.nanmean(lib.tensor([True]))",
        "lib.nanmean(lib.tensor([1.5, 2.0]), dtype=lib.int64)",
        "lib.nanmean(lib.tensor([1.5, 2.0]), dtype=lib.bool)",
        "lib.nanmean(lib.tensor([1, 2]), dtype=lib.int8)",
        "lib.nansum(lib.tensor(DATA), 2)",
        "lib.nanmean(lib.tensor(DATA), -3)",
        "lib.nansum(lib.tensor(DATA), (1, 1))",
    ],
)
def test_errors_like_torch(expression):
    caught = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as error:
            eval(expression, {"lib": lib, "DATA": DATA})
        caught.append((type(error.value), str(error.value)))
    assert caught[0] == caught[1]


def test_functions_and_methods_are_there_like_torch():
    for name in ("nansum", "nanmean"):
        assert callable(getattr(gradienti, name)) and callable(getattr(gradienti.Tensor, name))


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("dim", [None, 0])
def test_half_precision_accumulates_like_torch(name, dim):
    """3000 halves of 0.1 a column (four NaN): PyTorch adds them in float32; adding in float16
    stalls at 256. (The counts 2996, 3000, 5996 are exact in float16: gradienti's float16
    division by an integer tensor rounds the divisor to float16 first, PyTorch's does not.)"""
    results = []
    for lib in (gradienti, torch):
        x = lib.full((3000, 2), 0.1, dtype=lib.float16)
        x[:4, 0] = math.nan
        result = getattr(lib, name)(x) if dim is None else getattr(lib, name)(x, dim)
        results.append((str(result.dtype), result.float().tolist()))
    assert results[0] == results[1]
