"""RMSprop with momentum, centering, weight decay and maximize."""

from __future__ import annotations

from ..backend import xp
from .optimizer import (
    Optimizer,
    _add_to,
    _array,
    _grad_array,
    _lerp,
    _step_tensor,
    _use_grad,
    _zeros_like,
)


class RMSprop(Optimizer):
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
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
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

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("maximize", False)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = _zeros_like(p)
                param = _array(p)
                grad = _grad_array(p)
                if group["maximize"]:
                    grad = -grad
                step_t = _array(state["step"])
                step_t += 1
                if weight_decay != 0:
                    grad = grad + weight_decay * param
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
