"""Indexing against PyTorch: ``x[index]`` and ``x[index] = value`` for many index expressions
(values, gradients with a non-uniform upstream gradient, the gradient of the VJP itself, the
grad_fn graph), PyTorch's errors and warnings, and that no input is ever written."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

SHAPE = (4, 5, 6)
BASE = np.random.default_rng(0).uniform(-2.0, 2.0, SHAPE)


def _np(t):
    return t.detach().numpy().copy()


def _name(node, ours: bool) -> str:
    return type(node).__name__ if ours else node.name().split("::")[-1]


def _graph(node, ours: bool):
    if node is None:
        return None
    return (_name(node, ours), [_graph(child, ours) for child, _ in node.next_functions])


# Each index is written once as a function of the library (tensor indices need it).
INDEXES = {
    "0": lambda lib: 0,
    "-1": lambda lib: -1,
    "1:3": lambda lib: slice(1, 3),
    ":": lambda lib: slice(None),
    "::2": lambda lib: slice(None, None, 2),
    "-3:-1": lambda lib: slice(-3, -1),
    "0:10": lambda lib: slice(0, 10),
    "-10:2": lambda lib: slice(-10, 2),
    "5:2 (empty)": lambda lib: slice(5, 2),
    "...": lambda lib: Ellipsis,
    "None": lambda lib: None,
    "()": lambda lib: (),
    "(0,)": lambda lib: (0,),
    "0, 1": lambda lib: (0, 1),
    "0, 1, 2": lambda lib: (0, 1, 2),
    "-1, -2, -3": lambda lib: (-1, -2, -3),
    "0, 1:3": lambda lib: (0, slice(1, 3)),
    ":, 1": lambda lib: (slice(None), 1),
    ":, :": lambda lib: (slice(None), slice(None)),
    ":, 0:5": lambda lib: (slice(None), slice(0, 5)),
    ":, 0:100": lambda lib: (slice(None), slice(0, 100)),
    ":, -5:": lambda lib: (slice(None), slice(-5, None)),
    "::2, ::3": lambda lib: (slice(None, None, 2), slice(None, None, 3)),
    "..., 1": lambda lib: (Ellipsis, 1),
    "0, ...": lambda lib: (0, Ellipsis),
    "..., :": lambda lib: (Ellipsis, slice(None)),
    "..., 0, ...": lambda lib: (Ellipsis, 0, Ellipsis),
    ":, :, 1:2": lambda lib: (slice(None), slice(None), slice(1, 2)),
    "None, 0": lambda lib: (None, 0),
    "..., None": lambda lib: (Ellipsis, None),
    ":, None, 2": lambda lib: (slice(None), None, 2),
    "1, None, 1:3, None": lambda lib: (1, None, slice(1, 3), None),
    "[0, 2]": lambda lib: [0, 2],
    "[0, 0, 2] (repeated)": lambda lib: [0, 0, 2],
    "[-1, 0, -1]": lambda lib: [-1, 0, -1],
    "[]": lambda lib: [],
    "range(2)": lambda lib: range(2),
    ":, [0, 2]": lambda lib: (slice(None), [0, 2]),
    ":, [4, 4, 4]": lambda lib: (slice(None), [4, 4, 4]),
    "1:, [0, 2]": lambda lib: (slice(1, None), [0, 2]),
    "0, [0, 2]": lambda lib: (0, [0, 2]),
    "[0, 1], [1, 2]": lambda lib: ([0, 1], [1, 2]),
    "[0, 1], :, [1, 2]": lambda lib: ([0, 1], slice(None), [1, 2]),
    "[0, 1], ..., [1, 2]": lambda lib: ([0, 1], Ellipsis, [1, 2]),
    "..., [1, 2]": lambda lib: (Ellipsis, [1, 2]),
    "[0, 1], [[0], [1]]": lambda lib: ([0, 1], [[0], [1]]),
    ":, [0, 1], None": lambda lib: (slice(None), [0, 1], None),
    "[0, 1], None": lambda lib: ([0, 1], None),
    "None, [0, 1]": lambda lib: (None, [0, 1]),
    "[0, 1], None, [1, 2]": lambda lib: ([0, 1], None, [1, 2]),
    "0, :, [1, 2]": lambda lib: (0, slice(None), [1, 2]),
    "[0, 1], :, 0": lambda lib: ([0, 1], slice(None), 0),
    "tensor(1)": lambda lib: lib.tensor(1),
    "tensor([1])": lambda lib: lib.tensor([1]),
    "tensor([[0, 1], [3, 3]])": lambda lib: lib.tensor([[0, 1], [3, 3]]),
    "tensor int32": lambda lib: lib.tensor([2, 0], dtype=lib.int32),
    "tensor(0), tensor(1), tensor(2)": lambda lib: (lib.tensor(0), lib.tensor(1), lib.tensor(2)),
    "np.array([0, 3])": lambda lib: np.array([0, 3]),
    "np.int64(2)": lambda lib: np.int64(2),
    "x > 0 (mask)": lambda lib: lib.tensor(BASE > 0),
    "mask dim 0": lambda lib: lib.tensor([True, False, True, False]),
    "[True, False, True, False]": lambda lib: [True, False, True, False],
    ":, mask": lambda lib: (slice(None), lib.tensor([True, False, True, False, True])),
    "mask (4, 5)": lambda lib: lib.tensor(BASE[:, :, 0] > 0),
    "0, mask (5, 6)": lambda lib: (0, lib.tensor(BASE[0] > 0)),
    "mask, [1, 2, 3]...": lambda lib: (lib.tensor([True, False, True, True]), slice(None), 0),
    "True": lambda lib: True,
    "False": lambda lib: False,
    "True, [0, 1]": lambda lib: (True, [0, 1]),
    "tensor(True), 0": lambda lib: (lib.tensor(True), 0),
    "tensor(False)": lambda lib: lib.tensor(False),
}


def _index_run(lib, name):
    """x[index] for x = BASE as ``lib``: the result, dL/dx for a non-uniform upstream v, and
    d<dL/dx, w>/dv, the gradient of the VJP itself (create_graph)."""
    x = lib.tensor(BASE, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x[INDEXES[name](lib)]
    rng = np.random.default_rng(1)
    v = lib.tensor(rng.uniform(0.5, 1.5, tuple(y.shape)), requires_grad=True)
    w = lib.tensor(rng.uniform(0.5, 1.5, SHAPE))
    (g,) = lib.autograd.grad(y, x, v, create_graph=True)
    (dv,) = lib.autograd.grad((g * w).sum(), v)
    return y, _np(g), _np(dv)


@pytest.mark.parametrize("name", list(INDEXES))
def test_getitem_against_torch(name):
    ours, our_grad, our_dv = _index_run(gradienti, name)
    theirs, their_grad, their_dv = _index_run(torch, name)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-12)
    np.testing.assert_allclose(our_dv, their_dv, rtol=1e-12)
    assert _graph(ours.grad_fn, True) == _graph(theirs.grad_fn, False)


def test_repeated_indices_accumulate_the_gradient():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_getitem_of_an_integer_tensor_and_without_grad():
    t = gradienti.arange(12).reshape(3, 4)
    assert t[1, [0, 3]].tolist() == [4, 7]
    assert t[t > 9].tolist() == [10, 11]
    assert t[0].grad_fn is None and t[0].dtype == gradienti.int64
    with gradienti.no_grad():
        y = gradienti.ones(3, requires_grad=True)[[0, 1]]
    assert y.grad_fn is None and not y.requires_grad


def test_iteration_and_integer_index_on_0d_results():
    x = gradienti.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    assert x[1, 0].item() == 3.0 and x[1, 0].dim() == 0
    sum(r[1] for r in rows).backward()
    assert x.grad.tolist() == [[0.0, 1.0], [0.0, 1.0]]


# ---------------------------------------------------------------------------- errors
BAD_INDEXES = {
    "4": lambda lib: 4,
    "-5": lambda lib: -5,
    "0, 5": lambda lib: (0, 5),
    "None, 0, 7": lambda lib: (None, 0, 7),
    "..., 7": lambda lib: (Ellipsis, 7),
    "1:2, 10": lambda lib: (slice(1, 2), 10),
    "0, 0, 0, 0": lambda lib: (0, 0, 0, 0),
    "[0], [1], [2], [3]": lambda lib: ([0], [1], [2], [3]),
    "::-1": lambda lib: slice(None, None, -1),
    "::0": lambda lib: slice(None, None, 0),
    "1.0:2": lambda lib: slice(1.0, 2),
    "[0, 4]": lambda lib: [0, 4],
    "[-5]": lambda lib: [-5],
    ":, [5]": lambda lib: (slice(None), [5]),
    ":, :, [9]": lambda lib: (slice(None), slice(None), [9]),
    "[0, 1], [0, 7]": lambda lib: ([0, 1], [0, 7]),
    "[0, 1], [0, 1, 2]": lambda lib: ([0, 1], [0, 1, 2]),
    "tensor(5)": lambda lib: lib.tensor(5),
    "1.5": lambda lib: 1.5,
    "{}": lambda lib: {},
    "np.bool_": lambda lib: np.bool_(True),
    "'a'": lambda lib: "a",
    "tensor([1.5])": lambda lib: lib.tensor([1.5]),
    "mask [2]": lambda lib: lib.tensor([True, False]),
    "mask (4, 3)": lambda lib: lib.ones(4, 3, dtype=lib.bool),
    ":, mask [3]": lambda lib: (slice(None), lib.tensor([True, False, True])),
    "mask (4, 5, 6, 1)": lambda lib: lib.ones(4, 5, 6, 1, dtype=lib.bool),
    "[True, False]": lambda lib: [True, False],
    "mask (4, 5), [9]": lambda lib: (lib.ones(4, 5, dtype=lib.bool), [9]),
}


def _error(lib, x, index):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            x[index]
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            return type(error), str(error).split("\n")[0]
    return None


@pytest.mark.parametrize("name", list(BAD_INDEXES))
def test_getitem_errors_match_torch(name):
    results = [
        _error(lib, lib.tensor(BASE, requires_grad=True), BAD_INDEXES[name](lib))
        for lib in (gradienti, torch)
    ]
    assert results[1] is not None
    assert results[0] == results[1]


@pytest.mark.parametrize("index", [0, slice(None), (Ellipsis, 0)], ids=["0", ":", "..., 0"])
def test_getitem_errors_on_0d_tensors_match_torch(index):
    results = [_error(lib, lib.tensor(1.5), index) for lib in (gradienti, torch)]
    assert results[1] is not None and results[0] == results[1]


@pytest.mark.parametrize("index", [Ellipsis, None, (), True], ids=["...", "None", "()", "True"])
def test_getitem_on_0d_tensors_matches_torch(index):
    ours = gradienti.tensor(1.5, requires_grad=True)[index]
    theirs = torch.tensor(1.5, requires_grad=True)[index]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert _graph(ours.grad_fn, True) == _graph(theirs.grad_fn, False)


def test_sequence_and_uint8_index_warnings_match_torch():
    for index, start in (
        ([[0, 1], [2, 3]], "Using a non-tuple sequence for multidimensional indexing"),
        ("uint8", "indexing with dtype torch.uint8 is now deprecated"),
    ):
        messages = []
        for lib in (gradienti, torch):
            key = lib.tensor([1, 0, 1, 0], dtype=lib.uint8) if index == "uint8" else index
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = lib.tensor(BASE)[key]
            messages.append(([str(w.message).split(" (Triggered")[0] for w in caught], result))
        assert messages[0][0] == messages[1][0]
        assert messages[0][0][0].startswith(start)
        np.testing.assert_array_equal(_np(messages[0][1]), _np(messages[1][1]))


# ---------------------------------------------------------------------------- x[index] = value
SETITEMS = {
    # name: (index, value: a number or the shape of a tensor requiring grad)
    "0 = v": (lambda lib: 0, (5, 6)),
    "0 = 2.5": (lambda lib: 0, 2.5),
    "1:3 = v broadcast": (lambda lib: slice(1, 3), (6,)),
    "1:3 = v with leading ones": (lambda lib: slice(1, 3), (1, 1, 5, 6)),
    ":, 1 = v (1, 6)": (lambda lib: (slice(None), 1), (1, 6)),
    "... = v": (lambda lib: Ellipsis, (5, 1)),
    "... = 0.5": (lambda lib: Ellipsis, 0.5),
    ": = v same shape": (lambda lib: slice(None), SHAPE),
    ": = 1.0": (lambda lib: slice(None), 1.0),
    "0, 1 = v": (lambda lib: (0, 1), (6,)),
    "0, 1, 2 = v 0-d": (lambda lib: (0, 1, 2), ()),
    "None = v": (lambda lib: None, (4, 5, 6)),
    "True = v": (lambda lib: True, (6,)),
    "..., ::2 = v": (lambda lib: (Ellipsis, slice(None, None, 2)), (3,)),
    "[0, 2] = v": (lambda lib: [0, 2], (2, 5, 6)),
    "[0, 2] = v broadcast": (lambda lib: [0, 2], (5, 1)),
    "[0, 2] = 3.0": (lambda lib: [0, 2], 3.0),
    "[0, 0] = v (repeated)": (lambda lib: [0, 0], (2, 5, 6)),
    ":, [1, 3] = v": (lambda lib: (slice(None), [1, 3]), (4, 2, 6)),
    "[0, 1], [1, 2] = v": (lambda lib: ([0, 1], [1, 2]), (6,)),
    "0, [1, 2] = v": (lambda lib: (0, [1, 2]), (2, 6)),
    "1:, [0, 2] = v": (lambda lib: (slice(1, None), [0, 2]), (6,)),
    "mask = 0.0": (lambda lib: lib.tensor(BASE > 0), 0.0),
    "mask = v 0-d": (lambda lib: lib.tensor(BASE > 0), ()),
    "mask dim 0 = v": (lambda lib: lib.tensor([True, False, True, False]), (5, 6)),
    "tensor([3, 1]) = v": (lambda lib: lib.tensor([3, 1]), (1, 5, 6)),
    "tensor(1) = v": (lambda lib: lib.tensor(1), (5, 6)),
}


def _setitem_run(lib, name):
    index, value = SETITEMS[name]
    x = lib.tensor(BASE, requires_grad=True)
    y = x * 1.5  # a non-leaf: writes are allowed
    inputs = [x]
    if isinstance(value, tuple):
        value_data = np.random.default_rng(2).uniform(-1.0, 1.0, value)
        value = lib.tensor(value_data, requires_grad=True)
        inputs.append(value)
    y[index(lib)] = value
    rng = np.random.default_rng(3)
    upstream = lib.tensor(rng.uniform(0.5, 1.5, SHAPE), requires_grad=True)
    grads = lib.autograd.grad(y, inputs, upstream, create_graph=True)
    # The VJP's own gradient: d(sum_i <dL/d input_i, w_i>)/d upstream.
    h = sum((g * lib.tensor(rng.uniform(0.5, 1.5, tuple(g.shape)))).sum() for g in grads)
    # (a fill's gradients do not depend on the upstream gradient: PyTorch records nothing)
    d_upstream = lib.zeros(SHAPE, dtype=lib.float64)
    if h.requires_grad:
        (d_upstream,) = lib.autograd.grad(h, upstream, allow_unused=True, materialize_grads=True)
    grads = [_np(g) for g in grads] + [_np(d_upstream)]
    return y, grads, _graph(y.grad_fn, lib is gradienti)


@pytest.mark.parametrize("name", list(SETITEMS))
def test_setitem_against_torch(name):
    ours, our_grads, our_graph = _setitem_run(gradienti, name)
    theirs, their_grads, their_graph = _setitem_run(torch, name)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12)
    assert len(our_grads) == len(their_grads)
    for g, t in zip(our_grads, their_grads):
        assert g.shape == t.shape
        np.testing.assert_allclose(g, t, rtol=1e-12)
    assert our_graph == their_graph
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]


def test_setitem_second_derivative_against_torch():
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = lib.tensor([0.5, -1.0], requires_grad=True)
        y = x * x
        y[[2, 0]] = v * v * v
        (gx, gv) = lib.autograd.grad((y * y).sum(), [x, v], create_graph=True)
        (hx, hv) = lib.autograd.grad((gx * gx).sum() + (gv * gv).sum(), [x, v])
        results.append([_np(t) for t in (gx, gv, hx, hv)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_setitem_returns_none_and_keeps_the_dtype():
    for lib in (gradienti, torch):
        a = lib.zeros(3, dtype=lib.int64)
        assert a.__setitem__(0, 2.7) is None
        a[[1]] = 5.9
        assert a.tolist() == [2, 5, 0] and a.dtype == lib.int64
        f = lib.zeros(3)
        f[1] = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
        assert f.dtype == lib.float32 and type(f.grad_fn).__name__ == "CopySlices"
        i = lib.zeros(2, dtype=lib.int64)
        i[0] = lib.tensor(2.5, requires_grad=True)
        assert i.tolist() == [2, 0] and i.grad_fn is None


def test_setitem_on_a_tensor_without_grad_records_the_value():
    results = []
    for lib in (gradienti, torch):
        a = lib.zeros(3)
        v = lib.tensor(2.0, requires_grad=True)
        a[1] = v
        (a * lib.tensor([1.0, 3.0, 5.0])).sum().backward()
        results.append((a.tolist(), v.grad.item(), _graph(a.grad_fn, lib is gradienti)))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "index",
    [0, slice(None), Ellipsis, [0, 1], (slice(None), [0, 1]), (0, [0, 1]), None, True],
    ids=["0", ":", "...", "[0, 1]", ":, [0, 1]", "0, [0, 1]", "None", "True"],
)
def test_setitem_on_a_leaf_that_requires_grad_raises_like_torch(index):
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            x[index] = 1.0
        messages.append(str(info.value))
        assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and x.is_leaf
    assert pytorch_text(messages[0]) == messages[1]
    assert "leaf Variable that requires grad is being used in an in-place" in messages[0]


def test_setitem_under_no_grad_writes_the_leaf_in_place():
    array = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    w = gradienti.from_numpy(array).requires_grad_()
    with gradienti.no_grad():
        w[0] = 5.0
        w[[1, 2]] = gradienti.tensor([7.0, 8.0])
    assert array.tolist() == [5.0, 7.0, 8.0]  # the same memory
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


SETITEM_ERRORS = {
    "[0, 1] = float64": (lambda lib: [0, 1], lambda lib: lib.ones((), dtype=lib.float64)),
    ":, [0] = float64": (
        lambda lib: (slice(None), [0]),
        lambda lib: lib.ones(1, dtype=lib.float64),
    ),
    "[0] = bool": (lambda lib: lib.tensor([0]), lambda lib: lib.tensor([True])),
    "[0, 1] = (3, 5)": (lambda lib: [0, 1], lambda lib: lib.ones(3, 5)),
    ":, [0, 1] = (5,)": (lambda lib: (slice(None), [0, 1]), lambda lib: lib.ones(5)),
    "0 = (2, 5)": (lambda lib: 0, lambda lib: lib.ones(2, 5)),
    "0 = (4,)": (lambda lib: 0, lambda lib: lib.ones(4)),
    "... = (4,)": (lambda lib: Ellipsis, lambda lib: lib.ones(4)),
    "... = (2, 3, 5)": (lambda lib: Ellipsis, lambda lib: lib.ones(2, 3, 5)),
    "5 = 1": (lambda lib: 5, lambda lib: 1.0),
    "[5] = 1": (lambda lib: [5], lambda lib: 1.0),
    "::-1 = 1": (lambda lib: slice(None, None, -1), lambda lib: 1.0),
}


@pytest.mark.parametrize("name", list(SETITEM_ERRORS))
def test_setitem_errors_match_torch(name):
    index, value = SETITEM_ERRORS[name]
    results = []
    for lib in (gradienti, torch):
        x = lib.zeros(3, 5)
        with pytest.raises(Exception) as info:
            x[index(lib)] = value(lib)
        results.append((info.type, str(info.value)))
        assert x.tolist() == [[0.0] * 5] * 3
    assert results[0] == results[1]


def test_setitem_repeated_index_convention_matches_torch():
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 1
        y[[0, 0]] = v
        y.backward(lib.tensor([1.0, 2.0, 3.0, 4.0]))
        results.append((y.tolist(), x.grad.tolist(), v.grad.tolist()))
    assert results[0] == results[1]


# ---------------------------------------------------------------------------- inputs untouched
def test_indexing_never_writes_its_inputs():
    base = np.arange(24.0).reshape(2, 3, 4)
    x = gradienti.tensor(base, requires_grad=True)
    value = gradienti.tensor(np.full((3, 4), 7.0), requires_grad=True)
    before = (x.detach().numpy().copy(), value.detach().numpy().copy())
    y = x * 1
    y_data = y._data
    y_before = y_data.copy()
    y[0] = value
    y[[1, 1], [0, 2]] = 3.0
    z = y[[1, 0, 1]] + y[0, 1:, [3, 3]].sum() + x[x > 3].sum() + x[None, ..., 1].sum()
    gradienti.autograd.grad(z.sum(), [x, value], create_graph=True)
    np.testing.assert_array_equal(x.detach().numpy(), before[0])
    np.testing.assert_array_equal(value.detach().numpy(), before[1])
    np.testing.assert_array_equal(y_data, y_before)  # the recorded write made a new array


def test_nodes_keep_their_own_copy_of_index_tensors():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = gradienti.tensor([0, 2])
    mask = gradienti.tensor([True, False, False])
    y = x[index].sum() + x.gather(0, index).sum() + x.masked_fill(mask, 0.0).sum()
    index[0] = 1  # written in place after the forward pass
    mask[1] = True
    y.backward()
    assert x.grad.tolist() == [2.0, 1.0, 3.0]
