"""``gradienti.func.vmap`` (and ``gradienti.vmap``) against ``torch.func.vmap``: in_dims and
out_dims as nested structures, kwargs, nesting, chunk_size, randomness (the same random values
as PyTorch's), the errors and their texts, values leaving vmap (``.item()``, ``bool()``...),
printing, per-sample gradients (``autograd.grad`` inside vmap), gradients and tangents through
vmap, the per-sample fallback and its warning. The op table runs under vmap in
tests/test_vmap_ops.py.
"""

from __future__ import annotations

import collections
import copy
import pickle
import warnings

import numpy as np
import pytest

import gradienti
from gradienti.batching import FALLBACK_WARNING, FALLBACKS, BatchedArray

RNG = np.random.default_rng(12)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(4,))
Z = RNG.normal(size=(4, 3, 2))


def _torch():
    return pytest.importorskip("torch")


def _vmap(lib):
    return gradienti.vmap if lib is gradienti else lib.func.vmap


def _tree(lib, value):
    """NumPy arrays anywhere in ``value`` as ``lib`` tensors (the same structure)."""
    if isinstance(value, np.ndarray):
        return lib.tensor(value)
    if isinstance(value, dict):
        return {key: _tree(lib, item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tree(lib, item) for item in value)
    return value


def _numpy(value):
    if isinstance(value, dict):
        return {key: _numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_numpy(item) for item in value)
    if hasattr(value, "detach"):
        value = value.detach()
        return (
            value.numpy(force=True) if type(value).__module__.startswith("torch") else value.numpy()
        )
    return value


def _assert_same(ours, theirs, what=""):
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), what
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{what}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), what
        for index, (mine, other) in enumerate(zip(ours, theirs)):
            _assert_same(mine, other, f"{what}[{index}]")
    else:
        assert ours.shape == theirs.shape, what
        assert ours.dtype == theirs.dtype, what
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


def _both(function, args, **options):
    """``vmap(function(lib, ...), **options)(*args)`` with gradienti and with torch."""
    torch = _torch()
    results = []
    for lib in (gradienti, torch):
        mapped = _vmap(lib)(lambda *a, lib=lib, **k: function(lib, *a, **k), **options)
        results.append(_numpy(mapped(*_tree(lib, args))))
    return results


# ---------------------------------------------------------------------- in_dims, out_dims, kwargs
STRUCTURE_CASES = {
    "in_dims=0": (lambda lib, x: x.sin(), (X,), {}),
    "in_dims=1": (lambda lib, x: x * 2, (X,), {"in_dims": 1}),
    "in_dims=-1": (lambda lib, x: x.sum(0), (Z,), {"in_dims": -1}),
    "(0, None)": (lambda lib, x, y: x * y, (X, Y), {"in_dims": (0, None)}),
    "(None, 0)": (lambda lib, y, x: x @ y, (Y, X), {"in_dims": (None, 0)}),
    "(1, 0)": (lambda lib, z, x: z * x[:, None], (Z, X), {"in_dims": (1, 0)}),
    "nested tuple": (
        lambda lib, pair, y: pair[0] + pair[1] * y,
        ((X, X.T.copy()), Y),
        {"in_dims": ((0, 1), None)},
    ),
    "list inside": (lambda lib, xs: xs[0] - xs[1], ([X, X * 3],), {"in_dims": ([0, 0],)}),
    "dict": (
        lambda lib, d: d["a"] * d["b"],
        ({"a": X, "b": Y},),
        {"in_dims": ({"a": 0, "b": None},)},
    ),
    "dict, one in_dim": (lambda lib, d: d["a"] + d["b"], ({"a": X, "b": X},), {}),
    "out_dims=1": (lambda lib, x: x[:, None] * x, (X,), {"out_dims": 1}),
    "out_dims=-1": (lambda lib, x: x[:, None] * x, (X,), {"out_dims": -1}),
    "out_dims tuple": (lambda lib, x: (x, x.sum()), (X,), {"out_dims": (1, 0)}),
    "out_dims dict": (
        lambda lib, x: {"s": x.sum(), "x": x * 2},
        (X,),
        {"out_dims": {"s": 0, "x": 1}},
    ),
    "out_dims None": (
        lambda lib, x, y: (x * y, y * 2),
        (X, Y),
        {"in_dims": (0, None), "out_dims": (0, None)},
    ),
    "unbatched output expanded": (lambda lib, x, y: y * 2, (X, Y), {"in_dims": (0, None)}),
    "1-tuple out_dims for a tensor": (lambda lib, x: x.exp(), (X,), {"out_dims": (1,)}),
}


