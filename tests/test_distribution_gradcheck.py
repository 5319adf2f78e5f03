"""Derivatives of the distributions against float64 finite differences (gradcheck and
gradgradcheck of log_prob, entropy, cdf, KL and the reparameterised samples), second
derivatives against PyTorch's, and same-seed samples over more seeds, shapes and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

D = gradienti.distributions


def _t(values):
    return gradienti.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _seeded(function, seed=4):
    """``function`` with the generator reset before each call, so that a reparameterised
    sample is the same deterministic function of the parameters on every evaluation."""

    def seeded(*args):
        gradienti.manual_seed(seed)
        return function(*args)

    return seeded


FUNCTIONS = {
    "Normal.log_prob": (
        lambda loc, scale, x: D.Normal(loc, scale).log_prob(x),
        ([0.5, -1.0], [1.0, 0.7], [0.1, 0.3]),
    ),
    "Normal.cdf": (
        lambda loc, scale, x: D.Normal(loc, scale).cdf(x),
        ([0.5, -1.0], [1.0, 0.7], [0.1, 0.3]),
    ),
    "Normal.icdf": (
        lambda loc, scale, q: D.Normal(loc, scale).icdf(q),
        ([0.5, -1.0], [1.0, 0.7], [0.2, 0.7]),
    ),
    "Normal.rsample": (
        _seeded(lambda loc, scale: D.Normal(loc, scale).rsample((3,))),
        ([0.5, -1.0], [1.0, 0.7]),
    ),
    "Uniform.rsample": (
        _seeded(lambda low, high: D.Uniform(low, high).rsample((3,))),
        ([0.0, -1.0], [1.0, 2.0]),
    ),
    "Uniform.entropy": (
        lambda low, high: D.Uniform(low, high).entropy(),
        ([0.0, -1.0], [1.0, 2.0]),
    ),
    "Exponential.rsample": (_seeded(lambda rate: D.Exponential(rate).rsample((3,))), ([0.5, 2.0],)),
    "Exponential.log_prob": (
        lambda rate, x: D.Exponential(rate).log_prob(x),
        ([0.5, 2.0], [0.3, 1.5]),
    ),
    "Laplace.rsample": (
        _seeded(lambda loc, scale: D.Laplace(loc, scale).rsample((3,))),
        ([0.5, -1.0], [1.0, 0.7]),
    ),
    "Laplace.log_prob": (
        lambda loc, scale, x: D.Laplace(loc, scale).log_prob(x),
        ([0.5, -1.0], [1.0, 0.7], [0.1, 0.3]),
    ),
    "LogNormal.log_prob": (
        lambda loc, scale, x: D.LogNormal(loc, scale).log_prob(x),
        ([0.5, -1.0], [1.0, 0.7], [0.4, 1.3]),
    ),
    "LogNormal.rsample": (
        _seeded(lambda loc, scale: D.LogNormal(loc, scale).rsample((2,))),
        ([0.5, -1.0], [1.0, 0.7]),
    ),
    "Bernoulli.log_prob": (
        lambda probs: D.Bernoulli(probs).log_prob(
            gradienti.tensor([1.0, 0.0], dtype=gradienti.float64)
        ),
        ([0.3, 0.8],),
    ),
    "Bernoulli(logits).entropy": (
        lambda logits: D.Bernoulli(logits=logits).entropy(),
        ([-0.5, 2.0],),
    ),
    "Categorical.log_prob": (
        lambda logits: D.Categorical(logits=logits).log_prob(gradienti.tensor([2, 0])),
        ([[0.1, -0.3, 0.5], [1.0, 0.0, -1.0]],),
    ),
    "Categorical.entropy": (
        lambda probs: D.Categorical(probs=probs).entropy(),
        ([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]],),
    ),
    "Transformed.log_prob": (
        lambda loc, scale, y: D.TransformedDistribution(
            D.Normal(loc, scale), [D.AffineTransform(0.5, 2.0), D.TanhTransform()]
        ).log_prob(y),
        ([0.5, -1.0], [1.0, 0.7], [0.3, -0.2]),
    ),
    "StickBreaking.log_prob": (
        lambda loc, y: D.TransformedDistribution(
            D.Normal(loc, 1.0),
            D.StickBreakingTransform(),
            validate_args=False,  # finite differences leave the simplex
        ).log_prob(y),
        ([0.1, -0.3], [0.2, 0.3, 0.5]),
    ),
    "Cauchy.log_prob": (
        lambda loc, scale, x: D.Cauchy(loc, scale).log_prob(x),
        ([0.5, -1.0], [1.0, 0.7], [0.1, 0.3]),
    ),
    "Gumbel.log_prob": (
        lambda loc, scale, x: D.Gumbel(loc, scale).log_prob(x),
        ([0.5, -1.0], [1.0, 0.7], [0.1, 0.3]),
    ),
    "Geometric.entropy": (lambda probs: D.Geometric(probs).entropy(), ([0.3, 0.8],)),
    "kl(Gumbel, Gumbel)": (
        lambda a, b, c, d: D.kl_divergence(D.Gumbel(a, b), D.Gumbel(c, d)),
        ([0.5, -1.0], [1.0, 0.7], [0.0, 0.2], [1.5, 0.5]),
    ),
    "RelaxedOneHotCategorical.rsample": (
        _seeded(
            lambda temperature, logits: D.RelaxedOneHotCategorical(
                temperature, logits=logits
            ).rsample((2,))
        ),
        (0.7, [[0.1, -0.5, 1.0]]),
    ),
    "RelaxedBernoulli.log_prob": (
        lambda temperature, probs, x: D.RelaxedBernoulli(temperature, probs=probs).log_prob(x),
        (0.7, [0.3, 0.6], [0.2, 0.9]),
    ),
    "MixtureSameFamily.log_prob": (
        lambda weights, loc, scale, x: D.MixtureSameFamily(
            D.Categorical(weights), D.Normal(loc, scale)
        ).log_prob(x),
        ([0.2, 0.5, 0.3], [-1.0, 0.0, 2.0], [0.5, 1.0, 0.3], [0.4, -1.2]),
    ),
    "Weibull.log_prob": (
        lambda scale, concentration, x: D.Weibull(scale, concentration).log_prob(x),
        ([1.0, 2.0], [3.0, 0.7], [0.5, 1.3]),
    ),
    "Pareto.rsample": (
        _seeded(lambda scale, alpha: D.Pareto(scale, alpha).rsample((2,))),
        ([1.0, 2.0], [3.0, 0.7]),
    ),
    "kl(Pareto, Normal)": (
        lambda a, b, c, d: D.kl_divergence(D.Pareto(a, b), D.Normal(c, d)),
        ([1.0, 0.5], [3.0, 2.5], [0.0, 0.2], [1.5, 0.5]),
    ),
    "ContinuousBernoulli.log_prob": (
        lambda probs, x: D.ContinuousBernoulli(probs).log_prob(x),
        ([0.2, 0.7], [0.3, 0.9]),
    ),
    "ContinuousBernoulli.rsample": (
        _seeded(lambda probs: D.ContinuousBernoulli(probs).rsample((2,))),
        ([0.2, 0.7],),
    ),
    "Kumaraswamy.log_prob": (
        lambda a, b, x: D.Kumaraswamy(a, b).log_prob(x),
        ([2.0, 0.5], [3.0, 1.5], [0.3, 0.6]),
    ),
    "VonMises.log_prob": (
        lambda loc, concentration, x: D.VonMises(loc, concentration).log_prob(x),
        ([0.0, 1.0], [0.5, 4.0], [0.3, -2.0]),
    ),
    "GeneralizedPareto.rsample": (
        _seeded(lambda loc, scale, xi: D.GeneralizedPareto(loc, scale, xi).rsample((2,))),
        ([0.0, 1.0], [0.5, 4.0], [0.2, -0.3]),
    ),
    "StudentT.log_prob": (
        lambda df, loc, scale, x: D.StudentT(df, loc, scale).log_prob(x),
        ([3.0, 0.7], [0.0, 1.0], [1.0, 2.0], [0.3, -2.0]),
    ),
    "StudentT.entropy": (lambda df: D.StudentT(df).entropy(), ([3.0, 0.7],)),
    "FisherSnedecor.log_prob": (
        lambda df1, df2, x: D.FisherSnedecor(df1, df2).log_prob(x),
        ([3.0, 0.7], [1.0, 12.0], [0.3, 2.0]),
    ),
    "NegativeBinomial.log_prob": (
        lambda count, logits: D.NegativeBinomial(count, logits=logits).log_prob(
            gradienti.tensor([2.0, 0.0], dtype=gradienti.float64)
        ),
        ([3.0, 1.5], [-0.5, 1.0]),
    ),
    "kl(Normal, Laplace)": (
        lambda a, b, c, d: D.kl_divergence(D.Normal(a, b), D.Laplace(c, d)),
        ([0.5, -1.0], [1.0, 0.7], [0.0, 0.2], [1.5, 0.5]),
    ),
    "kl(Categorical, Categorical)": (
        lambda p, q: D.kl_divergence(D.Categorical(p), D.Categorical(q)),
        ([[0.2, 0.3, 0.5]], [[0.4, 0.4, 0.2]]),
    ),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_gradcheck_and_gradgradcheck(name):
    function, values = FUNCTIONS[name]
    inputs = tuple(_t(v) for v in values)
    assert gradcheck(function, inputs)
    assert gradgradcheck(function, inputs)


def _both_second_derivatives(build, values):
    """d/dparams of sum(w * d out/dparams) with create_graph, in both libraries."""
    results = []
    for lib in (gradienti, torch):
        params = [lib.tensor(np.asarray(v), requires_grad=True) for v in values]
        out = build(lib, *params)
        weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
        first = lib.autograd.grad((out * weights).sum(), params, create_graph=True)
        total = sum((g * g).sum() for g in first)
        results.append([g.detach().numpy() for g in lib.autograd.grad(total, params)])
    return results


@pytest.mark.parametrize(
    "build, values",
    [
        (
            lambda lib, loc, scale: lib.distributions.Normal(loc, scale).log_prob(
                lib.tensor([0.2, -0.4], dtype=lib.float64)
            ),
            ([0.5, -1.0], [1.0, 0.7]),
        ),
        (
            lambda lib, rate: lib.distributions.Exponential(rate).entropy(),
            ([0.5, 2.0],),
        ),
        (
            lambda lib, p, q: lib.distributions.kl_divergence(
                lib.distributions.Bernoulli(p), lib.distributions.Bernoulli(q)
            ),
            ([0.3, 0.6], [0.5, 0.1]),
        ),
    ],
    ids=["Normal.log_prob", "Exponential.entropy", "kl(Bernoulli, Bernoulli)"],
)
def test_second_derivatives_as_pytorch(build, values):
    ours, theirs = _both_second_derivatives(build, values)
    for our_grad, their_grad in zip(ours, theirs):
        np.testing.assert_allclose(our_grad, their_grad, rtol=1e-9)


SAMPLERS = {
    "Normal": lambda lib, dtype: lib.distributions.Normal(
        lib.tensor([0.0, 2.0, -1.0], dtype=dtype), lib.tensor([1.0, 0.5, 3.0], dtype=dtype)
    ),
    "Uniform": lambda lib, dtype: lib.distributions.Uniform(
        lib.tensor([0.0, 2.0], dtype=dtype), lib.tensor([1.0, 2.5], dtype=dtype)
    ),
    "Exponential": lambda lib, dtype: lib.distributions.Exponential(
        lib.tensor([0.5, 4.0], dtype=dtype)
    ),
    "Laplace": lambda lib, dtype: lib.distributions.Laplace(
        lib.tensor([0.0, 2.0], dtype=dtype), lib.tensor([1.0, 0.1], dtype=dtype)
    ),
    "Bernoulli": lambda lib, dtype: lib.distributions.Bernoulli(
        lib.tensor([0.1, 0.5, 0.9], dtype=dtype)
    ),
    "Categorical": lambda lib, dtype: lib.distributions.Categorical(
        lib.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], dtype=dtype)
    ),
    "HalfNormal": lambda lib, dtype: lib.distributions.HalfNormal(
        lib.tensor([1.0, 0.2], dtype=dtype)
    ),
    "Cauchy": lambda lib, dtype: lib.distributions.Cauchy(
        lib.tensor([0.0, 2.0], dtype=dtype), lib.tensor([1.0, 0.1], dtype=dtype)
    ),
    "Gumbel": lambda lib, dtype: lib.distributions.Gumbel(
        lib.tensor([0.0, 2.0], dtype=dtype), lib.tensor([1.0, 0.1], dtype=dtype)
    ),
    "Geometric": lambda lib, dtype: lib.distributions.Geometric(
        lib.tensor([0.3, 0.9], dtype=dtype)
    ),
    "MixtureSameFamily": lambda lib, dtype: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(lib.tensor([0.2, 0.5, 0.3], dtype=dtype)),
        lib.distributions.Normal(
            lib.tensor([-1.0, 0.0, 2.0], dtype=dtype), lib.tensor([0.5, 1.0, 0.3], dtype=dtype)
        ),
    ),
    "Pareto": lambda lib, dtype: lib.distributions.Pareto(
        lib.tensor([1.0, 2.0], dtype=dtype), lib.tensor([3.0, 0.5], dtype=dtype)
    ),
    "Weibull": lambda lib, dtype: lib.distributions.Weibull(
        lib.tensor([1.0, 2.0], dtype=dtype), lib.tensor([3.0, 0.5], dtype=dtype)
    ),
    "HalfCauchy": lambda lib, dtype: lib.distributions.HalfCauchy(
        lib.tensor([1.0, 0.2], dtype=dtype)
    ),
    "LogisticNormal": lambda lib, dtype: lib.distributions.LogisticNormal(
        lib.tensor([0.0, 1.0], dtype=dtype), lib.tensor([1.0, 0.3], dtype=dtype)
    ),
    "ContinuousBernoulli": lambda lib, dtype: lib.distributions.ContinuousBernoulli(
        lib.tensor([0.2, 0.4999, 0.9], dtype=dtype)
    ),
    "Kumaraswamy": lambda lib, dtype: lib.distributions.Kumaraswamy(
        lib.tensor([2.0, 0.5], dtype=dtype), lib.tensor([3.0, 1.5], dtype=dtype)
    ),
    "VonMises": lambda lib, dtype: lib.distributions.VonMises(
        lib.tensor([0.0, 1.0, 3.0], dtype=dtype), lib.tensor([0.5, 4.0, 1e-6], dtype=dtype)
    ),
    "GeneralizedPareto": lambda lib, dtype: lib.distributions.GeneralizedPareto(
        lib.tensor([0.0, 1.0], dtype=dtype),
        lib.tensor([0.5, 4.0], dtype=dtype),
        lib.tensor([0.0, -0.3], dtype=dtype),
    ),
    "StudentT": lambda lib, dtype: lib.distributions.StudentT(
        lib.tensor([3.0, 0.7], dtype=dtype), lib.tensor([0.0, 1.0], dtype=dtype)
    ),
    "InverseGamma": lambda lib, dtype: lib.distributions.InverseGamma(
        lib.tensor([3.0, 0.7], dtype=dtype), lib.tensor([1.0, 2.0], dtype=dtype)
    ),
    "FisherSnedecor": lambda lib, dtype: lib.distributions.FisherSnedecor(
        lib.tensor([3.0, 0.7], dtype=dtype), lib.tensor([1.0, 12.0], dtype=dtype)
    ),
    "NegativeBinomial": lambda lib, dtype: lib.distributions.NegativeBinomial(
        lib.tensor([3.0, 20.0], dtype=dtype), lib.tensor([0.2, 0.7], dtype=dtype)
    ),
    "LKJCholesky": lambda lib, dtype: lib.distributions.LKJCholesky(
        4, lib.tensor([0.5, 2.0], dtype=dtype)
    ),
    "LogNormal": lambda lib, dtype: lib.distributions.LogNormal(
        lib.tensor([0.0, 1.0], dtype=dtype), lib.tensor([0.5, 0.2], dtype=dtype)
    ),
}


FLOAT32_ATOL = {
    "Gumbel": 1e-6,
    "Kumaraswamy": 1e-5,
    "ContinuousBernoulli": 1e-6,
}


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 123, 2**31 - 1])
@pytest.mark.parametrize("sample_shape", [(17,), (3, 40)])
def test_samples_and_rsamples_match_pytorch_stream(name, dtype, seed, sample_shape):
    if name == "LKJCholesky" and dtype == "float32":
        pytest.skip(
            "float32 diagonal sqrt(1 - |w|^2) cancels without bound for a row near the unit "
            "sphere (one ulp of |w|^2 was 1% of it); test_lkj_cholesky_float32_sample checks"
        )
    ours = SAMPLERS[name](gradienti, getattr(gradienti, dtype))
    theirs = SAMPLERS[name](torch, getattr(torch, dtype))
    methods = ["sample"] + (["rsample"] if theirs.has_rsample else [])
    for method in methods:
        gradienti.manual_seed(seed)
        torch.manual_seed(seed)
        our_values = getattr(ours, method)(sample_shape)
        their_values = getattr(theirs, method)(sample_shape)
        assert str(our_values.dtype) == str(their_values.dtype)
        assert tuple(our_values.shape) == tuple(their_values.shape)
        if dtype == "float64":
            rtol, atol = 1e-13, 1e-13
        else:
            # NumPy's and PyTorch's float32 log/pow can differ in the last bit, which a
            # cancellation amplifies: Gumbel's loc - scale * log(-log u) near 0, Kumaraswamy's
            # 1 - u^(1/b) for u near 1 (one ulp of pow is 1e-3 of the result there), and
            # ContinuousBernoulli's icdf, a ratio of two log1p
            rtol, atol = 1e-6, FLOAT32_ATOL.get(name, 0.0)
        np.testing.assert_allclose(our_values.numpy(), their_values.numpy(), rtol=rtol, atol=atol)
        np.testing.assert_array_equal(gradienti.rand(2).numpy(), torch.rand(2).numpy())


def test_lkj_cholesky_float32_sample():
    # the strictly lower triangle is PyTorch's to float32 rounding; the diagonal is what
    # makes each row a unit vector, compared after recomputing it in float64
    results = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        dist = lib.distributions.LKJCholesky(4, lib.tensor([0.5, 2.0]))
        results.append(dist.sample((3, 40)).numpy())
    ours, theirs = results
    lower = np.tril(np.ones((4, 4), dtype=bool), -1)
    np.testing.assert_allclose(ours[..., lower], theirs[..., lower], rtol=1e-5, atol=1e-6)
    row_norms = np.sqrt((ours.astype(np.float64) ** 2).sum(-1))
    np.testing.assert_allclose(row_norms, 1.0, atol=1e-5)
