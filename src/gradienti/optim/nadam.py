"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat 2016)."""

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
from .optimizer import Optimizer, _check_adam_arguments, _check_non_negative, _use_grad


class NAdam(Optimizer):
    _defaults_for_old_state = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_arguments(lr, eps, betas, weight_decay)
        _check_non_negative(momentum_decay, "momentum_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        # The product of the momentum coefficients mu_1 ... mu_t.
        state["mu_product"] = _step_tensor(1.0)
        state["exp_avg"] = _zeros_like(param)
        state["exp_avg_sq"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p, state in self._params_with_grad(group):
                grad = _descent_grad(p, maximize, weight_decay, lr, decoupled)
                step = float(_count_step(state))
                bias_correction2 = 1 - beta2**step
                # mu_t = beta1 (1 - 0.96^(t psi) / 2), and mu_{t+1} for the Nesterov look-ahead
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product_t = _array(state["mu_product"])
                mu_product_t *= mu
                # The scalar state is rounded to its dtype before the coefficients use it.
                mu_product = float(mu_product_t)
                mu_product_next = mu_product * mu_next

                exp_avg = _array(state["exp_avg"])
                exp_avg[...] = _lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq = _array(state["exp_avg_sq"])
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                denom = xp.sqrt(exp_avg_sq / bias_correction2)
                denom += eps
                grad_coefficient = -lr * (1.0 - mu) / (1.0 - mu_product)
                _add_to(p, grad_coefficient * grad / denom)
                exp_avg_coefficient = (-lr * mu_next) / (1.0 - mu_product_next)
                _add_to(p, exp_avg_coefficient * exp_avg / denom)
