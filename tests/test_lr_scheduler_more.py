"""LinearLR, ConstantLR, LambdaLR, MultiplicativeLR, PolynomialLR, SequentialLR,
ChainedScheduler, CosineAnnealingWarmRestarts and CyclicLR against PyTorch 2.13: the lr (and
cycled momentum) after every one of 40 steps, bit for bit, by ``step()`` (chainable forms) and by
``step(epoch)`` (closed forms), state_dict round trips, signatures and errors."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import gradienti
import gradienti.optim as goptim

torch = pytest.importorskip("torch")

STEPS = 40


def _optimizer(lib, name="SGD", **kwargs):
    w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    kwargs = {"lr": 0.1, "momentum": 0.9, **kwargs} if name == "SGD" else {"lr": 0.1, **kwargs}
    groups = [{"params": [w]}, {"params": [b], "lr": 0.05}]
    return (w, b), getattr(lib.optim, name)(groups, **kwargs)


def _run(lib, make, optimizer_name="SGD", epochs=None):
    """lrs and momenta after each step: ``epochs`` given, ``step(epoch)`` is called with them."""
    (w, b), optimizer = _optimizer(lib, optimizer_name)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    seen = [(list(scheduler.get_last_lr()), _momenta(optimizer))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the epoch argument's deprecation
        for step in range(STEPS):
            optimizer.zero_grad()
            ((w * w).sum() + b * b).backward()
            optimizer.step()
            if epochs is None:
                scheduler.step()
            else:
                scheduler.step(epochs[step])
            seen.append((list(scheduler.get_last_lr()), _momenta(optimizer)))
    return seen, [p.detach().tolist() for p in (w, b)]


def _same_run(make, optimizer_name="SGD", epochs=None):
    """The lrs and momenta bit for bit; the parameters to rounding (the optimizers' kernels)."""
    ours, ours_params = _run(gradienti, make, optimizer_name, epochs)
    theirs, theirs_params = _run(torch, make, optimizer_name, epochs)
    assert ours == theirs
    for o, t in zip(ours_params, theirs_params):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-15)
    return True


def _momenta(optimizer):
    return [
        group.get("momentum", group.get("betas", (None,))[0]) for group in optimizer.param_groups
    ]


def _lambda_half_life(epoch):
    return 0.5 ** (epoch / 7)


def _factor(epoch):
    return 0.95 if epoch % 3 else 1.02


CHAINABLE = {
    "LinearLR": lambda s, o: s.LinearLR(o),
    "LinearLR-args": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.7, total_iters=13),
    "LinearLR-decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=9),
    "ConstantLR": lambda s, o: s.ConstantLR(o),
    "ConstantLR-args": lambda s, o: s.ConstantLR(o, factor=0.3, total_iters=11),
    "ConstantLR-zero-iters": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=0),
    "LambdaLR": lambda s, o: s.LambdaLR(o, _lambda_half_life),
    "LambdaLR-list": lambda s, o: s.LambdaLR(o, [_lambda_half_life, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, _factor),
    "MultiplicativeLR-list": lambda s, o: s.MultiplicativeLR(o, [_factor, lambda e: 0.9]),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o),
    "PolynomialLR-args": lambda s, o: s.PolynomialLR(o, total_iters=25, power=2.5),
    "PolynomialLR-sqrt": lambda s, o: s.PolynomialLR(o, total_iters=17, power=0.5),
    "Sequential": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.2, total_iters=6), s.ExponentialLR(o, 0.9)], [6]
    ),
    "Sequential-three": lambda s, o: s.SequentialLR(
        o,
        [
            s.ConstantLR(o, factor=0.5, total_iters=4),
            s.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
            s.StepLR(o, 5, 0.5),
        ],
        [5, 17],
    ),
    "Sequential-warmup-cosine": lambda s, o: s.SequentialLR(
        o,
        [s.LinearLR(o, start_factor=0.01, total_iters=5), s.CosineAnnealingLR(o, T_max=35)],
        milestones=[5],
    ),
    "Chained": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.1, total_iters=2), s.ExponentialLR(o, gamma=0.9)]
    ),
    "Chained-optimizer": lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, 0.5, total_iters=7), s.MultiStepLR(o, [3, 9], 0.3), s.PolynomialLR(o, 30)],
        optimizer=o,
    ),
    "WarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7),
    "WarmRestarts-mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.01),
    "Cyclic": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=4),
    "Cyclic-down": lambda s, o: s.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], 3, step_size_down=7),
    "Cyclic-triangular2": lambda s, o: s.CyclicLR(o, 0.001, 0.1, 5, mode="triangular2"),
    "Cyclic-exp-range": lambda s, o: s.CyclicLR(o, 0.001, 0.1, 5, mode="exp_range", gamma=0.97),
    "Cyclic-scale-fn": lambda s, o: s.CyclicLR(
        o, 0.001, 0.1, 4, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"
    ),
    "Cyclic-momentum-args": lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, 6, base_momentum=[0.7, 0.75], max_momentum=0.95
    ),
    "Cyclic-no-momentum": lambda s, o: s.CyclicLR(o, 0.01, 0.1, 6, cycle_momentum=False),
}


