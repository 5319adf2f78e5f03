"""gradienti.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp.

Without PyTorch: values against hand-derived formulas, return structures, inputs left alone.
With PyTorch (the oracle): every transform on the same functions, inputs and flags gives the
same structure, shapes, dtypes, values and requires_grad, the same error types and texts, and
with ``create_graph=True`` the same derivatives of its results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import gradienti
from gradienti.autograd import functional as F

X = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])
Y = np.array([0.2, -0.9, 0.5])
U = np.array([[0.5, -0.25, 1.5], [-1.0, 0.75, 0.1]])  # a tangent shaped like X
W = np.array([-0.4, 1.3, 0.6])  # a tangent shaped like Y


def two_outputs(lib):
    return lambda x, y: (x.sin() * y, (x + y).sum())


def scalar(lib):
    return lambda x, y: ((x**2).sum() * y.sigmoid()).sum()


def linear(lib):
    return lambda x, y: x * 2 + y * 3


def elementwise(lib):
    return lambda x: (x * x).tanh()


def reshaped(lib):
    return lambda x: x.reshape(3, 2).exp() * 0.5


# (name, function factory, number of inputs, whether the output is one scalar)
FUNCTIONS = [
    ("two_outputs", two_outputs, 2, False),
    ("scalar", scalar, 2, True),
    ("linear", linear, 2, False),
    ("elementwise", elementwise, 1, False),
    ("reshaped", reshaped, 1, False),
]


def inputs_of(lib, count, requires_grad):
    xs = (lib.tensor(X, requires_grad=requires_grad), lib.tensor(Y, requires_grad=requires_grad))
    return xs if count == 2 else xs[0]


def tangents_of(lib, count):
    vs = (lib.tensor(U), lib.tensor(W))
    return vs if count == 2 else vs[0]


def cotangents_of(lib, out):
    """A non-uniform v shaped like the output(s)."""
    if isinstance(out, tuple):
        return tuple(cotangents_of(lib, o) for o in out)
    values = np.linspace(-1.0, 1.5, max(out.numel(), 1))[: out.numel()]
    return lib.tensor(values.reshape(tuple(out.shape)))


def describe(result):
    """The nesting structure with, at each leaf, (shape, dtype, requires_grad, values)."""
    if isinstance(result, tuple):
        return tuple(describe(r) for r in result)
    assert type(result).__name__ == "Tensor", type(result)
    return Leaf(
        (tuple(result.shape), str(result.dtype), result.requires_grad),
        result.detach().numpy().copy(),
    )


@dataclass
class Leaf:
    meta: tuple  # shape, dtype, requires_grad
    values: np.ndarray


def assert_same(ours, theirs, path="result"):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple), f"{path}: expected a tuple, got {type(ours)}"
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
        return
    assert not isinstance(ours, tuple), f"{path}: expected a Tensor, got a tuple"
    assert ours.meta == theirs.meta, f"{path}: {ours.meta} != {theirs.meta}"
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-10, atol=1e-12, err_msg=path)


def leaves(result):
    if isinstance(result, tuple):
        return [t for r in result for t in leaves(r)]
    return [result]


def second_order(lib, result, inputs):
    """d/d inputs of sum_k <result_k, c_k> with fixed non-uniform c_k (None if no path)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    total = None
    for k, t in enumerate(leaves(result)):
        if not t.requires_grad:
            continue
        c = np.cos(np.arange(max(t.numel(), 1)) + k)[: t.numel()].reshape(tuple(t.shape))
        term = (t * lib.tensor(c)).sum()
        total = term if total is None else total + term
    if total is None:
        return None
    grads = lib.autograd.grad(total, inputs, allow_unused=True)
    return tuple(None if g is None else g.detach().numpy().copy() for g in grads)


