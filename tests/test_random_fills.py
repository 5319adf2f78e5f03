"""In-place fills with PyTorch's streams (uniform_, normal_, random_, exponential_, geometric_,
cauchy_, log_normal_, bernoulli_, and fill_/zero_'s nodes): the same values bit for bit after
the same seed, drawn in the tensor's memory order, and the generator left where PyTorch
leaves it."""

import warnings

import numpy as np
import pytest
from random_stream_checks import (
    ALL_DTYPES,
    FLOAT_IDS,
    FLOATS,
    HALF_AND_FLOATS,
    SEEDS,
    SHAPES,
)
from random_stream_checks import both as _both
from random_stream_checks import pair as _pair
from random_stream_checks import same as _same
from random_stream_checks import stream_continues as _stream_continues
from torch_oracle import MKL_BERNOULLI, torch_draws_bernoulli_p_from_mt19937

import gradienti

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- in-place fills
FILLS = (
    ("exponential_", (), {}),
    ("exponential_", (2.5,), {}),
    ("geometric_", (0.3,), {}),
    ("geometric_", (0.9,), {}),
    ("cauchy_", (), {}),
    ("cauchy_", (1.5, 0.25), {}),
    ("log_normal_", (), {}),
    ("log_normal_", (0.5, 0.75), {}),
    ("bernoulli_", (), {}),
    ("bernoulli_", (0.3,), {}),
    ("random_", (), {}),
    ("random_", (10,), {}),
    ("random_", (-5, 100), {}),
    ("uniform_", (-2.0, 3.0), {}),
    ("normal_", (1.0, 2.0), {}),
)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtypes", FLOATS, ids=FLOAT_IDS)
def test_in_place_fills_match_torch(seed, shape, dtypes):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    ours_dtype, theirs_dtype = dtypes
    _both(seed)
    for name, args, kwargs in FILLS:
        ours = getattr(gradienti.zeros(shape, dtype=ours_dtype), name)(*args, **kwargs)
        theirs = getattr(torch.zeros(shape, dtype=theirs_dtype), name)(*args, **kwargs)
        _same(ours, theirs)
    _stream_continues()


@pytest.mark.parametrize("dtypes", ALL_DTYPES, ids=lambda pair: str(pair[1]))
def test_random_and_bernoulli_fill_every_dtype(dtypes):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    ours_dtype, theirs_dtype = dtypes
    _both(3)
    calls = [("random_", ()), ("random_", (0, 2)), ("bernoulli_", (0.25,))]
    if theirs_dtype != torch.bool:
        calls += [("random_", (100,)), ("random_", (3, 50)), ("random_", (3, None))]
    if theirs_dtype not in (torch.bool, torch.uint8):
        calls += [("random_", (-20, 20)), ("geometric_", (0.2,))]
    if theirs_dtype in (torch.int64, torch.float32, torch.float64):
        calls += [("random_", (-(2**40), 2**40)), ("random_", (-(2**63), None))]
    if theirs_dtype == torch.float16:
        calls += [("exponential_", ()), ("cauchy_", ()), ("log_normal_", ())]
    for name, args in calls:
        # a float's range beyond 2**mantissa warns, in both
        with warnings.catch_warnings(record=True) as ours_warned:
            warnings.simplefilter("always")
            ours = getattr(gradienti.zeros(37, dtype=ours_dtype), name)(*args)
        with warnings.catch_warnings(record=True) as theirs_warned:
            warnings.simplefilter("always")
            theirs = getattr(torch.zeros(37, dtype=theirs_dtype), name)(*args)
        _same(ours, theirs)
        assert [str(w.message) for w in ours_warned] == [
            str(w.message).split(" (Triggered internally")[0] for w in theirs_warned
        ]
    _stream_continues()


def test_random_keyword_forms_and_float_bounds_match_torch():
    _both(11)
    for args, kwargs in (((), {"to": 7}), ((4,), {"to": None}), ((4,), {"to": 9})):
        _same(
            gradienti.zeros(20).random_(*args, **kwargs), torch.zeros(20).random_(*args, **kwargs)
        )
    # float16 moves the bounds to values that survive the cast (update_from/update_to)
    with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
        ours = gradienti.zeros(50, dtype=gradienti.float16).random_(0, 60000)
    with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
        theirs = torch.zeros(50, dtype=torch.float16).random_(0, 60000)
    _same(ours, theirs)
    _stream_continues()


@pytest.mark.parametrize("dtypes", FLOATS, ids=FLOAT_IDS)
def test_bernoulli_with_tensor_p_matches_torch(dtypes):
    ours_dtype, theirs_dtype = dtypes
    rng = np.random.default_rng(0)
    for p_shape, shape in (((17,), (17,)), ((5,), (4, 5)), ((4, 1), (4, 6)), ((), (3,))):
        p = rng.random(p_shape)
        for p_dtypes in FLOATS:  # a double p compares 53-bit uniforms, a float p 24-bit ones
            _both(5)
            ours_p, theirs_p = _pair(p, *p_dtypes)
            ours = gradienti.zeros(shape, dtype=ours_dtype).bernoulli_(ours_p)
            theirs = torch.zeros(shape, dtype=theirs_dtype).bernoulli_(theirs_p)
            _same(ours, theirs)
            _stream_continues()
    _both(5)
    ours_p, theirs_p = _pair(rng.random(6), gradienti.float32, torch.float32)
    _same(
        gradienti.zeros(6, dtype=gradienti.int64).bernoulli_(ours_p),
        torch.zeros(6, dtype=torch.int64).bernoulli_(theirs_p),
    )