@pytest.mark.parametrize("name", list(STRUCTURE_CASES))
def test_in_dims_out_dims_structures_as_torch(name):
    function, args, options = STRUCTURE_CASES[name]
    ours, theirs = _both(function, args, **options)
    _assert_same(ours, theirs, name)


def test_kwargs_are_passed_through_unbatched():
    torch = _torch()
    results = [
        _numpy(
            _vmap(lib)(lambda x, *, scale, shift: x * scale + shift)(
                lib.tensor(X), scale=lib.tensor(Y), shift=2.0
            )
        )
        for lib in (gradienti, torch)
    ]
    _assert_same(*results)


def test_vmap_is_exported_at_both_paths():
    assert gradienti.vmap is gradienti.func.vmap
    mapped = gradienti.vmap(lambda x: x)
    assert mapped.__name__ == "<lambda>"


# ---------------------------------------------------------------------- nesting and chunks
def test_nested_vmap_as_torch():
    torch = _torch()
    cases = [
        (lambda lib, z: _vmap(lib)(_vmap(lib)(lambda a: a.sum()))(z), (Z,)),
        (lambda lib, z: _vmap(lib)(_vmap(lib)(lambda a: a * 2, in_dims=1), in_dims=2)(z), (Z,)),
        # the inner function closes over the outer sample
        (lambda lib, x, y: _vmap(lib)(lambda a: _vmap(lib)(lambda b: a * b)(y))(x), (X, X[:2] * 2)),
        # both levels batch different arguments of one op
        (
            lambda lib, x, z: _vmap(lib)(
                lambda a, c: _vmap(lib)(lambda d: (d * a).sum(), in_dims=1)(c), in_dims=(1, 0)
            )(x, z),
            (X, Z),
        ),
    ]
    for function, args in cases:
        ours = _numpy(function(gradienti, *_tree(gradienti, args)))
        theirs = _numpy(function(torch, *_tree(torch, args)))
        _assert_same(ours, theirs)


def test_nested_vmap_prints_levels_as_torch():
    torch = _torch()
    printed = {}
    for lib in (gradienti, torch):
        seen = []
        _vmap(lib)(_vmap(lib)(lambda a, seen=seen: seen.append(repr(a)) or a))(
            lib.arange(6.0).reshape(2, 3)
        )
        printed[lib.__name__] = seen[0]
    assert printed["gradienti"] == printed["torch"]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 10])
def test_chunk_size_gives_the_same_result(chunk_size):
    options = {"in_dims": (1, None), "out_dims": (0, 1), "chunk_size": chunk_size}
    function = lambda lib, z, y: ((z * y[:, None]).sum(1), z.exp())  # noqa: E731
    ours, theirs = _both(function, (Z, Y), **options)
    _assert_same(ours, theirs)
    whole = _both(function, (Z, Y), in_dims=(1, None), out_dims=(0, 1))[0]
    _assert_same(ours, whole)


# ---------------------------------------------------------------------- randomness
RANDOM_OPS = {
    "rand": lambda lib, x: lib.rand(3) + x,
    "randn": lambda lib, x: lib.randn(20) + x.sum(),
    "randint": lambda lib, x: lib.randint(0, 10, (3,)) + x,
    "randperm": lambda lib, x: lib.randperm(5) + x.sum(),
    "dropout": lambda lib, x: lib.nn.functional.dropout(x + 1, 0.5),
    "uniform_": lambda lib, x: x.clone().uniform_(-1, 1),
    "normal_": lambda lib, x: x.clone().normal_(0.0, 2.0),
}


@pytest.mark.parametrize("chunk_size", [None, 2])
@pytest.mark.parametrize("randomness", ["same", "different"])
@pytest.mark.parametrize("name", list(RANDOM_OPS))
def test_random_ops_draw_as_torch(name, randomness, chunk_size):
    torch = _torch()
    batch = np.zeros((5, 3), dtype=np.float32)
    results = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        function = _vmap(lib)(
            lambda x, lib=lib: RANDOM_OPS[name](lib, x),
            randomness=randomness,
            chunk_size=chunk_size,
        )
        results.append(_numpy(function(lib.tensor(batch))))
    np.testing.assert_array_equal(results[0], results[1])
    if randomness == "same":
        assert all(np.array_equal(row, results[0][0]) for row in results[0])


