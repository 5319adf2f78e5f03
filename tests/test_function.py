"""Custom autograd.Function: the same class body runs with gradienti and with torch."""

import gc
import weakref

import pytest

import gradienti


def _functions(lib):
    """The same custom Functions, defined against ``lib`` (gradienti or torch)."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x**3 * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return grad * 3 * x**2 * ctx.scale, None

    class Exp(lib.autograd.Function):  # saves its output
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    class MulAdd(lib.autograd.Function):  # two tensor inputs, two outputs
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            a, b = ctx.saved_tensors
            return grad_product * b + grad_sum, grad_product * a + grad_sum

    return {"Cube": Cube, "Exp": Exp, "MulAdd": MulAdd}


def _leaf(lib, values):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def test_cube_value_grad_name_and_edges():
    fn = _functions(gradienti)["Cube"]
    x = _leaf(gradienti, [1.0, 2.0])
    y = fn.apply(x, 2.0)
    assert y.tolist() == [2.0, 16.0]
    assert type(y.grad_fn).__name__ == "CubeBackward"
    assert repr(y).endswith("grad_fn=<CubeBackward>)")
    (edge,) = y.grad_fn.next_functions  # one entry per tensor argument, as in torch
    assert edge[0] is x.grad_fn or type(edge[0]).__name__ == "AccumulateGrad"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


@pytest.mark.parametrize("name", ["Cube", "Exp", "MulAdd"])
def test_first_and_second_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        fn = _functions(lib)[name]
        a, b = _leaf(lib, [0.5, -1.0, 2.0]), _leaf(lib, [1.5, 0.25, -0.5])
        if name == "Cube":
            out = fn.apply(a, 1.5)
            inputs = (a,)
        elif name == "Exp":
            out = fn.apply(a)
            inputs = (a,)
        else:
            product, total = fn.apply(a, b)
            out = product * 2 + total * 3
            inputs = (a, b)
        first = lib.autograd.grad(out.sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum(g.sum() for g in first), inputs)
        results.append([[round(v, 10) for v in g.tolist()] for g in first + second])
    assert results[0] == results[1]


def test_backward_through_the_graph_twice_raises():
    fn = _functions(gradienti)["Cube"]
    x = _leaf(gradienti, [1.0])
    y = fn.apply(x, 1.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def _bad_function(lib, kind):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            if kind == "count":
                return (grad,)
            if kind == "non_tensor":
                return grad, grad
            return grad[:1], None

    return Bad


@pytest.mark.parametrize("kind", ["count", "non_tensor", "shape"])
def test_backward_misuse_errors_match_torch(kind):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = _bad_function(lib, kind).apply(x, 2.0).sum()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        messages.append(str(info.value))
        assert x.grad is None  # the failed backward changed nothing
    assert messages[0] == messages[1]


def test_mark_non_differentiable_and_zeros_for_unused_outputs():
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (gradienti, torch):

        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                mask = x > 0
                ctx.mark_non_differentiable(mask)
                return x * 2, mask

            @staticmethod
            def backward(ctx, grad, grad_mask):
                seen.append(grad_mask.tolist())
                return grad * 2

        x = lib.tensor([1.0, -1.0], requires_grad=True)
        doubled, mask = Split.apply(x)
        assert not mask.requires_grad
        doubled.sum().backward()
        seen.append(x.grad.tolist())
    assert seen[:2] == seen[2:]


def test_set_materialize_grads_false_passes_none():
    received = []

    class Two(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, first, second):
            received.append(second)
            return first * 2

    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    first, _ = Two.apply(x)
    first.sum().backward()
    assert received == [None]
    assert x.grad.tolist() == [2.0, 2.0]


def test_no_graph_under_no_grad():
    fn = _functions(gradienti)["Cube"]
    x = _leaf(gradienti, [1.0])
    with gradienti.no_grad():
        y = fn.apply(x, 1.0)
    assert not y.requires_grad and y.grad_fn is None


def test_saved_output_makes_no_reference_cycle():
    fn = _functions(gradienti)["Exp"]
    x = _leaf(gradienti, [1.0, 2.0])
    gc.disable()
    try:
        y = fn.apply(x)
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None  # freed by reference counting alone
    finally:
        gc.enable()
