"""Adadelta (Zeiler 2012) with weight decay and maximize."""

from __future__ import annotations

from ..backend import xp
from ._single_tensor import (
    _add_to,
    _array,
    _count_step,
    _descent_grad,
    _step_tensor,
    _to_scalar,
    _zeros_like,
)
from .optimizer import (
    _FLAGS_DEFAULTS_FOR_OLD_STATE,
    Optimizer,
    _check_lr,
    _check_non_negative,
    _use_grad,
)


class Adadelta(Optimizer):
    _defaults_for_old_state = _FLAGS_DEFAULTS_FOR_OLD_STATE

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(eps, "epsilon value")
        _check_non_negative(weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(param)
        state["acc_delta"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            for p, state in self._params_with_grad(group):
                _count_step(state)
                grad = _descent_grad(p, group["maximize"], weight_decay)
                # E[g^2] <- rho E[g^2] + (1 - rho) g^2
                square_avg = _array(state["square_avg"])
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                # delta = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
                std = xp.sqrt(square_avg + eps)
                acc_delta = _array(state["acc_delta"])
                delta = xp.sqrt(acc_delta + eps)
                delta /= std
                delta *= grad
                # E[dx^2] <- rho E[dx^2] + (1 - rho) delta^2
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                _add_to(p, (-lr) * delta)
