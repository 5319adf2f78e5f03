"""``autograd.grad(..., is_grads_batched=True)``: one backward pass over a batch of grad
outputs (the first dimension of each), compared with torch and with one pass per sample."""

import warnings

import numpy as np
import pytest
from same_outcome import same_outcome

import gradienti


def _rounded(values):
    return [
        None if v is None else np.round(v.detach().numpy().astype(float), 8).tolist()
        for v in values
    ]


def _cube(lib, kind):
    """x**3 as a plain op, or as a custom Function with or without a generated vmap rule."""
    if kind == "op":
        return lambda x: x**3

    class Cube(lib.autograd.Function):
        generate_vmap_rule = kind == "generated rule"

        @staticmethod
        def forward(x):
            return x**3, 3 * x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], output[1])

        @staticmethod
        def backward(ctx, grad, grad_dx):
            x, dx = ctx.saved_tensors
            return grad * dx + grad_dx * 6 * x

    return lambda x: Cube.apply(x)[0]


@pytest.mark.parametrize("kind", ["op", "generated rule", "no vmap rule"])
def test_the_jacobian_in_one_pass(kind):
    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = _cube(lib, kind)(x) * lib.tensor([1.0, -1.0, 2.0], dtype=lib.float64)
        v = lib.tensor(np.arange(12.0).reshape(4, 3), dtype=lib.float64)
        (batched,) = lib.autograd.grad(y, x, v, retain_graph=True, is_grads_batched=True)
        rows = [lib.autograd.grad(y, x, row, retain_graph=True)[0] for row in v]
        assert lib.equal(batched, lib.stack(rows))
        return _rounded([batched])

    same_outcome(action)


def test_several_outputs_and_inputs():
    def action(lib):
        double = lib.float64
        x = lib.tensor([1.0, 2.0, 3.0], dtype=double, requires_grad=True)
        w = lib.tensor([0.5, -1.0], dtype=double, requires_grad=True)
        y = (x.unsqueeze(1) * w).tanh()
        z = x.sum() * 3
        grad_outputs = (lib.ones(5, 3, 2, dtype=double), lib.arange(5.0, dtype=double))
        return _rounded(lib.autograd.grad((y, z), (x, w), grad_outputs, is_grads_batched=True))

    same_outcome(action)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, y, x, w: lib.autograd.grad(y, x, lib.eye(2), is_grads_batched=True),
        lambda lib, y, x, w: lib.autograd.grad(y, x, lib.ones(3), is_grads_batched=True),
        lambda lib, y, x, w: lib.autograd.grad(y.sum(), x, None, is_grads_batched=True),
        lambda lib, y, x, w: lib.autograd.grad(y.sum(), x, lib.ones(4), is_grads_batched=True),
        lambda lib, y, x, w: lib.autograd.grad(
            (y, x * 3), x, (lib.eye(3), lib.ones(2, 3)), is_grads_batched=True
        ),
        lambda lib, y, x, w: lib.autograd.grad(y, [x, w], lib.eye(3), is_grads_batched=True),
        lambda lib, y, x, w: lib.autograd.grad(
            y, [x, w], lib.eye(3), is_grads_batched=True, allow_unused=True
        ),
        lambda lib, y, x, w: lib.autograd.grad(
            y, [x, w], lib.eye(3), is_grads_batched=True, materialize_grads=True
        ),
    ],
)
def test_arguments_are_checked_as_in_torch(call):
    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.ones(3, requires_grad=True)
        result = call(lib, x**2, x, w)
        return _rounded(result)

    same_outcome(action)


def test_create_graph_gives_gradients_that_differentiate_again():
    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x**3
        (jacobian,) = lib.autograd.grad(y, x, lib.eye(3, dtype=lib.float64), create_graph=True,
                                        is_grads_batched=True)  # fmt: skip
        (second,) = lib.autograd.grad((jacobian * lib.arange(9.0).reshape(3, 3)).sum(), x)
        return jacobian.requires_grad, _rounded([jacobian, second])

    assert same_outcome(action)[1][0] is True


def test_the_hessian_from_a_gradient_in_one_pass():
    def action(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (gradient,) = lib.autograd.grad((x**3).prod(), x, create_graph=True)
        eye = lib.eye(2, dtype=lib.float64)
        return _rounded(lib.autograd.grad(gradient, x, eye, is_grads_batched=True))

    assert same_outcome(action)[1] == [[[48.0, 36.0], [36.0, 12.0]]]


def test_the_pass_runs_batched_not_per_sample():
    # an op without a batching rule would fall back to a loop, with PyTorch's warning
    x = gradienti.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    w = gradienti.tensor(np.linspace(0, 1, 20).reshape(4, 5), requires_grad=True)
    y = (x @ w).tanh().sum(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jacobians = gradienti.autograd.grad(y, (x, w), gradienti.eye(3), is_grads_batched=True)
    assert [tuple(j.shape) for j in jacobians] == [(3, 3, 4), (3, 4, 5)]