@pytest.mark.parametrize("name", sorted(CHAINABLE))
def test_chainable_form_as_pytorch(name):
    """``step()``: the lrs and momenta after every step are PyTorch's, bit for bit."""
    assert _same_run(CHAINABLE[name])


def test_cyclic_lr_cycles_adams_beta1():
    def make(s, o):
        return s.CyclicLR(o, 0.001, 0.01, 5, cycle_momentum=True)

    assert _same_run(make, "Adam")


CLOSED_FORM = ("LinearLR-args", "ConstantLR-args", "PolynomialLR-args", "WarmRestarts",
               "WarmRestarts-mult", "LambdaLR", "Cyclic")  # fmt: skip
EPOCH_ORDERS = {
    "in-order": list(range(1, STEPS + 1)),
    "jumps": [3, 3, 10, 2, 0, 25, 7, 40, 13, 6] * 4,
}


@pytest.mark.parametrize("order", sorted(EPOCH_ORDERS))
@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_an_epoch_as_pytorch(name, order):
    """``step(epoch)``: the closed form where the scheduler has one (the chainable form's
    values may differ from it in the last bits, as in PyTorch)."""
    epochs = EPOCH_ORDERS[order]
    assert _same_run(CHAINABLE[name], epochs=epochs)


def test_warm_restarts_fractional_epochs():
    epochs = [i * 0.37 for i in range(1, STEPS + 1)]
    make = CHAINABLE["WarmRestarts-mult"]
    assert _same_run(make, epochs=epochs)


def test_closed_and_chainable_forms_differ_where_pytorchs_do():
    """LinearLR's chainable form multiplies ratios, so it drifts from the closed form by
    rounding; gradienti reproduces each of PyTorch's two forms, not one for both."""
    make = CHAINABLE["LinearLR-args"]
    chainable = _run(gradienti, make)[0]
    closed = _run(gradienti, make, epochs=EPOCH_ORDERS["in-order"])[0]
    assert chainable == _run(torch, make)[0]
    assert closed == _run(torch, make, epochs=EPOCH_ORDERS["in-order"])[0]
    assert chainable != closed


def _state_after(lib, make, steps):
    (w, b), optimizer = _optimizer(lib)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler


def _plain(state):
    """A state dict with the values the two libraries can share (no functions, no classes)."""
    if isinstance(state, dict):
        return {key: _plain(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return [_plain(value) for value in state]
    return state if isinstance(state, (int, float, str, bool, type(None))) else type(state).__name__


@pytest.mark.parametrize(
    "name",
    [
        "LinearLR",
        "ConstantLR",
        "MultiplicativeLR",
        "PolynomialLR-args",
        "Sequential-three",
        "Chained",
        "WarmRestarts-mult",
        "Cyclic-down",
        "LambdaLR",
    ],  # fmt: skip
)
def test_state_dict_as_pytorch_and_round_trip(name):
    make = CHAINABLE[name]
    _, ours = _state_after(gradienti, make, 9)
    _, theirs = _state_after(torch, make, 9)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    assert _plain(ours_state) == _plain(theirs_state)
    # a fresh scheduler loaded with the state continues as the original does
    optimizer, fresh = _state_after(gradienti, make, 0)
    fresh.load_state_dict(ours.state_dict())
    for group, lr in zip(optimizer.param_groups, ours.get_last_lr()):
        group["lr"] = lr
    for _ in range(5):
        ours.optimizer.step()
        ours.step()
        optimizer.step()
        fresh.step()
    assert fresh.get_last_lr() == ours.get_last_lr()


def test_callable_objects_keep_their_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate

    for cls in ("LambdaLR", "MultiplicativeLR"):
        (w, b), optimizer = _optimizer(gradienti)
        scheduler = getattr(goptim.lr_scheduler, cls)(optimizer, Decay(0.5))
        state = scheduler.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.5}, {"rate": 0.5}]
        scheduler.lr_lambdas[0].rate = 0.1
        scheduler.load_state_dict(state)
        assert scheduler.lr_lambdas[0].rate == 0.5


NEW = ["LinearLR", "ConstantLR", "LambdaLR", "MultiplicativeLR", "SequentialLR",
       "ChainedScheduler", "PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR"]  # fmt: skip


@pytest.mark.parametrize("name", NEW)
def test_signature_and_path_as_pytorch(name):
    ours = getattr(goptim.lr_scheduler, name)
    theirs = getattr(torch.optim.lr_scheduler, name)
    ours_params = inspect.signature(ours.__init__).parameters
    theirs_params = inspect.signature(theirs.__init__).parameters
    assert list(ours_params) == list(theirs_params)
    for key, param in ours_params.items():
        assert repr(param.default) == repr(theirs_params[key].default), key
    assert issubclass(ours, goptim.lr_scheduler.LRScheduler)
    assert name in goptim.lr_scheduler.__all__


def _error(lib, make):
    (w, b), optimizer = _optimizer(lib)
    with pytest.raises(Exception) as info:
        make(lib.optim.lr_scheduler, optimizer, lib)
    return type(info.value), str(info.value)


