"""Beta, Gamma, Chi2, Dirichlet, Poisson, Binomial, Multinomial, MultivariateNormal and
LowRankMultivariateNormal: validate_args errors and constructor errors as PyTorch's, the KL pairs
PyTorch registers for them (values and gradients), and gradcheck/gradgradcheck in float64 of
log_prob, entropy, KL and the reparameterised samples."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

_COV = [[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.5]]
_COV2 = [[1.0, -0.2, 0.1], [-0.2, 2.0, 0.5], [0.1, 0.5, 0.8]]


def _both(make):
    return make(gradienti), make(torch)


def _f64(lib, values, requires_grad=False):
    return lib.tensor(np.asarray(values, np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------- argument validation
INVALID = {
    "Gamma concentration": lambda lib: lib.distributions.Gamma(
        _f64(lib, [1.0, -1.0]), _f64(lib, [1.0, 1.0]), validate_args=True
    ),
    "Gamma rate": lambda lib: lib.distributions.Gamma(
        _f64(lib, [1.0, 1.0]), _f64(lib, [0.0, 1.0]), validate_args=True
    ),
    "Chi2 df": lambda lib: lib.distributions.Chi2(_f64(lib, [-2.0]), validate_args=True),
    "Beta": lambda lib: lib.distributions.Beta(
        _f64(lib, [1.0, 2.0]), _f64(lib, [-0.5, 1.0]), validate_args=True
    ),
    "Dirichlet": lambda lib: lib.distributions.Dirichlet(
        _f64(lib, [[1.0, 2.0], [0.0, 1.0]]), validate_args=True
    ),
    "Poisson": lambda lib: lib.distributions.Poisson(_f64(lib, [-1.0, 2.0]), validate_args=True),
    "Binomial probs": lambda lib: lib.distributions.Binomial(
        5, probs=_f64(lib, [0.2, 1.5]), validate_args=True
    ),
    "Binomial total_count": lambda lib: lib.distributions.Binomial(
        _f64(lib, [2.5, 3.0]), probs=_f64(lib, [0.2, 0.5]), validate_args=True
    ),
    "Multinomial probs": lambda lib: lib.distributions.Multinomial(
        3, probs=_f64(lib, [-0.2, 0.5, 0.7]), validate_args=True
    ),
    "MultivariateNormal covariance": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0, 0.0]), covariance_matrix=_f64(lib, [[1.0, 2.0], [2.0, 1.0]]),
        validate_args=True,
    ),
    "MultivariateNormal scale_tril": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0, 0.0]), scale_tril=_f64(lib, [[1.0, 0.0], [2.0, -1.0]]), validate_args=True
    ),
    "LowRankMultivariateNormal cov_diag": lambda lib: lib.distributions.LowRankMultivariateNormal(
        _f64(lib, [0.0, 0.0]), _f64(lib, [[1.0], [0.5]]), _f64(lib, [1.0, -1.0]),
        validate_args=True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", INVALID)
def test_invalid_parameters_raise_pytorchs_error(name):
    with pytest.raises(ValueError) as theirs:
        INVALID[name](torch)
    with pytest.raises(ValueError) as ours:
        INVALID[name](gradienti)
    assert str(ours.value) == str(theirs.value)


SAMPLES_OUTSIDE_SUPPORT = {
    "Gamma": (lambda lib: lib.distributions.Gamma(_f64(lib, [2.0, 1.0]), 1.0), [1.0, -0.5]),
    "Beta": (lambda lib: lib.distributions.Beta(_f64(lib, [2.0, 1.0]), 1.0), [0.5, 1.5]),
    "Dirichlet": (
        lambda lib: lib.distributions.Dirichlet(_f64(lib, [1.0, 2.0, 3.0])),
        [0.5, 0.4, 0.2],
    ),
    "Poisson": (lambda lib: lib.distributions.Poisson(_f64(lib, [2.0, 1.0])), [1.5, 2.0]),
    "Binomial": (
        lambda lib: lib.distributions.Binomial(4, probs=_f64(lib, [0.2, 0.5])),
        [5.0, 2.0],
    ),
    "Multinomial": (
        lambda lib: lib.distributions.Multinomial(3, probs=_f64(lib, [0.2, 0.3, 0.5])),
        [1.0, 1.0, 2.0],
    ),
    "MultivariateNormal": (
        lambda lib: lib.distributions.MultivariateNormal(
            _f64(lib, [0.0, 0.0, 0.0]), covariance_matrix=_f64(lib, _COV)
        ),
        [[0.0, 1.0]],
    ),
}


@pytest.mark.parametrize("name", SAMPLES_OUTSIDE_SUPPORT)
def test_log_prob_of_a_value_outside_the_support_raises_as_pytorch(name):
    make, value = SAMPLES_OUTSIDE_SUPPORT[name]
    with pytest.raises(ValueError) as theirs:
        make(torch).log_prob(_f64(torch, value))
    with pytest.raises(ValueError) as ours:
        make(gradienti).log_prob(_f64(gradienti, value))
    assert str(ours.value) == str(theirs.value)


CONSTRUCTOR_ERRORS = {
    "Dirichlet of a scalar": lambda lib: lib.distributions.Dirichlet(_f64(lib, 2.0)),
    "Binomial of both": lambda lib: lib.distributions.Binomial(
        3, probs=_f64(lib, [0.5]), logits=_f64(lib, [0.0])
    ),
    "Binomial of neither": lambda lib: lib.distributions.Binomial(3),
    "Multinomial of a tensor count": lambda lib: lib.distributions.Multinomial(
        _f64(lib, [2.0]), probs=_f64(lib, [0.5, 0.5])
    ),
    "MultivariateNormal of a scalar loc": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, 0.0), covariance_matrix=_f64(lib, [[1.0]])
    ),
    "MultivariateNormal of none": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0])
    ),
    "MultivariateNormal of two": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0]), covariance_matrix=_f64(lib, [[1.0]]), scale_tril=_f64(lib, [[1.0]])
    ),
    "MultivariateNormal of a vector covariance": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0]), covariance_matrix=_f64(lib, [1.0])
    ),
    "MultivariateNormal of a vector precision": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0]), precision_matrix=_f64(lib, [1.0])
    ),
    "MultivariateNormal of a vector scale_tril": lambda lib: lib.distributions.MultivariateNormal(
        _f64(lib, [0.0]), scale_tril=_f64(lib, [1.0])
    ),
    "LowRank of a scalar loc": lambda lib: lib.distributions.LowRankMultivariateNormal(
        _f64(lib, 0.0), _f64(lib, [[1.0]]), _f64(lib, [1.0])
    ),
    "LowRank of a vector factor": lambda lib: lib.distributions.LowRankMultivariateNormal(
        _f64(lib, [0.0, 1.0]), _f64(lib, [1.0, 2.0]), _f64(lib, [1.0, 1.0])
    ),
    "LowRank of a wrong factor": lambda lib: lib.distributions.LowRankMultivariateNormal(
        _f64(lib, [0.0, 1.0]), _f64(lib, [[1.0, 2.0, 3.0]]), _f64(lib, [1.0, 1.0])
    ),
    "LowRank of a wrong diagonal": lambda lib: lib.distributions.LowRankMultivariateNormal(
        _f64(lib, [0.0, 1.0]), _f64(lib, [[1.0], [2.0]]), _f64(lib, [1.0, 1.0, 1.0])
    ),
    "LowRank of batches that do not broadcast": lambda lib: (
        lib.distributions.LowRankMultivariateNormal(
            _f64(lib, [[0.0, 1.0]] * 3), _f64(lib, [[[1.0], [2.0]]] * 2), _f64(lib, [1.0, 1.0])
        )
    ),
}


@pytest.mark.parametrize("name", CONSTRUCTOR_ERRORS)
def test_constructor_errors_as_pytorch(name):
    with pytest.raises(Exception) as theirs:
        CONSTRUCTOR_ERRORS[name](torch)
    with pytest.raises(type(theirs.value)) as ours:
        CONSTRUCTOR_ERRORS[name](gradienti)
    assert str(ours.value) == str(theirs.value).replace("torch.Size", "torch.Size")


# ---------------------------------------------------------------- KL pairs
def _leaf(lib, values, leaves):
    """A float64 parameter that requires grad, remembered in ``leaves``."""
    tensor = _f64(lib, values, True)
    leaves.append(tensor)
    return tensor


def _mvn(lib, loc, cov, leaves):
    return lib.distributions.MultivariateNormal(
        _leaf(lib, loc, leaves), covariance_matrix=_leaf(lib, cov, leaves)
    )


def _lowrank(lib, loc, factor, diag, leaves):
    return lib.distributions.LowRankMultivariateNormal(
        _leaf(lib, loc, leaves), _leaf(lib, factor, leaves), _leaf(lib, diag, leaves)
    )


# name -> maker of (lib, i: which of the pair, leaves)
MAKERS = {
    "Beta": lambda lib, i, leaves: lib.distributions.Beta(
        _leaf(lib, [0.5 + i, 2.0, 3.0], leaves), _leaf(lib, [1.5, 0.8 + i, 3.0], leaves)
    ),
    "Gamma": lambda lib, i, leaves: lib.distributions.Gamma(
        _leaf(lib, [0.5 + i, 2.0, 7.0], leaves), _leaf(lib, [1.5, 0.7 + i, 3.0], leaves)
    ),
    "Dirichlet": lambda lib, i, leaves: lib.distributions.Dirichlet(
        _leaf(lib, [[0.5 + i, 2.0, 3.0], [4.0, 1.0 + i, 0.7]], leaves)
    ),
    "Poisson": lambda lib, i, leaves: lib.distributions.Poisson(
        _leaf(lib, [0.5 + i, 3.0, 12.0], leaves)
    ),
    "Binomial": lambda lib, i, leaves: lib.distributions.Binomial(
        _f64(lib, [5.0, 5.0, 7.0 - i]), probs=_leaf(lib, [0.1 + 0.2 * i, 0.5, 0.9], leaves)
    ),
    "Exponential": lambda lib, i, leaves: lib.distributions.Exponential(
        _leaf(lib, [0.5 + i, 1.0, 3.0], leaves)
    ),
    "Normal": lambda lib, i, leaves: lib.distributions.Normal(
        _leaf(lib, [0.5, -1.0 + i, 2.0], leaves), _leaf(lib, [1.0, 0.5 + i, 2.0], leaves)
    ),
    "Uniform": lambda lib, i, leaves: lib.distributions.Uniform(
        _leaf(lib, [0.1, -1.0 * i, 0.2], leaves), _leaf(lib, [0.9, 0.5, 0.6 + i], leaves)
    ),
    "MultivariateNormal": lambda lib, i, leaves: _mvn(
        lib, [0.5, -1.0 * i, 2.0], _COV if i else _COV2, leaves
    ),
    "LowRankMultivariateNormal": lambda lib, i, leaves: _lowrank(
        lib,
        [0.5 * i, -1.0, 2.0],
        [[1.0, 0.5], [-0.3, 0.8 + i], [0.2, -1.1]],
        [0.5, 1.0 + i, 2.0],
        leaves,
    ),
}
KL_PAIRS = [
    ("Beta", "Beta"),
    ("Binomial", "Binomial"),
    ("Dirichlet", "Dirichlet"),
    ("Gamma", "Gamma"),
    ("Poisson", "Poisson"),
    ("Beta", "Exponential"),
    ("Beta", "Gamma"),
    ("Beta", "Normal"),
    ("Beta", "Uniform"),
    ("Exponential", "Gamma"),
    ("Gamma", "Exponential"),
    ("Gamma", "Normal"),
    ("Gamma", "Uniform"),
    ("Uniform", "Beta"),
    ("Uniform", "Gamma"),
    ("MultivariateNormal", "MultivariateNormal"),
    ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
    ("MultivariateNormal", "LowRankMultivariateNormal"),
    ("LowRankMultivariateNormal", "MultivariateNormal"),
]


@pytest.mark.parametrize("p_name, q_name", KL_PAIRS)
def test_kl_divergence_values_and_gradients_as_pytorch(p_name, q_name):
    results = {}
    for lib in (gradienti, torch):
        leaves: list = []
        p, q = MAKERS[p_name](lib, 0, leaves), MAKERS[q_name](lib, 1, leaves)
        kl = lib.distributions.kl_divergence(p, q)
        finite = lib.isfinite(kl)
        weights = lib.tensor(np.linspace(0.5, 2.0, kl.numel()).reshape(tuple(kl.shape)))
        grads = (
            lib.autograd.grad((kl * weights)[finite].sum(), leaves, allow_unused=True)
            if bool(finite.any())
            else [None] * len(leaves)
        )
        results[lib.__name__] = (kl, grads)
    (ours, ours_grads), (theirs, theirs_grads) = results["gradienti"], results["torch"]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9)
    for ours_grad, theirs_grad in zip(ours_grads, theirs_grads):
        if theirs_grad is None:
            assert ours_grad is None or not ours_grad.numpy().any()
        else:
            np.testing.assert_allclose(
                ours_grad.numpy(), theirs_grad.numpy(), rtol=1e-8, atol=1e-12
            )


def test_kl_of_multivariate_normals_with_different_event_shapes_raises_as_pytorch():
    for pair in (
        ("MultivariateNormal", "MultivariateNormal"),
        ("LowRankMultivariateNormal", "LowRankMultivariateNormal"),
        ("MultivariateNormal", "LowRankMultivariateNormal"),
        ("LowRankMultivariateNormal", "MultivariateNormal"),
    ):
        messages = []
        for lib in (torch, gradienti):
            p = MAKERS[pair[0]](lib, 0, [])
            small = (
                _mvn(lib, [0.0, 1.0], [[1.0, 0.0], [0.0, 2.0]], [])
                if pair[1] == "MultivariateNormal"
                else _lowrank(lib, [0.0, 1.0], [[1.0], [0.5]], [1.0, 2.0], [])
            )
            with pytest.raises(ValueError) as error:
                lib.distributions.kl_divergence(p, small)
            messages.append(str(error.value))
        assert messages[0] == messages[1]


def test_kl_of_binomials_with_more_trials_in_q_raises_as_pytorch():
    messages = []
    for lib in (torch, gradienti):
        p = lib.distributions.Binomial(_f64(lib, [3.0]), probs=_f64(lib, [0.5]))
        q = lib.distributions.Binomial(_f64(lib, [5.0]), probs=_f64(lib, [0.5]))
        with pytest.raises(NotImplementedError) as error:
            lib.distributions.kl_divergence(p, q)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------- gradcheck in float64
D = gradienti.distributions


def _t(values):
    return gradienti.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _seeded(function, seed=4):
    """``function`` with the generator reset before each call: a reparameterised sample is then
    the same deterministic function of the parameters on every evaluation."""

    def seeded(*args):
        gradienti.manual_seed(seed)
        return function(*args)

    return seeded


def _symmetric(a):
    # a positive-definite matrix of any square a: a a^T + I
    return a @ a.mT + gradienti.eye(a.shape[-1], dtype=a.dtype)


_A = [[1.0, 0.2, -0.3], [0.1, 0.8, 0.4], [-0.2, 0.3, 1.1]]
GRADCHECKED = {
    "Gamma.log_prob": (
        lambda c, r, x: D.Gamma(c, r).log_prob(x),
        ([0.5, 3.0], [1.5, 0.7], [0.3, 2.0]),
    ),
    "Gamma.entropy": (lambda c, r: D.Gamma(c, r).entropy(), ([0.5, 3.0], [1.5, 0.7])),
    "Beta.log_prob": (
        lambda a, b, x: D.Beta(a, b).log_prob(x),
        ([0.5, 3.0], [1.5, 0.7], [0.3, 0.8]),
    ),
    "Beta.entropy": (lambda a, b: D.Beta(a, b).entropy(), ([0.5, 3.0], [1.5, 0.7])),
    "Dirichlet.log_prob": (
        lambda c, x: D.Dirichlet(c).log_prob(x / x.sum(-1, True)),
        ([[0.5, 2.0, 3.0]], [[0.2, 0.3, 0.5]]),
    ),
    "Dirichlet.entropy": (lambda c: D.Dirichlet(c).entropy(), ([[0.5, 2.0, 3.0]],)),
    "Poisson.log_prob": (
        lambda r: D.Poisson(r).log_prob(gradienti.tensor([0.0, 3.0], dtype=gradienti.float64)),
        ([0.5, 4.0],),
    ),
    "Binomial.log_prob": (
        lambda p: D.Binomial(6, probs=p).log_prob(
            gradienti.tensor([2.0, 5.0], dtype=gradienti.float64)
        ),
        ([0.3, 0.8],),
    ),
    "Binomial.entropy": (lambda logits: D.Binomial(4, logits=logits).entropy(), ([-1.0, 2.0],)),
    "Multinomial.log_prob": (
        lambda logits: D.Multinomial(4, logits=logits).log_prob(
            gradienti.tensor([1.0, 0.0, 3.0], dtype=gradienti.float64)
        ),
        ([0.5, -1.0, 2.0],),
    ),
    "MultivariateNormal.log_prob": (
        lambda loc, a, x: D.MultivariateNormal(loc, covariance_matrix=_symmetric(a)).log_prob(x),
        ([0.5, -1.0, 2.0], _A, [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]]),
    ),
    "MultivariateNormal(precision).log_prob": (
        lambda loc, a, x: D.MultivariateNormal(loc, precision_matrix=_symmetric(a)).log_prob(x),
        ([0.5, -1.0, 2.0], _A, [0.1, 0.2, 0.3]),
    ),
    "LowRankMultivariateNormal.log_prob": (
        lambda loc, w, d, x: D.LowRankMultivariateNormal(loc, w, d).log_prob(x),
        (
            [0.5, -1.0, 2.0],
            [[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1]],
            [0.5, 1.0, 2.0],
            [0.1, 0.2, 0.3],
        ),
    ),
    "LowRankMultivariateNormal.entropy": (
        lambda w, d: D.LowRankMultivariateNormal(gradienti.zeros(3, dtype=w.dtype), w, d).entropy(),
        ([[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1]], [0.5, 1.0, 2.0]),
    ),
    "kl(MultivariateNormal, LowRankMultivariateNormal)": (
        lambda loc, a, w, d: D.kl_divergence(
            D.MultivariateNormal(loc, scale_tril=gradienti.tril(a)),
            D.LowRankMultivariateNormal(loc.flip(0), w, d),
        ),
        ([0.5, -1.0, 2.0], _A, [[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1]], [0.5, 1.0, 2.0]),
    ),
    "kl(Gamma, Gamma)": (
        lambda c1, r1, c2, r2: D.kl_divergence(D.Gamma(c1, r1), D.Gamma(c2, r2)),
        ([0.5, 3.0], [1.5, 0.7], [2.0, 1.0], [1.0, 0.5]),
    ),
    "kl(Dirichlet, Dirichlet)": (
        lambda a, b: D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b)),
        ([[0.5, 2.0, 3.0]], [[1.0, 1.5, 0.5]]),
    ),
    "MultivariateNormal.rsample": (
        _seeded(
            lambda loc, a: D.MultivariateNormal(loc, covariance_matrix=_symmetric(a)).rsample((2,))
        ),
        ([0.5, -1.0, 2.0], _A),
    ),
    "LowRankMultivariateNormal.rsample": (
        _seeded(lambda loc, w, d: D.LowRankMultivariateNormal(loc, w, d).rsample((2,))),
        ([0.5, -1.0, 2.0], [[1.0, 0.5], [-0.3, 0.8], [0.2, -1.1]], [0.5, 1.0, 2.0]),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", GRADCHECKED)
def test_gradcheck_and_gradgradcheck(name):
    function, values = GRADCHECKED[name]
    inputs = tuple(_t(value) for value in values)
    assert gradcheck(function, inputs)
    assert gradgradcheck(function, inputs)


# PyTorch does not implement the second derivative of _standard_gamma_grad or _dirichlet_grad,
# and their first derivative in the concentration is the implicit (CDF) one, which finite
# differences of the rejection sampler do not give (test_gamma_sampling.py checks it against the
# incomplete gamma function): here the gamma family's samples are checked in their scale
RSAMPLE_IN_SCALE = {
    "Gamma.rsample": (
        _seeded(
            lambda r: D.Gamma(gradienti.tensor([0.5, 3.0, 12.0], dtype=r.dtype), r).rsample((3,))
        ),
        ([1.5, 0.7, 2.0],),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", RSAMPLE_IN_SCALE)
def test_gamma_rsample_gradcheck_in_the_rate(name):
    function, values = RSAMPLE_IN_SCALE[name]
    assert gradcheck(function, tuple(_t(value) for value in values))
