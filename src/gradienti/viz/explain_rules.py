"""How each kind of node is written: picking a node's rule, and the math text of formulas.

The rules themselves are declared by the ops beside their VJPs (``explain=`` in each op module's
``DECLARATIONS``, see ops/declare.py and ops/explain_rule.py) and gathered in
``ops.api.EXPLAIN_RULES``. ``rule_for(node)`` picks the rule for a node, with a generic one for a
class told generically on purpose. Formulas are written with ``Expr`` (a piece of formula and its
precedence) and ``format_formula``, so that parentheses appear only where they are needed.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from ..backend import xp
from ..ops.api import EXPLAIN_RULES
from ..ops.explain_rule import ADD, ATOM, GENERIC, INDEXED, MUL, NEG, POW, num
from ..ops.explain_rule import NOT_DIFFERENTIABLE as _NOT_DIFFERENTIABLE
from ..ops.explain_rule import Rule as _Rule
from ..ops.explain_rule import binary_rule as _binary
from ..ops.explain_rule import unary_rule as _unary
from .explain_text import is_small_scalar

# ---------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    """A piece of formula and its precedence, so that parentheses appear only where needed."""

    text: str
    prec: int = ATOM


class _Formatter(string.Formatter):
    """``"{a:6}·{b:8}"``: the number after the colon is the precedence a slot needs."""

    def format_field(self, value, format_spec):
        if isinstance(value, Expr):
            need = int(format_spec) if format_spec else 0
            return f"({value.text})" if value.prec < need else value.text
        return format(value, format_spec)


format_formula = _Formatter().format


def value_expr(value):
    if not is_small_scalar(value):
        return None
    number = xp.asarray(value).reshape(())[()]
    text = num(number)
    return Expr(text, NEG if text.startswith("-") else ATOM)


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def snake(name: str) -> str:
    """``LogSoftmaxBackward0`` -> ``log_softmax``."""
    base = re.sub(r"Backward\d*$", "", name) or name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()


# ---------------------------------------------------------------------- the rules
def _leaky(node) -> _Rule:
    slope = num(node.negative_slope)
    return _Rule("leaky ReLU", "leaky_relu({x:0})", ATOM, (f"1 if {{x:0}} > 0, else {slope}",))


def _elu(node) -> _Rule:
    alpha = num(node.alpha)
    return _Rule("ELU", "elu({x:0})", ATOM, (f"1 if {{x:0}} > 0, else {alpha}·exp({{x:0}})",))


def _hardtanh(node) -> _Rule:
    low, high = num(node.min_val), num(node.max_val)
    return _Rule("hard tanh", "hardtanh({x:0})", ATOM, (f"1 if {low} < {{x:0}} < {high}, else 0",))


def _softplus(node) -> _Rule:
    beta = float(node.beta)
    inner = "{x:0}" if beta == 1 else f"{num(beta)}·{{x:8}}"
    return _Rule(
        "softplus",
        "softplus({x:0})",
        ATOM,
        (f"sigmoid({inner}) (1 if {inner} > {num(node.threshold)})",),
    )


def _clamp(node) -> _Rule:
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
    return _Rule("clamp", f"clamp({{x:0}}, {bounds})", ATOM, (f"1 if {condition}, else 0",))


def _sum(node) -> _Rule:
    dims = getattr(node, "dims", None)
    if dims is None:
        return _Rule(
            "sum of all elements", "sum({x:0})", passes=("the gradient, copied to every element",)
        )
    dims = tuple(int(dim) for dim in dims)
    return _Rule(
        f"sum over dim {dims}",
        f"sum({{x:0}}, dim={dims})",
        passes=(f"the gradient, copied along dim {dims}",),
    )


def _mean(node) -> _Rule:
    shape = tuple(node.input_shape)
    dims = getattr(node, "dims", None)
    if dims is None:
        count = int(xp.prod(shape)) if shape else 1
        return _Rule(
            "mean of all elements",
            "mean({x:0})",
            passes=(f"the gradient divided by n = {count}, copied to every element",),
        )
    dims = tuple(int(dim) for dim in dims)
    count = 1
    for dim in dims:
        count *= shape[dim]
    return _Rule(
        f"mean over dim {dims}",
        f"mean({{x:0}}, dim={dims})",
        passes=(f"the gradient divided by n = {count}, copied along dim {dims}",),
    )


def _reshape(words: str, method: str):
    def rule(node) -> _Rule:
        shape = tuple(int(size) for size in getattr(node, "input_shape", ()) or ())
        target = f" to shape {shape}" if shape else ""
        return _Rule(words, f"{{x:9}}.{method}(…)", passes=(f"the gradient, {words} back{target}",))

    return rule


def _expand(node) -> _Rule:
    shape = tuple(int(size) for size in node.input_shape)
    return _Rule(
        "expansion (broadcasting)",
        f"{{x:9}}.expand{tuple(int(size) for size in node.shape)}",
        passes=(f"the gradient, summed back to shape {shape}",),
    )


_INDEXED = INDEXED

# Rules not yet declared by their ops (being moved to the declarations).
_RULES: dict = {
    "Exp2Backward0": _Rule("power of two", "2^{x:9}", POW, ("2^{x:9}·log(2)",)),
    "Expm1Backward0": _unary("exp(x) - 1", "expm1", "exp({x:0})"),
    "Log2Backward0": _unary("base-2 logarithm", "log2", "1/({x:6}·log(2))"),
    "Log10Backward0": _unary("base-10 logarithm", "log10", "1/({x:6}·log(10))"),
    "Log1PBackward0": _unary("log(1 + x)", "log1p", "1/(1 + {x:6})"),
    "RsqrtBackward0": _unary("reciprocal square root", "rsqrt", "-1/(2·{x:9}^1.5)"),
    "TanBackward0": _unary("tangent", "tan", "1 + tan({x:0})²"),
    "AsinBackward0": _unary("arcsine", "asin", "1/sqrt(1 - {x:9}²)"),
    "AcosBackward0": _unary("arccosine", "acos", "-1/sqrt(1 - {x:9}²)"),
    "AtanBackward0": _unary("arctangent", "atan", "1/(1 + {x:9}²)"),
    "SinhBackward0": _unary("hyperbolic sine", "sinh", "cosh({x:0})"),
    "CoshBackward0": _unary("hyperbolic cosine", "cosh", "sinh({x:0})"),
    "LogSigmoidBackward0": _unary("log-sigmoid", "logsigmoid", "1 - sigmoid({x:0})"),
    "SiluBackward0": _unary("SiLU", "silu", "sigmoid({x:0})·(1 + {x:6}·(1 - sigmoid({x:0})))"),
    "SoftplusBackward0": _softplus,
    "LeakyReluBackward0": _leaky,
    "EluBackward0": _elu,
    "HardtanhBackward0": _hardtanh,
    "ErfBackward0": _unary("error function", "erf", "2/sqrt(π)·exp(-{x:9}²)"),
    "ErfcBackward0": _unary("complementary error function", "erfc", "-2/sqrt(π)·exp(-{x:9}²)"),
    "FloorBackward0": _Rule("rounding down", "floor({x:0})", ATOM, _NOT_DIFFERENTIABLE),
    "CeilBackward0": _Rule("rounding up", "ceil({x:0})", ATOM, _NOT_DIFFERENTIABLE),
    "TruncBackward0": _Rule("rounding toward 0", "trunc({x:0})", ATOM, _NOT_DIFFERENTIABLE),
    "RoundBackward0": _Rule("rounding", "round({x:0})", ATOM, _NOT_DIFFERENTIABLE),
    "RoundBackward1": _Rule("rounding", "round({x:0}, …)", ATOM, _NOT_DIFFERENTIABLE),
    "FracBackward0": _Rule("fractional part", "frac({x:0})", ATOM, ("1",)),
    "AliasBackward0": _Rule("alias", "{x:0}", ATOM, ("1",)),
    "ClampBackward1": _clamp,
    "ClampMinBackward0": _clamp,
    "ClampMaxBackward0": _clamp,
    "Atan2Backward0": _binary(
        "two-argument arctangent",
        "atan2({a:0}, {b:0})",
        ATOM,
        "{b:6}/({a:9}² + {b:9}²)",
        "-{a:8}/({a:9}² + {b:9}²)",
    ),
    "MaximumBackward0": _binary(
        "elementwise maximum",
        "maximum({a:0}, {b:0})",
        ATOM,
        "1 if {a:0} > {b:0}, ½ if equal, else 0",
        "1 if {b:0} > {a:0}, ½ if equal, else 0",
    ),
    "MinimumBackward0": _binary(
        "elementwise minimum",
        "minimum({a:0}, {b:0})",
        ATOM,
        "1 if {a:0} < {b:0}, ½ if equal, else 0",
        "1 if {b:0} < {a:0}, ½ if equal, else 0",
    ),
    "SumBackward0": _sum,
    "SumBackward1": _sum,
    "MeanBackward0": _mean,
    "MeanBackward1": _mean,
    "ViewBackward0": _reshape("reshaped", "view"),
    "UnsafeViewBackward0": _reshape("reshaped", "view"),
    "ReshapeAliasBackward0": _reshape("reshaped", "reshape"),
    "SqueezeBackward0": _reshape("reshaped", "squeeze"),
    "SqueezeBackward1": _reshape("reshaped", "squeeze"),
    "SqueezeBackward2": _reshape("reshaped", "squeeze"),
    "SqueezeBackward4": _reshape("reshaped", "squeeze"),
    "UnsqueezeBackward0": _reshape("reshaped", "unsqueeze"),
    "ExpandBackward0": _expand,
    "PermuteBackward0": _Rule(
        "permutation of dims", "{x:9}.permute(…)", passes=("the gradient, permuted back",)
    ),
    "TransposeBackward0": _Rule(
        "transpose", "{x:9}.transpose(…)", passes=("the gradient, transposed back",)
    ),
    "TBackward0": _Rule("transpose", "{x:9}ᵀ", POW, passes=("the gradient, transposed back",)),
    "SelectBackward0": _Rule("indexing", "{x:9}[…]", passes=_INDEXED),
    "SliceBackward0": _Rule("slicing", "{x:9}[…]", passes=_INDEXED),
    "IndexBackward0": _Rule("indexing", "{x:9}[…]", passes=_INDEXED),
    "MmBackward0": _Rule(
        "matrix product", "{a:6} @ {b:8}", MUL, passes=("gradient @ bᵀ", "aᵀ @ gradient")
    ),
    "BmmBackward0": _Rule(
        "batched matrix product", "{a:6} @ {b:8}", MUL, passes=("gradient @ bᵀ", "aᵀ @ gradient")
    ),
    "MvBackward0": _Rule(
        "matrix-vector product",
        "{a:6} @ {b:8}",
        MUL,
        passes=("outer(gradient, b)", "aᵀ @ gradient"),
    ),
    "DotBackward0": _Rule("dot product", "dot({a:0}, {b:0})", passes=("gradient·b", "gradient·a")),
    "AddmmBackward0": _Rule(  # F.linear: bias + input @ weightᵀ
        "matrix product plus a bias",
        "{a:5} + {b:6} @ {c:8}",
        ADD,
        passes=("the gradient", "gradient @ cᵀ", "bᵀ @ gradient"),
    ),
    "NllLossBackward0": _Rule(  # cross-entropy's second half, on log-probabilities
        "negative log-likelihood",
        "nll_loss({x:0}, target)",
        passes=("-1 (÷ the batch for a mean) at each row's target, 0 elsewhere",),
    ),
}


def rule_for(node) -> _Rule:
    name = type(node).__name__
    rule = EXPLAIN_RULES.get(name, _RULES.get(name))
    if rule is GENERIC:
        rule = None
    if callable(rule):
        try:
            rule = rule(node)
        except (AttributeError, TypeError, ValueError):
            rule = None
    if rule is not None and _fits(rule, len(node._next)):
        return rule
    slots = slot_names(len(node._next))
    generic = ", ".join(f"{{{slot}:0}}" for slot in slots)
    return _Rule(
        snake(name).replace("_", " "),
        f"{snake(name)}({generic})",
        passes=(f"∂ computed by {name}",) * len(slots),
    )


def _fits(rule: _Rule, arity: int) -> bool:
    slots = set(slot_names(arity))
    used = {name for _text, name, _spec, _conv in string.Formatter().parse(rule.form) if name}
    per_input = rule.local or rule.passes
    return used <= slots and len(per_input) == arity


def slot_names(arity: int) -> tuple:
    if arity == 1:
        return ("x",)
    letters = "abcdefghijklmnopqrstuvw"
    return tuple(letters[i] if i < len(letters) else f"x{i}" for i in range(arity))
