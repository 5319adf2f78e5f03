"""RAdam: Adam with the variance of its adaptive learning rate rectified (Liu et al. 2019)."""

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
from .optimizer import Optimizer, _check_adam_arguments, _use_grad


class RAdam(Optimizer):
    _defaults_for_old_state = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "capturable": False,
    }

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

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(param)
        state["exp_avg_sq"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p, state in self._params_with_grad(group):
                grad = _descent_grad(p, maximize, weight_decay, lr, decoupled)
                step = float(_count_step(state))
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
