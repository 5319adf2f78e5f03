"""Anomaly detection against PyTorch: the switches, the NaN check's error, and the warning that
shows where the failing node was made (each scenario run with gradienti and with torch from the
same source line, so that the forward tracebacks are the same text)."""

import threading
import warnings

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti
from gradienti.graph.anomaly import REFERENCE_LOOP
from gradienti.graph.node import special_entry

torch = pytest.importorskip("torch")

LIBS = (torch, gradienti)
ENABLED_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
    "enabled for debugging."
)


@pytest.fixture(autouse=True)
def anomaly_off():
    """Every test starts and ends with anomaly detection off, in both libraries."""
    for lib in LIBS:
        lib.autograd.set_detect_anomaly(False)
    yield
    for lib in LIBS:
        lib.autograd.set_detect_anomaly(False)
    assert not REFERENCE_LOOP  # nothing left to send backward to the reference loop


def messages(caught) -> list:
    """The warnings' texts, without PyTorch's C++ suffix and the enabling warning."""
    texts = []
    for warning in caught:
        text = str(warning.message)
        if text == ENABLED_WARNING:
            continue
        texts.append(text.split(" (Triggered internally at ")[0])
    return texts


def run(function):
    """``function()``'s exception (type, text) and its warnings' texts."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            function()
            error = None
        except Exception as exc:  # noqa: BLE001 - the exception is the result compared
            error = (type(exc), pytorch_text(str(exc)))
    return error, messages(caught)


# ---------------------------------------------------------------------- the switches
def test_switches_follow_pytorch():
    seen = {lib: [] for lib in LIBS}
    for lib in LIBS:
        record = seen[lib]
        record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        lib.autograd.set_detect_anomaly(True, check_nan=False)
        record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        with lib.autograd.set_detect_anomaly(False):
            record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detector = lib.autograd.detect_anomaly()
        with detector:
            record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
        lib.set_anomaly_enabled(False)
        record.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
    assert seen[gradienti] == seen[torch]
    assert seen[torch][1] == (True, False)


def test_detect_anomaly_warns_when_made_and_set_detect_anomaly_does_not():
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            detector = lib.autograd.detect_anomaly(check_nan=False)
        assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, ENABLED_WARNING)]
        assert caught[0].filename == __file__  # stacklevel: the caller's line
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with detector:
                assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            lib.autograd.set_detect_anomaly(True)
        assert caught == []


def _seen_from_another_thread(lib) -> list:
    lib.autograd.set_detect_anomaly(True)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(lib.is_anomaly_enabled()))
    thread.start()
    thread.join()
    lib.autograd.set_detect_anomaly(False)
    return seen


def test_anomaly_mode_is_global_across_threads_as_in_pytorch():
    assert _seen_from_another_thread(gradienti) == _seen_from_another_thread(torch) == [True]


def test_a_thread_that_turns_it_on_turns_it_on_for_all():
    def switch_on():
        gradienti.autograd.set_detect_anomaly(True)

    thread = threading.Thread(target=switch_on)
    thread.start()
    thread.join()
    assert gradienti.is_anomaly_enabled()
    x = gradienti.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned nan values"), pytest.warns(UserWarning):
        (x / x).sum().backward()


def test_detect_anomaly_decorates_a_function_in_gradienti():
    # (PyTorch 2.13's detect_anomaly is not callable; gradienti also takes it as a decorator.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @gradienti.autograd.detect_anomaly(check_nan=False)
        def inside():
            return gradienti.is_anomaly_enabled(), gradienti.is_anomaly_check_nan_enabled()

    assert inside() == (True, False)
    assert not gradienti.is_anomaly_enabled() and gradienti.is_anomaly_check_nan_enabled()


# ---------------------------------------------------------------------- NaN and the trace
def test_nan_in_backward_raises_and_warns_with_the_forward_line():
    results = {}
    for lib in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detector = lib.autograd.detect_anomaly()
        with detector:
            x = lib.zeros(2, requires_grad=True)
            y = x / x  # the forward line the warning shows
            loss = y.sum()
            results[lib] = run(loss.backward)
    error, texts = results[gradienti]
    assert error == (RuntimeError, "Function 'DivBackward0' returned nan values in its 1th output.")
    assert results[gradienti] == results[torch]
    assert texts[0].startswith(
        "Error detected in DivBackward0. Traceback of forward call that caused the error:\n"
    )
    assert f'File "{__file__}"' in texts[0] and "    y = x / x  # the forward line" in texts[0]
    assert texts[0].endswith("    y = x / x  # the forward line the warning shows\n")
    assert "gradienti" not in texts[0].replace(__file__, "")


def test_check_nan_off_lets_nan_through():
    grads = {}
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            x = lib.zeros(2, requires_grad=True)
            error, texts = run((x / x).sum().backward)
        assert (error, texts) == (None, [])
        grads[lib] = x.grad.numpy()
    np.testing.assert_array_equal(grads[gradienti], grads[torch])


def test_scalar_loss_backward_takes_the_checked_path():
    # y.backward() on a 0-d loss normally takes the fast path; anomaly mode sends it to the
    # reference loop, which checks each node.
    results = {}
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True):
            x = lib.tensor(0.0, requires_grad=True)
            loss = lib.log(x) * x  # d/dx = log(x) + 1 -> -inf; LogBackward0 gets 0 * inf
            results[lib] = run(loss.backward)
    assert results[gradienti] == results[torch]
    assert results[gradienti][0][0] is RuntimeError


def test_autograd_grad_is_checked_too():
    results = {}
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True):
            x = lib.zeros(3, requires_grad=True)
            results[lib] = run(lambda lib=lib, x=x: lib.autograd.grad((x / x).sum(), x))
    assert results[gradienti] == results[torch]


def _functions(lib):
    class Boom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    class Nan(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g, g * float("nan")

    class RootOfSquare(lib.autograd.Function):  # a first backward that a second one fails in
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x * x).sqrt()

    return Boom, Nan, RootOfSquare


def _loss_of(function, *inputs):
    return function.apply(*inputs).sum()


def test_custom_function_error_and_nan_warn_with_the_forward_call():
    results = {}
    for lib in LIBS:
        boom, nan, _ = _functions(lib)
        with lib.autograd.set_detect_anomaly(True):
            x = lib.ones(3, requires_grad=True)
            y = lib.ones(3, requires_grad=True)
            first = run(_loss_of(boom, x).backward)
            second = run(_loss_of(nan, x, y).backward)
        results[lib] = (first, second)
    (first, second) = results[gradienti]
    assert first[0] == (ValueError, "boom")
    assert second[0] == (
        RuntimeError,
        "Function 'NanBackward' returned nan values in its 1th output.",
    )
    for ours, theirs in zip(results[gradienti], results[torch]):
        assert ours[0] == theirs[0]
        assert len(ours[1]) == len(theirs[1]) == 1
        assert ours[1][0] == _without_torch_frames(theirs[1][0])
    assert "    return function.apply(*inputs).sum()\n" in first[1][0]


def _without_torch_frames(text: str) -> str:
    """PyTorch's traceback shows its own Python frames (autograd/function.py); gradienti's
    shows none of its own."""
    lines = text.split("\n")
    kept = []
    skip = False
    for line in lines:
        if line.startswith('  File "') and "site-packages/torch/" in line:
            skip = True
            continue
        if skip and line.startswith("    "):
            skip = False
            continue
        skip = False
        kept.append(line)
    return "\n".join(kept)


def test_double_backward_names_the_node_that_induced_the_failing_one():
    results = {}
    for lib in LIBS:
        *_, root_of_square = _functions(lib)
        with lib.autograd.set_detect_anomaly(True):
            x = lib.zeros(2, requires_grad=True)
            loss = _loss_of(root_of_square, x)
            (g,) = lib.autograd.grad(loss, x, create_graph=True)
            results[lib] = run(g.sum().backward)
    error, texts = results[gradienti]
    assert error == (RuntimeError, "Function 'MulBackward0' returned nan values in its 0th output.")
    theirs = results[torch][1]
    assert len(texts) == len(theirs) == 2
    assert texts[1] == _without_torch_frames(theirs[1])
    assert texts[1].startswith(
        "\n\nPrevious calculation was induced by RootOfSquareBackward. Traceback of forward call "
        "that induced the previous calculation:\n"
    )
    # The failing node was made by the first backward: its trace ends in the user's backward.
    assert texts[0].endswith("    return g * (x * x).sqrt()\n")
    assert _user_frames(texts[0]) == _user_frames(theirs[0])


def _user_frames(text: str) -> list:
    return [line for line in text.split("\n") if __file__ in line]


def test_errors_in_hooks_and_released_graphs_warn_too():
    results = {}
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True):
            x = lib.ones(2, requires_grad=True)
            y = x * 3
            y.register_hook(lambda g: 1 / 0)
            hook_failure = run(y.sum().backward)
            z = (x * x).sum()
            z.backward()
            released = run(z.backward)
        results[lib] = (hook_failure, released)
    assert results[gradienti] == results[torch]
    assert results[gradienti][1][1][0].startswith("Error detected in MulBackward0.")


def test_a_node_made_before_anomaly_mode_has_no_trace():
    results = {}
    for lib in LIBS:
        x = lib.zeros(2, requires_grad=True)
        loss = (x / x).sum()
        with lib.autograd.set_detect_anomaly(True):
            results[lib] = run(loss.backward)
    assert results[gradienti] == results[torch]
    assert results[gradienti][1] == [
        "Error detected in DivBackward0. No forward pass information available. Enable detect "
        "anomaly during forward pass for more information."
    ]


def test_the_plain_path_keeps_no_trace():
    x = gradienti.ones(2, requires_grad=True)
    node = (x * 2).grad_fn
    assert not hasattr(node, "_special")
    with gradienti.autograd.set_detect_anomaly(True):
        node = (x * 2).grad_fn
    trace = special_entry(node, "trace")
    assert trace.frames[-1][:2] == (__file__, _line_of("node = (x * 2).grad_fn", 2))


def _line_of(source: str, occurrence: int) -> int:
    with open(__file__) as handle:
        lines = [number for number, line in enumerate(handle, 1) if line.strip() == source]
    return lines[occurrence - 1]


def test_gradients_are_unchanged_under_anomaly_mode():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3))
    grads = []
    for anomaly in (False, True):
        x = gradienti.tensor(w, requires_grad=True)
        with gradienti.autograd.set_detect_anomaly(anomaly):
            loss = (x.tanh() @ x.T).exp().sum()
            loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def _hooked_module_loss(lib):
    def failing_hook(module, grad_input, grad_output):
        raise ValueError("hook fails")

    module = lib.nn.Linear(2, 2)
    module.register_full_backward_hook(failing_hook)
    return module(lib.ones(1, 2, requires_grad=True)).sum()


def test_a_module_backward_hook_that_fails_warns_with_the_module_call():
    # the hooks' node (BackwardHookFunctionBackward) keeps the forward trace like any other
    results = {}
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True):
            results[lib] = run(_hooked_module_loss(lib).backward)
    error, texts = results[gradienti]
    assert error == (ValueError, "hook fails") == results[torch][0]
    theirs = results[torch][1]
    assert len(texts) == len(theirs) == 1
    assert texts[0].startswith(
        "Error detected in BackwardHookFunctionBackward. Traceback of forward call that caused "
        "the error:\n"
    )
    assert texts[0] == _without_torch_frames(theirs[0])
    assert texts[0].endswith("    return module(lib.ones(1, 2, requires_grad=True)).sum()\n")
