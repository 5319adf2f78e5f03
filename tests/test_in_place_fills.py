"""The in-place fills against PyTorch: masked_fill_, index_fill_, tril_, triu_ (values, the
nodes they record, version counters, gradients) and index_fill (its errors)."""

import numpy as np
import pytest
from same_outcome import outcome
from shape_outcomes import _t, same

torch = pytest.importorskip("torch")


def _in_place_on_a_graph(lib, op):
    """``op`` on a non-leaf: whether it returned the tensor itself, its node, the values, and
    the gradient reaching the leaf through it."""
    x = lib.tensor(np.arange(12.0).reshape(3, 4) - 5, requires_grad=True)
    y = x * 2
    result = op(y)
    upstream = lib.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)))
    (gradient,) = lib.autograd.grad(result, x, upstream)
    return result is y, result.grad_fn.name(), result, gradient


def _modified_after_saving(lib):
    x = lib.ones(2, 2, requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y.tril_()
    return lib.autograd.grad(z.sum(), x)


IN_PLACE_OUTCOMES = {
    "masked_fill_": lambda lib: _in_place_on_a_graph(lib, lambda y: y.masked_fill_(y > 0, 7.0)),
    "masked_fill_ tensor value": lambda lib: _in_place_on_a_graph(
        lib, lambda y: y.masked_fill_(y > 0, lib.tensor(7.0))
    ),
    "masked_fill_ broadcast mask": lambda lib: _in_place_on_a_graph(
        lib, lambda y: y.masked_fill_(lib.tensor([True, False, True, False]), -1.0)
    ),
    "masked_fill_ mask too big": lambda lib: lib.ones(4).masked_fill_(
        lib.ones(3, 4, dtype=lib.bool), 0.0
    ),
    "masked_fill_ int mask": lambda lib: lib.ones(4).masked_fill_(
        lib.ones(4, dtype=lib.int64), 0.0
    ),
    "masked_fill_ leaf": lambda lib: lib.ones(4, requires_grad=True).masked_fill_(
        lib.ones(4, dtype=lib.bool), 0.0
    ),
    "masked_fill_ integers": lambda lib: lib.arange(4).masked_fill_(lib.arange(4) > 1, 9),
    "tril_": lambda lib: _in_place_on_a_graph(lib, lambda y: y.tril_()),
    "triu_(1)": lambda lib: _in_place_on_a_graph(lib, lambda y: y.triu_(1)),
    "tril_(diagonal=-1)": lambda lib: _in_place_on_a_graph(lib, lambda y: y.tril_(diagonal=-1)),
    "tril_ 1-d": lambda lib: lib.ones(3).tril_(),
    "triu_ leaf": lambda lib: lib.ones(3, 3, requires_grad=True).triu_(),
    "tril_ after saving": _modified_after_saving,
}


@pytest.mark.parametrize("name", IN_PLACE_OUTCOMES)
def test_in_place_fills_are_pytorchs(name):
    same(IN_PLACE_OUTCOMES[name])


M = np.arange(6.0).reshape(2, 3)
INDEX_FILL_OUTCOMES = {
    "int32 index": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [0, 2], "int32"), 1.0),
    "2-d index": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [[0]]), 1.0),
    "1-d value": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [0]), _t(lib, [1.0, 2.0])),
    "index out of range": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [5]), 1.0),
    "negative index": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [-1]), 1.0),
    "negative index out of range": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [-4]), 1.0),
    "dim range": lambda lib: lib.tensor(M).index_fill(2, _t(lib, [0]), 1.0),
    "0-d index": lambda lib: lib.tensor(M).index_fill(1, _t(lib, 1), 1.0),
    "repeated index, tensor value": lambda lib: lib.index_fill(
        lib.tensor(M), 0, _t(lib, [1, 1]), _t(lib, 3.0)
    ),
    "integer input": lambda lib: lib.arange(3).index_fill(0, _t(lib, [0, 2]), 1.5),
    "bool value": lambda lib: lib.tensor(M).index_fill(1, _t(lib, [0, 2]), True),
    "0-d input": lambda lib: _t(lib, 2.0).index_fill(0, _t(lib, [0]), 5.0),
    "float64 value into float32": lambda lib: lib.tensor(M, dtype=lib.float32).index_fill(
        1, _t(lib, [0]), _t(lib, 2.5, "float64")
    ),
    "index_fill_": lambda lib: lib.tensor(M).index_fill_(0, _t(lib, [1]), -1.0),
    "index_fill_ leaf": lambda lib: lib.tensor(M, requires_grad=True).index_fill_(
        0, _t(lib, [1]), -1.0
    ),
    "index_fill_ on a graph": lambda lib: _in_place_on_a_graph(
        lib, lambda y: y.index_fill_(1, _t(lib, [0, 3, 0]), 2.0)
    ),
}


@pytest.mark.parametrize("name", INDEX_FILL_OUTCOMES)
def test_index_fill_outcomes_are_pytorchs(name):
    same(INDEX_FILL_OUTCOMES[name])


def test_index_fill_with_a_list_index_raises_pytorchs_type_error_opening():
    """(PyTorch goes on with which arguments did not match each signature.)"""
    ours, theirs = outcome(lambda lib: lib.tensor(M).index_fill(1, [0], 1.0))
    opening = (
        "index_fill() received an invalid combination of arguments - got (int, list, float), "
        "but expected one of:\n * (int dim, Tensor index, Tensor value)\n"
    )
    assert ours[0] == theirs[0] == "TypeError"
    assert ours[1].startswith(opening) and theirs[1].startswith(opening)
