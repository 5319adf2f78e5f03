"""make_dot's ``Dot`` behaves like ``graphviz.Digraph`` where torchviz users touch it.

The expected texts, file names and messages are the graphviz package's (0.21), checked against
it; where it is installed, ``test_statements_match_the_graphviz_package`` compares directly.
Pictures are drawn by a stand-in (``fake_renderer``) where only the files matter, and by the
built-in SVG renderer where the drawing itself is tested.
"""

import os
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_viz_dot import torchviz_structure

import gradienti
from gradienti.viz import Dot, make_dot, to_dot
from gradienti.viz import dotfile as dotfile_module
from gradienti.viz import render as render_module
from gradienti.viz.dot_statements import (
    drawing_graph,
    edge_statement,
    node_statement,
    parse_statement,
)
from gradienti.viz.graph import Graph, VizEdge, VizNode
from gradienti.viz.svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"


def lesson(module=gradienti):
    x = module.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


def lesson_dot(**options) -> Dot:
    x, y = lesson()
    return make_dot(y, params={"x": x}, **options)


@pytest.fixture
def fake_renderer(monkeypatch):
    """Every picture is ``b"picture <format>"``; records (format, source, drawing)."""
    calls = []

    def render_graph(graph, format="svg", *, source=None, renderer=None, timeout=None):
        calls.append((format, source, graph))
        return f"picture {format}".encode()

    monkeypatch.setattr(render_module, "render_graph", render_graph)
    return calls


@pytest.fixture
def no_graphviz(monkeypatch):
    monkeypatch.setattr(render_module, "find_graphviz_pure", lambda: None)
    monkeypatch.setattr(render_module, "find_dot", lambda: None)
    monkeypatch.delenv(render_module.RENDERER_ENV, raising=False)


def files(folder) -> list:
    return sorted(
        os.path.relpath(os.path.join(root, name), folder)
        for root, _, names in os.walk(folder)
        for name in names
    )


def builtin_svg(dot: Dot) -> str:
    return dot.pipe("svg", renderer="builtin", encoding="utf-8")


def node_fill(svg: str, node_id: str) -> str:
    root = ET.fromstring(svg)
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node" and group.get("id") == node_id:
            return next(e.get("fill") for e in group if e.get("fill") is not None)
    raise KeyError(node_id)


def svg_titles(svg: str) -> set:
    return {element.text for element in ET.fromstring(svg).iter(f"{SVG}title")}


# -------------------------------------------------------------------- source and body


def test_source_body_and_attribute_dicts_of_make_dot():
    dot = lesson_dot()
    assert dot.source == to_dot(dot.graph) == str(dot)
    assert dot.source.startswith("digraph {\n") and dot.source.endswith("}\n")
    # As graphviz: one statement a line, tab in front, newline behind; the defaults apart.
    assert all(line.startswith("\t") and line.endswith("\n") for line in dot.body)
    assert len(dot.body) == len(dot.graph.nodes) + len(dot.graph.edges) == 23
    assert dot.graph_attr == {"size": "12,12"}
    # torchviz's node defaults are all there (the renderer's font and margin may be added).
    torchviz_node_attr = {
        "style": "filled",
        "shape": "box",
        "align": "left",
        "fontsize": "10",
        "ranksep": "0.1",
        "height": "0.2",
    }
    assert torchviz_node_attr.items() <= dot.node_attr.items()
    assert dot.edge_attr == {}
    assert (dot.name, dot.comment, dot.engine, dot.format) == (None, None, "dot", "svg")
    assert (dot.filename, dot.directory, dot.filepath) == ("Digraph.gv", "", "Digraph.gv")


def test_len_body_counts_what_torchviz_draws():
    torch = pytest.importorskip("torch")
    tx, ty = lesson(torch)
    labels, edges = torchviz_structure(ty, {"x": tx})
    x, y = lesson()
    # torchviz's Digraph has one body line per node and one per edge.
    assert len(make_dot(y, params={"x": x}).body) == sum(labels.values()) + sum(edges.values())


def test_attribute_dicts_change_the_source():
    dot = lesson_dot()
    dot.graph_attr["rankdir"] = "LR"
    dot.node_attr["fillcolor"] = "red"
    dot.edge_attr["arrowsize"] = "0.5"
    lines = dot.source.splitlines()
    assert lines[1] == '\tgraph [size="12,12" rankdir=LR]'
    assert lines[2].startswith("\tnode [") and lines[2].endswith(" fillcolor=red]")
    assert lines[3] == "\tedge [arrowsize=0.5]"
    assert lines[4:-1] == [line.rstrip("\n") for line in dot.body]


