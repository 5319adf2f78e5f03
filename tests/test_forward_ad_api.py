"""``autograd.forward_ad``'s functions against PyTorch: the errors of enter/exit_dual_level,
make_dual and unpack_dual (text, class, and which check comes first), and the level's state
across threads (a JVP rule running in one thread does not hide another thread's tangents)."""

import threading

import numpy as np
import pytest

import gradienti
from gradienti.graph.dual import suspended
from gradienti.graph.grad_mode import MODES
from gradienti.graph.node import SAVE_NOTHING, Op
from gradienti.ops.apply import unary

torch = pytest.importorskip("torch")

LIBS = (torch, gradienti)


def outcome(call):
    """What ``call()`` did: ``("raised", class name, message)`` or ``("returned", value)``."""
    try:
        value = call()
    except Exception as error:  # noqa: BLE001 - the outcome is the comparison
        return ("raised", type(error).__name__, str(error))
    return ("returned", value)


def in_both(scenario):
    """``scenario(lib, forward_ad)`` run with each library, outside any level at the end."""
    results = []
    for lib in LIBS:
        forward_ad = lib.autograd.forward_ad
        try:
            results.append(scenario(lib, forward_ad))
        finally:
            while True:  # leave whatever level the scenario left entered
                try:
                    forward_ad.exit_dual_level()
                except RuntimeError:
                    break
    assert MODES.special == 0
    return results


def level_errors(lib, forward_ad):
    x = lib.tensor([1.0, 2.0])
    results = [outcome(forward_ad.exit_dual_level)]  # none entered
    results.append(outcome(lambda: forward_ad.exit_dual_level(level=0)))
    results.append(outcome(lambda: forward_ad.make_dual(x, x, level=0)))  # named, not entered
    results.append(outcome(lambda: forward_ad.make_dual(x, x, level=1)))
    results.append(outcome(lambda: forward_ad.make_dual(x, lib.ones(3), level=0)))
    results.append(outcome(lambda: forward_ad.make_dual(x, x, level=-1)))
    results.append(outcome(lambda: forward_ad.unpack_dual([1.0], level=0)))
    results.append(outcome(lambda: forward_ad.unpack_dual([1.0]) == ([1.0], None)))
    with forward_ad.dual_level():
        results.append(outcome(forward_ad.enter_dual_level))
        results.append(outcome(lambda: forward_ad.exit_dual_level(level=3)))
    return results


def make_dual_errors(lib, forward_ad):
    x = lib.tensor([1.0, 2.0])
    results = []
    with forward_ad.dual_level():
        d = forward_ad.make_dual(x, x)
        attempts = {
            "list primal": lambda: forward_ad.make_dual([1.0, 2.0], x),
            "list tangent": lambda: forward_ad.make_dual(x, [1.0, 2.0]),
            "int primal, list tangent": lambda: forward_ad.make_dual(lib.tensor([1, 2]), [1.0]),
            "int tangent": lambda: forward_ad.make_dual(x, lib.tensor([1, 2])),
            "level 1": lambda: forward_ad.make_dual(x, x, level=1),
            "level 1, wrong size": lambda: forward_ad.make_dual(x, lib.ones(3), level=1),
            "dual primal": lambda: forward_ad.make_dual(d, x),
            "dual primal, wrong size": lambda: forward_ad.make_dual(d, lib.ones(3)),
            "view of a dual primal": lambda: forward_ad.make_dual(d[0], x[0]),
            "dual tangent": lambda: forward_ad.make_dual(x.clone(), d),
            "wrong size": lambda: forward_ad.make_dual(x, lib.ones(3)),
            "detached dual": lambda: forward_ad.unpack_dual(
                forward_ad.make_dual(d.detach(), 2 * x)
            ).tangent.tolist(),
        }
        for name, attempt in attempts.items():
            results.append((name, outcome(attempt)))
    return results


