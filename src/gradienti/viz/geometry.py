"""The built-in picture's geometry: box sizes from labels, edge routes, and the ``Layout``.

``compute_layout(graph)`` sizes every box from its label (a monospace font of ``FONT_SIZE``),
lets ``layout.place`` put them in layers, routes the edges and maps everything to SVG
coordinates for the graph's ``rankdir`` (svg.py writes the document). Edges leave the side of the
tail box that faces the next layer, run straight inside a layer's band (through the gap kept for
them, or along their label's lane) and as S-curves between bands, and end on the head box's
border under an arrowhead, so they never cross a box.
"""

from __future__ import annotations

import gc
import math
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .graph import Graph, VizEdge, VizNode
from .layout import Placement, place

FONT_SIZE = 11.0
CHAR_WIDTH = 0.6  # em: the advance of DejaVu Sans Mono, Menlo and Courier
LINE_HEIGHT = 14.0
PAD_X = 9.0
PAD_Y = 6.0
MIN_WIDTH = 40.0
MIN_HEIGHT = 26.0
MARGIN = 12.0
ARROW_LENGTH = 9.0
ARROW_HALF_WIDTH = 3.5
LOOP_SIZE = 18.0
LABEL_LANE = 8.0  # the part of an edge label's node that the edge itself runs through
CORNER_RADIUS = 6.0
NOTE_FONT_SIZE = 10.0
NOTE_LINE_HEIGHT = 13.0

_ELLIPSES = frozenset({"oval", "ellipse", "circle", "doublecircle", "egg", "point"})
_PLAIN = frozenset({"plaintext", "plain", "none", "underline"})


# --------------------------------------------------------------------------- results


@dataclass
class NodeBox:
    """A drawn node: centre, size and shape in SVG coordinates."""

    node: VizNode
    lines: list[str]
    x: float
    y: float
    width: float
    height: float
    shape: str  # "box" | "ellipse" | "plain" | "note"


@dataclass
class EdgeRoute:
    """A drawn edge: a path of ``("L", point)`` and ``("C", control1, control2, point)``
    segments from ``start`` on the tail's border to the head's border, or to the base of the
    arrowhead, whose tip touches the head's border and which points along ``arrow_dir``."""

    edge: VizEdge
    start: tuple[float, float]
    segments: list[tuple]
    arrow_tip: tuple[float, float] | None = None
    arrow_dir: tuple[float, float] | None = None
    label_at: tuple[float, float] | None = None  # the centre of the label's text
    label_lines: list[str] = field(default_factory=list)


@dataclass
class Layout:
    """The whole drawing in SVG coordinates (what ``layout_to_svg`` writes)."""

    width: float
    height: float
    nodes: list[NodeBox]
    edges: list[EdgeRoute]  # in the order of ``graph.edges``
    notes: list[str]  # the graph's label, then its notes, one line each
    notes_y: float  # the baseline of the first note line
    background: str
    crossings: int  # edge crossings between adjacent layers
    scale: float = 1.0  # how big it is shown (the graph's ``size``, as Graphviz scales)


# --------------------------------------------------------------------------- text and shapes


def label_lines(text: str) -> list[str]:
    """A label's lines: ``\\n`` (and ``\\r\\n``) break lines, tabs become spaces."""
    text = str(text)
    if "\t" not in text and "\r" not in text:
        return text.split("\n")
    return [line.expandtabs(4) for line in text.replace("\r\n", "\n").split("\n")]


def text_columns(line: str) -> int:
    """How many monospace cells a line takes (wide East Asian characters take two)."""
    if line.isascii():
        return len(line)
    cells = 0
    for ch in line:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cells


def text_size(lines: list[str], font_size: float = FONT_SIZE) -> tuple[float, float]:
    """The width and height that lines of monospace text take."""
    width = max((text_columns(line) for line in lines), default=0) * CHAR_WIDTH * font_size
    return width, len(lines) * LINE_HEIGHT * font_size / FONT_SIZE


@lru_cache(maxsize=256)
def style_tokens(style: str) -> tuple[str, ...]:
    """A Graphviz style (``"filled,rounded"``) as its lower-case tokens."""
    return tuple(token.strip().lower() for token in str(style or "").split(",") if token.strip())


