"""A compiled call inside autograd and training: the same losses, parameters and gradients as
eager gradienti, bit for bit.

A training loop with a compiled model and SGD (momentum) or Adam; a weight captured by the
function's closure and changed by the optimizer between calls; two calls before one backward;
backward twice with and without retain_graph; create_graph; no_grad; an exception inside the
function; what the function returns (tuple, dict, None, a number, its own input); random and
in-place ops inside it; two threads calling it at once. Errors are PyTorch's (torch eager, and
torch.compile itself for double backward).
"""

from __future__ import annotations

import importlib
import threading
import warnings

import numpy as np
import pytest

import gradienti
import gradienti.autograd.forward_ad as fwAD
import gradienti.nn as nn
import gradienti.nn.functional as F


def stats(compiled):
    return importlib.import_module("gradienti.compiler").stats(compiled)


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def values(n=3, seed=0, requires_grad=False, shape=None):
    array = np.random.default_rng(seed).uniform(0.5, 1.5, shape or n).astype(np.float32)
    return gradienti.tensor(array, requires_grad=requires_grad)


UPSTREAM = np.array([0.5, -1.0, 2.0], dtype=np.float32)


# ---------------------------------------------------------------------------- training loops
def make_model():
    gradienti.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def train(compiled: bool, make_optimizer, steps: int = 20):
    model = make_model()
    runner = gradienti.compile(model) if compiled else model
    optimizer = make_optimizer(model.parameters())
    rng = np.random.default_rng(5)
    losses = []
    for _ in range(steps):
        x = gradienti.tensor(rng.standard_normal((6, 4)).astype(np.float32))
        target = gradienti.tensor(rng.integers(0, 3, 6))
        optimizer.zero_grad()
        loss = F.cross_entropy(runner(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().numpy().copy())
    return losses, [p.detach().numpy().copy() for p in model.parameters()], runner


OPTIMIZERS = {
    "SGD momentum": lambda ps: gradienti.optim.SGD(ps, lr=0.1, momentum=0.9),
    "Adam": lambda ps: gradienti.optim.Adam(ps, lr=0.01),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_training_loop_with_a_compiled_model_equals_eager(optimizer):
    eager_losses, eager_parameters, _ = train(False, OPTIMIZERS[optimizer])
    losses, parameters, compiled = train(True, OPTIMIZERS[optimizer])
    assert all(same(a, b) for a, b in zip(losses, eager_losses)), (losses, eager_losses)
    assert all(same(a, b) for a, b in zip(parameters, eager_parameters))
    assert not same(eager_losses[0], eager_losses[-1])  # it trained
    state = stats(compiled)
    assert (state.traces, state.compiled_calls, state.graph_break) == (1, 19, None)


def test_training_loop_with_a_compiled_loss_function_equals_eager():
    def run(compiled: bool):
        model = make_model()
        optimizer = gradienti.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def loss_of(x, target):
            return F.cross_entropy(model(x), target)

        step_loss = gradienti.compile(loss_of) if compiled else loss_of
        rng = np.random.default_rng(6)
        losses = []
        for _ in range(20):
            x = gradienti.tensor(rng.standard_normal((6, 4)).astype(np.float32))
            target = gradienti.tensor(rng.integers(0, 3, 6))
            optimizer.zero_grad()
            loss = step_loss(x, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach().numpy().copy())
        return losses, [p.detach().numpy().copy() for p in model.parameters()], step_loss

    eager_losses, eager_parameters, _ = run(False)
    losses, parameters, compiled = run(True)
    assert all(same(a, b) for a, b in zip(losses, eager_losses))
    assert all(same(a, b) for a, b in zip(parameters, eager_parameters))
    assert stats(compiled).compiled_calls == 19  # parameters captured from the closure


def test_a_captured_weight_changed_by_the_optimizer_is_read_at_each_call():
    weight = values(seed=1, requires_grad=True)
    compiled = gradienti.compile(lambda x: (x * weight).sin())
    optimizer = gradienti.optim.SGD([weight], lr=0.5)
    for step in range(4):
        x = values(seed=10 + step)
        optimizer.zero_grad()
        out = compiled(x)
        expected = (x * weight.detach()).sin()
        assert same(out.detach().numpy(), expected.numpy()), step
        out.backward(gradienti.tensor(UPSTREAM))
        assert same(
            weight.grad.numpy(),
            (gradienti.tensor(UPSTREAM) * (x * weight.detach()).cos() * x).numpy(),
        )
        optimizer.step()
    with gradienti.no_grad():
        weight.mul_(-1)  # an in-place change outside the optimizer is seen too
    assert same(compiled(x).detach().numpy(), (x * weight.detach()).sin().numpy())
    assert stats(compiled).compiled_calls == 4


# ---------------------------------------------------------------------------- inside autograd
def square_sin(x):
    return (x * x).sin()


def test_two_calls_then_one_backward_of_their_sum():
    compiled = gradienti.compile(square_sin)
    compiled(values(requires_grad=True))  # the trace
    a, b = values(seed=1, requires_grad=True), values(seed=2, requires_grad=True)
    ea, eb = values(seed=1, requires_grad=True), values(seed=2, requires_grad=True)
    (compiled(a) * 2 + compiled(b)).backward(gradienti.tensor(UPSTREAM))
    (square_sin(ea) * 2 + square_sin(eb)).backward(gradienti.tensor(UPSTREAM))
    assert same(a.grad.numpy(), ea.grad.numpy())
    assert same(b.grad.numpy(), eb.grad.numpy())
    assert stats(compiled).compiled_calls == 2


def test_backward_twice_raises_pytorchs_error_and_retain_graph_accumulates():
    torch = pytest.importorskip("torch")
    compiled = gradienti.compile(square_sin)
    compiled(values(requires_grad=True))
    x = values(requires_grad=True)
    out = compiled(x).sum()
    out.backward()
    with pytest.raises(RuntimeError) as ours:
        out.backward()
    t = torch.tensor(values().numpy(), requires_grad=True)
    t_out = square_sin(t).sum()
    t_out.backward()
    with pytest.raises(RuntimeError) as theirs:
        t_out.backward()
    assert str(ours.value).split("\n\ngradienti: ")[0] == str(theirs.value)
    y = values(requires_grad=True)
    out = compiled(y)
    out.backward(gradienti.tensor(UPSTREAM), retain_graph=True)
    out.backward(gradienti.tensor(UPSTREAM))
    ey = values(requires_grad=True)
    square_sin(ey).backward(gradienti.tensor(UPSTREAM))
    assert same(y.grad.numpy(), (ey.grad + ey.grad).numpy())
    np.testing.assert_allclose(y.grad.numpy(), 2 * t.grad.numpy() * UPSTREAM, rtol=1e-6)


@pytest.fixture
def torch_distributions_validation_kept():
    """torch.compile imports dynamo, which switches torch.distributions' default validation
    off for the process: put it back for later tests that compare validation errors."""
    torch = pytest.importorskip("torch")
    validating = torch.distributions.Distribution._validate_args
    yield torch
    torch.distributions.Distribution.set_default_validate_args(validating)


def test_double_backward_through_a_compiled_call_raises_torch_compiles_error(
    torch_distributions_validation_kept,
):
    torch = torch_distributions_validation_kept
    ours, theirs = [], []
    for lib, compiled, found in (
        (gradienti, gradienti.compile(square_sin), ours),
        (torch, torch.compile(square_sin, backend="aot_eager"), theirs),
    ):
        for _ in range(2):
            x = lib.tensor(values().numpy(), requires_grad=True)
            (first,) = lib.autograd.grad(compiled(x).sum(), x, create_graph=True)
        found.append(first.detach().numpy().copy())
        with pytest.raises(RuntimeError) as error:
            lib.autograd.grad(first.sum(), x)
        found.append(str(error.value).split("\n\ngradienti: ")[0])
    assert theirs[1] == "torch.compile with aot_autograd does not currently support double backward"
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    x = values(requires_grad=True)
    (eager_first,) = gradienti.autograd.grad(square_sin(x).sum(), x)
    assert same(ours[0], eager_first.numpy())


def test_no_grad_around_a_compiled_call():
    compiled = gradienti.compile(square_sin)
    x = values(requires_grad=True)
    for _ in range(2):
        with gradienti.no_grad():
            out = compiled(x)
        assert not out.requires_grad and out.grad_fn is None
        assert same(out.numpy(), square_sin(x.detach()).numpy())
    for _ in range(2):  # grad mode on: a new signature, traced, then replayed
        out = compiled(x)
        assert out.requires_grad
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    assert stats(compiled).traces == 2 and stats(compiled).compiled_calls == 2


def test_an_exception_inside_fn_propagates_and_the_next_call_works():
    state = {"fail": True}

    def fails_first(x, y):
        if state["fail"]:
            raise ValueError("first call fails")
        return x * y

    compiled = gradienti.compile(fails_first)
    with pytest.raises(ValueError, match="first call fails"):
        compiled(values(), values(seed=1))
    state["fail"] = False
    for _ in range(2):
        assert same(compiled(values(), values(seed=1)).numpy(), (values() * values(seed=1)).numpy())
    assert stats(compiled).compiled_calls == 1
    # a shape error inside fn during a trace: eager's class and text, and nothing cached
    with pytest.raises(RuntimeError) as ours:
        compiled(values(3), values(4))
    with pytest.raises(RuntimeError) as eager:
        values(3) * values(4)
    assert str(ours.value) == str(eager.value)
    assert same(compiled(values(), values(seed=2)).numpy(), (values() * values(seed=2)).numpy())


# ---------------------------------------------------------------------------- what fn returns
def test_fn_returning_a_tuple_a_dict_none_a_number_or_its_input():
    def pair(x):
        return x * 2, x.exp()

    def mapping(x):
        return {"double": x * 2, "total": x.sum(), "nothing": None}

    def nothing(x):
        x * 2

    def number(x):
        return 3.5

    def itself(x):
        return x

    compiled = {f: gradienti.compile(f) for f in (pair, mapping, nothing, number, itself)}
    for seed in range(3):
        x, ex = values(seed=seed, requires_grad=True), values(seed=seed, requires_grad=True)
        a, b = compiled[pair](x)
        ea, eb = pair(ex)
        assert same(a.detach().numpy(), ea.detach().numpy())
        assert same(b.detach().numpy(), eb.detach().numpy())
        (a * b).sum().backward()
        (ea * eb).sum().backward()
        assert same(x.grad.numpy(), ex.grad.numpy())
        result = compiled[mapping](x)
        assert list(result) == ["double", "total", "nothing"] and result["nothing"] is None
        assert same(result["total"].detach().numpy(), ex.sum().detach().numpy())
        assert compiled[nothing](x) is None
        assert compiled[number](x) == 3.5
        assert compiled[itself](x) is x  # as torch.compile: the input object itself
    for f in (pair, mapping):
        assert stats(compiled[f]).compiled_calls == 2, f.__name__


# ---------------------------------------------------------------------------- random and in-place
def adds_noise(x):
    return x * gradienti.rand(3) + F.dropout(x, 0.5, training=True)


def test_random_ops_inside_fn_draw_anew_at_every_call():
    compiled = gradienti.compile(adds_noise)
    outputs = []
    for seed in range(3):
        gradienti.manual_seed(seed)
        out = compiled(values())
        gradienti.manual_seed(seed)
        assert same(out.numpy(), adds_noise(values()).numpy()), seed
        outputs.append(out.numpy())
    assert not same(outputs[0], outputs[1])  # no frozen draw
    state = stats(compiled)
    assert state.graph_break is not None or state.compiled_calls == 2, state


def writes_in_place(x, counter):
    y = x * 2
    y.add_(1)
    counter.mul_(2)  # an input changed in place: the caller sees it
    return (y * 3).exp()


def test_in_place_ops_inside_fn_give_eagers_results_and_side_effects():
    compiled = gradienti.compile(writes_in_place)
    counter, eager_counter = gradienti.ones(3), gradienti.ones(3)
    for seed in range(3):
        x, ex = values(seed=seed, requires_grad=True), values(seed=seed, requires_grad=True)
        out = compiled(x, counter)
        expected = writes_in_place(ex, eager_counter)
        assert same(out.detach().numpy(), expected.detach().numpy())
        assert same(counter.numpy(), eager_counter.numpy())
        out.backward(gradienti.tensor(UPSTREAM))
        expected.backward(gradienti.tensor(UPSTREAM))
        assert same(x.grad.numpy(), ex.grad.numpy())
    assert counter.tolist() == [8.0, 8.0, 8.0]
    state = stats(compiled)
    assert state.graph_break is not None or state.compiled_calls == 2, state


# ---------------------------------------------------------------------------- threads
def test_two_threads_calling_one_compiled_function():
    def model(x, w):
        return ((x @ w).tanh() * x.sum(1, keepdim=True)).sum(0)

    compiled = gradienti.compile(model)
    weight = values(shape=(4, 5), seed=99)
    errors = []
    start = threading.Barrier(2)

    def worker(thread: int) -> None:
        try:
            start.wait()
            for step in range(40):
                seed = 1000 * thread + step
                x = values(shape=(6, 4), seed=seed, requires_grad=True)
                ex = values(shape=(6, 4), seed=seed, requires_grad=True)
                out = compiled(x, weight)
                expected = model(ex, weight)
                assert same(out.detach().numpy(), expected.detach().numpy()), (thread, step)
                out.sum().backward()
                expected.sum().backward()
                assert same(x.grad.numpy(), ex.grad.numpy()), (thread, step)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append((thread, error))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning (no break, no cache limit) in either thread
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    state = stats(compiled)
    assert state.graph_break is None
    assert state.eager_calls == 0
    assert 70 <= state.compiled_calls <= 79  # each thread may have traced its first call


# ---------------------------------------------------------------------------- other modes
def test_forward_ad_vmap_anomaly_inference_and_saved_tensor_hooks_run_eagerly():
    compiled = gradienti.compile(square_sin)
    compiled(values())
    compiled(values())  # traced and replayed
    tangent = gradienti.tensor(UPSTREAM)
    with fwAD.dual_level():
        primal, derivative = fwAD.unpack_dual(compiled(fwAD.make_dual(values(), tangent)))
    with fwAD.dual_level():
        e_primal, e_derivative = fwAD.unpack_dual(square_sin(fwAD.make_dual(values(), tangent)))
    assert same(primal.numpy(), e_primal.numpy())
    assert same(derivative.numpy(), e_derivative.numpy())
    batch = values(shape=(4, 3), seed=3)
    assert same(gradienti.vmap(compiled)(batch).numpy(), gradienti.vmap(square_sin)(batch).numpy())
    x, ex = values(requires_grad=True), values(requires_grad=True)
    with gradienti.autograd.detect_anomaly():
        compiled(x).sum().backward()
        square_sin(ex).sum().backward()
    assert same(x.grad.numpy(), ex.grad.numpy())
    with gradienti.inference_mode():
        assert same(compiled(values()).numpy(), square_sin(values()).numpy())
    packed = {"compiled": 0, "eager": 0}
    x, ex = values(requires_grad=True), values(requires_grad=True)
    for key, function, argument in (("compiled", compiled, x), ("eager", square_sin, ex)):

        def pack(t, key=key):
            packed[key] += 1
            return t

        with gradienti.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            function(argument).backward(gradienti.tensor(UPSTREAM))
    assert same(x.grad.numpy(), ex.grad.numpy())
    assert packed["compiled"] == packed["eager"] > 0  # the hooks saw eager's saved tensors
