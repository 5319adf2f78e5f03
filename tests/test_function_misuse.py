"""What a custom Function's methods hand back, checked as PyTorch checks it: the same class
body runs with gradienti and with torch, and the outcome (error class and text, or result)
must be the same."""

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti


class _Opaque:  # a class defined in Python: PyTorch's messages name it without its module
    pass


def _outcome(action):
    """What ``action(lib)`` returns or raises, with gradienti and with torch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        try:
            results.append(("ok", action(lib)))
        except Exception as error:  # noqa: BLE001 - the class and text are what is compared
            results.append((type(error).__name__, pytorch_text(str(error))))
    return results


def _function(lib, backward, forward=None, save=None):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            if save is not None:
                save(ctx, x)
            return x * 2 if forward is None else forward(x)

        @staticmethod
        def backward(ctx, *grads):
            return backward(*grads)

    return MyFn


def _backward_through(backward, extra_args=(), dtype="float32"):
    """Run backward through MyFn(x, *extra_args); the leaf's gradient, or the error."""

    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=getattr(lib, dtype), requires_grad=True)
        y = _function(lib, backward).apply(x, *extra_args)
        try:
            y.sum().backward()
        except RuntimeError:
            assert x.grad is None  # a refused gradient reaches no leaf
            raise
        return None if x.grad is None else (x.grad.tolist(), str(x.grad.dtype))

    return action


BACKWARD_RESULTS = {
    "float": lambda grad: 2.0,
    "int": lambda grad: 2,
    "list": lambda grad: [grad],
    "string": lambda grad: "grad",
    "ndarray": lambda grad: np.ones(3, dtype=np.float32),
    "numpy scalar": lambda grad: np.float64(2.0),
    "python class": lambda grad: _Opaque(),
    "float in a tuple": lambda grad: (2.0,),
    "too many values": lambda grad: (grad, grad),
    "no values": lambda grad: (),
    "extra Nones (dropped)": lambda grad: (grad, None, None),
    "None": lambda grad: None,
    "None in a tuple": lambda grad: (None,),
    "wrong shape": lambda grad: grad[:2],
    "scalar for a vector": lambda grad: grad.sum(),
    "shape [1] for [3]": lambda grad: grad.sum().reshape(1),
    "broadcast shape (summed)": lambda grad: grad.expand(2, 3),
    "float64 (cast)": lambda grad: grad.double(),
    "int64 (cast)": lambda grad: grad.long(),
    "bool (cast)": lambda grad: grad.bool(),
}


@pytest.mark.parametrize("case", BACKWARD_RESULTS)
def test_what_backward_returns_is_checked_as_in_torch(case):
    gradienti_result, torch_result = _outcome(_backward_through(BACKWARD_RESULTS[case]))
    assert gradienti_result == torch_result


def test_half_gradient_of_a_double_input_is_cast():
    action = _backward_through(lambda grad: grad.half(), dtype="float64")
    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == ("ok", ([1.0, 1.0, 1.0], "torch.float64")) == torch_result


NON_TENSOR_ARGUMENT_RESULTS = {
    "float for a tensor, None for the number": lambda grad: (2.0, None),
    "a gradient for the number": lambda grad: (grad, 2.0),
    "one value for two arguments": lambda grad: (grad,),
    "wrapped in a list": lambda grad: [grad, None],
}


@pytest.mark.parametrize("case", NON_TENSOR_ARGUMENT_RESULTS)
def test_gradients_for_non_tensor_arguments_are_checked_as_in_torch(case):
    action = _backward_through(NON_TENSOR_ARGUMENT_RESULTS[case], extra_args=(3.0,))
    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "RuntimeError"
    assert gradienti_result == torch_result


CONSTANT_INPUT_RESULTS = {
    "wrong shape (unchecked)": lambda grad: grad[:2],
    "float64 (unchecked)": lambda grad: grad.double(),
    "a float": lambda grad: 2.0,
}


@pytest.mark.parametrize("case", CONSTANT_INPUT_RESULTS)
@pytest.mark.parametrize("constant_dtype", ["float32", "int64"])
def test_gradient_of_a_tensor_that_does_not_require_grad(case, constant_dtype):
    # PyTorch drops it without checking its shape or dtype, but it must be a tensor or None.
    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        constant = lib.ones(3, dtype=getattr(lib, constant_dtype))
        make_constant_gradient = CONSTANT_INPUT_RESULTS[case]
        fn = _function(lib, lambda grad: (grad, make_constant_gradient(grad)))
        fn.apply(x, constant).sum().backward()
        return x.grad.tolist()

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == torch_result


def test_invalid_gradient_index_counts_tensor_inputs_only():
    def action(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([1.0, 2.0], requires_grad=True)

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, w):
                return x * k + w.sum()

            @staticmethod
            def backward(ctx, grad):
                return grad, None, grad  # [3] for w, which has shape [2]

        Two.apply(x, 2.0, w).sum().backward()

    gradienti_result, torch_result = _outcome(action)
    assert "at index 1 - got [3]" in gradienti_result[1]
    assert gradienti_result == torch_result


SAVED = {
    "an int": lambda ctx, x: ctx.save_for_backward(3),
    "a float after a tensor": lambda ctx, x: ctx.save_for_backward(x, 3.5),
    "a list": lambda ctx, x: ctx.save_for_backward([x]),
    "an ndarray": lambda ctx, x: ctx.save_for_backward(np.ones(2)),
    "None (allowed)": lambda ctx, x: ctx.save_for_backward(None),
}


