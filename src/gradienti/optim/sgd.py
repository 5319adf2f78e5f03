"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""

from __future__ import annotations

from ..backend import xp
from ..graph import versions
from ..graph.grad_mode import no_grad
from ._single_tensor import _add_to, _array, _descent_grad, _state_tensor, _to_scalar
from .optimizer import Optimizer

_ndarray = xp.ndarray


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

    def step(self, closure=None):
        loss = self._run_closure(closure)
        groups = self.param_groups
        if all(_plain(group) for group in groups):
            # Only arrays are touched (a number lr): no graph can be recorded, so grad mode
            # need not be switched off around the loop.
            for group in groups:
                _plain_step(group["params"], group["lr"])
        else:
            with no_grad():
                self._general_step()
        return loss

    def _general_step(self) -> None:
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])  # (a tensor lr: a NumPy scalar of its dtype)
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


def _plain(group) -> bool:
    """A group that plain SGD steps: ``param -= lr * grad``, ``lr`` a number."""
    return (
        group["momentum"] == 0
        and group["weight_decay"] == 0
        and not group["maximize"]
        and not group.get("differentiable")  # (its non-leaf params warn when read)
        and type(group["lr"]) in (float, int)
    )


def _plain_step(params, lr) -> None:
    """``param.add_(grad, alpha=-lr)`` for each parameter with a gradient: the same two passes
    as the general step (``-lr * grad``, then added in the parameter's memory, a version
    counted), without its per-parameter calls (this loop runs every training step)."""
    scale = -lr
    add = xp.add
    bump = versions.bump
    for p in params:
        grad = p._grad
        if grad is None:
            continue
        target = p._data
        if type(target) is not _ndarray:
            target = _array(p)  # a 0-d parameter held as a NumPy scalar
        add(target, scale * grad._data, out=target, casting="unsafe")
        bump(target)
