"""igamma / igammac (torch.special.gammainc / gammaincc) against torch: values over four orders
of magnitude of a and x in float32 and float64, PyTorch's values at the edges (zeros, infinities,
NaN, negative arguments), the gradient in x (upstream gradient not uniform) and its float64 finite
differences, the derivative in a that PyTorch leaves unimplemented, dtype errors; Gamma.cdf."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _arguments():
    rng = np.random.default_rng(0)
    a = np.exp(rng.normal(size=600) * 2)
    x = a * np.exp(rng.normal(size=600) * 0.7)
    edges_a = [0.0, 0.0, -1.0, 1.0, 1.0, 2.0, np.inf, 2.0, np.nan, 1e-3, 3.0, 1e4, 0.5, 7.0]
    edges_x = [
        1.0,
        0.0,
        1.0,
        -1.0,
        0.0,
        np.inf,
        2.0,
        1e300,
        1.0,
        1e-3,
        np.inf,
        1e4 + 50,
        np.nan,
        8.0,
    ]
    return np.concatenate([a, edges_a]), np.concatenate([x, edges_x])


@pytest.mark.parametrize("name", ["igamma", "igammac"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_torch(name, dtype):
    a, x = _arguments()
    ours = getattr(gradienti, name)(
        gradienti.tensor(a.astype(dtype)), gradienti.tensor(x.astype(dtype))
    )
    theirs = getattr(torch, name)(torch.tensor(a.astype(dtype)), torch.tensor(x.astype(dtype)))
    assert str(ours.dtype) == str(theirs.dtype)
    # PyTorch's float32 kernel computes in float32 and its large-a expansion is good to ~1e-9:
    # gradienti computes in float64 (so its float32 tail values can be closer to the truth)
    rtol, atol = (1e-4, 1e-7) if dtype == "float32" else (1e-8, 1e-15)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)


def test_special_names_and_methods():
    a, x = gradienti.tensor([0.5, 3.0]), gradienti.tensor([1.0, 2.0])
    np.testing.assert_array_equal(gradienti.special.gammainc(a, x).numpy(), a.igamma(x).numpy())
    np.testing.assert_array_equal(gradienti.special.gammaincc(a, x).numpy(), a.igammac(x).numpy())


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_gradient_in_x_matches_torch(name):
    a = np.array([[0.5, 2.0, 7.0], [1.0, 30.0, 0.1]])
    x = np.array([[0.3, 2.5, 6.0], [4.0, 28.0, 0.01]])
    weights = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    ours_x = gradienti.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours = getattr(gradienti, name)(gradienti.tensor(a), ours_x)
    theirs = getattr(torch, name)(torch.tensor(a), theirs_x)
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
    ours.backward(gradienti.tensor(weights))
    theirs.backward(torch.tensor(weights))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10)
    function = lambda x: getattr(gradienti, name)(gradienti.tensor(a), x)  # noqa: E731
    assert gradcheck(function, (gradienti.tensor(x, requires_grad=True),))
    assert gradgradcheck(function, (gradienti.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_derivative_in_a_raises_as_torch(name):
    messages = []
    for lib in (torch, gradienti):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = getattr(lib, name)(a, lib.tensor([0.5, 3.0]))
        with pytest.raises(NotImplementedError) as error:
            lib.autograd.grad(y.sum(), a)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_integer_arguments_raise_as_torch(name):
    with pytest.raises(NotImplementedError) as theirs:
        getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([1, 2]))
    with pytest.raises(NotImplementedError) as ours:
        getattr(gradienti, name)(gradienti.tensor([1, 2]), gradienti.tensor([1, 2]))
    assert str(ours.value) == str(theirs.value)


def test_mixed_dtypes_promote_as_torch():
    ours = gradienti.igamma(
        gradienti.tensor([1.0, 2.0]), gradienti.tensor([1.0, 2.0], dtype=gradienti.float64)
    )
    theirs = torch.igamma(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_gamma_cdf_and_its_gradient_in_rate():
    values = {"concentration": [0.5, 2.0, 9.0], "rate": [1.5, 0.7, 3.0]}
    x = np.array([0.3, 2.0, 3.5])
    results = []
    for lib in (gradienti, torch):
        rate = lib.tensor(values["rate"], dtype=lib.float64, requires_grad=True)
        dist = lib.distributions.Gamma(lib.tensor(values["concentration"], dtype=lib.float64), rate)
        cdf = dist.cdf(lib.tensor(x))
        (grad,) = lib.autograd.grad(
            (cdf * lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)).sum(), rate
        )
        results.append((cdf.detach().numpy(), grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


def test_under_vmap_as_torch_func_vmap():
    a = np.array([[0.5, 2.0], [3.0, 9.0]])
    x = np.array([[0.3, 1.0], [2.0, 12.0]])
    for in_dims in ((0, 0), (0, None), (None, 0)):
        ours_x = x if in_dims[1] == 0 else x[0]
        ours_a = a if in_dims[0] == 0 else a[0]
        ours = gradienti.func.vmap(gradienti.igammac, in_dims=in_dims)(
            gradienti.tensor(ours_a), gradienti.tensor(ours_x)
        )
        theirs = torch.func.vmap(torch.igammac, in_dims=in_dims)(
            torch.tensor(ours_a), torch.tensor(ours_x)
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    # the gradient in x, per sample (a 0-d logical operand)
    ours = gradienti.func.vmap(
        gradienti.func.grad(lambda x: gradienti.igamma(gradienti.tensor(2.0, dtype=x.dtype), x))
    )(gradienti.tensor(x[0]))
    theirs = torch.func.vmap(
        torch.func.grad(lambda x: torch.igamma(torch.tensor(2.0, dtype=x.dtype), x))
    )(torch.tensor(x[0]))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


IN_PLACE = {
    "igamma_": lambda tensor, other: tensor.igamma_(other),
    "igammac_": lambda tensor, other: tensor.igammac_(other),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_forms_match_torch(name):
    a, x = [0.5, 2.0, 9.0], [0.3, 2.5, 6.0]
    ours, theirs = gradienti.tensor(a), torch.tensor(a)
    ours_result = IN_PLACE[name](ours, gradienti.tensor(x))
    theirs_result = IN_PLACE[name](theirs, torch.tensor(x))
    assert ours_result is ours
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours_result.numpy(), theirs_result.numpy(), rtol=1e-6)


def test_a_number_argument_is_refused_as_torch():
    with pytest.raises(TypeError) as theirs:
        torch.igamma(torch.tensor([1.0]), 2.0)
    with pytest.raises(TypeError) as ours:
        gradienti.igamma(gradienti.tensor([1.0]), 2.0)
    assert str(ours.value) == str(theirs.value)