def test_fills_of_a_transposed_tensor_follow_its_memory_order():
    _both(9)
    for name, args in (("exponential_", ()), ("random_", (100,)), ("cauchy_", ())):
        ours = getattr(gradienti.zeros(3, 6).t(), name)(*args)
        theirs = getattr(torch.zeros(3, 6).t(), name)(*args)
        _same(ours, theirs)
    _same(gradienti.rand_like(gradienti.zeros(4, 5).t()), torch.rand_like(torch.zeros(4, 5).t()))
    # multinomial draws its exponentials in the memory order of the weights
    ours, theirs = _pair(np.random.default_rng(0).random((6, 4)), gradienti.float32, torch.float32)
    for count, replacement in ((3, False), (1, False), (5, True)):
        _same(
            gradienti.multinomial(ours.t(), count, replacement),
            torch.multinomial(theirs.t(), count, replacement),
        )
    # randn_like of a non-contiguous tensor: PyTorch's element-by-element normal kernel
    _same(gradienti.randn_like(gradienti.zeros(4, 5).t()), torch.randn_like(torch.zeros(4, 5).t()))
    _stream_continues()


@pytest.mark.parametrize("dtypes", HALF_AND_FLOATS, ids=["float16", *FLOAT_IDS])
@pytest.mark.parametrize("count", (1, 7, 8, 16, 17, 33))
def test_uniform_and_normal_fill_a_non_contiguous_tensor_as_torch(dtypes, count):
    """uniform_ draws in memory order; normal_ of a non-contiguous tensor takes PyTorch's
    element-by-element kernel (normal_distribution<double>), not randn's blocks of 16."""
    ours_dtype, theirs_dtype = dtypes
    for seed in SEEDS:
        _both(seed)
        for lib_args in ((-2.0, 3.0), (0.5,)):
            for make in (
                lambda lib, dtype: lib.zeros(count, 3, dtype=dtype).t(),
                lambda lib, dtype: lib.zeros(2 * count, dtype=dtype)[::2],
                lambda lib, dtype: lib.zeros(3, count + 1, dtype=dtype)[:, 1:],
            ):
                for name in ("uniform_", "normal_"):
                    ours = getattr(make(gradienti, ours_dtype), name)(*lib_args)
                    theirs = getattr(make(torch, theirs_dtype), name)(*lib_args)
                    _same(ours, theirs)
        _stream_continues()


def test_normal_with_an_infinite_mean_is_infinite_as_in_torch():
    for count in (3, 20):
        for dtypes in HALF_AND_FLOATS:
            _both(4)
            _same(
                gradienti.zeros(count, dtype=dtypes[0]).normal_(float("inf"), 1.0),
                torch.zeros(count, dtype=dtypes[1]).normal_(float("inf"), 1.0),
            )
            _same(
                gradienti.normal(-float("inf"), 2.0, (count,), dtype=dtypes[0]),
                torch.normal(-float("inf"), 2.0, (count,), dtype=dtypes[1]),
            )
    _stream_continues()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, t, v: t.fill_(1.5),
        lambda lib, t, v: t.zero_(),
        lambda lib, t, v: t.fill_(v),
        lambda lib, t, v: t.fill_(v.detach()),
        lambda lib, t, v: t.detach().fill_(v),
        lambda lib, t, v: lib.zeros(3, dtype=lib.float64).fill_(v),
    ],
)
def test_fill_and_zero_record_torch_nodes(call):
    """fill_/zero_ (ops/inplace.py, beside uniform_/normal_) cut the gradient as PyTorch's
    FillBackward2/ZeroBackward0 do; a 0-d tensor value gets the summed gradient
    (FillBackward3)."""
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        value = lib.tensor(2.0, requires_grad=True)
        out = call(lib, x * 2, value)
        names = [None if n is None else n.name() for n, _ in out.grad_fn.next_functions]
        out.backward(lib.tensor([1.0, -1.0, 3.0], dtype=out.dtype))
        grads = [None if t.grad is None else t.grad.numpy().tolist() for t in (x, value)]
        results.append((out.detach().numpy().tolist(), out.grad_fn.name(), names, grads))
    assert results[0] == results[1]


def test_fill_of_a_dual_value_carries_its_tangent_as_torch():
    results = []
    for lib in (gradienti, torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            value = fw.make_dual(lib.tensor(2.0), lib.tensor(0.5))
            x = fw.make_dual(lib.zeros(3), lib.ones(3))
            x.fill_(value)
            filled = fw.unpack_dual(x).tangent.numpy().tolist()
            x.zero_()
            zeroed = fw.unpack_dual(x).tangent.numpy().tolist()
        results.append((filled, zeroed))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtypes", HALF_AND_FLOATS, ids=["float16", *FLOAT_IDS])
def test_bernoulli_with_tensor_p_fills_a_transposed_tensor_in_its_memory_order(dtypes):
    """The output's strides set TensorIterator's order, whatever the probabilities' layout."""
    ours_dtype, theirs_dtype = dtypes
    probabilities = np.random.default_rng(3).random((9, 2))
    ours_p, theirs_p = _pair(probabilities, ours_dtype, theirs_dtype)
    for seed in SEEDS:
        _both(seed)
        for ours_p_view, theirs_p_view in ((ours_p, theirs_p), (ours_p.t().t(), theirs_p.t().t())):
            _same(
                gradienti.zeros(2, 9).t().bernoulli_(ours_p_view),
                torch.zeros(2, 9).t().bernoulli_(theirs_p_view),
            )
        _same(
            gradienti.zeros(9, 2).bernoulli_(ours_p.t().contiguous().t()),
            torch.zeros(9, 2).bernoulli_(theirs_p.t().contiguous().t()),
        )
        _same(
            gradienti.zeros(2, 9).t().bernoulli_(ours_p[0]),
            torch.zeros(2, 9).t().bernoulli_(theirs_p[0]),
        )
        _stream_continues()
