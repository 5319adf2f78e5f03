"""Review of issue 14's distributions from a learner's side: the module paths tutorials import,
a REINFORCE step, a VAE step, extreme logits, the three MultivariateNormal parametrisations
and default validation, each against PyTorch with the same seeds."""

import importlib

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _close(ours, theirs, rtol=1e-6, atol=1e-7):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


def test_every_torch_distributions_submodule_imports():
    # ``from torch.distributions.studentT import StudentT`` (camel-case module) was missing
    import pkgutil

    for info in pkgutil.iter_modules(torch.distributions.__path__):
        theirs = importlib.import_module("torch.distributions." + info.name)
        ours = importlib.import_module("gradienti.distributions." + info.name)
        for name in getattr(theirs, "__all__", []):
            assert hasattr(ours, name), (info.name, name)
    from gradienti.distributions.studentT import StudentT

    assert StudentT is gradienti.distributions.StudentT
    assert gradienti.distributions.studentT.StudentT is StudentT


def _reinforce(lib):
    logits = lib.tensor([[1.0, 2.0, -1.0], [0.5, 0.5, 3.0]], requires_grad=True)
    lib.manual_seed(3)
    policy = lib.distributions.Categorical(logits=logits)
    actions = policy.sample((4,))
    returns = lib.tensor([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25], [2.0, 1.0]])
    log_probs = policy.log_prob(actions)
    loss = -(log_probs * returns).mean() - 0.01 * policy.entropy().sum()
    loss.backward()
    float_actions = policy.log_prob(actions.float())
    return actions, log_probs, float_actions, logits.grad


def test_reinforce_step_matches_torch():
    ours, theirs = _reinforce(gradienti), _reinforce(torch)
    assert ours[0].dtype == gradienti.int64
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    for a, b in zip(ours[1:], theirs[1:]):
        _close(a, b)


def _probs_with_zeros(lib):
    probs = lib.tensor([[0.0, 2.0, 6.0], [1.0, 1.0, 0.0]], requires_grad=True)
    dist = lib.distributions.Categorical(probs=probs)
    entropy = dist.entropy()
    (entropy * lib.tensor([1.0, -3.0])).sum().backward()
    return dist.probs, dist.logits, entropy, dist.log_prob(lib.tensor([1, 2])), probs.grad


def test_categorical_unnormalised_probs_with_zeros_matches_torch():
    for a, b in zip(_probs_with_zeros(gradienti), _probs_with_zeros(torch)):
        _close(a, b)


def _vae(lib):
    mu = lib.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    log_var = lib.tensor([[0.1, -0.2], [0.3, 1.0]], requires_grad=True)
    lib.manual_seed(0)
    q = lib.distributions.Normal(mu, lib.exp(0.5 * log_var))
    z = q.rsample()
    kl = lib.distributions.kl_divergence(q, lib.distributions.Normal(0.0, 1.0)).sum(-1)
    posterior = lib.distributions.Independent(q, 1)
    log_q = posterior.log_prob(z)
    ((z - 1.0) ** 2).sum().add(kl.sum()).add(log_q.sum()).backward()
    return z, kl, log_q, mu.grad, log_var.grad


def test_vae_step_matches_torch():
    for a, b in zip(_vae(gradienti), _vae(torch)):
        _close(a, b, rtol=1e-5, atol=1e-6)


def _bernoulli_extremes(lib, dtype):
    logits = lib.tensor([-800.0, -100.0, 0.0, 100.0, 800.0], dtype=dtype, requires_grad=True)
    dist = lib.distributions.Bernoulli(logits=logits)
    zeros = dist.log_prob(lib.zeros(5, dtype=dtype))
    ones = dist.log_prob(lib.ones(5, dtype=dtype))
    entropy = dist.entropy()
    (zeros * 2.0 + ones * 3.0 + entropy).sum().backward()
    return zeros, ones, entropy, logits.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_extreme_logits_are_finite_as_torch(dtype):
    ours = _bernoulli_extremes(gradienti, getattr(gradienti, dtype))
    theirs = _bernoulli_extremes(torch, getattr(torch, dtype))
    for a, b in zip(ours, theirs):
        assert np.isfinite(_np(a)).all()
        _close(a, b)


_COV = [[2.0, 0.5, 0.1], [0.5, 1.5, 0.2], [0.1, 0.2, 1.0]]


def _mvn(lib, kind):
    loc = lib.tensor([[0.5, -1.0, 0.2], [1.0, 0.0, 0.0]], dtype=lib.float64, requires_grad=True)
    cov = lib.tensor(_COV, dtype=lib.float64, requires_grad=True)
    if kind == "covariance_matrix":
        dist = lib.distributions.MultivariateNormal(loc, covariance_matrix=cov)
    elif kind == "scale_tril":
        dist = lib.distributions.MultivariateNormal(loc, scale_tril=lib.linalg.cholesky(cov))
    else:
        dist = lib.distributions.MultivariateNormal(loc, precision_matrix=lib.linalg.inv(cov))
    lib.manual_seed(0)
    sample = dist.rsample((2,))
    value = lib.tensor([[[0.1, 0.2, 0.3]], [[1.0, -1.0, 0.5]]], dtype=lib.float64)
    log_prob = dist.log_prob(value)
    entropy = dist.entropy()
    (log_prob.sum() * 1.5 + entropy.sum() + (sample**3).sum()).backward()
    return sample, log_prob, entropy, loc.grad, cov.grad


@pytest.mark.parametrize("kind", ["covariance_matrix", "scale_tril", "precision_matrix"])
def test_multivariate_normal_parametrisations_match_torch(kind):
    for a, b in zip(_mvn(gradienti, kind), _mvn(torch, kind)):
        _close(a, b, rtol=1e-9, atol=1e-12)


def test_validation_is_on_by_default_and_switchable_as_torch():
    for lib in (gradienti, torch):
        assert lib.distributions.Distribution._validate_args is True
    messages = []
    for lib in (gradienti, torch):
        with pytest.raises(ValueError) as info:
            lib.distributions.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0]))
        messages.append(str(info.value))
        with pytest.raises(ValueError) as info:
            lib.distributions.Beta(lib.tensor(2.0), lib.tensor(2.0)).log_prob(lib.tensor(1.5))
        messages.append(str(info.value))
    assert messages[:2] == messages[2:]
    results = []
    for lib in (gradienti, torch):
        lib.distributions.Distribution.set_default_validate_args(False)
        try:
            normal = lib.distributions.Normal(0.0, lib.tensor(-1.0))
            beta = lib.distributions.Beta(lib.tensor(2.0), lib.tensor(2.0))
            results.append((normal.log_prob(lib.tensor(1.0)), beta.log_prob(lib.tensor(1.5))))
        finally:
            lib.distributions.Distribution.set_default_validate_args(True)
    for a, b in zip(*results):
        _close(a, b)
