"""The step model of the interactive page: ``explain``'s steps, tied to make_dot's boxes.

The page (page_html.py fills the template of viz/page/) draws make_dot's SVG and replays the
pass from a JSON model, ``{version, mode, title, header, footer, arrows, nodes, steps}``
(``arrows``: ``"forward"``, or ``"gradient"`` for a make_dot(gradient_arrows=True) drawing);
``nodes`` maps each box id to ``{kind, name, value}``; each step has the box of the node it
runs (``node``), its ``title`` and ``text`` (the lines ``print(explain(y))`` prints for it),
``grad_in``, ``sends`` (``[{edge, grad}]``: the SVG's edge ids along which something leaves
it, with the value sent) and ``total`` (``{node, text}`` at a leaf, else null).

* Backward (``explain(y)``): a step's gradient leaves against the arrow, from the node's box to
  the box of each input that receives one (DOT edge ``input -> node``); the value is the
  explain step's contribution to that input. At an ``AccumulateGrad`` step, the leaf's box gets
  the total: ``60 + 8 + 4 = 72``. Step 1 also shows the start (``∂y/∂y = 1``) on the edge
  from the output's box.
* Forward (``explain(y, mode="forward")``): the operations oldest first, one pass per input; a
  step's tangent leaves with the arrows, from its box to each consumer's (``node -> consumer``);
  a pass's first step also shows the seed (ones) leaving the input's boxes.

Edge ids are the SVG's own: ``make_dot(gradient_arrows=True)`` turns every arrow around, and the
ids with them.

Boxes are found by identity: make_dot records ``id(backward node) -> box id`` in
``Graph.node_ids`` while the graph (so every node) is alive. A node that ``max_nodes`` left out
has no box: its step has ``"node": null`` and sends nothing along undrawn edges.
"""

from __future__ import annotations

import numpy as np

from ..graph.node import AccumulateGrad, edge_parts
from .explain_forward import _step_lines as forward_step_lines
from .explain_text import show, step_lines, wrap

__all__ = ["MODEL_VERSION", "backward_model", "forward_model"]

MODEL_VERSION = 1

# make_dot's box kinds and fill colours -> the model's node kinds.
_LEAF_COLOR = "lightblue"
_NAMED_COLOR = "lightyellow"


def _text(lines) -> str:
    """Lines as ``print(explain(y))`` shows them: each folded to the page width."""
    return "\n".join(wrap(line) for line in lines)


def _first_line(label: str) -> str:
    return label.split("\n", 1)[0]


def _node_kind(viz_node) -> str:
    if viz_node.kind == "tensor":
        return "named" if viz_node.fillcolor == _NAMED_COLOR else "leaf"
    return viz_node.kind  # "op", "output", "saved", "note"


class _Boxes:
    """make_dot's graph, indexed for the model: boxes by node, and the drawn edges.

    Edges are handled in the forward direction (input -> the op that used it); ``edge_id``
    spells one as the SVG has it, which ``make_dot(gradient_arrows=True)`` turned around (it
    is recognised by an arrow leaving an output's box, which the forward drawing never has).
    """

    def __init__(self, graph) -> None:
        self.graph = graph
        self.by_node = graph.node_ids
        self.kinds = {node.id: node.kind for node in graph.nodes}
        # Saved tensors' links (dotted) carry nothing and keep their direction either way.
        solid = [(edge.tail, edge.head) for edge in graph.edges if edge.style != "dotted"]
        self.turned = any(self.kinds.get(tail) == "output" for tail, _head in solid)
        forward = [(head, tail) if self.turned else (tail, head) for tail, head in solid]
        self.forward_edges = set(forward)
        # The leaf box beside each AccumulateGrad box (make_dot draws leaf -> AccumulateGrad).
        self.leaf_of = {}
        # Where an op's output goes, along the arrows: its consumers' boxes and named boxes.
        self.consumers: dict = {}
        for tail, head in forward:
            if self.kinds.get(tail) == "tensor" and self.kinds.get(head) == "op":
                self.leaf_of.setdefault(head, tail)
            self.consumers.setdefault(tail, []).append(head)

    def edge_id(self, tail, head):
        """The SVG's id of the drawn edge from ``tail`` to ``head`` (forward direction), or
        None where none is drawn."""
        if (tail, head) not in self.forward_edges:
            return None
        return f"{head}->{tail}" if self.turned else f"{tail}->{head}"

    def of(self, node):
        return self.by_node.get(id(node))

    def tensor_box(self, tensor):
        return self.graph.tensor_ids.get(id(tensor))


