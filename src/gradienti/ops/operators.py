"""Python's operators on Tensors (``x + y``, ``x ** 3``, ``x < y``) and their named forms
(``x.add(y, alpha=2)``, ``torch.mul(x, y)``), declared in ``DECLARATIONS``.

The operators are the hot path of scalar graphs (the lesson's ``5*x**3 + 2*x**2 + 4*x + 8`` is
all operators): ``+ - *`` and ``x ** 2``, ``x ** 3`` are one frame each (ops/hot_operators.py);
with a Python number they save nothing (+ -) or the number alone (* /: MulBackward0 and
DivBackward0 keep an input only for the other input's gradient, see ops/apply.py). ``/`` takes
``with_number``. The node classes are in ops/elementwise.py.
"""

from __future__ import annotations

from ..backend import xp
from ..batching import BatchedArray
from ..graph.node import NO_EDGE
from ..python_types import type_name
from ..tensor import Tensor, wrap
from .apply import (
    NUMBER_TYPES,
    binary,
    compare,
    lift_for_division,
    lift_for_scalar,
    unary,
    with_number,
)
from .declare import Cli, declare
from .elementwise import (
    AbsBackward0,
    AddBackward0,
    DivBackward0,
    MulBackward0,
    NegBackward0,
    PowBackward0,
    PowBackward1,
    PowBackward2,
    ReciprocalBackward0,
    RsubBackward1,
    SignBackward0,
    SubBackward0,
)
from .explain_rule import ADD, MUL, NEG, NOT_DIFFERENTIABLE, POW, Rule, binary_rule, num, power_text
from .hot_operators import __pow__, arithmetic_operator, refuse_bool_subtraction
from .integer_division import divide_rounded

# ---------------------------------------------------------------------- arithmetic
# x + y, x - y, x * y: one frame each (ops/hot_operators.py; x - y refuses a bool operand, as
# PyTorch), as
#     with_number(AddBackward0(), self, other, ()) for a Python number (Mul: saved (None, other)),
#     binary(AddBackward0(), self, other) otherwise.
__add__ = arithmetic_operator(AddBackward0, "__add__")
__sub__ = arithmetic_operator(SubBackward0, "__sub__", refuses_bool=True)


__mul__ = arithmetic_operator(MulBackward0, "__mul__")


def __rsub__(self, other) -> Tensor:  # noqa: N807
    if type(other) is bool:  # (number - bool tensor is not refused: a dtype read per call)
        refuse_bool_subtraction(self, other)
    node = RsubBackward1()
    node.other = other
    return unary(node, lift_for_scalar(self, other))


def __truediv__(self, other) -> Tensor:  # noqa: N807
    if type(other) in NUMBER_TYPES:
        return with_number(DivBackward0(), lift_for_division(self, other), other, (None, other))
    return binary(DivBackward0(), lift_for_division(self, other), other)


def __rtruediv__(self, other) -> Tensor:  # noqa: N807
    # PyTorch records number / x as reciprocal(x) * number.
    return unary(ReciprocalBackward0(), self) * other


def __rpow__(self, base) -> Tensor:  # noqa: N807
    node = PowBackward2()
    node.base = base
    return unary(node, lift_for_scalar(self, base))


def __neg__(self) -> Tensor:  # noqa: N807
    return unary(NegBackward0(), self)


def __pos__(self) -> Tensor:  # noqa: N807
    return self


def __abs__(self) -> Tensor:  # noqa: N807
    return unary(AbsBackward0(), self)


def sign(self) -> Tensor:
    return unary(SignBackward0(), self)


def add(input, other, *, alpha=1) -> Tensor:
    return input + (other * alpha if alpha != 1 else other)


def sub(input, other, *, alpha=1) -> Tensor:
    if alpha != 1:  # (x - y itself refuses a bool; other * alpha would make it an integer)
        refuse_bool_subtraction(input, other)
    return input - (other * alpha if alpha != 1 else other)


