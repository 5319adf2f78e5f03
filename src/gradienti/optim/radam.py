"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al. 2019)."""

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


class RAdam(Optimizer):
    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_arguments(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
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
                    state["exp_avg_sq"] = _zeros_like(p)
                grad = _grad_array(p)
                if group["maximize"]:
                    grad = -grad
                step_t = _array(state["step"])
                step_t += 1
                step = float(step_t)
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param = _array(p)
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * _array(p)
                exp_avg = _array(state["exp_avg"])
                exp_avg[...] = _lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq = _array(state["exp_avg_sq"])
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad

                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                # rho_inf: the maximum length of the approximated simple moving average;
                # rho_t: its length at step t.
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    # The variance is tractable: the rectified adaptive step.
                    rect_numerator = (rho_t - 4) * (rho_t - 2) * rho_inf
                    rect = (rect_numerator / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive_lr = (bias_correction2**0.5) / (xp.sqrt(exp_avg_sq) + eps)
                    update = bias_corrected_exp_avg * lr * adaptive_lr * rect
                else:
                    # Too few steps for the variance estimate: plain momentum SGD.
                    update = bias_corrected_exp_avg * lr
                _add_to(p, -update)
