"""The built-in layered layout (viz/layout.py, viz/layer_order.py, viz/svg.py): the SVG it
writes is well formed, readable (layered, no overlapping boxes, labels inside their boxes, edges
joining the right boxes without crossing other boxes, few crossings) and deterministic, for any
rankdir, and big graphs lay out. Every check reads the SVG text itself, as a viewer would."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from gradienti.viz import layer_order, layout
from gradienti.viz.graph import Graph, VizEdge, VizNode
from gradienti.viz.svg import (
    ARROW_LENGTH,
    CHAR_WIDTH,
    FONT_SIZE,
    LINE_HEIGHT,
    color,
    compute_layout,
    render_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------- reading the SVG


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    shape: str  # "rect" | "ellipse" | "polygon" | "none"
    texts: list
    element: object

    def inside(self, x: float, y: float, margin: float) -> bool:
        """Strictly inside the shape, at least ``margin`` from its border."""
        if self.shape == "ellipse":
            cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
            rx, ry = (self.x1 - self.x0) / 2 - margin, (self.y1 - self.y0) / 2 - margin
            return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1.0
        return self.x0 + margin < x < self.x1 - margin and self.y0 + margin < y < self.y1 - margin

    def on_border(self, x: float, y: float, tol: float = 1.0) -> bool:
        if self.shape == "ellipse":
            cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
            rx, ry = (self.x1 - self.x0) / 2, (self.y1 - self.y0) / 2
            r = math.hypot((x - cx) / rx, (y - cy) / ry)
            return abs(r - 1.0) * min(rx, ry) <= tol
        near = self.x0 - tol <= x <= self.x1 + tol and self.y0 - tol <= y <= self.y1 + tol
        return near and not self.inside(x, y, tol)

    def distance(self, x: float, y: float) -> float:
        dx = max(self.x0 - x, 0.0, x - self.x1)
        dy = max(self.y0 - y, 0.0, y - self.y1)
        return math.hypot(dx, dy)


@dataclass
class Edge:
    tail: str
    head: str
    points: list  # the path, Bezier curves sampled
    tip: tuple | None  # the arrowhead's tip
    element: object


def parse(svg: str):
    return ET.fromstring(svg)


def groups(root, cls: str):
    return [g for g in root.iter(SVG + "g") if g.get("class") == cls]


def node_boxes(root) -> dict[str, Box]:
    boxes = {}
    for g in groups(root, "node"):
        title = g.find(SVG + "title").text
        texts = [t.text or "" for t in g.findall(SVG + "text")]
        rect, ellipse, polygon = (
            g.find(SVG + "rect"),
            g.find(SVG + "ellipse"),
            g.find(SVG + "polygon"),
        )
        if rect is not None:
            x, y = float(rect.get("x")), float(rect.get("y"))
            w, h = float(rect.get("width")), float(rect.get("height"))
            box = Box(x, y, x + w, y + h, "rect", texts, rect)
        elif ellipse is not None:
            cx, cy = float(ellipse.get("cx")), float(ellipse.get("cy"))
            rx, ry = float(ellipse.get("rx")), float(ellipse.get("ry"))
            box = Box(cx - rx, cy - ry, cx + rx, cy + ry, "ellipse", texts, ellipse)
        elif polygon is not None:
            pts = [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            box = Box(min(xs), min(ys), max(xs), max(ys), "polygon", texts, polygon)
        else:
            box = Box(0, 0, 0, 0, "none", texts, None)
        assert title not in boxes, f"two node groups for {title}"
        boxes[title] = box
    return boxes


def _bezier(p0, p1, p2, p3, steps=16):
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


def path_points(d: str) -> list:
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points: list = []
    i = 0
    while i < len(tokens):
        command = tokens[i]
        i += 1
        count = 6 if command == "C" else 2
        numbers = [float(t) for t in tokens[i : i + count]]
        i += count
        pairs = list(zip(numbers[::2], numbers[1::2]))
        if command == "C":
            points.extend(_bezier(points[-1], *pairs))
        else:
            points.append(pairs[0])
    return points


def edge_paths(root) -> list[Edge]:
    edges = []
    for g in groups(root, "edge"):
        tail, head = g.find(SVG + "title").text.split("->")
        path = g.find(SVG + "path")
        arrow = g.find(SVG + "polygon")
        tip = None
        if arrow is not None:
            tip = tuple(map(float, arrow.get("points").split()[0].split(",")))
        edges.append(Edge(tail, head, path_points(path.get("d")), tip, g))
    return edges


def densify(points, step=2.0):
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out.extend((x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1))
    return out


def _segments_cross(p, q, r, s) -> bool:
    """Proper crossing of segments pq and rs."""

    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(r, s, p), orient(r, s, q)
    d3, d4 = orient(p, q, r), orient(p, q, s)
    return d1 * d2 < -1e-9 and d3 * d4 < -1e-9


def crossings(edges: list[Edge]) -> int:
    count = 0
    for i, a in enumerate(edges):
        for b in edges[i + 1 :]:
            if {a.tail, a.head} & {b.tail, b.head}:
                continue
            for p, q in zip(a.points, a.points[1:]):
                for r, s in zip(b.points, b.points[1:]):
                    count += _segments_cross(p, q, r, s)
    return count


# --------------------------------------------------------------------------- the checks


def assert_no_overlap(boxes: dict[str, Box], tol: float = 0.5) -> None:
    items = sorted(boxes.items(), key=lambda kv: kv[1].x0)
    for i, (a, ba) in enumerate(items):
        for b, bb in items[i + 1 :]:
            if bb.x0 >= ba.x1 - tol:
                break
            overlap = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            assert overlap <= tol, f"boxes {a} and {b} overlap"


def assert_labels_inside(graph: Graph, boxes: dict[str, Box]) -> None:
    for node in graph.nodes:
        box = boxes[node.id]
        lines = node.label.split("\n")
        assert box.texts == lines, (node.id, box.texts)
        longest = max(len(line) for line in lines)
        assert box.x1 - box.x0 >= longest * CHAR_WIDTH * FONT_SIZE
        assert box.y1 - box.y0 >= len(lines) * LINE_HEIGHT


def assert_edges_join(graph: Graph, root) -> list[Edge]:
    boxes = node_boxes(root)
    edges = edge_paths(root)
    assert [(e.tail, e.head) for e in edges] == [(e.tail, e.head) for e in graph.edges]
    for edge in edges:
        tail, head = boxes[edge.tail], boxes[edge.head]
        start, end = edge.points[0], edge.points[-1]
        assert tail.on_border(*start), f"{edge.tail}->{edge.head} starts off its tail's border"
        if edge.tip is not None:
            assert head.on_border(*edge.tip), f"{edge.tail}->{edge.head}: tip off its head"
            assert math.dist(end, edge.tip) <= ARROW_LENGTH + 0.5
        else:
            assert head.on_border(*end), f"{edge.tail}->{edge.head} ends off its head's border"
    return edges


def assert_edges_avoid_boxes(root) -> None:
    """No edge runs through a box: not another one, nor its own tail or head."""
    boxes = node_boxes(root)
    for edge in edge_paths(root):
        points = densify(edge.points, 2.0)
        for name, box in boxes.items():
            if box.shape == "none":
                continue
            for x, y in points:
                assert not box.inside(x, y, 1.0), f"{edge.tail}->{edge.head} runs through {name}"


# --------------------------------------------------------------------------- graphs


def lesson_graph(rankdir: str = "TB") -> Graph:
    """What make_dot draws for y = 5*x**3 + 2*x**2 + 4*x + 8 (inputs point to consumers)."""
    g = Graph(rankdir=rankdir)
    for node_id, label, colour in [
        ("y", "y\n ()", "darkolivegreen1"),
        ("add3", "AddBackward0", "lightgrey"),
        ("add2", "AddBackward0", "lightgrey"),
        ("add1", "AddBackward0", "lightgrey"),
        ("mul5", "MulBackward0", "lightgrey"),
        ("mul2", "MulBackward0", "lightgrey"),
        ("mul4", "MulBackward0", "lightgrey"),
        ("pow3", "PowBackward0", "lightgrey"),
        ("pow2", "PowBackward0", "lightgrey"),
        ("acc", "AccumulateGrad", "lightgrey"),
        ("x", "x\n ()", "lightblue"),
    ]:
        g.nodes.append(VizNode(node_id, label, fillcolor=colour))
    for tail, head in [
        ("add3", "y"),
        ("add2", "add3"),
        ("add1", "add2"),
        ("mul4", "add2"),
        ("mul5", "add1"),
        ("mul2", "add1"),
        ("pow3", "mul5"),
        ("pow2", "mul2"),
        ("acc", "pow3"),
        ("acc", "pow2"),
        ("acc", "mul4"),
        ("x", "acc"),
    ]:
        g.edges.append(VizEdge(tail, head))
    return g


def random_dag(n: int, m: int, seed: int, rankdir: str = "TB") -> Graph:
    rng = random.Random(seed)
    g = Graph(rankdir=rankdir)
    g.nodes = [
        VizNode(f"n{i}", f"node {i}" + ("\nsecond line" if i % 4 == 0 else ""), shape=s)
        for i, s in zip(range(n), ["box", "box", "oval", "box", "note"] * n)
    ]
    pairs = set()
    while len(pairs) < m:
        a = rng.randrange(n - 1)
        pairs.add((a, min(n - 1, a + rng.randint(1, 6))))
    g.edges = [VizEdge(f"n{a}", f"n{b}") for a, b in sorted(pairs)]
    return g


def grid_graph(size: int, seed: int) -> Graph:
    """A size x size grid, edges right and down: layered by i + j, drawable with no crossing.
    Nodes and edges come in a shuffled order."""
    rng = random.Random(seed)
    cells = [(i, j) for i in range(size) for j in range(size)]
    rng.shuffle(cells)
    edges = [((i, j), (i + 1, j)) for i, j in cells if i + 1 < size]
    edges += [((i, j), (i, j + 1)) for i, j in cells if j + 1 < size]
    rng.shuffle(edges)
    g = Graph()
    g.nodes = [VizNode(f"g{i}_{j}", f"({i},{j})") for i, j in cells]
    g.edges = [VizEdge(f"g{a[0]}_{a[1]}", f"g{b[0]}_{b[1]}") for a, b in edges]
    return g


def tree_graph(n: int, seed: int | None = None) -> Graph:
    """A binary tree with the leaves on top: every node points to its parent."""
    order = list(range(n))
    if seed is not None:
        random.Random(seed).shuffle(order)
    g = Graph()
    g.nodes = [VizNode(f"t{i}", f"AddBackward0\n#{i}") for i in order]
    g.edges = [VizEdge(f"t{i}", f"t{(i - 1) // 2}") for i in order if i]
    return g


# --------------------------------------------------------------------------- tests


def test_lesson_graph_is_a_readable_svg():
    graph = lesson_graph()
    svg = render_svg(graph)
    assert svg.startswith("<?xml")
    root = parse(svg)
    assert root.tag == SVG + "svg"
    assert root.get("viewBox").startswith("0 0 ")
    graph_group = groups(root, "graph")[0]
    assert "monospace" in graph_group.get("font-family")
    background = root.find(f"{SVG}g/{SVG}rect")
    assert background.get("fill") == "#ffffff"
    boxes = node_boxes(root)
    assert sorted(boxes) == sorted(n.id for n in graph.nodes)
    assert_labels_inside(graph, boxes)
    assert_no_overlap(boxes)
    edges = assert_edges_join(graph, root)
    assert_edges_avoid_boxes(root)
    assert crossings(edges) == 0
    # layered top to bottom: every arrow points down, x at the top, y at the bottom
    for edge in edges:
        assert boxes[edge.head].y0 >= boxes[edge.tail].y1 + 10
    assert boxes["x"].y0 == min(b.y0 for b in boxes.values())
    assert boxes["y"].y1 == max(b.y1 for b in boxes.values())
    # every box fits in the picture
    _, _, width, height = map(float, root.get("viewBox").split())
    for b in boxes.values():
        assert b.x0 >= 0 and b.x1 <= width and b.y0 >= 0 and b.y1 <= height


def test_every_text_sits_inside_its_box():
    graph = random_dag(40, 60, 3)
    root = parse(render_svg(graph))
    boxes = node_boxes(root)
    for g in groups(root, "node"):
        box = boxes[g.find(SVG + "title").text]
        for text in g.findall(SVG + "text"):
            x, y = float(text.get("x")), float(text.get("y"))
            assert text.get("text-anchor") == "middle"
            half = len(text.text or "") * CHAR_WIDTH * FONT_SIZE / 2
            assert box.x0 <= x - half and x + half <= box.x1
            assert box.y0 < y - FONT_SIZE * 0.7 and y < box.y1


@pytest.mark.parametrize("rankdir", ["TB", "BT", "LR", "RL"])
def test_rankdir_orders_the_layers(rankdir):
    for graph in (lesson_graph(rankdir), random_dag(30, 45, 1, rankdir)):
        root = parse(render_svg(graph))
        boxes = node_boxes(root)
        assert_no_overlap(boxes)
        edges = assert_edges_join(graph, root)
        assert_edges_avoid_boxes(root)
        for edge in edges:
            tail, head = boxes[edge.tail], boxes[edge.head]
            if rankdir == "TB":
                assert head.y0 > tail.y1
            elif rankdir == "BT":
                assert head.y1 < tail.y0
            elif rankdir == "LR":
                assert head.x0 > tail.x1
            else:
                assert head.x1 < tail.x0


def test_edges_pass_a_tall_neighbour_by():
    """A short box beside a tall one: an edge from the short box to the far side runs down
    its own column until the tall box's layer ends, then turns."""
    g = Graph()
    g.nodes = [
        VizNode("tall", "\n".join(["TallBackward0"] * 8)),
        VizNode("short", "s"),
        VizNode("a", "AddBackward0"),
        VizNode("b", "MulBackward0"),
    ]
    g.edges = [
        VizEdge("short", "a"),
        VizEdge("short", "b"),
        VizEdge("tall", "a"),
        VizEdge("tall", "b"),
    ]
    for rankdir in ("TB", "LR"):
        g.rankdir = rankdir
        root = parse(render_svg(g))
        assert_edges_join(g, root)
        assert_edges_avoid_boxes(root)


