"""How ``explain`` tells one kind of node: the rule an op declares beside its VJP.

A ``Rule`` gives the operation in words, its output as a formula of the inputs' slots (``x`` for
one input; ``a``, ``b``, ... for several), and for each input either the local derivative
(``local``: elementwise ops, a formula the explanation evaluates at this point) or in words what
goes to it (``passes``: other ops). In a formula, ``{x:8}`` is a slot and the number after the
colon is the precedence the slot needs, so parentheses appear only where needed: ATOM (a name,
a call) binds tightest, then POW, NEG, MUL and ADD.

An op whose rule depends on its parameters (an exponent, a dimension) declares a function of
the node that returns the Rule. ``GENERIC`` marks a node class that is told generically on
purpose ("∂ computed by ..."): the completeness test requires every node class to declare one
or the other. This module is data only: the explanation itself lives in ``gradienti.viz``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backend import xp

ATOM, POW, NEG, MUL, ADD = 9, 8, 7, 6, 5


@dataclass(frozen=True)
class Rule:
    """How to tell one kind of node (see the module docstring)."""

    words: str
    form: str
    prec: int = ATOM
    local: tuple = ()
    passes: tuple = ()
    constant_first: bool = False  # write "5·x³" rather than "x³·5"


# A node class told generically, on purpose (its declaration says so).
GENERIC = "generic"

NOT_DIFFERENTIABLE = ("0",)
INDEXED = ("the gradient, put back where the elements were taken (zeros elsewhere)",)


def unary_rule(words: str, name: str, local: str) -> Rule:
    """``name(x)`` with local derivative ``local``: ``unary_rule("sine", "sin", "cos({x:0})")``."""
    return Rule(words, f"{name}({{x:0}})", ATOM, (local,))


def binary_rule(words: str, form: str, prec: int, local_a: str, local_b: str, **extra) -> Rule:
    return Rule(words, form, prec, (local_a, local_b), **extra)


def reshape_rule(method: str):
    """The rule of a reshaping view written ``x.<method>(…)``: its gradient is reshaped back."""

    def rule(node) -> Rule:
        shape = tuple(int(size) for size in getattr(node, "input_shape", ()) or ())
        target = f" to shape {shape}" if shape else ""
        return Rule(
            "reshaped", f"{{x:9}}.{method}(…)", passes=(f"the gradient, reshaped back{target}",)
        )

    return rule


def num(value) -> str:
    """A number as a learner reads it: 72, 0.5, 7.38906, -2."""
    if isinstance(value, bool | xp.bool_):
        return str(bool(value))
    if isinstance(value, int | xp.integer):
        return str(int(value))
    text = format(float(value), ".6g")
    return "0" if text == "-0" else text


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power_text(exponent) -> str:
    """The exponent part of a power: "³", "⁻¹", "^0.5"; "" for 1."""
    value = float(exponent)
    if value == 1:
        return ""
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value)).translate(_SUPERSCRIPTS)
    text = num(exponent)
    return f"^({text})" if text.startswith("-") else f"^{text}"


def slot_names(arity: int) -> tuple:
    """The names of a node's input slots: ``x`` for one input; ``a``, ``b``, ... for several."""
    if arity == 1:
        return ("x",)
    letters = "abcdefghijklmnopqrstuvw"
    return tuple(letters[i] if i < len(letters) else f"x{i}" for i in range(arity))
