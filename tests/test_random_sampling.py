"""Sampling with PyTorch's streams: after the same seed, multinomial, bernoulli, normal, poisson
and the *_like factories give PyTorch's samples bit for bit and leave the generator where
PyTorch leaves it (the ``rand`` after each matches too). The in-place fills are in
test_random_fills.py, ``out=`` in test_random_sampling_out.py."""

import warnings

import numpy as np
import pytest
from random_stream_checks import (
    FLOAT_IDS,
    FLOATS,
    SEEDS,
    SHAPES,
)
from random_stream_checks import both as _both
from random_stream_checks import pair as _pair
from random_stream_checks import same as _same
from random_stream_checks import stream_continues as _stream_continues
from same_outcome import pytorch_text
from torch_oracle import MKL_BERNOULLI, torch_draws_bernoulli_p_from_mt19937

import gradienti

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- functions
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtypes", FLOATS, ids=FLOAT_IDS)
def test_bernoulli_poisson_normal_match_torch(seed, shape, dtypes):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    ours_dtype, theirs_dtype = dtypes
    rng = np.random.default_rng(seed)
    probabilities = rng.random(shape)
    rates = rng.random(shape) * 30  # both of sample_poisson's algorithms (rate < 10, >= 10)
    means, stds = rng.normal(size=shape), rng.random(shape) * 3
    _both(seed)
    ours_p, theirs_p = _pair(probabilities, ours_dtype, theirs_dtype)
    _same(gradienti.bernoulli(ours_p), torch.bernoulli(theirs_p))
    _same(gradienti.bernoulli(ours_p, 0.7), torch.bernoulli(theirs_p, 0.7))
    _same(ours_p.bernoulli(p=0.2), theirs_p.bernoulli(p=0.2))
    ours_rates, theirs_rates = _pair(rates, ours_dtype, theirs_dtype)
    _same(gradienti.poisson(ours_rates), torch.poisson(theirs_rates))
    ours_mean, theirs_mean = _pair(means, ours_dtype, theirs_dtype)
    ours_std, theirs_std = _pair(stds, ours_dtype, theirs_dtype)
    _same(gradienti.normal(ours_mean, ours_std), torch.normal(theirs_mean, theirs_std))
    _same(gradienti.normal(ours_mean, 0.5), torch.normal(theirs_mean, 0.5))
    _same(gradienti.normal(ours_mean), torch.normal(theirs_mean))
    _same(gradienti.normal(-1.5, ours_std), torch.normal(-1.5, theirs_std))
    _same(
        gradienti.normal(2.0, 3.0, size=shape, dtype=ours_dtype),
        torch.normal(2.0, 3.0, size=shape, dtype=theirs_dtype),
    )
    _stream_continues()


def test_normal_broadcasts_and_promotes_as_torch():
    _both(4)
    rng = np.random.default_rng(1)
    mean, std = rng.normal(size=(3,)), rng.random((2, 1))
    for mean_dtypes, std_dtypes in ((FLOATS[0], FLOATS[1]), (FLOATS[1], FLOATS[0])):
        ours_mean, theirs_mean = _pair(mean, *mean_dtypes)
        ours_std, theirs_std = _pair(std, *std_dtypes)
        _same(gradienti.normal(ours_mean, ours_std), torch.normal(theirs_mean, theirs_std))
    ours_mean, theirs_mean = _pair(mean, *FLOATS[0])
    _same(
        gradienti.normal(ours_mean, gradienti.tensor(2.0)),
        torch.normal(theirs_mean, torch.tensor(2.0)),
    )
    _same(gradienti.normal(1, 2, (4,)), torch.normal(1, 2, (4,)))
    _stream_continues()


