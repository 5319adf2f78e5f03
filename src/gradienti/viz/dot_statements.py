"""DOT statements as the ``Dot`` keeps them, one per line as in ``graphviz.Digraph.body``, and
the ``Graph`` they describe, which the built-in SVG renderer draws.

Writing: ``node_statement``, ``edge_statement`` and ``attr_statement`` make the lines that the
graphviz package's ``node``, ``edge`` and ``attr`` append (``\\t...\\n``; a call's keyword
attributes sorted by name, ``label`` first, ``None`` values left out, as graphviz does).

Reading: ``drawing_graph`` reads the statements back (the single-line subset of DOT that the
graphviz package and ``to_dot`` write: ``a [k=v]``, ``a -> b [k=v]``, ``node [k=v]``,
``k=v``) and applies them as Graphviz does: ``graph``/``node``/``edge`` defaults hold for what
is declared after them, a node named again keeps its attributes and takes the new ones, and an
edge to an undeclared node declares it. An HTML-like value (``<<b>x</b>>``) is written bare,
as graphviz does, and read as its text. A line it cannot read (a subgraph, a port) is left to
Graphviz's programs: the built-in renderer skips it.
"""

from __future__ import annotations

import html
import re

from .dot_source import quote
from .graph import Graph, VizEdge, VizNode

__all__ = [
    "attr_statement",
    "attribute_list",
    "drawing_graph",
    "edge_statement",
    "node_statement",
    "parse_statement",
]

ATTRIBUTE_TARGETS = ("graph", "node", "edge")

# Graphviz's own defaults for what the built-in renderer draws.
GRAPHVIZ_NODE_SHAPE = "ellipse"
GRAPHVIZ_FILL = "lightgrey"  # a filled node with neither fillcolor nor color


# ------------------------------------------------------------------------------ writing

# The graphviz package's test for an HTML-like value (``label="<<b>x</b>>"``): the whole text
# in angle brackets is written bare, so that Graphviz draws it as HTML, not as the typed text.
_HTML_VALUE = re.compile(r"<.*>\Z", re.DOTALL)


def _value(value) -> str:
    text = str(value)
    return text if _HTML_VALUE.match(text) else quote(text)


def attribute_list(attributes, *, label=None, sort: bool = True) -> str:
    """``key=value ...`` as the graphviz package's ``a_list``: ``label`` first, then the
    attributes (sorted by name when ``sort``), ``None`` values left out."""
    items = attributes.items()
    if sort:
        items = sorted(items)
    parts = [f"label={_value(label)}"] if label is not None else []
    parts += [f"{quote(key)}={_value(value)}" for key, value in items if value is not None]
    return " ".join(parts)


def _bracketed(text: str) -> str:
    return f" [{text}]" if text else ""


def node_statement(name, label=None, attributes=None) -> str:
    return f"\t{quote(name)}{_bracketed(attribute_list(attributes or {}, label=label))}\n"


def edge_statement(tail, head, label=None, attributes=None) -> str:
    attributes = attribute_list(attributes or {}, label=label)
    return f"\t{quote(tail)} -> {quote(head)}{_bracketed(attributes)}\n"


def attr_statement(target, attributes, *, sort: bool = True) -> str:
    """``\\tnode [k=v]`` for a target, ``\\tk=v`` (graph attributes) for ``None``."""
    if target is None:
        return f"\t{attribute_list(attributes, sort=sort)}\n"
    return f"\t{target}{_bracketed(attribute_list(attributes, sort=sort))}\n"


# ------------------------------------------------------------------------------ reading

# A quoted string (with DOT's backslash escapes), an edge operator, punctuation, or a bare ID
# (letters, digits, underscores, dots; a number may start with a minus), after any spaces.
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|->|--|[\[\]=;,]|-?[\w.]+)', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# DOT's line-ending escapes (centred, left- and right-justified): one line break each for us.
_LINE_ESCAPES = {"n": "\n", "l": "\n", "r": "\n"}


def _unquote(token: str) -> str:
    if token.startswith("<"):  # an HTML label: its text, a line per <br/>
        text = re.sub(r"<br\s*/?>", "\n", token[1:-1], flags=re.IGNORECASE)
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    if not token.startswith('"'):
        return token
    return _ESCAPE.sub(lambda match: _LINE_ESCAPES.get(match[1], match[1]), token[1:-1])


