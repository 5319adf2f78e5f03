"""Counting ops against PyTorch: unique, unique_consecutive, bincount, histc, histogram,
searchsorted, bucketize (values, dtypes, shapes, errors). None is differentiable."""

from __future__ import annotations

import numpy as np
import pytest
from test_sorting import NAN, same

torch = pytest.importorskip("torch")

INF = float("inf")
INTS = [3, 1, 2, 3, 1, 5, 5, 5, 0]
ROWS = [[1, 2], [1, 2], [0, 3], [1, 2], [0, 3]]


# ---------------------------------------------------------------------- unique
@pytest.mark.parametrize("return_inverse", [False, True])
@pytest.mark.parametrize("return_counts", [False, True])
def test_unique(return_inverse, return_counts):
    flags = {"return_inverse": return_inverse, "return_counts": return_counts}
    same(lambda lib: lib.unique(lib.tensor(INTS), **flags))
    same(lambda lib: lib.unique(lib.tensor([[3.0, 1.0], [NAN, 1.0]]), **flags))
    same(lambda lib: lib.unique(lib.tensor(ROWS), dim=0, **flags))
    same(lambda lib: lib.unique(lib.tensor(ROWS), dim=1, **flags))
    same(lambda lib: lib.tensor(INTS).unique(sorted=False, **flags))
    same(lambda lib: lib.unique(lib.tensor(2.5), **flags))
    same(lambda lib: lib.unique(lib.tensor([True, False, True]), **flags))


@pytest.mark.parametrize("return_inverse", [False, True])
@pytest.mark.parametrize("return_counts", [False, True])
def test_unique_consecutive(return_inverse, return_counts):
    flags = {"return_inverse": return_inverse, "return_counts": return_counts}
    same(lambda lib: lib.unique_consecutive(lib.tensor(INTS + [0, 0]), **flags))
    same(lambda lib: lib.unique_consecutive(lib.tensor([[1.0, 1.0], [2.0, 1.0]]), **flags))
    same(lambda lib: lib.unique_consecutive(lib.tensor(ROWS), dim=0, **flags))
    same(lambda lib: lib.tensor(ROWS).unique_consecutive(dim=1, **flags))
    same(lambda lib: lib.unique_consecutive(lib.tensor([], dtype=lib.int64), **flags))


UNIQUE_FORMS = {
    "unique": lambda lib, x: lib.unique(x, return_counts=True)[0],
    "unique dim": lambda lib, x: lib.unique(x, dim=0),
    "unique_consecutive": lambda lib, x: lib.unique_consecutive(x),
    "unique_consecutive dim": lambda lib, x: x.unique_consecutive(dim=1),
}


@pytest.mark.parametrize("name", UNIQUE_FORMS)
def test_unique_values_are_recorded_without_a_derivative(name):
    def printed(lib):
        x = lib.tensor([[2.0, 1.0], [2.0, 1.0]], requires_grad=True)
        return repr(UNIQUE_FORMS[name](lib, x))

    def backward(lib):
        x = lib.tensor([[2.0, 1.0], [2.0, 1.0]], requires_grad=True)
        UNIQUE_FORMS[name](lib, x).sum().backward()

    same(printed)
    same(backward)


def test_unique_has_no_forward_derivative():
    def run(lib):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 1.0]))
            return lib.unique(dual)

    same(run)


def test_unique_bad_dim():
    same(lambda lib: lib.unique(lib.tensor([1, 2]), dim=3))


UNIQUE_DIM_ERRORS = {
    "0-d": lambda lib, name: getattr(lib, name)(lib.tensor(2.0), dim=0),
    "0-d, -1": lambda lib, name: getattr(lib, name)(lib.tensor(2.0), dim=-1),
    "empty other dim": lambda lib, name: getattr(lib, name)(lib.zeros(0, 3), dim=1),
    "empty first dim": lambda lib, name: getattr(lib, name)(lib.zeros(3, 0), dim=0),
    "two empty dims": lambda lib, name: getattr(lib, name)(lib.zeros(0, 0), dim=0),
}


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("case", UNIQUE_DIM_ERRORS)
def test_unique_along_a_dim_checks_as_pytorch(case, name):
    same(lambda lib: UNIQUE_DIM_ERRORS[case](lib, name))


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
def test_unique_along_an_empty_dim(name):
    flags = {"return_inverse": True, "return_counts": True}
    same(lambda lib: getattr(lib, name)(lib.zeros(0, 3), dim=0, **flags))
    same(lambda lib: getattr(lib, name)(lib.zeros(0), dim=0, **flags))


