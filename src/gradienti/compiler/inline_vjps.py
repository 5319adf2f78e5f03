"""VJPs written into the generated backward instead of called: the ops whose VJP is one or two
array expressions (add, sub, mul, x**2, x**3 and the pointwise table's rows), where the call,
the ``_saved`` writes around it and the tuple it returns cost more than the arithmetic on
small arrays and scalars. Each expression is the VJP's own, operand for operand and grouped
the same (so the gradients stay bitwise the eager ones); a case these do not cover (x * x,
an exponent or dtype with another branch, anything else) returns None and is called as
before."""

from __future__ import annotations

import ast
import operator

from ..ops.elementwise import AddBackward0, MulBackward0, PowBackward0, SubBackward0

# The dtypes for which PowBackward0.backward takes its ``3 * (x * x)`` branch.
_ROUNDED_KINDS = ("float32", "float64")


# The forwards that are one Python operator on the arrays: ``operator.mul(a, b)`` is ``a * b``.
_OPERATORS = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/"}


def inline_forward(node, calls_function: bool, arguments: list[str], input_dtype) -> str | None:
    """The forward of a step as an expression of its arguments' names, where it is one
    operator (``+ - * /``) or PowBackward0's ``x * x``, ``x * x * x`` (its forward's branches
    for float32/float64, see power_array); None: the step calls its function or forward."""
    if calls_function:
        symbol = _OPERATORS.get(node.function) if len(arguments) == 2 else None
        return None if symbol is None else f"{arguments[0]} {symbol} {arguments[1]}"
    if type(node) is PowBackward0 and len(arguments) == 1 and str(input_dtype) in _ROUNDED_KINDS:
        exponent = node.exponent
        x = arguments[0]
        if type(exponent) is not bool and exponent == 2:
            return f"{x} * {x}"
        if type(exponent) is not bool and exponent == 3:
            return f"{x} * {x} * {x}"
    return None


def inline_vjp(step, saved: list[str], grad: str, input_dtype, bind) -> tuple | None:
    """Per forward input of ``step``'s op, the expression of its gradient (None: it gets
    none), given the names of the saved values (``saved``, in the node's ``_saved`` order),
    the output gradient's name ``grad`` and the dtype of input 0; ``bind(obj)`` names a
    constant. None: the VJP is called. (The template's ``_next`` tells which inputs have an
    edge, not which: the trace's ``inputs`` tell whether both are one tensor.)"""
    template = step.plan.template
    kind = type(template)
    if kind is AddBackward0 or kind is SubBackward0 or kind is MulBackward0:
        # (as their VJPs test it: a compact node or a constant second operand)
        one_input = template._sole is not None or template._next[1] is None
    if kind is AddBackward0:
        return (grad,) if one_input else (grad, grad)
    if kind is SubBackward0:
        return (grad,) if one_input else (grad, f"-{grad}")
    if kind is MulBackward0:
        a, b = saved
        if one_input:
            return (f"{grad} * {b}",)
        if step.inputs[0] == step.inputs[1]:  # x * x: its own branch
            return None
        return (None if template._next[0] is None else f"{grad} * {b}", f"{grad} * {a}")
    if kind is PowBackward0:
        (x,) = saved
        exponent = template.exponent
        if type(exponent) is bool or exponent != 2 and exponent != 3:
            return None
        if exponent == 2:
            return (f"{grad} * (2 * {x})",)
        if str(input_dtype) in _ROUNDED_KINDS:
            return (f"{grad} * (3 * ({x} * {x}))",)
        return None
    expression = getattr(kind, "vjp_expression", None)
    if expression is not None:  # a pointwise table row: g, x, out and its namespace's names
        return (_renamed(expression, kind, saved, grad, bind),)
    return None


def _renamed(expression: str, kind, saved: list[str], grad: str, bind) -> str:
    namespace = kind.backward.__globals__
    operands = {"g": grad}
    used = {node.id for node in ast.walk(ast.parse(expression, mode="eval"))
            if isinstance(node, ast.Name)}  # fmt: skip
    # The row's backward unpacks (x, out), (x,) or (out,) from _saved (pointwise_table.py).
    order = [name for name in ("x", "out") if name in used]
    operands.update(zip(order, saved))

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            name = operands.get(node.id)
            if name is None:
                name = bind(namespace[node.id])
            return ast.copy_location(ast.Name(id=name, ctx=node.ctx), node)

    tree = Rename().visit(ast.parse(expression, mode="eval"))
    return f"({ast.unparse(tree)})"