def test_poisson_of_large_and_zero_rates_matches_torch():
    rates = np.array([0.0, 0.5, 9.99, 10.0, 57.3, 1000.0, 1e6, 3.0], dtype=np.float64)
    _both(21)
    for _ in range(3):
        _same(gradienti.poisson(gradienti.tensor(rates)), torch.poisson(torch.tensor(rates)))
    ours, theirs = _pair(rates[:6], gradienti.float16, torch.float16)
    _same(gradienti.poisson(ours), torch.poisson(theirs))
    _stream_continues()


MULTINOMIAL_SHAPES = ((5,), (17,), (2, 3), (3, 20), (2, 70), (1, 1000))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", MULTINOMIAL_SHAPES)
@pytest.mark.parametrize(
    "dtypes", (*FLOATS, (gradienti.float16, torch.float16)), ids=[*FLOAT_IDS, "float16"]
)
def test_multinomial_matches_torch(seed, shape, dtypes):
    ours_dtype, theirs_dtype = dtypes
    weights = np.random.default_rng(seed).random(shape) * 5
    weights[..., 1 % shape[-1]] = 0  # a category that is never drawn
    ours, theirs = _pair(weights, ours_dtype, theirs_dtype)
    _both(seed)
    categories = shape[-1]
    for count in sorted({1, 2, categories // 2 or 1, categories - 1 or 1, categories + 3}):
        _same(gradienti.multinomial(ours, count, True), torch.multinomial(theirs, count, True))
        if count <= categories - 1:
            _same(gradienti.multinomial(ours, count), torch.multinomial(theirs, count))
        _stream_continues()
    _same(ours.multinomial(1), theirs.multinomial(1))
    _stream_continues()


def test_multinomial_without_replacement_orders_zero_weights_as_torch():
    # drawing more categories than have weight: the zeros tie, and PyTorch's topk orders them
    _both(2)
    for size, k in ((6, 6), (20, 6), (200, 3), (200, 150), (4000, 40)):
        weights = np.zeros((3, size))
        weights[:, 0] = 1.0
        weights[1, size // 2] = 2.0
        ours, theirs = _pair(weights, gradienti.float32, torch.float32)
        _same(gradienti.multinomial(ours, k), torch.multinomial(theirs, k))
    _stream_continues()


def test_like_factories_match_torch():
    _both(8)
    for dtypes in (*FLOATS, (gradienti.float16, torch.float16)):
        ours, theirs = gradienti.zeros(4, 17, dtype=dtypes[0]), torch.zeros(4, 17, dtype=dtypes[1])
        _same(gradienti.rand_like(ours), torch.rand_like(theirs))
        _same(gradienti.randn_like(ours), torch.randn_like(theirs))
        _same(gradienti.randint_like(ours, 10), torch.randint_like(theirs, 10))
        _same(
            gradienti.randint_like(ours, gradienti.tensor(7)),
            torch.randint_like(theirs, torch.tensor(7)),
        )
        _same(gradienti.randint_like(ours, -3, 8), torch.randint_like(theirs, -3, 8))
        _same(
            gradienti.randint_like(ours, low=2, high=5), torch.randint_like(theirs, low=2, high=5)
        )
    ints = gradienti.zeros(5, dtype=gradienti.int64), torch.zeros(5, dtype=torch.int64)
    _same(gradienti.randint_like(ints[0], 1000), torch.randint_like(ints[1], 1000))
    _same(
        gradienti.rand_like(ints[0], dtype=gradienti.float64),
        torch.rand_like(ints[1], dtype=torch.float64),
    )
    ours = gradienti.randn_like(gradienti.zeros(3), requires_grad=True)
    theirs = torch.randn_like(torch.zeros(3), requires_grad=True)
    _same(ours, theirs)
    assert ours.requires_grad and ours.is_leaf
    _stream_continues()


def test_a_generator_draws_its_own_stream():
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    ours_gen, theirs_gen = gradienti.Generator().manual_seed(13), torch.Generator().manual_seed(13)
    _both(1)
    weights = np.array([[0.2, 0.0, 0.5, 0.3], [1.0, 2.0, 3.0, 4.0]])
    ours_w, theirs_w = _pair(weights, gradienti.float32, torch.float32)
    _same(
        gradienti.multinomial(ours_w, 3, generator=ours_gen),
        torch.multinomial(theirs_w, 3, generator=theirs_gen),
    )
    _same(
        gradienti.multinomial(ours_w, 8, True, generator=ours_gen),
        torch.multinomial(theirs_w, 8, True, generator=theirs_gen),
    )
    _same(
        gradienti.bernoulli(ours_w / 4, generator=ours_gen),
        torch.bernoulli(theirs_w / 4, generator=theirs_gen),
    )
    _same(
        gradienti.normal(ours_w, 1.0, generator=ours_gen),
        torch.normal(theirs_w, 1.0, generator=theirs_gen),
    )
    _same(
        gradienti.normal(0.0, 1.0, (20,), generator=ours_gen),
        torch.normal(0.0, 1.0, (20,), generator=theirs_gen),
    )
    _same(gradienti.poisson(ours_w, ours_gen), torch.poisson(theirs_w, theirs_gen))
    _same(
        gradienti.rand_like(ours_w, generator=ours_gen),
        torch.rand_like(theirs_w, generator=theirs_gen),
    )
    _same(
        gradienti.randn_like(ours_w, generator=ours_gen),
        torch.randn_like(theirs_w, generator=theirs_gen),
    )
    _same(
        gradienti.randint_like(ours_w, 9, generator=ours_gen),
        torch.randint_like(theirs_w, 9, generator=theirs_gen),
    )
    for name, args in (("exponential_", ()), ("random_", (5,)), ("bernoulli_", (0.5,))):
        ours = getattr(gradienti.zeros(7), name)(*args, generator=ours_gen)
        theirs = getattr(torch.zeros(7), name)(*args, generator=theirs_gen)
        _same(ours, theirs)
    _same(
        gradienti.zeros(4).bernoulli_(ours_w[0], generator=ours_gen),
        torch.zeros(4).bernoulli_(theirs_w[0], generator=theirs_gen),
    )
    _stream_continues()  # the default generator did not move
    _same(gradienti.rand(3, generator=ours_gen), torch.rand(3, generator=theirs_gen))


def test_randint_draws_64_bits_from_a_range_of_2_to_the_28():
    # PyTorch 2.13 takes random64() for any range of 2**28 or more (not only beyond 32 bits)
    _both(3)
    for low, high in ((0, 2**28 - 1), (0, 2**28), (-5, 2**31), (0, 2**33)):
        _same(gradienti.randint(low, high, (9,)), torch.randint(low, high, (9,)))
        _same(
            gradienti.zeros(9, dtype=gradienti.int32).random_(low, min(high, 2**31 - 1)),
            torch.zeros(9, dtype=torch.int32).random_(low, min(high, 2**31 - 1)),
        )
    _stream_continues()


# ---------------------------------------------------------------- bad input
def _error_cases(lib):
    p = lib.tensor([0.1, 0.2, 0.7])
    x = lib.zeros(3)
    return [
        lambda: lib.multinomial(p, 4),
        lambda: lib.multinomial(p, 0),
        lambda: lib.multinomial(lib.tensor(0.5), 1),
        lambda: lib.multinomial(lib.ones(2, 2, 2), 1),
        lambda: lib.multinomial(lib.tensor([1, 2]), 1),
        lambda: lib.multinomial(lib.tensor([0.1, -0.2]), 1),
        lambda: lib.multinomial(lib.tensor([0.1, float("inf")]), 2, True),
        lambda: lib.multinomial(lib.tensor([0.1, float("nan")]), 1),
        lambda: lib.multinomial(lib.tensor([0.1, float("nan")]), 2, True),
        lambda: lib.multinomial(lib.tensor([[0.1, 0.3], [0.1, -0.2]]), 3, True),
        lambda: lib.multinomial(lib.tensor([0.1, -0.2]), 1, True),
        lambda: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1, True),
        lambda: lib.multinomial(lib.zeros(2, 0), 2, True),
        lambda: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
        lambda: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 2, True),
        lambda: lib.multinomial(lib.zeros(2, 0), 1),
        lambda: lib.multinomial(lib.zeros(2, 0), 1, True),
        lambda: lib.multinomial(p, 1.5),
        lambda: lib.multinomial(p, True),
        lambda: lib.multinomial(p, 2, 1),
        lambda: lib.multinomial([0.1], 1),
        lambda: lib.bernoulli(lib.tensor([0.5, 1.5])),
        lambda: lib.bernoulli(lib.tensor([0.5, -0.5], dtype=lib.float64)),
        lambda: lib.bernoulli(lib.tensor([0.5, float("nan")])),
        lambda: lib.bernoulli(lib.tensor([1, 0])),
        lambda: lib.bernoulli(lib.tensor([0.5, 0.5]), 1.5),
        lambda: lib.poisson(lib.tensor([-1.0])),
        lambda: lib.poisson(lib.tensor([1, 2])),
        lambda: lib.normal(lib.tensor([0.0, 1.0]), -1.0),
        lambda: lib.normal(0.0, lib.tensor([-1.0, 1.0])),
        lambda: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0])),
        lambda: lib.normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 1.0, 1.0])),
        lambda: lib.normal(lib.tensor([0, 1]), 1.0),
        lambda: lib.normal(0.0, 1.0),
        lambda: lib.normal(0.0, -1.0, (2,)),
        lambda: lib.normal(0.0, 1.0, 2),
        lambda: lib.zeros(3).random_(5, 2),
        lambda: lib.zeros(3).random_(5.5),
        lambda: lib.zeros(3).random_(from_=5),
        lambda: lib.zeros(3, dtype=lib.int8).random_(-300, 300),
        lambda: lib.zeros(3, dtype=lib.uint8).random_(1000),
        lambda: lib.zeros(3, dtype=lib.bool).random_(-1, 1),
        lambda: lib.zeros(3, dtype=lib.float16).random_(0, 70000),
        lambda: lib.zeros(3, dtype=lib.int32).random_(-(2**63), None),
        lambda: lib.zeros(3).exponential_(-1),
        lambda: lib.zeros(3).exponential_(0),
        lambda: lib.zeros(3, dtype=lib.int64).exponential_(),
        lambda: lib.zeros(3).exponential_("a"),
        lambda: lib.zeros(3).geometric_(0),
        lambda: lib.zeros(3).geometric_(1),
        lambda: lib.zeros(3, dtype=lib.bool).geometric_(0.3),
        lambda: lib.zeros(3).cauchy_(0, 0),
        lambda: lib.zeros(3, dtype=lib.int64).cauchy_(),
        lambda: lib.zeros(3).log_normal_(0, 0),
        lambda: lib.zeros(3, dtype=lib.int64).log_normal_(),
        lambda: lib.zeros(3).bernoulli_(-0.1),
        lambda: lib.zeros(3).bernoulli_(2),
        lambda: lib.zeros(3).bernoulli_("a"),
        lambda: lib.zeros(3).bernoulli_(lib.tensor([0.2, 0.3])),
        lambda: lib.zeros(3).bernoulli_(lib.tensor([1, 0, 1])),
        lambda: lib.zeros(3).bernoulli_(lib.tensor([0.2, 0.3, 1.5])),
        lambda: lib.rand_like(lib.zeros(3, dtype=lib.int64)),
        lambda: lib.randn_like(lib.zeros(3, dtype=lib.int64)),
        lambda: lib.rand_like([1.0]),
        lambda: lib.randint_like(x, 5, 2),
        lambda: lib.randint_like(x, 2.5),
        lambda: lib.randint_like(lib.zeros(3, dtype=lib.int8), 1000),
        lambda: lib.randint_like(x, lib.tensor([5, 6, 7])),
        lambda: lib.zeros(3, requires_grad=True).exponential_(),
        lambda: lib.zeros(3, dtype=lib.int64).uniform_(),
        lambda: lib.zeros(0, dtype=lib.int64).uniform_(),
        lambda: lib.zeros(3, dtype=lib.bool).uniform_(),
        lambda: lib.zeros(3).uniform_(-1e39, 0),
        lambda: lib.zeros(3).uniform_(float("nan"), 1),
        lambda: lib.zeros(3, dtype=lib.float16).uniform_(0, 70000),
        lambda: lib.zeros(3).uniform_(-3e38, 3e38),
        lambda: lib.zeros(3).uniform_(2, 1),
        lambda: lib.zeros(3, dtype=lib.int64).normal_(),
        lambda: lib.zeros(3).normal_(0, float("nan")),
        lambda: lib.zeros(3).normal_(0, -1),
        lambda: lib.zeros(3, requires_grad=True).uniform_(),
        lambda: lib.zeros(3, requires_grad=True).normal_(),
        lambda: lib.zeros(3).random_(1.0, 5.0),
        lambda: lib.zeros(3).random_(1, "b"),
        lambda: lib.zeros(3).random_(1.0, to=5),
        lambda: lib.zeros(3).random_(1, to=2.5),
        lambda: lib.zeros(3).random_(to=5.0),
        lambda: lib.randint(-5, 5, (3,), dtype=lib.uint8),
        lambda: lib.randint(0, 2**40, (3,), dtype=lib.int32),
        lambda: lib.randint(-1, 1, (3,), dtype=lib.bool),
        lambda: lib.randint(0, 2**40, (3,), dtype=lib.float16),
    ]


