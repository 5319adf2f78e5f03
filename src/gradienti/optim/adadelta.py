"""Adadelta (Zeiler 2012) with weight decay and maximize."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    _add_to,
    _array,
    _check_lr,
    _grad_array,
    _step_tensor,
    _to_scalar,
    _use_grad,
    _zeros_like,
)


class Adadelta(Optimizer):
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
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
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
            rho = group["rho"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                step_t = _array(state["step"])
                step_t += 1
                grad = _grad_array(p)
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * _array(p)
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