def test_lr_keeps_the_boxes_and_turns_the_picture():
    tb = node_boxes(parse(render_svg(lesson_graph("TB"))))
    lr = node_boxes(parse(render_svg(lesson_graph("LR"))))
    for name, box in tb.items():  # labels are not rotated: same box sizes
        assert math.isclose(box.x1 - box.x0, lr[name].x1 - lr[name].x0, abs_tol=0.2)
        assert math.isclose(box.y1 - box.y0, lr[name].y1 - lr[name].y0, abs_tol=0.2)
    assert lr["x"].x0 == min(b.x0 for b in lr.values())
    assert lr["y"].x1 == max(b.x1 for b in lr.values())


@pytest.mark.parametrize("seed", range(4))
def test_no_overlap_and_edges_join_on_random_graphs(seed):
    graph = random_dag(60, 100, seed)
    root = parse(render_svg(graph))
    boxes = node_boxes(root)
    assert_labels_inside(graph, boxes)
    assert_no_overlap(boxes)
    assert_edges_join(graph, root)
    assert_edges_avoid_boxes(root)


@pytest.mark.parametrize("seed", range(5))
def test_no_crossings_where_a_plane_drawing_exists(seed):
    for graph in (grid_graph(5, seed), tree_graph(31, seed)):
        root = parse(render_svg(graph))
        edges = assert_edges_join(graph, root)
        assert crossings(edges) == 0
        assert compute_layout(graph).crossings == 0


