"""The array-level steps that the update rules of gradienti.optim share.

The update rules work on the NumPy arrays behind the parameters, their gradients and their state
tensors (``_array``), following PyTorch's single-tensor (``foreach=False``) implementations
operation by operation, and write the new values into the parameters' memory in place
(``_add_to``), counting a version like an in-place op does. What every rule does the same way
(read the gradient, flip it for ``maximize``, apply weight decay, count the step) is here; each
optimizer's file keeps its own formula.
"""

from __future__ import annotations

from ..backend import get_default_dtype, xp
from ..graph import versions
from ..tensor import Tensor, wrap


def _array(tensor):
    """The ndarray behind ``tensor`` (its own memory: writes go to the tensor)."""
    return tensor._as_array()


def _grad_array(param):
    return xp.asarray(param.grad._data)


def _add_to(param, update) -> None:
    """``param += update`` in ``param``'s memory (the optimizer step is not recorded): the same
    sums as ``param + update``, without a new array for the result and a pass to copy it in."""
    target = _array(param)
    xp.add(target, update, out=target, casting="unsafe")
    versions.bump(target)


def _lerp(start, end, weight):
    """``start.lerp_(end, weight)`` as PyTorch computes it (two formulas, split at 0.5)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _state_tensor(array) -> Tensor:
    """A state tensor (no grad) holding ``array``, contiguous and of the same shape (a 0-d
    array stays 0-d: ``ascontiguousarray`` would make it 1-d)."""
    array = xp.asarray(array)
    if not array.flags.c_contiguous:
        array = xp.ascontiguousarray(array)
    return wrap(array, None)


def _zeros_like(param) -> Tensor:
    return _state_tensor(xp.zeros_like(_array(param)))


def _step_tensor(value: float = 0.0) -> Tensor:
    """PyTorch keeps the step count (and the scalar state of NAdam, ASGD) as a 0-d tensor of
    float32, or of float64 while that is the default dtype (``_get_scalar_dtype``)."""
    scalar_dtype = xp.float64 if get_default_dtype().np == xp.float64 else xp.float32
    return wrap(xp.asarray(value, dtype=scalar_dtype), None)


def _to_scalar(value):
    """A one-element tensor (a tensor ``lr``) as a NumPy scalar of its dtype, which rounds in
    arithmetic with Python numbers as PyTorch's 0-d tensor does; anything else as it is."""
    return _array(value).reshape(())[()] if isinstance(value, Tensor) else value


def _count_step(state):
    """``state["step"] += 1`` in the state tensor's memory; the 0-d count array, rounded to its
    dtype (float32 or float64) as PyTorch's step tensor is."""
    step_t = _array(state["step"])
    step_t += 1
    return step_t


def _descent_grad(param, maximize: bool, weight_decay=0, lr=None, decoupled: bool = False):
    """The gradient the update rule descends along: ``-grad`` with ``maximize``, and with weight
    decay ``grad + weight_decay * param`` (L2), or, when ``decoupled`` (AdamW's form), the
    gradient as it is after ``param *= 1 - lr * weight_decay`` in place. A new array whenever
    it differs from the stored gradient, which is never written."""
    grad = xp.asarray(param.grad._data)  # (_grad_array inlined: this runs for every parameter)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param_array = _array(param)
            param_array *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * _array(param)
    return grad