ERRORS = {
    "linear-start": lambda s, o, lib: s.LinearLR(o, start_factor=0),
    "linear-start-big": lambda s, o, lib: s.LinearLR(o, start_factor=1.5),
    "linear-end": lambda s, o, lib: s.LinearLR(o, end_factor=-0.1),
    "constant-factor": lambda s, o, lib: s.ConstantLR(o, factor=1.5),
    "multiplicative-count": lambda s, o, lib: s.MultiplicativeLR(o, [_factor]),
    "multiplicative-not-callable": lambda s, o, lib: s.MultiplicativeLR(o, 0.9),
    "lambda-count": lambda s, o, lib: s.LambdaLR(o, [_factor] * 3),
    "sequential-empty": lambda s, o, lib: s.SequentialLR(o, [], []),
    "sequential-milestones": lambda s, o, lib: s.SequentialLR(o, [s.StepLR(o, 2)], [3]),
    "sequential-plateau": lambda s, o, lib: s.SequentialLR(
        o, [s.StepLR(o, 2), s.ReduceLROnPlateau(o)], [3]
    ),
    "sequential-not-scheduler": lambda s, o, lib: s.SequentialLR(o, [s.StepLR(o, 2), 3], [2]),
    "sequential-other-optimizer": lambda s, o, lib: s.SequentialLR(
        o, [s.StepLR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1), 2)], []
    ),
    "chained-empty": lambda s, o, lib: s.ChainedScheduler([]),
    "chained-plateau": lambda s, o, lib: s.ChainedScheduler([s.ReduceLROnPlateau(o)]),
    "warm-t0": lambda s, o, lib: s.CosineAnnealingWarmRestarts(o, 0),
    "warm-t0-float": lambda s, o, lib: s.CosineAnnealingWarmRestarts(o, 2.0),
    "warm-tmult": lambda s, o, lib: s.CosineAnnealingWarmRestarts(o, 3, T_mult=0),
    "warm-eta": lambda s, o, lib: s.CosineAnnealingWarmRestarts(o, 3, eta_min="0"),
    "warm-negative-epoch": lambda s, o, lib: s.CosineAnnealingWarmRestarts(o, 3).step(-1),
    "cyclic-mode": lambda s, o, lib: s.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
    "cyclic-lengths": lambda s, o, lib: s.CyclicLR(o, [0.01], 0.1),
    "cyclic-not-optimizer": lambda s, o, lib: s.CyclicLR(3, 0.01, 0.1),
    "cyclic-no-momentum": lambda s, o, lib: s.CyclicLR(
        lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.01, 0.1
    ),
    "not-an-optimizer": lambda s, o, lib: s.LinearLR(3),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_pytorch(name):
    assert _error(gradienti, ERRORS[name]) == _error(torch, ERRORS[name])


def test_a_failed_construction_leaves_the_lrs():
    (w, b), optimizer = _optimizer(gradienti)
    with pytest.raises(ValueError):
        goptim.lr_scheduler.LinearLR(optimizer, start_factor=0)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.05]
    assert all("initial_lr" not in g for g in optimizer.param_groups)


def test_get_lr_outside_step_warns_as_pytorch():
    def warned(lib):
        (w, b), optimizer = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.PolynomialLR(optimizer)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.get_lr()
        return [(w.category, str(w.message)) for w in caught]

    assert warned(gradienti) == warned(torch) and len(warned(gradienti)) == 1


def test_cosine_restart_periods():
    """T_0=3, T_mult=2: restarts at epochs 3, 9, 21 (lr back at its base)."""
    seen, _ = _run(gradienti, CHAINABLE["WarmRestarts-mult"])
    restarts = [i for i, (lrs, _) in enumerate(seen) if math.isclose(lrs[0], 0.1)]
    assert restarts == [0, 3, 9, 21]


TENSOR_LR = ["LinearLR-args", "ConstantLR", "MultiplicativeLR", "PolynomialLR-args",
             "Sequential", "Chained", "WarmRestarts-mult", "Cyclic", "LambdaLR"]  # fmt: skip


@pytest.mark.parametrize("name", TENSOR_LR)
def test_a_tensor_lr_is_updated_in_place_as_pytorch(name):
    """PyTorch fills a tensor lr in place (the optimizer's kernels may hold it) and hands out
    copies from get_last_lr()."""

    def run(lib):
        w = lib.zeros(2, requires_grad=True)
        optimizer = lib.optim.SGD([w], lr=lib.tensor(0.1, dtype=lib.float64), momentum=0.9)
        lr = optimizer.param_groups[0]["lr"]
        scheduler = CHAINABLE[name](lib.optim.lr_scheduler, optimizer)
        seen = []
        for _ in range(12):
            optimizer.step()
            scheduler.step()
            last = scheduler.get_last_lr()[0]
            seen.append((type(last).__name__, float(last), last is lr))
        assert optimizer.param_groups[0]["lr"] is lr
        return seen

    assert run(gradienti) == run(torch)
