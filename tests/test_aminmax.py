"""aminmax (ops/aminmax.py) against PyTorch: the named tuple and its repr, values with ties,
NaN, integer and bool inputs, shapes with dim/keepdim, the shared node, gradients shared among
ties, saved values, and the errors. Its derivatives are also checked by the op table
(op_cases_quantile.py)."""

import math

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

TIES = [[1.0, 3.0, 3.0], [0.0, 0.0, 2.0]]


@pytest.mark.parametrize(
    "expression",
    [
        "lib.aminmax(lib.tensor(TIES))",
        "lib.aminmax(lib.tensor(TIES), dim=1)",
        "lib.tensor(TIES).aminmax(dim=-2, keepdim=True)",
        "lib.aminmax(lib.tensor(TIES), keepdim=True)",
        "lib.aminmax(lib.tensor([[3, 1], [2, 5]]), dim=0, keepdim=True)",
        "lib.aminmax(lib.tensor([True, False]))",
        "lib.aminmax(lib.tensor([1.0, math.nan, 2.0]))",
        "lib.aminmax(lib.tensor(2.5), dim=0)",
        "lib.aminmax(lib.zeros(2, 0), dim=0)",
    ],
)
def test_values_and_repr_like_torch(expression):
    ours, theirs = (
        eval(expression, {"lib": lib, "TIES": TIES, "math": math}) for lib in (gradienti, torch)
    )
    assert type(ours).__name__ == type(theirs).__name__ == "aminmax"
    assert (ours.min is ours[0], ours.max is ours[1]) == (True, True)
    assert len(ours) == len(theirs) == 2
    assert repr(ours) == repr(theirs)
    for mine, other in zip(ours, theirs):
        assert str(mine.dtype) == str(other.dtype)
        np.testing.assert_array_equal(mine.numpy(), other.numpy())


@pytest.mark.parametrize(
    "kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}, {"dim": -1}]
)
def test_gradient_is_shared_among_ties_like_torch(kwargs):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(TIES, dtype=lib.float64, requires_grad=True)
        low, high = lib.aminmax(x, **kwargs)
        assert low.grad_fn is high.grad_fn
        up_low = lib.linspace(-1.0, 2.0, low.numel(), dtype=lib.float64).reshape(low.shape)
        up_high = lib.linspace(3.0, 0.5, high.numel(), dtype=lib.float64).reshape(high.shape)
        lib.autograd.backward([low, high], [up_low, up_high])
        node = low.grad_fn
        results.append((x.grad.numpy(), type(node).__name__, node._saved_dim, node._saved_keepdim))
    (grad, *rest), (their_grad, *their_rest) = results
    np.testing.assert_allclose(grad, their_grad, rtol=1e-15)
    assert rest == their_rest


def test_one_output_alone_like_torch():
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor(TIES, requires_grad=True)
        (lib.aminmax(x, dim=1).max * lib.tensor([2.0, -1.0])).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize(
    "expression",
    [
        "lib.aminmax(lib.tensor([]))",
        "lib.aminmax(lib.zeros(2, 0), dim=1)",
        "lib.aminmax(lib.zeros(2, 0), dim=-1)",
        "lib.aminmax(lib.zeros(2, 3), dim=2)",
        "lib.aminmax(lib.zeros(2, 3), 0)",
        "lib.aminmax(lib.zeros(2, 3), dim=True)",
        "lib.zeros(2, 3).aminmax(dim=1.0)",
        "lib.aminmax(lib.zeros(2, 3), dim=(0,))",
    ],
)
def test_errors_like_torch(expression):
    caught = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as error:
            eval(expression, {"lib": lib})
        caught.append((type(error.value).__name__, str(error.value)))
    assert caught[0] == caught[1]
