"""``make_dot``: the picture of a tensor's graph, in torchviz's look, and the ``Dot`` that draws it.

``make_dot(y)`` walks the graph backwards from ``y`` (``grad_fn`` and ``next_functions``) and
builds a ``Graph`` (graph.py): one grey box per backward node, named by its class
(``MulBackward0``), ``AccumulateGrad`` included; a light blue box per leaf, with its name and
shape; a green box per output; orange boxes for saved tensors. Arrows run from a node's input
to the node that consumes it, so the leaves are at the top and the output at the bottom, as
torchviz draws it.

Where it differs from torchviz (on purpose, but for the view of an output):

* the walk is breadth-first with an explicit queue, so a graph of any depth draws (no
  RecursionError), and ``max_nodes`` keeps the part nearest the outputs;
* node ids are ``n0, n1, ...`` in walk order, never ``id()``: the same graph gives the same text;
* it never raises after ``backward()``: saved values that backward freed are simply not drawn;
* values and gradients can be written into the tensor boxes (``show_values``, ``show_grads``),
  and tensors can be named from any dict (``names=locals()``), intermediate ones included;
* with ``show_values`` each operation's box also says what it computed, in ``explain``'s names
  (``PowBackward0`` / ``x³ = 8``: dot_values.py), and the output is named (``y``, or
  ``output_name``); ``gradient_arrows=True`` turns the arrows the way gradients flow; a legend
  says which way they point whenever one of these is used (never for torchviz's own arguments,
  which give torchviz's DOT);
* labels are written with DOT escapes (``\\n``), so every statement is one line;
* an output that is a view is drawn alone: torchviz also draws the tensor it views (dark green,
  a dotted arrow), and gradienti's tensors do not record the tensor they view;
* links to saved values are dotted (torchviz's are plain lines; neither has an arrowhead), and
  ``show_attrs``/``show_saved`` name what gradienti's nodes keep, which is not always what
  PyTorch's keep (``input_shape`` where PyTorch has ``self_sym_sizes``);
* there is no ``make_dot_from_trace``: it draws a ``torch.jit`` trace and gradienti has no JIT
  tracer (``gradienti.viz.make_dot_from_trace`` raises ``NotImplementedError`` saying so).

``Dot`` (dotfile.py) holds the ``Graph`` and behaves like the ``graphviz.Digraph`` torchviz
returns (``body``, ``node_attr``, ``attr``, ``format``, ``render``, ``view``...); its ``source``
starts as the DOT text of the graph (dot_source.py; the boxes' text: dot_labels.py), and
``render``/``pipe`` draw it with the first renderer available (render.py): ``graphviz-pure``,
Graphviz's ``dot``, or the built-in SVG layout.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Mapping

import numpy as np

from ..autograd.custom_function import FunctionCtx, _SavedOutput
from ..graph.node import SAVE_INPUTS, SAVE_OUTPUT, AccumulateGrad, edge_parts
from ..tensor import Tensor
from .dot_labels import attribute_text, expression_text, shape_text, value_text, with_attributes
from .dot_source import NODE_ATTRIBUTES as NODE_ATTRIBUTES
from .dot_source import OP_COLOR, to_dot
from .dot_source import quote as quote
from .dot_values import ForwardFacts, forward_facts
from .dotfile import Dot
from .explain import explain
from .graph import Graph, VizEdge, VizNode

__all__ = ["Dot", "make_dot", "to_dot"]  # Dot: dotfile.py, to_dot: dot_source.py

_value_text = value_text  # the name it had here (dot_labels.py), which tests import

# torchviz's other colours (OP_COLOR, Graphviz's default grey, is in dot_source.py).
LEAF_COLOR = "lightblue"
OUTPUT_COLOR = "darkolivegreen1"
SAVED_COLOR = "orange"
NAMED_COLOR = "lightyellow"  # an intermediate tensor named through ``names=`` (not in torchviz)
NOTE_COLOR = "white"

# The legend's id (not an ``n<k>``: it is no node of the autograd graph) and its words.
LEGEND_ID = "legend"
FORWARD_LEGEND = "arrows: the forward computation,\ninputs to outputs"
GRADIENT_LEGEND = "arrows: the way gradients flow,\nfrom {output} back to the leaves"
FREED_LEGEND = "backward() freed some values:\nthose are not shown"

# The output's name in the picture when nothing else names it (torchviz leaves it unnamed).
DEFAULT_OUTPUT_NAME = "y"

RANKDIRS = ("TB", "LR", "BT", "RL")

# Attributes of a node class that are bookkeeping, not parameters of the op.
_INTERNAL_ATTRIBUTES = frozenset(
    {"num_outputs", "output_meta", "materialize_grads", "needs_input_grad"}
)


# ----------------------------------------------------------------------------- make_dot


def make_dot(
    var,
    params=None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
    *,
    show_values: bool = False,
    show_grads: bool = False,
    names=None,
    rankdir: str = "TB",
    max_nodes: int | None = None,
    explanation=None,
    output_name: str | None = None,
    gradient_arrows: bool = False,
    legend: bool | None = None,
) -> Dot:
    """The graph that computed ``var`` as a ``Dot`` (DOT text, svg/png/pdf, Jupyter display).

    Args:
        var: a tensor, or a tuple/list of tensors (several outputs, drawn in one picture).
        params: names for tensors, as ``dict(model.named_parameters())`` (any mapping of name to
            tensor, or an iterable of ``(name, tensor)`` pairs).
        show_attrs: write each node's parameters (``exponent``, ``dims``...) and what it saved
            under its name, as torchviz does; each value cut to ``max_attr_chars`` characters.
        show_saved: draw the values each node saved for backward (orange). After
            ``backward()`` they are freed, and then not drawn.
        max_attr_chars: see ``show_attrs``.
        show_values: write each tensor's value in its box (a summary -- shape, mean, min,
            max -- when it has more than 8 elements).
        show_grads: write ``.grad`` in the box of each leaf (and of a non-leaf tensor that
            retains its gradient).
        names: more names, e.g. ``names=locals()``: every tensor in it that is in the graph gets
            its name, intermediate ones as boxes of their own (names starting with ``_`` are
            skipped). ``params`` wins where both name a tensor.
        rankdir: ``"TB"`` (top to bottom, the default), ``"LR"``, ``"BT"`` or ``"RL"``.
        max_nodes: draw at most this many backward nodes, the ones nearest the outputs, and a
            note saying how many were left out.
        explanation: draw the step-by-step account of backward into the picture: ``True``
            computes ``gradienti.explain(var)``, or pass an ``Explanation`` already made; each
            operation's box then shows the gradient in, the local derivative and what it passes.
        output_name: the name written in the output's box when neither ``params`` nor ``names``
            names it (torchviz leaves it unnamed). With ``show_values``, ``gradient_arrows`` or
            this option the output is named, ``"y"`` by default (``"y0"``, ``"y1"``... for
            several outputs).
        gradient_arrows: draw every arrow the way gradients flow in ``backward()``, from the
            output back to the leaves (the default draws the forward computation, as torchviz).
        legend: a box saying which way the arrows point. ``None`` (the default): drawn when
            ``show_values``, ``output_name`` or ``gradient_arrows`` is used, never for
            torchviz's own arguments, so that torchviz's calls give torchviz's DOT.

    With ``show_values`` each operation's box also shows the expression its output stands for,
    in ``explain``'s names, and that output's value: ``PowBackward0`` / ``x³ = 8``; leaves that
    nothing names get ``explain``'s names (``x0``, ``x1``...). A value is shown where the graph
    holds it (leaves, outputs, what nodes saved) or can replay it from those (most ops); one it
    cannot know (freed by ``backward()``, the output of a custom Function that saved nothing)
    is not shown.

    ``.render()`` and Jupyter use ``graphviz-pure`` (``pip install 'gradienti[viz]'``), else a
    Graphviz ``dot`` on PATH, else the built-in SVG layout; set the environment variable
    ``GRADIENTI_VIZ_RENDERER`` to ``builtin``, ``dot`` or ``graphviz-pure`` to choose one.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    if max_nodes is not None:
        max_nodes = operator.index(max_nodes)
        if max_nodes < 0:
            raise ValueError(f"max_nodes must be at least 0, not {max_nodes}")
    if output_name is not None and not isinstance(output_name, str):
        raise TypeError(
            f"make_dot's output_name must be a string or None, not {type(output_name).__name__}"
        )
    if legend is not None and not isinstance(legend, bool):
        raise TypeError(f"make_dot's legend must be True, False or None, not {legend!r}")
    annotated = bool(show_values) or bool(gradient_arrows) or output_name is not None
    builder = _GraphBuilder(
        show_attrs=bool(show_attrs),
        show_saved=bool(show_saved),
        max_attr_chars=int(max_attr_chars),
        show_values=bool(show_values),
        show_grads=bool(show_grads),
        rankdir=rankdir,
        max_nodes=max_nodes,
    )
    builder.gradient_arrows = bool(gradient_arrows)
    builder.legend = annotated if legend is None else legend
    if annotated:
        builder.output_name = DEFAULT_OUTPUT_NAME if output_name is None else output_name
    builder.add_names(_named_pairs(params, "params"), skip_private=False)
    builder.add_names(_named_pairs(names, "names"), skip_private=True)
    if explanation is True:
        named = {**dict(_named_pairs(names, "names")), **dict(_named_pairs(params, "params"))}
        explanation = explain(_outputs(var)[0], names=named or None)
    if explanation is not None:
        builder.notes = explanation.node_notes
    if show_values:
        named = {**dict(_named_pairs(names, "names")), **dict(_named_pairs(params, "params"))}
        builder.facts = forward_facts(_outputs(var), named)
    graph = builder.build(_outputs(var))
    for name, value in [*_named_pairs(params, "params"), *_named_pairs(names, "names")]:
        if isinstance(value, Tensor):  # for the interactive page's explain (params first)
            graph.names.setdefault(name, value)
    return Dot(graph)


