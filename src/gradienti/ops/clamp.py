"""Clamp (number or tensor bounds; clip is its alias), clamp_min and clamp_max.

Gradients at the edges are PyTorch's: clamp passes the gradient at a bound (the bounds are
inclusive; NaN gets none) and, with tensor bounds, gives it to the bound that decided the value
(to max when min > max).

Public operations are declared in ``DECLARATIONS`` (see ops/declare.py).
"""

from __future__ import annotations

from ..backend import scalar_result_type, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .apply import binary, nary, unary
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import ATOM, Rule, binary_rule, num
from .jvp_rules import elementwise_jvp
from .pointwise import check_broadcast
from .saved_names import SavedNames, value


class ClampBackward1(Op):
    """``clamp(x, min, max)`` with number bounds (either may be None)."""

    __slots__ = ("min", "max")
    save = SAVE_INPUTS
    saved_names = SavedNames(self=0, min=value("min"), max=value("max"))
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        if ctx.min is not None:
            x = xp.maximum(x, ctx.min)
        return x if ctx.max is None else xp.minimum(x, ctx.max)

    @staticmethod
    def backward(ctx, g):
        # The gradient passes where min <= x <= max, bounds included (PyTorch's subgradient).
        (x,) = ctx.saved_tensors
        low, high = ctx.min, ctx.max
        if low is None:
            inside = x <= high
        elif high is None:
            inside = x >= low
        else:
            inside = (x >= low) & (x <= high)
        return where(inside, g, 0.0)


class ClampBackward0(Op):
    """``clamp(x, min, max)`` with tensor bounds; a missing bound is a constant placeholder."""

    __slots__ = ("has_min", "has_max")
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x, low, high):
        if ctx.has_min:
            x = xp.maximum(x, low)
        return xp.minimum(x, high) if ctx.has_max else x

    @staticmethod
    def backward(ctx, g):
        # As PyTorch: with min > max the result is max, so max gets the gradient.
        x, low, high = ctx.saved_tensors
        x_node, low_node, high_node = ctx._next
        grad_x = grad_low = grad_high = None
        if ctx.has_min and ctx.has_max:
            if x_node is not None:
                grad_x = where((x >= low) & (x <= high), g, 0.0)
            if low_node is not None:
                grad_low = where((x < low) & (low < high), g, 0.0)
            if high_node is not None:
                grad_high = where((x > high) | (high < low), g, 0.0)
        elif ctx.has_min:
            grad_x = where(x >= low, g, 0.0) if x_node is not None else None
            grad_low = where(x < low, g, 0.0) if low_node is not None else None
        else:
            grad_x = where(x <= high, g, 0.0) if x_node is not None else None
            grad_high = where(x > high, g, 0.0) if high_node is not None else None
        return grad_x, grad_low, grad_high


class ClampMinBackward0(Op):
    __slots__ = ("min",)
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.maximum(x, ctx.min)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(x >= ctx.min, g, 0.0)


class ClampMaxBackward0(Op):
    __slots__ = ("max",)
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)

    @staticmethod
    def forward(ctx, x):
        return xp.minimum(x, ctx.max)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return where(x <= ctx.max, g, 0.0)


class ClampMinBackward1(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)
    function = xp.maximum

    @staticmethod
    def backward(ctx, g):
        x, low = ctx.saved_tensors
        x_node, low_node = ctx._next
        grad_x = where(x >= low, g, 0.0) if x_node is not None else None
        return grad_x, (where(x < low, g, 0.0) if low_node is not None else None)


class ClampMaxBackward1(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    jvp = staticmethod(elementwise_jvp)
    function = xp.minimum

    @staticmethod
    def backward(ctx, g):
        x, high = ctx.saved_tensors
        x_node, high_node = ctx._next
        grad_x = where(x <= high, g, 0.0) if x_node is not None else None
        return grad_x, (where(x > high, g, 0.0) if high_node is not None else None)


# ---------------------------------------------------------------------- public functions
CLAMP_NO_BOUND_MESSAGE = "torch.clamp: At least one of 'min' or 'max' must not be None"


def _lift_for_bounds(input: Tensor, *bounds) -> Tensor:
    """A Python float bound lifts an integral input to the default float dtype; an int, a bool
    one to int64 (PyTorch's promotion with a number)."""
    dtype = input._data.dtype
    for bound in bounds:
        if bound is not None:
            dtype = scalar_result_type(dtype, bound)
    if dtype == input._data.dtype:
        return input
    return wrap(input._data.astype(dtype), NO_EDGE)


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    # A Tensor subclass bound (an nn.Parameter) as a plain Tensor with the same data and edge.
    if isinstance(min, Tensor) and type(min) is not Tensor:
        min = wrap(min._data, min._edge)  # noqa: A001
    if isinstance(max, Tensor) and type(max) is not Tensor:
        max = wrap(max._data, max._edge)  # noqa: A001
    min_is_tensor = type(min) is Tensor
    max_is_tensor = type(max) is Tensor
    if min_is_tensor or max_is_tensor:
        if (min is not None and not min_is_tensor) or (max is not None and not max_is_tensor):
            got = ", ".join(type(value).__name__ for value in (input, min, max))
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({got}), but "
                "expected one of:\n"
                " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
            )
        node = ClampBackward0()
        node.has_min = min_is_tensor
        node.has_max = max_is_tensor
        try:
            return nary(node, input, min if min_is_tensor else 0, max if max_is_tensor else 0)
        except ValueError:
            check_broadcast(*(t for t in (input, min, max) if type(t) is Tensor))
            raise
    if min is None and max is None:
        raise RuntimeError(CLAMP_NO_BOUND_MESSAGE)
    node = ClampBackward1()
    node.min = min
    node.max = max
    return unary(node, _lift_for_bounds(input, min, max))