def test_attr_node_edge_write_graphvizs_statements():
    dot = Dot()
    assert dot.source == "digraph {\n}\n"
    dot.attr(rankdir="LR", size="5")
    dot.attr("node", shape="ellipse")
    dot.attr("edge")  # nothing to set: no statement, as graphviz
    dot.node("a", "x\ny", fillcolor="red", color="blue", ignored=None)
    dot.node("b")
    dot.edge("a", "b", label="l")
    dot.edges([("b", "c"), ("c", "a")])
    assert dot.body == [
        "\trankdir=LR size=5\n",
        "\tnode [shape=ellipse]\n",
        '\ta [label="x\\ny" color=blue fillcolor=red]\n',
        "\tb\n",
        "\ta -> b [label=l]\n",
        "\tb -> c\n",
        "\tc -> a\n",
    ]
    assert dot.source == "digraph {\n" + "".join(dot.body) + "}\n"


def test_bad_attr_target_is_graphvizs_error_and_changes_nothing():
    dot = lesson_dot()
    before = list(dot.body)
    with pytest.raises(
        ValueError, match="^attr statement must target graph, node, or edge: 'foo'$"
    ):
        dot.attr("foo", color="red")
    assert dot.body == before


def test_name_comment_and_quoting():
    dot = Dot(name="my graph", comment="drawn by a test")
    dot.node("a b", 'say "hi"')
    assert dot.source == (
        '// drawn by a test\ndigraph "my graph" {\n\t"a b" [label="say \\"hi\\""]\n}\n'
    )


def test_statements_match_the_graphviz_package():
    graphviz = pytest.importorskip("graphviz")
    theirs = graphviz.Digraph(
        name="g", comment="c", graph_attr={"size": "5"}, node_attr={"shape": "box"}
    )
    ours = Dot(name="g", comment="c", graph_attr={"size": "5"}, node_attr={"shape": "box"})
    for dot in (theirs, ours):
        dot.attr(rankdir="LR", size="5")
        dot.attr("node", shape="ellipse", style="filled")
        dot.node("a", "first", fillcolor="red", color="blue")
        dot.node("b")
        dot.edge("a", "b", label="l", style="dashed")
        dot.edges([("b", "c")])
    assert ours.body == theirs.body
    assert ours.source == theirs.source
    assert (ours.filename, ours.directory, ours.engine) == (
        theirs.filename,
        theirs.directory,
        theirs.engine,
    )


def test_copy_is_independent():
    dot = lesson_dot()
    dot.format = "png"
    twin = dot.copy()
    assert twin.source == dot.source and twin.format == "png" and twin.graph is dot.graph
    twin.attr(rankdir="LR")
    twin.node_attr["fillcolor"] = "red"
    assert "rankdir" not in dot.source and "fillcolor=red" not in dot.source
    assert len(twin.body) == len(dot.body) + 1


def test_clear():
    dot = lesson_dot()
    dot.clear(keep_attrs=True)
    assert dot.body == [] and dot.graph_attr == {"size": "12,12"}
    dot.clear()
    assert dot.node_attr == {} and dot.source == "digraph {\n}\n"


# ------------------------------------------------------------------ format and engine


def test_format_and_engine_are_checked_as_graphviz_does():
    dot = lesson_dot()
    dot.format = "PNG"
    assert dot.format == "png"
    with pytest.raises(ValueError, match=r"^unknown format: 'xyz' \(must be one of \["):
        dot.format = "xyz"
    assert dot.format == "png"  # a failed set changes nothing
    with pytest.raises(ValueError, match=r"^unknown engine: 'foo' \(must be one of \["):
        dot.engine = "foo"
    with pytest.raises(ValueError, match="engine 'neato' is not available"):
        dot.engine = "neato"
    dot.engine = "dot"
    assert dot.engine == "dot"
    with pytest.raises(ValueError, match="^unknown format: 'jpg'"):
        Dot(format="jpg")


# ------------------------------------------------------------------------- rendering