@pytest.mark.parametrize("name", list(RANDOM_OPS))
def test_random_ops_refuse_in_error_mode(name):
    torch = _torch()
    messages = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as info:
            _vmap(lib)(lambda x, lib=lib: RANDOM_OPS[name](lib, x))(lib.zeros(2, 3))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_different_in_place_randomness_on_a_shared_tensor_is_refused():
    torch = _torch()
    messages = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as info:
            _vmap(lib)(lambda x, lib=lib: lib.zeros(3).uniform_() + x, randomness="different")(
                lib.zeros(2, 3)
            )
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    # "same" fills it once
    _assert_same(
        *_both(lambda lib, x: lib.zeros(3).uniform_() * 0 + x, (X[:, :3],), randomness="same")
    )


def test_dropout_in_eval_mode_is_not_random():
    _assert_same(*_both(lambda lib, x: lib.nn.functional.dropout(x, 0.5, training=False), (X,)))


# ---------------------------------------------------------------------- errors
def _error_cases(lib):
    vmap = _vmap(lib)
    x, y = lib.tensor(X), lib.tensor(Y)
    return {
        "0-d input": lambda: vmap(lambda a: a)(lib.tensor(1.0)),
        "in_dims too short": lambda: vmap(lambda a, b: a + b, in_dims=(0,))(x, y),
        "nothing batched": lambda: vmap(lambda a, b: a + b, in_dims=(None, None))(x, y),
        "sizes differ": lambda: vmap(lambda a, b: a + b, in_dims=(0, 0))(x, y),
        "in_dim out of range": lambda: vmap(lambda a, b: a + b, in_dims=(2, None))(x, y),
        "negative in_dim out of range": lambda: vmap(lambda a: a, in_dims=-3)(x),
        "float in_dims": lambda: vmap(lambda a: a, in_dims=1.5)(x),
        "list in_dims": lambda: vmap(lambda a, b: a, in_dims=[0, None])(x, y),
        "str in_dims": lambda: vmap(lambda a: a, in_dims="a")(x),
        "in_dim for a number": lambda: vmap(lambda a: a)(3.0),
        "in_dim not int": lambda: vmap(lambda a: a, in_dims=(1.5,))(x),
        "list sizes differ": lambda: vmap(lambda a: a, in_dims=([0, 1],))([x, x]),
        "dict keys differ": lambda: vmap(lambda a: a, in_dims=({"a": 0},))({"b": x}),
        "a number returned": lambda: vmap(lambda a: 3.0)(x),
        "a number in the outputs": lambda: vmap(lambda a: (a, 3))(x),
        "out_dim out of range": lambda: vmap(lambda a: a, out_dims=2)(x),
        "out_dims too long": lambda: vmap(lambda a: a, out_dims=(0, 1))(x),
        "out_dims structure": lambda: vmap(lambda a: (a, a), out_dims=(0, 1, 2))(x),
        "out_dims not int": lambda: vmap(lambda a: a, out_dims="a")(x),
        "batched output, out_dim None": lambda: vmap(lambda a: a, out_dims=None)(x),
        "bad randomness": lambda: vmap(lambda a: a, randomness="foo")(x),
        "chunk_size 0": lambda: vmap(lambda a: a, chunk_size=0)(x),
        "no inputs": lambda: vmap(lambda: 1)(),
        "kwargs only": lambda: vmap(lambda a, b: a + b, in_dims=(0, None))(x, b=y),
        ".item()": lambda: vmap(lambda a: a.item())(x),
        "float()": lambda: vmap(lambda a: float(a.sum()))(x),
        "int()": lambda: vmap(lambda a: int(a.sum()))(x),
        "if on a tensor": lambda: vmap(lambda a: a if a.sum() > 0 else -a)(x),
        "bool() of many": lambda: vmap(lambda a: bool(a > 0))(x),
        ".tolist()": lambda: vmap(lambda a: a.tolist())(x),
        ".numpy()": lambda: vmap(lambda a: a.numpy())(x),
        "backward()": lambda: vmap(
            lambda a: (a * lib.ones(4, requires_grad=True)).sum().backward()
        )(x),
        "in-place into a shared tensor": lambda: vmap(lambda a: lib.zeros(4).mul_(a))(x),
        "boolean mask": lambda: vmap(lambda a: a[a > 0])(x),
        "deepcopy": lambda: vmap(lambda a: copy.deepcopy(a))(x),
        "copy.copy": lambda: vmap(lambda a: copy.copy(a))(x),
        "pickle": lambda: vmap(lambda a: pickle.dumps(a))(x),
    }


