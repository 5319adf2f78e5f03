"""Custom Functions under ``vmap`` and the ``func`` transforms, as "Extending torch.func with
autograd.Function" teaches them: ``generate_vmap_rule = True``, a ``vmap`` staticmethod (its
``info``, ``in_dims`` and ``(outputs, out_dims)``), PyTorch's errors. The docs' examples run
unchanged with gradienti and with torch."""

import numpy as np
import pytest
from same_outcome import same_outcome


def _rounded(tensors):
    return [np.round(t.detach().numpy().astype(float), 6).tolist() for t in tensors]


def _numpy_sort(lib, with_vmap):
    """The docs' NumpySort and NumpyTake (calling NumPy), with or without vmap staticmethods."""

    def to_numpy(tensor):
        return tensor.cpu().numpy()

    class NumpySort(lib.autograd.Function):
        @staticmethod
        def forward(x, dim):
            device = x.device
            x = to_numpy(x)
            ind = np.argsort(x, axis=dim)
            ind_inv = np.argsort(ind, axis=dim)
            result = np.take_along_axis(x, ind, axis=dim)
            return (
                lib.tensor(result, device=device),
                lib.tensor(ind, device=device),
                lib.tensor(ind_inv, device=device),
            )

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, dim = inputs
            _, ind, ind_inv = output
            ctx.mark_non_differentiable(ind, ind_inv)
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output, _0, _1):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

    class NumpyTake(lib.autograd.Function):
        @staticmethod
        def forward(x, ind, ind_inv, dim):
            device = x.device
            x = to_numpy(x)
            ind = to_numpy(ind)
            return lib.tensor(np.take_along_axis(x, ind, dim), device=device)

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, ind, ind_inv, dim = inputs
            ctx.save_for_backward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output):
            ind, ind_inv = ctx.saved_tensors
            result = NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim)
            return result, None, None, None

    def sort_vmap(info, in_dims, x, dim):
        x_bdim, _ = in_dims
        x = x.movedim(x_bdim, 0)
        dim = dim if dim >= 0 else dim + x.dim() - 1
        return NumpySort.apply(x, dim + 1), (0, 0, 0)

    def take_vmap(info, in_dims, x, ind, ind_inv, dim):
        x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
        logical_dim = x.dim() if x_bdim is None else x_bdim - 1
        dim = dim if dim >= 0 else dim + logical_dim

        def maybe_expand_bdim_at_front(x, x_bdim):
            if x_bdim is None:
                return x.expand(info.batch_size, *x.shape)
            return x.movedim(x_bdim, 0)

        x = maybe_expand_bdim_at_front(x, x_bdim)
        ind = maybe_expand_bdim_at_front(ind, ind_bdim)
        ind_inv = maybe_expand_bdim_at_front(ind_inv, ind_inv_bdim)
        return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0

    if with_vmap:
        NumpySort.vmap = staticmethod(sort_vmap)
        NumpyTake.vmap = staticmethod(take_vmap)

    def numpy_sort(x, dim=-1):
        result, _, _ = NumpySort.apply(x, dim)
        return result

    return numpy_sort


def _x(lib, *shape, seed=0):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=lib.float32)


def test_grad_of_a_function_that_calls_numpy():
    def action(lib):
        numpy_sort = _numpy_sort(lib, with_vmap=False)
        x = _x(lib, 2, 3)
        grad_x = lib.func.grad(lambda x: numpy_sort(x).sum())(x)
        assert lib.allclose(grad_x, lib.ones_like(x))
        weights = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        return _rounded([lib.func.grad(lambda x: (numpy_sort(x) * weights).sum())(x)])

    same_outcome(action)