@pytest.mark.parametrize("index", range(len(_error_cases(torch))))
def test_bad_input_raises_as_torch_and_draws_nothing(index):
    _both(6)
    with pytest.raises(Exception) as theirs:
        _error_cases(torch)[index]()
    before = gradienti.get_rng_state()
    with pytest.raises(type(theirs.value)) as ours:
        _error_cases(gradienti)[index]()
    theirs_text = str(theirs.value).split(" (Triggered internally")[0]
    assert pytorch_text(str(ours.value)) == theirs_text
    assert gradienti.equal(gradienti.get_rng_state(), before)


def test_empty_results_draw_nothing():
    _both(12)
    _same(gradienti.multinomial(gradienti.zeros(0, 3), 2), torch.multinomial(torch.zeros(0, 3), 2))
    _same(gradienti.zeros(0).exponential_(), torch.zeros(0).exponential_())
    _same(
        gradienti.zeros(0, dtype=gradienti.int64).exponential_(),
        torch.zeros(0, dtype=torch.int64).exponential_(),
    )
    _same(
        gradienti.zeros(0).bernoulli_(gradienti.zeros(4)), torch.zeros(0).bernoulli_(torch.zeros(4))
    )
    _stream_continues()


# ---------------------------------------------------------------- gradients
def test_normal_and_samples_record_torch_nodes_with_zero_gradients():
    upstream = np.array([1.0, -2.0, 3.0])
    for call in (
        lambda lib, m, s: lib.normal(m, 1.5),
        lambda lib, m, s: lib.normal(0.5, s),
        lambda lib, m, s: lib.normal(m, s),
        lambda lib, m, s: lib.normal(m, s[:1]),
        lambda lib, m, s: lib.bernoulli(s / 4),
        lambda lib, m, s: lib.poisson(s),
    ):
        results = []
        for lib in (gradienti, torch):
            mean = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
            std = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            out = call(lib, mean, std)
            out.backward(lib.tensor(upstream, dtype=out.dtype))
            grads = [None if t.grad is None else t.grad.numpy().tolist() for t in (mean, std)]
            names = [None if n is None else n.name() for n, _ in out.grad_fn.next_functions]
            results.append((out.grad_fn.name(), grads, names))
        assert results[0] == results[1]


