"""``gradienti.utils.checkpoint`` against PyTorch's and against the same code run unchecked.

Each scenario runs on gradienti and on torch (same seeds: gradienti's dropout draws PyTorch's
masks) and records outputs, gradients, warnings and errors (tests/oracle_records.py); the
records must be equal. Gradients are also compared with the run without checkpointing, and the
memory test checks that a checkpointed segment keeps none of its intermediate values.
"""

import contextlib
import importlib
import os
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from oracle_records import close, outcome, same_as_torch

import gradienti
from gradienti.utils import checkpoint as gcheckpoint

torch = pytest.importorskip("torch")
tcheckpoint = importlib.import_module("torch.utils.checkpoint")

CHECKPOINTS = {gradienti: gcheckpoint, torch: tcheckpoint}
VARIANTS = pytest.mark.parametrize("reentrant", [False, True], ids=["non-reentrant", "reentrant"])


def grads_of(*tensors):
    return [None if t.grad is None else t.grad.detach().numpy().copy() for t in tensors]


# ---------------------------------------------------------------------- same gradients
def two_inputs(x, y):
    return (x * y).sin() * 2 + y.exp()


@VARIANTS
def test_gradients_of_a_function_are_torch_s_and_the_unchecked_ones(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0, -0.5], requires_grad=True)
        y = lib.tensor([0.3, -0.4, 0.9], requires_grad=True)
        out = cp.checkpoint(two_inputs, x, y, use_reentrant=reentrant)
        record(out.grad_fn.name(), out)
        out.sum().backward()
        record(x.grad, y.grad)
        checkpointed = grads_of(x, y)
        x.grad = y.grad = None
        two_inputs(x, y).sum().backward()
        for with_, without in zip(checkpointed, grads_of(x, y)):
            np.testing.assert_allclose(with_, without, rtol=1e-6)

    events = same_as_torch(scenario)
    node = "CheckpointFunctionBackward" if reentrant else "AddBackward0"
    assert events[0][0] == node