@lru_cache(maxsize=256)
def shape_of(shape: str) -> str:
    """Graphviz's shape name as one of the four drawn here."""
    name = str(shape or "box").strip().lower()
    if name in _ELLIPSES:
        return "ellipse"
    if name in _PLAIN:
        return "plain"
    return "note" if name == "note" else "box"


def node_size(lines: list[str], shape: str) -> tuple[float, float]:
    """A box big enough for its text (an ellipse: the text's box inscribed)."""
    text_w, text_h = text_size(lines)
    if shape == "ellipse":
        root2 = math.sqrt(2.0)
        return (
            max(MIN_WIDTH * 1.2, (text_w + PAD_X) * root2),
            max(MIN_HEIGHT * 1.1, (text_h + PAD_Y) * root2),
        )
    if shape == "plain":
        return text_w + 8.0, text_h + 4.0
    width = max(MIN_WIDTH, text_w + 2 * PAD_X) + (6.0 if shape == "note" else 0.0)
    return width, max(MIN_HEIGHT, text_h + 2 * PAD_Y)


def has_arrow(edge: VizEdge) -> bool:
    """Saved-tensor links (dotted) are drawn without a head, as torchviz draws them."""
    return "dotted" not in style_tokens(edge.style)


# --------------------------------------------------------------------------- the drawing


def compute_layout(graph: Graph) -> Layout:
    """Size, place and route everything in ``graph``, in SVG coordinates."""
    collect = gc.isenabled()
    gc.disable()  # many small objects and no cycles: the cyclic collector would only slow this
    try:
        return _compute_layout(graph)
    finally:
        if collect:
            gc.enable()