def test_bernoulli_with_p_has_no_derivative_as_in_torch():
    for lib in (gradienti, torch):
        x = lib.tensor([0.2, 0.5], requires_grad=True)
        out = lib.bernoulli(x, 0.3)
        assert out.requires_grad and "NotImplemented" in out.grad_fn.name()
        with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not implemented"):
            out.sum().backward()


@pytest.mark.parametrize(
    "call, node",
    [
        (lambda t, p: t.random_(), "RandomBackward2"),
        (lambda t, p: t.random_(3), "RandomBackward1"),
        (lambda t, p: t.random_(1, 3), "RandomBackward0"),
        (lambda t, p: t.exponential_(), "ExponentialBackward0"),
        (lambda t, p: t.geometric_(0.3), "GeometricBackward0"),
        (lambda t, p: t.cauchy_(), "CauchyBackward0"),
        (lambda t, p: t.log_normal_(), "LogNormalBackward0"),
        (lambda t, p: t.bernoulli_(0.3), "BernoulliBackward2"),
        (lambda t, p: t.bernoulli_(p), "BernoulliBackward1"),
        (lambda t, p: t.uniform_(), "UniformBackward0"),
        (lambda t, p: t.normal_(), "NormalBackward0"),
    ],
)
def test_in_place_fills_record_torch_nodes_with_zero_gradients(call, node):
    results = []
    for lib in (gradienti, torch):
        _both(2)
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p = lib.tensor([0.5, 0.5, 0.5], requires_grad=True)
        out = call(x * 2, p)
        assert out.grad_fn.name() == node
        out.backward(lib.tensor([1.0, -1.0, 2.0]))
        results.append((out.detach().numpy().tolist(), x.grad.numpy().tolist(), p.grad))
    assert results[0][:2] == results[1][:2]
    assert (results[0][2] is None) == (results[1][2] is None)


