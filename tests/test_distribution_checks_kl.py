"""Argument and sample validation (PyTorch's ValueError texts) and kl_divergence over the
registered pairs (values, gradients, infinities) against torch.distributions."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

LIBRARIES = {"gradienti": gradienti, "torch": torch}

BAD_ARGUMENTS = [
    ("Normal", lambda D, t: D.Normal(t([0.0, float("nan")]), t([1.0, 1.0]))),
    ("Normal scale", lambda D, t: D.Normal(t([0.0, 1.0]), t([1.0, -1.0]))),
    ("Normal numbers", lambda D, t: D.Normal(0.0, 0.0)),
    ("Uniform", lambda D, t: D.Uniform(t([0.0, 2.0]), t([1.0, 1.0]))),
    ("Exponential", lambda D, t: D.Exponential(t([[1.0], [-2.0]]))),
    ("Laplace", lambda D, t: D.Laplace(t(0.0), t(-1.0))),
    ("Bernoulli", lambda D, t: D.Bernoulli(t([0.5, 1.5]))),
    ("Bernoulli logits", lambda D, t: D.Bernoulli(logits=t([float("nan")]))),
    ("Categorical", lambda D, t: D.Categorical(t([[0.5, -0.5], [0.5, 0.5]]))),
    ("OneHotCategorical", lambda D, t: D.OneHotCategorical(t([-1.0, 2.0]))),
    ("LogNormal", lambda D, t: D.LogNormal(t([0.0]), t([0.0]))),
    ("HalfNormal", lambda D, t: D.HalfNormal(t([-1.0]))),
    ("Cauchy", lambda D, t: D.Cauchy(t([0.0]), t([0.0]))),
    ("Gumbel", lambda D, t: D.Gumbel(t([0.0]), t([-1.0]))),
    ("Geometric zero", lambda D, t: D.Geometric(t([0.5, 0.0]))),
    ("Geometric above one", lambda D, t: D.Geometric(t([1.5]))),
    ("HalfCauchy", lambda D, t: D.HalfCauchy(t([0.0]))),
    ("Pareto", lambda D, t: D.Pareto(t([1.0]), t([-1.0]))),
    ("Weibull", lambda D, t: D.Weibull(t([-1.0]), t([1.0]))),
    ("LogisticNormal", lambda D, t: D.LogisticNormal(t([0.0, 1.0]), t([1.0, 0.0]))),
    ("Kumaraswamy", lambda D, t: D.Kumaraswamy(t([1.0]), t([-1.0]))),
    ("VonMises", lambda D, t: D.VonMises(t([0.0]), t([-1.0]))),
    ("GeneralizedPareto", lambda D, t: D.GeneralizedPareto(t([0.0]), t([0.0]), t([1.0]))),
    ("StudentT", lambda D, t: D.StudentT(t([0.0]), t([0.0]), t([1.0]))),
    ("InverseGamma", lambda D, t: D.InverseGamma(t([1.0]), t([-1.0]))),
    ("FisherSnedecor", lambda D, t: D.FisherSnedecor(t([1.0]), t([0.0]))),
    ("NegativeBinomial", lambda D, t: D.NegativeBinomial(t([2.0]), t([1.0]))),
    ("NegativeBinomial count", lambda D, t: D.NegativeBinomial(t([-2.0]), t([0.5]))),
    ("ContinuousBernoulli", lambda D, t: D.ContinuousBernoulli(t([1.5]), validate_args=True)),
    ("ContinuousBernoulli logits", lambda D, t: D.ContinuousBernoulli(logits=t([float("nan")]))),
]


def _tensor_maker(lib):
    return lambda values: lib.tensor(values)


@pytest.mark.parametrize("build", [b for _, b in BAD_ARGUMENTS], ids=[n for n, _ in BAD_ARGUMENTS])
def test_invalid_parameters_raise_pytorchs_error(build):
    with pytest.raises(ValueError) as ours:
        build(gradienti.distributions, _tensor_maker(gradienti))
    with pytest.raises(ValueError) as theirs:
        build(torch.distributions, _tensor_maker(torch))
    assert str(ours.value) == str(theirs.value)


# (ContinuousBernoulli's own check runs whenever validate_args is given, as PyTorch's)
DEFAULT_VALIDATED = [(n, b) for n, b in BAD_ARGUMENTS if n != "ContinuousBernoulli"]


@pytest.mark.parametrize(
    "build", [b for _, b in DEFAULT_VALIDATED], ids=[n for n, _ in DEFAULT_VALIDATED]
)
def test_validation_off_accepts_the_same_parameters(build):
    D = gradienti.distributions
    D.Distribution.set_default_validate_args(False)
    try:
        build(D, _tensor_maker(gradienti))
    finally:
        D.Distribution.set_default_validate_args(True)


def test_validate_args_false_per_instance():
    D = gradienti.distributions
    dist = D.Normal(gradienti.tensor([0.0]), gradienti.tensor([-1.0]), validate_args=False)
    assert dist._validate_args is False
    # and its log_prob does not check the value either
    dist.log_prob(gradienti.tensor([[1.0, 2.0]]))


BAD_VALUES = [
    ("Normal nan", lambda D, t: D.Normal(t([0.0, 1.0]), t([1.0, 1.0])), [0.0, float("nan")]),
    ("Exponential negative", lambda D, t: D.Exponential(t([1.0, 2.0])), [1.0, -1.0]),
    ("Uniform outside", lambda D, t: D.Uniform(t([0.0]), t([1.0])), [1.5]),
    ("Bernoulli non-binary", lambda D, t: D.Bernoulli(t([0.3, 0.3])), [0.0, 0.5]),
    ("Categorical out of range", lambda D, t: D.Categorical(t([0.2, 0.8])), [2.0]),
    ("OneHotCategorical", lambda D, t: D.OneHotCategorical(t([0.2, 0.8])), [1.0, 1.0]),
    ("shape", lambda D, t: D.Normal(t([0.0, 1.0]), t([1.0, 1.0])), [0.0, 1.0, 2.0]),
    ("event shape", lambda D, t: D.OneHotCategorical(t([0.2, 0.8])), [[1.0, 0.0, 0.0]]),
    (
        "Independent",
        lambda D, t: D.Independent(D.Normal(t([0.0, 1.0]), t([1.0, 1.0])), 1),
        [1.0, 2.0, 3.0],
    ),
    ("LogNormal", lambda D, t: D.LogNormal(t([0.0]), t([1.0])), [-1.0]),
    ("HalfNormal", lambda D, t: D.HalfNormal(t([1.0])), [-1.0]),
    ("Geometric", lambda D, t: D.Geometric(t([0.5])), [1.5]),
    (
        "GeneralizedPareto",
        lambda D, t: D.GeneralizedPareto(t([0.0]), t([1.0]), t([-0.5])),
        [2.5],
    ),
    ("NegativeBinomial", lambda D, t: D.NegativeBinomial(t([2.0]), t([0.5])), [1.5]),
    ("InverseGamma", lambda D, t: D.InverseGamma(t([2.0]), t([0.5])), [-1.0]),
    ("Pareto", lambda D, t: D.Pareto(t([1.0]), t([2.0])), [0.5]),
    ("Weibull", lambda D, t: D.Weibull(t([1.0]), t([2.0])), [-0.5]),
    (
        "LogisticNormal",
        lambda D, t: D.LogisticNormal(t([0.0, 1.0]), t([1.0, 1.0])),
        [0.5, 0.6, 0.1],
    ),
]


@pytest.mark.parametrize(
    "build, value", [(b, v) for _, b, v in BAD_VALUES], ids=[n for n, _, _ in BAD_VALUES]
)
def test_invalid_values_raise_pytorchs_error(build, value):
    ours = build(gradienti.distributions, _tensor_maker(gradienti))
    theirs = build(torch.distributions, _tensor_maker(torch))
    with pytest.raises(ValueError) as our_error:
        ours.log_prob(gradienti.tensor(value))
    with pytest.raises(ValueError) as their_error:
        theirs.log_prob(torch.tensor(value))
    assert str(our_error.value) == str(their_error.value)


def test_a_value_that_is_not_a_tensor_is_refused_as_pytorch():
    with pytest.raises(ValueError, match="^The value argument to log_prob must be a Tensor$"):
        gradienti.distributions.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="^The value argument to log_prob must be a Tensor$"):
        torch.distributions.Normal(0.0, 1.0).log_prob(0.5)


def test_a_failed_construction_leaves_the_default_untouched():
    D = gradienti.distributions
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    assert D.Distribution._validate_args is True
    assert D.Normal(0.0, 1.0)._validate_args is True


# ---- kl_divergence -----------------------------------------------------------------------

PARAMS = {
    "Normal": (lambda D, p: D.Normal(p[0], p[1]), ([0.5, -1.0, 0.0], [1.0, 0.5, 2.0])),
    "Normal2": (lambda D, p: D.Normal(p[0], p[1]), ([0.0, 0.3, 1.0], [2.0, 1.5, 0.7])),
    "Uniform": (lambda D, p: D.Uniform(p[0], p[1]), ([0.2, -1.0, 0.5], [0.8, 1.0, 2.0])),
    "Uniform wide": (lambda D, p: D.Uniform(p[0], p[1]), ([0.0, -2.0, 0.0], [1.0, 2.0, 1.0])),
    "Exponential": (lambda D, p: D.Exponential(p[0]), ([0.5, 1.0, 3.0],)),
    "Exponential2": (lambda D, p: D.Exponential(p[0]), ([2.0, 0.3, 1.0],)),
    "Laplace": (lambda D, p: D.Laplace(p[0], p[1]), ([0.0, 1.0, -2.0], [1.0, 0.5, 3.0])),
    "Laplace2": (lambda D, p: D.Laplace(p[0], p[1]), ([0.5, 0.0, 1.0], [2.0, 1.0, 0.5])),
    "Bernoulli": (lambda D, p: D.Bernoulli(p[0]), ([0.1, 0.5, 0.0],)),
    "Bernoulli2": (lambda D, p: D.Bernoulli(p[0]), ([0.3, 1.0, 0.2],)),
    "Categorical": (
        lambda D, p: D.Categorical(p[0]),
        ([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5], [0.1, 0.1, 0.8]],),
    ),
    "Categorical2": (
        lambda D, p: D.Categorical(p[0]),
        ([[0.5, 0.25, 0.25], [0.3, 0.3, 0.4], [0.0, 0.2, 0.8]],),
    ),
    "OneHotCategorical": (
        lambda D, p: D.OneHotCategorical(p[0]),
        ([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8]],),
    ),
    "OneHotCategorical2": (
        lambda D, p: D.OneHotCategorical(p[0]),
        ([[0.5, 0.25, 0.25], [0.3, 0.3, 0.4], [0.1, 0.2, 0.7]],),
    ),
    "Independent": (
        lambda D, p: D.Independent(D.Normal(p[0], p[1]), 1),
        ([0.5, -1.0, 0.0], [1.0, 0.5, 2.0]),
    ),
    "Independent2": (
        lambda D, p: D.Independent(D.Normal(p[0], p[1]), 1),
        ([0.0, 0.3, 1.0], [2.0, 1.5, 0.7]),
    ),
    "HalfNormal": (lambda D, p: D.HalfNormal(p[0]), ([1.0, 0.5, 2.0],)),
    "HalfNormal2": (lambda D, p: D.HalfNormal(p[0]), ([2.0, 1.5, 0.7],)),
    "Cauchy": (lambda D, p: D.Cauchy(p[0], p[1]), ([0.0, 1.0, -2.0], [1.0, 0.5, 3.0])),
    "Cauchy2": (lambda D, p: D.Cauchy(p[0], p[1]), ([0.5, 0.0, 1.0], [2.0, 1.0, 0.5])),
    "Gumbel": (lambda D, p: D.Gumbel(p[0], p[1]), ([0.0, 1.0, -2.0], [1.0, 0.5, 3.0])),
    "Gumbel2": (lambda D, p: D.Gumbel(p[0], p[1]), ([0.5, 0.0, 1.0], [2.0, 1.0, 0.5])),
    "Geometric": (lambda D, p: D.Geometric(p[0]), ([0.2, 0.5, 0.9],)),
    "Geometric2": (lambda D, p: D.Geometric(p[0]), ([0.4, 0.1, 0.6],)),
    "Pareto": (lambda D, p: D.Pareto(p[0], p[1]), ([1.0, 0.5, 2.0], [3.0, 1.5, 2.5])),
    "Pareto2": (lambda D, p: D.Pareto(p[0], p[1]), ([0.8, 0.5, 3.0], [2.0, 1.0, 0.5])),
    "Uniform positive": (lambda D, p: D.Uniform(p[0], p[1]), ([1.0, 0.7, 3.0], [2.0, 1.0, 4.0])),
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(p[0]), ([0.2, 0.4995, 0.9],)),
    "ContinuousBernoulli2": (lambda D, p: D.ContinuousBernoulli(p[0]), ([0.7, 0.1, 0.5005],)),
    "Uniform inside": (lambda D, p: D.Uniform(p[0], p[1]), ([0.1, 0.2, 0.5], [0.9, 0.6, 0.7])),
    "Beta": (lambda D, p: D.Beta(p[0], p[1]), ([0.5, 2.0, 3.0], [1.5, 0.7, 2.0])),
    "Gamma": (lambda D, p: D.Gamma(p[0], p[1]), ([0.5, 2.0, 3.0], [1.5, 0.7, 2.0])),
    "Poisson": (lambda D, p: D.Poisson(p[0]), ([0.5, 2.0, 3.0],)),
    "Binomial": (lambda D, p: D.Binomial(5, p[0]), ([0.2, 0.5, 0.9],)),
    "LogNormal": (lambda D, p: D.LogNormal(p[0], p[1]), ([0.5, -1.0, 0.0], [1.0, 0.5, 2.0])),
    "LogNormal2": (lambda D, p: D.LogNormal(p[0], p[1]), ([0.0, 0.3, 1.0], [2.0, 1.5, 0.7])),
}

PAIRS = [
    ("Normal", "Normal2"),
    ("Uniform", "Uniform wide"),
    ("Uniform wide", "Uniform"),
    ("Exponential", "Exponential2"),
    ("Laplace", "Laplace2"),
    ("Bernoulli", "Bernoulli2"),
    ("Bernoulli2", "Bernoulli"),
    ("Categorical", "Categorical2"),
    ("OneHotCategorical", "OneHotCategorical2"),
    ("Independent", "Independent2"),
    ("LogNormal", "LogNormal2"),
    ("Exponential", "Uniform"),
    ("Exponential", "Normal"),
    ("Laplace", "Exponential"),
    ("Laplace", "Uniform"),
    ("Laplace", "Normal"),
    ("Normal", "Exponential"),
    ("Normal", "Uniform"),
    ("Normal", "Laplace"),
    ("Uniform", "Exponential"),
    ("Uniform wide", "Exponential"),
    ("Uniform", "Normal"),
    ("HalfNormal", "HalfNormal2"),
    ("Cauchy", "Cauchy2"),
    ("Gumbel", "Gumbel2"),
    ("Geometric", "Geometric2"),
    ("Exponential", "Gumbel"),
    ("Gumbel", "Exponential"),
    ("Gumbel", "Uniform"),
    ("Gumbel", "Normal"),
    ("Normal", "Gumbel"),
    ("Uniform", "Gumbel"),
    ("Pareto", "Pareto2"),
    ("Pareto2", "Pareto"),
    ("Pareto", "Uniform"),
    ("Pareto", "Exponential"),
    ("Pareto", "Normal"),
    ("Exponential", "Pareto"),
    ("Gumbel", "Pareto"),
    ("Laplace", "Pareto"),
    ("Normal", "Pareto"),
    ("Uniform", "Pareto"),
    ("Uniform positive", "Pareto"),
    ("ContinuousBernoulli", "ContinuousBernoulli2"),
    ("ContinuousBernoulli", "Pareto"),
    ("ContinuousBernoulli", "Exponential"),
    ("ContinuousBernoulli", "Normal"),
    ("ContinuousBernoulli", "Uniform"),
    ("ContinuousBernoulli", "Uniform wide"),
    ("Exponential", "ContinuousBernoulli"),
    ("Gumbel", "ContinuousBernoulli"),
    ("Laplace", "ContinuousBernoulli"),
    ("Normal", "ContinuousBernoulli"),
    ("Pareto", "ContinuousBernoulli"),
    ("Uniform inside", "ContinuousBernoulli"),
    ("Uniform", "ContinuousBernoulli"),
    ("Bernoulli", "Poisson"),
    ("Beta", "ContinuousBernoulli"),
    ("Beta", "Pareto"),
    ("Exponential", "Beta"),
    ("Gamma", "Beta"),
    ("Gamma", "ContinuousBernoulli"),
    ("Gamma", "Gumbel"),
    ("Gamma", "Pareto"),
    ("Gumbel", "Beta"),
    ("Gumbel", "Gamma"),
    ("Laplace", "Beta"),
    ("Laplace", "Gamma"),
    ("Normal", "Beta"),
    ("Normal", "Gamma"),
    ("Pareto", "Beta"),
    ("Pareto", "Gamma"),
    ("Pareto2", "Gamma"),
    ("Poisson", "Bernoulli"),
    ("Poisson", "Binomial"),
]


def _build(name, lib, requires_grad=True):
    build, values = PARAMS[name]
    params = [lib.tensor(np.asarray(v), requires_grad=requires_grad) for v in values]
    return build(lib.distributions, params), params


@pytest.mark.parametrize("p_name, q_name", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_divergence_values_and_gradients_as_pytorch(p_name, q_name):
    p_ours, p_params = _build(p_name, gradienti)
    q_ours, q_params = _build(q_name, gradienti)
    p_theirs, p_their_params = _build(p_name, torch)
    q_theirs, q_their_params = _build(q_name, torch)
    ours = gradienti.distributions.kl_divergence(p_ours, q_ours)
    theirs = torch.distributions.kl_divergence(p_theirs, q_theirs)
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    finite = np.isfinite(theirs.detach().numpy())
    if not theirs.requires_grad or not finite.any():
        assert ours.requires_grad == theirs.requires_grad or not finite.any()
        return
    weights = np.linspace(0.5, 1.5, finite.size).reshape(finite.shape) * finite
    our_grads = gradienti.autograd.grad(
        (ours * gradienti.tensor(weights)).sum(), p_params + q_params, allow_unused=True
    )
    their_grads = torch.autograd.grad(
        (theirs * torch.tensor(weights)).sum(), p_their_params + q_their_params, allow_unused=True
    )
    for our_grad, their_grad in zip(our_grads, their_grads):
        if their_grad is None:
            assert our_grad is None or not np.any(our_grad.numpy())
            continue
        np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), rtol=1e-9, atol=1e-12)


def test_kl_of_pairs_without_a_registration_raises_pytorchs_error():
    D = gradienti.distributions
    with pytest.raises(NotImplementedError) as ours:
        D.kl_divergence(D.Bernoulli(0.5), D.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError) as theirs:
        torch.distributions.kl_divergence(
            torch.distributions.Bernoulli(0.5), torch.distributions.Normal(0.0, 1.0)
        )
    assert str(ours.value) == str(theirs.value)


def test_kl_of_transformed_with_different_transforms_is_not_implemented():
    D = gradienti.distributions
    p = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform()])
    q = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.SigmoidTransform()])
    with pytest.raises(NotImplementedError):
        D.kl_divergence(p, q)
    same = D.TransformedDistribution(D.Normal(1.0, 2.0), [D.ExpTransform()])
    theirs = torch.distributions.kl_divergence(
        torch.distributions.TransformedDistribution(
            torch.distributions.Normal(0.0, 1.0), [torch.distributions.ExpTransform()]
        ),
        torch.distributions.TransformedDistribution(
            torch.distributions.Normal(1.0, 2.0), [torch.distributions.ExpTransform()]
        ),
    )
    assert float(D.kl_divergence(p, same)) == pytest.approx(float(theirs), rel=1e-6)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(
            D.Independent(D.Normal(gradienti.zeros(2, 2), 1.0), 1),
            D.Independent(D.Normal(gradienti.zeros(2, 2), 1.0), 2),
        )


def test_exponential_family_bregman_kl_matches_the_closed_form():
    # Bernoulli, Exponential and Normal are exponential families: the generic Bregman
    # divergence (what a subclass without its own pair gets) equals their closed forms
    from gradienti.distributions import kl

    D = gradienti.distributions
    cases = [
        (
            D.Normal(gradienti.tensor([0.5, -1.0]), gradienti.tensor([1.0, 0.5])),
            D.Normal(gradienti.tensor([0.0, 1.0]), gradienti.tensor([2.0, 1.0])),
        ),
        (D.Exponential(gradienti.tensor([0.5, 2.0])), D.Exponential(gradienti.tensor([1.0, 3.0]))),
        (D.Bernoulli(gradienti.tensor([0.3, 0.6])), D.Bernoulli(gradienti.tensor([0.5, 0.1]))),
    ]
    for p, q in cases:
        bregman = kl._kl_expfamily_expfamily(p, q)
        np.testing.assert_allclose(
            bregman.detach().numpy(), D.kl_divergence(p, q).detach().numpy(), rtol=1e-5
        )
    with pytest.raises(
        NotImplementedError, match="^The cross KL-divergence between different exponential families"
    ):
        kl._kl_expfamily_expfamily(cases[0][0], cases[1][0])


@pytest.mark.parametrize("name", ["Normal", "Exponential", "Bernoulli"])
def test_exponential_family_entropy_equals_the_closed_form(name):
    D = gradienti.distributions
    dist, _ = _build(name, gradienti)
    generic = D.ExponentialFamily.entropy(dist)
    their_dist, _ = _build(name, torch)
    their_generic = torch.distributions.ExponentialFamily.entropy(their_dist)
    # (the Bregman form is nan where a natural parameter is infinite, as PyTorch's)
    np.testing.assert_allclose(
        generic.detach().numpy(), their_generic.detach().numpy(), rtol=1e-10, equal_nan=True
    )
    finite = np.isfinite(generic.detach().numpy())
    np.testing.assert_allclose(
        generic.detach().numpy()[finite], dist.entropy().detach().numpy()[finite], rtol=1e-10
    )


def test_mixture_argument_errors_as_pytorch():
    def attempts(lib):
        D = lib.distributions
        normal = D.Normal(lib.zeros(2, 3), lib.ones(2, 3))
        return [
            lambda: D.MixtureSameFamily(normal, normal),
            lambda: D.MixtureSameFamily(D.Categorical(lib.ones(3)), "normal"),
            lambda: D.MixtureSameFamily(D.Categorical(lib.ones(4)), normal),
            lambda: D.MixtureSameFamily(D.Categorical(lib.ones(5, 3)), normal),
        ]

    for ours, theirs in zip(attempts(gradienti), attempts(torch)):
        with pytest.raises(ValueError) as our_error:
            ours()
        with pytest.raises(ValueError) as their_error:
            theirs()
        assert str(our_error.value) == str(their_error.value)


def test_mixture_repr_and_sample_validation_as_pytorch():
    def build(lib):
        D = lib.distributions
        return D.MixtureSameFamily(
            D.Categorical(lib.tensor([0.3, 0.7])),
            D.Exponential(lib.tensor([1.0, 2.0])),
        )

    ours, theirs = build(gradienti), build(torch)
    assert repr(ours) == repr(theirs)
    assert repr(ours.support) == repr(theirs.support)
    with pytest.raises(ValueError) as our_error:
        ours.log_prob(gradienti.tensor([-1.0]))
    with pytest.raises(ValueError) as their_error:
        theirs.log_prob(torch.tensor([-1.0]))
    assert str(our_error.value) == str(their_error.value)


def test_every_pair_pytorch_registers_is_registered():
    from gradienti.distributions import kl

    theirs = {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY}
    ours = {(p.__name__, q.__name__) for p, q in kl._KL_REGISTRY}
    assert ours == theirs


def test_validation_runs_under_vmap_as_pytorch():
    # PyTorch's argument and sample checks pass under vmap (torch._is_all_true looks at every
    # sample); so do gradienti's, and an invalid sample anywhere in the batch still raises
    values = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]])
    results, messages = [], []
    for lib, vmap in ((gradienti, gradienti.func.vmap), (torch, torch.func.vmap)):
        x = lib.tensor(values)

        def log_prob(v, lib=lib):
            return lib.distributions.Normal(lib.tensor(0.0), lib.tensor(1.0)).log_prob(v).sum()

        def with_loc(loc, lib=lib):
            return lib.distributions.Normal(loc, lib.tensor(2.0)).log_prob(lib.tensor(0.5))

        results.append((vmap(log_prob)(x), vmap(with_loc)(x[:, 0])))
        scales = lib.tensor([[1.0, -1.0], [1.0, 1.0]])
        with pytest.raises(ValueError) as error:
            vmap(lambda s, lib=lib: lib.distributions.Normal(lib.zeros(2), s).mean)(scales)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
