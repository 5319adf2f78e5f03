"""make_dot: the graph walk, torchviz's look, labels, names, values and gradients, DOT text."""

import gc
from collections import Counter

import numpy as np
import pytest

import gradienti
from gradienti.viz import Dot, Graph, make_dot, to_dot
from gradienti.viz.dot import _value_text, quote

# The lesson's graph, y = 5*x**3 + 2*x**2 + 4*x + 8, as torchviz structures it: the output (green),
# 8 backward nodes, AccumulateGrad and the leaf x (blue); ids in breadth-first walk order.
# (The node line is split in two only to keep this file's lines short.)
LESSON_DOT = """\
digraph {
\tgraph [size="12,12"]
\tnode [align=left fontname=Courier fontsize=10 height=0.2 margin="0.12,0.06" ranksep=0.1 \
shape=box style=filled]
\tn0 [label="\\n ()" fillcolor=darkolivegreen1]
\tn1 [label=AddBackward0]
\tn2 [label=AddBackward0]
\tn3 [label=AddBackward0]
\tn4 [label=MulBackward0]
\tn5 [label=MulBackward0]
\tn6 [label=MulBackward0]
\tn7 [label=AccumulateGrad]
\tn8 [label="x\\n ()" fillcolor=lightblue]
\tn9 [label=PowBackward0]
\tn10 [label=PowBackward0]
\tn1 -> n0
\tn2 -> n1
\tn3 -> n2
\tn4 -> n2
\tn5 -> n3
\tn6 -> n3
\tn8 -> n7
\tn7 -> n4
\tn9 -> n5
\tn10 -> n6
\tn7 -> n9
\tn7 -> n10
}
"""


def lesson(module=gradienti):
    x = module.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


def labels_by_id(graph: Graph) -> dict:
    return {node.id: node.label for node in graph.nodes}


def structure(graph: Graph) -> tuple:
    """Node labels and (tail label, head label) edges, as multisets: the graph up to ids."""
    labels = labels_by_id(graph)
    return (
        Counter(labels.values()),
        Counter((labels[edge.tail], labels[edge.head]) for edge in graph.edges),
    )


def nodes_of_kind(graph: Graph, kind: str) -> list:
    return [node for node in graph.nodes if node.kind == kind]


def box_of(graph: Graph, first_line: str):
    """The tensor box whose label starts with ``first_line`` (a name)."""
    found = [node for node in graph.nodes if node.label.split("\n")[0] == first_line]
    assert len(found) == 1, [node.label for node in graph.nodes]
    return found[0]


# ------------------------------------------------------------------ the lesson's picture


def test_lesson_graph_golden_dot():
    x, y = lesson()
    dot = make_dot(y, params={"x": x})
    assert isinstance(dot, Dot)
    assert dot.source == LESSON_DOT
    assert str(dot) == LESSON_DOT
    assert to_dot(dot.graph) == LESSON_DOT


def test_lesson_graph_kinds_and_colours():
    x, y = lesson()
    graph = make_dot(y, params={"x": x}).graph
    ops = nodes_of_kind(graph, "op")
    assert Counter(node.label for node in ops) == Counter(
        {"AddBackward0": 3, "MulBackward0": 3, "PowBackward0": 2, "AccumulateGrad": 1}
    )
    assert {node.fillcolor for node in ops} == {"lightgrey"}
    (leaf,) = nodes_of_kind(graph, "tensor")
    assert (leaf.label, leaf.fillcolor) == ("x\n ()", "lightblue")
    (output,) = nodes_of_kind(graph, "output")
    assert (output.label, output.fillcolor) == ("\n ()", "darkolivegreen1")
    assert len(graph.edges) == 12


def torchviz_structure(var, params: dict) -> tuple:
    """What torchviz's make_dot draws for a torch tensor (its rules, walked with a stack)."""
    names = {id(value): name for name, value in params.items()}

    def tensor_label(tensor, name=None):
        shape = "(" + ", ".join(str(int(size)) for size in tensor.size()) + ")"
        return f"{name or names.get(id(tensor), '')}\n {shape}"

    labels, edges, seen = {}, [], []
    labels[("tensor", id(var))] = tensor_label(var)
    edges.append((("fn", id(var.grad_fn)), ("tensor", id(var))))
    stack = [var.grad_fn]
    while stack:
        fn = stack.pop()
        if any(fn is other for other in seen):
            continue
        seen.append(fn)  # keeps the Python node objects (and so their ids) alive
        labels[("fn", id(fn))] = type(fn).__name__
        if hasattr(fn, "variable"):
            labels[("tensor", id(fn.variable))] = tensor_label(fn.variable)
            edges.append((("tensor", id(fn.variable)), ("fn", id(fn))))
        for child, _ in fn.next_functions:
            if child is not None:
                stack.append(child)
                edges.append((("fn", id(child)), ("fn", id(fn))))
    return (
        Counter(labels.values()),
        Counter((labels[tail], labels[head]) for tail, head in edges),
    )