def _outputs(var) -> list:
    items = list(var) if isinstance(var, (tuple, list)) else [var]
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(
                f"make_dot expects a tensor or a tuple/list of tensors, got {type(item).__name__}"
            )
    if not items:
        raise ValueError("make_dot needs at least one tensor")
    return items


def _named_pairs(mapping, argument: str) -> list:
    if mapping is None:
        return []
    pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
    try:
        return [(str(name), value) for name, value in pairs]
    except (TypeError, ValueError):
        raise TypeError(
            f"make_dot's {argument} must be a dict of name -> tensor "
            f"(or (name, tensor) pairs), got {type(mapping).__name__}"
        ) from None


class _GraphBuilder:
    """One walk of the autograd graph into a ``Graph``. Linear in the size of the graph."""

    def __init__(
        self,
        *,
        show_attrs,
        show_saved,
        max_attr_chars,
        show_values,
        show_grads,
        rankdir,
        max_nodes,
    ) -> None:
        self.show_attrs = show_attrs
        self.show_saved = show_saved
        self.max_attr_chars = max_attr_chars
        self.show_values = show_values
        self.show_grads = show_grads
        self.max_nodes = max_nodes
        self.graph = Graph(rankdir=rankdir)
        self.nodes = self.graph.nodes
        self.edges = self.graph.edges
        # Names, by id() of the tensor (the tensors are kept alive by ``self.named``).
        self.tensor_names: dict[int, str] = {}
        self.named: list = []
        # Named non-leaf tensors by id() of their backward node: [(output_nr, name, tensor)].
        self.named_by_node: dict[int, list] = {}
        self.box_of_tensor: dict[int, str] = self.graph.tensor_ids  # id(tensor) -> its box
        self.freed = False  # some node's saved values were freed by backward
        self.notes: dict = {}  # node -> the explanation's note for its box
        self.facts = ForwardFacts()  # with show_values: expressions and values of the ops
        self.output_name: str | None = None  # the name of an output nothing else names
        self.gradient_arrows = False
        self.legend = False
        # (box of a custom Function's node, what it saved, its array): linked once every box is
        # drawn.
        self.function_saved: list = []

    # -- names
    def add_names(self, pairs: list, *, skip_private: bool) -> None:
        for name, value in pairs:
            if not isinstance(value, Tensor) or (skip_private and name.startswith("_")):
                continue
            if id(value) in self.tensor_names:
                continue  # the first name wins (params before names)
            self.tensor_names[id(value)] = name
            self.named.append(value)
            node, output_nr = edge_parts(value._edge)
            if node is not None and type(node) is not AccumulateGrad:
                self.named_by_node.setdefault(id(node), []).append((output_nr, name, value))

    # -- boxes and arrows
    def new_node(self, label: str, fillcolor: str, kind: str, shape: str = "box") -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(VizNode(node_id, label, fillcolor, shape, "filled", kind))
        return node_id

    def tensor_box(self, tensor, fillcolor: str, kind: str, default_name: str = "") -> str:
        key = id(tensor)
        box = self.box_of_tensor.get(key)
        if box is None:
            name = self.tensor_names.get(key, default_name)
            box = self.new_node(self.tensor_label(tensor, name), fillcolor, kind)
            self.box_of_tensor[key] = box
        return box

    def tensor_label(self, tensor, name: str) -> str:
        data = tensor._data
        lines = [f"{name}\n {shape_text(np.shape(data))}"]
        if self.show_values:
            lines.append("value: " + value_text(data))
        if self.show_grads:
            grad = tensor._grad
            if tensor.is_leaf or grad is not None or tensor.retains_grad:
                lines.append("grad: " + ("None" if grad is None else value_text(grad._data)))
        return "\n".join(lines)

    def op_box(self, node) -> str:
        label = type(node).__name__
        if self.show_attrs:
            label = with_attributes(label, self.attributes(node), self.max_attr_chars)
        expression = self.facts.expressions.get(node)
        if expression is not None:
            name, _, table = label.partition("\n")
            lines = expression_text(expression, self.facts.values.get(node))
            label = "\n".join([name, lines, table] if table else [name, lines])
        note = self.notes.get(node)
        if note:
            label += "\n" + note
        node_id = self.new_node(label, OP_COLOR, "op")
        if type(node) is AccumulateGrad:
            leaf = node.variable
            leaf_name = self.facts.leaf_names.get(node, "")  # the name the expressions use
            if leaf is None:  # the leaf itself was deleted; its node lives on in the graph
                label = f"{leaf_name}\n(deleted leaf)" if leaf_name else "(deleted leaf)"
                leaf_box = self.new_node(label, LEAF_COLOR, "tensor")
            else:
                leaf_box = self.tensor_box(leaf, LEAF_COLOR, "tensor", leaf_name)
            self.edges.append(VizEdge(leaf_box, node_id))
        else:
            for _, _, tensor in self.named_by_node.get(id(node), ()):
                if id(tensor) not in self.box_of_tensor:
                    box = self.tensor_box(tensor, NAMED_COLOR, "tensor")
                    self.edges.append(VizEdge(node_id, box))
        if self.show_saved or isinstance(node, FunctionCtx):
            self.saved_boxes(node, node_id)
        return node_id

    def saved_boxes(self, node, node_id: str) -> None:
        """Orange boxes for what ``node`` saved (torchviz draws a custom Function's always)."""
        saved = getattr(node, "_saved", None)
        if saved is None:
            self.freed = True
            return
        for name, value in _saved_items(node, saved):
            data = _saved_array(value)
            if data is None:
                continue
            if isinstance(node, FunctionCtx):  # linked once every box is drawn, as torchviz
                self.function_saved.append((node_id, value, data))
                continue
            label = f"{name}\n {shape_text(np.shape(data))}"
            if self.show_values:
                label += "\nvalue: " + value_text(data)
            box = self.new_node(label, SAVED_COLOR, "saved")
            self.edges.append(VizEdge(node_id, box, style="dotted"))

    def link_function_saved(self) -> None:
        """A tensor a custom Function saved, linked as torchviz links it: from the tensor to the
        node, with no arrowhead; its box is the tensor's own where the picture has one (a leaf,
        an output, a named tensor: torchviz's boxes are keyed by the tensor), else an orange box
        named as ``params``/``names`` name it (else unnamed, as torchviz's). A saved output has
        a box of its own (PyTorch unpacks it as a new tensor)."""
        for node_id, value, data in self.function_saved:
            if not isinstance(value, Tensor):  # an output: its position and data
                label = f"\n {shape_text(np.shape(data))}"
                if self.show_values:
                    label += "\nvalue: " + value_text(data)
                box = self.new_node(label, SAVED_COLOR, "saved")
            elif id(value) in self.box_of_tensor:
                box = self.box_of_tensor[id(value)]
            else:
                name = self.tensor_names.get(id(value), "")
                box = self.new_node(self.tensor_label(value, name), SAVED_COLOR, "saved")
                self.box_of_tensor[id(value)] = box
            self.edges.append(VizEdge(box, node_id, style="dotted"))

    def attributes(self, node) -> dict:
        """What ``show_attrs`` writes: the op's parameters, then what it saved."""
        attributes: dict[str, str] = {}
        for cls in type(node).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                if slot.startswith("_") or slot in _INTERNAL_ATTRIBUTES or slot in attributes:
                    continue
                try:
                    text = attribute_text(getattr(node, slot))
                except AttributeError:
                    continue
                if text is not None:
                    attributes[slot] = text
        if isinstance(node, FunctionCtx):
            for key, value in vars(node).items():
                if not key.startswith("_") and key not in _INTERNAL_ATTRIBUTES:
                    text = attribute_text(value)
                    if text is not None:
                        attributes.setdefault(key, text)
            return attributes  # its saved tensors are drawn as boxes
        saved = getattr(node, "_saved", None)
        if saved is None:
            self.freed = True
            return attributes
        for name, value in _saved_items(node, saved):
            if value is None:
                continue
            if isinstance(value, (bool, int, float, complex)):
                attributes.setdefault(name, str(value))
            else:
                attributes.setdefault(name, "[saved tensor]")
        return attributes

    # -- the walk
    def build(self, outputs: list) -> Graph:
        max_nodes = self.max_nodes
        drawn: dict[int, str] = self.graph.node_ids  # id(node) -> its box, for the nodes drawn
        self.graph.outputs = list(outputs)
        seen: set[int] = set()  # id(node) of every node found, drawn or not
        queue: deque = deque()
        left_out = 0

        def visit(node):
            nonlocal left_out
            key = id(node)
            if key in seen:
                return drawn.get(key)
            seen.add(key)
            queue.append(node)
            if max_nodes is not None and len(drawn) >= max_nodes:
                left_out += 1
                return None
            box = drawn[key] = self.op_box(node)
            return box

        # Every output's box first, so that an output is green even when it is also named.
        output_names = self.output_names(outputs)
        boxes = []
        for tensor in outputs:
            if id(tensor) not in self.box_of_tensor:  # else the same tensor given twice
                name = output_names.get(id(tensor), "")
                boxes.append((tensor, self.tensor_box(tensor, OUTPUT_COLOR, "output", name)))
        for tensor, box in boxes:
            node = edge_parts(tensor._edge)[0]
            if node is None or type(node) is AccumulateGrad:
                continue  # a leaf given as an output: it has no grad_fn to draw
            node_box = visit(node)
            if node_box is not None:
                self.edges.append(VizEdge(node_box, box))

        while queue:
            node = queue.popleft()
            head = drawn.get(id(node))
            for child, _ in _next_functions(node):
                if child is None:
                    continue
                tail = visit(child)
                if head is not None and tail is not None:
                    self.edges.append(VizEdge(tail, head))

        self.link_function_saved()
        if left_out:
            note = (
                f"{left_out} more node{'s' if left_out != 1 else ''} of the graph not drawn "
                f"(max_nodes={max_nodes})"
            )
            self.graph.notes.append(note)
            self.new_node(note, NOTE_COLOR, "note", shape="note")
        self.freed = self.freed or self.facts.freed
        if self.freed:
            self.graph.notes.append(
                "backward() freed the values some nodes saved; they are not drawn"
            )
        if self.legend:
            self.add_legend(outputs, output_names)
        if self.gradient_arrows:
            self.edges[:] = [_gradient_direction(edge) for edge in self.edges]
        self.graph.attributes["size"] = _graph_size(len(self.nodes) + len(self.edges))
        return self.graph

    def output_names(self, outputs: list) -> dict:
        """id() of each output that nothing names -> the name its box gets (none: torchviz)."""
        if self.output_name is None:
            return {}
        distinct = list({id(tensor): tensor for tensor in outputs}.values())
        taken = set(self.tensor_names.values())
        names = {}
        for position, tensor in enumerate(distinct):
            if id(tensor) in self.tensor_names:
                continue
            name = self.facts.leaf_names.get(edge_parts(tensor._edge)[0])  # a leaf given as output
            if name is None:
                name = self.output_name if len(distinct) == 1 else f"{self.output_name}{position}"
            names[id(tensor)] = f"{name} (output)" if name in taken else name
        return names

    def add_legend(self, outputs: list, output_names: dict) -> None:
        """A note saying which way the arrows point (and that freed values are not shown)."""
        text = FORWARD_LEGEND
        if self.gradient_arrows:
            distinct = {id(tensor): tensor for tensor in outputs}
            if len(distinct) == 1:
                key = next(iter(distinct))
                output = self.tensor_names.get(key) or output_names.get(key) or "the output"
            else:
                output = "the outputs"
            text = GRADIENT_LEGEND.format(output=output)
        if self.facts.freed:
            text += "\n" + FREED_LEGEND
        self.nodes.append(VizNode(LEGEND_ID, text, NOTE_COLOR, "note", "filled", "legend"))


