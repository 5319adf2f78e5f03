"""Adamax: Adam with the infinity norm of the gradients in place of their second moment."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    _add_to,
    _array,
    _check_adam_arguments,
    _grad_array,
    _lerp,
    _step_tensor,
    _to_scalar,
    _use_grad,
    _zeros_like,
)


class Adamax(Optimizer):
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

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                grad = _grad_array(p)
                if group["maximize"]:
                    grad = -grad
                step_t = _array(state["step"])
                step_t += 1
                if weight_decay != 0:
                    grad = grad + weight_decay * _array(p)
                exp_avg = _array(state["exp_avg"])
                exp_avg[...] = _lerp(exp_avg, grad, 1 - beta1)
                # u <- max(beta2 u, |g| + eps)
                exp_inf = _array(state["exp_inf"])
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
                clr = lr / (1 - beta1 ** float(step_t))
                _add_to(p, (-clr) * exp_avg / exp_inf)
