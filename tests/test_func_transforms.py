"""gradienti.func's grad, grad_and_value, vjp, jvp and linearize against torch.func: values,
result structures, which results require grad, how transforms nest, and the error texts.
(jacrev, jacfwd and hessian: test_func_jacobians.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from func_helpers import assert_same, assert_same_error, tensors

import gradienti

torch = pytest.importorskip("torch")


def same(case, *shapes, tol=1e-10, seed=0):
    """``case(lib, *inputs)`` gives the same results with gradienti and torch."""
    ours = case(gradienti, *tensors(gradienti, *shapes, seed=seed))
    theirs = case(torch, *tensors(torch, *shapes, seed=seed))
    assert_same(ours, theirs, torch, tol)


# ---------------------------------------------------------------------- grad
GRAD_CASES = {
    "sin sum": (lambda lib, x: lib.func.grad(lambda x: x.sin().sum())(x), [(4,)]),
    "argnums=1": (
        lambda lib, x, y: lib.func.grad(lambda x, y: (x * y.exp()).sum(), argnums=1)(x, y),
        [(3,), (3,)],
    ),
    "argnums=(0, 1)": (
        lambda lib, x, y: lib.func.grad(lambda x, y: (x * y.tanh()).sum(), argnums=(0, 1))(x, y),
        [(2, 3), (3,)],
    ),
    "argnums=-1": (
        lambda lib, x, y: lib.func.grad(lambda x, y: (x @ y).sum(), argnums=-1)(x, y),
        [(2, 3), (3, 2)],
    ),
    "argnums=(1, 0) keeps its order": (
        lambda lib, x, y: lib.func.grad(lambda x, y: (x * y * y).sum(), argnums=(1, 0))(x, y),
        [(3,), (3,)],
    ),
    "has_aux": (
        lambda lib, x: lib.func.grad(lambda x: ((x**2).sum(), {"c": x.cos()}), has_aux=True)(x),
        [(3,)],
    ),
    "dict of parameters": (
        lambda lib, w, b: lib.func.grad(lambda p: (p["w"] * p["b"].sin()).sum())({"w": w, "b": b}),
        [(3,), (3,)],
    ),
    "tuple argument": (
        lambda lib, a, b: lib.func.grad(lambda ab: (ab[0] * ab[1]).sum())((a, b)),
        [(2,), (2,)],
    ),
    "keyword arguments pass through": (
        lambda lib, x, s: lib.func.grad(lambda x, scale: (x * scale).sum())(x, scale=s),
        [(3,), (3,)],
    ),
    "output independent of the input": (
        lambda lib, x, y: lib.func.grad(lambda x: (y * 2).sum())(x),
        [(3,), (3,)],
    ),
    "grad of grad": (
        lambda lib, x: lib.func.grad(lib.func.grad(lambda x: x.sin() * x))(x[0]),
        [(3,)],
    ),
    "grad of grad of grad": (
        lambda lib, x: lib.func.grad(lib.func.grad(lib.func.grad(lambda x: (x**4).exp())))(x[0]),
        [(3,)],
    ),
    "no perturbation confusion": (
        # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
        lambda lib, x: lib.func.grad(lambda x: x * lib.func.grad(lambda y: x * y)(x))(x[0]),
        [(3,)],
    ),
    "grad_and_value": (
        lambda lib, x: lib.func.grad_and_value(lambda x: (x.exp() * x).sum())(x),
        [(2, 2)],
    ),
    "grad_and_value has_aux": (
        lambda lib, x: lib.func.grad_and_value(lambda x: (x.sum(), x * 2), has_aux=True)(x),
        [(3,)],
    ),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_as_torch_func(name):
    case, shapes = GRAD_CASES[name]
    same(case, *shapes)


def test_grad_of_an_input_that_requires_grad_is_differentiable():
    def run(lib):
        (x,) = tensors(lib, (3,))
        x.requires_grad_()
        g = lib.func.grad(lambda x: (x.sin() * x).sum())(x)
        (g * g).sum().backward()
        return g, x.grad

    assert_same(run(gradienti), run(torch), torch)


def test_grad_with_a_captured_tensor_that_requires_grad():
    def run(lib):
        x, w = tensors(lib, (3,), (3,))
        w.requires_grad_()
        g = lib.func.grad(lambda x: (x.sin() * w).sum())(x)
        g.sum().backward()
        with lib.no_grad():
            g_no_grad = lib.func.grad(lambda x: (x.sin() * w).sum())(x)
        return g, w.grad, g_no_grad

    assert_same(run(gradienti), run(torch), torch)


def test_grad_computes_with_grad_mode_on_inside_no_grad():
    def run(lib):
        (x,) = tensors(lib, (3,))
        with lib.no_grad():
            return lib.func.grad(lambda x: x.exp().sum())(x)

    assert_same(run(gradienti), run(torch), torch)


def test_grad_keeps_the_function_name():
    def loss(x):
        return x.sum()

    assert gradienti.func.grad(loss).__name__ == torch.func.grad(loss).__name__ == "loss"


GRAD_ERRORS = {
    "non-scalar output": lambda lib: lib.func.grad(lambda x: x * 2)(lib.ones(3)),
    "non-Tensor output": lambda lib: lib.func.grad(lambda x: 3.0)(lib.ones(3)),
    "argnum out of range": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=1)(lib.ones(3)),
    "negative argnum out of range": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=-2)(
        lib.ones(3)
    ),
    "repeated argnums": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=(0, 0))(lib.ones(3)),
    "empty argnums": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=())(lib.ones(3)),
    "float argnums": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=1.0)(lib.ones(3)),
    "list argnums": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=[0])(lib.ones(3)),
    "float in argnums": lambda lib: lib.func.grad(lambda x: x.sum(), argnums=(0.0,))(lib.ones(3)),
    "has_aux output not a pair": lambda lib: lib.func.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(
        lib.ones(3)
    ),
    "has_aux output not a tuple": lambda lib: lib.func.grad(lambda x: x.sum(), has_aux=True)(
        lib.ones(3)
    ),
    "argument not a Tensor": lambda lib: lib.func.grad(lambda x: x.sum())(3.0),
    "integer argument": lambda lib: lib.func.grad(lambda x: (x * x).sum())(lib.tensor([1, 2])),
    "grad_and_value non-scalar": lambda lib: lib.func.grad_and_value(lambda x: x)(lib.ones(2)),
}


@pytest.mark.parametrize("name", sorted(GRAD_ERRORS))
def test_grad_errors_as_torch_func(name):
    assert_same_error(GRAD_ERRORS[name], torch)


# ---------------------------------------------------------------------- vjp
def _vjp_two_outputs(lib, x, y, u, v):
    out, vjp_fn = lib.func.vjp(lambda x, y: (x * y, (x + y).sin()), x, y)
    return out, vjp_fn((u, v))


def _vjp_called_twice(lib, x, u, v):
    out, vjp_fn = lib.func.vjp(lambda x: x.exp() * x, x)
    return vjp_fn(u), vjp_fn(v)


def _vjp_has_aux(lib, x, u):
    out, vjp_fn, aux = lib.func.vjp(lambda x: (x.tanh(), [x.sum(), x * 3]), x, has_aux=True)
    return out, vjp_fn(u), aux


def _vjp_dict_output(lib, x, u):
    out, vjp_fn = lib.func.vjp(lambda x: {"a": x.sin(), "b": x.cos().sum()}, x)
    return out, vjp_fn({"a": u, "b": u.sum()})


def _hvp_rev_rev(lib, x, t):
    _, vjp_fn = lib.func.vjp(lib.func.grad(lambda x: (x.sin() * x).sum()), x)
    return vjp_fn(t)


def _vjp_of_a_constant_output(lib, x, u):
    out, vjp_fn = lib.func.vjp(lambda x: lib.ones(3, dtype=lib.float64) * 2, x)
    return out, vjp_fn(u)


VJP_CASES = {
    "one input": (lambda lib, x, u: lib.func.vjp(lambda x: x.sin(), x)[1](u), [(3,), (3,)]),
    "output of vjp": (lambda lib, x: lib.func.vjp(lambda x: x.sin(), x)[0], [(3,)]),
    "two inputs, two outputs": (_vjp_two_outputs, [(3,), (3,), (3,), (3,)]),
    "vjp_fn called twice": (_vjp_called_twice, [(2, 2), (2, 2), (2, 2)]),
    "has_aux": (_vjp_has_aux, [(3,), (3,)]),
    "dict output": (_vjp_dict_output, [(3,), (3,)]),
    "hvp by reverse over reverse": (_hvp_rev_rev, [(4,), (4,)]),
    "output independent of the input": (_vjp_of_a_constant_output, [(3,), (3,)]),
}


@pytest.mark.parametrize("name", sorted(VJP_CASES))
def test_vjp_as_torch_func(name):
    case, shapes = VJP_CASES[name]
    same(case, *shapes)


def test_vjp_results_require_grad_as_torch_func():
    def run(lib):
        x, u, w = tensors(lib, (3,), (3,), (3,))
        plain = lib.func.vjp(lambda x: x.sin(), x)[1](u)
        u_requiring = u.detach().requires_grad_()
        through_cotangent = lib.func.vjp(lambda x: x.sin(), x)[1](u_requiring)
        x_requiring = x.detach().requires_grad_()
        out, vjp_fn = lib.func.vjp(lambda x: x.sin() * w, x_requiring)
        through_input = vjp_fn(u)
        without_graph = vjp_fn(u, create_graph=False)
        through_input[0].sum().backward()
        return plain, through_cotangent, out, through_input, without_graph, x_requiring.grad

    assert_same(run(gradienti), run(torch), torch)


VJP_ERRORS = {
    "cotangent structure": lambda lib: lib.func.vjp(lambda x: (x.sin(), x.cos()), lib.ones(3))[1](
        lib.ones(3)
    ),
    "bool output": lambda lib: lib.func.vjp(lambda x: x > 0, lib.ones(3)),
    "None output": lambda lib: lib.func.vjp(lambda x: None, lib.ones(3)),
    "non-Tensor output": lambda lib: lib.func.vjp(lambda x: [x, 2], lib.ones(3)),
    "has_aux not a pair": lambda lib: lib.func.vjp(lambda x: x, lib.ones(3), has_aux=True),
    "primal not a Tensor": lambda lib: lib.func.vjp(lambda x: x, 3.0),
    "cotangent shape": lambda lib: lib.func.vjp(lambda x: x.sin(), lib.ones(3))[1](lib.ones(2)),
}


@pytest.mark.parametrize("name", sorted(VJP_ERRORS))
def test_vjp_errors_as_torch_func(name):
    assert_same_error(VJP_ERRORS[name], torch)


# ---------------------------------------------------------------------- jvp
def _jvp_two_inputs(lib, x, y, u, v):
    return lib.func.jvp(lambda x, y: (x * y.exp(), (x @ y).tanh()), (x, y), (u, v))


def _jvp_has_aux(lib, x, v):
    return lib.func.jvp(lambda x: (x.sin(), {"aux": x * 2}), (x,), (v,), has_aux=True)


def _hvp_forward_over_reverse(lib, x, t):
    return lib.func.jvp(lib.func.grad(lambda x: (x.sin() * x).sum()), (x,), (t,))


def _jvp_of_jvp(lib, x, u, v):
    def inner(x):
        return lib.func.jvp(lambda y: y.sin() * y, (x,), (u,))[1]

    return lib.func.jvp(inner, (x,), (v,))


def _jvp_of_jvp_of_jvp(lib, x, u, v, w):
    def second(x):
        return lib.func.jvp(lambda y: y.exp() * y.sin(), (x,), (u,))[1]

    def first(x):
        return lib.func.jvp(second, (x,), (v,))[1]

    return lib.func.jvp(first, (x,), (w,))


def _grad_of_jvp(lib, x, v):
    return lib.func.grad(lambda x: lib.func.jvp(lambda y: y.tanh(), (x,), (v,))[1].sum())(x)


def _jvp_of_vjp(lib, x, u, v):
    def pullback(x):
        return lib.func.vjp(lambda y: y.sin() * y, x)[1](u)[0]

    return lib.func.jvp(pullback, (x,), (v,))


def _jvp_of_an_independent_output(lib, x, v, y):
    return lib.func.jvp(lambda x: (x.sin(), y * 2), (x,), (v,))


JVP_CASES = {
    "sin": (lambda lib, x, v: lib.func.jvp(lambda x: x.sin(), (x,), (v,)), [(3,), (3,)]),
    "linear tanh": (
        lambda lib, w, b, x, v: lib.func.jvp(
            lambda x: lib.nn.functional.linear(x, w, b).tanh(), (x,), (v,)
        ),
        [(4, 3), (4,), (3,), (3,)],
    ),
    "two inputs, two outputs": (_jvp_two_inputs, [(3,), (3,), (3,), (3,)]),
    "has_aux": (_jvp_has_aux, [(3,), (3,)]),
    "hvp by forward over reverse": (_hvp_forward_over_reverse, [(4,), (4,)]),
    "jvp of jvp": (_jvp_of_jvp, [(3,), (3,), (3,)]),
    "jvp of jvp of jvp": (_jvp_of_jvp_of_jvp, [(2,), (2,), (2,), (2,)]),
    "grad of jvp": (_grad_of_jvp, [(3,), (3,)]),
    "jvp of vjp": (_jvp_of_vjp, [(3,), (3,), (3,)]),
    "output independent of the input": (_jvp_of_an_independent_output, [(3,), (3,), (2,)]),
}


@pytest.mark.parametrize("name", sorted(JVP_CASES))
def test_jvp_as_torch_func(name):
    case, shapes = JVP_CASES[name]
    same(case, *shapes)


def test_jvp_results_require_grad_as_torch_func():
    def run(lib):
        x, v = tensors(lib, (3,), (3,))
        x.requires_grad_()
        out, tangent = lib.func.jvp(lambda x: x.sin() * x, (x,), (v,))
        (out.sum() + tangent.sum()).backward()
        return out, tangent, x.grad

    assert_same(run(gradienti), run(torch), torch)


JVP_ERRORS = {
    "primals not a tuple": lambda lib: lib.func.jvp(lambda x: x, [lib.ones(3)], [lib.ones(3)]),
    "structures differ": lambda lib: lib.func.jvp(lambda x: x, (lib.ones(3),), [lib.ones(3)]),
    "tangent of another shape": lambda lib: lib.func.jvp(
        lambda x: x, (lib.ones(3),), (lib.ones(2),)
    ),
    "no primals": lambda lib: lib.func.jvp(lambda x: x, (), ()),
    "primal not a Tensor": lambda lib: lib.func.jvp(lambda x: x, (3.0,), (3.0,)),
    "non-Tensor output": lambda lib: lib.func.jvp(lambda x: 3, (lib.ones(3),), (lib.ones(3),)),
    "has_aux not a pair": lambda lib: lib.func.jvp(
        lambda x: x, (lib.ones(3),), (lib.ones(3),), has_aux=True
    ),
    "strict and independent": lambda lib: lib.func.jvp(
        lambda x: lib.ones(3), (lib.ones(3),), (lib.ones(3),), strict=True
    ),
    "integer primal": lambda lib: lib.func.jvp(
        lambda x: x, (lib.tensor([1, 2]),), (lib.tensor([1, 2]),)
    ),
}


@pytest.mark.parametrize("name", sorted(JVP_ERRORS))
def test_jvp_errors_as_torch_func(name):
    assert_same_error(JVP_ERRORS[name], torch)


def test_jvp_against_finite_differences():
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal(5), rng.standard_normal(5)

    def f(x):
        return (x.sin() * x.exp()).tanh() / (1 + x * x)

    _, tangent = gradienti.func.jvp(f, (gradienti.tensor(x),), (gradienti.tensor(v),))
    eps = 1e-6
    plus = f(gradienti.tensor(x + eps * v)).numpy()
    minus = f(gradienti.tensor(x - eps * v)).numpy()
    np.testing.assert_allclose(tangent.numpy(), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------- linearize
def _linearize(lib, x, u, v):
    out, jvp_fn = lib.func.linearize(lambda x: (x.sin() * x, x.exp().sum()), x)
    return out, jvp_fn(u), jvp_fn(v)


def _linearize_two_inputs(lib, x, y, u, v):
    out, jvp_fn = lib.func.linearize(lambda x, y: (x * y).tanh(), x, y)
    return out, jvp_fn(u, v)


@pytest.mark.parametrize(
    ("case", "shapes"),
    [
        (_linearize, [(3,), (3,), (3,)]),
        (_linearize_two_inputs, [(2, 2), (2, 2), (2, 2), (2, 2)]),
    ],
)
def test_linearize_as_torch_func(case, shapes):
    same(case, *shapes)


def test_linearize_runs_the_function_once():
    calls = []

    def f(x):
        calls.append(1)
        return x.sin()

    _, jvp_fn = gradienti.func.linearize(f, gradienti.ones(3, dtype=gradienti.float64))
    jvp_fn(gradienti.ones(3, dtype=gradienti.float64))
    jvp_fn(gradienti.zeros(3, dtype=gradienti.float64))
    assert len(calls) == 1


LINEARIZE_ERRORS = {
    "tangent shape": lambda lib: lib.func.linearize(lambda x: x.sin(), lib.ones(3))[1](lib.ones(2)),
    "tangent dtype": lambda lib: lib.func.linearize(lambda x: x.sin(), lib.ones(3))[1](
        lib.ones(3, dtype=lib.float64)
    ),
    "tangents structure": lambda lib: lib.func.linearize(lambda x: x.sin(), lib.ones(3))[1](
        lib.ones(3), lib.ones(3)
    ),
}


@pytest.mark.parametrize("name", sorted(LINEARIZE_ERRORS))
def test_linearize_errors_as_torch_func(name):
    assert_same_error(LINEARIZE_ERRORS[name], torch)


# ---------------------------------------------------------------------- values leaving, transformed
def _sum_times_item(lib, t):
    return t.sum() * t.sum().item()


def _branch(lib, t):
    return t.sum() if t.sum() > 0 else -t.sum()


def _sum_times_float(lib, t):
    return t.sum() * float(t.sum())


LEAVING_CASES = {
    "vmap(grad)": lambda lib, f, x: lib.func.vmap(lib.func.grad(f))(x),
    "vmap(vjp)": lambda lib, f, x: lib.func.vmap(lambda a: lib.func.vjp(f, a)[0])(x),
    "vmap(jvp)": lambda lib, f, x: lib.func.vmap(lambda a: lib.func.jvp(f, (a,), (a,))[0])(x),
    "vmap(jacrev)": lambda lib, f, x: lib.func.vmap(lib.func.jacrev(f))(x),
    "vmap(jacfwd)": lambda lib, f, x: lib.func.vmap(lib.func.jacfwd(f))(x),
    "grad(vmap)": lambda lib, f, x: lib.func.grad(lambda a: lib.func.vmap(f)(a).sum())(x),
    "vmap(grad), a captured value": lambda lib, f, x: lib.func.vmap(
        lambda a: lib.func.grad(lambda b: (b * f(a)).sum())(lib.ones(3, dtype=lib.float64))
    )(x),
}


@pytest.mark.parametrize("function", [_sum_times_item, _branch, _sum_times_float])
@pytest.mark.parametrize("name", list(LEAVING_CASES))
def test_a_value_leaving_vmap_under_a_transform_raises_as_torch_func(name, function):
    """Inside a transform inside vmap, PyTorch's message names both .item() and control flow;
    directly inside vmap, the one that applies."""
    torch = pytest.importorskip("torch")
    assert_same_error(
        lambda lib: LEAVING_CASES[name](
            lib, lambda t: function(lib, t), lib.tensor(np.ones((2, 3)))
        ),
        torch,
    )
