"""Forward-mode AD through in-place ops, views and detach, against PyTorch.

PyTorch updates a dual tensor's tangent in place when the tensor is modified in place: the
tangent given to ``make_dual`` changes with it, and so do the tangents of the tensor's views
(and of the tensor, when a view of it is modified). gradienti's in-place ops write the result's
tangent into the tangent the tensor had (ops/inplace.py), zeros where the result has none
(``zero_``, ``fill_``, random fills, ``copy_`` of a plain tensor), and the tangents of views are
views of the base's tangent (the view ops' JVPs are the views themselves). Each scenario runs
on both libraries and compares every tensor it names: value, tangent (None on both sides, or
equal), dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

A = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]]
TA = [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
B = [2.0, -1.0, 0.5]
TB = [1.0, 2.0, -3.0]


def _dual(lib, values, tangent):
    forward_ad = lib.autograd.forward_ad
    return forward_ad.make_dual(lib.tensor(values), lib.tensor(tangent))


def _tangent(lib, tensor):
    return lib.autograd.forward_ad.unpack_dual(tensor).tangent


# Each scenario: (lib) -> {name: tensor}; run inside a dual level. A name ending in "'" is the
# tangent of the tensor (None when it has none), any other a value.
def _mul_(lib):
    t = lib.tensor(TA)
    p = lib.tensor(A)
    x = lib.autograd.forward_ad.make_dual(p, t)
    x.mul_(2)
    return {"x": x, "x'": _tangent(lib, x), "t given to make_dual": t, "primal": p}


def _in_place_chain(lib):
    x = _dual(lib, A, TA)
    x.add_(_dual(lib, B, TB), alpha=2)
    x.sub_(lib.tensor(B))
    x.div_(_dual(lib, [2.0, 4.0, -2.0], TB))
    x.pow_(2)
    x.exp_()
    x.clamp_(0.5, 30.0)
    return {"x": x, "x'": _tangent(lib, x)}


def _relu_(lib):
    x = _dual(lib, A, TA) * 1
    x.relu_()
    return {"x": x, "x'": _tangent(lib, x)}


def _operators(lib):
    x = _dual(lib, A, TA) * 1
    x += _dual(lib, B, TB)
    x -= 1.5
    x *= _dual(lib, B, TB)
    x /= 3
    return {"x": x, "x'": _tangent(lib, x)}


def _plain_takes_tangent(lib):
    x = lib.ones(2, 3)
    x.add_(_dual(lib, B, TB))
    return {"x": x, "x'": _tangent(lib, x)}


def _plain_stays_plain(lib):
    x = lib.ones(2, 3)
    x.mul_(lib.tensor(B))
    return {"x": x, "x'": _tangent(lib, x)}


def _float64_tangent_into_float32(lib):
    x = lib.ones(3)
    other = lib.autograd.forward_ad.make_dual(
        lib.tensor(B, dtype=lib.float64), lib.tensor(TB, dtype=lib.float64)
    )
    x.add_(other)
    return {"x": x, "x'": _tangent(lib, x)}


def _zero_d(lib):
    t = lib.tensor(0.5)
    x = lib.autograd.forward_ad.make_dual(lib.tensor(2.0), t)
    x.mul_(3)
    return {"x": x, "x'": _tangent(lib, x), "t given to make_dual": t}


@pytest.mark.parametrize("fill", ["zero_", "fill_", "uniform_", "normal_"])
def test_fills_leave_a_zero_tangent(fill):
    def scenario(lib):
        t = lib.tensor(TA)
        x = lib.autograd.forward_ad.make_dual(lib.tensor(A), t)
        getattr(x, fill)(*((2.5,) if fill == "fill_" else ()))
        return {"x'": _tangent(lib, x), "t given to make_dual": t}

    _compare(scenario)


def _non_differentiable_update(lib):
    """embedding's max_norm renormalises the weight in place, not differentiably: the weight
    keeps its tangent."""
    t = lib.tensor([[1.0, -1.0], [0.5, 2.0], [1.5, 0.25]])
    w = lib.autograd.forward_ad.make_dual(lib.tensor([[3.0, 4.0], [0.1, 0.2], [1.0, -2.0]]), t)
    out = lib.nn.functional.embedding(lib.tensor([0, 1]), w, max_norm=1.0)
    return {"w": w, "w'": _tangent(lib, w), "t given to make_dual": t, "out": out}


def _copy_dual(lib):
    x = lib.zeros(2, 3)
    x.copy_(_dual(lib, B, TB))  # broadcast
    return {"x": x, "x'": _tangent(lib, x)}


def _copy_into_dual(lib):
    x = _dual(lib, A, TA)
    x.copy_(lib.tensor(B))
    y = _dual(lib, A, TA)
    y.copy_(_dual(lib, B, TB))  # broadcast
    return {"x": x, "x'": _tangent(lib, x), "y": y, "y'": _tangent(lib, y)}


def _setitem_slice(lib):
    x = lib.zeros(2, 3)
    x[:, 1:] = _dual(lib, [[1.0, 2.0]], [[3.0, -4.0]])
    return {"x": x, "x'": _tangent(lib, x)}


def _setitem_advanced(lib):
    x = _dual(lib, A, TA) * 1
    x[[0, 1], [2, 0]] = _dual(lib, [7.0, 8.0], [0.25, -0.75])
    return {"x": x, "x'": _tangent(lib, x)}


def _setitem_mask(lib):
    x = _dual(lib, A, TA) * 1
    x[x > 0] = _dual(lib, 9.0, 2.0)
    return {"x": x, "x'": _tangent(lib, x)}


def _setitem_number_and_plain(lib):
    x = _dual(lib, A, TA)
    x[0, 1] = 5.0
    y = _dual(lib, A, TA)
    y[...] = lib.tensor(B)
    z = _dual(lib, A, TA)
    z[1] = _dual(lib, B, TB)
    return {
        "x": x,
        "x'": _tangent(lib, x),
        "y": y,
        "y'": _tangent(lib, y),
        "z": z,
        "z'": _tangent(lib, z),
    }


def _index_put_out_of_place(lib):
    x = _dual(lib, A, TA)
    index = (lib.tensor([0, 1, 1]), lib.tensor([2, 0, 0]))
    y = x.index_put(index, _dual(lib, [1.0, 2.0, 3.0], TB), accumulate=True)
    return {"x'": _tangent(lib, x), "y": y, "y'": _tangent(lib, y)}


def _detach(lib):
    x = _dual(lib, A, TA)
    y = x * 2
    return {
        "x.detach()'": _tangent(lib, x.detach()),
        "x.data'": _tangent(lib, x.data),
        "(x*2).detach()'": _tangent(lib, y.detach()),
        "(x*2).detach_()'": _tangent(lib, (x * 2).detach_()),
    }


def _result_of_add_is_its_own(lib):
    t = lib.tensor(TA)
    x = lib.autograd.forward_ad.make_dual(lib.tensor(A), t)
    y = x + 1  # the tangent of y is t's values, not t
    y.mul_(2)
    x0 = _dual(lib, 2.0, 0.5)
    z = x0 + lib.zeros(3)  # a broadcast tangent
    z.mul_(2)
    return {
        "x'": _tangent(lib, x),
        "t given to make_dual": t,
        "y'": _tangent(lib, y),
        "z'": _tangent(lib, z),
        "x0'": _tangent(lib, x0),
    }


_VIEWS = {
    "x[0]": lambda x: x[0],
    "x[:, 1:]": lambda x: x[:, 1:],
    "x.view(6)": lambda x: x.view(6),
    "x.reshape(3, 2)": lambda x: x.reshape(3, 2),
    "x.t()": lambda x: x.t(),
    "x.transpose(0, 1)": lambda x: x.transpose(0, 1),
    "x.permute(1, 0)": lambda x: x.permute(1, 0),
    "x.narrow(1, 1, 2)": lambda x: x.narrow(1, 1, 2),
    "x.select(1, 2)": lambda x: x.select(1, 2),
    "x.unsqueeze(0)": lambda x: x.unsqueeze(0),
    "x.split(1)[0]": lambda x: x.split(1)[0],
    "x.chunk(3, 1)[2]": lambda x: x.chunk(3, 1)[2],
    "x.unbind(1)[1]": lambda x: x.unbind(1)[1],
    "x[...]": lambda x: x[...],
}


@pytest.mark.parametrize("view", list(_VIEWS))
def test_in_place_on_a_view_changes_the_base_tangent(view):
    def scenario(lib):
        x = _dual(lib, A, TA)
        part = _VIEWS[view](x)
        part.mul_(3)
        return {"x": x, "x'": _tangent(lib, x), "part'": _tangent(lib, part)}

    _compare(scenario)


@pytest.mark.parametrize("view", list(_VIEWS))
def test_in_place_on_the_base_changes_the_view_tangent(view):
    def scenario(lib):
        x = _dual(lib, A, TA)
        part = _VIEWS[view](x)
        x.mul_(_dual(lib, B, TB))
        return {"part": part, "part'": _tangent(lib, part), "x'": _tangent(lib, x)}

    _compare(scenario)


def _requires_grad(lib):
    """A dual tensor that requires grad, modified in place: tangent and gradient. (Not
    make_dual's result itself: that is a view, and gradienti does not yet write in place
    through a view of a tensor that requires grad.)"""
    p = lib.tensor(A, requires_grad=True)
    x = lib.autograd.forward_ad.make_dual(p * 1, lib.tensor(TA)) * 1
    x.mul_(lib.tensor(B))
    x.mul_(_dual(lib, B, TB))
    (x.sum() * 1).backward()
    return {"x": x, "x'": _tangent(lib, x), "p.grad": p.grad}


def _reverse_over_forward(lib):
    """A tangent that requires grad, through in-place ops: the gradient of the tangent."""
    t = lib.tensor(TA, requires_grad=True)
    x = lib.autograd.forward_ad.make_dual(lib.tensor(A), t * 1)
    x.mul_(lib.tensor(B))
    x[0, 1] = _dual(lib, 1.0, 0.0) * 0
    tangent = _tangent(lib, x)
    (tangent * lib.tensor(A)).sum().backward()
    return {"x'": tangent, "t.grad": t.grad}


SCENARIOS = {
    "x.mul_(2)": _mul_,
    "add_ sub_ div_ pow_ exp_ clamp_": _in_place_chain,
    "relu_": _relu_,
    "+= -= *= /=": _operators,
    "plain.add_(dual)": _plain_takes_tangent,
    "plain.mul_(plain)": _plain_stays_plain,
    "float32.add_(float64 dual)": _float64_tangent_into_float32,
    "0-d mul_": _zero_d,
    "embedding max_norm keeps the weight's tangent": _non_differentiable_update,
    "plain.copy_(dual) broadcast": _copy_dual,
    "dual.copy_(plain), dual.copy_(dual)": _copy_into_dual,
    "x[:, 1:] = dual": _setitem_slice,
    "x[[0, 1], [2, 0]] = dual": _setitem_advanced,
    "x[x > 0] = dual 0-d": _setitem_mask,
    "dual[0, 1] = 5.0, dual[...] = plain, dual[1] = dual": _setitem_number_and_plain,
    "index_put accumulate": _index_put_out_of_place,
    "detach() and .data drop the tangent": _detach,
    "y = x + 1; y.mul_(2) leaves x's tangent": _result_of_add_is_its_own,
    "requires grad": _requires_grad,
    "reverse over forward": _reverse_over_forward,
}


def _as_numpy(value):
    if value is None:
        return None
    value = value.detach()
    return value.numpy(force=True) if type(value).__module__.startswith("torch") else value.numpy()


def _run(lib, scenario):
    with lib.autograd.forward_ad.dual_level():
        return {name: _as_numpy(value) for name, value in scenario(lib).items()}


def _compare(scenario):
    ours = _run(gradienti, scenario)
    theirs = _run(torch, scenario)
    assert ours.keys() == theirs.keys()
    for name, expected in theirs.items():
        got = ours[name]
        if expected is None or got is None:
            assert got is None and expected is None, f"{name}: {got} vs PyTorch's {expected}"
            continue
        assert got.dtype == expected.dtype, f"{name}: dtype"
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_in_place_against_torch(name):
    _compare(SCENARIOS[name])
