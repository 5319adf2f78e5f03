"""Ordering and counting against PyTorch: sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode (ties, NaN, dtypes, indices, gradients at ties, errors) and unique,
unique_consecutive, bincount, histc, histogram, searchsorted, bucketize.

The smooth cases (no ties: finite differences, double backward, forward mode, vmap) are in
op_cases_sorting.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from same_outcome import outcome

import gradienti

torch = pytest.importorskip("torch")

NAN = float("nan")


def _np(t):
    return t.detach().numpy() if type(t).__module__.startswith("gradienti") else t.numpy(force=True)


def _describe(result):
    """A result as comparable data: tensors by dtype, shape and values (NaN equal to NaN)."""
    if isinstance(result, (tuple, list)):
        return (type(result).__name__, [_describe(item) for item in result])
    if hasattr(result, "dtype") and hasattr(result, "shape"):
        values = _np(result)
        if values.dtype.kind == "f":
            values = np.where(np.isnan(values), "nan", values.astype(object))
        return (str(result.dtype).split(".")[-1], tuple(result.shape), values.tolist())
    return result


def same(action):
    """``action(lib)``'s result (or error) with gradienti and with torch, compared."""
    ours, theirs = outcome(lambda lib: _describe(action(lib)))
    assert ours == theirs, f"gradienti: {ours}\ntorch: {theirs}"
    return ours