def test_crossing_reduction_does_work():
    """The grid's shuffled starting orders do cross: the sweeps are what removes them."""
    graph = grid_graph(5, 0)
    root = parse(render_svg(graph))
    assert crossings(edge_paths(root)) == 0
    swept = layer_order._improve
    try:
        layer_order._improve = lambda work, layers, count, rounds, passes: (layers, count)
        initial = [compute_layout(grid_graph(5, seed)).crossings for seed in range(5)]
    finally:
        layer_order._improve = swept
    assert max(initial) > 0


def test_same_graph_same_svg():
    first = render_svg(random_dag(50, 80, 7))
    second = render_svg(random_dag(50, 80, 7))
    assert first == second
    assert render_svg(lesson_graph()) == render_svg(lesson_graph())


def test_xml_special_characters_are_escaped():
    label = "a < b && c > d \"quoted\" 'single'\nsecond <line> & more"
    g = Graph(notes=["note with <angle> & ampersand"])
    g.nodes = [
        VizNode('n<1>&"', label, fillcolor="lightblue"),
        VizNode("plain", "bad \x01 char\ttab"),
    ]
    g.edges = [VizEdge('n<1>&"', "plain", label="x<y & z")]
    svg = render_svg(g)
    assert "\x01" not in svg
    root = parse(svg)
    boxes = node_boxes(root)
    assert boxes['n<1>&"'].texts == label.split("\n")
    assert boxes["plain"].texts == ["bad \ufffd char  tab"]  # the tab: to column 12
    node_group = groups(root, "node")[0]
    assert node_group.get("id") == 'n<1>&"'
    edge = groups(root, "edge")[0]
    assert edge.find(SVG + "title").text == 'n<1>&"->plain'
    assert [t.text for t in edge.findall(SVG + "text")] == ["x<y & z"]
    notes = groups(root, "notes")[0]
    assert [t.text for t in notes.findall(SVG + "text")] == ["note with <angle> & ampersand"]


