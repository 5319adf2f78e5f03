"""Adagrad with learning-rate decay, weight decay, an initial accumulator and maximize."""

from __future__ import annotations

from ..backend import xp
from ._single_tensor import _add_to, _array, _count_step, _descent_grad, _state_tensor, _step_tensor
from .optimizer import Optimizer, _check_non_negative, _use_grad


class Adagrad(Optimizer):
    _defaults_for_old_state = {"maximize": False}

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_non_negative(lr, "learning rate")
        _check_non_negative(lr_decay, "lr_decay value")
        _check_non_negative(weight_decay, "weight_decay value")
        _check_non_negative(initial_accumulator_value, "initial_accumulator_value value")
        _check_non_negative(eps, "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # Adagrad creates its state up front, like PyTorch's.
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                init = group["initial_accumulator_value"]
                state["sum"] = _state_tensor(xp.full_like(_array(p), init))

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            # (its state starts in the constructor: _init_state is the base's, which adds none)
            for p, state in self._params_with_grad(group):
                step = float(_count_step(state))
                grad = _descent_grad(p, group["maximize"], weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = _array(state["sum"])
                state_sum += grad * grad
                std = xp.sqrt(state_sum) + eps
                _add_to(p, (-clr) * (grad / std))
