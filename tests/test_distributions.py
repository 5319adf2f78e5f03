"""The common distributions against torch.distributions: shapes, repr, same samples after the
same seed, reparameterised gradients, log_prob/cdf/icdf/entropy/moments and their gradients
with respect to the parameters, expand and enumerate_support."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

LIBRARIES = {"gradienti": gradienti, "torch": torch}

# name -> (constructor of (lib, params), params as float64 arrays, values to score)
SPECS = {
    "Normal": (
        lambda lib, p: lib.distributions.Normal(p["loc"], p["scale"]),
        {"loc": [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], "scale": [[1.0, 0.5, 2.0], [0.3, 1.5, 0.8]]},
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
    "Uniform": (
        lambda lib, p: lib.distributions.Uniform(p["low"], p["high"]),
        {"low": [-1.0, 0.0, 2.0], "high": [1.0, 0.5, 5.0]},
        [0.3, 0.25, 4.0],
    ),
    "Exponential": (
        lambda lib, p: lib.distributions.Exponential(p["rate"]),
        {"rate": [0.5, 1.0, 3.0, 0.2]},
        [0.1, 2.0, 0.7, 5.0],
    ),
    "Laplace": (
        lambda lib, p: lib.distributions.Laplace(p["loc"], p["scale"]),
        {"loc": [0.0, 1.0, -2.0], "scale": [1.0, 0.5, 3.0]},
        [0.5, 0.2, -4.0],
    ),
    "LogNormal": (
        lambda lib, p: lib.distributions.LogNormal(p["loc"], p["scale"]),
        {"loc": [0.0, 0.5, -1.0], "scale": [1.0, 0.25, 0.7]},
        [0.5, 1.7, 0.3],
    ),
    "Bernoulli(probs)": (
        lambda lib, p: lib.distributions.Bernoulli(probs=p["probs"]),
        {"probs": [[0.1, 0.5, 0.9], [0.3, 0.7, 0.25]]},
        [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]],
    ),
    "Bernoulli(logits)": (
        lambda lib, p: lib.distributions.Bernoulli(logits=p["logits"]),
        {"logits": [-2.0, 0.0, 1.5, 3.0]},
        [1.0, 0.0, 1.0, 0.0],
    ),
    "Categorical(probs)": (
        lambda lib, p: lib.distributions.Categorical(probs=p["probs"]),
        {"probs": [[0.1, 0.2, 0.3, 0.4], [0.5, 0.25, 0.125, 0.125]]},
        [[3.0, 0.0], [1.0, 2.0]],
    ),
    "Categorical(logits)": (
        lambda lib, p: lib.distributions.Categorical(logits=p["logits"]),
        {"logits": [[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]]},
        [2.0, 1.0],
    ),
    "OneHotCategorical": (
        lambda lib, p: lib.distributions.OneHotCategorical(probs=p["probs"]),
        {"probs": [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]},
        [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
    ),
    "HalfNormal": (
        lambda lib, p: lib.distributions.HalfNormal(p["scale"]),
        {"scale": [1.0, 0.5, 2.0]},
        [0.3, 1.2, 0.0],
    ),
    "Cauchy": (
        lambda lib, p: lib.distributions.Cauchy(p["loc"], p["scale"]),
        {"loc": [0.0, 1.0, -2.0], "scale": [1.0, 0.5, 3.0]},
        [0.5, 0.2, -4.0],
    ),
    "Gumbel": (
        lambda lib, p: lib.distributions.Gumbel(p["loc"], p["scale"]),
        {"loc": [0.0, 1.0, -2.0], "scale": [1.0, 0.5, 3.0]},
        [0.5, 0.2, -4.0],
    ),
    "Geometric(probs)": (
        lambda lib, p: lib.distributions.Geometric(probs=p["probs"]),
        {"probs": [0.2, 0.5, 0.9, 1.0]},
        [3.0, 0.0, 1.0, 0.0],
    ),
    "Geometric(logits)": (
        lambda lib, p: lib.distributions.Geometric(logits=p["logits"]),
        {"logits": [-1.0, 0.0, 2.0]},
        [3.0, 0.0, 1.0],
    ),
    "RelaxedBernoulli": (
        lambda lib, p: lib.distributions.RelaxedBernoulli(p["temperature"], probs=p["probs"]),
        {"temperature": 0.7, "probs": [0.1, 0.5, 0.8]},
        [0.3, 0.9, 0.01],
    ),
    "RelaxedBernoulli(logits)": (
        lambda lib, p: lib.distributions.RelaxedBernoulli(p["temperature"], logits=p["logits"]),
        {"temperature": [0.5, 2.0], "logits": [-1.0, 2.0]},
        [0.3, 0.9],
    ),
    "RelaxedOneHotCategorical": (
        lambda lib, p: lib.distributions.RelaxedOneHotCategorical(
            p["temperature"], logits=p["logits"]
        ),
        {"temperature": 0.5, "logits": [[0.1, -0.5, 1.0], [2.0, 0.0, -1.0]]},
        [[0.2, 0.3, 0.5], [0.8, 0.15, 0.05]],
    ),
    "MixtureSameFamily(Normal)": (
        lambda lib, p: lib.distributions.MixtureSameFamily(
            lib.distributions.Categorical(p["weights"]),
            lib.distributions.Normal(p["loc"], p["scale"]),
        ),
        {
            "weights": [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]],
            "loc": [[-1.0, 0.0, 2.0], [0.5, 1.0, -2.0]],
            "scale": [[0.5, 1.0, 0.3], [1.0, 2.0, 0.7]],
        },
        [0.4, -1.2],
    ),
    "MixtureSameFamily(Independent)": (
        lambda lib, p: lib.distributions.MixtureSameFamily(
            lib.distributions.Categorical(p["weights"]),
            lib.distributions.Independent(lib.distributions.Normal(p["loc"], p["scale"]), 1),
        ),
        {
            "weights": [0.3, 0.7],
            "loc": [[-1.0, 0.0], [2.0, 0.5]],
            "scale": [[0.5, 1.0], [0.3, 2.0]],
        },
        [[0.4, -1.2], [1.0, 0.3]],
    ),
    "HalfCauchy": (
        lambda lib, p: lib.distributions.HalfCauchy(p["scale"]),
        {"scale": [1.0, 0.5, 2.0]},
        [0.3, 1.2, 0.0],
    ),
    "LogisticNormal": (
        lambda lib, p: lib.distributions.LogisticNormal(p["loc"], p["scale"]),
        {"loc": [[0.1, -0.5], [1.0, 0.0]], "scale": [[1.0, 0.5], [0.3, 2.0]]},
        [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]],
    ),
    "Pareto": (
        lambda lib, p: lib.distributions.Pareto(p["scale"], p["alpha"]),
        {"scale": [1.0, 0.5, 2.0], "alpha": [3.0, 1.5, 0.7]},
        [1.5, 0.6, 4.0],
    ),
    "Weibull": (
        lambda lib, p: lib.distributions.Weibull(p["scale"], p["concentration"]),
        {"scale": [1.0, 0.5, 2.0], "concentration": [3.0, 1.5, 0.7]},
        [1.5, 0.6, 4.0],
    ),
    "ContinuousBernoulli(probs)": (
        lambda lib, p: lib.distributions.ContinuousBernoulli(probs=p["probs"]),
        {"probs": [0.1, 0.4995, 0.8, 0.3]},
        [0.3, 0.9, 0.01, 1.0],
    ),
    "ContinuousBernoulli(logits)": (
        lambda lib, p: lib.distributions.ContinuousBernoulli(logits=p["logits"]),
        {"logits": [-2.0, 0.001, 1.5]},
        [0.3, 0.9, 0.01],
    ),
    "Kumaraswamy": (
        lambda lib, p: lib.distributions.Kumaraswamy(p["concentration1"], p["concentration0"]),
        {"concentration1": [2.0, 0.5, 3.0], "concentration0": [3.0, 1.5, 0.7]},
        [0.3, 0.9, 0.5],
    ),
    "VonMises": (
        lambda lib, p: lib.distributions.VonMises(p["loc"], p["concentration"]),
        {"loc": [0.0, 1.0, -2.0], "concentration": [0.5, 4.0, 1e-6]},
        [0.5, 0.2, -3.0],
    ),
    "GeneralizedPareto": (
        lambda lib, p: lib.distributions.GeneralizedPareto(
            p["loc"], p["scale"], p["concentration"]
        ),
        {"loc": [0.0, 1.0, -2.0], "scale": [0.5, 4.0, 1.0], "concentration": [0.0, -0.3, 0.4]},
        [0.5, 2.0, -1.0],
    ),
    "StudentT": (
        lambda lib, p: lib.distributions.StudentT(p["df"], p["loc"], p["scale"]),
        {"df": [0.8, 1.5, 3.0, 10.0], "loc": [0.0, 1.0, -2.0, 0.5], "scale": [1.0, 0.5, 2.0, 3.0]},
        [0.5, 0.2, -4.0, 1.0],
    ),
    "InverseGamma": (
        lambda lib, p: lib.distributions.InverseGamma(p["concentration"], p["rate"]),
        {"concentration": [0.5, 1.5, 3.0], "rate": [1.0, 0.5, 2.0]},
        [0.5, 0.2, 4.0],
    ),
    "FisherSnedecor": (
        lambda lib, p: lib.distributions.FisherSnedecor(p["df1"], p["df2"]),
        {"df1": [1.0, 3.0, 10.0], "df2": [2.0, 4.5, 8.0]},
        [0.5, 1.2, 3.0],
    ),
    "NegativeBinomial(probs)": (
        lambda lib, p: lib.distributions.NegativeBinomial(p["total_count"], probs=p["probs"]),
        {"total_count": [3.0, 0.0, 10.0], "probs": [0.3, 0.5, 0.9]},
        [2.0, 0.0, 25.0],
    ),
    "NegativeBinomial(logits)": (
        lambda lib, p: lib.distributions.NegativeBinomial(p["total_count"], logits=p["logits"]),
        {"total_count": [3.0, 5.5], "logits": [-1.0, 2.0]},
        [2.0, 7.0],
    ),
    "LKJCholesky": (
        lambda lib, p: lib.distributions.LKJCholesky(3, p["concentration"]),
        {"concentration": [0.5, 2.0]},
        [
            [[1.0, 0.0, 0.0], [-0.6, 0.8, 0.0], [0.36, 0.48, 0.8]],
            [[1.0, 0.0, 0.0], [0.28, 0.96, 0.0], [0.0, 0.6, 0.8]],
        ],
    ),
    "Independent(Normal)": (
        lambda lib, p: lib.distributions.Independent(
            lib.distributions.Normal(p["loc"], p["scale"]), 1
        ),
        {"loc": [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]], "scale": [[1.0, 0.5, 2.0], [0.3, 1.5, 0.8]]},
        [[0.2, -1.5, 3.0], [-0.4, 0.0, 1.1]],
    ),
    "Transformed(Normal, affine+sigmoid)": (
        lambda lib, p: lib.distributions.TransformedDistribution(
            lib.distributions.Normal(p["loc"], p["scale"]),
            [
                lib.distributions.AffineTransform(0.5, 2.0),
                lib.distributions.SigmoidTransform(),
            ],
        ),
        {"loc": [0.0, 0.5, -1.0], "scale": [1.0, 0.25, 0.7]},
        [0.3, 0.6, 0.1],
    ),
    "Transformed(Uniform, exp+power)": (
        lambda lib, p: lib.distributions.TransformedDistribution(
            lib.distributions.Uniform(p["low"], p["high"]),
            [lib.distributions.ExpTransform(), lib.distributions.PowerTransform(2.0)],
        ),
        {"low": [-1.0, 0.0], "high": [1.0, 0.5]},
        [1.5, 2.0],
    ),
}


def _make(name, lib_name, dtype="float64", requires_grad=False):
    build, params, _ = SPECS[name]
    lib = LIBRARIES[lib_name]
    tensors = {
        key: lib.tensor(
            np.asarray(value, dtype=dtype), dtype=getattr(lib, dtype), requires_grad=requires_grad
        )
        for key, value in params.items()
    }
    return build(lib, tensors), tensors


def _both(name, **options):
    ours, our_params = _make(name, "gradienti", **options)
    theirs, their_params = _make(name, "torch", **options)
    return ours, our_params, theirs, their_params


def _close(ours, theirs, rtol=1e-6, atol=1e-9):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _grads_close(our_out, our_params, their_out, their_params, rtol=1e-6):
    """The gradients of sum(out * w) for one non-uniform w, parameter by parameter."""
    weights = np.linspace(0.5, 1.5, int(np.prod(their_out.shape))).reshape(their_out.shape)
    our_grads = gradienti.autograd.grad(
        (our_out * gradienti.tensor(weights, dtype=our_out.dtype)).sum(),
        list(our_params.values()),
        allow_unused=True,
        retain_graph=True,  # lazily computed parameters (logits from probs) share a graph
    )
    their_grads = torch.autograd.grad(
        (their_out * torch.tensor(weights, dtype=their_out.dtype)).sum(),
        list(their_params.values()),
        allow_unused=True,
        retain_graph=True,
    )
    for ours, theirs in zip(our_grads, their_grads):
        if theirs is None:
            assert ours is None or not np.any(ours.numpy())
        else:
            _close(ours, theirs, rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("name", SPECS)
def test_shapes_repr_and_attributes_as_pytorch(name):
    ours, _, theirs, _ = _both(name)
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    assert repr(ours.batch_shape) == repr(theirs.batch_shape)
    assert repr(ours) == repr(theirs)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    assert repr(ours.support) == repr(theirs.support)
    assert set(ours.arg_constraints) == set(theirs.arg_constraints)


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("sample_shape", [(), (4,), (2, 3)])
def test_same_samples_after_the_same_seed(name, sample_shape):
    ours, _, theirs, _ = _both(name, dtype="float32")
    gradienti.manual_seed(5)
    torch.manual_seed(5)
    our_sample, their_sample = ours.sample(sample_shape), theirs.sample(sample_shape)
    # float32: the libraries' exp/log may differ in the last bit, which a chain of them
    # (the relaxed distributions' Gumbel noise, softmax) can grow to a few ulps
    _close(our_sample, their_sample, rtol=1e-5, atol=0)
    assert not our_sample.requires_grad
    # the generators are left at the same place
    _close(gradienti.rand(3), torch.rand(3), rtol=0, atol=0)


@pytest.mark.parametrize("name", [n for n in SPECS if _make(n, "torch")[0].has_rsample])
def test_rsample_values_and_reparameterised_gradients(name):
    ours, our_params, theirs, their_params = _both(name, requires_grad=True)
    gradienti.manual_seed(11)
    torch.manual_seed(11)
    our_sample, their_sample = ours.rsample((5,)), theirs.rsample((5,))
    _close(our_sample, their_sample, rtol=1e-12)
    _grads_close(our_sample, our_params, their_sample, their_params, rtol=1e-9)


@pytest.mark.parametrize("name", SPECS)
def test_log_prob_values_and_gradients(name):
    ours, our_params, theirs, their_params = _both(name, requires_grad=True)
    values = np.asarray(SPECS[name][2])
    try:
        their_lp = theirs.log_prob(torch.tensor(values))
    except RuntimeError as error:  # GeneralizedPareto's float64 isclose against float32 0
        with pytest.raises(RuntimeError, match=f"^{error}$"):
            ours.log_prob(gradienti.tensor(values))
        return
    our_lp = ours.log_prob(gradienti.tensor(values))
    _close(our_lp, their_lp, rtol=1e-9)
    _grads_close(our_lp, our_params, their_lp, their_params, rtol=1e-9)


def _methods(dist):
    found = []
    for method in ("mean", "variance", "stddev", "mode", "entropy", "perplexity"):
        try:
            value = getattr(dist, method)
            value = value() if callable(value) else value
        except NotImplementedError:
            continue
        found.append((method, value))
    return found


@pytest.mark.parametrize("name", SPECS)
def test_moments_and_entropy_with_gradients(name):
    ours, our_params, theirs, their_params = _both(name, requires_grad=True)
    their_methods = dict(_methods(theirs))
    our_methods = dict(_methods(ours))
    assert set(our_methods) == set(their_methods)
    for method, their_value in their_methods.items():
        our_value = our_methods[method]
        _close(our_value, their_value, rtol=1e-9)
        if their_value.requires_grad:
            _grads_close(our_value, our_params, their_value, their_params, rtol=1e-8)


CDF_SPECS = [
    "Normal",
    "MixtureSameFamily(Normal)",
    "Uniform",
    "Exponential",
    "Laplace",
    "HalfNormal",
    "HalfCauchy",
    "Cauchy",
    "GeneralizedPareto",
    "ContinuousBernoulli(probs)",
    "Transformed(Normal, affine+sigmoid)",
]


@pytest.mark.parametrize("name", CDF_SPECS)
def test_cdf_and_icdf_values_and_gradients(name):
    ours, our_params, theirs, their_params = _both(name, requires_grad=True)
    values = np.asarray(SPECS[name][2])
    try:
        their_cdf = theirs.cdf(torch.tensor(values))
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=f"^{error}$"):
            ours.cdf(gradienti.tensor(values))
        their_cdf = None
    if their_cdf is not None:
        our_cdf = ours.cdf(gradienti.tensor(values))
        _close(our_cdf, their_cdf, rtol=1e-9)
        _grads_close(our_cdf, our_params, their_cdf, their_params, rtol=1e-8)
    quantiles = np.linspace(0.1, 0.9, values.size).reshape(values.shape)
    try:
        their_icdf = theirs.icdf(torch.tensor(quantiles))
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.icdf(gradienti.tensor(quantiles))
        return
    our_icdf = ours.icdf(gradienti.tensor(quantiles))
    _close(our_icdf, their_icdf, rtol=1e-9)
    _grads_close(our_icdf, our_params, their_icdf, their_params, rtol=1e-8)


@pytest.mark.parametrize("name", SPECS)
def test_expand_as_pytorch(name):
    ours, _, theirs, _ = _both(name, dtype="float32")
    new_batch = (4,) + tuple(theirs.batch_shape)
    our_expanded, their_expanded = ours.expand(new_batch), theirs.expand(new_batch)
    assert type(our_expanded).__name__ == type(their_expanded).__name__
    assert our_expanded.batch_shape == their_expanded.batch_shape
    assert our_expanded.event_shape == their_expanded.event_shape
    assert repr(our_expanded) == repr(their_expanded)
    gradienti.manual_seed(3)
    torch.manual_seed(3)
    _close(our_expanded.sample((2,)), their_expanded.sample((2,)), rtol=1e-5, atol=0)


@pytest.mark.parametrize("name", [n for n in SPECS if _make(n, "torch")[0].has_enumerate_support])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support_as_pytorch(name, expand):
    ours, _, theirs, _ = _both(name)
    _close(ours.enumerate_support(expand), theirs.enumerate_support(expand), rtol=0, atol=0)


def test_scalar_parameters_give_an_empty_batch_and_print_values():
    D = gradienti.distributions
    for ours, theirs in [
        (D.Normal(0.0, 1.0), torch.distributions.Normal(0.0, 1.0)),
        (D.Uniform(0, 2.5), torch.distributions.Uniform(0, 2.5)),
        (D.Exponential(2.0), torch.distributions.Exponential(2.0)),
        (D.Bernoulli(0.3), torch.distributions.Bernoulli(0.3)),
        (D.Laplace(1, 2), torch.distributions.Laplace(1, 2)),
    ]:
        assert repr(ours) == repr(theirs)
        assert ours.batch_shape == theirs.batch_shape == ()
        assert str(ours.sample().dtype) == str(theirs.sample().dtype)
    logits = D.Bernoulli(logits=gradienti.tensor([0.5]))
    assert repr(logits) == repr(torch.distributions.Bernoulli(logits=torch.tensor([0.5])))
    # probs computed from logits (once read) appears in the repr too, as PyTorch's
    logits.probs  # noqa: B018
    their_logits = torch.distributions.Bernoulli(logits=torch.tensor([0.5]))
    their_logits.probs  # noqa: B018
    assert repr(logits) == repr(their_logits)


def test_bernoulli_mode_and_sample_n_as_pytorch():
    D = gradienti.distributions
    probs = [0.2, 0.5, 0.8]
    ours = D.Bernoulli(gradienti.tensor(probs))
    theirs = torch.distributions.Bernoulli(torch.tensor(probs))
    np.testing.assert_array_equal(ours.mode.numpy(), theirs.mode.numpy())
    gradienti.manual_seed(1)
    torch.manual_seed(1)
    with pytest.warns(FutureWarning, match=r"`sample_n\(n\)` will be deprecated"):
        our_samples = ours.sample_n(3)
    with pytest.warns(FutureWarning):
        their_samples = theirs.sample_n(3)
    np.testing.assert_array_equal(our_samples.numpy(), their_samples.numpy())


def test_categorical_probs_are_normalised_and_logits_lazy():
    D = gradienti.distributions
    ours = D.Categorical(probs=gradienti.tensor([1.0, 3.0]))
    theirs = torch.distributions.Categorical(probs=torch.tensor([1.0, 3.0]))
    _close(ours.probs, theirs.probs)
    assert "logits" not in ours.__dict__
    _close(ours.logits, theirs.logits)
    assert "logits" in ours.__dict__
    assert ours.param_shape == theirs.param_shape == (2,)
    for bad in ("probs", "logits"):
        with pytest.raises(ValueError) as our_error:
            D.Categorical(**{bad: gradienti.tensor(1.0)})
        with pytest.raises(ValueError) as their_error:
            torch.distributions.Categorical(**{bad: torch.tensor(1.0)})
        assert str(our_error.value) == str(their_error.value)
    for build in (D.Categorical, D.Bernoulli, D.OneHotCategorical):
        with pytest.raises(
            ValueError, match="^Either `probs` or `logits` must be specified, but not both.$"
        ):
            build()


def test_categorical_entropy_with_a_zero_probability():
    D = gradienti.distributions
    probs = [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]
    ours = D.Categorical(probs=gradienti.tensor(probs)).entropy()
    theirs = torch.distributions.Categorical(probs=torch.tensor(probs)).entropy()
    _close(ours, theirs)


def test_one_hot_straight_through_gradient_is_the_probabilities():
    D = gradienti.distributions
    probs = gradienti.tensor([0.2, 0.3, 0.5], requires_grad=True)
    their_probs = torch.tensor([0.2, 0.3, 0.5], requires_grad=True)
    gradienti.manual_seed(2)
    torch.manual_seed(2)
    ours = D.OneHotCategoricalStraightThrough(probs).rsample((4,))
    theirs = torch.distributions.OneHotCategoricalStraightThrough(their_probs).rsample((4,))
    _close(ours, theirs)
    _grads_close(ours, {"probs": probs}, theirs, {"probs": their_probs})


def test_independent_refuses_too_many_dims_and_enumeration():
    D = gradienti.distributions
    base = D.Normal(gradienti.zeros(3), gradienti.ones(3))
    their_base = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError) as ours:
        D.Independent(base, 2)
    with pytest.raises(ValueError) as theirs:
        torch.distributions.Independent(their_base, 2)
    assert str(ours.value) == str(theirs.value)
    bern = D.Independent(D.Bernoulli(gradienti.tensor([0.5, 0.5])), 1)
    with pytest.raises(
        NotImplementedError, match="^Enumeration over cartesian product is not implemented$"
    ):
        bern.enumerate_support()
    assert repr(D.Independent(base, 1)) == repr(torch.distributions.Independent(their_base, 1))


def test_transformed_distribution_argument_errors_as_pytorch():
    D = gradienti.distributions
    base = D.Normal(0.0, 1.0)
    their_base = torch.distributions.Normal(0.0, 1.0)
    for ours_arg, theirs_arg in [
        ([D.ExpTransform(), 3], [torch.distributions.ExpTransform(), 3]),
        ((D.ExpTransform(),), (torch.distributions.ExpTransform(),)),
    ]:
        with pytest.raises(ValueError) as ours:
            D.TransformedDistribution(base, ours_arg)
        with pytest.raises(ValueError) as theirs:
            torch.distributions.TransformedDistribution(their_base, theirs_arg)
        assert str(ours.value).split(" but was ")[0] == str(theirs.value).split(" but was ")[0]
    with pytest.raises(ValueError) as ours:
        D.TransformedDistribution(base, D.StickBreakingTransform())
    with pytest.raises(ValueError) as theirs:
        torch.distributions.TransformedDistribution(
            their_base, torch.distributions.StickBreakingTransform()
        )
    assert str(ours.value) == str(theirs.value)


def test_transformed_distribution_with_an_event_changing_transform():
    D = gradienti.distributions
    loc = np.array([[0.1, -0.3], [0.5, 0.2]])
    ours = D.TransformedDistribution(
        D.Normal(gradienti.tensor(loc), 1.0), D.StickBreakingTransform()
    )
    theirs = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), 1.0),
        torch.distributions.StickBreakingTransform(),
    )
    assert ours.batch_shape == theirs.batch_shape and ours.event_shape == theirs.event_shape
    value = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    _close(ours.log_prob(gradienti.tensor(value)), theirs.log_prob(torch.tensor(value)), rtol=1e-9)
    assert repr(ours.support) == repr(theirs.support)


def test_sign_of_a_zero_dim_tensor_as_pytorch():
    # Laplace's rsample takes sign() of a 0-d draw for scalar parameters
    for value in (0.5, -2.0, 0.0, float("nan")):
        ours = gradienti.tensor(value).sign()
        theirs = torch.tensor(value).sign()
        assert ours.shape == () and float(ours) == float(theirs)


def test_generalized_pareto_log_prob_and_cdf_in_float32():
    # (in float64 PyTorch's log_prob compares the concentration with a float32 zero and
    # raises, which gradienti repeats: the test above)
    params = ([0.0, 1.0, -2.0], [0.5, 4.0, 1.0], [0.0, -0.3, 0.4])
    values = [0.5, 2.0, -1.0]
    results = []
    for lib in (gradienti, torch):
        tensors = [lib.tensor(p, requires_grad=True) for p in params]
        dist = lib.distributions.GeneralizedPareto(*tensors)
        for method in ("log_prob", "cdf", "log_survival_function", "log_cdf"):
            out = getattr(dist, method)(lib.tensor(values))
            grads = lib.autograd.grad(out.sum(), tensors, retain_graph=True)
            results.append((out, grads))
    half = len(results) // 2
    for (ours, our_grads), (theirs, their_grads) in zip(results[:half], results[half:]):
        _close(ours, theirs, rtol=1e-6)
        for our_grad, their_grad in zip(our_grads, their_grads):
            _close(our_grad, their_grad, rtol=1e-5)


def test_lkj_cholesky_refuses_a_dimension_below_two():
    with pytest.raises(ValueError) as ours:
        gradienti.distributions.LKJCholesky(1)
    with pytest.raises(ValueError) as theirs:
        torch.distributions.LKJCholesky(1)
    assert str(ours.value) == str(theirs.value)
