"""Rprop: resilient backpropagation, steps of per-element sizes adapted by the gradient signs."""

from __future__ import annotations

from ..backend import xp
from ._single_tensor import (
    _add_to,
    _array,
    _count_step,
    _descent_grad,
    _grad_array,
    _state_tensor,
    _step_tensor,
    _to_scalar,
    _zeros_like,
)
from .optimizer import _FLAGS_DEFAULTS_FOR_OLD_STATE, Optimizer, _check_lr, _use_grad


class Rprop(Optimizer):
    _defaults_for_old_state = _FLAGS_DEFAULTS_FOR_OLD_STATE

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, state, param, group) -> None:
        state["step"] = _step_tensor()
        # The gradient of the previous step (0 where that step was undone).
        state["prev"] = _zeros_like(param)
        # Each element's own step size, starting at lr.
        lr = _to_scalar(group["lr"])
        state["step_size"] = _state_tensor(xp.full_like(_grad_array(param), lr))

    @_use_grad
    def step(self) -> None:
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, state in self._params_with_grad(group):
                # (an array even for a 0-d parameter: masks assign into it below)
                grad = xp.array(_descent_grad(p, group["maximize"]), copy=True)
                _count_step(state)
                prev = _array(state["prev"])
                # Where the gradient kept its sign the step grows by etaplus, where it flipped
                # the step shrinks by etaminus, where either is 0 it stays.
                factor = xp.asarray(xp.sign(grad * prev))
                factor[factor > 0] = etaplus
                flipped = factor < 0
                factor[flipped] = etaminus
                factor[factor == 0] = 1
                step_size = _array(state["step_size"])
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                # After a sign flip the element does not move, and the next step sees
                # a zero previous gradient (no second shrink in a row).
                grad[flipped] = 0
                _add_to(p, -(xp.sign(grad) * step_size))
                prev[...] = grad