def run_transform(lib, transform, factory, count, requires_grad, create_graph):
    """Call ``transform`` the same way for lib=torch and lib=gradienti."""
    inputs = inputs_of(lib, count, requires_grad)
    func = factory(lib)
    functional = lib.autograd.functional
    if transform == "jacobian":
        result = functional.jacobian(func, inputs, create_graph=create_graph)
    elif transform == "hessian":
        result = functional.hessian(func, inputs, create_graph=create_graph)
    elif transform == "vjp":
        args = inputs if isinstance(inputs, tuple) else (inputs,)
        v = cotangents_of(lib, func(*args))
        result = functional.vjp(func, inputs, v, create_graph=create_graph)
    else:  # jvp, hvp, vhp: v shaped like the inputs
        v = tangents_of(lib, count)
        result = getattr(functional, transform)(func, inputs, v, create_graph=create_graph)
    return inputs, result


ORACLE_CASES = [
    (transform, name, factory, count)
    for name, factory, count, is_scalar in FUNCTIONS
    for transform in ("jacobian", "vjp", "jvp") + (("hessian", "hvp", "vhp") if is_scalar else ())
]


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["const", "leaf"])
@pytest.mark.parametrize(
    "transform,name,factory,count", ORACLE_CASES, ids=[f"{c[0]}-{c[1]}" for c in ORACLE_CASES]
)
def test_matches_torch(transform, name, factory, count, requires_grad, create_graph):
    torch = pytest.importorskip("torch")
    theirs_in, theirs = run_transform(torch, transform, factory, count, requires_grad, create_graph)
    ours_in, ours = run_transform(gradienti, transform, factory, count, requires_grad, create_graph)
    assert_same(describe(ours), describe(theirs))
    # The inputs are left alone: same values, flags, no .grad.
    for t in leaves(ours_in):
        assert t.requires_grad is requires_grad and t.grad is None and t.is_leaf
    np.testing.assert_array_equal(leaves(ours_in)[0].detach().numpy(), X)
    if create_graph and requires_grad:
        # The results are differentiable, with PyTorch's derivatives.
        theirs_2 = second_order(torch, theirs, theirs_in)
        ours_2 = second_order(gradienti, ours, ours_in)
        assert (ours_2 is None) == (theirs_2 is None)
        if theirs_2 is not None:
            for a, b in zip(ours_2, theirs_2):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- without torch
def test_jacobian_values_and_structure():
    x = gradienti.tensor(X, requires_grad=True)
    y = gradienti.tensor(Y)
    jac = F.jacobian(two_outputs(gradienti), (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    (d0x, d0y), (d1x, d1y) = jac
    assert tuple(d0x.shape) == (2, 3, 2, 3) and tuple(d0y.shape) == (2, 3, 3)
    assert tuple(d1x.shape) == (2, 3) and tuple(d1y.shape) == (3,)
    expected = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            expected[i, j, i, j] = np.cos(X[i, j]) * Y[j]
    np.testing.assert_allclose(d0x.numpy(), expected)
    expected_y = np.zeros((2, 3, 3))
    for i in range(2):
        for j in range(3):
            expected_y[i, j, j] = np.sin(X[i, j])
    np.testing.assert_allclose(d0y.numpy(), expected_y)
    np.testing.assert_allclose(d1x.numpy(), np.ones((2, 3)))
    np.testing.assert_allclose(d1y.numpy(), np.full(3, 2.0))
    assert not any(t.requires_grad for t in leaves(jac))
    assert x.grad is None


def test_single_input_single_output_give_a_tensor():
    x = gradienti.tensor(Y, requires_grad=True)
    jac = F.jacobian(lambda t: t.exp(), x)
    assert isinstance(jac, gradienti.Tensor)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.exp(Y)))
    hess = F.hessian(lambda t: (t**3).sum(), x)
    assert isinstance(hess, gradienti.Tensor)
    np.testing.assert_allclose(hess.numpy(), np.diag(6 * Y))
    out, vjp = F.vjp(lambda t: t.exp(), x, gradienti.tensor(W))
    assert isinstance(out, gradienti.Tensor) and isinstance(vjp, gradienti.Tensor)
    np.testing.assert_allclose(vjp.numpy(), np.exp(Y) * W)