@pytest.mark.parametrize("name", list(_error_cases(gradienti)))
def test_errors_as_torch(name):
    torch = _torch()
    raised = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the class is compared below
            _error_cases(lib)[name]()
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


def test_a_batched_value_never_leaves_as_one_sample():
    x = gradienti.tensor(X)
    with pytest.raises(RuntimeError, match="storage"):
        gradienti.vmap(lambda a: np.asarray(a))(x)
    with pytest.raises(RuntimeError, match="storage"):
        gradienti.vmap(lambda a: np.asarray(a._data))(x)
    leaked = []
    gradienti.vmap(lambda a: leaked.append(a) or a)(x)
    assert type(leaked[0]._data) is BatchedArray  # (printing it still works after vmap)
    assert "BatchedTensor(lvl=" in repr(leaked[0])


def test_printing_inside_vmap_as_torch():
    torch = _torch()
    printed = []
    for lib in (gradienti, torch):
        seen = []
        _vmap(lib)(lambda a, seen=seen: seen.append((repr(a), repr(a.sum()))) or a)(
            lib.arange(6.0).reshape(2, 3)
        )
        printed.append(seen[0][0])
    assert printed[0] == printed[1]


# ---------------------------------------------------------------------- gradients
class MLP:
    """A 5-8-3 tanh MLP's parameters and cross-entropy loss, written once for both libraries."""

    rng = np.random.default_rng(3)
    params = {
        "w1": rng.normal(size=(8, 5)) * 0.5,
        "b1": rng.normal(size=(8,)) * 0.1,
        "w2": rng.normal(size=(3, 8)) * 0.5,
        "b2": rng.normal(size=(3,)) * 0.1,
    }
    inputs = rng.normal(size=(6, 5))
    targets = rng.integers(0, 3, size=(6,))

    @staticmethod
    def loss(lib, params, x, t):
        hidden = lib.tanh(lib.nn.functional.linear(x, params["w1"], params["b1"]))
        logits = lib.nn.functional.linear(hidden, params["w2"], params["b2"])
        return lib.nn.functional.cross_entropy(logits[None], t[None])


def test_per_sample_gradients_of_an_mlp_with_autograd_grad_inside_vmap():
    torch = _torch()
    names = list(MLP.params)

    def per_sample(x, t):
        leaves = {name: gradienti.tensor(MLP.params[name], requires_grad=True) for name in names}
        loss = MLP.loss(gradienti, leaves, x, t)
        return dict(zip(names, gradienti.autograd.grad(loss, [leaves[n] for n in names])))

    before = sum(FALLBACKS.values())
    ours = gradienti.vmap(per_sample)(gradienti.tensor(MLP.inputs), gradienti.tensor(MLP.targets))
    assert sum(FALLBACKS.values()) == before, "a batching rule is missing on this path"
    params = {name: torch.tensor(value) for name, value in MLP.params.items()}
    theirs = torch.func.vmap(
        torch.func.grad(lambda p, x, t: MLP.loss(torch, p, x, t)), in_dims=(None, 0, 0)
    )(params, torch.tensor(MLP.inputs), torch.tensor(MLP.targets))
    _assert_same(_numpy(ours), _numpy(theirs))
    # and one by one: the same numbers as a loop of ordinary backward passes
    for index in range(len(MLP.inputs)):
        leaves = {n: gradienti.tensor(MLP.params[n], requires_grad=True) for n in names}
        loss = MLP.loss(
            gradienti,
            leaves,
            gradienti.tensor(MLP.inputs[index]),
            gradienti.tensor(MLP.targets[index]),
        )
        loss.backward()
        for name in names:
            np.testing.assert_allclose(
                ours[name][index].numpy(), leaves[name].grad.numpy(), rtol=1e-12
            )


