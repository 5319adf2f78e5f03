"""The explanation as text: how numbers and tensors are shown, and the lines of each step.

Everything here only reads the records that ``explain`` (:mod:`gradienti.viz.explain`) built:
``step_lines`` writes one step, ``header_lines`` and ``footer_lines`` the text around the steps,
``node_note`` the short lines a picture prints under a node, ``pass_text`` what a node passes to
one input, and ``wrap`` folds a line to the page width. ``num``, ``show`` and ``show_uniform``
write a number or a tensor as a learner reads it (the formulas and the walk use them too).
"""

from __future__ import annotations

import re
import sys
import textwrap
from typing import TYPE_CHECKING

from .._text_encoding import can_encode, spell_ascii
from ..backend import xp
from ..graph.node import AccumulateGrad, edge_parts
from ..ops.explain_rule import num

if TYPE_CHECKING:
    from .explain import Step

# Tensors with at most this many elements are shown in full; larger ones as a summary.
SHOW_MAX = 8
WIDTH = 98


class ShownAsText:
    """An explanation object: ``print()``, the REPL and IPython show its ``text``.

    ``text`` is written with ``∂``, ``x³``, ``·``; where ``sys.stdout`` cannot encode them (a
    cp1252 or ASCII terminal or file), ``str()`` and ``repr()`` give ``plain_text``, the same
    explanation spelled in ASCII (``dy/dx``, ``x^3``, ``*``): ``print(obj)`` writes ``str(obj)``
    to ``sys.stdout`` and would fail on a symbol it cannot encode.
    """

    # The lines before they are folded to the page width: each is spelled in ASCII before it
    # is folded, so that the ASCII text keeps the layout.
    lines: list

    @property
    def text(self) -> str:
        text = self.__dict__.get("_text")
        if text is None:
            text = self.__dict__["_text"] = "\n".join(wrap(line) for line in self.lines)
        return text

    @property
    def plain_text(self) -> str:
        """``text`` in ASCII (see :mod:`gradienti._text_encoding`)."""
        text = self.__dict__.get("_plain_text")
        if text is None:
            spelled = (plain_line(line) for line in self.lines)
            text = self.__dict__["_plain_text"] = "\n".join(wrap(line) for line in spelled)
        return text

    def __str__(self) -> str:
        return self.text if can_encode(self.text, sys.stdout) else self.plain_text

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


class LabelLine(str):
    """A line ``"    label:      value"`` whose value starts at a fixed column: spelled in ASCII,
    its label is padded again (``x³`` becomes the longer ``x^3``)."""

    label: str
    value: str


def label_line(label: str, value: str) -> LabelLine:
    line = LabelLine(f"    {(label + ':').ljust(13)} {value}")
    line.label, line.value = label, value
    return line


class TitleLine(str):
    """A step's title, ``"Step 8 of 9 · PowBackward0 · x³ = 8"``: its parts apart, so that in
    ASCII the separator is a dash, not the ``*`` of a product."""

    parts: tuple


def title_line(*parts: str) -> TitleLine:
    line = TitleLine(" · ".join(parts))
    line.parts = parts
    return line


def plain_line(line: str) -> str:
    """One line of an explanation spelled in ASCII, its label padded again."""
    if isinstance(line, LabelLine):
        return label_line(spell_ascii(line.label), spell_ascii(line.value))
    if isinstance(line, TitleLine):
        return " - ".join(spell_ascii(part) for part in line.parts)
    return spell_ascii(line)


# ---------------------------------------------------------------------- numbers and values
def is_small_scalar(value) -> bool:
    return value is not None and not isinstance(value, list) and xp.size(value) == 1


def _nested(array) -> str:
    if array.ndim == 0:
        return num(array[()])
    return "[" + ", ".join(_nested(item) for item in array) + "]"


def show(value, limit: int = SHOW_MAX) -> str:
    """A scalar as a number, a small tensor in full, a larger one as a summary."""
    if value is None:
        return "?"
    array = xp.asarray(value)
    if array.ndim == 0:
        return num(array[()])
    if array.size <= limit:
        return _nested(array)
    shape = tuple(int(size) for size in array.shape)
    if array.size == 0:
        return f"(shape {shape}, empty)"
    data = array.astype(xp.float64) if array.dtype.kind in "biu" else array
    if (data == data.flat[0]).all():
        return f"(shape {shape}: all {num(data.flat[0])})"
    return f"(shape {shape}: mean {num(data.mean())}, min {num(data.min())}, max {num(data.max())})"


def show_uniform(value) -> str:
    """A local derivative: an array whose elements are all equal shows as that one number."""
    array = xp.asarray(value)
    if array.ndim and array.size and (array == array.flat[0]).all():
        return num(array.flat[0])
    return show(value)


def _operand(text: str) -> str:
    """A number after an operator: negative ones in parentheses."""
    return f"({text})" if text.startswith("-") else text


def _plus(values) -> str:
    return " + ".join(
        show(value) if i == 0 else _operand(show(value)) for i, value in enumerate(values)
    )


