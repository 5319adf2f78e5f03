"""The DOT text of a ``Graph`` (``to_dot``), as the graphviz package prints torchviz's graphs,
and ``quote``, DOT's quoting of an ID. Below both the ``Dot`` (dotfile.py), whose ``source`` it
is, and the renderers (render.py), which hand it to Graphviz's programs."""

from __future__ import annotations

import re

from .graph import Graph

__all__ = ["quote", "to_dot"]

# torchviz's node defaults, in the order the graphviz package prints them (sorted by name), with
# a font every renderer can measure: a box is as wide as the renderer thinks its label is, and
# graphviz-pure knows the metrics of a few PostScript fonts only (for "monospace" it falls back
# to Times, whose narrower letters left labels spilling out of their boxes). Courier is one of
# them; Graphviz's fontconfig maps it to a metric-compatible monospace (Liberation Mono), and
# SVG viewers to their Courier: every one advances 0.6 em a character. The margin (inches,
# horizontal then vertical) is Graphviz's default stated outright, plus a little air.
NODE_ATTRIBUTES = {
    "align": "left",
    "fontname": "Courier",
    "fontsize": "10",
    "height": "0.2",
    "margin": "0.12,0.06",
    "ranksep": "0.1",
    "shape": "box",
    "style": "filled",
}

# torchviz's colours; grey is Graphviz's default fill, so op boxes name no fillcolor.
OP_COLOR = "lightgrey"


# An ID that DOT accepts without quotes (as the graphviz package decides it).
_DOT_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))\Z")
_DOT_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})


def quote(value) -> str:
    """``value`` as a DOT ID: bare when it can be, else a quoted string with DOT escapes.

    Backslashes are doubled, so Graphviz shows them as typed (no ``\\N``-style
    substitutions); quotes are escaped; line breaks become ``\\n``.
    """
    text = str(value)
    if _DOT_ID.match(text) and text.lower() not in _DOT_KEYWORDS:
        return text
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return f'"{text}"'


def _attribute_list(attributes: dict) -> str:
    return " ".join(f"{key}={quote(value)}" for key, value in attributes.items())


def to_dot(graph: Graph) -> str:
    """The DOT text of ``graph``, laid out as the graphviz package prints torchviz's graphs."""
    lines = ["digraph {"]
    for note in graph.notes:
        lines.append("\t// " + " ".join(str(note).split()))
    graph_attributes = dict(graph.attributes)
    if graph.rankdir != "TB":
        graph_attributes["rankdir"] = graph.rankdir
    if graph_attributes:
        lines.append(f"\tgraph [{_attribute_list(graph_attributes)}]")
    lines.append(f"\tnode [{_attribute_list(NODE_ATTRIBUTES)}]")
    for node in graph.nodes:
        attributes = {"label": node.label}
        if node.fillcolor != OP_COLOR:
            attributes["fillcolor"] = node.fillcolor
        if node.shape != NODE_ATTRIBUTES["shape"]:
            attributes["shape"] = node.shape
        if node.style != NODE_ATTRIBUTES["style"]:
            attributes["style"] = node.style
        lines.append(f"\t{quote(node.id)} [{_attribute_list(attributes)}]")
    for edge in graph.edges:
        attributes = {}
        if edge.label:
            attributes["label"] = edge.label
        if edge.style == "dotted":  # a saved value: a plain link, no arrowhead (torchviz)
            attributes["dir"] = "none"
        if edge.style != "solid":
            attributes["style"] = edge.style
        line = f"\t{quote(edge.tail)} -> {quote(edge.head)}"
        lines.append(f"{line} [{_attribute_list(attributes)}]" if attributes else line)
    lines.append("}")
    return "\n".join(lines) + "\n"
