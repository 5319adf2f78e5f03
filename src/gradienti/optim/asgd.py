"""ASGD: stochastic gradient descent with a decaying step and Polyak-Ruppert averaging."""

from __future__ import annotations

from ..backend import get_default_dtype
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


class ASGD(Optimizer):
    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
            lambd = group["lambd"]
            alpha = group["alpha"]
            t0 = group["t0"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    # eta: the current step size; mu: the averaging weight; ax: the average.
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                grad = _grad_array(p)
                if group["maximize"]:
                    grad = -grad
                step_t = _array(state["step"])
                step_t += 1
                param = _array(p)
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                eta_t = _array(state["eta"])
                eta = float(eta_t)
                # x <- x (1 - lambd eta) - eta g
                param *= 1 - lambd * eta
                _add_to(p, (-eta) * grad)
                # ax <- ax + mu (x - ax): a plain copy while mu is 1 (before t0)
                mu_t = _array(state["mu"])
                ax = _array(state["ax"])
                if float(mu_t) != 1:
                    ax += (param - ax) * float(mu_t)
                else:
                    ax[...] = param
                # The new values pass through the default dtype (PyTorch's torch.as_tensor of a
                # Python number) on their way into the state, whatever its dtype.
                step = float(step_t)
                default_float = get_default_dtype().np.type
                eta_t[...] = default_float(lr / ((1 + lambd * lr * step) ** alpha))
                mu_t[...] = default_float(1 / max(1, step - t0))
