"""Optimizer and learning-rate scheduler state dicts cross between gradienti and real PyTorch.

One side takes a few steps, its ``state_dict`` goes through its own ``save`` and the other
library's ``load`` (``torch.load(..., weights_only=True)``), the other side's optimizer (built
with another lr, which the load must restore) or scheduler loads it, and one more step on each
side must land on the same parameters and learning rates.
"""

import numpy as np
import pytest
from checkpoint_helpers import (
    assert_same_arrays,
    floats,
    gradienti_to_torch,
    to_numpy,
    torch_to_gradienti,
)

import gradienti

torch = pytest.importorskip("torch")

# --- optimizers ---------------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD-momentum": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    "SGD-nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "Adam": ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    "Adam-amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    "AdamW": ("AdamW", {"lr": 0.01, "weight_decay": 0.05}),
    "RMSprop": ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    "Adagrad": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    "Adadelta": ("Adadelta", {"lr": 1.0, "rho": 0.8}),
    "Adamax": ("Adamax", {"lr": 0.01}),
    "NAdam": ("NAdam", {"lr": 0.01}),
    "NAdam-decoupled": ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    "RAdam": ("RAdam", {"lr": 0.01}),
    "ASGD": ("ASGD", {"lr": 0.01, "t0": 1.0}),
    "Rprop": ("Rprop", {"lr": 0.01}),
    "LBFGS": ("LBFGS", {"lr": 0.5, "history_size": 3, "max_iter": 4}),
}

POINTS = floats(6, 4)
UPSTREAM = np.linspace(-1.0, 2.0, 18, dtype=np.float32).reshape(6, 3)  # a non-uniform loss weight


class Problem:
    """Two parameters in two groups (the second with its own lr) and a fixed loss; one group for
    LBFGS, which refuses more."""

    def __init__(self, lib, weight, bias, optimizer_name, settings):
        self.lib = lib
        self.weight = lib.tensor(weight, requires_grad=True)
        self.bias = lib.tensor(bias, requires_grad=True)
        groups = [{"params": [self.weight]}, {"params": [self.bias], "lr": settings["lr"] / 2}]
        if optimizer_name == "LBFGS":
            groups = [{"params": [self.weight, self.bias]}]
        self.optimizer = getattr(lib.optim, optimizer_name)(groups, **settings)
        self.points = lib.tensor(POINTS)
        self.upstream = lib.tensor(UPSTREAM)

    def closure(self):
        self.optimizer.zero_grad()
        out = self.points @ self.weight.T + self.bias
        loss = ((out.tanh() - 0.3) ** 2 * self.upstream).sum() + 0.1 * (self.weight**2).sum()
        loss.backward()
        return loss

    def step(self):
        self.optimizer.step(self.closure)

    def values(self):
        return [to_numpy(self.weight), to_numpy(self.bias)]


def start_values():
    rng = np.random.default_rng(3)
    return rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(3).astype(np.float32)


def assert_optimizer_states_match(ours, theirs):
    """The same layout: parameter indices, state entries with their dtypes, group settings."""
    assert list(ours["state"]) == list(theirs["state"])
    for index, entries in ours["state"].items():
        assert list(entries) == list(theirs["state"][index])
        for key, value in entries.items():
            other = theirs["state"][index][key]
            assert type(value).__name__ == type(other).__name__, key
            if hasattr(value, "dtype"):
                assert str(value.dtype) == str(other.dtype), key
    for group, other in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert group == other


