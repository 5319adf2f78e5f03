"""Rounded division and remainders: ``floor_divide`` (``//``), ``remainder`` (``%``), ``fmod``
and ``div(..., rounding_mode='trunc' | 'floor')``, with their reversed (``7 // x``) and
in-place (``x //= 2``, ``x.fmod_(3)``) forms. Declared in ``DECLARATIONS``.

Semantics are PyTorch's: integers divide exactly (floor division floors, as PyTorch 2.x does),
and an integer division by zero raises ``RuntimeError: ZeroDivisionError``; floats follow IEEE
(``x // 0`` is ±inf). ``remainder``'s sign is the divisor's, ``fmod``'s the dividend's. The
result dtype is PyTorch's promotion (``int // float`` is float); a Python int meeting an
integral tensor is taken in that tensor's dtype, wrapping as PyTorch's cast does
(``uint8_tensor // -1`` divides by 255).

Gradients as derivatives.yaml: ``remainder``: 1 and ``-floor_divide(a, b)``; ``fmod``: 1 and
``-trunc(a / b)``; ``div`` with a rounding mode: zero (DivBackward2). ``floor_divide``, and
``remainder`` of a number by a Tensor, have none in PyTorch: their node is ``NotImplemented``,
whose backward (and forward-mode derivative) raises PyTorch's error.
"""

from __future__ import annotations

from .. import creation
from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, scalar_result_type, xp
from ..batching import any_sample
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, Op
from ..python_types import type_name
from ..tensor import Tensor, wrap
from .apply import NUMBER_TYPES, binary, raise_if_not_broadcastable, unary
from .declare import Cli, declare
from .explain_rule import ATOM, MUL, Rule, binary_rule, num
from .jvp_rules import elementwise_jvp

_ROUNDING_MODES = (None, "trunc", "floor")
_UINT64_MODULUS = 2**64


# ---------------------------------------------------------------------- array kernels
def _not_implemented(kernel: str, dtype) -> NotImplementedError:
    name = SCALAR_TYPE_NAMES[from_numpy_dtype(xp.dtype(dtype)).name]
    return NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _check_kind(a, b, kernel: str) -> str:
    """The computing dtype's kind ('f', 'i' or 'u'): bool is refused, as PyTorch's kernels do;
    an integral divisor of zero anywhere raises PyTorch's ZeroDivisionError."""
    kind = a.dtype.kind
    if kind == "b":
        raise _not_implemented(kernel, a.dtype)
    if kind in "iu" and any_sample(xp.equal(b, 0)):
        raise RuntimeError("ZeroDivisionError")
    return kind


def floor_divide_arrays(a, b):
    """PyTorch's div_floor: integers floor exactly; floats as ATen's div_floor_floating, which
    is NumPy's floor_divide (fmod, then the quotient rounded to the nearest integer)."""
    _check_kind(a, b, "div_floor_cpu")
    return xp.floor_divide(a, b)


def trunc_divide_arrays(a, b):
    """PyTorch's div_trunc: floats ``trunc(a / b)``; integers the floored quotient moved one up
    where it was rounded down across zero (a remainder and operands of opposite signs)."""
    if _check_kind(a, b, "div_trunc_cpu") == "f":
        return xp.trunc(a / b)
    quotient = xp.floor_divide(a, b)
    inexact = xp.not_equal(xp.remainder(a, b), 0)
    opposite = xp.not_equal(xp.less(a, 0), xp.less(b, 0))
    return xp.where(inexact & opposite, quotient + 1, quotient).astype(quotient.dtype)


def remainder_arrays(a, b):
    """PyTorch's remainder: integers floor-mod (NumPy's); floats ``fmod(a, b)`` moved by b
    where its sign differs from b's (a zero keeps fmod's sign: -0.0 % 1 is -0.0, as PyTorch's,
    where NumPy gives +0.0)."""
    if _check_kind(a, b, "remainder_cpu") != "f":
        return xp.remainder(a, b)
    mod = xp.fmod(a, b)
    moved = xp.not_equal(mod, 0) & xp.not_equal(xp.less(b, 0), xp.less(mod, 0))
    return xp.where(moved, mod + b, mod).astype(mod.dtype)


def fmod_arrays(a, b):
    """C's fmod: the remainder of the truncated quotient, with the dividend's sign."""
    _check_kind(a, b, "fmod_cpu")
    return xp.fmod(a, b)


def _trunc_quotient(a, b):
    """trunc(a / b) of floats, on arrays and (recorded: TruncBackward0, zero gradient) Tensors."""
    return xp.trunc(a / b)