def _tokens(line: str) -> list[str] | None:
    """The tokens of one statement, or None where the line holds more than we read."""
    text = line.strip()
    if text.startswith(("//", "#")):
        return []
    tokens = []
    position = 0
    while position < len(text):
        while text[position].isspace():  # text is stripped: a token follows
            position += 1
        if text[position] == "<":  # an HTML string: up to its matching ">"
            end = _html_end(text, position)
            if end is None:
                return None
            tokens.append(text[position:end])
            position = end
            continue
        match = _TOKEN.match(text, position)
        if match is None:
            return None if text[position:].strip() else tokens
        tokens.append(match[1])
        position = match.end()
    while tokens and tokens[-1] == ";":
        tokens.pop()
    return tokens


def _html_end(text: str, start: int) -> int | None:
    """The index after the ``>`` that closes the ``<`` at ``start`` (brackets nest)."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"<": 1, ">": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return None


def _attributes(tokens: list[str]) -> dict | None:
    """``k = v [,;] ...`` into a dict, or None if the tokens are not that."""
    attributes = {}
    position = 0
    while position < len(tokens):
        if tokens[position] in (",", ";"):
            position += 1
            continue
        if position + 3 > len(tokens):
            return None
        key, equals, value = tokens[position : position + 3]
        if equals != "=" or key in "[]=;," or value in "[]=;,":
            return None
        attributes[_unquote(key)] = _unquote(value)
        position += 3
    return attributes


def parse_statement(line: str):
    """One statement as ``("node", id, attrs)``, ``("edge", [ids], attrs)``,
    ``("attr", target, attrs)`` (target None for ``k=v``), ``("skip",)`` for a comment or an
    empty line, or None for a line outside the subset we read."""
    tokens = _tokens(line)
    if tokens is None:
        return None
    if not tokens:
        return ("skip",)
    attributes: dict = {}
    if "[" in tokens:
        start = tokens.index("[")
        if tokens[-1] != "]" or "[" in tokens[start + 1 :]:
            return None
        attributes = _attributes(tokens[start + 1 : -1])
        if attributes is None:
            return None
        tokens = tokens[:start]
    if not tokens:
        return None
    first = tokens[0].lower()
    if len(tokens) == 1 and first in ATTRIBUTE_TARGETS and not tokens[0].startswith('"'):
        return ("attr", first, attributes)
    if "=" in tokens:
        plain = _attributes(tokens)
        return ("attr", None, plain) if plain is not None and not attributes else None
    if len(tokens) == 1:
        return ("node", _unquote(tokens[0]), attributes)
    ends = tokens[0::2]
    if len(tokens) % 2 == 1 and all(arrow in ("->", "--") for arrow in tokens[1::2]):
        return ("edge", [_unquote(end) for end in ends], attributes)
    return None


def drawing_graph(graph_attr, node_attr, edge_attr, lines, notes=()) -> Graph:
    """The ``Graph`` that the statements ``lines`` draw under these default attributes."""
    graph_attributes = dict(graph_attr)
    node_defaults = dict(node_attr)
    edge_defaults = dict(edge_attr)
    nodes: dict[str, dict] = {}  # id -> its attributes, in order of first mention
    edges: list[tuple[str, str, dict]] = []

    def declare(name: str, attributes: dict) -> None:
        if name in nodes:
            nodes[name].update(attributes)
        else:
            nodes[name] = {**node_defaults, **attributes}

    for line in lines:
        statement = parse_statement(line)
        if statement is None or statement[0] == "skip":
            continue
        kind, subject, attributes = statement
        if kind == "attr":
            target = {None: graph_attributes, "graph": graph_attributes}.get(subject)
            if target is None:
                target = node_defaults if subject == "node" else edge_defaults
            target.update(attributes)
        elif kind == "node":
            declare(subject, attributes)
        else:
            for end in subject:
                declare(end, {})
            for tail, head in zip(subject, subject[1:]):
                edges.append((tail, head, {**edge_defaults, **attributes}))

    rankdir = str(graph_attributes.pop("rankdir", "TB")).upper()
    drawing = Graph(rankdir=rankdir, attributes=graph_attributes, notes=list(notes))
    for name, attributes in nodes.items():
        style = str(attributes.get("style", ""))
        fill = attributes.get("fillcolor") or attributes.get("color") or GRAPHVIZ_FILL
        drawing.nodes.append(
            VizNode(
                id=name,
                label=str(attributes.get("label", name)),
                fillcolor=str(fill),
                shape=str(attributes.get("shape", GRAPHVIZ_NODE_SHAPE)),
                style=style,
                kind="node",
            )
        )
    for tail, head, attributes in edges:
        style = str(attributes.get("style", "solid")) or "solid"
        drawing.edges.append(VizEdge(tail, head, style, str(attributes.get("label", ""))))
    return drawing
