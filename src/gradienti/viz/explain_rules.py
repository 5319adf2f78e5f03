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
from ..ops.explain_rule import ATOM, GENERIC, NEG, num, slot_names
from ..ops.explain_rule import Rule as _Rule
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
def rule_for(node) -> _Rule:
    name = type(node).__name__
    rule = EXPLAIN_RULES.get(name)
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