def test_multiline_labels_one_text_per_line():
    g = Graph(nodes=[VizNode("a", "first\nsecond line is longer\n\nfourth")])
    root = parse(render_svg(g))
    group = groups(root, "node")[0]
    texts = group.findall(SVG + "text")
    assert [t.text or "" for t in texts] == ["first", "second line is longer", "", "fourth"]
    ys = [float(t.get("y")) for t in texts]
    assert all(b - a == pytest.approx(LINE_HEIGHT, abs=0.11) for a, b in zip(ys, ys[1:]))
    box = node_boxes(root)["a"]
    assert box.x1 - box.x0 >= len("second line is longer") * CHAR_WIDTH * FONT_SIZE
    assert box.y1 - box.y0 >= 4 * LINE_HEIGHT


def test_wide_characters_get_room():
    g = Graph(nodes=[VizNode("a", "梯度梯度梯度梯度"), VizNode("b", "abcdefgh")])
    boxes = node_boxes(parse(render_svg(g)))
    assert boxes["a"].x1 - boxes["a"].x0 > boxes["b"].x1 - boxes["b"].x0 + 30


def test_colours_shapes_and_styles():
    g = Graph()
    g.nodes = [
        VizNode("blue", "leaf", fillcolor="lightblue", style="filled,rounded"),
        VizNode("green", "out", fillcolor="darkolivegreen1", style="filled"),
        VizNode("orange", "saved", fillcolor="orange", shape="oval"),
        VizNode("grey", "op", fillcolor="lightgrey"),
        VizNode("white", "w", fillcolor="white", shape="ellipse"),
        VizNode("hex", "h", fillcolor="#12ab9F"),
        VizNode("bare", "no fill", style=""),
        VizNode("note", "a note", shape="note"),
    ]
    g.edges = [
        VizEdge("blue", "green"),
        VizEdge("green", "orange", style="dotted"),
        VizEdge("orange", "grey", style="dashed"),
        VizEdge("grey", "white", style="bold"),
    ]
    root = parse(render_svg(g))
    boxes = node_boxes(root)
    fills = {name: box.element.get("fill") for name, box in boxes.items()}
    assert fills["blue"] == "#add8e6"
    assert fills["green"] == "#caff70"
    assert fills["orange"] == "#ffa500"
    assert fills["grey"] == "#d3d3d3"
    assert fills["white"] == "#ffffff"
    assert fills["hex"] == "#12ab9f"
    assert fills["bare"] == "none"
    assert boxes["blue"].element.get("rx") is not None  # rounded
    assert boxes["green"].element.get("rx") is None
    assert boxes["orange"].shape == boxes["white"].shape == "ellipse"
    assert boxes["note"].shape == "polygon"
    edges = {(e.tail, e.head): e for e in edge_paths(root)}
    dotted = edges[("green", "orange")].element.find(SVG + "path")
    assert dotted.get("stroke-dasharray")
    assert edges[("green", "orange")].tip is None  # saved-tensor links: no head, as torchviz
    assert edges[("orange", "grey")].element.find(SVG + "path").get("stroke-dasharray")
    assert edges[("grey", "white")].element.find(SVG + "path").get("stroke-width") == "2"
    assert edges[("blue", "green")].tip is not None
    assert_edges_join(g, root)


