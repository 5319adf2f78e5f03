"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""

from __future__ import annotations

from ._single_tensor import _add_to, _array, _descent_grad, _state_tensor
from .optimizer import Optimizer, _use_grad


class SGD(Optimizer):
    _defaults_for_old_state = {"nesterov": False, "maximize": False}

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            # (no _params_with_grad: plain SGD keeps no state, not even an empty entry)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = _descent_grad(p, maximize, weight_decay)
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf_t = _state_tensor(grad.copy())
                    else:
                        buf = _array(buf_t)
                        buf *= momentum
                        buf += (1 - dampening) * grad
                    state["momentum_buffer"] = buf_t
                    buf = _array(buf_t)
                    grad = grad + momentum * buf if group["nesterov"] else buf
                _add_to(p, (-lr) * grad)