def test_jvp_is_the_jacobian_times_v():
    x = gradienti.tensor(X)
    y = gradienti.tensor(Y)
    func = two_outputs(gradienti)
    (out0, out1), (jv0, jv1) = F.jvp(func, (x, y), (gradienti.tensor(U), gradienti.tensor(W)))
    np.testing.assert_allclose(out0.numpy(), np.sin(X) * Y)
    np.testing.assert_allclose(jv0.numpy(), np.cos(X) * Y * U + np.sin(X) * W)
    np.testing.assert_allclose(jv1.numpy(), U.sum() + 2 * W.sum())


def test_hvp_and_vhp_are_the_hessian_times_v():
    a = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 3.0]])
    quadratic = lambda t: (t * (gradienti.tensor(a) * t).sum(1)).sum() / 2  # noqa: E731
    # 0.5 t^T A t with A symmetric: H = A.
    x = gradienti.tensor(Y)
    _, hv = F.hvp(quadratic, x, gradienti.tensor(W))
    _, vh = F.vhp(quadratic, x, gradienti.tensor(W))
    np.testing.assert_allclose(hv.numpy(), a @ W)
    np.testing.assert_allclose(vh.numpy(), W @ a)
    np.testing.assert_allclose(F.hessian(quadratic, x).numpy(), a)


def test_create_graph_results_are_differentiable():
    x = gradienti.tensor(Y, requires_grad=True)
    jac = F.jacobian(lambda t: t**3, x, create_graph=True)
    assert jac.requires_grad
    (g,) = gradienti.autograd.grad(jac.sum(), x)  # d/dx sum_i 3 x_i^2 = 6 x
    np.testing.assert_allclose(g.numpy(), 6 * Y)
    _, jv = F.jvp(lambda t: t.sin(), x, gradienti.tensor(W), create_graph=True)
    (g,) = gradienti.autograd.grad(jv.sum(), x)  # d/dx sum cos(x) w = -sin(x) w
    np.testing.assert_allclose(g.numpy(), -np.sin(Y) * W)


def test_without_create_graph_results_are_detached_even_for_leaves():
    x = gradienti.tensor(Y, requires_grad=True)
    out, vjp = F.vjp(lambda t: (t * t).sum(), x)
    assert not out.requires_grad and not vjp.requires_grad
    out, jv = F.jvp(lambda t: t * t, x, gradienti.tensor(W))
    assert not out.requires_grad and not jv.requires_grad
    np.testing.assert_allclose(jv.numpy(), 2 * Y * W)


