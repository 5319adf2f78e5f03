"""ASGD: stochastic gradient descent with a decaying step and Polyak-Ruppert averaging."""

from __future__ import annotations

from ..backend import get_default_dtype
from ._single_tensor import (
    _add_to,
    _array,
    _count_step,
    _descent_grad,
    _step_tensor,
    _to_scalar,
    _zeros_like,
)
from .optimizer import (
    _FLAGS_DEFAULTS_FOR_OLD_STATE,
    Optimizer,
    _check_lr,
    _check_non_negative,
    _use_grad,
)


class ASGD(Optimizer):
    _defaults_for_old_state = _FLAGS_DEFAULTS_FOR_OLD_STATE

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
        _check_non_negative(weight_decay, "weight_decay value")
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

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        # eta: the current step size; mu: the averaging weight; ax: the average.
        state["eta"] = _step_tensor(_to_scalar(group["lr"]))
        state["mu"] = _step_tensor(1.0)
        state["ax"] = _zeros_like(param)

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lambd = group["lambd"]
            alpha = group["alpha"]
            t0 = group["t0"]
            weight_decay = group["weight_decay"]
            for p, state in self._params_with_grad(group):
                grad = _descent_grad(p, group["maximize"], weight_decay)
                step_t = _count_step(state)
                param = _array(p)
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
