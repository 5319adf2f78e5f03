"""A trace turned into code: one forward function and one backward function of arrays.

The forward is the traced ops in order, one line each (``s7 = f3(s1, k2)``: the op's array
function, or its node's forward on the template node ``n3``), the casts that the recorders
did written out (``a3_0 = s1.astype(k4)``); it returns the outputs' arrays and the *tape*,
the arrays the backward reads. The backward runs the recorded ops' VJPs in reverse order
(decreasing creation order, as the engine does), each on its template node with ``_saved``
set from this call's tape, and sums the gradients of a slot used more than once in the order
the engine would (so the gradients are the engine's, bit for bit); an input's gradient is
conformed to its shape and dtype by the engine's own ``conform``. Constants and callables are
closure cells of the generated functions (``compile(source, "<gradienti.compile fn>",
"exec")``).
"""

from __future__ import annotations

import threading

from ..autograd.schedule import conform, materialize
from ..backend import xp
from ..nn.module import Module
from ..size import Size
from ..tensor import Tensor
from . import breaks
from .chunks import CHUNK_LINES, chunked_source
from .inline_vjps import inline_forward, inline_vjp
from .losses import LossReplay, fresh_node
from .trace import Lift

_CONSTANT_TYPES = (type(None), bool, int, float, complex, str, Size)


class Program:
    """One compiled signature: ``forward(*arrays) -> (outputs, tape)``, ``backward(tape,
    grads) -> input gradients`` (None when no output needs a gradient), where the arrays
    come from (``input_positions``: the call's tensors; ``captured``: outside tensors),
    ``output_slots`` with ``differentiable`` flags, ``grad_sources`` (the inputs whose
    gradients backward returns: ("input", position) or ("captured", index)), the output
    structure ``layout``, the ops' names, and a lock for the shared template nodes."""

    __slots__ = (
        *("forward", "backward", "input_positions", "captured", "captured_meta"),
        *("output_differentiable", "differentiable_count", "grad_sources", "layout"),
        *("ops", "lock", "source", "node_backward", "node_class", "simple"),
    )


# The layout of a function that returns one tensor made by its ops (the common case).
SINGLE_OUTPUT = ("tensor_out", 0)


def build(trace, result) -> Program | str:
    """The program of a finished trace, or the reason (a graph break) there is none."""
    output_slots: list[int] = []
    layout = _layout(trace, result, output_slots)
    if type(layout) is str:
        return layout
    if layout == SINGLE_OUTPUT:
        layout = SINGLE_OUTPUT
    writer = _Writer(trace)
    return writer.program(output_slots, layout)


def _layout(trace, value, output_slots: list):
    """The output structure: ("tensor_out", k), ("input", position), ("object", tensor),
    ("constant", value), or a tuple/list/dict of layouts; a str: a graph break."""
    if isinstance(value, Tensor):
        slot = trace.slots.get(id(value))
        if slot is None:
            if trace.live.get(id(value)) is value:
                return ("object", value)
            return breaks.UNSEEN_OUTPUT
        source = trace.sources[slot]
        if source[0] == "input":
            return ("input", source[1])
        if source[0] == "captured":
            return ("object", value)
        if slot not in output_slots:
            output_slots.append(slot)
        return ("tensor_out", output_slots.index(slot))
    kind = type(value)
    if kind is tuple or kind is list:
        parts = []
        for item in value:
            part = _layout(trace, item, output_slots)
            if type(part) is str:
                return part
            parts.append(part)
        return (kind.__name__, tuple(parts))
    if kind is dict:
        parts = []
        for key, item in value.items():
            part = _layout(trace, item, output_slots)
            if type(part) is str:
                return part
            parts.append((key, part))
        return ("dict", tuple(parts))
    if isinstance(value, (_CONSTANT_TYPES, Module)):
        return ("constant", value)
    return (
        f"the function returns a {kind.__name__}, which gradienti.compile does not rebuild "
        f"(tensors, numbers, strings, None, and tuples, lists and dicts of them)"
    )


def rebuild(layout, tensor_outputs: list, call_tensors: list):
    """The function's result from its layout (see ``_layout``)."""
    if layout is SINGLE_OUTPUT:
        return tensor_outputs[0]
    kind = layout[0]
    if kind == "tensor_out":
        return tensor_outputs[layout[1]]
    if kind == "input":
        return call_tensors[layout[1]]
    if kind == "object" or kind == "constant":
        return layout[1]
    if kind == "dict":
        return {key: rebuild(part, tensor_outputs, call_tensors) for key, part in layout[1]}
    parts = [rebuild(part, tensor_outputs, call_tensors) for part in layout[1]]
    return tuple(parts) if kind == "tuple" else parts


