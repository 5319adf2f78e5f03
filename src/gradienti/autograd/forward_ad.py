"""``gradienti.autograd.forward_ad``: forward-mode AD with dual tensors, as PyTorch's.

Inside ``with dual_level():`` a tensor made dual with ``make_dual(x, v)`` carries a tangent
``v``; every op on it computes, beside its value, the tangent of its output (the op's JVP rule:
``Op.jvp``, see ops/forward_tangents.py), so ``unpack_dual(f(dual)).tangent`` is the
Jacobian-vector product ``J_f(x) v``, in one forward pass. Leaving the level drops the tangents.
The level's state and where tangents live: graph/dual.py.
"""

from __future__ import annotations

from typing import NamedTuple

from ..graph import dual
from ..graph.grad_mode import _GradModeContext
from ..graph.node import NO_EDGE
from ..python_types import type_name
from ..tensor import Tensor, wrap

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]


def enter_dual_level() -> int:
    """Enter the forward-AD level (one at a time, as in PyTorch); returns its index, 0."""
    return dual.enter_level()


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the level: every tangent made in it is gone."""
    dual.exit_level(level)


class dual_level(_GradModeContext):  # noqa: N801 - PyTorch's public name
    """``with dual_level():`` (or as a decorator): forward AD inside, tangents dropped after."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc_info) -> None:
        exit_dual_level()

    def clone(self) -> dual_level:
        return dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A new tensor sharing ``tensor``'s memory, with ``tangent`` as its tangent.

    Backward-differentiable, as in PyTorch: a tensor that requires grad gives a view of it
    (``ViewBackward0``), so gradients flow back through the dual tensor to ``tensor``. The
    checks and their order are PyTorch's (its Python checks, then ``_make_dual``'s).
    """
    current = dual.FORWARD.level
    if level is None:
        level = -1 if current is None else current
    if level < 0:
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    for name, value in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(value, Tensor):  # (PyTorch calls the method on it)
            raise AttributeError(
                f"'{type(value).__name__}' object has no attribute 'is_floating_point'"
            )
        if not value.is_floating_point():
            raise ValueError(
                f"Expected {name} to be floating point or complex, but got: {value.dtype}"
            )
    if level != 0:  # (the only index a level ever has)
        raise RuntimeError("Invalid level given to _make_dual")
    if dual.tangent_of(tensor) is not None:
        raise RuntimeError(
            "Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            "same level 0 is not supported."
        )
    if dual.tangent_of(tangent) is not None:
        raise RuntimeError(
            "Setting a forward grad that itself has a forward gradient at the same level0 is not "
            "supported."
        )
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor._data.shape)} while the given forward gradient is of size "
            f"{list(tangent._data.shape)}."
        )
    if current is None:  # level 0 named, none entered
        raise RuntimeError(
            "Trying to access a forward AD level with an invalid index. This index was either "
            "not created or is already deleted."
        )
    result = _alias(tensor)
    dual.set_tangent(result, tangent)
    return result


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal (a view without the tangent) and the tangent."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a dual tensor; the tangent is None for a tensor without one."""
    current = dual.FORWARD.level
    if level is None:
        level = -1 if current is None else current
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type_name(tensor)}"
        )
    tangent = dual.tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    if level != current:
        raise RuntimeError("Invalid level given to _fw_primal")
    return UnpackedDualTensor(_alias(tensor), tangent)


def _alias(tensor: Tensor) -> Tensor:
    """A new tensor on the same memory, without a tangent: a view (``ViewBackward0``) when the
    tensor requires grad, so that gradients pass through it, as PyTorch's alias does."""
    if tensor._edge is None:
        return wrap(tensor._data, NO_EDGE)
    with dual.suspended():
        return tensor.view(tensor.shape)