def test_lesson_graph_has_torchvizs_structure():
    torch = pytest.importorskip("torch")
    tx, ty = lesson(torch)
    x, y = lesson()
    assert structure(make_dot(y, params={"x": x}).graph) == torchviz_structure(ty, {"x": tx})


def test_structure_matches_torchviz_on_a_wider_graph():
    torch = pytest.importorskip("torch")

    def program(module):
        w = module.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        b = module.tensor([0.1, 0.2], requires_grad=True)
        v = module.tensor([1.0, 2.0])
        h = (w @ v + b).tanh()
        return {"w": w, "b": b}, (h * h).sum() + h.exp().mean()

    torch_params, torch_out = program(torch)
    params, out = program(gradienti)
    assert structure(make_dot(out, params=params).graph) == torchviz_structure(
        torch_out, torch_params
    )


# ------------------------------------------------------------------------- determinism


def test_same_graph_gives_the_same_text():
    x, y = lesson()
    first = make_dot(y, params={"x": x}, show_attrs=True, show_saved=True, show_values=True)
    second = make_dot(y, params={"x": x}, show_attrs=True, show_saved=True, show_values=True)
    assert first.source == second.source
    # A graph built again from scratch (other objects, other id()s) gives the same text too.
    x2, y2 = lesson()
    third = make_dot(y2, params={"x": x2}, show_attrs=True, show_saved=True, show_values=True)
    assert third.source == first.source
    boxes = [node.id for node in first.graph.nodes if node.kind != "legend"]
    assert boxes == [f"n{index}" for index in range(len(boxes))]


# ---------------------------------------------------------------- values and gradients


def test_show_values_and_grads_before_and_after_backward():
    x, y = lesson()
    before = make_dot(y, params={"x": x}, show_values=True, show_grads=True).graph
    assert box_of(before, "x").label == "x\n ()\nvalue: 2.\ngrad: None"
    # The output is not a leaf and retains no gradient: no grad line. show_values names it y.
    (output,) = nodes_of_kind(before, "output")
    assert output.label == "y\n ()\nvalue: 64."
    y.backward()
    after = make_dot(y, params={"x": x}, show_values=True, show_grads=True).graph
    assert box_of(after, "x").label == "x\n ()\nvalue: 2.\ngrad: 72."
    (output,) = nodes_of_kind(after, "output")
    assert output.label == "y\n ()\nvalue: 64."


def test_value_formats_small_and_large():
    v = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = gradienti.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    big = gradienti.arange(12.0).reshape(3, 4).requires_grad_()
    counts = gradienti.arange(12).reshape(3, 4)
    out = (v * 2).sum() + (m * 3).sum() + (big * counts).sum()
    graph = make_dot(out, names={"v": v, "m": m, "big": big}, show_values=True).graph
    assert box_of(graph, "v").label == "v\n (3)\nvalue: [1., 2., 3.]"
    assert box_of(graph, "m").label == "m\n (2, 2)\nvalue: [[1., 2.],\n [3., 4.]]"
    assert box_of(graph, "big").label == "big\n (3, 4)\nvalue: (3, 4) mean 5.5 min 0 max 11"


def test_large_gradient_is_summarised_and_integer_values_print_as_integers():
    w = gradienti.ones(3, 4, requires_grad=True)
    (w * gradienti.arange(12.0).reshape(3, 4)).sum().backward()
    graph = make_dot(w * 1, names={"w": w}, show_grads=True).graph
    assert box_of(graph, "w").label == "w\n (3, 4)\ngrad: (3, 4) mean 5.5 min 0 max 11"


def test_retained_gradient_of_a_named_intermediate():
    x = gradienti.tensor(2.0, requires_grad=True)
    h = x**2
    h.retain_grad()
    g = h + 1  # named, but retains no gradient
    y = 3 * g
    y.backward()
    graph = make_dot(y, names={"x": x, "h": h, "g": g, "y": y}, show_grads=True).graph
    assert box_of(graph, "h").label == "h\n ()\ngrad: 3."
    assert box_of(graph, "g").label == "g\n ()"
    assert box_of(graph, "x").label == "x\n ()\ngrad: 12."