def _through(lib, create_graph):
    """Gradients of a loss of ``vmap(f)(x)`` where f closes over ``w`` (shared by the samples)."""
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(Y, requires_grad=True)
    out = _vmap(lib)(lambda a: (a * w).tanh().sum() * a, out_dims=1)(x)
    loss = (out * lib.tensor(X.T)).sum()
    grads = lib.autograd.grad(loss, (x, w), create_graph=create_graph)
    if not create_graph:
        return [_numpy(g) for g in grads]
    second = lib.autograd.grad((grads[0] ** 2).sum() + grads[1].sum(), (x, w))
    return [_numpy(g) for g in grads + second]


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_through_vmap_as_torch(create_graph):
    torch = _torch()
    _assert_same(_through(gradienti, create_graph), _through(torch, create_graph))


def test_backward_after_vmap_sums_the_samples_gradients_of_a_shared_tensor():
    torch = _torch()
    grads = []
    for lib in (gradienti, torch):
        w = lib.tensor(Y, requires_grad=True)
        _vmap(lib)(lambda a, w=w: (a * w).exp())(lib.tensor(X)).sum().backward()
        grads.append(_numpy(w.grad))
    _assert_same(*grads)
    out = gradienti.vmap(lambda a: a * gradienti.tensor(Y, requires_grad=True))(gradienti.tensor(X))
    assert type(out.grad_fn).__name__ == "RemoveBatchDimBackward0"


def test_forward_mode_through_vmap_as_torch():
    torch = _torch()
    tangents = []
    for lib in (gradienti, torch):
        with lib.autograd.forward_ad.dual_level():
            x = lib.autograd.forward_ad.make_dual(lib.tensor(X), lib.tensor(X * 0 + 1))
            out = _vmap(lib)(lambda a, lib=lib: (a * lib.tensor(Y)).sin().sum())(x)
            tangents.append(_numpy(lib.autograd.forward_ad.unpack_dual(out).tangent))
    _assert_same(*tangents)


# ---------------------------------------------------------------------- the per-sample fallback
def test_an_op_without_a_batching_rule_runs_per_sample_with_pytorchs_warning():
    torch = _torch()
    rng = np.random.default_rng(4)
    indices = rng.integers(0, 6, size=(3, 5))
    weight = rng.normal(size=(6, 2))
    before = FALLBACKS["numpy.bincount"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = gradienti.vmap(
            lambda i, w: gradienti.nn.functional.embedding(i, w, scale_grad_by_freq=True),
            in_dims=(0, None),
        )(gradienti.tensor(indices), gradienti.tensor(weight))
    assert FALLBACKS["numpy.bincount"] == before + 1
    assert [str(w.message) for w in caught] == [FALLBACK_WARNING.format(op="numpy.bincount")]
    theirs = torch.func.vmap(
        lambda i, w: torch.nn.functional.embedding(i, w, scale_grad_by_freq=True),
        in_dims=(0, None),
    )(torch.tensor(indices), torch.tensor(weight))
    _assert_same(_numpy(ours), _numpy(theirs))


def test_the_fallback_loops_over_the_samples_of_the_right_level():
    inner = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    nested = BatchedArray(BatchedArray(inner, 1), 2)  # level 1: 2 samples, level 2: 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = np.polyval(nested, 2.0)  # (no rule: one call per sample)
    expected = np.stack(
        [np.stack([np.polyval(inner[i, j], 2.0) for j in range(3)]) for i in range(2)]
    )
    assert type(result) is BatchedArray and result.level == 2
    np.testing.assert_array_equal(result.physical.physical, expected)


def test_a_result_of_a_different_shape_per_sample_is_refused():
    torch = _torch()
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(torch.unique)(torch.tensor([[1, 1], [0, 2]]))
    with pytest.raises(RuntimeError) as ours:
        np.unique(BatchedArray(np.array([[1, 1], [0, 2]]), 1))
    assert str(ours.value) == str(theirs.value)


def test_namedtuple_outputs_keep_their_type():
    Pair = collections.namedtuple("Pair", "low high")
    out = gradienti.vmap(lambda a: Pair(a.min(), a.max()))(gradienti.tensor(X))
    assert type(out) is Pair
    np.testing.assert_array_equal(out.high.numpy(), X.max(1))


# ---------------------------------------------------------------------- per-sample indices
RNG_INDEX = np.random.default_rng(21)
LOGITS = RNG_INDEX.normal(size=(4, 5, 3))
TARGETS = RNG_INDEX.integers(0, 3, size=(4, 5))
VALUES = RNG_INDEX.normal(size=(4, 6))
INDICES = RNG_INDEX.integers(0, 6, size=(4, 5))
ROWS = RNG_INDEX.normal(size=(6, 3))

# Per-sample index tensors (targets, positions): the ops' index checks see every sample, and
# indexing reads each sample's own positions (indexing.py's index arrays).
INDEX_CASES = {
    "cross_entropy": (lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (LOGITS, TARGETS)),
    "cross_entropy ignore_index": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, ignore_index=1),
        (LOGITS, TARGETS),
    ),
    "nll_loss none": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t, reduction="none"),
        (LOGITS, TARGETS),
    ),
    "x[i]": (lambda lib, x, i: x[i], (VALUES, INDICES)),
    "x[i[0]]": (lambda lib, x, i: x[i[0]], (VALUES, INDICES)),
    "gather": (lambda lib, x, i: x.gather(0, i), (VALUES, INDICES)),
    "index_select": (lambda lib, x, i: x.index_select(0, i), (VALUES, INDICES)),
    "take_along_dim": (lambda lib, x, i: lib.take_along_dim(x, i, 0), (VALUES, INDICES)),
    "scatter_add": (
        lambda lib, x, i: lib.zeros(6, dtype=lib.float64).scatter_add(0, i, x[:5]),
        (VALUES, INDICES),
    ),
    "index_add": (
        lambda lib, x, i: lib.zeros(6, dtype=lib.float64).index_add(0, i, x[:5]),
        (VALUES, INDICES),
    ),
    "embedding, shared rows": (
        lambda lib, i, w: lib.nn.functional.embedding(i, w) * 1.0,
        (INDICES, ROWS),
    ),
}