def _signed(result):
    """The result and the sign bit of each value (-0.0 and 0.0 compare equal)."""
    return result, np.signbit(result[0].detach().numpy()).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_unique_with_nan_and_signed_zeros_as_pytorch(seed):
    # Along a dim, PyTorch's std::sort of slices compares them with < (NaN decides nothing)
    # and keeps each slice with NaN apart; without a dim, its sort decides which zero stays.
    rng = np.random.default_rng(seed)
    values = rng.integers(-1, 2, (24, 2)).astype(np.float32)
    values[(values == 0) & (rng.random(values.shape) < 0.5)] = -0.0
    values[rng.random(values.shape) < 0.1] = NAN
    flags = {"return_inverse": True, "return_counts": True}
    for dim in (None, 0, 1):
        same(lambda lib, d=dim: _signed(lib.unique(lib.tensor(values), dim=d, **flags)))
        same(lambda lib, d=dim: _signed(lib.unique_consecutive(lib.tensor(values), dim=d, **flags)))


# ---------------------------------------------------------------------- bincount
def test_bincount():
    same(lambda lib: lib.bincount(lib.tensor(INTS)))
    same(lambda lib: lib.tensor(INTS).bincount(minlength=9))
    same(lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64)))
    same(lambda lib: lib.bincount(lib.tensor([0, 1], dtype=lib.uint8)))
    for dtype in ("float32", "float64", "float16", "int64"):
        weights = np.linspace(0.5, 2.0, len(INTS)).astype(dtype)
        same(
            lambda lib, weights=weights: lib.bincount(lib.tensor(INTS), weights=lib.tensor(weights))
        )
        same(lambda lib, weights=weights: lib.bincount(lib.tensor(INTS), lib.tensor(weights), 8))


def test_bincount_adds_float32_weights_in_float32_one_by_one():
    rng = np.random.default_rng(3)
    bins = rng.integers(0, 3, 2000)
    weights = rng.random(2000).astype(np.float32)
    same(lambda lib: lib.bincount(lib.tensor(bins), lib.tensor(weights)))
    same(lambda lib: lib.bincount(lib.tensor(bins), lib.tensor(weights), minlength=5))
    same(lambda lib: lib.bincount(lib.tensor(bins), lib.tensor(weights.astype(np.float64))))


def test_bincount_of_no_data_is_integral_zeros_whatever_the_weights():
    empty = np.zeros(0, dtype=np.int64)
    for dtype in ("float32", "float64"):
        for minlength in (0, 3):
            same(
                lambda lib, d=dtype, m=minlength: lib.bincount(
                    lib.tensor(empty), lib.tensor(np.zeros(0, dtype=d)), minlength=m
                )
            )
    same(lambda lib: lib.bincount(lib.tensor(empty), lib.tensor([1.0]), minlength=2))


BINCOUNT_ERRORS = {
    "float input": lambda lib: lib.bincount(lib.tensor([0.0, 1.0])),
    "bool input": lambda lib: lib.bincount(lib.tensor([True])),
    "negative": lambda lib: lib.bincount(lib.tensor([-1, 1])),
    "2-d": lambda lib: lib.bincount(lib.tensor([[1]])),
    "minlength": lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1),
    "weights length": lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0])),
}


@pytest.mark.parametrize("name", BINCOUNT_ERRORS)
def test_bincount_errors(name):
    same(BINCOUNT_ERRORS[name])


