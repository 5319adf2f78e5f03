"""How gradients reach ``.grad``: in place as PyTorch's AccumulateGrad, atomically across threads,
and never through a hook that changes their shape or type."""

from __future__ import annotations

import functools
import sys
import threading

import numpy as np
import pytest

import gradienti
from gradienti import nn

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------------- threads
@pytest.fixture
def frequent_thread_switches():
    """Switch threads every microsecond, so a read-add-write race shows within a few steps."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.parametrize("create_graph", [False, True])
def test_threads_sharing_a_leaf_lose_no_gradient(frequent_thread_switches, create_graph):
    weight = gradienti.ones(4, requires_grad=True)
    errors = []

    def work():
        try:
            for _ in range(100):
                loss = (weight * 2).sum() / 2  # d loss / d weight = 1 per element
                loss.backward(create_graph=create_graph)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    np.testing.assert_array_equal(weight.grad.numpy(), np.full(4, 800.0, np.float32))


def test_threads_training_one_model_accumulate_every_step(frequent_thread_switches):
    gradienti.manual_seed(0)
    model = nn.Linear(3, 2)
    inputs = gradienti.ones(5, 3)

    def work():
        for _ in range(25):
            model(inputs).sum().backward()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # d sum(x W^T + b) / dW = column sums of x per output = 5, per step; 100 steps.
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.full((2, 3), 500.0, np.float32))
    np.testing.assert_array_equal(model.bias.grad.numpy(), np.full(2, 500.0, np.float32))


# ---------------------------------------------------------------------- in place
def _second_backward_keeps_the_tensor(lib, shape):
    x = lib.ones(shape, requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    return first is x.grad, first.detach().numpy().copy()


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_second_backward_adds_into_the_same_grad_tensor(shape):
    same, values = _second_backward_keeps_the_tensor(gradienti, shape)
    torch_same, torch_values = _second_backward_keeps_the_tensor(torch, shape)
    assert same is torch_same is True
    np.testing.assert_array_equal(values, torch_values)
    np.testing.assert_array_equal(values, np.full(shape, 5.0, np.float32))


def _user_assigned_grad(lib):
    x = lib.ones(3, requires_grad=True)
    assigned = lib.tensor([10.0, 20.0, 30.0])
    x.grad = assigned
    (x * 2).sum().backward()
    return x.grad is assigned, assigned.numpy().copy()


def test_a_user_assigned_grad_is_added_into():
    same, values = _user_assigned_grad(gradienti)
    assert (same, values.tolist()) == (True, [12.0, 22.0, 32.0])
    assert _user_assigned_grad(torch)[1].tolist() == values.tolist()


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_without_none_keeps_the_tensor_that_then_receives_the_gradient(owner):
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        model(lib.ones(4, 3)).sum().backward()
        kept = model.weight.grad
        if owner == "optimizer":
            optimizer.zero_grad(set_to_none=False)
        else:
            model.zero_grad(set_to_none=False)
        model(lib.full((4, 3), 2.0)).sum().backward()
        return kept is model.weight.grad, kept.numpy().copy()

    same, values = run(gradienti)
    assert same
    np.testing.assert_array_equal(values, run(torch)[1])
    np.testing.assert_array_equal(values, np.full((2, 3), 8.0, np.float32))


def test_retained_non_leaf_grads_are_summed_out_of_place_as_in_pytorch():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.sum().backward(retain_graph=True)
        first = y.grad
        y.sum().backward()
        return first is y.grad, first.numpy().copy(), y.grad.numpy().copy()

    ours, theirs = run(gradienti), run(torch)
    assert ours[0] is theirs[0] is False
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_array_equal(ours[2], theirs[2])


def test_create_graph_makes_a_new_grad_tensor_with_history():
    x = gradienti.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x**2).sum().backward(create_graph=True)
    assert x.grad is not first
    np.testing.assert_array_equal(first.numpy(), [2.0, 2.0, 2.0])
    assert x.grad.grad_fn is not None
    np.testing.assert_array_equal(x.grad.detach().numpy(), [4.0, 4.0, 4.0])


def test_accumulating_counts_a_version_of_the_grad():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        (x * 2).sum().backward()
        before = x.grad._version
        (x * 2).sum().backward()
        return x.grad._version - before

    assert run(gradienti) == run(torch) == 1


def test_a_graph_that_saved_the_grad_refuses_to_run_after_it_was_accumulated_into():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        w = lib.ones(3, requires_grad=True)
        (x * 2).sum().backward()
        uses_grad = (x.grad * w).sum()  # MulBackward0 saves x.grad
        (x * 2).sum().backward()  # adds into x.grad in place
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            uses_grad.backward()

    run(torch)
    run(gradienti)


def test_a_failed_backward_still_changes_no_grad():
    x = gradienti.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    kept = x.grad
    y = (x * 3).sum()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        (y + (x * 5).sum()).backward()
    assert x.grad is kept
    np.testing.assert_array_equal(kept.numpy(), [5.0, 5.0, 5.0])


def test_a_read_only_assigned_grad_still_receives_the_sum():
    x = gradienti.ones(3, requires_grad=True)
    x.grad = gradienti.zeros(1).expand(3)  # a broadcast view: NumPy cannot write it
    assigned = x.grad
    (x * 2).sum().backward()
    assert x.grad is assigned
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


# ---------------------------------------------------------------------- hooks
def _named_hook(result):
    def changes_it(*_):
        return result

    return changes_it


def _leaf_hook(lib, make):
    x = lib.ones(2, requires_grad=True)
    x.register_hook(make(lib))
    (x * 2).sum().backward()
    return x.grad


def _non_leaf_hook(lib, make):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(make(lib))
    y.sum().backward()
    return x.grad


def _non_leaf_hook_create_graph(lib, make):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(make(lib))
    return lib.autograd.grad(y.sum(), x, create_graph=True)


def _node_pre_hook(lib, make):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(make(lib))
    y.sum().backward()
    return x.grad


def _node_post_hook(lib, make):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(make(lib))
    y.sum().backward()
    return x.grad


HOOK_CASES = {
    "leaf, shape": (_leaf_hook, lambda lib: lambda g: lib.ones(1)),
    "leaf, dtype": (_leaf_hook, lambda lib: lambda g: lib.ones(2, dtype=lib.int64)),
    "leaf, float64": (_leaf_hook, lambda lib: lambda g: lib.ones(2, dtype=lib.float64)),
    "leaf, int": (_leaf_hook, lambda lib: lambda g: 3),
    "leaf, list": (_leaf_hook, lambda lib: lambda g: [1.0, 2.0]),
    "leaf, named": (_leaf_hook, lambda lib: _named_hook(lib.ones(3))),
    "leaf, partial": (_leaf_hook, lambda lib: functools.partial(lambda _, g: lib.ones(3), 0)),
    "leaf, same": (_leaf_hook, lambda lib: lambda g: g * 3),
    "non-leaf, shape": (_non_leaf_hook, lambda lib: lambda g: lib.ones(3)),
    "non-leaf, ndarray": (_non_leaf_hook, lambda lib: lambda g: np.ones(2, np.float32)),
    "non-leaf, create_graph": (_non_leaf_hook_create_graph, lambda lib: lambda g: lib.ones(())),
    "pre, shape": (_node_pre_hook, lambda lib: lambda go: (lib.ones(3),)),
    "pre, count": (_node_pre_hook, lambda lib: lambda go: (lib.ones(2), lib.ones(2))),
    "pre, list": (_node_pre_hook, lambda lib: lambda go: [lib.ones(2)]),
    "pre, same": (_node_pre_hook, lambda lib: lambda go: (go[0] * 5,)),
    "post, count": (_node_post_hook, lambda lib: lambda gi, go: (lib.ones(2),)),
    "post, None replaced": (_node_post_hook, lambda lib: lambda gi, go: (gi[0], lib.ones(2))),
    "post, tensor": (_node_post_hook, lambda lib: lambda gi, go: lib.ones(2)),
    "post, dtype": (
        _node_post_hook,
        lambda lib: lambda gi, go: (lib.ones(2, dtype=lib.float64), None),
    ),
    "post, same": (_node_post_hook, lambda lib: lambda gi, go: (gi[0] + 1, None)),
}


def _outcome(lib, case):
    run, make = HOOK_CASES[case]
    try:
        result = run(lib, make)
    except (RuntimeError, TypeError) as error:
        return type(error).__name__, str(error)
    if isinstance(result, tuple):
        result = result[0]
    return "ok", result.detach().numpy().tolist()


@pytest.mark.parametrize("case", sorted(HOOK_CASES))
def test_a_hook_that_changes_the_gradient_kind_raises_as_pytorch(case):
    assert _outcome(gradienti, case) == _outcome(torch, case)


def test_a_refused_hook_result_changes_no_grad():
    x = gradienti.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    kept = x.grad.numpy().copy()
    x.register_hook(lambda g: gradienti.ones(1))
    with pytest.raises(RuntimeError, match="changed the size of value"):
        (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), kept)


# ---------------------------------------------------------------------- gradient arguments
GRADIENT_ARGUMENTS = {
    "list of floats": lambda lib, y, x: y.backward(gradient=[1.0, 1.0]),
    "float": lambda lib, y, x: y.backward(gradient=1.0),
    "str": lambda lib, y, x: y.backward(gradient="a"),
    "tuple of a tensor": lambda lib, y, x: y.backward(gradient=(lib.ones(2),)),
    "grad, nested list": lambda lib, y, x: lib.autograd.grad(y, x, grad_outputs=[[1.0, 1.0]]),
    "backward, nested list": lambda lib, y, x: lib.autograd.backward([y], [[1.0, 1.0]]),
    "ndarray": lambda lib, y, x: y.backward(gradient=np.ones(2, np.float32)),
}


@pytest.mark.parametrize("case", sorted(GRADIENT_ARGUMENTS))
def test_a_gradient_that_is_not_a_tensor_raises_as_pytorch(case):
    def outcome(lib):
        x = lib.ones(2, requires_grad=True)
        try:
            GRADIENT_ARGUMENTS[case](lib, x * 2, x)
        except TypeError as error:
            return str(error), x.grad
        return "ok", x.grad.numpy().tolist()

    ours, theirs = outcome(gradienti), outcome(torch)
    assert ours == theirs


ENGINE_ARGUMENTS = {
    "extra gradients": lambda lib, y, x: lib.autograd.backward([y], [lib.ones(2), lib.ones(2)]),
    "extra grad_outputs": lambda lib, y, x: lib.autograd.grad([y], [x], [lib.ones(2)] * 2),
    "fewer gradients": lambda lib, y, x: lib.autograd.backward([y, y], [lib.ones(2)]),
    "backward inputs": lambda lib, y, x: y.sum().backward(inputs=[1.0]),
    "grad inputs": lambda lib, y, x: lib.autograd.grad(y.sum(), [1.0]),
    "grad inputs str": lambda lib, y, x: lib.autograd.grad(y.sum(), "a"),
    "grad outputs str": lambda lib, y, x: lib.autograd.grad("a", x),
    "backward str": lambda lib, y, x: lib.autograd.backward("a"),
    "backward float": lambda lib, y, x: lib.autograd.backward([1.0]),
}


@pytest.mark.parametrize("case", sorted(ENGINE_ARGUMENTS))
def test_backward_and_grad_check_their_arguments_as_pytorch(case):
    def outcome(lib):
        x = lib.ones(2, requires_grad=True)
        try:
            result = ENGINE_ARGUMENTS[case](lib, x * 2, x)
        except (RuntimeError, TypeError, AssertionError) as error:
            return type(error).__name__, str(error), x.grad
        if result is not None:
            return "ok", [value.numpy().tolist() for value in result]
        return "ok", x.grad.numpy().tolist()

    assert outcome(gradienti) == outcome(torch)


@pytest.mark.parametrize("saves", ["nothing", "None", "the input, never read"])
def test_a_custom_function_whose_backward_reads_nothing_saved_runs_twice(saves):
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                if saves == "None":
                    ctx.save_for_backward(None)
                elif saves != "nothing":
                    ctx.save_for_backward(a)
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = lib.ones(2, requires_grad=True)
        total = Double.apply(x).sum()
        total.backward()
        total.backward()
        return x.grad.numpy().tolist()

    assert run(gradienti) == run(torch) == [4.0, 4.0]
