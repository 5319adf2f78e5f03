"""_standard_gamma, _sample_dirichlet and binomial against PyTorch: the same samples after the same
seed (both of Marsaglia-Tsang's branches, BTRS and inversion), the generator left where PyTorch's
is, the reparameterised gradient (_standard_gamma_grad) and _dirichlet_grad's values in each of
their approximation regions, the derivatives PyTorch leaves unimplemented, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.autograd import forward_ad as fwad

torch = pytest.importorskip("torch")

DTYPES = ("float32", "float64")


def _both(array, requires_grad=False):
    return (
        gradienti.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _seed(seed=0):
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)


def _same(ours, theirs):
    assert ours.dtype == gradienti.float32 or ours.dtype == gradienti.float64
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


def _stream_continues_alike():
    """After the samplers, both generators give the same next values (the uniform stream and
    the cached second normal of normal_distribution<double>)."""
    _same(gradienti.randn(3, dtype=gradienti.float64), torch.randn(3, dtype=torch.float64))
    _same(gradienti.rand(5), torch.rand(5))


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_gamma_samples_match_torch(dtype):
    rng = np.random.default_rng(1)
    scales = np.array([0.02, 0.7, 1.0, 3.0, 40.0])[rng.integers(0, 5, 600)]
    alpha = (rng.random(600) * scales + 1e-3).astype(dtype).reshape(20, 30)
    alpha[0, :3] = [0.0, 1.0, 1e-30]
    ours, theirs = _both(alpha)
    _seed(5)
    _same(gradienti._standard_gamma(ours), torch._standard_gamma(theirs))
    _stream_continues_alike()
    # a transposed (non-contiguous) input is drawn in its logical C order
    _same(gradienti._standard_gamma(ours.t()), torch._standard_gamma(theirs.t()))


def test_standard_gamma_of_nan_and_negative_is_the_smallest_float():
    ours, theirs = _both(np.array([np.nan, -1.0, 0.0, 2.0], np.float32))
    _seed(2)
    _same(gradienti._standard_gamma(ours), torch._standard_gamma(theirs))


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_gamma_gradient_matches_torch(dtype):
    alpha = np.array([[0.05, 0.4, 1.0, 2.5], [7.0, 9.0, 30.0, 200.0]], dtype)
    weights = np.array([[1.0, -2.0, 0.5, 3.0], [-1.0, 2.0, 0.25, 4.0]], dtype)
    for seed in range(4):
        ours, theirs = _both(alpha, requires_grad=True)
        _seed(seed)
        ours_sample, theirs_sample = gradienti._standard_gamma(ours), torch._standard_gamma(theirs)
        _same(ours_sample, theirs_sample)
        assert type(ours_sample.grad_fn).__name__ == "StandardGammaBackward0"
        ours_sample.backward(gradienti.tensor(weights))
        theirs_sample.backward(torch.tensor(weights))
        rtol = 1e-5 if dtype == "float32" else 1e-10
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol)


def test_standard_gamma_grad_regions_match_torch():
    # x < 0.8 (series), alpha > 8 near and away from the mode (Rice), and the rational fit
    alpha = np.array([0.3, 2.0, 5.0, 9.0, 20.0, 20.0, 20.0, 3.0, 6.0, 0.9])
    x = np.array([0.1, 0.5, 0.79, 9.2, 20.5, 12.0, 31.0, 2.0, 11.0, 4.0])
    ours = gradienti._standard_gamma_grad(*_both(alpha)[:1], gradienti.tensor(x))
    theirs = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours32 = gradienti._standard_gamma_grad(
        gradienti.tensor(alpha, dtype=gradienti.float32),
        gradienti.tensor(x, dtype=gradienti.float32),
    )
    theirs32 = torch._standard_gamma_grad(
        torch.tensor(alpha, dtype=torch.float32), torch.tensor(x, dtype=torch.float32)
    )
    assert ours32.dtype == gradienti.float32
    np.testing.assert_allclose(ours32.numpy(), theirs32.numpy(), rtol=1e-6)


def test_standard_gamma_gradient_is_the_implicit_derivative_of_the_cdf():
    """dx/dalpha = -(dF/dalpha) / pdf at the sample: against float64 finite differences of the
    regularised incomplete gamma function (PyTorch's approximations are good to ~1e-3)."""
    special = pytest.importorskip("scipy.special")
    alpha = np.array([0.6, 1.7, 4.0, 12.0, 30.0])
    _seed(9)
    leaf = gradienti.tensor(alpha, requires_grad=True)
    sample = gradienti._standard_gamma(leaf)
    (grad,) = gradienti.autograd.grad(sample.sum(), leaf)
    x = sample.detach().numpy()
    eps = 1e-6
    cdf_alpha = (special.gammainc(alpha + eps, x) - special.gammainc(alpha - eps, x)) / (2 * eps)
    pdf = np.exp((alpha - 1) * np.log(x) - x - special.gammaln(alpha))
    np.testing.assert_allclose(grad.numpy(), -cdf_alpha / pdf, rtol=5e-3)


def test_standard_gamma_second_derivative_raises_as_torch():
    ours, theirs = _both(np.array([0.5, 2.0]), requires_grad=True)
    _seed(0)
    (ours_grad,) = gradienti.autograd.grad(
        gradienti._standard_gamma(ours).sum(), ours, create_graph=True
    )
    (theirs_grad,) = torch.autograd.grad(
        torch._standard_gamma(theirs).sum(), theirs, create_graph=True
    )
    np.testing.assert_allclose(ours_grad.detach().numpy(), theirs_grad.detach().numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError) as ours_error:
        gradienti.autograd.grad(ours_grad.sum(), ours)
    with pytest.raises(NotImplementedError) as theirs_error:
        torch.autograd.grad(theirs_grad.sum(), theirs)
    assert str(ours_error.value) == str(theirs_error.value)


def test_standard_gamma_forward_mode_raises_as_torch():
    alpha, tangent = np.array([0.5, 3.0]), np.array([1.0, -2.0])
    with pytest.raises(NotImplementedError) as theirs, torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(torch.tensor(alpha), torch.tensor(tangent))
        torch._standard_gamma(dual)
    with pytest.raises(NotImplementedError) as ours, fwad.dual_level():
        dual = fwad.make_dual(gradienti.tensor(alpha), gradienti.tensor(tangent))
        gradienti._standard_gamma(dual)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_dirichlet_matches_torch(dtype):
    rng = np.random.default_rng(3)
    alpha = (rng.random((40, 5)) * np.array([0.05, 0.5, 2.0, 8.0, 30.0])).astype(dtype)
    alpha[0] = [1e-4, 1e-4, 1e-4, 1e-4, 1e-4]  # gammas below float32's tiny: clamped
    ours, theirs = _both(alpha)
    _seed(8)
    _same(gradienti._sample_dirichlet(ours), torch._sample_dirichlet(theirs))
    _stream_continues_alike()
    _same(gradienti._sample_dirichlet(ours[0, 0]), torch._sample_dirichlet(theirs[0, 0]))


def test_sample_dirichlet_records_not_implemented():
    ours, theirs = _both(np.array([1.0, 2.0]), requires_grad=True)
    sample = gradienti._sample_dirichlet(ours)
    assert sample.grad_fn.name() == torch._sample_dirichlet(theirs).grad_fn.name()
    with pytest.raises(RuntimeError, match=r"derivative for aten::_sample_dirichlet is not"):
        sample.sum().backward()


def test_dirichlet_grad_regions_match_torch():
    # x near 0, x near 1, both concentrations large (near and away from the mean), rational
    x = np.array([0.01, 0.3, 0.97, 0.6, 0.52, 0.3, 0.5, 0.2])
    alpha = np.array([0.5, 0.4, 3.0, 12.0, 10.0, 8.0, 2.0, 3.0])
    total = alpha + np.array([2.0, 1.5, 0.2, 9.0, 9.0, 15.0, 3.0, 4.0])
    ours = gradienti._dirichlet_grad(*(gradienti.tensor(v) for v in (x, alpha, total)))
    theirs = torch._dirichlet_grad(*(torch.tensor(v) for v in (x, alpha, total)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    ours32 = gradienti._dirichlet_grad(
        *(gradienti.tensor(v, dtype=gradienti.float32) for v in (x, alpha, total))
    )
    theirs32 = torch._dirichlet_grad(
        *(torch.tensor(v, dtype=torch.float32) for v in (x, alpha, total))
    )
    np.testing.assert_allclose(ours32.numpy(), theirs32.numpy(), rtol=2e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binomial_matches_torch(dtype):
    rng = np.random.default_rng(4)
    count = np.floor(rng.random(900) * np.array([4.0, 40.0, 2000.0])[rng.integers(0, 3, 900)])
    prob = rng.random(900)
    prob[:6] = [0.0, 1.0, 0.5, 0.999, 1e-6, 0.5]
    count[:6] = [5.0, 7.0, 0.0, 300.0, 1e6, -3.0]
    ours_count, theirs_count = _both(count.astype(dtype))
    ours_prob, theirs_prob = _both(prob.astype(dtype))
    _seed(6)
    _same(gradienti.binomial(ours_count, ours_prob), torch.binomial(theirs_count, theirs_prob))
    _stream_continues_alike()


def test_binomial_with_a_generator_and_broadcast_probability():
    ours_gen, theirs_gen = gradienti.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    count = np.array([[10.0, 50.0], [100.0, 3.0]], np.float32)
    prob = np.array([0.3, 0.8], np.float32)
    ours = gradienti.binomial(gradienti.tensor(count), gradienti.tensor(prob), generator=ours_gen)
    theirs = torch.binomial(torch.tensor(count), torch.tensor(prob), generator=theirs_gen)
    _same(ours, theirs)


def test_binomial_records_not_implemented():
    count = gradienti.tensor([5.0, 9.0], requires_grad=True)
    sample = gradienti.binomial(count, gradienti.tensor([0.2, 0.7]))
    assert sample.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match=r"^derivative for aten::binomial is not implemented$"):
        sample.sum().backward()


def _raises_alike(call_ours, call_theirs):
    with pytest.raises(Exception) as theirs:
        call_theirs()
    state = gradienti.get_rng_state()
    with pytest.raises(type(theirs.value)) as ours:
        call_ours()
    assert str(ours.value) == str(theirs.value)
    assert gradienti.get_rng_state().equal(state)  # a failed call consumes nothing


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("_standard_gamma", ([1, 2],)),
        ("_standard_gamma", (np.array([1.0, 2.0], np.float16),)),
        ("_sample_dirichlet", ([1, 2],)),
        ("binomial", ([1, 2], [0.1, 0.2])),
        ("binomial", ([1.0, 2.0], [1, 2])),
        ("binomial", ([1.0, 2.0], np.array([0.1, 0.2]))),
        ("binomial", (np.array([1.0, 2.0], np.float16), np.array([0.1, 0.2], np.float16))),
        ("binomial", ([1.0, 2.0], [0.1, 0.2, 0.3])),
        ("_standard_gamma_grad", ([1.0, 2.0], [0.1, 0.2, 0.3])),
        ("_standard_gamma_grad", ([1.0, 2.0], np.array([0.1, 0.2]))),
        ("_standard_gamma_grad", ([1, 2], [1, 2])),
        ("_dirichlet_grad", ([0.1, 0.2], [1.0, 2.0], np.array([3.0, 4.0]))),
        ("_dirichlet_grad", ([0.1, 0.2], [1.0, 2.0], [3.0, 4.0, 5.0])),
        ("_dirichlet_grad", ([1, 2], [1, 2], [3, 4])),
    ],
)
def test_errors_match_torch(name, arguments):
    def make(library):
        return [
            library.tensor(
                value,
                dtype=getattr(library, str(np.asarray(value).dtype))
                if isinstance(value, np.ndarray)
                else None,
            )
            for value in arguments
        ]

    _raises_alike(
        lambda: getattr(gradienti, name)(*make(gradienti)),
        lambda: getattr(torch, name)(*make(torch)),
    )


def test_binomial_count_shape_broadcast_warns_as_torch():
    with warnings.catch_warnings(record=True) as theirs_warnings:
        warnings.simplefilter("always")
        torch.binomial(torch.tensor([3.0]), torch.tensor([0.1, 0.2]))
    with warnings.catch_warnings(record=True) as ours_warnings:
        warnings.simplefilter("always")
        sample = gradienti.binomial(gradienti.tensor([3.0]), gradienti.tensor([0.1, 0.2]))
    assert sample.shape == (2,)
    # (PyTorch's text ends with where in its C++ source it was raised)
    theirs_text = str(theirs_warnings[0].message).split(" (Triggered internally")[0]
    assert str(ours_warnings[0].message) == theirs_text


def test_reparameterised_gradient_under_vmap_matches_torch_func():
    alpha = np.array([[0.5, 2.0], [3.0, 9.0]])
    _seed(0)
    ours = gradienti.func.vmap(
        gradienti.func.grad(lambda c: gradienti._standard_gamma(c).sum()), randomness="different"
    )(gradienti.tensor(alpha))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's performance warning (no batching rule)
        theirs = torch.func.vmap(
            torch.func.grad(lambda c: torch._standard_gamma(c).sum()), randomness="different"
        )(torch.tensor(alpha))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    x, total = np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[3.0, 3.0], [12.0, 12.0]])
    ours = gradienti.func.vmap(gradienti._dirichlet_grad)(
        *(gradienti.tensor(v) for v in (x, alpha, total))
    )
    theirs = torch._dirichlet_grad(*(torch.tensor(v) for v in (x, alpha, total)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_saved_tensor_hooks_see_the_concentration_and_the_sample_as_torch():
    results = []
    for lib in (gradienti, torch):
        packed = []
        lib.manual_seed(0)
        alpha = lib.tensor([0.5, 3.0], dtype=lib.float64, requires_grad=True)

        def pack(value, packed=packed):
            packed.append(value.detach().clone())
            return value

        with lib.autograd.graph.saved_tensors_hooks(pack, lambda value: value):
            sample = lib._standard_gamma(alpha)
        sample.backward(lib.tensor([1.0, -2.0], dtype=lib.float64))
        results.append(([value.numpy() for value in packed], alpha.grad.numpy()))
    (ours_packed, ours_grad), (theirs_packed, theirs_grad) = results
    assert len(ours_packed) == len(theirs_packed) == 2
    for ours_value, theirs_value in zip(ours_packed, theirs_packed):
        np.testing.assert_array_equal(ours_value, theirs_value)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-12)