# ---------------------------------------------------------------------- histc, histogram
DATA = np.random.default_rng(0).standard_normal(200).astype(np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc(dtype):
    data = DATA.astype(dtype)
    same(lambda lib: lib.histc(lib.tensor(data)))
    same(lambda lib: lib.histc(lib.tensor(data), bins=7, min=-1, max=1.5))
    same(lambda lib: lib.tensor(data).histc(10, -0.5, 0.5))
    same(lambda lib: lib.histc(lib.tensor([0.0, 1, 2, 3, 4, 5], dtype=lib.float64), 5, 0, 5))
    same(lambda lib: lib.histc(lib.tensor([1.0, 2.0, 3.0]), bins=3, min=2, max=2))
    same(lambda lib: lib.histc(lib.tensor([1.0, 1.0]), bins=3))
    same(lambda lib: lib.histc(lib.tensor([], dtype=lib.float32), bins=4))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogram(dtype):
    data = DATA.astype(dtype)
    weight = np.linspace(0.0, 2.0, data.size).astype(dtype)
    same(lambda lib: lib.histogram(lib.tensor(data), 9))
    same(lambda lib: lib.histogram(lib.tensor(data), density=True))  # 100 bins by default
    same(lambda lib: lib.histogram(lib.tensor(data), bins=13, range=(-1.0, 2.0)))
    same(lambda lib: lib.tensor(data).histogram(5, weight=lib.tensor(weight), density=True))
    edges = np.array([-3.0, -0.5, 0.0, 0.1, 2.0], dtype=dtype)
    same(lambda lib: lib.histogram(lib.tensor(data), lib.tensor(edges)))
    same(lambda lib: lib.histogram(lib.tensor(data), bins=lib.tensor(edges), density=True))
    same(lambda lib: lib.histogram(lib.tensor([1.0, 1.0], dtype=lib.float64), bins=2))
    same(lambda lib: lib.histogram(lib.tensor([], dtype=lib.float32), bins=2))
    same(lambda lib: lib.histc(lib.tensor([1.0, NAN, 2.0], dtype=lib.float64), 2, 0, 3))
    few = np.array([1.0, 2.0, 3.0], dtype=dtype)
    same(
        lambda lib: lib.histogram(lib.tensor(few - 0.5), lib.tensor(edges), weight=lib.tensor(few))
    )


def test_histogram_prints_as_pytorch():
    def run(lib):
        return repr(lib.histogram(lib.tensor([1.0, 2.0, 1.0, 4.0]), bins=4))

    same(run)


HISTOGRAM_ERRORS = {
    "histc integral": lambda lib: lib.histc(lib.tensor([1, 2])),
    "histc bins": lambda lib: lib.histc(lib.tensor([1.0, 2.0]), bins=0),
    "histc range": lambda lib: lib.histc(lib.tensor([1.0, 2.0]), min=3, max=1),
    "histogram integral": lambda lib: lib.histogram(lib.tensor([1, 2]), 3),
    "histc NaN": lambda lib: lib.histc(lib.tensor([1.0, NAN]), bins=3),
    "histc inf": lambda lib: lib.histc(lib.tensor([1.0, float("inf")]), bins=3),
    "histogram NaN": lambda lib: lib.histogram(lib.tensor([1.0, NAN]), bins=3),
    "histogram inf range": lambda lib: lib.histogram(lib.tensor([1.0]), 2, range=(0.0, INF)),
    "histogram edges dtype": lambda lib: lib.histogram(
        lib.tensor([1.0]), lib.tensor([0.0, 2.0], dtype=lib.float64)
    ),
    "histogram edges 2-d": lambda lib: lib.histogram(lib.tensor([1.0]), lib.tensor([[0.0, 2.0]])),
    "histogram integral edges": lambda lib: lib.histogram(lib.tensor([1, 2]), lib.tensor([0, 3])),
    "histogram weight dtype": lambda lib: lib.histogram(
        lib.tensor([1.0, 2.0]), 3, weight=lib.tensor([1.0, 2.0], dtype=lib.float64)
    ),
    "histogram integral weight": lambda lib: lib.histogram(
        lib.tensor([1.0, 2.0]), 3, weight=lib.tensor([1, 2])
    ),
    "histogram weight size": lambda lib: lib.histogram(
        lib.tensor([1.0, 2.0]), 3, weight=lib.tensor([1.0, 2.0, 3.0])
    ),
    "histogram range reversed": lambda lib: lib.histogram(lib.tensor([1.0]), 3, range=(1.0, 0.5)),
    "histogram half": lambda lib: lib.histogram(lib.tensor([1.0], dtype=lib.float16), 3),
    "histogram half range reversed": lambda lib: lib.histogram(
        lib.tensor([1.0], dtype=lib.float16), 3, range=(1.0, 0.0)
    ),
}


def test_histogram_weights_of_any_shape_and_half_edges():
    data = DATA[:10].reshape(2, 5)
    same(lambda lib: lib.histogram(lib.tensor(data), 3, weight=lib.ones(5, 2)))
    same(lambda lib: lib.histogram(lib.tensor(data), 3, weight=lib.ones(10)))
    half_edges = np.array([-1.0, 0.0, 1.0], dtype=np.float16)
    same(lambda lib: lib.histogram(lib.tensor(data.astype(np.float16)), lib.tensor(half_edges)))


@pytest.mark.parametrize("name", HISTOGRAM_ERRORS)
def test_histogram_errors(name):
    same(HISTOGRAM_ERRORS[name])


# ---------------------------------------------------------------------- searchsorted, bucketize
SEQUENCE = [1, 3, 5, 5, 7, 9]
VALUES = [[3, 6, 9], [0, 5, 10]]


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted(right):
    same(lambda lib: lib.searchsorted(lib.tensor(SEQUENCE), lib.tensor(VALUES), right=right))
    side = "right" if right else "left"
    same(lambda lib: lib.searchsorted(lib.tensor(SEQUENCE), lib.tensor(VALUES), side=side))
    same(lambda lib: lib.searchsorted(lib.tensor(SEQUENCE), 5, right=right))
    same(lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0, NAN]), lib.tensor([NAN, 3.0, 2.0])))
    same(lambda lib: lib.searchsorted(lib.tensor([1, 2, 3]), lib.tensor([1.5, 2.0])))
    rows = [[1.0, 3.0, 5.0], [2.0, 4.0, 4.0]]
    same(
        lambda lib: lib.searchsorted(
            lib.tensor(rows), lib.tensor([[2.0, 4.0], [4.0, 0.0]]), right=right, out_int32=True
        )
    )
    same(
        lambda lib: lib.searchsorted(
            lib.tensor([5, 1, 3]), lib.tensor([2, 4, 5]), sorter=lib.tensor([1, 2, 0]), side=side
        )
    )