def test_forward_mode_tangents_of_samples_are_zero_as_in_torch():
    fw_ours, fw_theirs = gradienti.autograd.forward_ad, torch.autograd.forward_ad

    for call in (
        lambda lib, d: lib.normal(d, 1.0),
        lambda lib, d: lib.normal(1.0, d),
        lambda lib, d: lib.normal(d, d),
        lambda lib, d: lib.bernoulli(d),
        lambda lib, d: lib.poisson(d),
    ):
        tangents = []
        for lib, fw in ((gradienti, fw_ours), (torch, fw_theirs)):
            with fw.dual_level():
                dual = fw.make_dual(lib.tensor([0.2, 0.5]), lib.tensor([1.0, 2.0]))
                tangents.append(fw.unpack_dual(call(lib, dual)).tangent.numpy().tolist())
        assert tangents[0] == tangents[1] == [0.0, 0.0]
    with fw_ours.dual_level():
        dual = fw_ours.make_dual(gradienti.tensor([0.2, 0.5]), gradienti.tensor([1.0, 2.0]))
        with pytest.raises(NotImplementedError, match="aten::bernoulli that does not support it"):
            gradienti.bernoulli(dual, 0.3)


# ---------------------------------------------------------------- vmap
def test_draws_under_vmap_follow_torch_randomness():
    from torch.func import vmap as torch_vmap

    calls = (
        lambda lib, t: lib.rand_like(t),
        lambda lib, t: lib.randn_like(t),
        lambda lib, t: lib.randint_like(t, 10),
        lambda lib, t: t.clone().exponential_(),
        lambda lib, t: t.clone().random_(7),
        lambda lib, t: lib.normal(0.0, 2.0, (4,)),
    )
    for randomness in ("different", "same"):
        for call in calls:
            _both(0)
            ours = gradienti.vmap(lambda t, call=call: call(gradienti, t), randomness=randomness)(
                gradienti.zeros(3, 4)
            )
            theirs = torch_vmap(lambda t, call=call: call(torch, t), randomness=randomness)(
                torch.zeros(3, 4)
            )
            _same(ours, theirs)
    _both(0)
    _same(
        gradienti.vmap(lambda t: gradienti.bernoulli(t, 0.4), randomness="different")(
            gradienti.zeros(3, 4)
        ),
        torch_vmap(lambda t: torch.bernoulli(t, 0.4), randomness="different")(torch.zeros(3, 4)),
    )
    with pytest.raises(RuntimeError, match="same randomness with a batched tensor input"):
        gradienti.vmap(lambda t: gradienti.bernoulli(t, 0.4), randomness="same")(
            gradienti.zeros(3, 4)
        )
    with pytest.raises(RuntimeError, match="randomness error mode"):
        gradienti.vmap(lambda t: gradienti.rand_like(t))(gradienti.zeros(3, 4))
    with pytest.raises(NotImplementedError, match="does not yet batch bernoulli_"):
        gradienti.vmap(lambda t: t.clone().bernoulli_(t), randomness="different")(
            gradienti.zeros(3, 4)
        )