def _gradient_direction(edge: VizEdge) -> VizEdge:
    """An arrow turned to point the way the gradient travels: from the node that used a value
    back to where the value came from. Saved-value links have no direction and stay."""
    if edge.style != "solid":
        return edge
    return VizEdge(edge.head, edge.tail, edge.style, edge.label)


def _next_functions(node) -> tuple:
    try:
        return node.next_functions
    except AttributeError:
        return ()


def _saved_items(node, saved: tuple) -> list:
    """``(name, value)`` for each saved value, named as PyTorch's ``_saved_*`` attributes."""
    if isinstance(node, FunctionCtx):
        return [(f"saved_tensors[{position}]", value) for position, value in enumerate(saved)]
    names: list[str] = []
    save = getattr(node, "save", 0)
    if save & SAVE_INPUTS:
        inputs = len(getattr(node, "_next", ()))
        if inputs == 1:
            names.append("self")
        elif inputs == 2:
            names += ["self", "other"]
        else:
            names += [f"input[{position}]" for position in range(inputs)]
    if save & SAVE_OUTPUT:
        names.append("result")
    if len(names) != len(saved):
        names = [f"saved[{position}]" for position in range(len(saved))]
    return list(zip(names, saved))


def _saved_array(value):
    """A saved value as an array, or None for a value that is not a tensor's."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value._data
    if type(value) is _SavedOutput:
        return value[1]
    if isinstance(value, (np.ndarray, np.generic, bool, int, float)):
        return np.asarray(value)
    return None


def _graph_size(rows: int) -> str:
    """torchviz's ``resize_graph``: 0.15 inch per statement, at least 12 inches, written as
    torchviz writes it, ``str()`` of the number (``12`` up to 80 statements, then floats as
    Python prints them, ``12.299999999999999``), so that its calls give torchviz's DOT."""
    size = max(12, rows * 0.15)
    return f"{size},{size}"