def pass_text(grad_in, derivative, rule, position, value) -> str:
    if not rule.local:
        return f"{rule.passes[position]} = {show(value)}"
    local = derivative.value
    if local is None:
        return f"gradient × local ∂ = {show(value)}"
    text = f"{show(grad_in)} × {_operand(show_uniform(local))} = {show(value)}"
    if len(text) > 80:
        return f"gradient × local ∂ = {show(value)}"
    return text


# ---------------------------------------------------------------------- the text
def wrap(line: str) -> str:
    if len(line) <= WIDTH:
        return line
    indent = len(line) - len(line.lstrip(" "))
    label = re.match(r"    [^:]{1,36}: +", line)
    if line.startswith("Step "):
        subsequent = " " * 4
    else:
        subsequent = " " * (label.end() if label and label.end() < 40 else indent)
    return textwrap.fill(
        line, WIDTH, subsequent_indent=subsequent, break_long_words=False, break_on_hyphens=False
    )


def step_lines(step: Step, total: int, out_name: str) -> list:
    is_leaf = type(step.node) is AccumulateGrad
    if is_leaf:
        leaf = step.node.variable
        value = "" if leaf is None else f" = {show(leaf._data)}"
        title = [
            f"Step {step.index} of {total}",
            "AccumulateGrad",
            f"leaf {step.expression}{value}",
        ]
    else:
        title = [f"Step {step.index} of {total}", step.name, step.expression]
        if step.value is not None and xp.size(step.value) <= SHOW_MAX:
            title[-1] += f" = {show(step.value)}"
    lines = [title_line(*title)]
    if not is_leaf:
        operation = step.operation
        if step.bindings:
            operation = f"{operation} {step.formula}, with {step.bindings}"
        lines.append(label_line("operation", operation))
    lines.extend(_grad_in_lines(step, is_leaf, out_name))
    if is_leaf:
        lines.extend(_leaf_lines(step))
        return lines
    for derivative, contribution in zip(step.derivatives, step.contributions):
        if contribution.node is None:
            continue
        target = f"to {contribution.input}"
        if derivative.formula:
            text = f"∂/∂{derivative.symbol} = {derivative.text}"
            if contribution.value is not None:
                text += f";  {contribution.text}"
            elif contribution.text == "no gradient":
                text += ";  no gradient"
        else:
            text = contribution.text
        lines.append(label_line(target, text))
    for note in step.notes:
        lines.append(label_line("note", note))
    return lines


def _show_grad(grad) -> str:
    """An incoming gradient: one value, or one per output of a multi-output node."""
    if isinstance(grad, list):
        return "; ".join(
            f"output {nr}: {'none' if value is None else show(value)}"
            for nr, value in enumerate(grad)
        )
    return show(grad)


def _grad_in_lines(step: Step, is_leaf: bool, out_name: str) -> list:
    parts = step.grad_in_parts
    sources = [
        "the start" if index is None else f"from {consumer} (step {index})"
        for index, consumer, _value in parts
    ]
    if step.grad_in is None and parts and parts[0][2] is None:
        label = "gradients in" if len(parts) > 1 else "gradient in"
        return [label_line(label, f"({step.missing}) {', '.join(sources)}")]
    grad = step.grad_in
    if parts and parts[0][0] is None:
        start = "the start"
        if is_small_scalar(grad) and float(xp.asarray(grad).reshape(())) == 1:
            start = f"the start: ∂{out_name}/∂{out_name} = 1"
        return [label_line("gradient in", f"{_show_grad(grad)}  ({start})")]
    if is_leaf:
        return []  # the leaf lines show the parts and their sum
    if len(parts) == 1:
        return [label_line("gradient in", f"{_show_grad(grad)}  (from step {parts[0][0]})")]
    steps_text = ", ".join(str(index) for index, _c, _v in parts)
    if isinstance(grad, list):
        return [label_line("gradient in", f"{_show_grad(grad)}  (from steps {steps_text})")]
    values = [value for _i, _c, value in parts]
    if all(is_small_scalar(value) for value in values):
        text = f"{_plus(values)} = {show(grad)}  (from steps {steps_text})"
        return [label_line("gradient in", text)]
    return [label_line("gradient in", f"{show(grad)}  (the sum of what steps {steps_text} passed)")]