@pytest.mark.parametrize("case", SAVED)
@pytest.mark.parametrize("graph", ["recorded", "no_grad", "no input requires grad"])
def test_save_for_backward_accepts_only_tensors_or_none(case, graph):
    # Checked only when a graph is recorded, as in PyTorch.
    def action(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=graph != "no input requires grad")
        fn = _function(lib, lambda grad: grad, save=SAVED[case])
        with lib.set_grad_enabled(graph != "no_grad"):
            y = fn.apply(x)
        return y.tolist()

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == torch_result


MARKED = {
    "mark_non_differentiable(3)": lambda ctx, x: ctx.mark_non_differentiable(3),
    "mark_non_differentiable(tuple)": lambda ctx, x: ctx.mark_non_differentiable((x,)),
    "mark_dirty(3)": lambda ctx, x: ctx.mark_dirty(3),
    "mark_dirty of a tensor not returned": lambda ctx, x: (x.add_(1), ctx.mark_dirty(x)),
}


@pytest.mark.parametrize("case", MARKED)
@pytest.mark.parametrize("requires_grad", [True, False])
def test_mark_functions_accept_only_tensors_they_can_use(case, requires_grad):
    def action(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=requires_grad)
        x = a * 1
        fn = _function(lib, lambda grad: grad, save=MARKED[case])
        return fn.apply(x).tolist(), x._version

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "RuntimeError"
    assert gradienti_result == torch_result


def _add_one_in_place(lib):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    return AddOne


def test_mark_dirty_on_a_leaf_that_requires_grad_is_refused():
    def action(lib):
        return _add_one_in_place(lib).apply(lib.ones(2, requires_grad=True))

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "RuntimeError"
    assert gradienti_result == torch_result


def test_mark_dirty_on_a_view_of_a_leaf_that_requires_grad_is_refused():
    def action(lib):
        return _add_one_in_place(lib).apply(lib.ones(2, requires_grad=True)[:1])

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "RuntimeError"
    assert gradienti_result == torch_result


def test_mark_dirty_makes_the_input_the_output():
    def action(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        constant = lib.tensor([5.0, 6.0])
        x = a * 3
        y = _add_one_in_place(lib).apply(x)
        z = _add_one_in_place(lib).apply(constant)  # a constant, no graph: itself, counted
        (y * y).sum().backward()
        names = [type(y.grad_fn).__name__, type(y.grad_fn.next_functions[0][0]).__name__]
        return y is x, z is constant, x._version, constant._version, names, a.grad.tolist()

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "ok"
    assert gradienti_result == torch_result


def test_mark_dirty_of_a_constant_input_gives_it_the_function_as_grad_fn():
    def action(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([1.0, 1.0])

        class ScaleInto(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, x):
                x.mul_(3)
                ctx.mark_dirty(x)
                return a * x, x

            @staticmethod
            def backward(ctx, grad_product, grad_x):
                return grad_product * 3, None

        product, out = ScaleInto.apply(a, x)
        return out is x, x.requires_grad, type(x.grad_fn).__name__, x._version, x.output_nr

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == ("ok", (True, True, "ScaleIntoBackward", 2, 1)) == torch_result


def test_a_refused_call_changes_nothing():
    def action(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        x = a * 1

        class DirtyThenBadSave(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(3)
                ctx.mark_dirty(x)
                ctx.save_for_backward(3)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.raises(TypeError, match="save_for_backward can only save variables"):
            DirtyThenBadSave.apply(x)
        return type(x.grad_fn).__name__, x._version  # still Mul's output, one change counted

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == ("ok", ("MulBackward0", 1)) == torch_result


def test_mark_dirty_of_a_tensor_that_is_not_an_input_warns():
    def action(lib):
        class DirtyOutput(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out = x * 2
                ctx.mark_dirty(out)
                return out

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        with pytest.warns(UserWarning, match=r"ctx.mark_dirty\(\) received a tensor that was not"):
            return DirtyOutput.apply(lib.ones(2, requires_grad=True)).tolist()

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == ("ok", [2.0, 2.0]) == torch_result


@pytest.mark.parametrize("materialize", [True, False])
def test_outputs_that_are_not_tensors_get_none_and_keep_their_positions(materialize):
    def action(lib):
        received = []

        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return 3, x * 2, "label", x * 3

            @staticmethod
            def backward(ctx, *grads):
                received.append([None if g is None else g.tolist() for g in grads])
                return grads[1] * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        number, double, label, triple = Mixed.apply(x)
        double.sum().backward()
        edges = [output_nr for _node, output_nr in (double + triple).grad_fn.next_functions]
        return number, label, double.output_nr, triple.output_nr, edges, received, x.grad.tolist()

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result[0] == "ok"
    assert gradienti_result == torch_result


@pytest.mark.parametrize("returned", ["an int", "None", "a list"])
def test_forward_may_return_non_tensors(returned):
    def action(lib):
        forwards = {"an int": lambda x: 3, "None": lambda x: None, "a list": lambda x: [x * 2]}
        fn = _function(lib, lambda grad: grad, forward=forwards[returned])
        result = fn.apply(lib.ones(2, requires_grad=True))
        if isinstance(result, list):
            return [t.tolist() for t in result], [t.requires_grad for t in result]
        return result

    gradienti_result, torch_result = _outcome(action)
    assert gradienti_result == torch_result