def cross_optimizer(name, source_lib, target_lib, transport, tmp_path):
    optimizer_name, settings = OPTIMIZERS[name]
    source = Problem(source_lib, *start_values(), optimizer_name, settings)
    for _ in range(3):
        source.step()
    state = transport(source.optimizer.state_dict(), tmp_path)
    # The target starts from the source's parameters with another lr: the load restores it.
    target = Problem(target_lib, *source.values(), optimizer_name, {**settings, "lr": 7.0})
    target.optimizer.load_state_dict(state)
    assert_optimizer_states_match(
        *(
            (source.optimizer.state_dict(), target.optimizer.state_dict())
            if source_lib is gradienti
            else (target.optimizer.state_dict(), source.optimizer.state_dict())
        )
    )
    source.step()
    target.step()
    assert_same_arrays(target.values(), source.values(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_dict_from_gradienti_continues_in_torch(name, tmp_path):
    cross_optimizer(name, gradienti, torch, gradienti_to_torch, tmp_path)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_dict_from_torch_continues_in_gradienti(name, tmp_path):
    cross_optimizer(name, torch, gradienti, torch_to_gradienti, tmp_path)


def test_every_optimizer_of_gradienti_is_in_the_matrix():
    optimizers = {
        name
        for name in gradienti.optim.__all__
        if isinstance(getattr(gradienti.optim, name), type) and name != "Optimizer"
    }
    assert optimizers == {optimizer for optimizer, _ in OPTIMIZERS.values()}


# --- learning-rate schedulers -------------------------------------------------------------------


def _sequential(lr_scheduler, optimizer):
    first = lr_scheduler.ConstantLR(optimizer, factor=0.5, total_iters=2)
    second = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    return lr_scheduler.SequentialLR(optimizer, [first, second], milestones=[2])


def _chained(lr_scheduler, optimizer):
    first = lr_scheduler.ConstantLR(optimizer, factor=0.5, total_iters=2)
    second = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    return lr_scheduler.ChainedScheduler([first, second])


def _decay(epoch):
    return 0.9**epoch


# name -> build(lr_scheduler module, optimizer) -> scheduler
SCHEDULERS = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[2, 4], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.3, total_iters=4),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=3),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=6, power=2.0),
    "LambdaLR": lambda s, o: s.LambdaLR(o, _decay),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.95),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2),
    "ReduceLROnPlateau": lambda s, o: s.ReduceLROnPlateau(o, patience=0, factor=0.5),
    "SequentialLR": _sequential,
    "ChainedScheduler": _chained,
}

METRICS = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5]  # for ReduceLROnPlateau: a plateau, then progress


def scheduled(lib, name):
    parameter = lib.tensor([1.0, -2.0], requires_grad=True)
    optimizer = lib.optim.SGD([parameter], lr=0.1, momentum=0.9)
    return optimizer, SCHEDULERS[name](lib.optim.lr_scheduler, optimizer)


def advance(optimizer, scheduler, epochs):
    for epoch in epochs:
        optimizer.step()  # no gradients: the parameter stays, only the schedule moves
        if isinstance(
            scheduler,
            (
                gradienti.optim.lr_scheduler.ReduceLROnPlateau,
                torch.optim.lr_scheduler.ReduceLROnPlateau,
            ),
        ):
            scheduler.step(METRICS[epoch])
        else:
            scheduler.step()


def cross_scheduler(name, source_lib, target_lib, transport, tmp_path):
    source_optimizer, source = scheduled(source_lib, name)
    advance(source_optimizer, source, range(3))
    saved = {"optimizer": source_optimizer.state_dict(), "scheduler": source.state_dict()}
    state = transport(saved, tmp_path)
    target_optimizer, target = scheduled(target_lib, name)
    target_optimizer.load_state_dict(state["optimizer"])
    target.load_state_dict(state["scheduler"])
    ours, theirs = (source, target) if source_lib is gradienti else (target, source)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert target.state_dict() == source.state_dict()  # last_epoch, _last_lr, counters...
    for _ in range(3):
        advance(source_optimizer, source, [3])
        advance(target_optimizer, target, [3])
        assert target.get_last_lr() == pytest.approx(source.get_last_lr(), rel=1e-12)
        target_lrs = [group["lr"] for group in target_optimizer.param_groups]
        assert target_lrs == pytest.approx([g["lr"] for g in source_optimizer.param_groups])


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_state_dict_from_gradienti_continues_in_torch(name, tmp_path):
    cross_scheduler(name, gradienti, torch, gradienti_to_torch, tmp_path)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_state_dict_from_torch_continues_in_gradienti(name, tmp_path):
    cross_scheduler(name, torch, gradienti, torch_to_gradienti, tmp_path)


def test_every_scheduler_of_gradienti_is_in_the_matrix():
    schedulers = set(gradienti.optim.lr_scheduler.__all__) - {"LRScheduler"}
    assert schedulers == set(SCHEDULERS)
