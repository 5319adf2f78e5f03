"""Elementwise ops: each forward and its VJP side by side.

A VJP uses only operators and ``xp`` ufuncs, which work on raw arrays (the fast backward) and
on Tensors (``create_graph=True``; Tensor implements ``__array_ufunc__``) alike. Broadcasting
and dtype promotion are undone by the engine, never here.

Class names are PyTorch's node names, so ``grad_fn`` prints and draws exactly as in PyTorch.
"""

from __future__ import annotations

import operator
import warnings

from .. import creation
from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, scalar_result_type, xp
from ..casting import cast_array
from ..graph.node import NO_EDGE, SAVE_BOTH, SAVE_INPUTS, SAVE_NOTHING, SAVE_OUTPUT, Op
from ..tensor import Tensor, wrap
from ..tensor_checks import to_arguments
from . import shape as _shape
from .apply import as_operand, binary, raise_if_not_broadcastable, unary, unary_op
from .declare import Cli, declare
from .explain_rule import ATOM, MUL, Rule, binary_rule, unary_rule
from .jvp_rules import elementwise_jvp, linear
from .pointwise_table import checked_function, row, table
from .saved_names import SavedNames, held, value


class AddBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING
    saved_names = SavedNames(alpha=value(lambda node: 1))
    jvp = staticmethod(elementwise_jvp)

    function = operator.add  # the forward: a + b
    compact_tail = (None,)  # x + number records compact (graph/node.py)

    @staticmethod
    def backward(ctx, g):
        # a compact node (x + number) or a constant b: the bare gradient of a (see Op)
        if ctx._sole is not None or ctx._next[1] is None:
            return g
        return g, g


class SubBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING
    saved_names = SavedNames(alpha=value(lambda node: 1))
    jvp = staticmethod(elementwise_jvp)

    function = operator.sub  # the forward: a - b
    compact_tail = (None,)

    @staticmethod
    def backward(ctx, g):
        if ctx._sole is not None or ctx._next[1] is None:
            return g
        return g, -g


class RsubBackward1(Op):
    """``number - x``: PyTorch records it as rsub(x, number), one input."""

    __slots__ = ("other",)
    save = SAVE_NOTHING
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return ctx.other - x

    @staticmethod
    def backward(ctx, g):
        return -g


class MulBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(other=1, self=0)
    jvp = staticmethod(elementwise_jvp)
    lean_inputs = 1

    function = operator.mul  # the forward: a * b
    compact_tail = (None,)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx._saved
        if ctx._sole is not None:  # compact: b is a constant
            return g * b
        a_node, b_node = ctx._next
        if b_node is None:
            return g * b
        if a is b and a_node is b_node and ctx._hooks is None:
            # x * x: d(x*x)/dx = 2x, so one product, doubled (2(gx) is exactly gx + gx) and
            # delivered once rather than two products that the engine then adds. (With hooks on
            # the node its grad_inputs stay PyTorch's pair (gx, gx); explain tells the pair.)
            grad = g * a
            if type(grad) is xp.ndarray:
                grad *= 2  # a fresh array: in place, no third buffer
            else:
                grad = grad + grad  # a scalar, a Tensor (create_graph) or a vmap batch
            return grad, None
        return (g * b if a_node is not None else None), g * a


class DivBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(other=1, self=0)
    jvp = staticmethod(elementwise_jvp)
    lean_inputs = 2

    function = operator.truediv  # the forward: a / b
    compact_tail = (None,)

    @staticmethod
    def backward(ctx, g):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        a, b = ctx._saved
        if ctx._sole is not None:  # compact: b is a constant
            return g / b
        a_node, b_node = ctx._next
        if b_node is None:
            return g / b
        grad_a = g / b if a_node is not None else None
        return grad_a, -g * a / (b * b)


def _reciprocal(x):
    return 1 / x


class NegBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING
    saved_names = SavedNames()
    jvp = staticmethod(elementwise_jvp)

    function = operator.neg  # the forward: -x

    @staticmethod
    def backward(ctx, g):
        return -g


