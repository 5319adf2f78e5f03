"""Wishart against torch.distributions.Wishart: same Bartlett samples after the same seed
(with PyTorch's redraw loop and warning), rsample gradients, log_prob/entropy/moments and their
gradients, the three parametrisations, expand, argument errors, gradcheck."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

COV = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 0.7]])
DF = np.array([4.0, 6.5])


def _build(lib, parametrisation, requires_grad=False, dtype="float64"):
    dtype = getattr(lib, dtype)
    df = lib.tensor(DF, dtype=dtype, requires_grad=requires_grad)
    if parametrisation == "covariance_matrix":
        matrix = COV
    elif parametrisation == "precision_matrix":
        matrix = np.linalg.inv(COV)
    else:
        matrix = np.linalg.cholesky(COV)
    matrix = lib.tensor(matrix, dtype=dtype, requires_grad=requires_grad)
    dist = lib.distributions.Wishart(df, **{parametrisation: matrix})
    return dist, [df, matrix]


def _quiet(function):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    return result, [str(w.message) for w in caught]


def _close(ours, theirs, rtol=1e-9, atol=1e-12):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


PARAMETRISATIONS = ["covariance_matrix", "precision_matrix", "scale_tril"]


@pytest.mark.parametrize("parametrisation", PARAMETRISATIONS)
def test_shapes_repr_and_moments_as_pytorch(parametrisation):
    (ours, our_params), (theirs, their_params) = (
        _build(gradienti, parametrisation, True),
        _build(torch, parametrisation, True),
    )
    assert repr(ours) == repr(theirs)
    assert ours.batch_shape == theirs.batch_shape and ours.event_shape == theirs.event_shape
    for name in ("mean", "variance", "mode", "covariance_matrix", "precision_matrix", "scale_tril"):
        _close(getattr(ours, name), getattr(theirs, name), rtol=1e-8)
    _close(ours.entropy(), theirs.entropy(), rtol=1e-10)
    our_grads = gradienti.autograd.grad(ours.entropy().sum(), our_params)
    their_grads = torch.autograd.grad(theirs.entropy().sum(), their_params)
    for our_grad, their_grad in zip(our_grads, their_grads):
        _close(our_grad, their_grad, rtol=1e-8)


@pytest.mark.parametrize("parametrisation", PARAMETRISATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_samples_and_warnings_after_the_same_seed(parametrisation, dtype):
    results = []
    for lib in (gradienti, torch):
        dist, _ = _build(lib, parametrisation, dtype=dtype)
        lib.manual_seed(3)
        results.append(_quiet(lambda dist=dist: dist.sample((4,))))
        results.append(lib.rand(2))
    (ours, our_warnings), our_next, (theirs, their_warnings), their_next = results
    assert our_warnings == their_warnings
    rtol = 1e-5 if dtype == "float32" else 1e-12
    _close(ours, theirs, rtol=rtol, atol=1e-5 if dtype == "float32" else 1e-12)
    _close(our_next, their_next, rtol=0, atol=0)


def test_rsample_values_as_pytorch_and_gradients_against_finite_differences():
    # PyTorch's own backward through this rsample fails: its redraw loop (taken whenever a
    # sample passes the positive-definite check, i.e. nearly always) writes into the boolean
    # index it saved; gradienti differentiates it, checked here by finite differences
    samples = []
    for lib in (gradienti, torch):
        dist, params = _build(lib, "scale_tril", True)
        lib.manual_seed(8)
        sample, _ = _quiet(lambda dist=dist: dist.rsample((2,)))
        samples.append((sample, params))
    (ours, our_params), (theirs, their_params) = samples
    _close(ours, theirs, rtol=1e-12)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(theirs.sum(), their_params)

    # in scale_tril only: the chi-square draws' gradient in df is the implicit
    # reparameterisation one, not the derivative of the sampler at a fixed seed
    df = gradienti.tensor(DF)

    def rsample(raw):
        gradienti.manual_seed(8)
        dist = gradienti.distributions.Wishart(df, scale_tril=raw.tril(), validate_args=False)
        return _quiet(lambda: dist.rsample((2,)))[0]

    assert gradcheck(rsample, (our_params[1],))


@pytest.mark.parametrize("parametrisation", PARAMETRISATIONS)
def test_log_prob_values_and_gradients(parametrisation):
    value = np.array([[[3.0, 0.4, 0.2], [0.4, 2.0, 0.1], [0.2, 0.1, 1.5]]] * 2)
    outs = []
    for lib in (gradienti, torch):
        dist, params = _build(lib, parametrisation, True)
        log_prob = dist.log_prob(lib.tensor(value))
        outs.append(
            (log_prob, lib.autograd.grad((log_prob * lib.tensor([1.0, 0.5])).sum(), params))
        )
    (ours, our_grads), (theirs, their_grads) = outs
    _close(ours, theirs, rtol=1e-10)
    for our_grad, their_grad in zip(our_grads, their_grads):
        _close(our_grad, their_grad, rtol=1e-8)


def test_expand_as_pytorch():
    ours, _ = _build(gradienti, "covariance_matrix")
    theirs, _ = _build(torch, "covariance_matrix")
    our_expanded, their_expanded = ours.expand((3, 2)), theirs.expand((3, 2))
    assert our_expanded.batch_shape == their_expanded.batch_shape
    assert repr(our_expanded) == repr(their_expanded)
    gradienti.manual_seed(1)
    torch.manual_seed(1)
    our_sample, _ = _quiet(lambda: our_expanded.sample())
    their_sample, _ = _quiet(lambda: their_expanded.sample())
    _close(our_sample, their_sample, rtol=1e-12)


def test_argument_errors_as_pytorch():
    def attempts(lib):
        D = lib.distributions
        cov = lib.tensor(COV)
        return [
            (AssertionError, lambda: D.Wishart(4.0, covariance_matrix=cov, scale_tril=cov)),
            (ValueError, lambda: D.Wishart(4.0, covariance_matrix=lib.tensor([1.0, 2.0]))),
            (ValueError, lambda: D.Wishart(lib.tensor([1.5, 4.0]), covariance_matrix=cov)),
            (ValueError, lambda: D.Wishart(4.0, covariance_matrix=-cov)),
        ]

    for (error, ours), (_, theirs) in zip(attempts(gradienti), attempts(torch)):
        with pytest.raises(error) as our_error:
            ours()
        with pytest.raises(error) as their_error:
            theirs()
        assert str(our_error.value) == str(their_error.value)
    with pytest.warns(UserWarning, match="^Low df values detected"):
        gradienti.distributions.Wishart(2.5, covariance_matrix=gradienti.tensor(COV))


def test_gradcheck_of_log_prob_and_entropy():
    value = gradienti.tensor(np.array([[3.0, 0.4, 0.2], [0.4, 2.0, 0.1], [0.2, 0.1, 1.5]]))

    # (scale_tril's upper triangle is not read: only the lower one is perturbed)
    def log_prob(df, raw):
        dist = gradienti.distributions.Wishart(df, scale_tril=raw.tril(), validate_args=False)
        return dist.log_prob(value)

    def entropy(df, raw):
        dist = gradienti.distributions.Wishart(df, scale_tril=raw.tril(), validate_args=False)
        return dist.entropy()

    inputs = (
        gradienti.tensor(DF, requires_grad=True),
        gradienti.tensor(np.linalg.cholesky(COV), requires_grad=True),
    )
    for function in (log_prob, entropy):
        assert gradcheck(function, inputs)
        assert gradgradcheck(function, inputs)
