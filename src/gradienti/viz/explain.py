"""``explain(y)``: the backward pass told step by step, for learners.

The explanation is the engine's own pass: its reference loop (``autograd.schedule``) runs, and
an observer records each node as it is reached: the same nodes in the same order (decreasing
creation order, starting at ``y.grad_fn``), the same vector-Jacobian products run on the same
raw arrays, and gradients summed in the order they arrive. It writes nothing: no ``.grad``
changes, no hook runs, and the graph is not consumed (``backward()`` still works afterwards).
Once ``backward()`` has freed the graph's saved values, only the structure can be told.

For each node a step records the operation in words, its formula, the local derivative with
respect to each input (a formula, the formula at this point, and its value), the gradient that
came in, and what goes to each input; at a leaf, how the contributions add up::

    Step 9 of 9 · AccumulateGrad · leaf x = 2
        gradients in: 60 from x³ (step 8), 8 from x² (step 6), 4 from 4·x (step 3)
        sum:          60 + 8 + 4 = 72

``Explanation.node_notes`` maps each node object (a plain dict, by identity) to a few short lines
("grad in: 5", "∂/∂x: 3·x² = 12", "out: 60") that a picture can print under the node's name.

The formulas per node type are in :mod:`gradienti.viz.explain_rules`, the text in
:mod:`gradienti.viz.explain_text`, and the forward values the graph holds or can replay in
:mod:`gradienti.viz.explain_values`; this module is the public API and the records of the walk.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from ..autograd import engine as _engine
from ..autograd.schedule import nodes_leading_to, run_backward
from ..backend import xp
from ..graph.node import AccumulateGrad, edge_parts
from ..ops.elementwise import MulBackward0
from ..tensor import Tensor
from .explain_forward import explain_forward
from .explain_rules import (
    ATOM,
    SUBSCRIPTS,
    Expr,
    format_formula,
    rule_for,
    slot_names,
    snake,
    value_expr,
)
from .explain_text import (
    ShownAsText,
    footer_lines,
    header_lines,
    node_note,
    pass_text,
    show,
    show_uniform,
    step_lines,
)
from .explain_values import known_values, replay, saved_input

__all__ = ["Contribution", "Derivative", "Explanation", "Step", "explain"]

# The name of an optional input that was not given (a None edge the op's formula does not use).
ABSENT = "none"

# Expressions longer than this are replaced by a short name made from the op ("mul₃").
EXPRESSION_MAX = 40

FREED_MESSAGE = (
    "The saved values of this graph were freed by an earlier backward(), so only its structure "
    "is shown: call explain before backward(), or use retain_graph=True."
)


# ---------------------------------------------------------------------- records
@dataclass
class Derivative:
    """The local derivative of a node's output with respect to one input."""

    input: str  # the input's name ("x", "x³", "5")
    formula: str  # in the generic symbols of the rule ("3·x²", "b"); "" when there is no rule
    text: str  # the formula, at this point, and its value: "3·x² = 3·2² = 12"
    value: object = None  # the local derivative (a NumPy scalar or array), None if unknown
    symbol: str = ""  # what it is the derivative by: "a", "b", or the input's name ("x")
    instantiated: str = ""  # the formula in the inputs' names ("3·x²"; "5" for ∂(5·x³)/∂x³)


@dataclass
class Contribution:
    """What a node passes to one input: ``value = incoming gradient × local derivative``."""

    input: str  # the input's name
    node: object  # the input's node (an AccumulateGrad for a leaf), None for a constant
    value: object = None  # the gradient passed on (None: a constant, freed, or no gradient)
    text: str = ""  # "5 × 12 = 60"
    note: str = ""  # e.g. how broadcasting was undone


@dataclass
class Step:
    """One node of the backward pass, in the engine's order (``index`` counts from 1)."""

    index: int
    node: object
    name: str  # the node's class name: "PowBackward0", "AccumulateGrad"
    operation: str  # in words: "power with exponent 3"
    formula: str  # generic: "x³", "a·b", "a + b"
    expression: str  # this node's output in terms of its inputs: "5·x³"
    inputs: list = field(default_factory=list)  # the inputs' names
    grad_in: object = None  # the incoming gradient (the sum of grad_in_parts); None if unknown
    # (step index of the consumer or None for the start, the consumer's name, value) in the
    # order of the forward computation
    grad_in_parts: list = field(default_factory=list)
    derivatives: list = field(default_factory=list)  # a Derivative per input
    contributions: list = field(default_factory=list)  # a Contribution per input
    notes: list = field(default_factory=list)
    value: object = None  # the forward value of this node's output, where it is known
    bindings: str = ""  # for several inputs, which is which: "a = x³, b = 5 (a constant)"
    missing: str = ""  # why there are no values: "values freed", "not computed"; "" if there are

    @property
    def local_formulas(self) -> list:
        """The rule's local derivatives in its generic symbols, one per input."""
        return [derivative.formula for derivative in self.derivatives]