def test_colour_names():
    assert color("lightblue") == ("#add8e6", 1.0)
    assert color("darkolivegreen1") == ("#caff70", 1.0)
    assert color("LightGrey") == ("#d3d3d3", 1.0)
    assert color("#ABC") == ("#abc", 1.0)
    assert color("#11223380") == ("#112233", 0.502)
    assert color("grey50") == ("#7f7f7f", 1.0)  # X11's
    assert color("orange3")[0].startswith("#")
    assert color("0.0 1.0 1.0") == ("#ff0000", 1.0)
    assert color("red:blue") == ("#ff0000", 1.0)
    assert color("coral") == ("#ff7f50", 1.0)
    assert color("salmon4") == ("#fa8072", 1.0)
    assert color("seagreen") == ("seagreen", 1.0)  # any other name: the viewer knows it
    assert color("url(#x)") == ("#d3d3d3", 1.0)  # nothing that is not a colour gets through
    assert color("") == ("#d3d3d3", 1.0)
    assert color("transparent") == ("none", 1.0)


def test_edge_labels_sit_beside_their_edge_and_off_the_boxes():
    g = lesson_graph()
    g.edges[3].label = "4 * x"
    g.edges[8].label = "x ** 3\nsecond line"
    root = parse(render_svg(g))
    boxes = node_boxes(root)
    assert_no_overlap(boxes)
    assert_edges_join(g, root)
    assert_edges_avoid_boxes(root)
    labelled = [e for e in groups(root, "edge") if e.findall(SVG + "text")]
    assert [[t.text for t in e.findall(SVG + "text")] for e in labelled] == [
        ["4 * x"],
        ["x ** 3", "second line"],
    ]
    for group in labelled:
        for text in group.findall(SVG + "text"):
            x, y = float(text.get("x")), float(text.get("y"))
            half = len(text.text) * CHAR_WIDTH * FONT_SIZE / 2
            for name, box in boxes.items():
                clear = x + half < box.x0 or x - half > box.x1 or y < box.y0 or y - 9 > box.y1
                assert clear, f"label {text.text!r} on box {name}"


