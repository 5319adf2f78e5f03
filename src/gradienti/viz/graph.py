"""The picture's data model: what make_dot builds and what every renderer draws.

``make_dot`` turns a tensor's graph into a ``Graph``; ``to_dot`` writes it as Graphviz DOT text
(torchviz's look), and the built-in layout (``layout.py``) draws the same ``Graph`` as SVG with no
Graphviz installed. Keeping one structure means the two pictures always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VizNode:
    """One box. ``label`` may have several lines (``\\n``); ids are deterministic."""

    id: str
    label: str
    fillcolor: str = "lightgrey"  # torchviz: leaves lightblue, outputs darkolivegreen1,
    shape: str = "box"  # saved tensors orange, AccumulateGrad/ops lightgrey
    style: str = "filled,rounded"  # Graphviz style; the SVG layout draws rounded filled boxes
    kind: str = "op"  # "tensor" | "op" | "saved" | "output" | "note" (for renderers/tests)


@dataclass
class VizEdge:
    tail: str  # the node the arrow starts from (an input / next function)
    head: str  # the node it points to (the consumer), as torchviz draws it
    style: str = "solid"  # "solid" | "dotted" (saved tensor links)
    label: str = ""


@dataclass
class Graph:
    nodes: list[VizNode] = field(default_factory=list)
    edges: list[VizEdge] = field(default_factory=list)
    rankdir: str = "TB"  # "TB" | "LR" | "BT" | "RL"
    attributes: dict = field(default_factory=dict)  # graph-level DOT attributes
    notes: list[str] = field(default_factory=list)  # e.g. what max_nodes left out
    # What the interactive page (viz/interactive.py) maps explain's steps with: id() of each
    # backward node drawn -> its box id, id() of each tensor drawn -> its box id, and the
    # tensors make_dot was given (outputs, names).
    node_ids: dict = field(default_factory=dict, repr=False, compare=False)
    tensor_ids: dict = field(default_factory=dict, repr=False, compare=False)
    outputs: list = field(default_factory=list, repr=False, compare=False)
    names: dict = field(default_factory=dict, repr=False, compare=False)

    def node(self, node_id: str) -> VizNode:
        for candidate in self.nodes:
            if candidate.id == node_id:
                return candidate
        raise KeyError(node_id)
