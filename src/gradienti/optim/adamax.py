"""Adamax: Adam with the infinity norm of the gradients in place of their second moment."""

from __future__ import annotations

from ..backend import xp
from ._single_tensor import (
    _add_to,
    _array,
    _count_step,
    _descent_grad,
    _lerp,
    _step_tensor,
    _to_scalar,
    _zeros_like,
)
from .optimizer import _FLAGS_DEFAULTS_FOR_OLD_STATE, Optimizer, _check_adam_arguments, _use_grad


class Adamax(Optimizer):
    _defaults_for_old_state = _FLAGS_DEFAULTS_FOR_OLD_STATE

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_adam_arguments(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(param)
        state["exp_inf"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            for p, state in self._params_with_grad(group):
                grad = _descent_grad(p, group["maximize"], weight_decay)
                step_t = _count_step(state)
                exp_avg = _array(state["exp_avg"])
                exp_avg[...] = _lerp(exp_avg, grad, 1 - beta1)
                # u <- max(beta2 u, |g| + eps)
                exp_inf = _array(state["exp_inf"])
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
                clr = lr / (1 - beta1 ** float(step_t))
                _add_to(p, (-clr) * exp_avg / exp_inf)