class Explanation(ShownAsText):
    """What ``explain`` returns. ``str()`` is the whole text; the parts are there as data:

    ``steps`` (a ``Step`` per node, in the engine's order), ``leaf_totals`` (``{name:
    (contributions, total)}`` for each leaf reached, and each tensor of ``inputs``; the
    contributions in the order of the forward computation), ``node_notes`` (``{node: "short\\n
    lines"}`` for drawing into the picture), ``freed`` (whether the values were gone).
    """

    def __init__(self, steps, leaf_totals, node_notes, header, footer, freed, max_steps, out_name):
        self.steps = steps
        self._out_name = out_name
        self.leaf_totals = leaf_totals
        self.node_notes = node_notes
        self.freed = freed
        self._header = header
        self._footer = footer
        self._max_steps = max_steps
        self._lines = None

    @property
    def lines(self) -> list:
        """The text's lines, before they are folded to the page width (made when first shown)."""
        if self._lines is None:
            self._lines = self._render()
        return self._lines

    def _render(self) -> list:
        lines = list(self._header)
        shown = self.steps if self._max_steps is None else self.steps[: self._max_steps]
        total = len(self.steps)
        for step in shown:
            lines.append("")
            lines.extend(step_lines(step, total, self._out_name))
        if len(shown) < total:
            lines.append("")
            lines.append(f"... {total - len(shown)} more steps not shown (max_steps={len(shown)})")
        lines.append("")
        lines.extend(self._footer)
        return lines

    def to_graph_notes(self) -> dict:
        """``node_notes``: per node object, short lines to draw under the node's name."""
        return dict(self.node_notes)


# ---------------------------------------------------------------------- names
class _Names:
    """Every node's output gets a name: the user's, else its expression, else a short one."""

    def __init__(self, nodes_ascending, names, output, known):
        self.user = {}
        for key, value in _name_items(names):
            if isinstance(value, Tensor) and value._edge is not None and not key.startswith("_"):
                node, output_nr = edge_parts(value._edge)
                self.user.setdefault((node, output_nr), key)
        used = set(self.user.values())
        self.display: dict = {}  # node -> Expr that consumers use
        self.expression: dict = {}  # node -> its output in terms of its inputs' names
        self.rules: dict = {}
        self.input_exprs: dict = {}  # node -> [Expr per input]
        self.constants: dict = {}  # node -> {position: value or None}
        counters: dict = {}
        leaf_number = 0
        root = edge_parts(output._edge)[0]
        for node in nodes_ascending:
            if type(node) is AccumulateGrad:
                name = self.user.get((node, 0))
                if name is None:
                    while f"x{leaf_number}" in used:
                        leaf_number += 1
                    name = f"x{leaf_number}"
                    used.add(name)
                    leaf_number += 1
                self.display[node] = Expr(name)
                self.expression[node] = name
                continue
            rule = rule_for(node)
            self.rules[node] = rule
            slots = slot_names(len(node._next))
            exprs = []
            constants = {}
            for position, edge in enumerate(node._next):
                if edge is None:
                    constants[position] = saved_input(node, position)
            replay(node, constants, known)
            for position, edge in enumerate(node._next):
                if edge is None:
                    expr = value_expr(constants[position])
                    if expr is None and "{" + slots[position] not in rule.form:
                        expr = Expr(ABSENT)  # an optional input not given (conv's bias)
                    exprs.append(expr if expr is not None else Expr("c"))
                else:
                    exprs.append(self.of_edge(edge))
            self.input_exprs[node] = exprs
            self.constants[node] = constants
            form = rule.form
            if rule.constant_first and len(exprs) == 2 and 1 in constants and 0 not in constants:
                form = "{b:6}·{a:8}"
            try:
                text = format_formula(form, **dict(zip(slots, exprs)))
            except (KeyError, IndexError, ValueError):
                text = f"{snake(type(node).__name__)}(…)"
            self.expression[node] = text
            user_name = self.user.get((node, 0)) if node.num_outputs == 1 else None
            if user_name is not None:
                self.display[node] = Expr(user_name)
            elif (len(text) > EXPRESSION_MAX and node is not root) or node.num_outputs != 1:
                op = snake(type(node).__name__)
                counters[op] = counters.get(op, 0) + 1
                self.display[node] = Expr(op + str(counters[op]).translate(SUBSCRIPTS))
            else:
                self.display[node] = Expr(text, rule.prec)

    def of_edge(self, edge) -> Expr:
        node, output_nr = edge_parts(edge)
        if node.num_outputs == 1:
            return self.display[node]
        user_name = self.user.get((node, output_nr))
        if user_name is not None:
            return Expr(user_name)
        return Expr(f"{self.display[node].text}[{output_nr}]")

    def header(self, node) -> str:
        shown = self.display[node].text
        expression = self.expression[node]
        return shown if shown == expression else f"{shown} = {expression}"