# ---------------------------------------------------------------------- operands
def scalar_in_dtype(number, dtype):
    """A Python number as an operand of ``dtype``: an int wraps into an integral dtype as
    PyTorch's cast does (-1 is 255 in uint8); PyTorch's OverflowError beyond 64 bits."""
    if type(number) is int and xp.dtype(dtype).kind in "iu":
        if not -(2**63) <= number < _UINT64_MODULUS:
            raise OverflowError(
                "int too big to convert" if number > 0 else "can't convert negative int to unsigned"
            )
        return xp.array(number % _UINT64_MODULUS, dtype=xp.uint64).astype(dtype)[()]
    return xp.asarray(number, dtype=dtype)[()]


def with_scalar(data, number):
    """The tensor's array and the number, in the dtype of ``tensor op number``."""
    dtype = scalar_result_type(data.dtype, number)
    if data.dtype != dtype:
        data = data.astype(dtype)
    return data, scalar_in_dtype(number, dtype)


def _number(value) -> bool:
    return type(value) in NUMBER_TYPES


# ---------------------------------------------------------------------- node classes
class _ScalarOperand(Op):
    """A one-input node of ``tensor op number`` or ``number op tensor``: ``other`` is the number
    and ``number_first`` which side it is on (PyTorch's Scalar overloads record one edge)."""

    __slots__ = ("other", "number_first")
    kernel = None  # the array function of (dividend, divisor)

    @staticmethod
    def forward(ctx, x):
        x, number = with_scalar(x, ctx.other)
        if ctx.number_first:
            return ctx.kernel(number, x)
        return ctx.kernel(x, number)


class _NotImplementedNode(Op):
    """PyTorch's ``NotImplemented`` node: an op recorded without a derivative formula; its
    backward and forward-mode derivative raise PyTorch's errors, naming ``aten_name``. Its
    forward is ``kernel`` of two arrays, or of the array and ``other``, a number, which comes
    first when ``number_first`` (PyTorch's Scalar overloads record one edge)."""

    __slots__ = ()
    save = SAVE_NOTHING

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, *arrays):
        if len(arrays) == 2:
            return ctx.kernel(*arrays)
        x, number = with_scalar(arrays[0], ctx.other)
        return ctx.kernel(number, x) if ctx.number_first else ctx.kernel(x, number)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"derivative for aten::{ctx.aten_name} is not implemented")

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        raise NotImplementedError(
            f"Trying to use forward AD with aten::{ctx.aten_name} that does not support it."
        )


# type(): the class is named as PyTorch's node (a class statement would shadow the builtin).
NotImplementedNode = type(
    "NotImplemented",
    (_NotImplementedNode,),
    {
        "__slots__": ("aten_name", "kernel", "other", "number_first"),
        "__module__": __name__,
        "__doc__": _NotImplementedNode.__doc__,
    },
)


class DivBackward2(Op):
    """``div(a, b, rounding_mode=...)`` with a rounding mode: piecewise constant, so both
    gradients are zero (PyTorch's zeros, even where the incoming gradient is not finite)."""

    __slots__ = ("rounding_mode",)
    save = SAVE_NOTHING
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b):
        if type(b) in NUMBER_TYPES:
            a, b = with_scalar(a, b)
        if ctx.rounding_mode == "floor":
            return floor_divide_arrays(a, b)
        return trunc_divide_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        zeros = _zeros_like(g)
        a_node, b_node = ctx._next
        if b_node is None:
            return zeros
        return (zeros if a_node is not None else None), zeros


def _zeros_like(g):
    if type(g) is Tensor:
        return wrap(xp.zeros(g._data.shape, g._data.dtype), NO_EDGE)
    return xp.zeros_like(g)


class RemainderBackward0(_ScalarOperand):
    """``remainder(x, number)``: x minus a piecewise-constant multiple of the number."""

    __slots__ = ()
    save = SAVE_NOTHING
    jvp = staticmethod(elementwise_jvp)
    kernel = staticmethod(remainder_arrays)

    @staticmethod
    def backward(ctx, g):
        return g


class FmodBackward0(RemainderBackward0):
    __slots__ = ()
    kernel = staticmethod(fmod_arrays)


class RemainderBackward1(Op):
    """``remainder(a, b) = a - b·floor(a / b)``: d/da = 1, d/db = -floor(a / b)."""

    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b):
        return remainder_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx._saved
        a_node, b_node = ctx._next
        # (recorded, floor_divide runs div(rounding_mode='floor'): DivBackward2, as PyTorch's)
        grad_b = -g * xp.floor_divide(a, b) if b_node is not None else None
        return (g if a_node is not None else None), grad_b


