"""Random tensors repeat PyTorch's CPU generator: same seed, same values, in sequence."""

import numpy as np
import pytest

import gradienti
from gradienti import random as grandom

torch = pytest.importorskip("torch")

SEEDS = (0, 1, 42, 2**31 - 1, 123456789)
SHAPES = ((), (1,), (3,), (15,), (16,), (17,), (100,), (4, 5), (1000,))
DTYPES = (
    (gradienti.float32, torch.float32),
    (gradienti.float64, torch.float64),
    (gradienti.float16, torch.float16),
)


def _same(ours, theirs):
    ours, theirs = np.asarray(ours.numpy()), theirs.numpy()
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs), np.abs(ours - theirs).max()


def _both(seed):
    torch.manual_seed(seed)
    grandom.manual_seed(seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtypes", DTYPES, ids=["float32", "float64", "float16"])
def test_rand_randn_interleaved_match_torch(seed, shape, dtypes):
    ours, theirs = dtypes
    _both(seed)
    for _ in range(2):  # the second round checks that the stream continues alike
        _same(grandom.rand(shape, dtype=ours), torch.rand(shape, dtype=theirs))
        _same(grandom.randn(shape, dtype=ours), torch.randn(shape, dtype=theirs))
        _same(grandom.rand(shape, dtype=ours), torch.rand(shape, dtype=theirs))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_randint_randperm_match_torch(seed, shape):
    _both(seed)
    n = int(np.prod(shape))
    _same(grandom.randint(-5, 1000, shape), torch.randint(-5, 1000, shape))
    _same(grandom.randperm(n), torch.randperm(n))
    _same(grandom.randint(7, shape), torch.randint(7, shape))
    _same(grandom.randint(-(2**40), 2**40, shape), torch.randint(-(2**40), 2**40, shape))
    _same(grandom.randn(shape), torch.randn(shape))
    _same(grandom.randperm(n + 5), torch.randperm(n + 5))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtypes", DTYPES, ids=["float32", "float64", "float16"])
def test_uniform_normal_in_place_match_torch(seed, shape, dtypes):
    ours, theirs = dtypes
    _both(seed)
    for low, high, mean, std in ((0.0, 1.0, 0.0, 1.0), (-3.3, 7.1, 1.5, 2.5)):
        a, b = gradienti.zeros(shape, dtype=ours), torch.zeros(shape, dtype=theirs)
        a.uniform_(low, high)
        b.uniform_(low, high)
        _same(a, b)
        a.normal_(mean, std)
        b.normal_(mean, std)
        _same(a, b)
        _same(grandom.rand(shape, dtype=ours), torch.rand(shape, dtype=theirs))


def test_normal_cache_carries_between_small_calls():
    # Fewer than 16 elements: Box-Muller makes pairs and keeps the second for the next call.
    _both(7)
    for size in (1, 1, 3, 2, 5, 1, 16, 1, 1):
        _same(grandom.randn(size, dtype=gradienti.float64), torch.randn(size, dtype=torch.float64))
        _same(grandom.randn(size), torch.randn(size))


def test_uniform_never_reaches_its_upper_bound():
    # x * (to - from) + from can round up to ``to``; PyTorch then gives ``from``.
    for ours, theirs, high in (
        (gradienti.float32, torch.float32, 1 + 2**-23),
        (gradienti.float16, torch.float16, 1 + 2**-10),
    ):
        _both(0)
        a, b = gradienti.zeros(500, dtype=ours), torch.zeros(500, dtype=theirs)
        a.uniform_(1.0, high)
        b.uniform_(1.0, high)
        _same(a, b)


def test_large_randn_matches_torch():
    _both(2024)
    _same(grandom.randn(1000, 1000), torch.randn(1000, 1000))
    _same(grandom.randn(333, 3), torch.randn(333, 3))


def test_seeds_beyond_32_bits_and_the_default_seed():
    for seed in (2**32 + 5, 2**63 - 1, 67280421310721):
        _both(seed)
        _same(grandom.rand(20), torch.rand(20))
        assert grandom.initial_seed() == torch.initial_seed()
    fresh_ours, fresh_theirs = grandom.Generator(), torch.Generator()
    assert fresh_ours.initial_seed() == fresh_theirs.initial_seed()
    _same(grandom.rand(17, generator=fresh_ours), torch.rand(17, generator=fresh_theirs))


def test_generators_are_independent_of_the_default_one():
    ours = gradienti.Generator().manual_seed(11)
    theirs = torch.Generator().manual_seed(11)
    _both(5)
    _same(grandom.rand(4, generator=ours), torch.rand(4, generator=theirs))
    _same(grandom.rand(4), torch.rand(4))
    _same(grandom.randn(20, generator=ours), torch.randn(20, generator=theirs))
    _same(grandom.randn(3), torch.randn(3))
    _same(grandom.randperm(9, generator=ours), torch.randperm(9, generator=theirs))
    _same(
        grandom.randint(0, 50, (6,), generator=ours), torch.randint(0, 50, (6,), generator=theirs)
    )
    a, b = gradienti.empty(18), torch.empty(18)
    a.normal_(generator=ours)
    b.normal_(generator=theirs)
    _same(a, b)
    _same(grandom.rand(4), torch.rand(4))


def test_same_seed_same_numbers_and_state_round_trip():
    gradienti.manual_seed(3)
    first = [gradienti.rand(5).tolist(), gradienti.randn(20).tolist(), grandom.randperm(6).tolist()]
    gradienti.manual_seed(3)
    again = [gradienti.rand(5).tolist(), gradienti.randn(20).tolist(), grandom.randperm(6).tolist()]
    assert first == again
    gradienti.randn(1)  # leaves a cached normal value behind
    state = grandom.get_rng_state()
    after = [gradienti.randn(1).tolist(), gradienti.rand(700).tolist()]
    gradienti.rand(3)
    grandom.set_rng_state(state)
    assert [gradienti.randn(1).tolist(), gradienti.rand(700).tolist()] == after


def test_randperm_edges():
    assert grandom.randperm(0).tolist() == []
    assert grandom.randperm(1).tolist() == [0]
    perm = grandom.randperm(50, dtype=gradienti.int32)
    assert perm.dtype == gradienti.int32
    assert sorted(perm.tolist()) == list(range(50))
    with pytest.raises(RuntimeError):
        grandom.randperm(-1)


def test_rng_state_is_pytorchs_layout():
    for seed in (0, 42, 2**40 + 3):
        _both(seed)
        for size in (0, 1, 3, 700, 5, 16, 1):
            _same(grandom.get_rng_state(), torch.get_rng_state())
            _same(
                grandom.randn(size, dtype=gradienti.float64), torch.randn(size, dtype=torch.float64)
            )
    # a state taken from PyTorch continues PyTorch's stream here, and back
    torch.manual_seed(9)
    torch.randn(3)
    torch.rand(1000)
    grandom.set_rng_state(gradienti.tensor(torch.get_rng_state().numpy(), dtype=gradienti.uint8))
    _same(grandom.randn(5), torch.randn(5))
    _same(grandom.rand(900), torch.rand(900))
    torch.set_rng_state(torch.from_numpy(grandom.get_rng_state().numpy().copy()))
    _same(grandom.randn(7), torch.randn(7))
    ours = gradienti.Generator().manual_seed(4)
    theirs = torch.Generator().manual_seed(4)
    torch.rand(10, generator=theirs)
    ours.set_state(theirs.get_state().numpy())
    _same(grandom.rand(10, generator=ours), torch.rand(10, generator=theirs))
    with pytest.raises(RuntimeError):
        grandom.set_rng_state(np.zeros(10, np.uint8))