def _leaf_lines(step: Step) -> list:
    parts = step.grad_in_parts
    name = step.expression
    if not parts or parts[0][2] is None:
        return []
    lines = []
    if parts[0][0] is not None:
        pieces = [
            f"{show(value)} from {consumer} (step {index})" for index, consumer, value in parts
        ]
        if all(is_small_scalar(value) for _i, _c, value in parts):
            label = "gradients in" if len(parts) > 1 else "gradient in"
            lines.append(label_line(label, ", ".join(pieces)))
        else:
            for piece in pieces:
                lines.append(label_line("gradient in", piece))
        if len(parts) > 1:
            if all(is_small_scalar(value) for _i, _c, value in parts):
                summed = _plus([value for _i, _c, value in parts])
                lines.append(label_line("sum", f"{summed} = {show(step.grad_in)}"))
            else:
                lines.append(label_line("sum", show(step.grad_in)))
    leaf = step.node.variable
    if leaf is not None:
        current = leaf._grad
        if current is None:
            text = f"None now; backward() would set it to {show(step.grad_in)}"
        else:
            now = current._data
            after = now + step.grad_in
            if is_small_scalar(now) and is_small_scalar(step.grad_in):
                text = (
                    f"{show(now)} now; backward() would add: {show(now)} + "
                    f"{show(step.grad_in)} = {show(after)}"
                )
            else:
                text = f"{show(now)} now; backward() would add to it, giving {show(after)}"
        lines.append(label_line(f"{name}.grad", text + " (explain changes no .grad)"))
    return lines


def header_lines(output, names, root, steps, start, start_note, reason) -> list:
    out_name = names.user.get(edge_parts(output._edge))
    expression = names.expression[root]
    what = f"{out_name} = {expression}" if out_name and out_name != expression else expression
    lines = [f"How backward() computes the gradients of {what}"]
    leaves = sorted(
        (step for step in steps if type(step.node) is AccumulateGrad),
        key=lambda step: step.node._seq,
    )
    at = ", ".join(
        f"{step.expression} = {show(step.node.variable._data)}"
        for step in leaves
        if step.node.variable is not None
    )
    where = "" if type(root) is AccumulateGrad else f"{out_name or 'the output'} = "
    if where:
        where += show(output._data)
        lines.append(f"  at {at}, where {where}." if at else f"  where {where}.")
    elif at:
        lines.append(f"  at {at}.")
    if reason is not None:
        lines.append(reason)
    count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
    lines.append(
        f"The engine runs {count}, newest operation first. Each step takes the gradient that "
        "reached its node, multiplies it by the local derivative of the operation (the chain "
        "rule) and passes the result on to the node's inputs; a tensor used several times adds "
        "up what it receives."
    )
    if start_note == "default" and xp.size(start) != 1:
        lines.append(
            "The output is not a scalar: the start gradient is ones, as in "
            "y.backward(torch.ones_like(y))."
        )
    elif start_note == "given":
        lines.append(f"The start gradient is the one given: {show(start)}.")
    if any(_has_hooks(step.node) for step in steps):
        lines.append(
            "Hooks are registered on this graph; explain does not run them, so backward() may "
            "pass other values where they change a gradient."
        )
    if any(expr.text == "c" for exprs in names.input_exprs.values() for expr in exprs):
        lines.append("c: a constant whose value the graph does not keep (it needs no gradient).")
    return lines


def _has_hooks(node) -> bool:
    hooks = node._hooks
    if hooks is None:
        return False
    return bool(hooks.pre or hooks.post or any(hooks.tensor_hooks.values()))


def footer_lines(totals, names, output, missing) -> list:
    out_name = names.user.get(edge_parts(output._edge)) or "output"
    lines = ["Result:"]
    for name, (_parts, total) in totals.items():
        if total is not None:
            lines.append(f"    ∂{out_name}/∂{name} = {show(total)}")
        else:
            lines.append(f"    ∂{out_name}/∂{name}: {missing}")
    if len(lines) == 1:
        lines.append("    no leaf that requires grad is reached")
    return lines


def node_note(step: Step) -> str:
    """Short lines for the picture, under the node's name: "grad in: 5", "∂/∂x: 3·x² = 12",
    "out: 60"; at a leaf, "grad in: 60 + 8 + 4 = 72"."""
    freed = step.grad_in is None
    if type(step.node) is AccumulateGrad:
        values = [value for _i, _c, value in step.grad_in_parts]
        if freed:
            return f"grad in: {step.missing}"
        if len(values) > 1 and all(is_small_scalar(value) for value in values):
            return f"grad in: {_plus(values)} = {show(step.grad_in, 3)}"
        return f"grad in: {show(step.grad_in, 3)}"
    lines = []
    if not freed:
        grad = step.grad_in
        if isinstance(grad, list):
            shown = "; ".join("none" if g is None else show(g, 3) for g in grad)
        else:
            shown = show(grad, 3)
        lines.append(f"grad in: {shown}")
    else:
        lines.append(f"grad in: {step.missing}")
    outs = []
    for derivative, contribution in zip(step.derivatives, step.contributions):
        if contribution.node is None:
            continue
        if derivative.formula:
            formula = derivative.formula if len(step.derivatives) > 1 else derivative.instantiated
            text = f"∂/∂{derivative.symbol}: {formula}"
            if derivative.value is not None:
                value = show_uniform(derivative.value)
                if len(value) > 24:
                    value = "…"
                if value != formula:
                    text += f" = {value}"
            lines.append(text)
        if contribution.value is not None:
            outs.append(show(contribution.value, 3))
    if outs:
        lines.append("out: " + ", ".join(outs))
    return "\n".join(lines)