def _binary_checked(node, input, bound):
    try:
        return binary(node, input, bound)
    except ValueError:
        check_broadcast(input, bound)
        raise


def clamp_min(input, min):  # noqa: A002
    if type(min) is Tensor:
        return _binary_checked(ClampMinBackward1(), input, min)
    node = ClampMinBackward0()
    node.min = min
    return unary(node, _lift_for_bounds(input, min))


def clamp_max(input, max):  # noqa: A002
    if type(max) is Tensor:
        return _binary_checked(ClampMaxBackward1(), input, max)
    node = ClampMaxBackward0()
    node.max = max
    return unary(node, _lift_for_bounds(input, max))


def _clamp_expression(args, as_tensor):
    """``clamp(x, lo[, hi])`` of ``gradienti grad``: the bounds are all numbers or, if one is a
    tensor, all tensors (torch.clamp takes either, not a mix)."""
    bounds = list(args[1:]) + [None] * (3 - len(args))  # clamp(x, lo) has no upper bound
    if any(isinstance(bound, Tensor) for bound in bounds):
        bounds = [None if bound is None else as_tensor(bound) for bound in bounds]
    return clamp(as_tensor(args[0]), *bounds)


# ---------------------------------------------------------------------- explain rules
def _number_bounds_rule(node) -> Rule:
    """clamp, clamp_min, clamp_max with number bounds: the gradient passes between them."""
    low = getattr(node, "min", None)
    high = getattr(node, "max", None)
    parts = []
    if low is not None:
        parts.append(f"{num(low)} ≤ {{x:0}}")
    if high is not None:
        parts.append(f"{{x:0}} ≤ {num(high)}")
    bounds = ", ".join(
        f"{key}={num(value)}" for key, value in (("min", low), ("max", high)) if value is not None
    )
    condition = " and ".join(parts) or "always"
    return Rule("clamp", f"clamp({{x:0}}, {bounds})", ATOM, (f"1 if {condition}, else 0",))


def _tensor_bounds_rule(node) -> Rule:
    """clamp(a, min=b, max=c) with tensor bounds: each element's gradient goes to whichever of
    a, b, c gave its value (c where b > c); a missing bound is a constant and gets none."""
    if node.has_min and node.has_max:
        return Rule(
            "clamp",
            "clamp({a:0}, min={b:0}, max={c:0})",
            ATOM,
            (
                "1 if {b:0} ≤ {a:0} ≤ {c:0}, else 0",
                "1 if {a:0} < {b:0} < {c:0}, else 0",
                "1 if {a:0} > {c:0} or {b:0} > {c:0}, else 0",
            ),
        )
    if node.has_min:
        return Rule(
            "clamp",
            "clamp({a:0}, min={b:0})",
            ATOM,
            ("1 if {a:0} ≥ {b:0}, else 0", "1 if {a:0} < {b:0}, else 0", "0"),
        )
    return Rule(
        "clamp",
        "clamp({a:0}, max={c:0})",
        ATOM,
        ("1 if {a:0} ≤ {c:0}, else 0", "0", "1 if {a:0} > {c:0}, else 0"),
    )


_CLAMP_MIN_TENSOR_RULE = binary_rule(
    "clamp",
    "clamp({a:0}, min={b:0})",
    ATOM,
    "1 if {a:0} ≥ {b:0}, else 0",
    "1 if {a:0} < {b:0}, else 0",
)
_CLAMP_MAX_TENSOR_RULE = binary_rule(
    "clamp",
    "clamp({a:0}, max={b:0})",
    ATOM,
    "1 if {a:0} ≤ {b:0}, else 0",
    "1 if {a:0} > {b:0}, else 0",
)

DECLARATIONS = (
    declare(
        "clamp",
        clamp,
        aliases=("clip",),
        explain={ClampBackward1: _number_bounds_rule, ClampBackward0: _tensor_bounds_rule},
        cli=Cli("x limited to [lo, hi]", ("x", "lo", "hi"), 2, _clamp_expression),
    ),
    declare(
        "clamp_min",
        clamp_min,
        explain={ClampMinBackward0: _number_bounds_rule, ClampMinBackward1: _CLAMP_MIN_TENSOR_RULE},
    ),
    declare(
        "clamp_max",
        clamp_max,
        explain={ClampMaxBackward0: _number_bounds_rule, ClampMaxBackward1: _CLAMP_MAX_TENSOR_RULE},
    ),
)