def _name_items(names):
    if names is None:
        return []
    if hasattr(names, "items"):
        return list(names.items())
    return list(names)


# ---------------------------------------------------------------------- the walk
def _reachable(root) -> list:
    """Every node below ``root``, in the engine's order (decreasing creation order)."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        for edge in node._next:
            if edge is None:
                continue
            child = edge_parts(edge)[0]
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=lambda node: -node._seq)


def explain(
    output, inputs=None, gradient=None, *, names=None, max_steps=None, mode="reverse"
) -> Explanation:
    """Tell the backward pass of ``output`` step by step, without running it.

    ``inputs``: only the nodes that lead to these tensors (as ``autograd.grad``); ``gradient``:
    the starting gradient (default 1, or ones for a non-scalar output); ``names``: a mapping
    such as ``locals()`` naming the tensors (leaves not named are x0, x1, ...); ``max_steps``:
    how many steps the text shows (all are computed). Changes no ``.grad``; the graph stays.
    ``mode="forward"`` tells forward-mode AD instead: one forward pass per tensor of ``inputs``
    (default: every leaf), carrying tangents oldest operation first (viz/explain_forward.py;
    ``max_steps`` then counts the steps each pass shows).
    """
    if mode == "forward":
        reverse = explain(output, gradient=gradient, names=names, max_steps=max_steps)
        return explain_forward(reverse, output, _forward_inputs(inputs, reverse), max_steps)
    if mode != "reverse":
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    if not isinstance(output, Tensor):
        raise TypeError(f"explain() expects a Tensor, got {type(output).__name__}")
    if output._edge is None:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if max_steps is not None and max_steps < 0:
        raise ValueError("max_steps must be None or a non-negative integer")
    root = edge_parts(output._edge)[0]
    nodes = _reachable(root)
    known = known_values(nodes, output)
    names_ = _Names(list(reversed(nodes)), names, output, known)
    targets, leading = _targets(inputs, root)
    if targets is not None:  # only the nodes that lead to an input receive a gradient
        nodes = [node for node in nodes if node in leading or node in targets or node is root]

    if gradient is None:
        start = _engine._ones_like(output._data)
        start_note = "default"
    else:
        start = _engine._roots((output,), (gradient,), False)[0][1]
        start_note = "given"
    freed = any(type(node) is not AccumulateGrad and node._saved is None for node in nodes)
    reason = FREED_MESSAGE if freed else None
    steps = None
    if not freed:
        try:
            steps = _walk(nodes, output._edge, start, names_, known, targets, leading, True)
        except RuntimeError as error:
            reason = f"backward() would fail on this graph: {error} So only its structure is shown."
    if steps is None:
        steps = _walk(nodes, output._edge, start, names_, known, targets, leading, False)
        for step in steps:
            step.missing = "values freed" if freed else "not computed"
    totals = _totals(steps, targets, names_)
    header = header_lines(output, names_, root, steps, start, start_note, reason)
    footer = footer_lines(totals, names_, output, "values freed" if freed else "not computed")
    notes = {step.node: node_note(step) for step in steps}
    out_name = names_.user.get(edge_parts(output._edge)) or "output"
    explanation = Explanation(
        steps, totals, notes, header, footer, reason is not None, max_steps, out_name
    )
    names_.known = known
    explanation.names = names_  # (the forward-mode explanation tells the graph in its names)
    return explanation


def _forward_inputs(inputs, reverse) -> list:
    """The tensors a forward-mode explanation seeds, one pass each: ``inputs``, else the
    leaves that require grad, in the order they were created."""
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        for tensor in inputs:
            node = edge_parts(tensor._edge)[0] if isinstance(tensor, Tensor) else None
            if node is None or node not in reverse.names.display:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
        return inputs
    leaves = sorted(
        (step.node for step in reverse.steps if type(step.node) is AccumulateGrad),
        key=lambda node: node._seq,
    )
    return [node.variable for node in leaves if node.variable is not None]


def _targets(inputs, root):
    """``{node: tensor}`` for ``inputs``, and the nodes that lead to one of them."""
    if inputs is None:
        return None, None
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `explain()` cannot be empty.")
    targets = {}
    for tensor in inputs:
        if tensor._edge is None:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        node, _output_nr = edge_parts(tensor._edge)
        targets[node] = tensor
    return targets, nodes_leading_to([root], targets.keys())


def _walk(nodes, root_edge, start, names, known, targets, leading, with_values) -> list:
    """The steps, in the engine's order. ``with_values``: the engine's reference loop runs the
    pass (changing nothing: no hook, no ``.grad``, the graph kept) and each node it reaches is
    recorded as it goes; else each node of ``nodes``, those the pass reaches, is told from the
    graph's structure alone."""
    root, root_nr = edge_parts(root_edge)
    # node -> [(consumer step or None, consumer node or None, output_nr, value)], arrival order
    incoming: dict = {root: [(None, None, root_nr, start if with_values else None)]}
    steps = []

    def record(node, grads, computed, passed) -> None:
        step = _new_step(len(steps) + 1, node, names, incoming.pop(node), grads)
        step.value = known.get((node, 0)) if node.num_outputs == 1 else None
        steps.append(step)
        if type(node) is AccumulateGrad:
            return
        if targets is not None and node in targets and node not in leading:
            step.notes.append("one of the inputs asked for: its gradient is captured here")
            return
        computed, passed = _shares(node, computed), _shares(node, passed)
        _run_node(step, node, names, known, computed, passed)
        for position, contribution in enumerate(step.contributions):
            edge = node._next[position]
            if edge is None or (with_values and contribution.value is None):
                continue
            child, output_nr = edge_parts(edge)
            incoming.setdefault(child, []).append((step, node, output_nr, contribution.value))

    if with_values:
        edges = None if targets is None else [tensor._edge for tensor in targets.values()]
        run_backward([(root_edge, start)], True, False, edges, False, False, observe=record)
    else:
        for node in nodes:
            record(node, None, None, None)
    return steps


