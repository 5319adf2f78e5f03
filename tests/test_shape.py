"""Shape, join/split and index-tensor ops against PyTorch: error types and texts, warnings,
multi-output structure, dtypes, views, and that no op writes its inputs. (Values and
gradients of every op are in the op-case table, op_cases_shape.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy().copy()


def _t(lib, shape, dtype=None):
    size = int(np.prod(shape))
    data = np.arange(size, dtype=np.float32).reshape(shape) / 7 - 1
    return lib.tensor(data, dtype=dtype, requires_grad=dtype is None)


def _i(lib, values, dtype=None):
    return lib.tensor(values, dtype=dtype)


# Each: a function of the library that must raise as PyTorch raises.
ERRORS = {
    "reshape(4,5)": lambda lib: _t(lib, (2, 3, 4)).reshape(4, 5),
    "reshape(-1,-1)": lambda lib: _t(lib, (2, 3, 4)).reshape(-1, -1),
    "view(4,5) of 6": lambda lib: lib.zeros(6).view(4, 5),
    "view(-1,0)": lambda lib: _t(lib, (2, 3, 4)).view(-1, 0),
    "reshape(-2,12)": lambda lib: _t(lib, (2, 3, 4)).reshape(-2, 12),
    "reshape(()) of 24": lambda lib: _t(lib, (2, 3, 4)).reshape(()),
    "zeros(0,3).reshape(-1,0)": lambda lib: lib.zeros(0, 3).reshape(-1, 0),
    "t().view(12)": lambda lib: _t(lib, (3, 4)).t().view(12),
    "x[:, 1:3].view(-1)": lambda lib: _t(lib, (3, 4))[:, 1:3].view(-1),
    "expand(2,3,4).view(6,4)": lambda lib: _t(lib, (3, 4)).expand(2, 3, 4).view(6, 4),
    "flatten(2,1)": lambda lib: _t(lib, (2, 3, 4)).flatten(2, 1),
    "flatten(5)": lambda lib: _t(lib, (2, 3, 4)).flatten(5),
    "unflatten(1,(2,2))": lambda lib: _t(lib, (2, 3, 4)).unflatten(1, (2, 2)),
    "unflatten(1,())": lambda lib: _t(lib, (2, 3, 4)).unflatten(1, ()),
    "squeeze(3)": lambda lib: _t(lib, (2, 3, 4)).squeeze(3),
    "squeeze((0,5))": lambda lib: _t(lib, (2, 3, 4)).squeeze((0, 5)),
    "unsqueeze(4)": lambda lib: _t(lib, (2, 3, 4)).unsqueeze(4),
    "unsqueeze(-5)": lambda lib: _t(lib, (2, 3, 4)).unsqueeze(-5),
    "transpose(0,3)": lambda lib: _t(lib, (2, 3, 4)).transpose(0, 3),
    "t() 3-d": lambda lib: _t(lib, (2, 3, 4)).t(),
    "mT 1-d": lambda lib: _t(lib, (4,)).mT,
    "permute(0,1)": lambda lib: _t(lib, (2, 3, 4)).permute(0, 1),
    "permute(0,1,1)": lambda lib: _t(lib, (2, 3, 4)).permute(0, 1, 1),
    "permute(0,1,3)": lambda lib: _t(lib, (2, 3, 4)).permute(0, 1, 3),
    "movedim((0,0),(1,2))": lambda lib: _t(lib, (2, 3, 4)).movedim((0, 0), (1, 2)),
    "movedim((0,1),(1,))": lambda lib: _t(lib, (2, 3, 4)).movedim((0, 1), (1,)),
    "movedim(0,(1,1))": lambda lib: _t(lib, (2, 3, 4)).movedim((0, 1), (1, 1)),
    "expand(3,5)": lambda lib: _t(lib, (3, 4)).expand(3, 5),
    "expand(4) of 2-d": lambda lib: _t(lib, (3, 4)).expand(4),
    "expand(-1,4) new dim": lambda lib: _t(lib, (4,)).expand(-1, 4),
    "expand(2,3,-2)": lambda lib: _t(lib, (2, 3, 4)).expand(2, 3, -2),
    "expand of int64": lambda lib: lib.zeros(3, 4, dtype=lib.int64).expand(2),
    "expand_as(smaller)": lambda lib: _t(lib, (3, 4)).expand_as(_t(lib, (4,))),
    "broadcast_to((2,5))": lambda lib: _t(lib, (3, 4)).broadcast_to((2, 5)),
    "repeat(2) of 2-d": lambda lib: _t(lib, (3, 4)).repeat(2),
    "repeat(-1,2)": lambda lib: _t(lib, (3, 4)).repeat(-1, 2),
    "flip(0,0)": lambda lib: _t(lib, (2, 3, 4)).flip(0, 0),
    "flip(-3,0)": lambda lib: _t(lib, (2, 3, 4)).flip(-3, 0),
    "flip(3)": lambda lib: _t(lib, (2, 3, 4)).flip(3),
    "roll((1,2),(0,))": lambda lib: _t(lib, (2, 3, 4)).roll((1, 2), (0,)),
    "roll((1,2))": lambda lib: _t(lib, (2, 3, 4)).roll((1, 2)),
    "roll(1,3)": lambda lib: _t(lib, (2, 3, 4)).roll(1, 3),
    "narrow(1,2,2)": lambda lib: _t(lib, (2, 3, 4)).narrow(1, 2, 2),
    "narrow(1,0,-1)": lambda lib: _t(lib, (2, 3, 4)).narrow(1, 0, -1),
    "narrow(1,4,0)": lambda lib: _t(lib, (2, 3, 4)).narrow(1, 4, 0),
    "select(0,5)": lambda lib: _t(lib, (2, 3, 4)).select(0, 5),
    "select(3,0)": lambda lib: _t(lib, (2, 3, 4)).select(3, 0),
    "select on 0-d": lambda lib: lib.tensor(1.0).select(0, 0),
    # joining and splitting
    "cat([])": lambda lib: lib.cat([]),
    "cat(tensor)": lambda lib: lib.cat(_t(lib, (3, 4))),
    "cat([x, 1])": lambda lib: lib.cat([_t(lib, (3, 4)), 1]),
    "cat ndim": lambda lib: lib.cat([_t(lib, (3, 4)), _t(lib, (4,))]),
    "cat sizes": lambda lib: lib.cat([_t(lib, (3, 4)), _t(lib, (3, 5))]),
    "cat sizes dim 1": lambda lib: lib.cat([_t(lib, (3, 4)), _t(lib, (2, 5))], 1),
    "cat dim 2": lambda lib: lib.cat([_t(lib, (3, 4))] * 2, 2),
    "cat 0-d": lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]),
    "stack([])": lambda lib: lib.stack([]),
    "stack(tensor)": lambda lib: lib.stack(_t(lib, (3, 4))),
    "stack sizes": lambda lib: lib.stack([_t(lib, (3, 4)), _t(lib, (3, 5))]),
    "stack dim 3": lambda lib: lib.stack([_t(lib, (3, 4))] * 2, 3),
    "split(0)": lambda lib: _t(lib, (3, 4)).split(0),
    "split(-1)": lambda lib: _t(lib, (3, 4)).split(-1),
    "split([1,1])": lambda lib: _t(lib, (3, 4)).split([1, 1]),
    "split([4,-1])": lambda lib: _t(lib, (3, 4)).split([4, -1]),
    "split(1,2)": lambda lib: _t(lib, (3, 4)).split(1, 2),
    "chunk(0)": lambda lib: _t(lib, (3, 4)).chunk(0),
    "unbind 0-d": lambda lib: lib.tensor(1.0).unbind(),
    "unbind(2)": lambda lib: _t(lib, (3, 4)).unbind(2),
    # index tensors
    "index_select 2-d index": lambda lib: _t(lib, (3, 4)).index_select(0, _i(lib, [[0]])),
    "index_select float index": lambda lib: _t(lib, (3, 4)).index_select(0, _i(lib, [0.0])),
    "index_select out of range": lambda lib: _t(lib, (3, 4)).index_select(0, _i(lib, [5])),
    "index_select negative": lambda lib: _t(lib, (3, 4)).index_select(1, _i(lib, [-1])),
    "gather ndim": lambda lib: _t(lib, (3, 4)).gather(1, _i(lib, [0])),
    "gather out of range": lambda lib: _t(lib, (3, 4)).gather(1, _i(lib, [[9]])),
    "gather negative": lambda lib: _t(lib, (3, 4)).gather(1, _i(lib, [[-1]])),
    "gather float index": lambda lib: _t(lib, (3, 4)).gather(1, _i(lib, [[0.0]])),
    "gather index too big": lambda lib: _t(lib, (3, 4)).gather(1, lib.zeros(4, 4, dtype=lib.long)),
    "scatter out of range": lambda lib: _t(lib, (3, 4)).scatter(1, _i(lib, [[9]]), 1.0),
    "scatter ndim": lambda lib: _t(lib, (3, 4)).scatter(1, _i(lib, [0]), 1.0),
    "scatter float index": lambda lib: _t(lib, (3, 4)).scatter(1, _i(lib, [[0.0]]), 1.0),
    "scatter src dtype": lambda lib: _t(lib, (3, 4)).scatter(
        1, _i(lib, [[0]]), lib.ones(1, 1, dtype=lib.float64)
    ),
    "scatter src too small": lambda lib: _t(lib, (3, 4)).scatter(1, _i(lib, [[0]]), lib.ones(1, 0)),
    "scatter_add dtype": lambda lib: _t(lib, (3, 4)).scatter_add(
        1, _i(lib, [[0]]), lib.ones(1, 1, dtype=lib.float64)
    ),
    "index_add count": lambda lib: _t(lib, (3, 4)).index_add(0, _i(lib, [0, 1]), lib.ones(3, 4)),
    "index_add shape": lambda lib: _t(lib, (3, 4)).index_add(0, _i(lib, [0, 1]), lib.ones(2, 5)),
    "index_add dtype": lambda lib: _t(lib, (3, 4)).index_add(
        0, _i(lib, [0, 1]), lib.ones(2, 4, dtype=lib.float64)
    ),
    "index_add out of range": lambda lib: _t(lib, (3, 4)).index_add(
        0, _i(lib, [0, 9]), lib.ones(2, 4)
    ),
    "index_add 2-d index": lambda lib: _t(lib, (3, 4)).index_add(
        0, _i(lib, [[0, 1]]), lib.ones(2, 4)
    ),
    "index_put dtype": lambda lib: _t(lib, (3, 4)).index_put(
        (_i(lib, [0]),), lib.ones(4, dtype=lib.float64)
    ),
    "index_put int index": lambda lib: _t(lib, (3, 4)).index_put((0,), lib.ones(4)),
    "index_put shape": lambda lib: _t(lib, (3, 4)).index_put((_i(lib, [0, 1]),), lib.ones(3)),
    "take out of range": lambda lib: _t(lib, (3, 4)).take(_i(lib, [12])),
    "take float index": lambda lib: _t(lib, (3, 4)).take(_i(lib, [0.0])),
    "take_along_dim ndim": lambda lib: _t(lib, (3, 4)).take_along_dim(_i(lib, [0]), 1),
    "take_along_dim int32": lambda lib: _t(lib, (3, 4)).take_along_dim(
        _i(lib, [[0]], lib.int32), 1
    ),
    "masked_select int mask": lambda lib: _t(lib, (3, 4)).masked_select(_i(lib, [1, 0, 1, 0])),
    "masked_select shape": lambda lib: _t(lib, (3, 4)).masked_select(_i(lib, [True, False])),
    "masked_fill shape": lambda lib: _t(lib, (3, 4)).masked_fill(_i(lib, [True, False]), 1.0),
    "masked_fill int mask": lambda lib: _t(lib, (3, 4)).masked_fill(_i(lib, [1, 0, 1, 0]), 1.0),
    "masked_fill 1-d value": lambda lib: _t(lib, (3, 4)).masked_fill(
        _i(lib, [True, False, True, False]), lib.tensor([1.0])
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    results = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                ERRORS[name](lib)
        results.append((info.type, str(info.value).split("\n")[0]))
    assert results[0] == results[1]


@pytest.mark.parametrize("shape", [(2, 3, 4), (4,), ()], ids=["3-d", "1-d", "0-d"])
def test_T_warnings_match_torch(shape):
    messages = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = _t(lib, shape).T
        messages.append(([str(w.message).split(" (Triggered")[0] for w in caught], out))
        assert all(w.category is UserWarning for w in caught)
    ours, theirs = messages
    assert tuple(ours[1].shape) == tuple(theirs[1].shape)
    # PyTorch warns once per process (TORCH_WARN_ONCE); gradienti through Python's filters.
    assert theirs[0] == [] or ours[0] == theirs[0]
    if shape == (2, 3, 4):
        assert ours[0][0].startswith("The use of `x.T` on tensors of dimension other than 2")
    elif shape == ():
        assert ours[0] == [
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
        ]
    else:
        assert len(ours[0]) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        transposed = _t(gradienti, (3, 4)).T
    assert tuple(transposed.shape) == (4, 3)
    assert caught == []


def test_flatten_of_a_1d_tensor_is_the_tensor_itself():
    for lib in (gradienti, torch):
        x = _t(lib, (4,))
        assert x.flatten() is x
        y = _t(lib, (2, 3))
        assert y.flatten(1, 1) is y


def test_view_and_reshape_of_non_contiguous_tensors():
    for lib in (gradienti, torch):
        x = _t(lib, (3, 4))
        assert x.t().is_contiguous() is False
        assert type(x.t().reshape(-1).grad_fn).__name__ == "UnsafeViewBackward0"
        assert type(x.reshape(2, 6).grad_fn).__name__ == "ViewBackward0"
        assert type(x.t().unflatten(0, (2, 2)).grad_fn).__name__ == "ViewBackward0"
        assert x.flip(0).is_contiguous() and x.flip(0).view(-1).shape == (12,)
        assert x[:, 1:3].is_contiguous() is False
        assert x.narrow(0, 1, 2).view(8).shape == (8,)
        assert x[:, ::2].view(-1).shape == (6,)  # a uniform stride: a view is possible
        assert x.expand(2, 3, 4).view(2, 12).shape == (2, 12)


@pytest.mark.parametrize(
    "call",
    [
        ("split", (2,)),
        ("split", (2, 1)),
        ("split", ([1, 2],)),
        ("split", ([1, 3], -1)),
        ("split", (3,)),
        ("split", (5,)),
        ("chunk", (2,)),
        ("chunk", (3, 1)),
        ("chunk", (4, -1)),
        ("unbind", ()),
        ("unbind", (1,)),
    ],
    ids=str,
)
def test_multi_output_ops_match_torch(call):
    method, args = call
    results = []
    for lib in (gradienti, torch):
        x = _t(lib, (3, 4))
        pieces = getattr(x, method)(*args)
        function_pieces = getattr(lib, method)(x, *args)
        assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in function_pieces]
        names = [(p.grad_fn.name(), p.output_nr) for p in pieces]
        assert len({id(p.grad_fn) for p in pieces}) == 1  # one node, several outputs
        # Only some pieces used: the others contribute zeros.
        loss = (pieces[-1] * pieces[-1]).sum() + pieces[0].sum() * 2
        (grad,) = lib.autograd.grad(loss, x)
        results.append(([_np(p) for p in pieces], names, _np(grad)))
    ours, theirs = results
    assert ours[1] == theirs[1]
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)


def test_split_and_chunk_of_empty_dimensions_match_torch():
    for args in (("chunk", 2), ("split", 2)):
        shapes = [
            [tuple(p.shape) for p in getattr(lib.zeros(0, 2), args[0])(args[1])]
            for lib in (gradienti, torch)
        ]
        assert shapes[0] == shapes[1]
    shapes = [[tuple(p.shape) for p in lib.arange(6.0).chunk(4)] for lib in (gradienti, torch)]
    assert shapes[0] == shapes[1] == [(2,), (2,), (2,)]


@pytest.mark.parametrize(
    "dtypes",
    [
        ("int64", "float32"),
        ("int32", "float64"),
        ("float16", "bool"),
        ("uint8", "int8"),
        ("int32", "int32"),
    ],
    ids=str,
)
def test_cat_and_stack_promote_like_torch(dtypes):
    for join in ("cat", "stack"):
        results = []
        for lib in (gradienti, torch):
            tensors = [lib.ones(2, 3, dtype=getattr(lib, d)) for d in dtypes]
            out = getattr(lib, join)(tensors)
            results.append((str(out.dtype), tuple(out.shape), _np(out).tolist()))
        assert results[0] == results[1]


def test_cat_and_stack_take_numpy_axis_like_torch():
    for lib in (gradienti, torch):
        m = _t(lib, (2, 3))
        assert tuple(lib.concatenate([m, m], axis=1).shape) == (2, 6)
        assert tuple(lib.cat([m, m], axis=-1).shape) == (2, 6)
        assert tuple(lib.stack([m, m], axis=1).shape) == (2, 2, 3)


def test_cat_gradients_go_back_in_each_inputs_dtype():
    a = gradienti.tensor([1.0, 2.0], dtype=gradienti.float32, requires_grad=True)
    b = gradienti.tensor([3.0], dtype=gradienti.float64, requires_grad=True)
    out = gradienti.cat([a, b])
    assert out.dtype == gradienti.float64
    out.backward(gradienti.tensor([1.0, 2.0, 3.0], dtype=gradienti.float64))
    assert a.grad.dtype == gradienti.float32 and a.grad.tolist() == [1.0, 2.0]
    assert b.grad.dtype == gradienti.float64 and b.grad.tolist() == [3.0]


def test_shape_ops_on_integer_tensors_do_not_record():
    x = gradienti.arange(6).reshape(2, 3)
    assert x.t().tolist() == [[0, 3], [1, 4], [2, 5]] and x.t().grad_fn is None
    assert gradienti.cat([x, x]).dtype == gradienti.int64
    assert x.flip(1).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert x.masked_fill(x > 3, 2.7).tolist() == [[0, 1, 2], [3, 2, 2]]
    assert x.masked_fill(x > 3, gradienti.tensor(2.7)).tolist() == [[0, 1, 2], [3, 2, 2]]


def test_functions_and_methods_exist_like_torch():
    names = [
        "reshape",
        "flatten",
        "ravel",
        "unflatten",
        "squeeze",
        "unsqueeze",
        "transpose",
        "swapaxes",
        "swapdims",
        "t",
        "permute",
        "movedim",
        "moveaxis",
        "broadcast_to",
        "tile",
        "flip",
        "roll",
        "narrow",
        "select",
        "cat",
        "concat",
        "concatenate",
        "stack",
        "hstack",
        "vstack",
        "split",
        "chunk",
        "unbind",
        "index_select",
        "gather",
        "take",
        "take_along_dim",
        "masked_select",
        "masked_fill",
        "scatter",
        "scatter_add",
        "index_add",
    ]
    for name in names:
        assert callable(getattr(torch, name)) and callable(getattr(gradienti, name)), name
    methods = [
        "view",
        "reshape",
        "view_as",
        "reshape_as",
        "flatten",
        "ravel",
        "unflatten",
        "squeeze",
        "unsqueeze",
        "transpose",
        "swapaxes",
        "swapdims",
        "t",
        "permute",
        "movedim",
        "moveaxis",
        "expand",
        "expand_as",
        "broadcast_to",
        "repeat",
        "tile",
        "flip",
        "roll",
        "narrow",
        "select",
        "split",
        "chunk",
        "unbind",
        "index_select",
        "gather",
        "take",
        "take_along_dim",
        "masked_select",
        "masked_fill",
        "scatter",
        "scatter_add",
        "index_add",
    ]
    for name in methods:
        assert callable(getattr(gradienti.zeros(1), name)), name


def test_shape_ops_never_write_their_inputs():
    base = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    x = gradienti.tensor(base, requires_grad=True)
    s = gradienti.tensor(np.ones((3, 2)), requires_grad=True)
    index = gradienti.tensor([[0, 1], [3, 3], [2, 0]])
    outs = [
        x.t(),
        x.T,
        x.flip(0),
        x.roll(1, 1),
        x.repeat(2, 1),
        x.unsqueeze(0).squeeze(0),
        gradienti.cat([x, x]),
        gradienti.stack([x, x], 1),
        x.split(2)[0],
        x.unbind(1)[2],
        x.gather(1, index),
        x.scatter(1, index, s),
        x.scatter_add(1, index, s),
        x.scatter(1, index, 5.0),
        x.index_add(1, gradienti.tensor([0, 0]), s, alpha=2.0),
        x.masked_fill(x > 0, 0.0),
        x.take_along_dim(index, 1),
        x.index_select(0, gradienti.tensor([2, 2])),
    ]
    total = sum((out * out).sum() for out in outs)
    grads = gradienti.autograd.grad(total, [x, s], create_graph=True)
    gradienti.autograd.grad(sum((g * g).sum() for g in grads), [x, s])
    np.testing.assert_array_equal(x.detach().numpy(), base)
    np.testing.assert_array_equal(s.detach().numpy(), np.ones((3, 2)))