def _ties(seed: int, shape, high: int = 4, dtype=np.float32, nan: float = 0.0):
    """Random small integers (many ties), with a share ``nan`` of NaNs."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, high, shape).astype(dtype)
    if nan:
        values[rng.random(shape) < nan] = NAN
    return values


TIED = [
    _ties(0, (3, 8)),
    _ties(1, (2, 40)),  # longer than 16: introsort's partitions decide among ties
    _ties(2, (2, 300), high=9),
    _ties(3, (4, 33), nan=0.2),
    _ties(4, (5,), nan=0.4),
    _ties(5, (2, 3, 20), high=3),
    _ties(6, (3, 25), dtype=np.int64),
    _ties(7, (3, 25), dtype=np.float64, nan=0.1),
]
TIED_IDS = [f"{a.dtype}{a.shape}" for a in TIED]


# ---------------------------------------------------------------------- sort, argsort, msort
@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [None, False, True])
def test_sort_picks_pytorchs_indices_among_ties(values, descending, stable):
    keywords = {} if stable is None else {"stable": stable}
    same(lambda lib: lib.sort(lib.tensor(values), descending=descending, **keywords))
    same(lambda lib: lib.sort(lib.tensor(values), dim=0, descending=descending, **keywords))
    same(lambda lib: lib.argsort(lib.tensor(values), descending=descending, **keywords))


@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
def test_msort_and_the_methods(values):
    same(lambda lib: lib.msort(lib.tensor(values)))
    same(lambda lib: lib.tensor(values).msort())
    same(lambda lib: lib.tensor(values).sort(0, True))
    same(lambda lib: lib.tensor(values).argsort(0, descending=True))


def test_long_1d_integral_sort_is_pytorchs_radix_sort():
    values = _ties(12, (40000,), high=50, dtype=np.int64)
    same(lambda lib: lib.sort(lib.tensor(values)).indices[:2000])
    same(lambda lib: lib.sort(lib.tensor(values), descending=True).indices[:2000])
    same(lambda lib: lib.sort(lib.tensor(values[:30000])).indices[:2000])


def test_int_arguments_may_be_one_element_integral_tensors():
    values = [3.0, 1.0, 2.0, 1.0]
    same(lambda lib: lib.topk(lib.tensor(values), lib.tensor(2)))
    same(lambda lib: lib.topk(lib.tensor(values), lib.tensor([2], dtype=lib.uint8)))
    same(lambda lib: lib.kthvalue(lib.tensor(values), lib.tensor(2, dtype=lib.int32)))
    same(lambda lib: lib.sort(lib.tensor(values), lib.tensor(-1)))
    same(lambda lib: lib.median(lib.tensor([values]), lib.tensor(1)))
    same(lambda lib: lib.topk(lib.tensor(values), lib.tensor(2.0)))  # a float tensor is not
    same(lambda lib: lib.topk(lib.tensor(values), lib.tensor([1, 2])))  # nor are two ints


def test_sort_of_bool_and_0d_and_empty():
    same(lambda lib: lib.sort(lib.tensor([True, False, True, False])))
    same(lambda lib: lib.sort(lib.tensor(3.0)))
    same(lambda lib: lib.sort(lib.tensor(3.0), -1))
    same(lambda lib: lib.sort(lib.zeros(0, 3), 0))
    same(lambda lib: lib.argsort(lib.tensor([3, 1, 2], dtype=lib.int32)))


def test_sort_prints_as_pytorch():
    values = [3.0, 1.0, 2.0]
    ours = gradienti.sort(gradienti.tensor(values, requires_grad=True))
    theirs = torch.sort(torch.tensor(values, requires_grad=True))
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == "sort"
    assert ours.indices.requires_grad is False


# ---------------------------------------------------------------------- topk
@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("is_sorted", [True, False])
def test_topk_picks_pytorchs_indices_among_ties(values, largest, is_sorted):
    size = values.shape[-1]
    # k * 64 <= size takes partial_sort, larger k nth_element (then sort when sorted).
    for k in sorted({0, 1, 2, size // 3, size - 1, size}):
        same(lambda lib, k=k: lib.topk(lib.tensor(values), k, largest=largest, sorted=is_sorted))
    same(lambda lib: lib.tensor(values).topk(1, 0, largest, is_sorted))


def test_topk_of_distinct_values_unsorted_is_in_pytorchs_order():
    values = np.random.default_rng(8).standard_normal((3, 50)).astype(np.float32)
    for k in (3, 10, 30):
        same(lambda lib, k=k: lib.topk(lib.tensor(values), k, sorted=False))
        same(lambda lib, k=k: lib.topk(lib.tensor(values), k, largest=False, sorted=False))


def test_topk_prints_as_pytorch():
    ours = gradienti.tensor([1.0, 5.0, 3.0], requires_grad=True).topk(2)
    theirs = torch.tensor([1.0, 5.0, 3.0], requires_grad=True).topk(2)
    assert repr(ours) == repr(theirs)


# ---------------------------------------------------------------------- kthvalue, median, mode
@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
def test_kthvalue_picks_pytorchs_index_among_ties(values):
    size = values.shape[-1]
    for k in sorted({1, 2, size // 2, size - 1, size} - {0}):
        same(lambda lib, k=k: lib.kthvalue(lib.tensor(values), k))
    same(lambda lib: lib.tensor(values).kthvalue(1, 0, True))


@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
@pytest.mark.parametrize("name", ["median", "nanmedian", "mode"])
def test_median_nanmedian_mode_along_a_dim(values, name):
    same(lambda lib: getattr(lib, name)(lib.tensor(values)))
    same(lambda lib: getattr(lib, name)(lib.tensor(values), 0))
    same(lambda lib: getattr(lib.tensor(values), name)(-1, keepdim=True))


@pytest.mark.parametrize("values", TIED, ids=TIED_IDS)
def test_median_of_all_elements(values):
    same(lambda lib: lib.median(lib.tensor(values)))
    same(lambda lib: lib.tensor(values).nanmedian())


def test_medians_of_special_inputs():
    same(lambda lib: lib.median(lib.tensor([1.0, 2.0, 3.0, 4.0])))  # the lower middle value
    same(lambda lib: lib.median(lib.tensor([NAN, NAN])))
    same(lambda lib: lib.nanmedian(lib.tensor([NAN, NAN])))
    same(lambda lib: lib.nanmedian(lib.tensor([[NAN, NAN], [1.0, NAN]]), 1))
    same(lambda lib: lib.median(lib.tensor([])))
    same(lambda lib: lib.median(lib.tensor(2.0), 0))
    same(lambda lib: lib.kthvalue(lib.tensor(2.0), 1))
    same(lambda lib: lib.mode(lib.tensor(2.0)))
    same(lambda lib: lib.median(lib.tensor([5, 1, 3, 3])))


@pytest.mark.parametrize("name", ["kthvalue", "median", "nanmedian", "mode"])
def test_named_tuples_print_as_pytorch(name):
    def run(lib):
        x = lib.tensor([[1.0, 5.0, 3.0], [2.0, 0.5, 4.0]], requires_grad=True)
        return repr(lib.kthvalue(x, 2) if name == "kthvalue" else getattr(lib, name)(x, 1))

    same(run)


# ---------------------------------------------------------------------- gradients at ties
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [None, False, True])
@pytest.mark.parametrize("materialise", [False, True])
def test_sort_of_an_expanded_dimension_keeps_pytorchs_identity_order(
    descending, stable, materialise
):
    # PyTorch's sort kernel skips a dimension of stride 0 (its indices stay 0, 1, 2, ...);
    # the same values materialised go through std::sort, which reorders ties.
    def run(lib):
        x = lib.tensor([[3.0], [1.0]], requires_grad=True).expand(2, 40)
        source = x.contiguous() if materialise else x
        keywords = {} if stable is None else {"stable": stable}
        result = lib.sort(source, descending=descending, **keywords)
        upstream = lib.arange(80.0).reshape(2, 40)
        (grad,) = lib.autograd.grad(result.values, x, grad_outputs=upstream)
        return result, grad

    same(run)
    same(lambda lib: lib.sort(lib.tensor(2.0).expand(3, 40), 0))
    # topk and kthvalue have no such shortcut
    same(lambda lib: lib.topk(lib.tensor(2.0).expand(40), 5))
    same(lambda lib: lib.kthvalue(lib.tensor(2.0).expand(40), 5))


GRADIENT_CASES = {
    "sort": lambda lib, x: lib.sort(x, 1).values,
    "sort descending": lambda lib, x: lib.sort(x, 0, descending=True)[0],
    "sort stable": lambda lib, x: lib.sort(x, stable=True, dim=1).values,
    "topk": lambda lib, x: lib.topk(x, 3).values,
    "topk unsorted": lambda lib, x: lib.topk(x, 4, largest=False, sorted=False).values,
    "kthvalue": lambda lib, x: lib.kthvalue(x, 3, 1).values,
    "median()": lambda lib, x: lib.median(x),
    "median(dim)": lambda lib, x: lib.median(x, 1, keepdim=True).values,
    "nanmedian()": lambda lib, x: lib.nanmedian(x),
    "nanmedian(dim)": lambda lib, x: lib.nanmedian(x, 0).values,
    "mode": lambda lib, x: lib.mode(x, 1).values,
    "msort": lambda lib, x: lib.msort(x),
}
GRADIENT_INPUTS = [_ties(9, (3, 20)), _ties(10, (4, 6), nan=0.25)]


@pytest.mark.parametrize("name", GRADIENT_CASES)
@pytest.mark.parametrize("values", GRADIENT_INPUTS, ids=["ties", "ties and NaN"])
def test_gradients_at_ties_are_pytorchs(name, values):
    function = GRADIENT_CASES[name]

    def run(lib):
        x = lib.tensor(values.astype(np.float64), requires_grad=True)
        out = function(lib, x)
        upstream = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
        (grad,) = lib.autograd.grad(out, x, grad_outputs=upstream, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), upstream)
        names = type(out.grad_fn).__name__ if lib is gradienti else out.grad_fn.name()
        return names, out, grad, second

    same(run)


INDEX_RETURNING = {
    "sort": lambda lib, x: lib.sort(x, 1),
    "topk": lambda lib, x: lib.topk(x, 2),
    "kthvalue": lambda lib, x: lib.kthvalue(x, 2),
    "median": lambda lib, x: lib.median(x, 1, keepdim=True),
    "mode": lambda lib, x: lib.mode(x, 0),
}


@pytest.mark.parametrize("name", INDEX_RETURNING)
def test_backward_fails_after_the_returned_indices_were_modified(name):
    # PyTorch saves the indices it returns: changed in place, they would send the gradient
    # elsewhere, so its backward refuses (ours read the changed indices silently before).
    def run(lib):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
        values, indices = INDEX_RETURNING[name](lib, x)
        indices.zero_()
        values.sum().backward()
        return x.grad

    same(run)


# ---------------------------------------------------------------------- errors
ERRORS = {
    "sort dim": lambda lib: lib.sort(lib.tensor([1.0, 2.0]), dim=1),
    "sort 0-d dim": lambda lib: lib.sort(lib.tensor(1.0), 2),
    "argsort dim": lambda lib: lib.argsort(lib.zeros(2, 3), -3),
    "topk k too big": lambda lib: lib.topk(lib.tensor([1.0, 2.0]), 3),
    "topk k negative": lambda lib: lib.topk(lib.tensor([1.0, 2.0]), -1),
    "topk 0-d k": lambda lib: lib.topk(lib.tensor(1.0), 2),
    "topk dim": lambda lib: lib.topk(lib.zeros(2, 3), 1, dim=2),
    "kthvalue k too big": lambda lib: lib.kthvalue(lib.tensor([1.0, 2.0]), 3),
    "kthvalue k zero": lambda lib: lib.kthvalue(lib.zeros(2, 3), 0, 0),
    "kthvalue 0-d k": lambda lib: lib.kthvalue(lib.tensor(1.0), 2),
    "kthvalue empty": lambda lib: lib.kthvalue(lib.zeros(0), 1),
    "kthvalue dim": lambda lib: lib.kthvalue(lib.zeros(2), 1, 1),
    "median empty dim": lambda lib: lib.median(lib.zeros(0, 2), 0),
    "median dim": lambda lib: lib.median(lib.tensor([1, 2]), 1),
    "nanmedian empty dim": lambda lib: lib.nanmedian(lib.zeros(2, 0), 1),
    "mode empty": lambda lib: lib.mode(lib.zeros(0)),
    "median empty dim -1": lambda lib: lib.median(lib.zeros(2, 0), -1),
    "kthvalue k too big dim -1": lambda lib: lib.kthvalue(lib.zeros(2, 3), 4, -1),
    "topk dim not int": lambda lib: lib.topk(lib.zeros(2, 3), 1, 1.5),
    "kthvalue k not int": lambda lib: lib.kthvalue(lib.zeros(2, 3), 1.0),
    "topk bool": lambda lib: lib.topk(lib.tensor([True, False]), 1),
    "topk bool k 0": lambda lib: lib.topk(lib.tensor([True, False]), 0),
    "topk bool 0-d": lambda lib: lib.topk(lib.tensor(True), 1),
    "topk bool k too big": lambda lib: lib.topk(lib.tensor([True]), 3),
    "kthvalue bool": lambda lib: lib.kthvalue(lib.tensor([True, False]), 1),
    "kthvalue bool no rows": lambda lib: lib.kthvalue(lib.ones(0, 2, dtype=lib.bool), 1, 1),
    "kthvalue bool empty dim": lambda lib: lib.kthvalue(lib.ones(0, 2, dtype=lib.bool), 1, 0),
    "median bool": lambda lib: lib.median(lib.tensor([True, False])),
    "median bool 0-d": lambda lib: lib.median(lib.tensor(True)),
    "median bool dim": lambda lib: lib.median(lib.tensor([True, False]), 0),
    "median bool 0-d dim": lambda lib: lib.median(lib.tensor(True), 0),
    "median bool bad dim": lambda lib: lib.median(lib.tensor([True]), 3),
    "nanmedian bool": lambda lib: lib.nanmedian(lib.tensor([True, False])),
    "nanmedian bool dim": lambda lib: lib.nanmedian(lib.tensor([[True, False]]), 1),
}


def test_bool_inputs_where_pytorch_has_a_kernel():
    same(lambda lib: lib.kthvalue(lib.tensor(True), 1))  # a 0-d input returns early
    same(lambda lib: lib.median(lib.ones(0, dtype=lib.bool)))  # NaN cast to bool
    same(lambda lib: lib.mode(lib.tensor([True, False, True])))
    same(lambda lib: lib.msort(lib.tensor([True, False, True])))


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_pytorchs(name):
    same(ERRORS[name])


# ---------------------------------------------------------------------- grad_fn._saved_<name>
SAVED_CASES = {
    "sort": lambda lib, x: lib.sort(x, -1, True).values,
    "sort stable": lambda lib, x: lib.sort(x, stable=True, dim=0).values,
    "topk": lambda lib, x: lib.topk(x, 2, dim=-1).values,
    "kthvalue": lambda lib, x: lib.kthvalue(x, 2, 0).values,
    "median()": lambda lib, x: lib.median(x),
    "median(dim)": lambda lib, x: lib.median(x, -1, keepdim=True).values,
    "nanmedian()": lambda lib, x: lib.nanmedian(x),
    "nanmedian(dim)": lambda lib, x: lib.nanmedian(x, 1).values,
    "mode": lambda lib, x: lib.mode(x, 0).values,
}


@pytest.mark.parametrize("name", SAVED_CASES)
def test_saved_attributes_are_pytorchs(name):
    def run(lib):
        values = np.random.default_rng(11).standard_normal((3, 4))
        node = SAVED_CASES[name](lib, lib.tensor(values, requires_grad=True)).grad_fn
        names = sorted(a for a in dir(node) if a.startswith("_saved_"))
        if lib is gradienti:
            names = sorted("_saved_" + n for n in type(node).saved_names.names())
        saved = {}
        for attribute in names:
            item = getattr(node, attribute)
            saved[attribute] = _describe(item) if hasattr(item, "shape") else item
        return saved

    same(run)


# ---------------------------------------------------------------------- under vmap, with ties
VMAPPED = {
    "sort": lambda lib, x: lib.sort(x, descending=True),
    "topk unsorted": lambda lib, x: lib.topk(x, 5, largest=False, sorted=False),
    "kthvalue": lambda lib, x: lib.kthvalue(x, 7, 0),
    "median": lambda lib, x: lib.median(x, -1),
    "nanmedian()": lambda lib, x: (lib.nanmedian(x),),
    "mode": lambda lib, x: lib.mode(x, 0),
}


@pytest.mark.parametrize("name", VMAPPED)
def test_vmap_picks_each_samples_indices_as_pytorch(name):
    values = _ties(13, (3, 20, 2), nan=0.1)

    def run(lib):
        vmap = lib.func.vmap
        return tuple(vmap(lambda x: tuple(VMAPPED[name](lib, x)))(lib.tensor(values)))

    same(run)
