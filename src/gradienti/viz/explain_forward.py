"""``explain(y, inputs=x, mode="forward")``: forward-mode AD told step by step, for learners.

Reverse mode (``backward()``) starts at the output and runs the graph newest operation first;
forward mode starts at one input with its *tangent* ``ẋ = dx/dx = 1`` and runs with the
operations, oldest first: each operation's output gets, beside its value, the tangent
``Σ_i ∂out/∂in_i · ṫ_i`` (the chain rule the other way round), which is ``d(out)/dx``. The
tangent of the output is the derivative: the same number reverse mode gives, from one pass per
*input* instead of one pass per *output*.

The tangents are computed by the ops' own forward-mode rules (``Op.jvp``, the code that
``autograd.forward_ad`` runs), on the forward values the graph holds or can replay
(explain_values.py), and the local derivatives and names are those of the reverse explanation,
so both tell the same graph in the same words. It writes nothing and leaves the graph as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..backend import xp
from ..graph.dual import suspended
from ..graph.node import NO_EDGE, AccumulateGrad, edge_parts
from ..tensor import Tensor, wrap
from .explain_text import (
    ShownAsText,
    is_small_scalar,
    label_line,
    show,
    show_uniform,
    title_line,
)

DOT = "\u0307"  # combining dot above: ẋ, the tangent of x
UNKNOWN = "unknown"  # the tangent of an output that could not be computed (not zero)


@dataclass
class ForwardStep:
    """One operation, in the order it was computed: the tangents that reach it, each input's
    share ``∂out/∂in · ṫ`` and the output's tangent (None where a value is unknown)."""

    index: int
    node: object
    expression: str  # this node's output in terms of its inputs: "5·x³"
    operation: str  # in words, with the inputs bound: "multiplication a·b, with a = x³, ..."
    value: object = None  # the output's forward value, where it is known
    shares: list = field(default_factory=list)  # (input name, derivative text, text, share)
    tangent: object = None  # the output's tangent


@dataclass
class ForwardPass:
    """The forward pass seeded at one input: its name, ``steps`` (a ``ForwardStep`` per
    operation that depends on it) and ``tangent`` (the output's: the derivative)."""

    input: str
    steps: list
    tangent: object
    lines: list


class ForwardExplanation(ShownAsText):
    """What ``explain(..., mode="forward")`` returns: ``str()`` is the text; ``passes`` holds a
    ``ForwardPass`` per input (one forward pass each, which is the point)."""

    def __init__(self, passes: list, out_name: str) -> None:
        self.passes = passes
        lines = []
        for number, forward_pass in enumerate(passes):
            if number:
                lines.extend(["", "-" * 40, ""])
            lines.extend(forward_pass.lines)
        lines.append("")
        lines.extend(_comparison(out_name, [forward_pass.input for forward_pass in passes]))
        self.lines = lines


def explain_forward(reverse, output: Tensor, inputs: list, max_steps=None) -> ForwardExplanation:
    """One forward pass per tensor of ``inputs``, each told with the names, values and local
    derivatives of ``reverse``, the reverse explanation of the same graph; the text of each
    shows its first ``max_steps`` steps (None: all; all are computed)."""
    passes = [_forward_pass(reverse, output, wrt, max_steps) for wrt in inputs]
    out_name = reverse.names.user.get(edge_parts(output._edge)) or "the output"
    return ForwardExplanation(passes, out_name)


def _forward_pass(reverse, output: Tensor, wrt: Tensor, max_steps=None) -> ForwardPass:
    """The forward pass seeded at ``wrt`` (``ẋ = 1``), its first ``max_steps`` steps told."""
    names = reverse.names
    seed_node = edge_parts(wrt._edge)[0]
    seed_name = names.display[seed_node].text
    steps_by_node = {step.node: step for step in reverse.steps}
    tangents = {(seed_node, 0): xp.ones_like(xp.asarray(wrt._data))}
    nodes = sorted(
        (node for node in steps_by_node if type(node) is not AccumulateGrad),
        key=lambda node: node._seq,
    )
    steps = []
    for node in nodes:
        incoming = [tangents.get(edge_parts(edge)) if edge is not None else None
                    for edge in node._next]  # fmt: skip
        if all(tangent is None for tangent in incoming):
            continue  # does not depend on the input: its tangent is zero
        step = _forward_step(len(steps) + 1, node, steps_by_node[node], names, incoming)
        steps.append(step)
        for output_nr in range(node.num_outputs):
            tangents[(node, output_nr)] = UNKNOWN
        if step.tangent is not None and node.num_outputs == 1:
            tangents[(node, 0)] = step.tangent
    total = tangents.get(edge_parts(output._edge))
    if total is UNKNOWN:
        total = None
    lines = _header(names, output, seed_name, wrt, len(steps))
    shown = steps if max_steps is None else steps[:max_steps]
    for step in shown:
        lines.append("")
        lines.extend(_step_lines(step, len(steps), seed_name))
    if len(shown) < len(steps):
        lines.append("")
        lines.append(f"... {len(steps) - len(shown)} more steps not shown (max_steps={len(shown)})")
    lines.append("")
    lines.extend(_footer(names, output, seed_name, wrt, total, reverse))
    return ForwardPass(seed_name, steps, total, lines)