@pytest.mark.parametrize(
    "transform",
    [
        lambda lib, f: lib.vmap(f),
        lambda lib, f: lib.vmap(f, in_dims=1),
        lambda lib, f: lambda x: lib.vmap(lib.vmap(f))(x.reshape(1, 2, 3)),
        lambda lib, f: lib.vmap(lib.func.grad(lambda r: (f(r) * lib.tensor([1.0, 2, 3])).sum())),
        lambda lib, f: lambda x: lib.func.jacrev(f)(x[0]),
        # no jvp: PyTorch's error
        lambda lib, f: lambda x: lib.func.jacfwd(f)(x[0]),
    ],
)
def test_the_vmap_staticmethod_example(transform):
    def action(lib):
        numpy_sort = _numpy_sort(lib, with_vmap=True)
        x = _x(lib, 2, 3, seed=1)
        result = lib.vmap(numpy_sort)(x)
        assert lib.allclose(result, numpy_sort(result, 1))
        return _rounded([transform(lib, numpy_sort)(x)])

    same_outcome(action)


def test_a_function_without_vmap_support_is_refused_under_vmap():
    def action(lib):
        return lib.vmap(_numpy_sort(lib, with_vmap=False))(_x(lib, 2, 3))

    assert same_outcome(action) == (
        "RuntimeError",
        "You tried to vmap over NumpySort, but it does not have vmap support. Please override "
        "and implement the vmap staticmethod or set generate_vmap_rule=True. For more details, "
        "please see https://pytorch.org/docs/main/notes/extending.func.html",
    )


def _my_cube(lib, generate_vmap_rule):
    class MyCube(lib.autograd.Function):
        @staticmethod
        def forward(x):
            result = x**3
            dx = 3 * x**2
            return result, dx

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            result, dx = output
            ctx.save_for_backward(x, dx)

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    MyCube.generate_vmap_rule = generate_vmap_rule

    def my_cube(x):
        result, _ = MyCube.apply(x)
        return result

    return my_cube


def test_second_order_gradients_through_a_custom_gradient():
    def action(lib):
        x = lib.tensor(0.7)
        ggx = lib.func.grad(lib.func.grad(_my_cube(lib, False)))(x)
        assert lib.allclose(ggx, 6 * x)
        return _rounded([ggx])

    same_outcome(action)


@pytest.mark.parametrize("generate_vmap_rule", [True, False])
@pytest.mark.parametrize(
    ("transform", "with_rule", "without_rule"),
    [
        (lambda lib, f: lib.vmap(f), "ok", "RuntimeError"),
        (lambda lib, f: lib.func.jacrev(f), "ok", "ok"),  # vmaps the backward pass only
        (lambda lib, f: lib.vmap(lib.func.grad(f)), "ok", "RuntimeError"),
        # jacfwd over the tangents: vmap first (a batched tangent), then the missing jvp
        (
            lambda lib, f: lib.func.hessian(lambda x: f(x).sum()),
            "NotImplementedError",
            "RuntimeError",
        ),
    ],
)
def test_generate_vmap_rule(generate_vmap_rule, transform, with_rule, without_rule):
    def action(lib):
        my_cube = _my_cube(lib, generate_vmap_rule)
        x = lib.tensor([0.5, -1.0, 2.0])
        return _rounded([transform(lib, my_cube)(x)])

    outcome = same_outcome(action)
    assert outcome[0] == (with_rule if generate_vmap_rule else without_rule)


def _pair(lib, rule, generate=False, setup=True):
    class Pair(lib.autograd.Function):
        generate_vmap_rule = generate

        @staticmethod
        def forward(x, y):
            return x * 2, y * 3

        @staticmethod
        def backward(ctx, grad_x, grad_y):
            return grad_x * 2, grad_y * 3

    if setup:
        Pair.setup_context = staticmethod(lambda ctx, inputs, output: None)
    else:
        Pair.forward = staticmethod(lambda ctx, x, y: (x * 2, y * 3))
    if rule is not None:
        Pair.vmap = staticmethod(rule)
    return Pair