@pytest.mark.parametrize("seed", range(8))
def test_searchsorted_with_repeats_nan_and_empty_boundaries(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 12)) if seed else 0
    boundaries = np.sort(rng.integers(0, 6, (2, size)), axis=-1).astype(np.float32)
    if seed % 3 == 1 and size:
        boundaries[:, -1] = NAN  # PyTorch's bisection treats it as below every value
    values = rng.integers(-1, 7, (2, 5)).astype(np.float32)
    values[0, 0] = NAN
    for right in (False, True):
        same(
            lambda lib, r=right: lib.searchsorted(
                lib.tensor(boundaries), lib.tensor(values), right=r
            )
        )
        same(
            lambda lib, r=right: lib.searchsorted(
                lib.tensor(boundaries[0]), lib.tensor(values), right=r
            )
        )


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(right):
    same(lambda lib: lib.bucketize(lib.tensor(VALUES), lib.tensor(SEQUENCE), right=right))
    same(lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5]), right=right))
    same(lambda lib: lib.bucketize(lib.tensor(2.5), lib.tensor([1.0, 2.0, 3.0])))
    same(lambda lib: lib.bucketize(lib.tensor([1, 5]), lib.tensor([1.0, 3.0]), out_int32=True))


@pytest.mark.parametrize("right", [False, True])
def test_search_compares_in_pytorchs_promoted_dtype(right):
    # A Python float is weak: 0.1 is compared as the float32 boundary 0.1 it rounds to (equal,
    # so right=True goes past it), and lifts integral boundaries to float32, not float64.
    tenths = [0.1, 0.2, 0.3]
    same(lambda lib: lib.searchsorted(lib.tensor(tenths), 0.1, right=right))
    same(lambda lib: lib.bucketize(0.1, lib.tensor(tenths), right=right))
    same(lambda lib: lib.searchsorted(lib.tensor(tenths, dtype=lib.float16), 0.1, right=right))
    same(lambda lib: lib.searchsorted(lib.tensor([16777216, 16777217]), 16777217.0, right=right))
    same(lambda lib: lib.searchsorted(lib.tensor([1, 2, 3], dtype=lib.int32), 2, right=right))
    same(lambda lib: lib.searchsorted(lib.tensor(tenths), True, right=right))
    # Tensors: int64 with float32 compares in float32, a float64 tensor in float64.
    big = [16777217, 16777219]
    same(lambda lib: lib.searchsorted(lib.tensor(big), lib.tensor([16777218.0]), right=right))
    same(lambda lib: lib.searchsorted(lib.tensor(big), lib.tensor(16777216.5), right=right))
    same(
        lambda lib: lib.searchsorted(
            lib.tensor(tenths), lib.tensor([0.1, 0.2], dtype=lib.float64), right=right
        )
    )
    same(lambda lib: lib.searchsorted(lib.tensor([False, True]), lib.tensor([1]), right=right))