def _compute_layout(graph: Graph) -> Layout:
    rankdir = str(graph.rankdir or "TB").upper()
    if rankdir not in ("TB", "BT", "LR", "RL"):
        rankdir = "TB"
    sideways = rankdir in ("LR", "RL")

    # A repeated id is one node whose later attributes win (as in DOT); an edge may name a node
    # that was never declared, which then appears with its id as label.
    index: dict[str, int] = {}
    specs: list[VizNode] = []
    for node in graph.nodes:
        key = str(node.id)
        if key in index:
            specs[index[key]] = node
        else:
            index[key] = len(specs)
            specs.append(node)
    for edge in graph.edges:
        for end in (str(edge.tail), str(edge.head)):
            if end not in index:
                index[end] = len(specs)
                specs.append(VizNode(id=end, label=end))
    n = len(specs)
    lines = [label_lines(spec.label) for spec in specs]
    shapes = [shape_of(spec.shape) for spec in specs]
    sizes = [node_size(lines[v], shapes[v]) for v in range(n)]
    if sideways:
        breadth = [h for _, h in sizes]
        depth = [w for w, _ in sizes]
    else:
        breadth = [w for w, _ in sizes]
        depth = [h for _, h in sizes]

    def oriented(lines_: list[str]) -> tuple[float, float]:
        w, h = text_size(lines_)
        w, h = w + 6.0, h + 4.0
        return (h, w) if sideways else (w, h)

    tails: list[int] = []
    heads: list[int] = []
    labels: list[tuple[float, float] | None] = []
    edge_of: list[int] = []  # layout edge -> index into graph.edges
    loops: list[int] = []
    for i, edge in enumerate(graph.edges):
        t, h = index[str(edge.tail)], index[str(edge.head)]
        if t == h:  # a self-loop: room for it beside its node
            loops.append(i)
            extra = LOOP_SIZE + 6.0
            if edge.label:
                extra += oriented(label_lines(edge.label))[0] + 4.0
            breadth[t] += 2.0 * extra
            continue
        tails.append(t)
        heads.append(h)
        edge_of.append(i)
        if edge.label:
            lb, ld = oriented(label_lines(edge.label))
            labels.append((lb + LABEL_LANE, ld))
        else:
            labels.append(None)

    placed = place(breadth, depth, tails, heads, labels)
    u, lay = placed.u, placed.layer
    tops, bottoms = placed.band_top, placed.band_bottom

    u_lo = min((u[v] - placed.breadth[v] / 2.0 for v in range(len(u))), default=0.0)
    u_hi = max((u[v] + placed.breadth[v] / 2.0 for v in range(len(u))), default=0.0)
    v_lo = tops[0] if tops else 0.0
    v_hi = bottoms[-1] if bottoms else 0.0
    flip_v = rankdir in ("BT", "RL")

    def to_svg(p: tuple[float, float]) -> tuple[float, float]:
        a = p[0] - u_lo + MARGIN
        b = (v_hi - p[1] if flip_v else p[1] - v_lo) + MARGIN
        return (b, a) if sideways else (a, b)

    def dir_to_svg(d: tuple[float, float]) -> tuple[float, float]:
        a, b = d[0], -d[1] if flip_v else d[1]
        return (b, a) if sideways else (a, b)

    shapes_uv = []  # (u, v, half breadth, half depth, shape, rounded) per real node
    boxes = []
    for v in range(n):
        r = lay[v]
        cu, cv = u[v], (tops[r] + bottoms[r]) / 2.0
        w, h = sizes[v]
        half_b, half_d = (h / 2.0, w / 2.0) if sideways else (w / 2.0, h / 2.0)
        rounded = "rounded" in style_tokens(specs[v].style)
        shapes_uv.append((cu, cv, half_b, half_d, shapes[v], rounded))
        x, y = to_svg((cu, cv))
        boxes.append(NodeBox(specs[v], lines[v], x, y, w, h, shapes[v]))

    # Where each edge leaves its tail and enters its head: towards where it goes, and spread
    # along the side so that arrowheads (and edges between the same two boxes) stay apart.
    lanes = [_lanes(k, placed) for k in range(len(edge_of))]
    arrows = [has_arrow(graph.edges[i]) for i in edge_of]
    ports: list[list[tuple]] = [[] for _ in range(2 * n)]  # 2v: top side, 2v + 1: bottom
    for k, chain in enumerate(placed.chains):
        t, h = chain[0], chain[-1]
        if len(chain) > 2:  # aim at the first and from the last virtual node
            aim_t = (lanes[k][1], tops[lay[chain[1]]])
            aim_h = (lanes[k][-2], bottoms[lay[chain[-2]]])
        else:
            aim_t, aim_h = shapes_uv[h][:2], shapes_uv[t][:2]
        flipped = placed.flipped[k]
        ports[2 * t + 1].append((aim_t[0], _natural(shapes_uv[t], aim_t, True), k, flipped))
        ports[2 * h].append((aim_h[0], _natural(shapes_uv[h], aim_h, False), k, not flipped))
    offsets = [[0.0, 0.0] for _ in range(len(edge_of))]  # per edge: at its tail, at its head
    for side, group in enumerate(ports):
        if not group:
            continue
        group.sort()
        arrow_here = any(arrows[k] and at_head for _, _, k, at_head in group)
        gap = 2.0 * ARROW_HALF_WIDTH + 3.0 if arrow_here else 6.0
        reach = _exit_offset(*shapes_uv[side // 2][2:])
        spread = _spread([natural for _, natural, _, _ in group], gap, reach)
        for (_, _, k, _), off in zip(group, spread):
            offsets[k][side % 2 == 0] = off
    routes: list[EdgeRoute] = [None] * len(graph.edges)  # type: ignore[list-item]
    for k, i in enumerate(edge_of):
        routes[i] = _route(graph.edges[i], k, placed, shapes_uv, arrows[k], lanes[k], offsets[k])
    for i in loops:
        edge = graph.edges[i]
        route = _loop_route(edge, shapes_uv[index[str(edge.tail)]], has_arrow(edge))
        if edge.label:
            route.label_lines = label_lines(edge.label)
            lb = oriented(route.label_lines)[0]
            far = max(p[0] for p in route.segments[0][1:3])
            route.label_at = (far + 4.0 + lb / 2.0, shapes_uv[index[str(edge.tail)]][1])
        routes[i] = route
    for route in routes:
        route.start = to_svg(route.start)
        route.segments = [(s[0], *map(to_svg, s[1:])) for s in route.segments]
        if route.arrow_tip is not None:
            route.arrow_tip = to_svg(route.arrow_tip)
            route.arrow_dir = dir_to_svg(route.arrow_dir)
        if route.label_at is not None:
            route.label_at = to_svg(route.label_at)

    span_u, span_v = u_hi - u_lo, v_hi - v_lo
    width, height = (span_v, span_u) if sideways else (span_u, span_v)
    width += 2 * MARGIN
    height += 2 * MARGIN
    attributes = graph.attributes or {}
    notes = [line for note in graph.notes for line in label_lines(note)]
    if attributes.get("label"):
        notes = label_lines(attributes["label"]) + notes
    notes_y = height - MARGIN / 2.0 + NOTE_FONT_SIZE
    if notes:
        text_w, _ = text_size(notes, NOTE_FONT_SIZE)
        width = max(width, text_w + 2 * MARGIN)
        height += len(notes) * NOTE_LINE_HEIGHT + MARGIN / 2.0
    background = str(attributes.get("bgcolor") or "white")
    scale = _size_scale(attributes.get("size"), width, height)
    return Layout(width, height, boxes, routes, notes, notes_y, background, placed.crossings, scale)


def _size_scale(size, width: float, height: float) -> float:
    """Graphviz's ``size="W,H"`` (inches): a bigger drawing is shown scaled down to fit, and
    with ``"W,H!"`` a smaller one scaled up. The drawing itself (the viewBox) stays the same."""
    text = str(size or "").strip()
    grow = text.endswith("!")
    parts = text.rstrip("!").replace(" ", "").split(",")
    try:
        limits = [float(part) * 72.0 for part in parts if part]
    except ValueError:
        return 1.0
    if not limits or not all(math.isfinite(v) and v > 0 for v in limits):
        return 1.0
    max_w, max_h = limits[0], limits[-1]
    fit = min(max_w / width, max_h / height) if width > 0 and height > 0 else 1.0
    return fit if fit < 1.0 or grow else 1.0


# --------------------------------------------------------------------------- edges


def _exit_offset(half_b: float, half_d: float, shape: str, rounded: bool) -> float:
    """How far from the centre (along the layer) an edge may leave a node's facing side."""
    if shape == "ellipse":
        return 0.6 * half_b
    if rounded:
        return max(0.0, half_b - CORNER_RADIUS - 1.0)
    return max(0.0, half_b - 2.0)


def _natural(shape_uv, aim: tuple[float, float], below: bool) -> float:
    """Where the line from a node's centre to ``aim`` crosses the side facing it (an offset
    along the layer from the centre)."""
    u0, v0, half_b, half_d, shape, rounded = shape_uv
    dv = (aim[1] - v0) if below else (v0 - aim[1])
    off = (aim[0] - u0) * half_d / dv if dv > 1e-9 else 0.0
    reach = _exit_offset(half_b, half_d, shape, rounded)
    return max(-reach, min(reach, off))


def _spread(values: list[float], gap: float, reach: float) -> list[float]:
    """Sorted offsets moved as little as possible (least squares) to be ``gap`` apart, and
    kept within ``[-reach, reach]`` (closer together if they do not fit)."""
    k = len(values)
    if k == 1:
        return [max(-reach, min(reach, values[0]))]
    if gap * (k - 1) > 2.0 * reach:
        gap = 2.0 * reach / (k - 1)
    sums: list[float] = []
    counts: list[int] = []
    for j, value in enumerate(values):  # pool adjacent violators on value - j * gap
        s, c = value - j * gap, 1
        while sums and sums[-1] * c >= s * counts[-1]:
            s += sums.pop()
            c += counts.pop()
        sums.append(s)
        counts.append(c)
    out = []
    for s, c in zip(sums, counts):
        for _ in range(c):
            out.append(s / c + len(out) * gap)
    shift = 0.0
    if out[0] < -reach:
        shift = -reach - out[0]
    elif out[-1] > reach:
        shift = reach - out[-1]
    return [o + shift for o in out]


def _side_point(shape_uv, off: float, below: bool) -> tuple[float, float]:
    """The point of a node's border ``off`` from its centre on the side facing the next
    (``below``) or the previous layer."""
    u0, v0, half_b, half_d, shape, _ = shape_uv
    side = half_d
    if shape == "ellipse" and half_b > 0:
        side = half_d * math.sqrt(max(0.0, 1.0 - (off / half_b) ** 2))
    return u0 + off, (v0 + side) if below else (v0 - side)


def _curve(p: tuple[float, float], q: tuple[float, float]) -> tuple:
    """An S-curve from ``p`` to ``q`` that leaves and arrives across the layers."""
    mid = (q[1] - p[1]) / 2.0
    return ("C", (p[0], p[1] + mid), (q[0], q[1] - mid), q)


def _lanes(k: int, placed: Placement) -> list[float]:
    """Where along each layer edge ``k`` passes: its virtual nodes (a label's left lane)."""
    chain = placed.chains[k]
    lanes = [placed.u[c] for c in chain]
    label = placed.label_node[k]
    if label >= 0:  # the edge runs down the label's lane, the text sits beside it
        lanes[chain.index(label)] = placed.u[label] - placed.breadth[label] / 2.0 + 4.0
    return lanes


def _route(edge, k, placed: Placement, shapes_uv, arrow, lanes, offsets) -> EdgeRoute:
    """The path of layout edge ``k`` in layout coordinates, from ``edge.tail`` to its head."""
    chain = placed.chains[k]
    flipped = placed.flipped[k]
    lay, tops, bottoms = placed.layer, placed.band_top, placed.band_bottom
    t, h = chain[0], chain[-1]
    start = _side_point(shapes_uv[t], offsets[0], True)
    end = _side_point(shapes_uv[h], offsets[1], False)
    # the arrowhead is at the layout head, or at the layout tail if the layout turned it around
    tip = tip_dir = None
    if arrow and not flipped:
        tip, tip_dir = end, (0.0, 1.0)
        end = (end[0], end[1] - ARROW_LENGTH)
    elif arrow:
        tip, tip_dir = start, (0.0, -1.0)
        start = (start[0], start[1] + ARROW_LENGTH)
    points = [start]
    kinds: list[str] = []
    if bottoms[lay[t]] > start[1]:
        points.append((start[0], bottoms[lay[t]]))
        kinds.append("L")
    for c, lane in zip(chain[1:-1], lanes[1:-1]):
        r = lay[c]
        points.append((lane, tops[r]))
        kinds.append("C")
        if bottoms[r] > tops[r]:
            points.append((lane, bottoms[r]))
            kinds.append("L")
    if tops[lay[h]] < end[1]:
        points.append((end[0], tops[lay[h]]))
        kinds.append("C")
        points.append(end)
        kinds.append("L")
    else:
        points.append(end)
        kinds.append("C")
    if flipped:
        points.reverse()
        kinds.reverse()
    segments = [
        ("L", q) if kind == "L" else _curve(p, q) for kind, p, q in zip(kinds, points, points[1:])
    ]
    route = EdgeRoute(edge, points[0], segments, tip, tip_dir)
    if edge.label:
        route.label_lines = label_lines(edge.label)
        label = placed.label_node[k]
        if label >= 0:
            route.label_at = (placed.u[label] + LABEL_LANE / 2.0, placed.centre(label)[1])
        else:  # drawn without virtual nodes (a pathological graph): beside its middle
            a, b = placed.centre(t), placed.centre(h)
            route.label_at = ((a[0] + b[0]) / 2.0 + 8.0, (a[1] + b[1]) / 2.0)
    return route


def _loop_route(edge: VizEdge, shape_uv, arrow: bool) -> EdgeRoute:
    """A self-loop beside its node (on the right in TB), coming back in under an arrowhead."""
    u0, v0, half_b, half_d, shape, _ = shape_uv
    dv = half_d / 2.0

    def border(v: float) -> float:
        if shape == "ellipse" and half_d > 0:
            return u0 + half_b * math.sqrt(max(0.0, 1.0 - ((v - v0) / half_d) ** 2))
        return u0 + half_b

    a = (border(v0 - dv), v0 - dv)
    b = (border(v0 + dv), v0 + dv)
    far = max(a[0], b[0]) + LOOP_SIZE
    end = (b[0] + ARROW_LENGTH, b[1]) if arrow else b
    segment = ("C", (far, a[1] - dv), (far, end[1] + (0.0 if arrow else dv)), end)
    route = EdgeRoute(edge, a, [segment])
    if arrow:
        route.arrow_tip, route.arrow_dir = b, (-1.0, 0.0)
    return route