def _new_step(index, node, names, parts, grad_in) -> Step:
    is_leaf = type(node) is AccumulateGrad
    rule = None if is_leaf else names.rules[node]
    ordered = sorted(parts, key=lambda part: -1 if part[1] is None else part[1]._seq)
    grad_parts = [
        (
            None if consumer_step is None else consumer_step.index,
            "" if consumer is None else names.display[consumer].text,
            value,
        )
        for consumer_step, consumer, _nr, value in ordered
    ]
    if is_leaf:
        name = names.display[node].text
        return Step(
            index,
            node,
            type(node).__name__,
            f"accumulation into {name}.grad",
            "x.grad += gradient",
            name,
            [],
            grad_in,
            grad_parts,
        )
    slots = slot_names(len(node._next))
    generic = {slot: Expr(slot) for slot in slots}
    try:
        formula = format_formula(rule.form, **generic)
    except (KeyError, IndexError, ValueError):
        formula = rule.form
    bindings = ""
    if len(slots) > 1:
        bindings = ", ".join(
            f"{slot} = {expr.text}{' (a constant)' if edge is None else ''}"
            for slot, expr, edge in zip(slots, names.input_exprs[node], node._next)
            if expr.text != ABSENT
        )
    step = Step(
        index,
        node,
        type(node).__name__,
        rule.words,
        formula,
        names.header(node),
        [expr.text for expr in names.input_exprs[node]],
        grad_in,
        grad_parts,
    )
    step.bindings = bindings
    return step


def _local_derivatives(node, grad_in):
    """An elementwise op's VJP of a gradient of ones is its local derivative (one per input)."""
    try:
        results = node.backward(node, _engine._ones_like(xp.asarray(grad_in)))
    except Exception:  # noqa: BLE001 - the local value is a nicety; the pass is not
        return None
    return _shares(node, results) if type(results) is tuple else (results,)