def test_unused_input_gives_zeros_unless_strict():
    x = gradienti.tensor(Y, requires_grad=True)
    y = gradienti.tensor(W, requires_grad=True)
    jac = F.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_array_equal(jac[1].numpy(), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is indep"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)


def test_vectorize_and_forward_mode_give_the_same_values():
    x = gradienti.tensor(Y)
    func = lambda t: t.exp() * t  # noqa: E731
    expected = F.jacobian(func, x).numpy()
    np.testing.assert_allclose(F.jacobian(func, x, vectorize=True).numpy(), expected)
    forward = F.jacobian(func, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(forward.numpy(), expected)
    hess = F.hessian(
        lambda t: (t**3).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode"
    )
    np.testing.assert_allclose(hess.numpy(), np.diag(6 * Y))


# ---------------------------------------------------------------------- errors, with torch
def _error_of(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the oracle may raise anything
        return type(e), str(e)
    return None


ERROR_CASES = {
    "vjp v missing": lambda lib, x, y: lib.autograd.functional.vjp(lambda a: a * 2, x),
    "vjp v wrong size": lambda lib, x, y: lib.autograd.functional.vjp(
        lambda a: a * 2, x, lib.tensor([1.0, 2.0])
    ),
    "vjp v tuple length": lambda lib, x, y: lib.autograd.functional.vjp(
        lambda a: (a * 2, a.sum()), x, (x,)
    ),
    "vjp v single expected": lambda lib, x, y: lib.autograd.functional.vjp(
        lambda a: a * 2, x, (x, x)
    ),
    "jvp v entry size": lambda lib, x, y: lib.autograd.functional.jvp(
        lambda a, b: a * b, (x, y), (x, lib.tensor([1.0, 2.0]))
    ),
    "jvp v missing": lambda lib, x, y: lib.autograd.functional.jvp(lambda a: a * 2, x),
    "hvp v missing": lambda lib, x, y: lib.autograd.functional.hvp(lambda a: a.sum(), x),
    "inputs a list": lambda lib, x, y: lib.autograd.functional.vjp(lambda a: a, [x], x),
    "strict output no grad": lambda lib, x, y: lib.autograd.functional.vjp(
        lambda a: a.detach(), x, x, strict=True
    ),
    "strict vjp unused input": lambda lib, x, y: lib.autograd.functional.vjp(
        lambda a, b: a * 2, (x, y), x, strict=True
    ),
    "strict jacobian unused": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a, b: a.exp(), (x, y), strict=True
    ),
    "strict jacobian create_graph linear": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a * 2, x, strict=True, create_graph=True
    ),
    "strict hessian linear": lambda lib, x, y: lib.autograd.functional.hessian(
        lambda a: (a * 2).sum(), x, strict=True
    ),
    "strict vhp linear": lambda lib, x, y: lib.autograd.functional.vhp(
        lambda a: (a * 2).sum(), x, x, strict=True
    ),
    "strict hvp linear": lambda lib, x, y: lib.autograd.functional.hvp(
        lambda a: (a * 2).sum(), x, x, strict=True
    ),
    "hessian two outputs": lambda lib, x, y: lib.autograd.functional.hessian(
        lambda a: (a.sum(), a.sum()), x
    ),
    "hessian not scalar": lambda lib, x, y: lib.autograd.functional.hessian(lambda a: a * a, x),
    "hvp not scalar": lambda lib, x, y: lib.autograd.functional.hvp(lambda a: a * a, x, x),
    "vhp two outputs": lambda lib, x, y: lib.autograd.functional.vhp(
        lambda a: (a.sum(), a.sum()), x, x
    ),
    "jacobian bad strategy": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a, x, strategy="sideways"
    ),
    "jacobian forward create_graph": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a, x, create_graph=True, strategy="forward-mode"
    ),
    "jacobian forward strict": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a, x, strict=True, strategy="forward-mode"
    ),
    "jacobian forward not vectorized": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a, x, strategy="forward-mode"
    ),
    "jacobian strict vectorized": lambda lib, x, y: lib.autograd.functional.jacobian(
        lambda a: a * a, x, strict=True, vectorize=True
    ),
    "hessian bad strategy": lambda lib, x, y: lib.autograd.functional.hessian(
        lambda a: a.sum(), x, outer_jacobian_strategy="sideways"
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES), ids=list(ERROR_CASES))
def test_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    call = ERROR_CASES[case]
    results = []
    for lib in (torch, gradienti):
        x = lib.tensor(Y, requires_grad=True)
        y = lib.tensor(W, requires_grad=True)
        results.append(_error_of(lambda lib=lib, x=x, y=y: call(lib, x, y)))
    theirs, ours = results
    assert theirs is not None, "the case must raise in PyTorch"
    assert ours == theirs


def test_strict_error_texts_without_torch():
    x = gradienti.tensor(Y, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"^The output of the user-provided function is independent of input 1\. This is "
        r"not allowed in strict mode\.$",
    ):
        F.vjp(lambda a, b: a * 2, (x, x.detach()), x, strict=True)
    with pytest.raises(RuntimeError, match=r"^v has invalid size: should be torch\.Size\(\[3\]\)"):
        F.vjp(lambda a: a * 2, x, gradienti.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: a, [x])