def mlp_with_dropout(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(
        lib.nn.Linear(4, 8),
        lib.nn.Tanh(),
        lib.nn.Dropout(0.5),
        lib.nn.Linear(8, 8),
        lib.nn.ReLU(),
        lib.nn.Dropout(0.3),
        lib.nn.Linear(8, 2),
    )


@VARIANTS
def test_a_module_with_parameters_and_dropout_gets_the_unchecked_gradients(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        model = mlp_with_dropout(lib)
        x = lib.linspace(-1.0, 1.0, 12).reshape(3, 4).requires_grad_()
        lib.manual_seed(1)
        out = cp.checkpoint(model, x, use_reentrant=reentrant)
        out.square().sum().backward()
        checkpointed = grads_of(x, *model.parameters())
        record(out, x.grad, [p.grad for p in model.parameters()])
        model.zero_grad()
        x.grad = None
        lib.manual_seed(1)  # the same masks, drawn once
        model(x).square().sum().backward()
        for with_, without in zip(checkpointed, grads_of(x, *model.parameters())):
            np.testing.assert_allclose(with_, without, rtol=1e-5, atol=1e-7)

    same_as_torch(scenario)


@VARIANTS
def test_without_preserving_the_random_state_the_recomputation_draws_other_masks(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        lib.manual_seed(0)
        x = lib.arange(1.0, 9.0).requires_grad_()
        out = cp.checkpoint(
            lambda t: lib.nn.functional.dropout(t * 2, 0.5),
            x,
            use_reentrant=reentrant,
            preserve_rng_state=False,
        )
        out.sum().backward()
        record(out, x.grad)  # the gradient follows the recomputation's mask

    same_as_torch(scenario)


def test_nested_checkpoints():
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]

        def inner(t):
            return t.sin() * 2

        def outer(t):
            return cp.checkpoint(inner, t.exp(), use_reentrant=False).cos()

        x = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        out = cp.checkpoint(outer, x, use_reentrant=False)
        out.sum().backward(retain_graph=True)
        record(out, x.grad)
        out.sum().backward()  # each backward recomputes
        record(x.grad)
        unchecked = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        (inner(unchecked.exp()).cos() * 2).sum().backward()
        record(unchecked.grad)

    events = same_as_torch(scenario)
    assert close(events[1], events[2])


@pytest.mark.parametrize(
    "functions", ["sequential", "list", "one segment", "more segments than functions"]
)
@VARIANTS
def test_checkpoint_sequential(reentrant, functions):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        lib.manual_seed(0)
        model = lib.nn.Sequential(
            *[lib.nn.Linear(3, 3) if i % 2 else lib.nn.Tanh() for i in range(7)]
        )
        x = lib.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
        segments = {"one segment": 1, "more segments than functions": 9}.get(functions, 3)
        layers = list(model) if functions == "list" else model
        out = cp.checkpoint_sequential(layers, segments, x, use_reentrant=reentrant)
        out.sum().backward()
        record(out.grad_fn.name(), out, x.grad, model[1].weight.grad)

    same_as_torch(scenario)


def test_keyword_arguments_non_tensor_arguments_and_outputs():
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]

        def scaled(t, k, how="sum", *, power=1):
            y = (t * k) ** power
            return (y.sum() if how == "sum" else y), y.detach(), 5

        x = lib.tensor([0.5, 1.5], requires_grad=True)
        for reentrant in (False, True):
            kwargs = {} if reentrant else {"power": 2}
            total, detached, five = cp.checkpoint(
                scaled, x, 3.0, "sum", use_reentrant=reentrant, **kwargs
            )
            # reentrant: every tensor output of the Function requires grad
            record(total.requires_grad, detached.requires_grad, five)
            total.backward()
            record(x.grad)
            x.grad = None
        cp.checkpoint(scaled, x, 3.0, use_reentrant=True, power=2)

    assert same_as_torch(scenario)[-1] == (
        "raised",
        "ValueError",
        "Unexpected keyword arguments: power",
    )


@VARIANTS
def test_inputs_that_do_not_require_grad(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        lib.manual_seed(0)
        linear = lib.nn.Linear(2, 1)
        out = cp.checkpoint(linear, lib.tensor([[1.0, 2.0]]), use_reentrant=reentrant)
        record(out.requires_grad)  # reentrant: no (its node needs an input that requires grad)
        if out.requires_grad:
            out.sum().backward()
            record(linear.weight.grad, linear.bias.grad)

    same_as_torch(scenario)


@VARIANTS
def test_no_grad_inside_and_outside_the_function(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]

        def partly_constant(t):
            with lib.no_grad():
                total = t.sum()
            return t * total

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        cp.checkpoint(partly_constant, x, use_reentrant=reentrant).sum().backward()
        record(x.grad)
        with lib.no_grad():
            out = cp.checkpoint(partly_constant, x, use_reentrant=reentrant)
        record(out.requires_grad, out)

    same_as_torch(scenario)


@pytest.mark.parametrize("how", ["autograd.grad", "backward(inputs=)"])
@VARIANTS
def test_grad_and_backward_inputs(reentrant, how):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        out = cp.checkpoint(two_inputs, x, y, use_reentrant=reentrant).sum()
        if how == "autograd.grad":
            record(lib.autograd.grad(out, [x, y]))
        else:
            out.backward(inputs=[x])
            record(x.grad, y.grad)

    events = same_as_torch(scenario)
    assert (events[-1][0] == "raised") == reentrant


@VARIANTS
def test_backward_twice(reentrant):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = cp.checkpoint(two_inputs, x, x, use_reentrant=reentrant).sum()
        out.backward(retain_graph=True)
        out.backward()
        record(x.grad)
        out.backward()  # the graph is freed now

    assert same_as_torch(scenario)[-1][0] == "raised"


def test_a_saved_value_read_outside_backward_is_recomputed():
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([0.1, 0.2], requires_grad=True)
        out = cp.checkpoint(lambda t: t.sin(), x, use_reentrant=False)
        record(out.grad_fn._saved_self)
        record(out.grad_fn._saved_self)

    same_as_torch(scenario)


# ---------------------------------------------------------------------- determinism checks
def changes_on_recomputation(lib, kind):
    calls = [0]

    def function(t):
        calls[0] += 1
        if kind == "shape":
            return (t[: calls[0]] * 2).sin()
        y = t.sin()
        if kind == "more ops" and calls[0] > 1:
            y = y.cos()
        if kind == "fewer ops" and calls[0] > 1:
            return y * 2
        return y.exp()

    return function


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("shape", "default"),
        ("more ops", "default"),  # stops once as many are saved: not seen (as PyTorch)
        ("fewer ops", "default"),
        ("fewer ops", "none"),  # the count is checked all the same
        ("more ops", "none"),
    ],
)
def test_determinism_check(kind, check):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        function = changes_on_recomputation(lib, kind)
        out = cp.checkpoint(function, x, use_reentrant=False, determinism_check=check)
        out.sum().backward()
        record(x.grad)

    same_as_torch(scenario)


def test_early_stop_off_saves_more_and_is_refused():
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with cp.set_checkpoint_early_stop(False):
            out = cp.checkpoint(changes_on_recomputation(lib, "more ops"), x, use_reentrant=False)
        out.sum().backward()

    assert same_as_torch(scenario)[-1][:2] == ("raised", "CheckpointError")


def test_debug_mode_names_the_lines_that_saved():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    function = changes_on_recomputation(gradienti, "shape")
    with gcheckpoint.set_checkpoint_debug_enabled(True):
        out = gcheckpoint.checkpoint(function, x, use_reentrant=False)
    with pytest.raises(gcheckpoint.CheckpointError) as raised:
        out.sum().backward()
    message = str(raised.value)
    assert "because you passed `debug=True`" in message
    assert f"{__file__}:" in message  # the user's line of each saved tensor
    assert "different metadata" in message