def test_notes_are_written_below_the_picture():
    g = lesson_graph()
    g.notes = ["max_nodes=10: 4 nodes left out", "second note"]
    g.attributes = {"label": "the lesson"}
    root = parse(render_svg(g))
    notes = groups(root, "notes")[0]
    texts = notes.findall(SVG + "text")
    assert [t.text for t in texts] == [
        "the lesson",
        "max_nodes=10: 4 nodes left out",
        "second note",
    ]
    lowest = max(b.y1 for b in node_boxes(root).values())
    _, _, width, height = map(float, root.get("viewBox").split())
    for text in texts:
        assert lowest < float(text.get("y")) <= height
    plain = parse(render_svg(lesson_graph()))
    assert not groups(plain, "notes")
    assert height > float(plain.get("viewBox").split()[3])


def test_cycles_self_loops_and_undeclared_nodes():
    g = Graph()
    g.nodes = [VizNode(name, name.upper()) for name in "abcd"]
    g.edges = [
        VizEdge("a", "b"),
        VizEdge("b", "c"),
        VizEdge("c", "a"),  # a cycle: drawn, pointing the right way
        VizEdge("b", "b", label="again"),  # a self-loop
        VizEdge("c", "ghost"),  # a node never declared: drawn with its id
        VizEdge("d", "a"),
        VizEdge("d", "a"),  # the same edge twice: two arrows
    ]
    root = parse(render_svg(g))
    boxes = node_boxes(root)
    assert boxes["ghost"].texts == ["ghost"]
    assert_no_overlap(boxes)
    edges = assert_edges_join(g, root)
    assert_edges_avoid_boxes(root)
    for edge in edges:  # the cycle is drawn in layers too, one of its edges pointing up
        if edge.tail != edge.head:
            tail, head = boxes[edge.tail], boxes[edge.head]
            assert head.y0 > tail.y1 or head.y1 < tail.y0
    loop = next(e for e in edges if e.tail == e.head)
    assert loop.tip is not None and boxes["b"].on_border(*loop.tip)
    tips = [e.tip for e in edges if (e.tail, e.head) == ("d", "a")]
    assert math.dist(*tips) > 2 * 3  # the two arrows do not sit on each other
    label = [t.text for t in loop.element.findall(SVG + "text")]
    assert label == ["again"]


def test_repeated_ids_are_one_node_and_the_last_attributes_win():
    g = Graph(nodes=[VizNode("a", "first"), VizNode("b", "B"), VizNode("a", "second")])
    g.edges = [VizEdge("a", "b")]
    boxes = node_boxes(parse(render_svg(g)))
    assert sorted(boxes) == ["a", "b"]
    assert boxes["a"].texts == ["second"]


