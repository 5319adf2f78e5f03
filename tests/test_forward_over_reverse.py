"""Forward over reverse: a backward pass run inside a dual level carries tangents, so the
gradients it returns are dual (their tangents are Hessian-vector products), as in PyTorch.
Per-op coverage is in test_forward_ad_ops.py; here the engine's paths: hooks, retain_grad,
``.grad`` written by ``backward()``, and the graph kept for a second pass."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

X = [1.0, 2.0, -0.5]
V = [1.0, 0.5, -2.0]


def _tangent(lib, tensor):
    tangent = lib.autograd.forward_ad.unpack_dual(tensor).tangent
    return None if tangent is None else tangent.detach().numpy()


def _both(scenario):
    results = []
    for lib in (gradienti, torch):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            leaf = lib.tensor(X, dtype=lib.float64, requires_grad=True)
            x = forward_ad.make_dual(leaf, lib.tensor(V, dtype=lib.float64))  # a view of leaf
            results.append(scenario(lib, x, leaf))
    return results


def _assert_same(ours, theirs):
    assert ours.keys() == theirs.keys()
    for key in ours:
        if theirs[key] is None:
            assert ours[key] is None, key
        else:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)


def test_a_tensor_hook_sees_and_returns_dual_gradients():
    def scenario(lib, x, leaf):
        y = x.sin()
        seen = {}
        y.register_hook(lambda g: seen.setdefault("g", _tangent(lib, g)) is not None and g * 2)
        (g,) = lib.autograd.grad((y * y).sum(), x)
        return {"grad'": _tangent(lib, g), "hook saw'": seen["g"]}

    _assert_same(*_both(scenario))


def test_retained_and_leaf_grads_written_by_backward_carry_tangents():
    def scenario(lib, x, leaf):
        y = x.exp() * x
        y.retain_grad()
        (y * y).sum().backward()
        return {"y.grad'": _tangent(lib, y.grad), "leaf.grad'": _tangent(lib, leaf.grad)}

    _assert_same(*_both(scenario))


def test_the_graph_kept_for_a_second_pass_gives_the_same_tangents():
    def scenario(lib, x, leaf):
        loss = (x.tanh() ** 3).sum()
        (first,) = lib.autograd.grad(loss, x, retain_graph=True)
        (second,) = lib.autograd.grad(loss, x)
        return {"first'": _tangent(lib, first), "second'": _tangent(lib, second)}

    ours, theirs = _both(scenario)
    _assert_same(ours, theirs)
    np.testing.assert_array_equal(ours["first'"], ours["second'"])


def test_a_rule_that_reads_the_saved_values_works_under_saved_tensor_hooks():
    # nll_loss's JVP reads the positions and weights its node saved, which the hooks pack.
    target = [0, 2, 1]

    def scenario(lib, x, leaf):
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            logits = x.reshape(3, 1) * lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)
            loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target))
            (g,) = lib.autograd.grad(loss, leaf)
        return {"loss'": _tangent(lib, loss), "grad": g.detach().numpy()}

    _assert_same(*_both(scenario))