_RULES = {
    "batched again at 0": lambda info, dims, a, b: ((a * 2, b * 3), (0, 0)),
    "one out_dim for all": lambda info, dims, a, b: ((a * 2, b * 3), 0),
    "an unbatched output": lambda info, dims, a, b: ((a[0] * 2, b * 3), (None, 0)),
    "batched at dim 1": lambda info, dims, a, b: ((a.t() * 2, b * 3), (1, 0)),
    "inputs returned as they are": lambda info, dims, a, b: ((a, b), (0, 0)),
    "a list": lambda info, dims, a, b: [a, b],
    "three returns": lambda info, dims, a, b: (a, b, 0),
    "too many out_dims": lambda info, dims, a, b: ((a, b), (0, 0, 0)),
    "nested out_dims": lambda info, dims, a, b: ((a, b), ((0,), 0)),
}


@pytest.mark.parametrize("case", list(_RULES))
@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (1, 0)])
def test_what_the_vmap_staticmethod_sees_and_returns(case, in_dims):
    def action(lib):
        seen = []

        def rule(info, dims, a, b):
            seen.append((type(info).__name__, info.batch_size, info.randomness, dims))
            seen.append((tuple(a.shape), tuple(b.shape)))
            return _RULES[case](info, dims, a, b)

        x = lib.arange(6.0).reshape(3, 2)
        y = lib.ones(3, 2) if in_dims[1] is not None else lib.ones(2)
        identical = []

        def f(a, b):
            outputs = _pair(lib, rule).apply(a, b)
            identical.append((outputs[0] is a, outputs[1] is b))
            return outputs

        out = lib.vmap(f, in_dims=in_dims, randomness="same")(x, y)
        return seen, identical, _rounded(out)

    same_outcome(action)


@pytest.mark.parametrize(
    ("rule", "generate", "setup"),
    [
        (None, False, True),  # neither a rule nor generate_vmap_rule
        (lambda info, dims, a, b: None, True, True),  # both
        (lambda info, dims, a, b: None, False, False),  # the combined style
        (None, True, False),
    ],
)
def test_pytorchs_errors_under_vmap(rule, generate, setup):
    def action(lib):
        return lib.vmap(lambda a, b: _pair(lib, rule, generate, setup).apply(a, b))(
            lib.ones(3, 2), lib.ones(3, 2)
        )

    assert same_outcome(action)[0] == "RuntimeError"


def test_a_function_whose_arguments_are_not_batched_runs_as_is_under_vmap():
    def action(lib):
        y = lib.ones(3, 2)

        def f(a):
            never = _pair(lib, lambda *args: 1 / 0)
            return never.apply(y, y)[0] + a

        return _rounded([lib.vmap(f)(lib.ones(3, 2))])

    same_outcome(action)


def _sin_times(lib):
    class SinTimes(lib.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, y):
            return x.sin() * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)

        @staticmethod
        def jvp(ctx, x_t, y_t):
            x, y = ctx.saved_tensors
            return x.cos() * y * x_t + x.sin() * y_t

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * x.cos() * y, grad * x.sin()

    return SinTimes


@pytest.mark.parametrize(
    "transform",
    [
        lambda lib, f, x, t: lib.func.jvp(f, (x,), (t,)),
        lambda lib, f, x, t: (lib.func.jacfwd(f)(x),),
        lambda lib, f, x, t: (lib.func.jacrev(f)(x),),
        lambda lib, f, x, t: (lib.func.hessian(lambda x: f(x).sum())(x),),
        lambda lib, f, x, t: lib.func.jvp(lib.func.grad(lambda x: f(x).sum()), (x,), (t,)),
        lambda lib, f, x, t: (
            lib.vmap(lambda u: lib.func.jvp(f, (x,), (u,))[1])(lib.eye(3, dtype=lib.float64)),
        ),
    ],
)
def test_a_function_with_jvp_and_backward_under_every_transform(transform):
    def action(lib):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64)
        y = lib.tensor([2.0, 0.5, 1.0], dtype=lib.float64)
        tangent = lib.ones(3, dtype=lib.float64)
        function = _sin_times(lib)
        return _rounded(transform(lib, lambda x: function.apply(x, y), x, tangent))

    same_outcome(action)