class _Writer:
    """Writes a trace's forward and backward source."""

    def __init__(self, trace) -> None:
        self.trace = trace
        self.bound: dict[int, str] = {}
        self.cells: list = []  # (name, object)

    def bind(self, obj, prefix: str = "k") -> str:
        name = self.bound.get(id(obj))
        if name is None:
            name = self.bound[id(obj)] = f"{prefix}{len(self.cells)}"
            self.cells.append((name, obj))
        return name

    def program(self, output_slots: list, layout) -> Program:
        trace = self.trace

        def step_dtype(step):
            """The dtype of the step's input 0 (None: not a traced tensor)."""
            first = step.inputs[0]
            return trace.tensors[first[1]]._data.dtype if first[0] == "slot" else None

        self.step_dtype = step_dtype
        has_edge = [tensor._edge is not None for tensor in trace.tensors]
        parameters = []
        input_positions = []
        grad_sources = []
        for slot, source in enumerate(trace.sources):
            if source[0] == "input":
                parameters.append(f"s{slot}")
                input_positions.append(source[1])
        for slot, source in enumerate(trace.sources):
            if source[0] == "captured":
                parameters.append(f"s{slot}")
        for slot, source in enumerate(trace.sources):
            if source[0] != "step" and has_edge[slot]:
                grad_sources.append((slot, source))
        grad_sources.sort(key=lambda entry: (entry[1][0] != "input", entry[1][1]))

        forward_lines = []
        saved_exprs: list[tuple] = []  # per step: the tuple expression of its saved values
        tape: list[str] = []
        for index, step in enumerate(trace.steps):
            if type(step) is Lift:  # an integral input cast to float by a recorder
                dtype = self.bind(step.dtype)
                forward_lines.append(f"s{step.results[0]} = s{step.source}.astype({dtype})")
                saved_exprs.append([])
                continue
            plan = step.plan
            arguments = []
            for position, argument in enumerate(plan.arguments):
                kind = argument[0]
                if kind == "slot":
                    arguments.append(f"s{argument[1]}")
                elif kind == "constant":
                    arguments.append(self.bind(argument[1]))
                else:
                    name = f"a{index}_{position}"
                    if kind == "cast":
                        dtype = self.bind(argument[2])
                        forward_lines.append(f"{name} = s{argument[1]}.astype({dtype})")
                    else:
                        asarray = self.bind(xp.asarray)
                        forward_lines.append(f"{name} = {asarray}(s{argument[1]})")
                    arguments.append(name)
            template = self.bind(plan.template, "n")
            if type(plan) is LossReplay:  # this call's node, made from the template
                target = f"s{plan.target}"
                weight = "None" if plan.weight is None else f"s{plan.weight}"
                ignore = self.bind(plan.ignore_index)
                spatial = self.bind(plan.spatial)
                make = self.bind(fresh_node)
                forward_lines.append(
                    f"m{index} = {make}({template}, {arguments[0]}, {target}, {weight}, "
                    f"{ignore}, {spatial})"
                )
                template = f"m{index}"
            call = inline_forward(step.node, plan.calls_function, arguments, step_dtype(step))
            if call is None and plan.calls_function:
                call = f"{self.bind(step.node.function)}({', '.join(arguments)})"
            elif call is None:
                forward = self.bind(step.node.forward)
                call = f"{forward}({', '.join([template, *arguments])})"
            targets = [f"s{slot}" for slot in step.results]
            if plan.multi:
                forward_lines.append(f"{', '.join(targets)}, = {call}")
            else:
                forward_lines.append(f"{targets[0]} = {call}")
            entries = []
            for entry in plan.saved:
                if entry is None:
                    entries.append("None")
                elif entry[0] == "argument":
                    entries.append(arguments[entry[1]])
                elif entry[0] == "output":
                    entries.append(targets[entry[1]])
                else:
                    entries.append(self.bind(entry[1]))
            saved_exprs.append(entries)

        output_differentiable = tuple(has_edge[slot] for slot in output_slots)
        differentiable = [slot for slot in output_slots if has_edge[slot]]
        backward_lines = []
        if differentiable:
            backward_lines = self._backward(differentiable, saved_exprs, tape, has_edge)
            if len(grad_sources) == 1:  # bare: the engine's short path for a one-input node
                backward_lines.append(f"return g{grad_sources[0][0]}")
            else:
                backward_lines.append(
                    "return (" + "".join(f"g{slot}, " for slot, _ in grad_sources) + ")"
                )
        outputs = "(" + "".join(f"s{slot}, " for slot in output_slots) + ")"
        tape_tuple = "(" + "".join(f"{name}, " for name in tape) + ")"
        forward_lines.append(f"return {outputs}, {tape_tuple}")

        if len(forward_lines) + len(backward_lines) > 2 * CHUNK_LINES:
            text = chunked_source(self.cells, parameters, forward_lines, backward_lines)
        else:
            node_lines = _node_backward(differentiable, backward_lines, self.bind(Tensor))
            cell_names = [name for name, _ in self.cells]
            source = [f"def _make({', '.join(cell_names)}):"]
            source.append(f"    def forward({', '.join(parameters)}):")
            source.extend(f"        {line}" for line in forward_lines)
            if backward_lines:
                source.append("    def backward(tape, grads):")
                source.extend(f"        {line}" for line in backward_lines)
            else:
                source.append("    backward = None")
            source.extend(node_lines)
            source.append("    return forward, backward, node_backward")
            text = "\n".join(source) + "\n"
        namespace: dict = {}
        exec(compile(text, "<gradienti.compile fn>", "exec"), namespace)  # noqa: S102
        program = Program()
        made = namespace["_make"](*(obj for _, obj in self.cells))
        program.forward, program.backward = made[0], made[1]
        program.node_backward = made[2] if len(made) > 2 else None
        program.input_positions = tuple(input_positions)
        program.captured = tuple(trace.captured)
        program.captured_meta = tuple(_tensor_meta(tensor) for tensor in trace.captured)
        program.output_differentiable = output_differentiable
        program.differentiable_count = len(differentiable)
        program.grad_sources = tuple(source for _, source in grad_sources)
        program.layout = layout
        program.ops = tuple(step.node.name() for step in trace.steps if type(step) is not Lift)
        program.lock = threading.Lock()
        program.source = text
        return program

    def _backward(self, differentiable, saved_exprs, tape, has_edge) -> list[str]:
        """The backward's lines; fills ``tape`` with the forward names it reads."""
        trace = self.trace
        lines = []
        tape_names: dict[str, None] = {}
        grad_slots = [slot for slot, edge in enumerate(has_edge) if edge]
        for slot in grad_slots:
            if slot not in differentiable:  # (those are assigned next)
                lines.append(f"g{slot} = None")
        assigned = set(differentiable)  # slots that may hold a gradient at this point
        for index, slot in enumerate(differentiable):
            lines.append(f"g{slot} = grads[{index}]")
        body_at = len(lines)
        conform_name = self.bind(conform)
        for index in reversed(range(len(trace.steps))):
            step = trace.steps[index]
            if type(step) is Lift:
                continue
            plan = step.plan
            if not plan.recorded:
                continue
            template = self.bind(plan.template, "n")
            if type(plan) is LossReplay:  # this call's node, on the tape
                template = f"m{index}"
                tape_names[template] = None
            vjp = self.bind(type(step.node).backward)
            grads = [f"g{slot}" for slot in step.results]
            entries = saved_exprs[index]
            for entry in entries:
                if entry[0] in "as":  # a forward name (aN_M, sN), not a bound constant
                    tape_names[entry] = None
            lines.append(f"if {' is not None or '.join(grads)} is not None:")
            inline = None
            if not plan.multi and type(plan) is not LossReplay:
                dtype = self.step_dtype(step)
                inline = inline_vjp(step, entries, grads[0], dtype, self.bind)
            if inline is not None:
                self._inlined(lines, step, inline, has_edge, assigned, conform_name)
                continue
            per_call = any(entry is not None and entry[0] != "constant" for entry in plan.saved)
            if per_call:
                saved = "(" + "".join(f"{entry}, " for entry in entries) + ")"
                lines.append(f"    {template}._saved = {saved}")
            else:  # constants only: the template keeps them for every call
                plan.template._saved = tuple(None if e is None else e[1] for e in plan.saved)
            if plan.multi:
                fill = self.bind(materialize)
                lines.append(
                    f"    r = {vjp}({template}, *{fill}({template}, [{', '.join(grads)}]))"
                )
            else:
                lines.append(f"    r = {vjp}({template}, {grads[0]})")
            positions = _gradient_positions(step, has_edge)
            if positions == [0]:  # input 0's gradient alone: bare, or first of the tuple
                lines.append("    c = r[0] if type(r) is tuple else r")
            elif positions:
                lines.append("    if type(r) is not tuple:")
                lines.append("        r = (r,)")
            for position in positions:
                if position == 0:
                    if len(positions) > 1:
                        lines.append("    c = r[0]")
                else:
                    lines.append(f"    c = r[{position}] if len(r) > {position} else None")
                self._deliver(lines, step, position, assigned, conform_name)
            if per_call:
                lines.append(f"    {template}._saved = None")
        tape.extend(tape_names)
        if tape:
            lines.insert(body_at, f"{', '.join(tape)}, = tape")
        return lines

    def _inlined(self, lines, step, expressions, has_edge, assigned, conform_name) -> None:
        """A step whose VJP is written out (compiler/inline_vjps.py): no call, no _saved."""
        meta = step.plan.template._input_meta
        for position in _gradient_positions(step, has_edge):
            target = step.inputs[position][1]
            if target not in assigned and (meta is None or meta[position] is None):
                # the slot's first gradient, nothing to conform: assigned directly
                assigned.add(target)
                lines.append(f"    g{target} = {expressions[position]}")
                continue
            lines.append(f"    c = {expressions[position]}")
            self._deliver(lines, step, position, assigned, conform_name)

    def _deliver(self, lines, step, position, assigned, conform_name) -> None:
        """``c``, the gradient of the step's input ``position``, conformed as the engine does
        and added to that slot's gradient (in the engine's order)."""
        target = step.inputs[position][1]
        meta = step.plan.template._input_meta
        conform_line = None
        if meta is not None and meta[position] is not None:
            # conform's work only where the shape or dtype differs (the common case, a VJP
            # that gave the input's own shape and dtype, makes no call)
            shape, dtype = meta[position]
            conform_line = (
                f"c = {conform_name}(c, {self.bind(meta[position])}) if "
                f"c.shape != {self.bind(shape)} or c.dtype != {self.bind(dtype)} else c"
            )
        if target not in assigned:
            # The first contribution in code order: the gradient is still None.
            assigned.add(target)
            if conform_line:
                lines.append("    if c is not None:")
                lines.append(f"        {conform_line}")
            lines.append(f"    g{target} = c")
            return
        lines.append("    if c is not None:")
        if conform_line:
            lines.append(f"        {conform_line}")
        lines.append(f"        g{target} = c if g{target} is None else g{target} + c")