def mul(input, other) -> Tensor:
    return input * other


def div(input, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is not None:
        return divide_rounded(input, other, rounding_mode)
    return input / other


def true_divide(input, other) -> Tensor:
    return input / other


def pow(input, exponent) -> Tensor:  # noqa: A001 - PyTorch's name
    if not isinstance(input, Tensor):
        return exponent.__rpow__(input)  # torch.pow(2, x)
    return input**exponent


# ---------------------------------------------------------------------- comparisons
def _comparable(other) -> bool:
    """An operand PyTorch's comparisons take: a Tensor, a number or a NumPy array/scalar."""
    return type(other) in NUMBER_TYPES or isinstance(other, _COMPARABLE_CLASSES)


_COMPARABLE_CLASSES = (Tensor, xp.ndarray, xp.generic, BatchedArray)


def _invalid_comparison(name: str, input, other) -> TypeError:
    names = ", ".join("Tensor" if isinstance(v, Tensor) else type_name(v) for v in (input, other))
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({names}), but expected "
        "one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)\n"
    )


def _comparison(ufunc, name: str):
    """``torch.<name>`` and its operator. Another operand (a str, None, a list) makes the
    function raise PyTorch's TypeError and the operator return NotImplemented, so that, as in
    PyTorch, ``x == "a"`` is False, ``x != None`` True and ``x < [1]`` Python's TypeError."""

    def function(input, other) -> Tensor:
        if not _comparable(other):
            raise _invalid_comparison(name, input, other)
        return compare(ufunc, input, other)

    def operator(self, other):
        if not _comparable(other):
            return NotImplemented
        return compare(ufunc, self, other)

    function.__name__ = function.__qualname__ = name
    return function, operator


eq, __eq__ = _comparison(xp.equal, "eq")
ne, __ne__ = _comparison(xp.not_equal, "ne")
lt, __lt__ = _comparison(xp.less, "lt")
le, __le__ = _comparison(xp.less_equal, "le")
gt, __gt__ = _comparison(xp.greater, "gt")
ge, __ge__ = _comparison(xp.greater_equal, "ge")


def equal(input, other) -> bool:
    """True when both have the same shape and values."""
    return input.shape == other.shape and bool((input == other)._data.all())


def _reflected(name: str):
    """The ufunc form of an arithmetic operator: a recorded VJP may put a number on the left."""

    def call(a, b):
        if not isinstance(a, Tensor):
            return getattr(b, f"__r{name}__")(a)
        return getattr(a, f"__{name}__")(b)

    return call


def _tensor_first(operator):
    """The ufunc form of a comparison or bitwise operator: the left operand made a Tensor."""

    def call(a, b):
        if not isinstance(a, Tensor):
            a = wrap(xp.asarray(a), NO_EDGE)
        return operator(a, b)

    return call


# ---------------------------------------------------------------------- explain rules
def _pow_rule(node) -> Rule:
    exponent = node.exponent
    value = float(exponent)
    if value == 0:
        local = "0"
    elif value == 1:
        local = "1"
    elif value == 2:
        local = "2·{x:8}"
    else:
        local = f"{num(exponent)}·{{x:9}}{power_text(value - 1)}"
    return Rule(
        f"power with exponent {num(exponent)}", "{x:9}" + power_text(exponent), POW, (local,)
    )


def _rpow_rule(node) -> Rule:
    base = num(node.base)
    return Rule(
        f"power of the number {base}", f"{base}^{{x:9}}", POW, (f"{base}^{{x:9}}·log({base})",)
    )


def _rsub_rule(node) -> Rule:
    return Rule("subtraction from a number", f"{num(node.other)} - {{x:6}}", ADD, ("-1",))