# PyTorch's CPU kernel computes these exponents as products, square roots and reciprocals,
# not with pow, which rounds differently in the last bit.
_SPECIAL_POWERS = {
    1: xp.positive,  # a copy
    # 2: x * x and 3: x * x * x, tested first in power_array
    -1: lambda x: 1 / x,
    -2: lambda x: 1 / (x * x),
    -0.5: lambda x: 1 / xp.sqrt(x),
}
_TORCH_ROUNDED_DTYPES = frozenset((xp.dtype(xp.float32), xp.dtype(xp.float64)))
# Their NumPy scalar types, tested first on 0-d values: a type hashes by identity, a dtype by
# its fields (``x.dtype in`` the set above: ~30-60 ns more than ``type(x) in`` this one).
_TORCH_ROUNDED_SCALARS = frozenset((xp.float32, xp.float64))


def power_array(x, exponent):
    """``x ** exponent`` for a raw array or NumPy scalar, rounded as PyTorch's CPU kernel."""
    if x.dtype in _TORCH_ROUNDED_DTYPES:
        if exponent == 2:  # the commonest, without a call
            return x * x
        if exponent == 3:
            return x * x * x
        special = _SPECIAL_POWERS.get(exponent)
        if special is not None:
            return special(x)
        if x.ndim == 0:
            # One element takes PyTorch's scalar path: pow in double precision, rounded.
            return x.dtype.type(xp.float64(x) ** exponent)
    elif x.dtype.kind in "biu" and type(exponent) is not float:  # (a float lifted x already)
        if exponent < 0:  # (NumPy: a ValueError, or an OverflowError for unsigned types)
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if x.dtype.kind == "b":
            if type(exponent) is bool:  # bool ** bool stays bool: x ** True is x, ** False ones
                return x.copy() if exponent else xp.ones_like(x)[()]
            x = x.astype(xp.int64)  # bool ** int is int64 in PyTorch (NumPy: int8)
    return x**exponent