def _forward_step(index, node, reverse_step, names, incoming) -> ForwardStep:
    operation = reverse_step.operation
    if reverse_step.bindings:
        operation = f"{operation} {reverse_step.formula}, with {reverse_step.bindings}"
    step = ForwardStep(index, node, reverse_step.expression, operation, value=reverse_step.value)
    primals = _primals(node, names)
    out_value = names.known.get((node, 0)) if node.num_outputs == 1 else None
    computable = primals is not None and out_value is not None
    computable = computable and not any(tangent is UNKNOWN for tangent in incoming)
    total = None
    for position, tangent in enumerate(incoming):
        if tangent is None:
            continue
        input_name = names.input_exprs[node][position].text
        derivative = reverse_step.derivatives[position] if reverse_step.derivatives else None
        share = None
        if computable and tangent is not UNKNOWN:
            only = [None] * len(incoming)
            only[position] = tangent
            share = _jvp(node, primals, out_value, only)
        text = _share_text(derivative, None if tangent is UNKNOWN else tangent, share)
        formula = f"∂/∂{derivative.symbol} = {derivative.text}" if derivative else ""
        step.shares.append((input_name, formula, text, share))
        if share is None:
            computable = False  # (a partial sum would be wrong: no tangent rather than that)
        else:
            total = share if total is None else total + share
    step.tangent = total if computable else None
    return step


def _primals(node, names):
    """The node's inputs as its JVP rule takes them: Tensors (values the graph holds or can
    replay) or the constants it kept; None when one is unknown."""
    primals = []
    for position, edge in enumerate(node._next):
        if edge is None:
            value = names.constants[node].get(position)
            if value is None:
                return None
            primals.append(value if type(value) in (int, float, bool) else wrap(value, NO_EDGE))
            continue
        value = names.known.get(edge_parts(edge))
        if value is None:
            return None
        primals.append(wrap(value, NO_EDGE))
    return tuple(primals)


def _jvp(node, primals, out_value, tangents):
    """The op's forward-mode rule, on plain values: the tangent of its output."""
    if node.jvp is None:
        return None
    tangents = tuple(None if t is None else wrap(xp.asarray(t), NO_EDGE) for t in tangents)
    try:
        with suspended(), xp.errstate(all="ignore"):
            result = node.jvp(node, primals, wrap(out_value, NO_EDGE), tangents)
    except Exception:  # noqa: BLE001 - a value to show; the text says when it is missing
        return None
    if result is None:
        return xp.zeros_like(xp.asarray(out_value))
    data = result._data if isinstance(result, Tensor) else xp.asarray(result)
    return xp.broadcast_to(data, xp.shape(out_value)).astype(xp.asarray(out_value).dtype)


def _share_text(derivative, tangent, share) -> str:
    """``5 × 12 = 60`` for scalars (local derivative × incoming tangent), else the share."""
    if share is None:
        return "not computed"
    local = None if derivative is None else derivative.value
    if local is not None and is_small_scalar(local) and is_small_scalar(tangent):
        return f"{show_uniform(local)} × {_operand(show(tangent))} = {show(share)}"
    return f"J·ṫ = {show(share)}"