SEARCH_ERRORS = {
    "0-d boundaries": lambda lib: lib.searchsorted(lib.tensor(1.0), lib.tensor([2.5])),
    "scalar value, 2-d boundaries": lambda lib: lib.searchsorted(lib.ones(2, 2), 2.5),
    "0-d value, 0-d boundaries": lambda lib: lib.searchsorted(lib.tensor(1.0), lib.tensor(2.5)),
    "bool": lambda lib: lib.searchsorted(lib.tensor([False, True]), lib.tensor([True])),
    "sorter range": lambda lib: lib.searchsorted(
        lib.tensor([3.0, 1.0, 2.0]), lib.tensor([2.5]), sorter=lib.tensor([1, 2, 3])
    ),
    "negative sorter": lambda lib: lib.searchsorted(
        lib.tensor([3.0, 1.0, 2.0]), lib.tensor([2.5]), sorter=lib.tensor([1, 2, -1])
    ),
    "side and right": lambda lib: lib.searchsorted(
        lib.tensor([1, 2]), lib.tensor([1]), side="left", right=True
    ),
    "side": lambda lib: lib.searchsorted(lib.tensor([1, 2]), lib.tensor([1]), side="up"),
    "leading dims": lambda lib: lib.searchsorted(
        lib.tensor([[1, 2], [3, 4]]), lib.tensor([[1], [2], [3]])
    ),
    "bucketize boundaries": lambda lib: lib.bucketize(lib.tensor([1]), lib.tensor([[1, 2]])),
}


@pytest.mark.parametrize("name", SEARCH_ERRORS)
def test_search_errors(name):
    same(SEARCH_ERRORS[name])


@pytest.mark.parametrize("seed", range(12))
def test_histograms_of_values_on_the_bin_edges(seed):
    """Values on and near the edges: PyTorch's rounding decides their bins."""
    rng = np.random.default_rng(seed)
    dtype = np.float32 if seed % 2 else np.float64
    data = (rng.integers(-20, 20, 60) / rng.choice([1, 3, 7, 10])).astype(dtype)
    bins = int(rng.integers(1, 30))
    low = float(rng.integers(-5, 0))
    high = low + float(rng.integers(1, 10)) / float(rng.choice([1, 3]))
    edges = np.sort(rng.integers(-5, 5, bins + 1) / 2).astype(dtype)
    same(lambda lib: lib.histc(lib.tensor(data), bins=bins, min=low, max=high))
    same(lambda lib: lib.histc(lib.tensor(data), bins=bins))
    same(lambda lib: lib.histogram(lib.tensor(data), bins=bins))
    same(lambda lib: lib.histogram(lib.tensor(data), bins=bins, range=(low, high)))
    same(lambda lib: lib.histogram(lib.tensor(data), bins=lib.tensor(edges)))