@pytest.mark.parametrize("name", list(INDEX_CASES))
def test_per_sample_indices_as_torch(name):
    torch = _torch()
    function, arrays = INDEX_CASES[name]
    in_dims = (0, None) if name.startswith("embedding") else 0
    values, gradients = [], []
    for lib in (gradienti, torch):
        tensors = [lib.tensor(a) for a in arrays]
        float_input = 1 if name.startswith("embedding") else 0
        tensors[float_input].requires_grad_()
        out = _vmap(lib)(lambda *a, lib=lib: function(lib, *a), in_dims=in_dims)(*tensors)
        (
            out * lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
        ).sum().backward()
        values.append(_numpy(out))
        gradients.append(_numpy(tensors[float_input].grad))
    _assert_same(values[0], values[1], "values")
    _assert_same(gradients[0], gradients[1], "gradients")


def test_an_index_out_of_range_in_any_sample_raises_the_ops_error():
    """PyTorch's vmap raises too, with its gather's text (its batching rule for nll_loss is a
    gather); gradienti raises the op's own, as without vmap."""
    torch = _torch()
    targets = TARGETS.copy()
    targets[2, 1] = 7
    with pytest.raises(RuntimeError, match="index 7 is out of bounds"):
        torch.func.vmap(torch.nn.functional.cross_entropy)(
            torch.tensor(LOGITS), torch.tensor(targets)
        )
    with pytest.raises(IndexError, match="^Target 7 is out of bounds.\n\ngradienti: "):
        gradienti.vmap(gradienti.nn.functional.cross_entropy)(
            gradienti.tensor(LOGITS), gradienti.tensor(targets)
        )


@pytest.mark.parametrize("inner", ["same", "different"])
def test_nested_randomness_as_torch(inner):
    torch = _torch()
    draws = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        vmap = _vmap(lib)
        nested = vmap(
            lambda x, lib=lib, vmap=vmap: vmap(lambda y: lib.rand(2) + y, randomness=inner)(x),
            randomness="different",
        )
        draws.append(_numpy(nested(lib.zeros(3, 4, 2))))
    np.testing.assert_array_equal(draws[0], draws[1])