def _operand(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _tangent_symbol(name: str) -> str:
    """The tangent of the input ``name``: ``ẋ`` for a one-letter name, else ``ṫ(name)``."""
    return f"{name}{DOT}" if len(name) == 1 and name.isalpha() else f"t{DOT}({name})"


def _step_lines(step: ForwardStep, total: int, seed: str) -> list:
    title = step.expression
    if step.value is not None and xp.size(step.value) <= 8:
        title += f" = {show(step.value)}"
    lines = [
        title_line(f"Step {step.index} of {total}", title),
        label_line("operation", step.operation),
    ]
    for input_name, formula, text, _share in step.shares:
        label = f"from {input_name}"
        lines.append(label_line(label, f"{formula};  {text}" if formula else text))
    shares = [share for *_rest, share in step.shares]
    if step.tangent is None:
        lines.append(label_line("tangent", "not computed"))
    elif len(shares) > 1 and all(is_small_scalar(share) for share in shares):
        summed = " + ".join(
            show(share) if i == 0 else _operand(show(share)) for i, share in enumerate(shares)
        )
        lines.append(label_line("tangent", f"{summed} = {show(step.tangent)}  (d/d{seed} of this)"))
    else:
        lines.append(label_line("tangent", f"{show(step.tangent)}  (d/d{seed} of this)"))
    return lines


def _header(names, output, seed, wrt, count) -> list:
    out_name = names.user.get(edge_parts(output._edge)) or "the output"
    root = edge_parts(output._edge)[0]
    expression = names.expression[root]
    what = f"{out_name} = {expression}" if out_name != "the output" else expression
    seed_symbol = _tangent_symbol(seed)
    start = f"its tangent {seed_symbol} = d{seed}/d{seed} = 1"
    if xp.size(wrt._data) != 1:
        start = (
            f"the tangent {seed_symbol} = ones (every element moved together: the result is the "
            f"derivative along that direction, the sum of ∂{out_name}/∂{seed}'s entries)"
        )
    return [
        f"How forward mode computes the derivative of {what} with respect to {seed}",
        f"  at {seed} = {show(wrt._data)}, where {out_name} = {show(output._data)}.",
        f"Forward mode starts at {seed} with {start} and runs {count} "
        f"step{'s' if count != 1 else ''} with the operations, oldest first. Each "
        "step multiplies the tangent of each input by the local derivative of the operation "
        "(the chain rule) and adds the shares up: the tangent of the output, its derivative "
        f"with respect to {seed}. Inputs that do not depend on {seed} have tangent 0.",
    ]


def _footer(names, output, seed, wrt, total, reverse) -> list:
    out_name = names.user.get(edge_parts(output._edge)) or "output"
    lines = ["Result:"]
    scalar = xp.size(wrt._data) == 1 and xp.size(output._data) == 1
    if total is None:
        lines.append(f"    ∂{out_name}/∂{seed}: not computed")
        return lines
    reverse_total = reverse.leaf_totals.get(seed, (None, None))[1]
    if scalar:
        lines.append(f"    ∂{out_name}/∂{seed} = {show(total)}  (the tangent of {out_name})")
        if reverse_total is not None:
            same = "the same" if xp.allclose(reverse_total, total) else "a different"
            lines.append(
                f"Reverse mode (backward()) gives {same} ∂{out_name}/∂{seed} = "
                f"{show(reverse_total)}."
            )
        return lines
    lines.append(
        f"    the tangent of {out_name} = {show(total)}: its derivative along "
        f"{_tangent_symbol(seed)} = ones"
    )
    if reverse_total is not None:
        # <ones, J ones> two ways: the forward tangent summed, the reverse gradient summed.
        forward_sum, reverse_sum = xp.sum(total), xp.sum(reverse_total)
        same = "the same" if xp.allclose(forward_sum, reverse_sum) else "not the same"
        of = out_name if xp.size(output._data) == 1 else f"sum({out_name})"
        lines.append(
            f"Reverse mode (backward()) gives ∂{of}/∂{seed} = {show(reverse_total)}; its "
            f"entries add up to {show(reverse_sum)}, {same} as the forward tangent's "
            f"{show(forward_sum)}."
        )
    return lines


def _comparison(out_name: str, inputs: list) -> list:
    """Why training runs reverse mode: one pass per input against one pass per output."""
    count = len(inputs)
    plural = "s" if count != 1 else ""
    return [
        f"Forward mode takes one pass per input and gives the derivatives of every output with "
        f"respect to that input; reverse mode takes one pass per output and gives the "
        f"derivatives with respect to every input. Here {out_name} has {count} input{plural} "
        f"({', '.join(inputs)}): forward mode needs {count} pass{'es' if count != 1 else ''}, "
        "reverse mode 1. A loss has one output and as many inputs as the model has weights, "
        "which is why training runs backward()."
    ]