def test_samplers_of_tensor_parameters_under_vmap_draw_as_torch_batching_rules():
    # randomness "different": PyTorch draws on the batch (batch first, parameters broadcast)
    from torch.func import vmap as torch_vmap

    rng = np.random.default_rng(3)
    weights = rng.random((4, 4))  # square: either in_dims gives samples of shape (4,)
    outer = rng.random((2, 1, 4)) + 0.5
    calls = (
        lambda lib, q, o: lib.bernoulli(q),
        lambda lib, q, o: lib.poisson(q * 20),
        lambda lib, q, o: lib.multinomial(q, 2),
        lambda lib, q, o: lib.multinomial(q, 4, True),
        lambda lib, q, o: lib.multinomial(o[0], 3),
        lambda lib, q, o: lib.normal(q, 1.5),
        lambda lib, q, o: lib.normal(1.5, q),
        lambda lib, q, o: lib.normal(q, q),
        lambda lib, q, o: lib.normal(q, o),
        lambda lib, q, o: lib.bernoulli(o / 2),
    )
    ours_w, theirs_w = _pair(weights, gradienti.float32, torch.float32)
    ours_o, theirs_o = _pair(outer, gradienti.float32, torch.float32)
    for in_dims in (0, 1):
        for call in calls:
            _both(4)
            ours = gradienti.vmap(
                lambda q, call=call: call(gradienti, q, ours_o),
                in_dims=in_dims,
                randomness="different",
            )(ours_w)
            theirs = torch_vmap(
                lambda q, call=call: call(torch, q, theirs_o),
                in_dims=in_dims,
                randomness="different",
            )(theirs_w)
            _same(ours, theirs)
    # "same": one draw when no parameter is batched; PyTorch's error when one is
    _both(4)
    _same(
        gradienti.vmap(lambda q: gradienti.bernoulli(ours_o / 2) + q.sum(), randomness="same")(
            ours_w
        ),
        torch_vmap(lambda q: torch.bernoulli(theirs_o / 2) + q.sum(), randomness="same")(theirs_w),
    )
    for call in calls[:4]:
        with pytest.raises(RuntimeError, match="same randomness with a batched tensor input"):
            gradienti.vmap(lambda q, call=call: call(gradienti, q, ours_o), randomness="same")(
                ours_w
            )
    with pytest.raises(NotImplementedError, match="nested vmaps"):
        gradienti.vmap(
            gradienti.vmap(gradienti.bernoulli, randomness="different"), randomness="different"
        )(gradienti.zeros(2, 3, 4))