# ----------------------------------------------------------------------------- names


def test_names_from_locals_name_leaves_outputs_and_intermediates():
    def program():
        x = gradienti.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        _hidden = h * 2  # names starting with "_" are skipped (IPython's _, __, _1 ...)
        y = (_hidden + h).sum()
        return make_dot(y, names=locals()).graph

    graph = program()
    labels = labels_by_id(graph)
    assert box_of(graph, "x").fillcolor == "lightblue"
    assert (box_of(graph, "y").fillcolor, box_of(graph, "y").kind) == ("darkolivegreen1", "output")
    h = box_of(graph, "h")
    assert (h.label, h.fillcolor, h.kind) == ("h\n (2)", "lightyellow", "tensor")
    # The named intermediate hangs off the node that computed it.
    assert [labels[edge.tail] for edge in graph.edges if edge.head == h.id] == ["ExpBackward0"]
    assert not any(label.startswith("_hidden") for label in labels.values())


def test_params_win_over_names_and_pairs_are_accepted():
    x, y = lesson()
    graph = make_dot(y, params=[("weight", x)], names={"x": x}).graph
    assert box_of(graph, "weight").label == "weight\n ()"
    assert not any(node.label.startswith("x\n") for node in graph.nodes)


def test_bad_arguments():
    x, y = lesson()
    with pytest.raises(TypeError, match="tensor"):
        make_dot(3.0)
    with pytest.raises(TypeError, match="tensor"):
        make_dot((y, "y"))
    with pytest.raises(TypeError, match="params"):
        make_dot(y, params=5)
    with pytest.raises(ValueError, match="rankdir"):
        make_dot(y, rankdir="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        make_dot(y, max_nodes=-1)


def test_rankdir_is_written_to_the_graph():
    x, y = lesson()
    dot = make_dot(y, rankdir="LR")
    assert dot.graph.rankdir == "LR"
    assert '\tgraph [size="12,12" rankdir=LR]\n' in dot.source
    assert "rankdir" not in make_dot(y).source


# ------------------------------------------------------------------- several outputs


def test_several_outputs_share_one_walk():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = x.sin()
    a = (s * 2).sum()
    b = s.cos().mean()
    graph = make_dot((a, b, a), params={"x": x}).graph  # the same tensor twice: one box
    outputs = nodes_of_kind(graph, "output")
    assert len(outputs) == 2
    labels = labels_by_id(graph)
    assert Counter(labels[node.id] for node in nodes_of_kind(graph, "op"))["SinBackward0"] == 1
    assert Counter(labels[node.id] for node in nodes_of_kind(graph, "op"))["AccumulateGrad"] == 1
    assert sorted(labels[edge.tail] for edge in graph.edges if edge.head in labels_of(outputs)) == [
        "MeanBackward0",
        "SumBackward0",
    ]


def labels_of(nodes) -> set:
    return {node.id for node in nodes}


def test_outputs_of_one_multi_output_node():
    v = gradienti.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = v.split(2)
    graph = make_dot([a, b], names={"a": a, "b": b}).graph
    assert {box_of(graph, "a").fillcolor, box_of(graph, "b").fillcolor} == {"darkolivegreen1"}
    labels = labels_by_id(graph)
    heads = Counter(
        labels[edge.head] for edge in graph.edges if labels[edge.tail] == "SplitBackward0"
    )
    assert heads == Counter({"a\n (2)": 1, "b\n (2)": 1})


def test_a_leaf_given_as_output_is_one_green_box():
    x = gradienti.tensor(1.0, requires_grad=True)
    graph = make_dot(x, params={"x": x}).graph
    assert [(node.label, node.fillcolor) for node in graph.nodes] == [("x\n ()", "darkolivegreen1")]
    assert graph.edges == []


# ---------------------------------------------------------------- show_attrs, show_saved


def test_show_attrs_uses_torchvizs_layout():
    x, y = lesson()
    graph = make_dot(y, params={"x": x}, show_attrs=True).graph
    pows = [node.label for node in graph.nodes if node.label.startswith("PowBackward0")]
    rule = "-" * 24  # key width 8 + value width 14 ("[saved tensor]") + 2
    assert pows == [
        f"PowBackward0\n{rule}\nexponent:              {k}\nself    : [saved tensor]"
        for k in (3, 2)
    ]
    muls = sorted(node.label for node in graph.nodes if node.label.startswith("MulBackward0"))
    assert muls == [f"MulBackward0\n------------\nother: {k}" for k in (2, 4, 5)]
    short = make_dot(y, show_attrs=True, max_attr_chars=5).graph
    assert (
        "PowBackward0\n---------------\nexponent:     3\nself    : [s..."
        in labels_by_id(short).values()
    )


def test_show_attrs_after_backward_keeps_the_static_attributes():
    x, y = lesson()
    y.backward()
    dot = make_dot(y, show_attrs=True)
    labels = sorted(node.label for node in dot.graph.nodes if node.label.startswith("Pow"))
    assert labels == [
        "PowBackward0\n------------\nexponent: 2",
        "PowBackward0\n------------\nexponent: 3",
    ]
    assert any("freed" in note for note in dot.graph.notes)


def test_show_saved_draws_orange_boxes_until_backward_frees_them():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    graph = make_dot(y, params={"x": x}, show_saved=True, show_values=True).graph
    saved = nodes_of_kind(graph, "saved")
    assert {node.fillcolor for node in saved} == {"orange"}
    labels = labels_by_id(graph)
    links = sorted(
        (labels[edge.tail].split("\n")[0], labels[edge.head].split("\n")[0])
        for edge in graph.edges
        if edge.style == "dotted"
    )
    # ExpBackward0 keeps its result; MulBackward0 keeps both inputs.
    assert links == [
        ("ExpBackward0", "result"),
        ("MulBackward0", "other"),
        ("MulBackward0", "self"),
    ]
    result = next(node for node in saved if node.label.startswith("result"))
    assert result.label == "result\n (2)\nvalue: [2.7183, 7.3891]"
    assert "[dir=none style=dotted]" in to_dot(graph)
    y.backward()
    after = make_dot(y, params={"x": x}, show_saved=True).graph
    assert nodes_of_kind(after, "saved") == []
    assert any("freed" in note for note in after.notes)


def test_custom_function_saved_tensors_are_always_drawn():
    class Cube(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x**3 * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * grad * ctx.scale, None

    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    graph = make_dot(y, params={"x": x}, show_attrs=True).graph
    # The saved tensor is the leaf x: torchviz keys boxes by the tensor, so x's own box is
    # linked to the node, from the tensor to the node, with no arrowhead (dir=none).
    assert nodes_of_kind(graph, "saved") == []
    (leaf,) = nodes_of_kind(graph, "tensor")
    (cube,) = [node for node in graph.nodes if node.label.startswith("CubeBackward")]
    assert (leaf.id, cube.id, "dotted") in [(e.tail, e.head, e.style) for e in graph.edges]
    assert f"\t{leaf.id} -> {cube.id} [dir=none style=dotted]\n" in to_dot(graph)
    assert "CubeBackward\n------------\nscale: 2.0" in labels_by_id(graph).values()
    # A saved intermediate tensor and a saved output get orange boxes of their own, unnamed
    # as torchviz's (named where names= names them).
    doubled = x * 2
    z = Cube.apply(doubled, 1.0)
    assert [node.label for node in nodes_of_kind(make_dot(z).graph, "saved")] == ["\n (2)"]
    named = make_dot(z, names={"doubled": doubled}).graph
    assert [node.label for node in nodes_of_kind(named, "saved")] == []  # its own named box

    class Exp(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    graph = make_dot(Exp.apply(x), show_values=True).graph
    (saved,) = nodes_of_kind(graph, "saved")
    assert saved.label == "\n (2)\nvalue: [2.7183, 7.3891]"
    (exp,) = [node for node in graph.nodes if node.label.startswith("ExpBackward")]
    assert (saved.id, exp.id, "dotted") in [(e.tail, e.head, e.style) for e in graph.edges]
    y.sum().backward()
    assert nodes_of_kind(make_dot(y).graph, "saved") == []


# ----------------------------------------------------------------------- after backward


def test_make_dot_after_backward_never_raises():
    x = gradienti.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = gradienti.randn(3, 3, requires_grad=True)
    h = (w @ x).tanh()
    y = (h * h).sum() / h.exp().sum()
    y.backward()
    dot = make_dot(
        y,
        params={"x": x, "w": w},
        show_attrs=True,
        show_saved=True,
        show_values=True,
        show_grads=True,
        names={"h": h},
    )
    assert dot.source.startswith("digraph {")
    assert box_of(dot.graph, "x").label.endswith("grad: " + _printed_vector(x.grad))
    # Twice after backward: still the same.
    assert (
        make_dot(y, params={"x": x, "w": w}, show_saved=True).source
        == make_dot(y, params={"x": x, "w": w}, show_saved=True).source
    )


def _printed_vector(t) -> str:
    return repr(t)[len("tensor(") : -1]


def test_a_deleted_leaf_is_still_drawn():
    def program():
        x = gradienti.tensor(3.0, requires_grad=True)
        return x * 2 + 1  # the graph keeps x's node, but x itself dies here

    y = program()
    gc.collect()
    graph = make_dot(y, show_values=True, show_grads=True).graph
    (leaf,) = [node for node in graph.nodes if node.fillcolor == "lightblue"]
    assert leaf.label == "x0\n(deleted leaf)"  # explain's name, which the op boxes use
    assert make_dot(y).graph.nodes[-1].label == "(deleted leaf)"


# ------------------------------------------------------------- big graphs, max_nodes


def chain(length: int):
    x = gradienti.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(length):
        y = y + 1
    return x, y


def test_max_nodes_draws_the_nodes_nearest_the_outputs_and_says_what_it_left_out():
    x, y = chain(50)  # 50 AddBackward0 and one AccumulateGrad
    dot = make_dot(y, params={"x": x}, max_nodes=10)
    graph = dot.graph
    ops = nodes_of_kind(graph, "op")
    assert len(ops) == 10
    assert {node.label for node in ops} == {"AddBackward0"}
    (note,) = nodes_of_kind(graph, "note")
    assert note.label == "41 more nodes of the graph not drawn (max_nodes=10)"
    assert graph.notes == [note.label]
    assert '[label="41 more nodes of the graph not drawn (max_nodes=10)"' in dot.source
    # The drawn part is a chain from the output: 9 op-to-op arrows plus the output's.
    assert len(graph.edges) == 10
    assert not any(node.fillcolor == "lightblue" for node in graph.nodes)  # x is cut off
    whole = make_dot(y, params={"x": x}, max_nodes=51).graph
    assert nodes_of_kind(whole, "note") == [] and len(nodes_of_kind(whole, "op")) == 51


def test_max_nodes_zero_draws_only_the_outputs():
    x, y = lesson()
    graph = make_dot(y, max_nodes=0).graph
    assert [node.kind for node in graph.nodes] == ["output", "note"]
    assert graph.nodes[1].label == "9 more nodes of the graph not drawn (max_nodes=0)"


def test_a_100000_node_chain_draws_without_recursion():
    x, y = chain(100_000)
    dot = make_dot(y, params={"x": x})
    source = dot.source
    assert len(dot.graph.nodes) == 100_003  # output, 100,000 adds, AccumulateGrad, leaf
    assert len(dot.graph.edges) == 100_002
    assert source.count(" -> ") == 100_002
    assert source.endswith("\tn100001 -> n100000\n}\n")
    cut = make_dot(y, max_nodes=100)
    assert nodes_of_kind(cut.graph, "note")[0].label.startswith("99901 more nodes")


# ---------------------------------------------------------------------------- DOT text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("n0", "n0"),
        ("AddBackward0", "AddBackward0"),
        ("0.2", "0.2"),
        ("-3", "-3"),
        ("node", '"node"'),
        ("Graph", '"Graph"'),
        ("12,12", '"12,12"'),
        ("x\n ()", '"x\\n ()"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("\\N", '"\\\\N"'),
        ("<b>", '"<b>"'),
        ("", '""'),
        ("λ", '"λ"'),
    ],
)
def test_quote(value, expected):
    assert quote(value) == expected


def test_labels_are_escaped_in_the_source():
    x = gradienti.tensor(1.0, requires_grad=True)
    name = 'a "b" \\N\nc'
    source = make_dot(x * 2, params={name: x}).source
    assert '[label="a \\"b\\" \\\\N\\nc\\n ()" fillcolor=lightblue]' in source
    # One statement per line: the label's line break is escaped, not literal.
    assert all(line.startswith(("\t", "digraph", "}")) for line in source.splitlines())


def test_integer_and_bool_values_print_as_pytorch_prints_them():
    assert _value_text(np.array(64.0)) == "64."
    assert _value_text(np.array([1, 2, 3])) == "[1, 2, 3]"
    assert _value_text(np.array([True, False])) == "[ True, False]"
    assert _value_text(np.arange(10) % 2 == 0) == "(10) mean 0.5 min 0 max 1"
    assert _value_text(np.zeros((0, 2))) == "[], size=(0, 2)"