def _shares(node, results):
    """``x * x``'s VJP delivers 2gx once (``MulBackward0``'s one pass); explain tells PyTorch's
    two shares, gx to each operand (halving 2gx is exact). The leaf's total stays the engine's."""
    if (
        type(node) is MulBackward0
        and type(results) is tuple
        and len(results) == 2
        and results[1] is None
        and results[0] is not None
        and node._next[0] is node._next[1]
    ):
        half = results[0] / 2
        return (half, half)
    return results


def _run_node(step, node, names, known, computed, passed) -> None:
    """Fill in the derivatives and contributions of an op's step, from what the engine's
    pass ``computed`` (the VJP's results) and ``passed`` on (conformed to the inputs); both
    None when only the structure is told."""
    rule = names.rules[node]
    slots = slot_names(len(node._next))
    exprs = names.input_exprs[node]
    generic = {slot: Expr(slot) for slot in slots}
    instance = dict(zip(slots, exprs))
    with_values = computed is not None
    unit = None
    if with_values and rule.local and node.num_outputs == 1:
        unit = _local_derivatives(node, step.grad_in)
    values = {}  # the inputs' values where they are single numbers, to put into the formulas
    for position, slot in enumerate(slots):
        edge = node._next[position]
        if edge is None:
            values[slot] = value_expr(names.constants[node].get(position))
        else:
            values[slot] = value_expr(known.get(edge_parts(edge)))
    meta = node._input_meta
    for position, slot in enumerate(slots):
        edge = node._next[position]
        input_name = exprs[position].text
        if rule.local:
            local_value = None
            if unit is not None and position < len(unit):
                local_value = unit[position]
            derivative = _derivative(
                rule.local[position], generic, instance, values, local_value, len(slots)
            )
        else:
            derivative = Derivative(input_name, "", rule.passes[position])
        derivative.input = input_name
        if len(slots) > 1:
            derivative.symbol = slot
        else:
            expr = exprs[position]
            derivative.symbol = expr.text if expr.prec == ATOM else f"({expr.text})"
        step.derivatives.append(derivative)
        if edge is None:
            step.contributions.append(
                Contribution(input_name, None, None, "a constant: it needs no gradient")
            )
            continue
        child = edge_parts(edge)[0]
        if not with_values:
            text = step.derivatives[-1].text if rule.local else rule.passes[position]
            step.contributions.append(Contribution(input_name, child, None, text))
            continue
        value = computed[position] if position < len(computed) else None
        if value is None:
            step.contributions.append(Contribution(input_name, child, None, "no gradient"))
            continue
        entry = meta[position] if meta is not None else None
        note = ""
        if entry is not None and tuple(xp.shape(value)) != tuple(entry[0]):
            note = (
                f"summed over the broadcast dimensions {tuple(xp.shape(value))} -> "
                f"{tuple(entry[0])}"
            )
        text = pass_text(step.grad_in, step.derivatives[-1], rule, position, value)
        if note:
            text = f"{text}; {note}: {show(passed[position])}"
        step.contributions.append(Contribution(input_name, child, passed[position], text, note))


def _derivative(template, generic, instance, values, local_value, arity) -> Derivative:
    formula = _safe_format(template, generic)
    instantiated = _safe_format(template, instance)
    substituted = None
    numeric = None if local_value is None else show_uniform(local_value)
    needed = {name for _t, name, _s, _c in string.Formatter().parse(template) if name}
    conditional = " if " in template or "where" in template
    if (
        numeric is not None
        and not conditional
        and needed
        and all(values.get(name) is not None for name in needed)
    ):
        substituted = _safe_format(template, values)
    chain = [formula if arity > 1 else None, instantiated, substituted, numeric]
    return Derivative("", formula, _chain(chain), local_value, instantiated=instantiated)


def _safe_format(template, slots):
    try:
        return format_formula(template, **slots)
    except (KeyError, IndexError, ValueError):
        return template


def _chain(parts) -> str:
    out = []
    for part in parts:
        if part is not None and (not out or out[-1] != part):
            out.append(part)
    return " = ".join(out)


def _totals(steps, targets, names) -> dict:
    totals = {}
    for step in steps:
        is_leaf = type(step.node) is AccumulateGrad
        if is_leaf or (targets is not None and step.node in targets):
            name = names.display[step.node].text
            totals[name] = ([part[2] for part in step.grad_in_parts], step.grad_in)
    return totals