_ADD = binary_rule("addition", "{a:5} + {b:6}", ADD, "1", "1")
_SUB = binary_rule("subtraction", "{a:5} - {b:6}", ADD, "1", "-1")
_MUL = binary_rule("multiplication", "{a:6}·{b:8}", MUL, "{b:0}", "{a:0}", constant_first=True)
_DIV = binary_rule("division", "{a:6}/{b:8}", MUL, "1/{b:8}", "-{a:8}/{b:9}²")
_POW_TENSOR = binary_rule(
    "power", "{a:9}^{b:9}", POW, "{b:7}·{a:9}^({b:5} - 1)", "{a:9}^{b:9}·log({a:0})"
)

# ---------------------------------------------------------------------- declarations
DECLARATIONS = (
    declare(
        "__add__", None, method=__add__, method_aliases=("__radd__",), explain={AddBackward0: _ADD}
    ),
    declare("__sub__", None, method=__sub__, explain={SubBackward0: _SUB}),
    declare("__rsub__", None, method=__rsub__, explain={RsubBackward1: _rsub_rule}),
    declare(
        "__mul__", None, method=__mul__, method_aliases=("__rmul__",), explain={MulBackward0: _MUL}
    ),
    declare("__truediv__", None, method=__truediv__, explain={DivBackward0: _DIV}),
    declare("__rtruediv__", None, method=__rtruediv__),
    declare(
        "__pow__",
        None,
        method=__pow__,
        explain={PowBackward0: _pow_rule, PowBackward1: _POW_TENSOR},
    ),
    declare("__rpow__", None, method=__rpow__, explain={PowBackward2: _rpow_rule}),
    declare("__neg__", None, method=__neg__),
    declare("__pos__", None, method=__pos__),
    declare("__abs__", None, method=__abs__),
    declare("add", add, ufunc=xp.add, ufunc_call=_reflected("add")),
    declare("sub", sub, aliases=("subtract",), ufunc=xp.subtract, ufunc_call=_reflected("sub")),
    declare("mul", mul, aliases=("multiply",), ufunc=xp.multiply, ufunc_call=_reflected("mul")),
    declare(
        "div",
        div,
        aliases=("divide",),
        ufunc=xp.true_divide,
        ufunc_call=_reflected("truediv"),
    ),
    declare("true_divide", true_divide),
    declare("pow", pow, ufunc=xp.power, ufunc_call=_reflected("pow")),
    declare(
        "neg",
        __neg__,
        aliases=("negative",),
        ufunc=xp.negative,
        explain={NegBackward0: Rule("negation", "-{x:8}", NEG, ("-1",))},
    ),
    declare(
        "abs",
        __abs__,
        aliases=("absolute",),
        ufunc=xp.absolute,
        explain={AbsBackward0: Rule("absolute value", "|{x:0}|", local=("sign({x:0})",))},
        cli=Cli("absolute value"),
    ),
    declare(
        "sign",
        sign,
        ufunc=xp.sign,
        explain={SignBackward0: Rule("sign", "sign({x:0})", local=NOT_DIFFERENTIABLE)},
        cli=Cli("-1, 0 or 1"),
    ),
    declare("eq", eq, ufunc=xp.equal, ufunc_call=_tensor_first(eq)),
    declare("__eq__", None, method=__eq__),
    declare("ne", ne, ufunc=xp.not_equal, ufunc_call=_tensor_first(ne)),
    declare("__ne__", None, method=__ne__),
    declare("lt", lt, ufunc=xp.less, ufunc_call=_tensor_first(lt)),
    declare("__lt__", None, method=__lt__),
    declare("le", le, ufunc=xp.less_equal, ufunc_call=_tensor_first(le)),
    declare("__le__", None, method=__le__),
    declare("gt", gt, ufunc=xp.greater, ufunc_call=_tensor_first(gt)),
    declare("__gt__", None, method=__gt__),
    declare("ge", ge, ufunc=xp.greater_equal, ufunc_call=_tensor_first(ge)),
    declare("__ge__", None, method=__ge__),
    declare("equal", equal),
)