def unpack_dual_errors(lib, forward_ad):
    x = lib.tensor([1.0, 2.0])
    results = []
    with forward_ad.dual_level():
        d = forward_ad.make_dual(x, 3 * x)
        attempts = {
            "list": lambda: forward_ad.unpack_dual([1.0]),
            "None at level 1": lambda: forward_ad.unpack_dual(None, level=1),
            "dual at level 1": lambda: forward_ad.unpack_dual(d, level=1),
            "plain at level 1": lambda: forward_ad.unpack_dual(x, level=1).tangent,
            "dual at level -1": lambda: forward_ad.unpack_dual(d, level=-1).tangent,
            "dual": lambda: forward_ad.unpack_dual(d).tangent.tolist(),
        }
        for name, attempt in attempts.items():
            results.append((name, outcome(attempt)))
    results.append(("after the level", outcome(lambda: forward_ad.unpack_dual(d, level=0)[1])))
    return results


@pytest.mark.parametrize("scenario", [level_errors, make_dual_errors, unpack_dual_errors])
def test_errors_match_torch(scenario):
    theirs, ours = in_both(scenario)
    assert ours == theirs


def test_a_jvp_rule_running_in_another_thread_hides_no_tangent_here():
    """A custom Function's jvp runs with the level suspended; while it runs in one thread, the
    ops of another thread still carry their tangents, and once both are done the level is as
    it was (the suspension was global, and two rules that overlapped restored it to None)."""
    forward_ad = gradienti.autograd.forward_ad
    inside, release = threading.Event(), threading.Event()

    class Waits(gradienti.autograd.Function):
        @staticmethod
        def forward(x):
            return x.clone()

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            inside.set()
            assert release.wait(10)
            return t.clone()

    x = gradienti.tensor([1.0, 2.0])
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, gradienti.tensor([1.0, 1.0]))
        results = {}
        worker = threading.Thread(
            target=lambda: results.setdefault("worker", forward_ad.unpack_dual(Waits.apply(dual)))
        )
        worker.start()
        assert inside.wait(10)
        try:
            here = forward_ad.unpack_dual(dual * 3).tangent  # while the rule runs there
        finally:
            release.set()
            worker.join()
        after = forward_ad.unpack_dual(dual * 5).tangent
    assert here is not None and here.tolist() == [3.0, 3.0]
    assert results["worker"].tangent.tolist() == [1.0, 1.0]
    assert after.tolist() == [5.0, 5.0]


def test_overlapping_rules_in_two_threads_leave_the_level_as_it_was():
    """Two threads each inside a JVP rule, leaving in the other order than they entered: the
    level's tangents are back for everyone afterwards."""
    forward_ad = gradienti.autograd.forward_ad
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with suspended():
            first_in.set()
            assert second_in.wait(10)
        first_out.set()

    def second():
        assert first_in.wait(10)
        with suspended():
            second_in.set()
            assert first_out.wait(10)

    with forward_ad.dual_level():
        dual = forward_ad.make_dual(gradienti.tensor([1.0]), gradienti.tensor([2.0]))
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tangent = forward_ad.unpack_dual(dual * 2).tangent
    assert tangent is not None
    np.testing.assert_array_equal(tangent.numpy(), [4.0])


def test_an_op_without_a_jvp_rule_raises_torch_s_error_and_leaves_the_level_as_it_was():
    class MysteryBackward0(Op):  # an op class that declares no forward derivative
        __slots__ = ()
        save = SAVE_NOTHING

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    forward_ad = gradienti.autograd.forward_ad
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(gradienti.tensor([1.0]), gradienti.tensor([1.0]))
        with pytest.raises(NotImplementedError) as raised:
            unary(MysteryBackward0(), dual)
        after = forward_ad.unpack_dual(dual * 3).tangent  # the level is not left suspended
    assert str(raised.value) == (
        "Trying to use forward AD with mystery that does not support it because it has not "
        "been implemented yet."
    )
    assert after.tolist() == [3.0]
