"""RMSprop with momentum, centering, weight decay and maximize."""

from __future__ import annotations

from ..backend import xp
from ._single_tensor import (
    _add_to,
    _array,
    _count_step,
    _descent_grad,
    _lerp,
    _step_tensor,
    _zeros_like,
)
from .optimizer import Optimizer, _check_non_negative, _use_grad


class RMSprop(Optimizer):
    _defaults_for_old_state = {"momentum": 0, "centered": False, "maximize": False}

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_non_negative(lr, "learning rate")
        _check_non_negative(eps, "epsilon value")
        _check_non_negative(momentum, "momentum value")
        _check_non_negative(weight_decay, "weight_decay value")
        _check_non_negative(alpha, "alpha value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            for p, state in self._params_with_grad(group):
                grad = _descent_grad(p, group["maximize"], weight_decay)
                _count_step(state)
                square_avg = _array(state["square_avg"])
                square_avg *= alpha
                square_avg += (1 - alpha) * (grad * grad)
                if group["centered"]:
                    grad_avg = _array(state["grad_avg"])
                    grad_avg[...] = _lerp(grad_avg, grad, 1 - alpha)
                    avg = xp.sqrt(square_avg + (-1) * (grad_avg * grad_avg))
                else:
                    avg = xp.sqrt(square_avg)
                avg = avg + eps
                if momentum > 0:
                    buf = _array(state["momentum_buffer"])
                    buf *= momentum
                    buf += grad / avg
                    _add_to(p, (-lr) * buf)
                else:
                    _add_to(p, (-lr) * (grad / avg))
