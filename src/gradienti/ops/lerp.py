"""``lerp(input, end, weight)``: ``input + weight * (end - input)``, as PyTorch computes it
(``input + w·(end - input)`` for ``|w| < 0.5``, ``end - (end - input)·(1 - w)`` otherwise, so
that ``w = 1`` gives ``end`` exactly), with a number weight (``LerpBackward0``) or a Tensor
one (``LerpBackward1``). quantile interpolates with it.

Gradients (PyTorch's): input ``g·(1 - w)``, end ``g·w``, a Tensor weight ``g·(end - input)``.
"""

from __future__ import annotations

from ..arguments import is_number
from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.node import SAVE_INPUTS, SAVE_NOTHING, Op
from ..tensor import Tensor
from .apply import nary
from .declare import declare
from .explain_rule import Rule
from .jvp_rules import elementwise_jvp
from .saved_names import SavedNames, value


def _interpolate(a, b, w):
    """PyTorch's lerp kernel on arrays, exact at both ends of the weight: ``base + c·(b - a)``
    in one fused multiply-add, with ``(base, c) = (a, w)`` for ``|w| < 0.5`` and ``(b, w - 1)``
    otherwise. float32 takes the fused step in float64 (the product of two float32 is exact
    there, so one rounding remains, as in the FMA)."""
    if a.dtype == xp.float16:
        # PyTorch computes half in float32 (its opmath: a number weight too) and rounds once
        # at the end.
        wide = _interpolate(a.astype(xp.float32), b.astype(xp.float32), xp.float32(w))
        return wide.astype(xp.float16)
    difference = b - a
    small = xp.abs(w) < 0.5
    base = xp.where(small, a, b)
    coefficient = xp.where(small, w, w - 1)
    if difference.dtype == xp.float32:
        wide = base.astype(xp.float64) + coefficient.astype(xp.float64) * difference
        return wide.astype(xp.float32)
    return base + coefficient * difference


class LerpBackward0(Op):
    """``lerp(input, end, number)``."""

    __slots__ = ("weight",)
    save = SAVE_NOTHING
    saved_names = SavedNames(weight=value("weight"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b):
        weight = xp.float32(ctx.weight) if a.dtype == xp.float16 else a.dtype.type(ctx.weight)
        return xp.asarray(_interpolate(a, b, weight))

    @staticmethod
    def backward(ctx, g):
        weight = ctx.weight
        return g * (1 - weight), g * weight


class LerpBackward1(Op):
    """``lerp(input, end, weight)`` with a Tensor weight."""

    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(end=1, self=0, weight=2)
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b, w):
        return xp.asarray(_interpolate(a, b, w))

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        a_node, b_node, w_node = ctx._next
        return (
            g * (1 - w) if a_node is not None else None,
            g * w if b_node is not None else None,
            g * (b - a) if w_node is not None else None,
        )


def _check_dtype(input, other, name: str) -> None:
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"expected dtype {_c_name(input)} for `{name}` but got dtype {_c_name(other)}"
        )


def _c_name(tensor) -> str:
    """The C++ type PyTorch's message names (``long int``, ``c10::Half``)."""
    return CPP_TYPE_NAMES[tensor._data.dtype.name]


def lerp(input, end, weight):
    _check_dtype(input, end, "end")
    if input._data.dtype.kind != "f":
        kernel = "lerp_kernel_scalar" if is_number(weight) else "lerp_kernel_tensor"
        raise NotImplementedError(
            f'"{kernel}" not implemented for '
            f"'{SCALAR_TYPE_NAMES[from_numpy_dtype(input._data.dtype).name]}'"
        )
    if isinstance(weight, Tensor):
        if weight._data.ndim:
            _check_dtype(input, weight, "weight")
        return nary(LerpBackward1(), input, end, weight.to(input.dtype))
    node = LerpBackward0()
    node.weight = weight
    return nary(node, input, end)


def _lerp_rule(node) -> Rule:
    weight = getattr(node, "weight", None)
    if weight is None:
        return Rule(
            "linear interpolation",
            "lerp({x:0}, {x:1}, {x:2})",
            passes=(
                "the gradient times (1 - weight)",
                "the gradient times weight",
                "the gradient times (end - input)",
            ),
        )
    return Rule(
        f"linear interpolation with weight {weight}",
        f"lerp({{x:0}}, {{x:1}}, {weight})",
        passes=(f"the gradient times {1 - weight}", f"the gradient times {weight}"),
    )


DECLARATIONS = (
    declare("lerp", lerp, explain={LerpBackward0: _lerp_rule, LerpBackward1: _lerp_rule}),
)