class PowBackward0(Op):
    """``x ** exponent`` with a number exponent."""

    __slots__ = ("exponent",)
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0, exponent=value("exponent"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        exponent = ctx.exponent
        if exponent == 2 and x.dtype in _TORCH_ROUNDED_DTYPES:  # power_array's x^2, inline
            return x * x
        return power_array(x, exponent)

    @staticmethod
    def backward(ctx, g):
        # d x^e = e * x^(e-1), grouped as PyTorch's for the same rounding; PyTorch gives
        # exactly zero for e == 0 (even at x == 0).
        (x,) = ctx._saved
        exponent = ctx.exponent
        if exponent == 0:
            return g * 0
        if type(x) is Tensor:
            return g * (exponent * x ** (exponent - 1))
        if exponent == 2:  # x^1 is x: no copy (one pass fewer over a large x)
            return g * (2 * x)
        if exponent == 3 and (
            type(x) in _TORCH_ROUNDED_SCALARS or x.dtype in _TORCH_ROUNDED_DTYPES
        ):  # power_array's x^2, inline
            return g * (3 * (x * x))
        return g * (exponent * power_array(x, exponent - 1))


class PowBackward1(Op):
    """``a ** b`` with both tensors."""

    __slots__ = ()
    save = SAVE_BOTH
    saved_names = SavedNames(exponent=1, self=0, result=2)
    jvp = staticmethod(elementwise_jvp)

    function = operator.pow  # the forward: a**b

    @staticmethod
    def backward(ctx, g):
        # d/da = b * a^(b-1) (zero where b == 0); d/db = a^b * log(a) (zero where a == 0, b >= 0)
        a, b, out = ctx._saved
        a_node, b_node = ctx._next
        grad_a = grad_b = None
        if a_node is not None:
            grad_a = where(b == 0, 0.0, g * b * a ** (b - 1))
        if b_node is not None:
            grad_b = where((a == 0) & (b >= 0), 0.0, g * out * xp.log(a))
        return grad_a, grad_b


class PowBackward2(Op):
    """``number ** x``: one input, the base is static."""

    __slots__ = ("base",)
    save = SAVE_BOTH  # (x, out): d/dx reads out only, but PyTorch saves x too (hooks see it)
    saved_names = SavedNames(exponent=0, result=1, self=value("base"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return ctx.base**x

    @staticmethod
    def backward(ctx, g):
        # d b^x = b^x * log(b)
        (_x, out) = ctx._saved
        base = ctx.base
        if base == 0:
            return g * 0
        return g * out * xp.log(xp.float64(base)).item()


class SigmoidBackward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    saved_names = SavedNames(result=0)
    jvp = staticmethod(elementwise_jvp)
    promotes_integers = True

    @staticmethod
    def forward(ctx, x):
        # 1 / (1 + e^-x) overflows harmlessly to 0 for very negative x (errors are silenced).
        if type(x) is not xp.ndarray or not x.ndim:
            return 1 / (1 + xp.exp(-x))  # NumPy scalars (0-d results are scalars too)
        # On arrays, in place and with a 0-d one of the same dtype: a Python constant operand
        # makes each NumPy call about twice as slow on small arrays.
        out = xp.exp(-x)
        out += _ONES_0D.get(out.dtype) or _one_like(out)
        return xp.reciprocal(out, out=out)

    @staticmethod
    def backward(ctx, g):
        # d sigmoid(x) = sigmoid(x) * (1 - sigmoid(x)); (1 - out) keeps it exact where
        # sigmoid is near 1 (g*out - g*out*out would lose ~1e-5 in float32 there). Grouped as
        # PyTorch's kernel, g * (1 - out) * out; on an array in place, with a 0-d one.
        (out,) = ctx._saved
        if type(out) is xp.ndarray:
            grad = (_ONES_0D.get(out.dtype) or _one_like(out)) - out
            try:
                grad *= g
            except RuntimeError:  # vmap: per-sample g cannot go into one array
                grad = grad * g
            grad *= out
            return grad
        return g * (1 - out) * out


_ONES_0D: dict = {}


def _one_like(array):
    """A cached 0-d array holding 1 in ``array``'s dtype."""
    one = _ONES_0D.get(array.dtype)
    if one is None:
        one = _ONES_0D[array.dtype] = xp.ones((), dtype=array.dtype)
    return one


class ReluBackward0(Op):
    __slots__ = ()
    save = SAVE_OUTPUT
    saved_names = SavedNames(result=0)
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        # The derivative at 0 is 0 and at NaN passes g, as PyTorch's threshold_backward.
        (out,) = ctx._saved
        if type(g) is not xp.ndarray or g.dtype.itemsize not in _SAME_SIZE_INTEGERS:
            return where(out <= 0, 0.0, g)
        # out (relu's output) is >= 0, -0.0 or NaN, so "not out <= 0" is "out != 0". g's bits
        # times that 0/1 keep g exactly (inf and NaN too) or give +0.0: PyTorch's values, in
        # one multiplication (a where() on an unpredictable mask branches per element).
        bits = _SAME_SIZE_INTEGERS[g.dtype.itemsize]
        return xp.multiply(g.view(bits), out != 0, dtype=bits).view(g.dtype)


# Integer types of a float's size, to handle float bits (float16/32/64).
_SAME_SIZE_INTEGERS = {2: xp.int16, 4: xp.int32, 8: xp.int64}


class AbsBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0)
    jvp = staticmethod(elementwise_jvp)

    function = xp.abs  # the forward: xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        # d|x| = sign(x); 0 at x == 0 and at NaN, as in PyTorch.
        (x,) = ctx._saved
        return where(x > 0, g, where(x < 0, -g, 0.0))


class SignBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        out = xp.sign(x)
        if out.dtype.kind == "f":
            # PyTorch: sign(nan) is 0; a 0-d result is a NumPy scalar, which cannot be
            # written in place
            out = xp.nan_to_num(out, nan=0.0, copy=out.ndim == 0)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * 0


class ToCopyBackward0(Op):
    """A dtype conversion; the gradient goes back in the input's dtype."""

    __slots__ = ("dtype", "input_dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        return cast_array(x, ctx.dtype)  # PyTorch's values for NaN and out of range

    @staticmethod
    def backward(ctx, g):
        return _shape.cast(g, ctx.input_dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The tangent converted as the value was; an integral or bool result has none.
        (tangent,) = tangents
        return tangent.to(out.dtype) if out._data.dtype.kind == "f" else None


class CloneBackward0(Op):
    __slots__ = ()
    save = SAVE_NOTHING
    saved_names = SavedNames()
    jvp = staticmethod(linear)  # a copy's tangent is a copy of the tangent

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class WhereBackward0(Op):
    """``where(condition, a, b)``: the condition is a constant, not an input of the node."""

    __slots__ = ("condition",)
    save = SAVE_NOTHING
    saved_names = SavedNames(condition=held("condition"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, a, b):
        return xp.where(ctx.condition, a, b)

    @staticmethod
    def backward(ctx, g):
        condition = ctx.condition
        a_node, b_node = ctx._next
        grad_a = where(condition, g, 0.0) if a_node is not None else None
        grad_b = where(condition, 0.0, g) if b_node is not None else None
        return grad_a, grad_b


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b``; raw arrays or Tensors (then recorded)."""
    condition = condition._data if isinstance(condition, Tensor) else condition
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return xp.where(condition, a, b)
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, like), as_operand(b, like)
    try:
        full_shape = xp.broadcast_shapes(xp.shape(condition), a._data.shape, b._data.shape)
    except ValueError:
        raise_if_not_broadcastable(condition, a._data, b._data)
        raise
    if xp.broadcast_shapes(a._data.shape, b._data.shape) != full_shape:
        a = a.expand(full_shape)  # the condition alone widens the result
    node = WhereBackward0()
    node.condition = condition
    return binary(node, a, b)


_MISSING = object()
_WHERE_SIGNATURES = (
    " * (Tensor condition)\n"
    " * (Tensor condition, Tensor input, Tensor other, *, Tensor out = None)\n"
    " * (Tensor condition, Number self, Tensor other)\n"
    " * (Tensor condition, Tensor input, Number other)\n"
    " * (Tensor condition, Number self, Number other)\n"
)


_UINT8_CONDITION_WARNING = (
    "where received a uint8 condition tensor. This behavior is deprecated and will be removed "
    "in a future version of PyTorch. Use a boolean condition instead."
)
_warned_about_uint8_condition = []  # PyTorch warns once per process


def where_function(condition, input=_MISSING, other=_MISSING):
    """``torch.where``: ``where(condition, input, other)``, either of them a Python number;
    ``where(condition)`` is ``condition.nonzero(as_tuple=True)``."""
    if input is _MISSING and other is _MISSING:
        return condition.nonzero(as_tuple=True)
    if input is _MISSING or other is _MISSING:
        given = [a for a in (condition, input, other) if a is not _MISSING]
        got = ", ".join("Tensor" if isinstance(a, Tensor) else type(a).__name__ for a in given)
        raise TypeError(
            f"where() received an invalid combination of arguments - got ({got}), but "
            f"expected one of:\n{_WHERE_SIGNATURES}"
        )
    if isinstance(condition, Tensor) and condition._data.dtype not in (xp.bool_, xp.uint8):
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{SCALAR_TYPE_NAMES[condition._data.dtype.name]}"
        )
    uint8 = isinstance(condition, Tensor) and condition._data.dtype == xp.uint8
    if uint8 and not _warned_about_uint8_condition:
        _warned_about_uint8_condition.append(True)
        warnings.warn(_UINT8_CONDITION_WARNING, UserWarning, stacklevel=2)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # Two numbers: each a 0-d tensor of its default dtype, promoted together, as PyTorch.
        input, other = creation.tensor(input), creation.tensor(other)
    elif not isinstance(input, Tensor) or not isinstance(other, Tensor):
        # A number is weak: it lifts the tensor's category (int32 with 2.5 is float32) but
        # never its width; taken in the tensor's dtype it was truncated (2.5 became 2).
        tensor = input if isinstance(input, Tensor) else other
        number = other if tensor is input else input
        if isinstance(number, xp.generic):  # a NumPy scalar is a Python number to PyTorch
            number = number.item()
        number = creation.tensor(
            number, dtype=from_numpy_dtype(scalar_result_type(tensor._data.dtype, number))
        )
        input, other = (tensor, number) if tensor is input else (number, tensor)
    return where(condition, input, other)


def where_method(self, condition, other):
    """``x.where(condition, y)`` is ``torch.where(condition, x, y)``."""
    return where_function(condition, self, other)


# ---------------------------------------------------------------------- one-expression ops
# name, PyTorch's node, forward, VJP (g: the output's gradient, x: the input, out: the output),
# explain's words and local derivative, the CLI's summary. d sqrt(x) = 1/(2 sqrt(x)) is
# g / (out + out); tanh's 1 - out^2 is written g - g*out*out and reciprocal's -1/x^2 as
# -g*out*out, so that no Python constant meets an array (such a NumPy call costs twice as much).
_NODES, _TABLE = table(
    row("exp", "ExpBackward0", xp.exp, "g * out", ("exponential", "exp({x:0})"), cli="e**x"),
    row("log", "LogBackward0", xp.log, "g / x", ("natural logarithm", "1/{x:8}"),
        cli="natural logarithm"),
    row("sqrt", "SqrtBackward0", xp.sqrt, "g / (out + out)", ("square root", "1/(2·sqrt({x:0}))"),
        cli="square root"),
    row("sin", "SinBackward0", xp.sin, "g * cos(x)", ("sine", "cos({x:0})"), cli="sine"),
    row("cos", "CosBackward0", xp.cos, "-g * sin(x)", ("cosine", "-sin({x:0})"), cli="cosine"),
    row("tanh", "TanhBackward0", xp.tanh, "g - g * out * out",
        ("hyperbolic tangent", "1 - tanh({x:0})²"), cli="hyperbolic tangent"),
    row("reciprocal", "ReciprocalBackward0", _reciprocal, "-g * out * out",
        Rule("reciprocal", "1/{x:8}", MUL, ("-1/{x:9}²",)), cli="1/x", ufunc=xp.reciprocal),
)  # fmt: skip
globals().update(_NODES)  # ExpBackward0, LogBackward0, ...: importable like the classes above


def clone(input, *, memory_format=None):
    return unary(CloneBackward0(), input)


def to(self, *args, **kwargs):
    """``Tensor.to(dtype)`` (a device must be the CPU): ToCopyBackward0, or the tensor itself
    when nothing changes (unless ``copy=True``)."""
    target, copy = to_arguments(args, kwargs)
    if target is None or target.np == self._data.dtype:
        if not copy:
            return self
        target = from_numpy_dtype(self._data.dtype)  # a copy is still PyTorch's _to_copy
    node = ToCopyBackward0()
    node.dtype = target.np
    if target.np.kind != "f" and self._edge is not None:
        return wrap(ToCopyBackward0.forward(node, self._data), NO_EDGE)  # integers: no graph
    return unary(node, self)


def type_as(self, other):
    """``x.type_as(y)``: ``x.to(y.dtype)``."""
    return to(self, from_numpy_dtype(other._data.dtype))


def detach(input):
    return input.detach()


sigmoid = unary_op(SigmoidBackward0, "sigmoid")
relu = unary_op(ReluBackward0, "relu")

DECLARATIONS = (
    *_TABLE,
    declare(
        "sigmoid",
        checked_function(sigmoid, "sigmoid"),
        method=sigmoid,
        explain={
            SigmoidBackward0: unary_rule(
                "sigmoid", "sigmoid", "sigmoid({x:0})·(1 - sigmoid({x:0}))"
            )
        },
        cli=Cli("1/(1 + e**-x)"),
    ),
    declare(
        "relu",
        checked_function(relu, "relu"),
        method=relu,
        explain={ReluBackward0: unary_rule("ReLU", "relu", "1 if {x:0} > 0, else 0")},
        cli=Cli("max(x, 0)"),
    ),
    declare(
        "where",
        where_function,
        method=where_method,
        explain={
            WhereBackward0: binary_rule(
                "selection",
                "where(cond, {a:0}, {b:0})",
                ATOM,
                "1 where cond, else 0",
                "0 where cond, else 1",
            )
        },
    ),
    declare("clone", clone, explain={CloneBackward0: Rule("copy", "clone({x:0})", local=("1",))}),
    declare("detach", detach, method=None),
    declare("type_as", None, method=type_as),  # records ToCopyBackward0
    declare(
        "to",
        None,
        method=to,
        explain={ToCopyBackward0: Rule("dtype conversion", "{x:9}.to(…)", local=("1",))},
    ),
)