def _node_backward(differentiable: list, backward_lines: list, tensor_name: str) -> list[str]:
    """The source of ``node_backward(ctx, g)``: the backward as the compiled call's node's own
    VJP (one frame, no tuples in, no lock), for a call with one differentiable output whose
    backward writes no template node's ``_saved``; ``node_backward = None`` otherwise.
    Gradients that are Tensors (a ``create_graph=True`` pass) go to ``ctx.refuse``."""
    if len(differentiable) != 1 or any("._saved = " in line for line in backward_lines):
        return ["    node_backward = None"]
    grad = f"g{differentiable[0]}"
    body = [line for line in backward_lines if line != f"{grad} = grads[0]"]
    body = [line.replace(" = tape", " = ctx._saved") if line.endswith(", = tape") else line
            for line in body]  # fmt: skip
    source = [f"    def node_backward(ctx, {grad}):"]
    source.append(f"        if type({grad}) is {tensor_name}:")
    source.append(f"            return ctx.refuse(({grad},))")
    source.extend(f"        {line}" for line in body)
    return source


def _gradient_positions(step, has_edge) -> list[int]:
    """The forward inputs of ``step`` whose gradient the backward computes."""
    return [
        position
        for position, ref in enumerate(step.inputs)
        if ref[0] == "slot" and step.plan.template._next[position] is not None and has_edge[ref[1]]
    ]


def _tensor_meta(tensor) -> tuple:
    data = tensor._data
    return (data.shape, data.dtype, tensor._edge is not None, type(data))