@pytest.mark.parametrize(
    "seed, call",
    [
        (1997, lambda lib: lib.randn(15, dtype=lib.float16)),
        (2637, lambda lib: lib.normal(0.3, 1.7, (5,), dtype=lib.float16)),
        (2841, lambda lib: lib.randn_like(lib.zeros(3, 5, dtype=lib.float16).t())),
    ],
)
def test_half_normals_round_through_float_as_torch(seed, call):
    """c10::Half is made from a float: a double normal value rounds to float, then to half
    (these seeds draw a value where rounding straight from double differs)."""
    _both(seed)
    _same(call(gradienti), call(torch))
    _stream_continues()


def test_poisson_of_rates_past_int64_consumes_the_stream_as_torch():
    """A rate past 2**63 gives INT64_MIN counts in both; PyTorch's rejection loop tests the
    double floor, so the draws it consumes (and the values after it) follow that."""
    for seed in range(6):
        _both(seed)
        rates = [1e19, 1e30, 9.3e18, 12.0]
        for ours_dtype, theirs_dtype in FLOATS:
            _same(
                gradienti.poisson(gradienti.tensor(rates, dtype=ours_dtype)),
                torch.poisson(torch.tensor(rates, dtype=theirs_dtype)),
            )
        _stream_continues()


def test_normal_of_sizes_takes_0_d_tensors_as_numbers_as_torch():
    """PyTorch's parser reads a 0-d tensor that does not require grad as a float."""
    for call in (
        lambda lib: lib.normal(lib.tensor(2.0), 1.5, (3,)),
        lambda lib: lib.normal(2.0, lib.tensor(0.5), size=(17,)),
        lambda lib: lib.normal(lib.tensor(2), lib.tensor(True), (4,)),
    ):
        _both(8)
        _same(call(gradienti), call(torch))
    _stream_continues()
    for lib in (gradienti, torch):  # requiring grad, it is a Tensor: no form takes it
        with pytest.raises(TypeError, match=r"got \(Tensor, float, tuple\)"):
            lib.normal(lib.tensor(2.0, requires_grad=True), 1.0, (3,))