# ---------------------------------------------------------------------- arguments and warnings
@pytest.mark.parametrize(
    "call",
    [
        "use_reentrant not given",
        "sequential use_reentrant not given",
        "reentrant with debug",
        "reentrant with context_fn",
        "bad determinism_check",
        "debug with context_fn",
        "sequential keyword",
        "detach_variable of a list",
        "reentrant, no output requires grad",
    ],
)
def test_arguments_warnings_and_errors_as_pytorch(call):
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        contexts = lambda: (contextlib.nullcontext(), contextlib.nullcontext())  # noqa: E731
        if call == "use_reentrant not given":
            record(cp.checkpoint(two_inputs, x, x).grad_fn.name())
        if call == "sequential use_reentrant not given":
            record(cp.checkpoint_sequential([lib.sin, lib.cos], 2, x).grad_fn.name())
        if call == "reentrant with debug":
            cp.checkpoint(two_inputs, x, x, use_reentrant=True, debug=True)
        if call == "reentrant with context_fn":
            cp.checkpoint(two_inputs, x, x, use_reentrant=True, context_fn=contexts)
        if call == "bad determinism_check":
            cp.checkpoint(two_inputs, x, x, use_reentrant=False, determinism_check="bogus")
        if call == "debug with context_fn":
            cp.checkpoint(two_inputs, x, x, use_reentrant=False, debug=True, context_fn=contexts)
        if call == "sequential keyword":
            cp.checkpoint_sequential([lib.sin], 1, x, use_reentrant=False, foo=1)
        if call == "detach_variable of a list":
            cp.detach_variable([x])
        if call == "reentrant, no output requires grad":
            out = cp.checkpoint(lambda t: t.detach() * 2, x, use_reentrant=True)
            record(out.requires_grad)
            out.sum().backward()

    events = same_as_torch_but_the_warning_file(scenario)
    assert events


def same_as_torch_but_the_warning_file(scenario):
    """PyTorch's ``checkpoint`` warning points into torch (its dynamo wrapper); gradienti's at
    the caller's line: compare without the file, and check gradienti's is this file."""
    ours = outcome(scenario, gradienti)
    theirs = outcome(scenario, torch)
    for event in ours:
        if event[0] == "warned" and "use_reentrant" in event[1]:
            assert event[2] == os.path.basename(__file__)
    strip = lambda events: [e[:2] if e[0] == "warned" else e for e in events]  # noqa: E731
    assert strip(ours) == strip(theirs)
    return ours


def test_context_fn_runs_the_forward_and_the_recomputation_in_their_contexts():
    def scenario(lib, record):
        cp = CHECKPOINTS[lib]

        @contextlib.contextmanager
        def tagged(name):
            record("enter", name, lib.is_grad_enabled())
            yield
            record("exit", name)

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = cp.checkpoint(
            two_inputs,
            x,
            x,
            use_reentrant=False,
            context_fn=lambda: (tagged("forward"), tagged("recompute")),
        )
        out.sum().backward()
        record(x.grad)

    same_as_torch(scenario)


# ---------------------------------------------------------------------- memory
def test_a_checkpointed_segment_keeps_none_of_its_intermediate_values():
    gradienti.manual_seed(0)
    layers = [gradienti.nn.Linear(64, 64) if i % 2 == 0 else gradienti.nn.Tanh() for i in range(16)]
    model = gradienti.nn.Sequential(*layers)
    x = gradienti.randn(256, 64)

    def kept_after_forward(run):
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            loss = run().square().mean()
            return tracemalloc.get_traced_memory()[0] - start, loss
        finally:
            tracemalloc.stop()

    unchecked, loss = kept_after_forward(lambda: model(x))
    loss.backward()
    expected = grads_of(*model.parameters())
    model.zero_grad()
    checked, loss = kept_after_forward(
        lambda: gcheckpoint.checkpoint(model, x, use_reentrant=False)
    )
    activation = 256 * 64 * 4
    assert unchecked > 7 * activation  # a Tanh's output (the next Linear's input) per block
    assert checked < 2 * activation  # the output and the loss's saved value
    loss.backward()
    for with_, without in zip(grads_of(*model.parameters()), expected):
        np.testing.assert_allclose(with_, without, rtol=1e-5, atol=1e-7)


def test_the_memory_benchmark_measures_both_runs():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        benchmark = importlib.import_module("checkpoint_memory")
    finally:
        sys.path.pop(0)
    result = benchmark.measure(layers=8, width=32, batch=512, segments=3)
    assert result["peak_bytes_with"] < result["peak_bytes_without"]
    assert result["ratio"] == result["peak_bytes_with"] / result["peak_bytes_without"]