class FmodBackward1(Op):
    """``fmod(a, b) = a - b·trunc(a / b)``: d/da = 1, d/db = -trunc(a / b)."""

    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b):
        return fmod_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx._saved
        a_node, b_node = ctx._next
        grad_b = -g * _trunc_quotient(a, b) if b_node is not None else None
        return (g if a_node is not None else None), grad_b


# ---------------------------------------------------------------------- applying them
def _binary(node, a: Tensor, b: Tensor) -> Tensor:
    try:
        return binary(node, a, b)
    except ValueError:
        raise_if_not_broadcastable(a._data, b._data)
        raise


def _scalar_node(node_class, number, number_first: bool):
    node = node_class()
    node.other = number
    node.number_first = number_first
    return node


def _not_implemented_op(kernel, aten_name: str, a, b) -> Tensor:
    """An op without a derivative: a Tensor and a Tensor, or a number on either side."""
    node = NotImplementedNode()
    node.kernel = kernel
    node.aten_name = aten_name
    if type(a) is Tensor and type(b) is Tensor:
        return _binary(node, a, b)
    node.number_first = type(b) is Tensor
    node.other = a if node.number_first else b
    return unary(node, b if node.number_first else a)


def _operands(function: str, input, other, *, number_first: bool = False) -> tuple:
    """``input`` and ``other`` as a Tensor and a Tensor or number (a Tensor subclass as a plain
    Tensor, a NumPy scalar as a number); PyTorch's TypeError for anything else. Where a number
    may come first (``number_first``) and both are numbers, the first becomes a 0-d tensor,
    as PyTorch's ``floor_divide(3, 4)`` takes it."""
    operands = []
    for position, value in enumerate((input, other)):
        if isinstance(value, Tensor):
            value = value if type(value) is Tensor else wrap(value._data, value._edge)
        elif _number(value) or (type(value).__module__ == "numpy" and xp.ndim(value) == 0):
            value = value.item() if hasattr(value, "item") else value
            if position == 0 and not number_first:
                raise _invalid(function, input, other)
        else:
            raise _invalid(function, input, other)
        operands.append(value)
    if type(operands[0]) is not Tensor and type(operands[1]) is not Tensor:
        if function == "remainder":  # PyTorch's remainder has no (Number, Number) form
            raise _invalid(function, input, other)
        operands[0] = creation.tensor(operands[0])
    return tuple(operands)


def _invalid(function: str, input, other) -> TypeError:
    names = tuple("Tensor" if isinstance(v, Tensor) else type_name(v) for v in (input, other))
    return TypeError(
        f"{function}() received an invalid combination of arguments - got "
        f"({names[0]}, {names[1]}), but expected one of:\n"
        " * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)\n"
    )


def floor_divide(input, other) -> Tensor:
    """``input // other``, floored (no derivative in PyTorch: grad_fn NotImplemented)."""
    a, b = _operands("floor_divide", input, other, number_first=True)
    return _not_implemented_op(floor_divide_arrays, "floor_divide", a, b)


def remainder(input, other) -> Tensor:
    """``input % other``, the sign of ``other``: Python's modulo."""
    a, b = _operands("remainder", input, other, number_first=True)
    if type(a) is not Tensor:  # remainder(number, Tensor) has no derivative in PyTorch
        return _not_implemented_op(remainder_arrays, "remainder", a, b)
    if type(b) is not Tensor:
        return unary(_scalar_node(RemainderBackward0, b, False), a)
    return _binary(RemainderBackward1(), a, b)


def fmod(input, other) -> Tensor:
    """C's fmod: the remainder with the sign of ``input``."""
    a, b = _operands("fmod", input, other)
    if type(b) is not Tensor:
        return unary(_scalar_node(FmodBackward0, b, False), a)
    return _binary(FmodBackward1(), a, b)


def check_rounding_mode(rounding_mode) -> None:
    if rounding_mode not in _ROUNDING_MODES:
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )


def divide_rounded(input, other, rounding_mode: str) -> Tensor:
    """``div(input, other, rounding_mode=...)`` for 'trunc' or 'floor' (DivBackward2)."""
    check_rounding_mode(rounding_mode)
    a, b = _operands("div", input, other, number_first=True)
    node = DivBackward2()
    node.rounding_mode = rounding_mode
    if type(a) is not Tensor:  # div(2, x, ...): the number as a 0-d tensor, as PyTorch's
        a = wrap(scalar_in_dtype(a, scalar_result_type(b._data.dtype, a)), NO_EDGE)
    return _binary(node, a, b)


def _floor_divide_ufunc(a, b) -> Tensor:
    """``xp.floor_divide`` on two Tensors (a recorded VJP: remainder's) is div(rounding_mode=
    'floor'), differentiable with zero gradient, as PyTorch's formula writes it; with a number
    (``np.int64(7) // x``) it is floor_divide."""
    if type(a) is not Tensor or type(b) is not Tensor:
        return floor_divide(a, b)
    return divide_rounded(a, b, "floor")