def test_randint_of_other_dtypes_draws_as_random_():
    """randint fills its tensor with random_(low, high): float bounds moved as update_from and
    update_to move them, the precision warning past 2**mantissa."""
    for ours_dtype, theirs_dtype, low, high in (
        (gradienti.uint8, torch.uint8, 0, 256),
        (gradienti.int8, torch.int8, -128, 128),
        (gradienti.float16, torch.float16, 0, 60000),
        (gradienti.float32, torch.float32, -(2**30), 2**30),
    ):
        _both(13)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = gradienti.randint(low, high, (40,), dtype=ours_dtype)
            theirs = torch.randint(low, high, (40,), dtype=theirs_dtype)
        _same(ours, theirs)
        _stream_continues()


def test_makemore_lecture_sampling_with_a_seeded_generator_matches_torch():
    """The bigram lecture: a Generator seeded with 2147483647 draws the probabilities
    (0.6064, 0.3033, 0.0903) and the same 100 samples, then names from a count table."""
    results = []
    for lib in (gradienti, torch):
        generator = lib.Generator().manual_seed(2147483647)
        p = lib.rand(3, generator=generator)
        p = p / p.sum()
        samples = lib.multinomial(p, num_samples=100, replacement=True, generator=generator)
        counts = (lib.arange(27 * 27).reshape(27, 27) % 7 + 1).float()
        table = counts / counts.sum(1, keepdim=True)
        names = []
        for _ in range(10):
            index, name = 0, []
            while True:
                index = lib.multinomial(table[index], 1, True, generator=generator).item()
                name.append(index)
                if index == 0 or len(name) > 30:
                    break
            names.append(name)
        results.append((p.numpy().tolist(), samples.numpy().tolist(), names))
    assert results[0] == results[1]
    assert [round(value, 4) for value in results[0][0]] == [0.6064, 0.3033, 0.0903]
