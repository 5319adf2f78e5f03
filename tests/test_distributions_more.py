"""Beta, Gamma, Chi2, Dirichlet, Poisson, Binomial, Multinomial, MultivariateNormal and
LowRankMultivariateNormal against torch.distributions: repr and shapes, log_prob / entropy /
mean / mode / variance and their gradients with respect to the parameters (non-uniform upstream
gradients), the same samples after the same seed, reparameterised gradients, expand."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

LIBRARIES = {"gradienti": gradienti, "torch": torch}

_COV = np.array([[[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.5]]] * 2) + np.array(
    [[[0.0] * 3] * 3, [[0.5, 0.1, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 0.2]]]
)

# name -> (constructor of (lib, params), params as float64 arrays, values to score)
SPECS = {
    "Gamma": (
        lambda lib, p: lib.distributions.Gamma(p["concentration"], p["rate"]),
        {"concentration": [[0.5, 2.0, 7.0], [1.0, 3.5, 12.0]], "rate": [1.5, 0.7, 3.0]},
        [[0.3, 2.0, 1.1], [0.05, 4.0, 3.5]],
    ),
    "Chi2": (
        lambda lib, p: lib.distributions.Chi2(p["df"]),
        {"df": [1.0, 2.5, 6.0, 20.0]},
        [0.5, 2.0, 7.5, 18.0],
    ),
    "Beta": (
        lambda lib, p: lib.distributions.Beta(p["concentration1"], p["concentration0"]),
        {"concentration1": [0.5, 2.0, 3.0, 9.0], "concentration0": [1.5, 0.8, 3.0, 7.0]},
        [0.2, 0.9, 0.5, 0.6],
    ),
    "Dirichlet": (
        lambda lib, p: lib.distributions.Dirichlet(p["concentration"]),
        {"concentration": [[0.5, 2.0, 3.0], [4.0, 1.0, 0.7]]},
        [[0.1, 0.3, 0.6], [0.5, 0.2, 0.3]],
    ),
    "Poisson": (
        lambda lib, p: lib.distributions.Poisson(p["rate"]),
        {"rate": [0.5, 3.0, 12.0, 40.0]},
        [0.0, 2.0, 15.0, 38.0],
    ),
    "Binomial(probs)": (
        lambda lib, p: lib.distributions.Binomial(10, probs=p["probs"]),
        {"probs": [[0.1, 0.5, 0.9], [0.3, 0.7, 0.25]]},
        [[1.0, 5.0, 9.0], [3.0, 10.0, 0.0]],
    ),
    "Binomial(logits)": (
        lambda lib, p: lib.distributions.Binomial(p["total_count"], logits=p["logits"]),
        {"total_count": [5.0, 20.0, 100.0], "logits": [-2.0, 0.5, 1.5]},
        [1.0, 12.0, 80.0],
    ),
    "Multinomial(probs)": (
        lambda lib, p: lib.distributions.Multinomial(6, probs=p["probs"]),
        {"probs": [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]},
        [[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]],
    ),
    "Multinomial(logits)": (
        lambda lib, p: lib.distributions.Multinomial(4, logits=p["logits"]),
        {"logits": [0.5, -1.0, 2.0, 0.0]},
        [0.0, 1.0, 3.0, 0.0],
    ),
    "MultivariateNormal(covariance_matrix)": (
        lambda lib, p: lib.distributions.MultivariateNormal(
            p["loc"], covariance_matrix=p["covariance_matrix"]
        ),
        {"loc": [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], "covariance_matrix": _COV},
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
    "MultivariateNormal(precision_matrix)": (
        lambda lib, p: lib.distributions.MultivariateNormal(
            p["loc"], precision_matrix=p["precision_matrix"]
        ),
        {"loc": [0.5, -1.0, 2.0], "precision_matrix": _COV[1]},
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
    "MultivariateNormal(scale_tril)": (
        lambda lib, p: lib.distributions.MultivariateNormal(p["loc"], scale_tril=p["scale_tril"]),
        {"loc": [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], "scale_tril": np.linalg.cholesky(_COV[0])},
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
    "LowRankMultivariateNormal": (
        lambda lib, p: lib.distributions.LowRankMultivariateNormal(
            p["loc"], p["cov_factor"], p["cov_diag"]
        ),
        {
            "loc": [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]],
            "cov_factor": [[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1]],
            "cov_diag": [[0.5, 1.0, 2.0], [0.3, 0.7, 1.2]],
        },
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
}
RSAMPLED = [
    "Gamma",
    "Chi2",
    "Beta",
    "Dirichlet",
    "MultivariateNormal(covariance_matrix)",
    "MultivariateNormal(precision_matrix)",
    "MultivariateNormal(scale_tril)",
    "LowRankMultivariateNormal",
]
# parameters that are not differentiable (counts)
_FIXED = {"total_count"}


def _build(name, lib, dtype="float64", requires_grad=True):
    make, params, _ = SPECS[name]
    tensors = {
        key: lib.tensor(
            np.asarray(value, dtype),
            requires_grad=requires_grad and key not in _FIXED,
        )
        for key, value in params.items()
    }
    return make(lib, tensors), tensors


def _numpy(value):
    return value.detach().numpy()


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=rtol, atol=atol)


def _weights(shape, dtype="float64"):
    """A non-uniform upstream gradient of ``shape``."""
    count = int(np.prod(shape))
    return np.linspace(-1.5, 2.0, count).reshape(shape).astype(dtype) + 0.25


def _grads(tensors, output, lib):
    output.backward(lib.tensor(_weights(tuple(output.shape), str(output.dtype).split(".")[-1])))
    return {key: value.grad for key, value in tensors.items() if value.requires_grad}


@pytest.mark.parametrize("name", SPECS)
def test_repr_shapes_and_support(name):
    ours, _ = _build(name, gradienti)
    theirs, _ = _build(name, torch)
    assert repr(ours) == repr(theirs)
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    assert repr(ours.support) == repr(theirs.support)
    assert ours.has_rsample == theirs.has_rsample


@pytest.mark.parametrize("name", SPECS)
def test_log_prob_values_and_parameter_gradients(name):
    value = np.asarray(SPECS[name][2])
    ours, ours_params = _build(name, gradienti)
    theirs, theirs_params = _build(name, torch)
    ours_lp = ours.log_prob(gradienti.tensor(value))
    theirs_lp = theirs.log_prob(torch.tensor(value))
    _close(ours_lp, theirs_lp)
    ours_grads = _grads(ours_params, ours_lp, gradienti)
    theirs_grads = _grads(theirs_params, theirs_lp, torch)
    for key, grad in theirs_grads.items():
        _close(ours_grads[key], grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("moment", ["mean", "variance", "stddev", "mode", "entropy"])
def test_moments_and_entropy(name, moment):
    ours, ours_params = _build(name, gradienti)
    theirs, theirs_params = _build(name, torch)
    try:
        theirs_value = getattr(theirs, moment)
        theirs_value = theirs_value() if callable(theirs_value) else theirs_value
    except NotImplementedError as error:
        with pytest.raises(NotImplementedError) as ours_error:
            ours_value = getattr(ours, moment)
            ours_value() if callable(ours_value) else ours_value
        # (the message names the class by its module path)
        assert str(ours_error.value) == str(error).replace("torch.", "gradienti.")
        return
    ours_value = getattr(ours, moment)
    ours_value = ours_value() if callable(ours_value) else ours_value
    _close(ours_value, theirs_value, rtol=1e-9)
    if theirs_value.requires_grad:
        ours_grads = _grads(ours_params, ours_value, gradienti)
        theirs_grads = _grads(theirs_params, theirs_value, torch)
        for key, grad in theirs_grads.items():
            if grad is None:
                assert ours_grads.get(key) is None
            else:
                _close(ours_grads[key], grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_samples_after_the_same_seed(name, dtype):
    ours, _ = _build(name, gradienti, dtype, requires_grad=False)
    theirs, _ = _build(name, torch, dtype, requires_grad=False)
    gradienti.manual_seed(11)
    torch.manual_seed(11)
    ours_sample, theirs_sample = ours.sample((4,)), theirs.sample((4,))
    exact = name.split("(")[0] not in ("MultivariateNormal", "LowRankMultivariateNormal")
    # (a matrix product's summation order differs in the last bits)
    _close(ours_sample, theirs_sample, rtol=0 if exact else 1e-5, atol=0 if exact else 1e-6)
    # and the generators are left alike
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("name", RSAMPLED)
def test_rsample_values_and_reparameterised_gradients(name):
    ours, ours_params = _build(name, gradienti)
    theirs, theirs_params = _build(name, torch)
    gradienti.manual_seed(5)
    torch.manual_seed(5)
    ours_sample, theirs_sample = ours.rsample((3,)), theirs.rsample((3,))
    _close(ours_sample, theirs_sample, rtol=1e-12)
    ours_grads = _grads(ours_params, ours_sample, gradienti)
    theirs_grads = _grads(theirs_params, theirs_sample, torch)
    for key, grad in theirs_grads.items():
        _close(ours_grads[key], grad, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", RSAMPLED)
def test_rsample_of_float32_parameters(name):
    ours, ours_params = _build(name, gradienti, "float32")
    theirs, theirs_params = _build(name, torch, "float32")
    gradienti.manual_seed(6)
    torch.manual_seed(6)
    ours_sample, theirs_sample = ours.rsample(), theirs.rsample()
    _close(ours_sample, theirs_sample, rtol=2e-6, atol=1e-6)
    ours_grads = _grads(ours_params, ours_sample, gradienti)
    theirs_grads = _grads(theirs_params, theirs_sample, torch)
    for key, grad in theirs_grads.items():
        _close(ours_grads[key], grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", SPECS)
def test_expand(name):
    ours, _ = _build(name, gradienti, requires_grad=False)
    theirs, _ = _build(name, torch, requires_grad=False)
    shape = (2,) + tuple(theirs.batch_shape)
    ours_expanded, theirs_expanded = ours.expand(shape), theirs.expand(shape)
    assert type(ours_expanded).__name__ == type(theirs_expanded).__name__
    assert repr(ours_expanded) == repr(theirs_expanded)
    assert ours_expanded.batch_shape == theirs_expanded.batch_shape
    value = np.broadcast_to(np.asarray(SPECS[name][2]), shape + tuple(theirs.event_shape))
    _close(
        ours_expanded.log_prob(gradienti.tensor(value.copy())),
        theirs_expanded.log_prob(torch.tensor(value.copy())),
    )


def test_number_parameters():
    for make in (
        lambda lib: lib.distributions.Gamma(2.0, 3.0),
        lambda lib: lib.distributions.Beta(2.0, 3.0),
        lambda lib: lib.distributions.Chi2(lib.tensor(3.0)),
    ):
        ours, theirs = make(gradienti), make(torch)
        assert repr(ours) == repr(theirs)
        assert ours.batch_shape == theirs.batch_shape
        _close(ours.mean, theirs.mean)
        _close(ours.entropy(), theirs.entropy(), rtol=1e-6)


def test_poisson_of_a_number_rate():
    ours, theirs = gradienti.distributions.Poisson(4.0), torch.distributions.Poisson(4.0)
    assert repr(ours) == repr(theirs)
    _close(ours.log_prob(gradienti.tensor(2.0)), theirs.log_prob(torch.tensor(2.0)), rtol=1e-6)


def test_dirichlet_mode_with_all_concentrations_below_one():
    values = [[0.5, 0.3, 0.9], [2.0, 3.0, 0.5]]
    ours = gradienti.distributions.Dirichlet(gradienti.tensor(values)).mode
    theirs = torch.distributions.Dirichlet(torch.tensor(values)).mode
    _close(ours, theirs)


def test_binomial_enumerate_support_and_inhomogeneous_counts():
    ours = gradienti.distributions.Binomial(3, probs=gradienti.tensor([0.2, 0.6]))
    theirs = torch.distributions.Binomial(3, probs=torch.tensor([0.2, 0.6]))
    _close(ours.enumerate_support(), theirs.enumerate_support())
    _close(ours.enumerate_support(expand=False), theirs.enumerate_support(expand=False))
    counts = [2.0, 5.0]
    ours = gradienti.distributions.Binomial(gradienti.tensor(counts), gradienti.tensor([0.2, 0.6]))
    theirs = torch.distributions.Binomial(torch.tensor(counts), torch.tensor([0.2, 0.6]))
    for method in ("entropy", "enumerate_support"):
        with pytest.raises(NotImplementedError) as theirs_error:
            getattr(theirs, method)()
        with pytest.raises(NotImplementedError) as ours_error:
            getattr(ours, method)()
        assert str(ours_error.value) == str(theirs_error.value)


def test_multinomial_log_prob_of_zero_probability_categories():
    probs = [0.0, 0.4, 0.6]
    value = [0.0, 2.0, 1.0]
    ours = gradienti.distributions.Multinomial(3, probs=gradienti.tensor(probs))
    theirs = torch.distributions.Multinomial(3, probs=torch.tensor(probs))
    _close(ours.log_prob(gradienti.tensor(value)), theirs.log_prob(torch.tensor(value)))