def _ufunc(function):
    """The ufunc form: a recorded VJP may pass a number or an array on either side."""

    def call(a, b):
        operands = [_as_operand(a), _as_operand(b)]
        for index, value in enumerate((a, b)):
            if operands[index] is None:  # an array: a constant Tensor
                operands[index] = wrap(xp.asarray(value), NO_EDGE)
        return function(*operands)

    return call


# ---------------------------------------------------------------------- operators, in place
def _as_operand(value):
    """An operator's other operand as its function takes it (a NumPy scalar as a number), or
    None for one it does not take."""
    if type(value).__module__ == "numpy" and xp.ndim(value) == 0:
        value = value.item()
    return value if isinstance(value, Tensor) or _number(value) else None


def _operator(function):
    """A binary operator: NotImplemented for an operand it does not take (Python's TypeError)."""

    def operator(self, other):
        other = _as_operand(other)
        return NotImplemented if other is None else function(self, other)

    return operator


def _reflected(function):
    def operator(self, other):
        other = _as_operand(other)
        return NotImplemented if other is None else function(other, self)

    return operator


def floor_divide_(input, other):
    return input._assign_in_place(floor_divide(input, other))


def remainder_(input, other):
    return input._assign_in_place(remainder(input, other))


def fmod_(input, other):
    return input._assign_in_place(fmod(input, other))


def divide_(input, other, *, rounding_mode=None):
    return input.div_(other, rounding_mode=rounding_mode)


def true_divide_(input, other):
    return input.div_(other)


def _in_place_operator(method):
    def operator(self, other):
        other = _as_operand(other)
        return NotImplemented if other is None else method(self, other)

    return operator


# ---------------------------------------------------------------------- declarations
_ROUNDED = Rule("rounded division", "{a:6}/{b:8} (rounded)", MUL, ("0", "0"))


def _no_derivative(node) -> Rule:
    """An op PyTorch records without a derivative: its backward raises."""
    name = node.aten_name
    if len(node._next) == 2:
        form = f"{name}({{a:0}}, {{b:0}})"
    else:
        other = num(node.other)
        form = f"{name}({other}, {{x:0}})" if node.number_first else f"{name}({{x:0}}, {other})"
    passes = ("no gradient: PyTorch has no derivative for it (backward raises)",)
    return Rule(
        f"{name}, which has no derivative in PyTorch", form, ATOM, passes=passes * len(node._next)
    )


DECLARATIONS = (
    declare(
        "floor_divide",
        floor_divide,
        ufunc=xp.floor_divide,
        ufunc_call=_ufunc(_floor_divide_ufunc),
        explain={NotImplementedNode: _no_derivative, DivBackward2: _ROUNDED},
    ),
    declare(
        "remainder",
        remainder,
        ufunc=xp.remainder,
        ufunc_call=_ufunc(remainder),
        explain={
            RemainderBackward0: Rule("remainder", "{x:0} mod c", ATOM, ("1",)),
            RemainderBackward1: binary_rule(
                "remainder (sign of the divisor)",
                "{a:0} mod {b:0}",
                ATOM,
                "1",
                "-floor({a:6}/{b:8})",
            ),
        },
        cli=Cli("x % y, the sign of y", ("x", "y")),
    ),
    declare(
        "fmod",
        fmod,
        ufunc=xp.fmod,
        ufunc_call=_ufunc(fmod),
        explain={
            FmodBackward0: Rule("C remainder", "fmod({x:0}, c)", ATOM, ("1",)),
            FmodBackward1: binary_rule(
                "C remainder (sign of the dividend)",
                "fmod({a:0}, {b:0})",
                ATOM,
                "1",
                "-trunc({a:6}/{b:8})",
            ),
        },
        cli=Cli("remainder with the sign of x", ("x", "y")),
    ),
    declare("__floordiv__", None, method=_operator(floor_divide)),
    declare("__rfloordiv__", None, method=_reflected(floor_divide)),
    declare("__mod__", None, method=_operator(remainder)),
    declare("__rmod__", None, method=_reflected(remainder)),
    declare("floor_divide_", None, method=floor_divide_),
    declare("remainder_", None, method=remainder_),
    declare("fmod_", None, method=fmod_),
    declare("divide_", None, method=divide_),
    declare("true_divide_", None, method=true_divide_),
    declare("__ifloordiv__", None, method=_in_place_operator(floor_divide_)),
    declare("__imod__", None, method=_in_place_operator(remainder_)),
)
