"""gradienti.func's jacrev, jacfwd and hessian against torch.func (values, nested structures of
several inputs and outputs, argnums, has_aux, chunk_size, compositions, errors) and against
float64 finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from func_helpers import assert_same, assert_same_error, tensors

import gradienti

torch = pytest.importorskip("torch")

JACOBIANS = ("jacrev", "jacfwd")


def same(case, *shapes, tol=1e-10):
    ours = case(gradienti, *tensors(gradienti, *shapes))
    theirs = case(torch, *tensors(torch, *shapes))
    assert_same(ours, theirs, torch, tol)


def predict(lib):
    def f(weight, bias, x):
        return lib.nn.functional.linear(x, weight, bias).tanh()

    return f


def _two_outputs(lib):
    def f(x, y):
        return (x * y).sin(), {"sum": (x.exp() * y).sum(), "outer": x[:, None] * y.sum(0)}

    return f


def _pytree_input(lib):
    def f(params, x):
        return (params["w"] @ x + params["b"]).tanh()

    return f


PREDICT_SHAPES = [(4, 3), (4,), (3,)]
CASES = {
    "argnums=2": (lambda lib, J, w, b, x: J(predict(lib), argnums=2)(w, b, x), PREDICT_SHAPES),
    "argnums=0 (matrix input)": (
        lambda lib, J, w, b, x: J(predict(lib), argnums=0)(w, b, x),
        PREDICT_SHAPES,
    ),
    "argnums=(0, 1)": (
        lambda lib, J, w, b, x: J(predict(lib), argnums=(0, 1))(w, b, x),
        PREDICT_SHAPES,
    ),
    "scalar input and output": (lambda lib, J, x: J(lambda x: x.sin() * x)(x[0]), [(3,)]),
    "two outputs, two inputs": (
        lambda lib, J, x, y: J(_two_outputs(lib), argnums=(0, 1))(x, y),
        [(3,), (2, 3)],
    ),
    "dict input": (
        lambda lib, J, w, b, x: J(_pytree_input(lib))({"w": w, "b": b}, x),
        [(2, 3), (2,), (3,)],
    ),
    "has_aux": (
        lambda lib, J, x: J(lambda x: (x.exp(), {"a": x.sum()}), has_aux=True)(x),
        [(3,)],
    ),
    "output independent of the input": (
        lambda lib, J, x, y: J(lambda x: y.sin())(x),
        [(3,), (2,)],
    ),
    "of itself": (lambda lib, J, x: J(J(lambda x: (x.sin() * x).sum()))(x), [(3,)]),
    "of itself, vector output": (lambda lib, J, x: J(J(lambda x: x.sin() * x.sum()))(x), [(3,)]),
}


@pytest.mark.parametrize("jacobian", JACOBIANS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobian_as_torch_func(name, jacobian):
    case, shapes = CASES[name]
    same(lambda lib, *ts: case(lib, getattr(lib.func, jacobian), *ts), *shapes)


def test_negative_argnums():
    # jacrev as torch.func. torch.func.jacfwd(f, argnums=-1) gives zeros (its _replace_args
    # compares positions with the unwrapped -1, so no input gets the tangent): gradienti gives
    # the Jacobian with respect to the last argument, as argnums=2.
    same(lambda lib, w, b, x: lib.func.jacrev(predict(lib), argnums=-1)(w, b, x), *PREDICT_SHAPES)
    w, b, x = tensors(gradienti, *PREDICT_SHAPES)
    for jacobian in (gradienti.func.jacfwd, gradienti.func.jacrev):
        last = jacobian(predict(gradienti), argnums=-1)(w, b, x)
        assert gradienti.equal(last, jacobian(predict(gradienti), argnums=2)(w, b, x))
        assert gradienti.allclose(
            last, gradienti.func.jacrev(predict(gradienti), argnums=2)(w, b, x)
        )


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 100])
def test_jacrev_chunk_size_as_torch_func(chunk_size):
    def case(lib, x, y):
        return lib.func.jacrev(_two_outputs(lib), argnums=(0, 1), chunk_size=chunk_size)(x, y)

    same(case, (3,), (2, 3))


@pytest.mark.parametrize(
    ("outer", "inner"), [("jacfwd", "jacrev"), ("jacrev", "jacfwd"), ("jacfwd", "jacfwd")]
)
def test_mixed_compositions_as_torch_func(outer, inner):
    def case(lib, w, b, x):
        jac = getattr(lib.func, outer)(getattr(lib.func, inner)(predict(lib), argnums=2), argnums=2)
        return jac(w, b, x)

    same(case, *PREDICT_SHAPES)


def test_hessian_is_jacfwd_of_jacrev_and_as_torch_func():
    def case(lib, w, b, x):
        f = predict(lib)
        return (
            lib.func.hessian(f, argnums=2)(w, b, x),
            lib.func.jacfwd(lib.func.jacrev(f, argnums=2), argnums=2)(w, b, x),
            lib.func.hessian(f, argnums=(1, 2))(w, b, x),
        )

    same(case, *PREDICT_SHAPES)
    h, fwd_rev, _ = case(gradienti, *tensors(gradienti, *PREDICT_SHAPES))
    assert gradienti.equal(h, fwd_rev)


def test_jvp_of_grad_is_hessian_times_vector():
    x, v = tensors(gradienti, (4,), (4,))

    def f(x):
        return (x.sin() * x.exp()).sum()

    _, hvp = gradienti.func.jvp(gradienti.func.grad(f), (x,), (v,))
    np.testing.assert_allclose(
        hvp.numpy(), (gradienti.func.hessian(f)(x) @ v).numpy(), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("jacobian", [*JACOBIANS, "hessian"])
def test_vmap_of_a_jacobian_as_torch_func(jacobian):
    def case(lib, w, b, x):
        per_sample = getattr(lib.func, jacobian)(predict(lib), argnums=2)
        return lib.func.vmap(per_sample, in_dims=(None, None, 0))(w, b, x)

    same(case, (4, 3), (4,), (5, 3))


def test_vmap_of_a_vjp_function_is_the_jacobian():
    def case(lib, w, b, x):
        _, vjp_fn = lib.func.vjp(lambda x: predict(lib)(w, b, x), x)
        (rows,) = lib.func.vmap(vjp_fn)(lib.eye(4, dtype=lib.float64))
        return rows, lib.func.jacrev(predict(lib), argnums=2)(w, b, x)

    same(case, *PREDICT_SHAPES)


@pytest.mark.parametrize("jacobian", JACOBIANS)
def test_jacobian_against_finite_differences(jacobian):
    rng = np.random.default_rng(7)
    w, x = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def f(x):
        return (gradienti.tensor(w) @ x).tanh() * x[:3].exp()

    jac = getattr(gradienti.func, jacobian)(f)(gradienti.tensor(x)).numpy()
    eps = 1e-6
    numeric = np.stack(
        [
            (f(gradienti.tensor(x + eps * e)).numpy() - f(gradienti.tensor(x - eps * e)).numpy())
            / (2 * eps)
            for e in np.eye(4)
        ],
        axis=1,
    )
    np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-8)


def test_jacrev_of_an_input_that_requires_grad_is_differentiable():
    def run(lib):
        (x,) = tensors(lib, (3,))
        x.requires_grad_()
        jac = lib.func.jacrev(lambda x: x.sin() * x)(x)
        jac.sum().backward()
        return jac, x.grad

    assert_same(run(gradienti), run(torch), torch)


ERRORS = {
    "jacrev chunk_size=0": lambda lib: lib.func.jacrev(lambda x: x, chunk_size=0),
    "jacrev argnum out of range": lambda lib: lib.func.jacrev(lambda x: x, argnums=3)(lib.ones(2)),
    "jacfwd argnum out of range": lambda lib: lib.func.jacfwd(lambda x: x, argnums=3)(lib.ones(2)),
    "jacfwd repeated argnums": lambda lib: lib.func.jacfwd(lambda x, y: x, argnums=(1, 1))(
        lib.ones(2), lib.ones(2)
    ),
    "jacrev non-Tensor output": lambda lib: lib.func.jacrev(lambda x: 2.0)(lib.ones(2)),
    "jacfwd non-Tensor output": lambda lib: lib.func.jacfwd(lambda x: 2.0)(lib.ones(2)),
    "jacrev has_aux not a pair": lambda lib: lib.func.jacrev(lambda x: x, has_aux=True)(
        lib.ones(2)
    ),
    "jacfwd randomness": lambda lib: lib.func.jacfwd(lambda x: x, randomness="sometimes")(
        lib.ones(2)
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_jacobian_errors_as_torch_func(name):
    assert_same_error(ERRORS[name], torch)