def node_table(graph, value_of) -> dict:
    """``{box id: {kind, name, value}}`` for every box; ``value_of(box id)`` gives the value
    text where one is known ("" where not)."""
    return {
        node.id: {
            "kind": _node_kind(node),
            "name": _first_line(node.label),
            "value": value_of(node.id),
        }
        for node in graph.nodes
        if node.kind != "legend"  # the page draws its own legend, not make_dot's box
    }


def _send(sends: list, edge_id: str, value) -> None:
    """One entry per edge; the same input used twice (``x * x``) sends along one drawn edge
    id, and the two values add up there."""
    for send in sends:
        if send["edge"] == edge_id:
            send["grad"] = f"{send['grad']} + {show(value)}"
            return
    sends.append({"edge": edge_id, "grad": show(value)})


def _leaf_total(step, leaf_totals, name) -> str:
    parts, total = leaf_totals.get(name, ([], step.grad_in))
    shown = [show(part) for part in parts]
    if len(shown) > 1:
        return f"{' + '.join(shown)} = {show(total)}"
    return show(total)


def backward_model(explanation, graph, output, title: str) -> dict:
    """The model of the backward pass ``explanation`` tells, on make_dot's ``graph``."""
    boxes = _Boxes(graph)
    total_steps = len(explanation.steps)
    out_name = explanation._out_name  # explain's name for the output, as its text uses
    steps = []
    values: dict = {}
    for step in explanation.steps:
        box = boxes.of(step.node)
        lines = step_lines(step, total_steps, out_name)
        sends: list = []
        total = None
        if step.index == 1:  # the start, ∂y/∂y (1), reaches the first node from y's box
            start_edge = boxes.edge_id(box, boxes.tensor_box(output))
            if start_edge is not None:
                _send(sends, start_edge, step.grad_in)
        if type(step.node) is AccumulateGrad:
            leaf_box = boxes.leaf_of.get(box)
            if leaf_box is not None:
                name = explanation.names.display[step.node].text
                total = {"node": leaf_box, "text": _leaf_total(step, explanation.leaf_totals, name)}
        else:
            for contribution in step.contributions:
                child_box = None if contribution.node is None else boxes.of(contribution.node)
                edge_id = boxes.edge_id(child_box, box)
                if edge_id is None:
                    continue  # a constant, or an input max_nodes left undrawn
                _send(sends, edge_id, contribution.value)
        if box is not None and step.value is not None:
            values[box] = show(step.value)
        steps.append(
            {
                "node": box,
                "title": wrap(lines[0]),
                "text": _text(lines),
                "grad_in": show(step.grad_in),
                "sends": sends,
                "total": total,
            }
        )
    return {
        "version": MODEL_VERSION,
        "mode": "backward",
        "title": title,
        "header": _text(explanation._header),
        "footer": _text(explanation._footer),
        "arrows": "gradient" if boxes.turned else "forward",
        "nodes": node_table(graph, _value_texts(graph, values, output)),
        "steps": steps,
    }


