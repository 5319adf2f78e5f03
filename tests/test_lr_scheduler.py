"""gradienti.optim.lr_scheduler against PyTorch: the lr sequences over 30 epochs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
import gradienti.optim as goptim

torch = pytest.importorskip("torch")

EPOCHS = 30


def _setup(lib, mod, opt_name="SGD", opt_kwargs=None, two_groups=True):
    w = lib.tensor(np.array([1.0, -2.0]), dtype=lib.float64, requires_grad=True)
    b = lib.tensor(np.array(0.5), dtype=lib.float64, requires_grad=True)
    kwargs = {"lr": 0.1, "momentum": 0.9} if opt_kwargs is None else opt_kwargs
    groups = [{"params": [w]}, {"params": [b], "lr": 0.05}] if two_groups else [w, b]
    return (w, b), getattr(mod, opt_name)(groups, **kwargs)


def _sequence(lib, mod, make_sched, opt_name="SGD", opt_kwargs=None, metrics=None):
    (w, b), opt = _setup(lib, mod, opt_name, opt_kwargs)
    sched = make_sched(mod.lr_scheduler, opt)
    lrs, extra = [], []
    for epoch in range(EPOCHS):
        opt.zero_grad()
        loss = ((w * w).sum() + b * b) * 0.5
        loss.backward()
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        lrs.append(list(sched.get_last_lr()))
        extra.append([g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    return (
        np.array(lrs),
        extra,
        np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]),
    )


LOSSES = [
    1.0,
    0.9,
    0.8,
    0.8,
    0.8,
    0.81,
    0.79,
    0.8,
    0.8,
    0.8,
    0.8,
    0.8,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
]

SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95**e / (1 + e % 3)),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9**e]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS),
    "OneCycleLR-linear-3": lambda m, o: m.OneCycleLR(
        o,
        max_lr=[1.0, 0.5],
        epochs=3,
        steps_per_epoch=10,
        anneal_strategy="linear",
        three_phase=True,
        pct_start=0.25,
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name):
    make = SCHEDULERS[name]
    g_lrs, g_mom, g_w = _sequence(gradienti, goptim, make)
    t_lrs, t_mom, t_w = _sequence(torch, torch.optim, make)
    np.testing.assert_allclose(g_lrs, t_lrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.array(g_mom, float), np.array(t_mom, float), rtol=1e-12)
    np.testing.assert_allclose(g_w, t_w, rtol=1e-5, atol=1e-8)


def test_one_cycle_with_adam_cycles_beta1():
    def make(m, o):
        return m.OneCycleLR(o, max_lr=0.1, total_steps=EPOCHS, pct_start=0.4)

    kw = {"lr": 0.01}
    g = _sequence(gradienti, goptim, make, "Adam", kw)
    t = _sequence(torch, torch.optim, make, "Adam", kw)
    np.testing.assert_allclose(g[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(np.array(g[1], float), np.array(t[1], float), rtol=1e-12)
    np.testing.assert_allclose(g[2], t[2], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": [0.01, 0.02]},
        {"mode": "max", "patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
    ],
)
def test_reduce_lr_on_plateau(kwargs):
    def make(m, o):
        return m.ReduceLROnPlateau(o, **kwargs)

    g = _sequence(gradienti, goptim, make, metrics=LOSSES)
    t = _sequence(torch, torch.optim, make, metrics=LOSSES)
    np.testing.assert_allclose(g[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(g[2], t[2], rtol=1e-5, atol=1e-8)
    assert len(set(map(tuple, g[0]))) > 1


def test_initial_lr_and_last_epoch():
    _, opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.StepLR(opt, step_size=2)
    assert sched.last_epoch == 0 and sched.base_lrs == [0.1, 0.05]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert sched.get_last_lr() == [0.1, 0.05]
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
        _, opt2 = _setup(gradienti, goptim)
        goptim.lr_scheduler.StepLR(opt2, step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        goptim.lr_scheduler.StepLR([], step_size=2)


def test_state_dict_round_trip():
    (w, b), opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
    (tw, tb), topt = _setup(torch, torch.optim)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=8)
    for _ in range(5):
        opt.step()
        sched.step()
        topt.step()
        tsched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd
    assert set(sd) == set(tsched.state_dict())
    _, opt2 = _setup(gradienti, goptim)
    opt2.load_state_dict(opt.state_dict())
    sched2 = goptim.lr_scheduler.CosineAnnealingLR(opt2, T_max=8)
    sched2.load_state_dict(sd)
    for _ in range(10):
        for o, s in ((opt, sched), (opt2, sched2), (topt, tsched)):
            o.step()
            s.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def test_lambda_and_plateau_state_dict():
    _, opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.LambdaLR(opt, lambda e: 0.5**e)
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, None]
    sched.load_state_dict(sd)
    _, opt = _setup(gradienti, goptim)
    plateau = goptim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    plateau.step(1.0)
    plateau.step(2.0)
    sd = plateau.state_dict()
    _, opt2 = _setup(gradienti, goptim)
    p2 = goptim.lr_scheduler.ReduceLROnPlateau(opt2)
    p2.load_state_dict(sd)
    assert p2.best == 1.0 and p2.patience == 0 and p2.last_epoch == 2


def test_warnings():
    _, opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="The epoch parameter"):
        sched.step(4)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.1**2, 0.05 * 0.1**2])
    _, opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        goptim.lr_scheduler.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="You must define either total_steps"):
        goptim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)


def test_one_cycle_too_many_steps():
    _, opt = _setup(gradienti, goptim)
    sched = goptim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        opt.step()
        sched.step()
