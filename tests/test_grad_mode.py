"""Gradient-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""

import threading

import numpy as np
import pytest

import gradienti


@pytest.fixture(autouse=True)
def _grad_mode_on():
    assert gradienti.is_grad_enabled()
    yield
    leaked = gradienti.is_grad_enabled()
    gradienti.set_grad_enabled(True)
    assert leaked, "grad mode leaked out of the test"


def _leaf():
    return gradienti.tensor([1.0, 2.0], requires_grad=True)


def _records(x):
    y = x * 2
    return y.requires_grad and y.grad_fn is not None


def test_default_is_enabled():
    assert gradienti.is_grad_enabled() is True
    assert _records(_leaf())


@pytest.mark.parametrize(
    "make",
    [gradienti.no_grad, lambda: gradienti.set_grad_enabled(False), gradienti.inference_mode],
    ids=["no_grad", "set_grad_enabled", "inference_mode"],
)
def test_disabling_context(make):
    x = _leaf()
    with make():
        assert not gradienti.is_grad_enabled()
        y = x * 2 + 1
        z = y.exp().sum()
        assert not y.requires_grad and y.grad_fn is None
        assert not z.requires_grad and z.grad_fn is None
        assert y.is_leaf
        assert x.requires_grad  # leaves keep their flag
    assert gradienti.is_grad_enabled()
    assert _records(x)


def test_enable_grad_inside_no_grad():
    x = _leaf()
    with gradienti.no_grad():
        with gradienti.enable_grad():
            assert gradienti.is_grad_enabled()
            assert _records(x)
        assert not gradienti.is_grad_enabled()
        assert not _records(x)
    assert gradienti.is_grad_enabled()


def test_nested_contexts():
    with gradienti.no_grad():
        with gradienti.no_grad():
            assert not gradienti.is_grad_enabled()
        assert not gradienti.is_grad_enabled()
        with gradienti.set_grad_enabled(True):
            assert gradienti.is_grad_enabled()
            with gradienti.inference_mode():
                assert not gradienti.is_grad_enabled()
            assert gradienti.is_grad_enabled()
        assert not gradienti.is_grad_enabled()
    assert gradienti.is_grad_enabled()


def test_set_grad_enabled_as_a_call_switches_at_once():
    x = _leaf()
    gradienti.set_grad_enabled(False)
    try:
        assert not gradienti.is_grad_enabled()
        assert not _records(x)
    finally:
        gradienti.set_grad_enabled(True)
    assert gradienti.is_grad_enabled()
    assert _records(x)


def test_set_grad_enabled_context_restores():
    with gradienti.set_grad_enabled(False):
        assert not gradienti.is_grad_enabled()
        with gradienti.set_grad_enabled(True):
            assert gradienti.is_grad_enabled()
        assert not gradienti.is_grad_enabled()
    assert gradienti.is_grad_enabled()


def test_set_grad_enabled_restores_previous_state_not_true():
    with gradienti.no_grad():
        with gradienti.set_grad_enabled(True):
            assert gradienti.is_grad_enabled()
        assert not gradienti.is_grad_enabled()


def test_set_grad_enabled_matches_torch():
    torch = pytest.importorskip("torch")
    states = []
    for lib in (gradienti, torch):
        seen = []
        lib.set_grad_enabled(False)
        seen.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        seen.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())

        @lib.set_grad_enabled(False)
        def inner(lib=lib):
            return lib.is_grad_enabled()

        seen.append(lib.is_grad_enabled())  # decorating does not switch
        seen.append(inner())
        seen.append(lib.is_grad_enabled())
        states.append(seen)
    assert states[0] == states[1] == [False, True, False, True, True, False, True]


def test_inference_mode_flags():
    x = _leaf()
    assert not gradienti.is_inference_mode_enabled()
    with gradienti.inference_mode():
        assert gradienti.is_inference_mode_enabled()
        assert not gradienti.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not gradienti.is_inference_mode_enabled()
    with gradienti.inference_mode(False):
        assert gradienti.is_grad_enabled()
        assert not gradienti.is_inference_mode_enabled()
        assert _records(x)


@pytest.mark.parametrize(
    ("make", "inside"),
    [
        (gradienti.no_grad, False),
        (gradienti.enable_grad, True),
        (lambda: gradienti.set_grad_enabled(False), False),
        (gradienti.inference_mode, False),
    ],
    ids=["no_grad", "enable_grad", "set_grad_enabled", "inference_mode"],
)
def test_decorator(make, inside):
    x = _leaf()

    @make()
    def function(value, *, scale=1):
        """Docstring."""
        return gradienti.is_grad_enabled(), value * scale

    assert function.__name__ == "function"
    assert function.__doc__ == "Docstring."
    with gradienti.no_grad():
        enabled, y = function(x, scale=3)
        assert enabled is inside
        assert y.requires_grad is inside
        assert not gradienti.is_grad_enabled()
    enabled, y = function(x, scale=3)
    assert enabled is inside
    assert y.requires_grad is inside
    assert gradienti.is_grad_enabled()


@pytest.mark.parametrize(
    ("decorator", "inside"),
    [
        (gradienti.no_grad, False),
        (gradienti.enable_grad, True),
        (gradienti.inference_mode, False),
    ],
    ids=["no_grad", "enable_grad", "inference_mode"],
)
def test_bare_decorator(decorator, inside):
    # torch allows ``@torch.no_grad`` without parentheses
    @decorator
    def function():
        return gradienti.is_grad_enabled()

    with gradienti.no_grad():
        assert function() is inside
        assert not gradienti.is_grad_enabled()
    assert function() is inside
    assert gradienti.is_grad_enabled()


@pytest.mark.parametrize(
    "make",
    [
        gradienti.no_grad,
        gradienti.enable_grad,
        lambda: gradienti.set_grad_enabled(False),
        gradienti.inference_mode,
    ],
    ids=["no_grad", "enable_grad", "set_grad_enabled", "inference_mode"],
)
def test_state_restored_after_exception(make):
    for outer in (True, False):
        gradienti.set_grad_enabled(outer)
        with pytest.raises(ValueError, match="inside"), make():
            raise ValueError("inside")
        assert gradienti.is_grad_enabled() is outer
        assert not gradienti.is_inference_mode_enabled()

        @make()
        def fails():
            raise ValueError("inside")

        with pytest.raises(ValueError, match="inside"):
            fails()
        assert gradienti.is_grad_enabled() is outer
    gradienti.set_grad_enabled(True)


def test_decorated_function_called_recursively():
    depths = []

    @gradienti.no_grad()
    def recurse(n):
        depths.append((n, gradienti.is_grad_enabled()))
        if n:
            recurse(n - 1)
        depths.append((n, gradienti.is_grad_enabled()))

    recurse(3)
    assert all(enabled is False for _, enabled in depths)
    assert len(depths) == 8
    assert gradienti.is_grad_enabled()


def test_recursion_through_enable_grad_and_no_grad():
    @gradienti.enable_grad()
    def on(n):
        assert gradienti.is_grad_enabled()
        if n:
            off(n - 1)
        assert gradienti.is_grad_enabled()

    @gradienti.no_grad()
    def off(n):
        assert not gradienti.is_grad_enabled()
        if n:
            on(n - 1)
        assert not gradienti.is_grad_enabled()

    off(5)
    assert gradienti.is_grad_enabled()
    on(4)
    assert gradienti.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []

    def other():
        seen.append(gradienti.is_grad_enabled())

    with gradienti.no_grad():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert not gradienti.is_grad_enabled()
    assert seen == [True]


def test_sgd_step_out_of_place_under_no_grad():
    w = gradienti.tensor([1.0, 2.0], requires_grad=True)
    lr = 0.1
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with gradienti.no_grad():
            w = w - lr * w.grad
        w.requires_grad_()
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.8**3, rtol=1e-6)


def test_sgd_step_in_place_under_no_grad():
    w = gradienti.tensor([1.0, 2.0], requires_grad=True)
    original = w
    lr = 0.1
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with gradienti.no_grad():
            w -= lr * w.grad
        w.grad = None
    assert w is original
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.8**3, rtol=1e-6)


def test_sgd_step_in_place_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        for _ in range(2):
            ((w * w).sum() + w.sum()).backward()
            with lib.no_grad():
                w -= 0.25 * w.grad
            w.grad = None
        results.append((repr(w), w.is_leaf, w.requires_grad))
    assert results[0] == results[1]


def test_backward_under_no_grad_still_works():
    x = _leaf()
    y = (x * x).sum()
    with gradienti.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    assert x.grad.grad_fn is None


def test_user_code_in_a_plain_backward_runs_with_grad_mode_off():
    # The engine's plain pass leaves grad mode alone (its VJPs run on raw arrays); hooks and a
    # custom Function's backward turn it off themselves, as PyTorch's engine runs them.
    seen = []

    class Square(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            seen.append(("function", gradienti.is_grad_enabled()))
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x) * 3
    y.register_hook(lambda g: seen.append(("tensor hook", gradienti.is_grad_enabled())))
    y.grad_fn.register_hook(lambda gi, go: seen.append(("node hook", gradienti.is_grad_enabled())))
    y.sum().backward()
    assert sorted(seen) == [("function", False), ("node hook", False), ("tensor hook", False)]
    assert gradienti.is_grad_enabled()
    assert (x * 2).requires_grad  # recording again afterwards
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_another_thread_in_no_grad_does_not_stop_this_one_recording():
    # Ops skip the thread-local read while no thread has grad mode off; with one that has,
    # each thread still sees its own mode.
    inside, release = threading.Event(), threading.Event()
    results = {}

    def worker():
        with gradienti.no_grad():
            inside.set()
            release.wait(5)
            results["worker"] = (gradienti.ones(2, requires_grad=True) * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    results["main"] = (gradienti.ones(2, requires_grad=True) * 2).requires_grad
    release.set()
    thread.join()
    assert results == {"main": True, "worker": False}
    from gradienti.autograd.grad_mode import MODES

    assert MODES.count == 0