def test_empty_and_single_node_graphs():
    root = parse(render_svg(Graph()))
    assert not groups(root, "node") and not groups(root, "edge")
    root = parse(render_svg(Graph(nodes=[VizNode("only", "alone")])))
    assert list(node_boxes(root)) == ["only"]


def test_a_huge_fan_out_stays_within_the_virtual_node_budget(monkeypatch):
    """A node feeding every step of a long chain would need ~n**2/2 virtual nodes: past the
    budget the longest edges are drawn direct, and every edge still joins its boxes."""
    monkeypatch.setattr(layout, "VIRTUAL_LEAST", 100)
    monkeypatch.setattr(layout, "VIRTUAL_PER_NODE", 1)
    g = Graph(nodes=[VizNode("hub", "AccumulateGrad")])
    g.nodes += [VizNode(f"s{i}", "MulBackward0") for i in range(40)]
    g.edges = [VizEdge(f"s{i}", f"s{i + 1}") for i in range(39)]
    g.edges += [VizEdge("hub", f"s{i}") for i in range(40)]
    tails = [i + 1 for i in range(39)] + [0] * 40  # the chain, then the hub's edges
    heads = [i + 2 for i in range(39)] + [i + 1 for i in range(40)]
    placed = layout.place([80.0] * 41, [26.0] * 41, tails, heads, [None] * 79)
    assert len(placed.layer) - 41 <= 100
    spans = [placed.layer[c[-1]] - placed.layer[c[0]] for c in placed.chains]
    direct = [c for c, span in zip(placed.chains, spans) if span > 1 and len(c) == 2]
    assert direct  # some long edges got no virtual nodes
    root = parse(render_svg(g))
    assert_no_overlap(node_boxes(root))
    assert_edges_join(g, root)


def test_large_graphs_lay_out():
    """A 100,000-node chain and a 20,000-node binary tree (no timing asserted)."""
    chain = Graph()
    chain.nodes = [VizNode(f"c{i}", "MulBackward0") for i in range(100_000)]
    chain.edges = [VizEdge(f"c{i}", f"c{i + 1}") for i in range(99_999)]
    root = parse(render_svg(chain))
    assert len(groups(root, "node")) == 100_000
    assert len(groups(root, "edge")) == 99_999
    tree = tree_graph(20_000)
    drawing = compute_layout(tree)
    assert drawing.crossings == 0
    root = parse(render_svg(tree))
    assert len(groups(root, "node")) == 20_000


def test_make_dot_pictures():
    dot = pytest.importorskip("gradienti.viz.dot")
    import gradienti

    x = gradienti.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    for graph in (
        dot.make_dot(y, params={"x": x}).graph,
        dot.make_dot(y, params={"x": x}, show_saved=True).graph,
    ):
        root = parse(render_svg(graph))
        boxes = node_boxes(root)
        assert_labels_inside(graph, boxes)
        assert_no_overlap(boxes)
        edges = assert_edges_join(graph, root)
        assert_edges_avoid_boxes(root)
        assert crossings(edges) == 0
        names = [box.texts[0] for box in boxes.values()]
        assert names.count("PowBackward0") == 2
        assert names.count("MulBackward0") == 3
        assert names.count("AddBackward0") == 3
        assert names.count("AccumulateGrad") == 1
        assert "x" in names


def test_graph_size_scales_the_shown_picture_like_graphviz():
    def shown(attributes):
        g = lesson_graph()
        g.attributes = attributes
        root = parse(render_svg(g))
        _, _, width, height = map(float, root.get("viewBox").split())
        shown_w, shown_h = (float(root.get(a).removesuffix("pt")) for a in ("width", "height"))
        return width, height, shown_w, shown_h

    width, height, shown_w, shown_h = shown({})
    assert (shown_w, shown_h) == (width, height)
    assert shown({"size": "12,12"})[2:] == (width, height)  # it fits: unchanged, as in dot
    _, _, shown_w, shown_h = shown({"size": "2,3"})
    assert max(shown_w / 144, shown_h / 216) == pytest.approx(1.0, abs=0.01)
    assert shown_w / shown_h == pytest.approx(width / height, rel=0.01)
    _, _, shown_w, _ = shown({"size": "20,20!"})
    assert shown_w > width
    assert shown({"size": "big"})[2:] == (width, height)