def test_format_png_then_render_writes_the_source_and_the_picture(
    fake_renderer, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    dot.format = "png"
    assert dot.render("graph") == "graph.png"
    assert files(tmp_path) == ["graph", "graph.png"]
    assert (tmp_path / "graph").read_text() == dot.source
    assert (tmp_path / "graph.png").read_bytes() == b"picture png"
    assert dot.filename == "graph"
    # torchviz's habit: the format as an argument, cleanup removes the source.
    assert dot.render("other", format="pdf", cleanup=True) == "other.pdf"
    assert files(tmp_path) == ["graph", "graph.png", "other.pdf"]
    assert dot.format == "png"  # render's format is for this call only


def test_render_defaults_and_directory(fake_renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    assert dot.render() == "Digraph.gv.svg"
    assert dot.render("g", directory="out") == os.path.join("out", "g.svg")
    assert (dot.filename, dot.directory) == ("g", "out")
    assert dot.render() == os.path.join("out", "g.svg")  # remembered, as graphviz
    assert files(tmp_path) == ["Digraph.gv", "Digraph.gv.svg", "out/g", "out/g.svg"]


def test_a_name_ending_in_the_format_is_the_picture(fake_renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    assert dot.render("graph.svg") == "graph.svg"
    assert dot.render("graph.png") == "graph.png"  # gradienti's: format from the name
    assert files(tmp_path) == ["graph.png", "graph.svg"]
    assert [call[0] for call in fake_renderer] == ["svg", "png"]


def test_render_outfile(fake_renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    os.mkdir("out")
    assert dot.render(outfile=os.path.join("out", "g.png")) == os.path.join("out", "g.png")
    assert files(tmp_path) == ["out/g.gv", "out/g.png"]
    assert (tmp_path / "out" / "g.png").read_bytes() == b"picture png"
    with pytest.raises(TypeError, match=r"^cannot infer rendering format from suffix '.xyz'"):
        dot.render(outfile="g.xyz")
    with pytest.raises(ValueError, match="outfile 'g.gv' must be different from input file"):
        dot.render(outfile="g.gv")
    assert files(tmp_path) == ["out/g.gv", "out/g.png"]


def test_raise_if_result_exists(fake_renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    dot.render("g")
    with pytest.raises(FileExistsError, match=r"^output file exists: 'g.svg'$"):
        dot.render("g", raise_if_result_exists=True)
    with pytest.raises(ValueError, match="cannot be combined"):
        dot.render("g", raise_if_result_exists=True, overwrite_source=True)


def test_unknown_format_in_render_and_pipe_writes_nothing(fake_renderer, tmp_path):
    dot = lesson_dot()
    with pytest.raises(ValueError, match="^unknown format: 'xyz'"):
        dot.render("g", directory=tmp_path, format="xyz")
    with pytest.raises(ValueError, match="^unknown format: 'xyz'"):
        dot.pipe("xyz")
    assert files(tmp_path) == [] and fake_renderer == []
    assert (dot.filename, dot.directory) == ("Digraph.gv", "")


def test_png_with_no_png_renderer_is_gradientis_message(no_graphviz, tmp_path):
    dot = lesson_dot()
    dot.format = "png"
    with pytest.raises(RuntimeError, match=r"rendering png needs Graphviz: pip install"):
        dot.render("g", directory=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert (dot.filename, dot.directory) == ("Digraph.gv", "")


def test_refused_graphviz_options(fake_renderer):
    dot = lesson_dot()
    with pytest.raises(ValueError, match="no Graphviz formatter"):
        dot.pipe("svg", formatter="cairo")
    with pytest.raises(ValueError, match="^unknown engine: 'foo'"):
        dot.render("g", engine="foo")
    assert fake_renderer == []
    assert dot.pipe(engine="dot", quiet=True) == b"picture svg"


def test_renderer_chooses_who_draws_not_graphvizs_cairo(no_graphviz, tmp_path):
    dot = lesson_dot()
    with pytest.raises(ValueError, match="renderer='cairo' is not a renderer: use one of auto"):
        dot.render("g", directory=tmp_path, format="svg", renderer="cairo")
    assert list(tmp_path.iterdir()) == []
    path = dot.render("g", directory=tmp_path, renderer="builtin")
    assert ET.fromstring((tmp_path / "g.svg").read_text()).tag == f"{SVG}svg"
    assert path == os.path.join(str(tmp_path), "g.svg")


def test_view_opens_the_rendered_file(fake_renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr(dotfile_module, "_open_in_viewer", opened.append)
    dot = lesson_dot()
    assert dot.view("seen") == "seen.svg"
    assert dot.render("again", view=True, cleanup=True) == "again.svg"
    assert opened == ["seen.svg", "again.svg"]
    assert files(tmp_path) == ["again.svg", "seen", "seen.svg"]


def test_pipe_bytes_text_and_source(fake_renderer):
    dot = lesson_dot()
    assert dot.pipe() == b"picture svg"  # the Dot's format
    assert dot.pipe("png", encoding="ascii") == "picture png"
    fmt, source, _ = fake_renderer[-1]
    assert (fmt, source) == ("png", dot.source)


def test_pipe_dot_is_the_source_with_what_was_added():
    dot = lesson_dot()
    dot.node("note", "remark")
    assert dot.pipe("gv", encoding="utf-8") == dot.source
    assert "\tnote [label=remark]\n}\n" in dot.source


def test_save_writes_and_remembers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()
    assert dot.save() == "Digraph.gv"
    assert dot.save("g.gv", directory="sub") == os.path.join("sub", "g.gv")
    assert (tmp_path / "sub" / "g.gv").read_text() == dot.source
    assert dot.filepath == os.path.join("sub", "g.gv")


# ------------------------------------------------------------- what the picture draws


@pytest.mark.parametrize(
    "options",
    [{}, {"show_saved": True, "show_attrs": True}, {"max_nodes": 3}, {"rankdir": "LR"}],
)
def test_builtin_drawing_of_make_dot_is_unchanged(options):
    dot = lesson_dot(**options)
    assert render_svg(dot.drawing()) == render_svg(dot.graph)


def test_attr_rankdir_changes_the_builtin_drawing():
    turned = lesson_dot(rankdir="LR")
    by_attr = lesson_dot()
    by_attr.attr(rankdir="LR")
    by_dict = lesson_dot()
    by_dict.graph_attr["rankdir"] = "LR"
    assert builtin_svg(by_attr) == builtin_svg(by_dict) == builtin_svg(turned)
    assert builtin_svg(by_attr) != builtin_svg(lesson_dot())


def test_node_attr_fillcolor_fills_the_boxes_without_their_own():
    dot = lesson_dot()
    dot.node_attr["fillcolor"] = "red"
    svg = builtin_svg(dot)
    operation = next(n.id for n in dot.graph.nodes if n.label == "AddBackward0")
    leaf = next(n.id for n in dot.graph.nodes if n.label.startswith("x\n"))
    assert node_fill(svg, operation) == "#ff0000"
    assert node_fill(svg, leaf) == "#add8e6"  # lightblue: its own fillcolor wins


def test_attr_node_applies_to_the_nodes_after_it():
    dot = lesson_dot()
    dot.attr("node", fillcolor="yellow", shape="ellipse")
    dot.node("remark", "what this graph computes")
    svg = builtin_svg(dot)
    assert node_fill(svg, "remark") == "#ffff00"
    operation = next(n.id for n in dot.graph.nodes if n.label == "AddBackward0")
    assert node_fill(svg, operation) == "#d3d3d3"  # declared before: still lightgrey
    root = ET.fromstring(svg)
    remark = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "remark")
    assert remark.find(f"{SVG}ellipse") is not None


def test_size_scales_the_builtin_drawing():
    dot = lesson_dot()
    full = ET.fromstring(builtin_svg(dot))
    dot.graph_attr["size"] = "1,1"
    small = ET.fromstring(builtin_svg(dot))
    assert small.get("viewBox") == full.get("viewBox")
    assert float(small.get("width").rstrip("pt")) <= 72.0 < float(full.get("width").rstrip("pt"))


def test_added_nodes_and_edges_are_drawn_and_shown_in_jupyter():
    dot = lesson_dot()
    dot.node("remark", "the output", shape="note")
    dot.edge("remark", "n0", style="dashed", label="is")
    dot.edge("n0", "undeclared")
    titles = svg_titles(builtin_svg(dot))
    assert {"remark", "undeclared", "remark->n0", "n0->undeclared"} <= titles
    assert "remark" in dot._repr_mimebundle_()["image/svg+xml"]


def test_lines_the_builtin_renderer_cannot_read_are_skipped():
    dot = lesson_dot()
    before = builtin_svg(dot)
    dot.body.append("\tsubgraph cluster_0 { a }\n")
    dot.body.append("\t// a comment\n")
    assert builtin_svg(dot) == before
    assert "subgraph cluster_0" in dot.source


# ------------------------------------------------------------------ make_dot_from_trace


def test_make_dot_from_trace_says_why_it_is_absent():
    with pytest.raises(NotImplementedError, match=r"no JIT tracer.*make_dot\(model\(x\)"):
        gradienti.viz.make_dot_from_trace(object())


# ------------------------------------------------------------ reading the statements


@pytest.mark.parametrize(
    ("line", "statement"),
    [
        (
            '\tn0 [label="x\\n ()" fillcolor=lightblue]\n',
            ("node", "n0", {"label": "x\n ()", "fillcolor": "lightblue"}),
        ),
        ('\t"a \\"b\\"" [label="back\\\\slash"];\n', ("node", 'a "b"', {"label": "back\\slash"})),
        (
            "\ta -> b -> c [style=dotted, dir=none]\n",
            ("edge", ["a", "b", "c"], {"style": "dotted", "dir": "none"}),
        ),
        (
            "\tnode [shape=box style=filled]\n",
            ("attr", "node", {"shape": "box", "style": "filled"}),
        ),
        ('\trankdir=LR size="5,5"\n', ("attr", None, {"rankdir": "LR", "size": "5,5"})),
        ("\t// a note\n", ("skip",)),
        ("\t-1.5\n", ("node", "-1.5", {})),
    ],
)
def test_parse_statement(line, statement):
    assert parse_statement(line) == statement


@pytest.mark.parametrize(
    "line",
    [
        "\tsubgraph cluster_0 { a }\n",
        "\ta:port -> b\n",
        "\ta [label=<b>bold</b>]\n",
        "\ta b\n",
        "\ta [x]\n",
    ],
)
def test_parse_statement_leaves_what_it_cannot_read(line):
    assert parse_statement(line) is None


def test_statements_round_trip_through_the_writers():
    label = 'quote " backslash \\ newline \n end'
    for line in (
        node_statement("a b", label, {"shape": "note"}),
        edge_statement("a b", "c", label, {"style": "dashed"}),
    ):
        kind, subject, attributes = parse_statement(line)
        assert attributes["label"] == label
    assert parse_statement(node_statement("a b", label))[1] == "a b"


def test_drawing_applies_defaults_in_order_and_merges_renamed_nodes():
    graph = drawing_graph(
        {"size": "3"},
        {"style": "filled"},
        {},
        [
            "\ta [fillcolor=red]\n",
            "\tnode [shape=box]\n",
            "\tedge [style=dashed]\n",
            "\ta -> b\n",
            "\ta [label=first]\n",
            "\tgraph [rankdir=RL]\n",
        ],
    )
    nodes = {node.id: node for node in graph.nodes}
    assert (nodes["a"].label, nodes["a"].fillcolor, nodes["a"].shape) == ("first", "red", "ellipse")
    assert (nodes["b"].label, nodes["b"].shape, nodes["b"].style) == ("b", "box", "filled")
    assert [(edge.tail, edge.head, edge.style) for edge in graph.edges] == [("a", "b", "dashed")]
    assert (graph.rankdir, graph.attributes) == ("RL", {"size": "3"})


# Any text but control characters (DOT has no \r: to_dot writes it as a line break).
_labels = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"), max_size=12)
_styles = st.sampled_from(["filled", "filled,rounded", "dashed", ""])
_colours = st.sampled_from(["lightgrey", "lightblue", "orange", "#123456"])
_shapes = st.sampled_from(["box", "ellipse", "note"])


@st.composite
def graphs(draw):
    ids = draw(st.lists(_labels, min_size=1, max_size=5, unique=True))
    nodes = [
        VizNode(name, draw(_labels), draw(_colours), draw(_shapes), draw(_styles)) for name in ids
    ]
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
    edges = [
        VizEdge(tail, head, draw(st.sampled_from(["solid", "dotted", "dashed"])), draw(_labels))
        for tail, head in draw(st.lists(pairs, max_size=6))
    ]
    rankdir = draw(st.sampled_from(["TB", "LR", "BT", "RL"]))
    notes = draw(st.lists(st.text("abc xyz", min_size=1), max_size=2))
    return Graph(nodes, edges, rankdir, {"size": draw(st.sampled_from(["12,12", "2,2"]))}, notes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_any_graph_reads_back_to_the_same_source_and_drawing(graph):
    dot = Dot(graph)
    assert dot.source == to_dot(graph)
    assert len(dot.body) == len(graph.nodes) + len(graph.edges)
    assert render_svg(dot.drawing()) == render_svg(graph)


def test_html_like_labels_are_written_bare_as_graphviz_does():
    # graphviz.Digraph().node("h", "<<b>x</b>>") writes label=<<b>x</b>> (Graphviz draws HTML);
    # quoting it made Graphviz draw the tags as text, and the built-in renderer dropped the node
    dot = lesson_dot()
    dot.node("h", "<<b>bold</b> &amp; x<br/>y>", shape="note")
    dot.edge("h", "q", label="<<i>e</i>>")
    dot.node("q", 'say "hi"')
    assert "\th [label=<<b>bold</b> &amp; x<br/>y> shape=note]\n" in dot.body
    assert "\th -> q [label=<<i>e</i>>]\n" in dot.body
    assert '\tq [label="say \\"hi\\""]\n' in dot.body
    drawing = {node.id: node for node in dot.drawing().nodes}
    assert drawing["h"].label == "bold & x\ny" and drawing["h"].shape == "note"
    assert [edge.label for edge in dot.drawing().edges if edge.tail == "h"] == ["e"]
    assert parse_statement("\ta [label = < <i>x</i> >]\n") == ("node", "a", {"label": " x "})
    assert parse_statement("\ta [label=<<b>x</b>]\n") is None  # unbalanced: left to Graphviz


def test_render_and_save_create_the_folders_they_are_given_as_graphviz_does(tmp_path):
    dot = lesson_dot()
    path = dot.render("graph", directory=tmp_path / "new" / "sub", format="svg", renderer="builtin")
    assert path == os.path.join(tmp_path, "new", "sub", "graph.svg") and os.path.isfile(path)
    assert os.path.isfile(tmp_path / "new" / "sub" / "graph")
    assert dot.save(directory=tmp_path / "other") == os.path.join(tmp_path, "other", "graph")


def test_a_failed_save_remembers_nothing(tmp_path):
    (tmp_path / "a_file").write_text("x")
    dot = lesson_dot()
    with pytest.raises(OSError):
        dot.save("g.gv", directory=tmp_path / "a_file")
    assert (dot.filename, dot.directory) == ("Digraph.gv", "")


def test_view_without_a_viewer_raises_graphvizs_oserror(tmp_path, monkeypatch):
    # graphviz.Digraph.view() on a machine without xdg-open raises FileNotFoundError; a
    # RuntimeError escaped the `except OSError` that notebooks written for graphviz have
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(dotfile_module.sys, "platform", "linux")
    dot = lesson_dot()
    with pytest.raises(FileNotFoundError, match="could not open .*graph.svg in a viewer"):
        dot.view("graph", directory=tmp_path)
    assert os.path.isfile(tmp_path / "graph.svg")  # drawn, as graphviz's, before the viewer


@pytest.mark.parametrize("name", ["a\u2028#b", "a\x0bb", "a\x1c;b", "a\x85]b"])
def test_a_name_with_a_unicode_line_break_keeps_the_source_whole(name):
    # the Dot cut to_dot's text with splitlines, which also breaks at \v, \x1c, \x85 and \u2028
    # inside a quoted label: the leaf's statement was cut short (invalid DOT) or dropped
    x = gradienti.tensor(1.0, requires_grad=True)
    dot = make_dot(x * 2, params={name: x})
    assert dot.source == to_dot(dot.graph)
    leaf = next(node for node in dot.drawing().nodes if node.fillcolor == "lightblue")
    assert leaf.label == name + "\n ()"


def test_a_render_that_cannot_write_its_picture_leaves_the_source_as_it_was(tmp_path):
    (tmp_path / "graph.svg").mkdir()  # the picture's path is taken
    dot = lesson_dot()
    with pytest.raises(OSError):
        dot.render("graph", directory=tmp_path, format="svg", renderer="builtin")
    assert not (tmp_path / "graph").exists()
    (tmp_path / "graph").write_text("mine")
    with pytest.raises(OSError):
        dot.render("graph", directory=tmp_path, format="svg", renderer="builtin")
    assert (tmp_path / "graph").read_text() == "mine"
    assert (dot.filename, dot.directory) == ("Digraph.gv", "")
