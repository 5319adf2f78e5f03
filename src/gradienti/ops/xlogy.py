"""``xlogy(x, y) = x·log(y)``, 0 where x is 0 (NaN where y is NaN), as torch.xlogy and
torch.special.xlogy: the Tensor and Tensor form (XlogyBackward0), a number and a Tensor
(XlogyBackward1) and a Tensor and a number (XlogyBackward2), with ``Tensor.xlogy`` and
``xlogy_``. Integral and bool inputs compute in the default float dtype. Declared in
``DECLARATIONS``.

Gradients as derivatives.yaml: d/dx = log y (the gradient g passed as xlogy(g, y)), 0 where
x = 0 and y <= 0 (PyTorch's choice where xlogy is not differentiable); d/dy = x/y.
"""

from __future__ import annotations

from ..backend import default_float, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .apply import NUMBER_TYPES, binary, raise_if_not_broadcastable, unary
from .bitwise import plain_operand
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import ATOM, Rule, binary_rule
from .jvp_rules import elementwise_jvp
from .saved_names import SavedNames


def xlogy_arrays(x, y):
    """x·log(y) with PyTorch's cases: NaN where y is NaN, else 0 where x is 0."""
    out = x * xp.log(y)
    out = xp.where(xp.equal(x, 0), xp.zeros_like(out), out)
    return xp.where(xp.isnan(y), xp.full_like(out, xp.nan), out).astype(out.dtype, copy=False)


def _xlogy_any(a, b):
    """xlogy of arrays or (recorded) Tensors; b may be a number."""
    if type(a) is Tensor or type(b) is Tensor:
        return xlogy(a, b)
    if type(b) in NUMBER_TYPES:
        b = xp.asarray(b, dtype=a.dtype)
    return xlogy_arrays(a, b)


class XlogyBackward0(Op):
    """``xlogy(x, y)`` of two Tensors."""

    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0, other=1)
    jvp = staticmethod(elementwise_jvp)
    function = staticmethod(xlogy_arrays)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx._saved
        x_node, y_node = ctx._next
        # PyTorch's choice at x = 0, y <= 0, where xlogy is not differentiable: 0
        grad_x = None
        if x_node is not None:
            grad_x = where(xp.equal(x, 0) & xp.less_equal(y, 0), 0.0, _xlogy_any(g, y))
        grad_y = g * x / y if y_node is not None else None
        return grad_x, grad_y


class XlogyBackward1(Op):
    """``xlogy(number, y)``: one input, y; ``self`` is the number."""

    __slots__ = ("self",)
    save = SAVE_INPUTS
    promotes_integers = True
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, y):
        return xlogy_arrays(xp.asarray(ctx.self, dtype=y.dtype), y)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx._saved
        return g * ctx.self / y


class XlogyBackward2(Op):
    """``xlogy(x, number)``: one input, x; ``other`` is the number."""

    __slots__ = ("other",)
    save = SAVE_INPUTS
    promotes_integers = True
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xlogy_arrays(x, xp.asarray(ctx.other, dtype=x.dtype))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx._saved
        grad = _xlogy_any(g, ctx.other)
        return grad if ctx.other > 0 else where(xp.equal(x, 0), 0.0, grad)


def _floating(tensor: Tensor) -> Tensor:
    """An integral or bool tensor in the default float dtype."""
    return wrap(tensor._data.astype(default_float.value.np), NO_EDGE)


def xlogy(input, other) -> Tensor:
    """``input·log(other)``, 0 where input is 0."""
    x, y = plain_operand(input), plain_operand(other)
    if type(x) is Tensor and type(y) is Tensor:
        if x._data.dtype.kind != "f" and y._data.dtype.kind != "f":
            x, y = _floating(x), _floating(y)
        try:
            return binary(XlogyBackward0(), x, y)
        except ValueError:
            raise_if_not_broadcastable(x._data, y._data)
            raise
    if type(x) is Tensor and type(y) in NUMBER_TYPES:
        node = XlogyBackward2()
        node.other = float(y)
        return unary(node, x)
    if type(y) is Tensor and type(x) in NUMBER_TYPES:
        node = XlogyBackward1()
        node.self = float(x)
        return unary(node, y)
    got = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in (x, y))
    raise TypeError(
        f"xlogy() received an invalid combination of arguments - got ({got}), but expected "
        "one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Number self, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)\n"
    )


def xlogy_method(self, other) -> Tensor:
    return xlogy(self, other)


def xlogy_(self, other) -> Tensor:
    return self._assign_in_place(xlogy(self, other))


_WORDS = "x times log y (0 where x is 0)"

DECLARATIONS = (
    declare(
        "xlogy",
        xlogy,
        method=xlogy_method,
        explain={
            XlogyBackward0: binary_rule(
                _WORDS, "xlogy({a:0}, {b:0})", ATOM, "log({b:0})", "{a:6}/{b:8}"
            ),
            XlogyBackward1: lambda node: Rule(
                _WORDS, f"xlogy({node.self:g}, {{x:0}})", local=(f"{node.self:g}/{{x:8}}",)
            ),
            XlogyBackward2: lambda node: Rule(
                _WORDS,
                f"xlogy({{x:0}}, {node.other:g})",
                local=(f"log({node.other:g})",),
            ),
        },
        cli=Cli("x·log(y), 0 where x = 0", ("x", "y")),
    ),
    declare("xlogy_", None, method=xlogy_),
)