def forward_model(explanation, graph, output, page_title: str, seeds=None) -> dict:
    """The model of forward mode (``explain(y, mode="forward")``): its passes one after the
    other, each step sending the tangent of its output along the arrows to its consumers.
    ``seeds`` (``{input name: its AccumulateGrad node}``): the first step of each pass also
    shows the seed ``ẋ = 1`` leaving the input's boxes."""
    boxes = _Boxes(graph)
    steps = []
    values: dict = {}
    passes = explanation.passes
    for number, forward_pass in enumerate(passes, start=1):
        count = len(forward_pass.steps)
        seed = (seeds or {}).get(forward_pass.input)
        for position, step in enumerate(forward_pass.steps):
            box = boxes.of(step.node)
            lines = forward_step_lines(step, count, forward_pass.input)
            text = _text(lines)
            # Each pass's own header and result, where explain prints them: the page's header
            # is the first pass's, its footer the last pass's.
            if number > 1 and position == 0:
                text = f"{_text(forward_pass.lines[: _header_end(forward_pass.lines)])}\n\n{text}"
            if number < len(passes) and position == count - 1:
                result = forward_pass.lines[_footer_start(forward_pass.lines) :]
                text = f"{text}\n\n{_text(result)}"
            sends = _seed_sends(boxes, seed) if step is forward_pass.steps[0] else []
            if box is not None and step.tangent is not None:
                for head in boxes.consumers.get(box, ()):
                    _send(sends, boxes.edge_id(box, head), step.tangent)
            if box is not None and step.value is not None:
                values[box] = show(step.value)
            step_title = wrap(lines[0])
            if len(passes) > 1:
                step_title = (
                    f"Pass {number} of {len(passes)} (d/d{forward_pass.input}) · {step_title}"
                )
            steps.append(
                {
                    "node": box,
                    "title": step_title,
                    "text": text,
                    "grad_in": "",
                    "sends": sends,
                    "total": None,
                }
            )
    first, last = passes[0].lines, explanation.lines
    header_end = _header_end(first)
    footer_start = _footer_start(passes[-1].lines)
    footer = passes[-1].lines[footer_start:] + [""] + last[len(last) - 1 :]
    return {
        "version": MODEL_VERSION,
        "mode": "forward",
        "title": page_title,
        "header": _text(first[:header_end]),
        "footer": _text(footer),
        "arrows": "gradient" if boxes.turned else "forward",
        "nodes": node_table(graph, _value_texts(graph, values, output)),
        "steps": steps,
    }


def _seed_sends(boxes, seed) -> list:
    """The seed tangent (ones shaped like the input) on the input's own edges: from its leaf
    box to its AccumulateGrad box, and on to every operation that uses it."""
    acc_box = None if seed is None else boxes.of(seed)
    if acc_box is None or seed.variable is None:
        return []
    ones = np.ones_like(np.asarray(seed.variable._data))
    sends: list = []
    leaf_box = boxes.leaf_of.get(acc_box)
    if leaf_box is not None:
        _send(sends, boxes.edge_id(leaf_box, acc_box), ones)
    for head in boxes.consumers.get(acc_box, ()):
        _send(sends, boxes.edge_id(acc_box, head), ones)
    return sends


def _header_end(lines: list) -> int:
    """Where a forward pass's header (the lines before its first step) ends."""
    return lines.index("") if "" in lines else len(lines)


def _footer_start(lines: list) -> int:
    """Where a forward pass's footer ("Result:" and what follows) starts in its lines."""
    for position in range(len(lines) - 1, -1, -1):
        if lines[position] == "Result:":
            return position
    return len(lines)


def _value_texts(graph, op_values: dict, output):
    """The value text of each box: an op's forward value (explain knows it), a tensor box's
    own data (the outputs, the named tensors, the leaves)."""
    tensors = {}
    for tensor in (output, *graph.outputs, *graph.names.values(), *_leaves(output)):
        tensors.setdefault(id(tensor), tensor)
    by_box = dict(op_values)
    for tensor_key, box_id in graph.tensor_ids.items():
        tensor = tensors.get(tensor_key)
        if tensor is not None:
            by_box[box_id] = show(tensor._data)
    return lambda box_id: by_box.get(box_id, "")


def _leaves(output) -> list:
    """The leaf tensors below ``output`` (what its AccumulateGrad nodes hold), one walk."""
    root = output.grad_fn
    if root is None:
        return []
    seen = {id(root)}
    stack = [root]
    leaves = []
    while stack:
        node = stack.pop()
        if type(node) is AccumulateGrad:
            if node.variable is not None:
                leaves.append(node.variable)
            continue
        for edge in node._next:
            child = None if edge is None else edge_parts(edge)[0]
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return leaves
