"""make_dot's pictures that say more: op boxes with their expression and forward value
(``show_values``), the output named (``output_name``), arrows the way gradients flow
(``gradient_arrows``) and the legend saying which way the arrows point.

The numbers are checked against PyTorch's forward values and printing, the expressions against
``explain``'s names, and torchviz's own calls against torchviz's DOT (pinned in test_viz_dot.py).
"""

import re
from collections import Counter

import pytest
from test_render_fit import RENDERERS, node_drawings
from test_viz_dot import LESSON_DOT, lesson, nodes_of_kind, structure, torchviz_structure

import gradienti
import gradienti.nn.functional as F
from gradienti.viz import make_dot

FORWARD_LEGEND = "arrows: the forward computation,\ninputs to outputs"
GRADIENT_LEGEND = "arrows: the way gradients flow,\nfrom {} back to the leaves"
FREED_LINE = "backward() freed some values:\nthose are not shown"


def op_labels(graph) -> Counter:
    return Counter(node.label for node in nodes_of_kind(graph, "op"))


def legends(graph) -> list:
    return [node.label for node in nodes_of_kind(graph, "legend")]


def torch_value_text(tensor) -> str:
    """A tensor's value as PyTorch prints it, without ``tensor(`` and the grad_fn."""
    text = repr(tensor.detach())
    body = text[len("tensor(") : -1]
    lines = body.split("\n")
    return "\n".join([lines[0], *(line[len("tensor(") :] for line in lines[1:])])


def torch_number(tensor) -> str:
    """A scalar as explain writes numbers (6 significant digits, no trailing zeros)."""
    return format(tensor.item(), ".6g")


def torch_lesson(torch):
    """The lesson in PyTorch, with each expression's tensor (named as explain names it)."""
    x = torch.tensor(2.0, requires_grad=True)
    cube = x**3
    five_cube = 5 * cube
    square = x**2
    two_square = 2 * square
    first_sum = five_cube + two_square
    four_x = 4 * x
    second_sum = first_sum + four_x
    y = second_sum + 8
    return y, {
        "x³": cube,
        "5·x³": five_cube,
        "x²": square,
        "2·x²": two_square,
        "5·x³ + 2·x²": first_sum,
        "4·x": four_x,
        "5·x³ + 2·x² + 4·x": second_sum,
        "5·x³ + 2·x² + 4·x + 8": y,
    }


# ------------------------------------------------------------------ the lesson's picture


def test_lesson_op_boxes_show_expression_and_value_as_pytorch_computes_them():
    torch = pytest.importorskip("torch")
    torch_y, expressions = torch_lesson(torch)
    x, y = lesson()
    graph = make_dot(y, params={"x": x}, show_values=True).graph
    # The 9 nodes of the backward pass: 8 operations, named as PyTorch names their nodes, each
    # with its expression and forward value, and the leaf's AccumulateGrad.
    expected = Counter(
        f"{type(tensor.grad_fn).__name__}\n{expression} = {torch_number(tensor)}"
        for expression, tensor in expressions.items()
    )
    expected["AccumulateGrad"] += 1
    assert op_labels(graph) == expected
    assert sum(expected.values()) == 9
    assert "PowBackward0\nx³ = 8" in expected and "MulBackward0\n5·x³ = 40" in expected
    assert "AddBackward0\n5·x³ + 2·x² + 4·x + 8 = 64" in expected
    # The output is named y and shows PyTorch's printed value; the leaf keeps its name.
    (output,) = nodes_of_kind(graph, "output")
    assert output.label == f"y\n ()\nvalue: {torch_value_text(torch_y)}" == "y\n ()\nvalue: 64."
    (leaf,) = nodes_of_kind(graph, "tensor")
    assert leaf.label == "x\n ()\nvalue: 2."
    assert legends(graph) == [FORWARD_LEGEND]


def test_lesson_with_values_keeps_torchvizs_structure_and_ids():
    torch = pytest.importorskip("torch")
    tx, ty = lesson(torch)
    x, y = lesson()
    plain = make_dot(y, params={"x": x})
    valued = make_dot(y, params={"x": x}, show_values=True)
    assert structure(plain.graph) == torchviz_structure(ty, {"x": tx})
    # The same boxes with the same ids and the same arrows; the legend comes last.
    assert [node.id for node in valued.graph.nodes] == [
        *(node.id for node in plain.graph.nodes),
        "legend",
    ]
    assert valued.graph.edges == plain.graph.edges
    line = next(line for line in valued.source.splitlines() if line.startswith("\tn9 "))
    assert line == '\tn9 [label="PowBackward0\\nx³ = 8"]'


def test_expressions_are_explains_names():
    x = gradienti.tensor(0.5, requires_grad=True)
    h = ((x * 3 + 1).sin() * (x * 2 - 1).cos() + x.exp()).tanh()
    y = h * h + 1
    graph = make_dot(y, params={"x": x}, show_values=True).graph
    explanation = gradienti.explain(y, names={"x": x})
    shown = Counter(
        (node.label.split("\n")[0], node.label.split("\n")[1].split(" = ")[0])
        for node in nodes_of_kind(graph, "op")
        if node.label != "AccumulateGrad"
    )
    # explain writes a long expression by its short name (mul₁) wherever it is used.
    told = Counter(
        (step.name, explanation.names.display[step.node].text)
        for step in explanation.steps
        if step.name != "AccumulateGrad"
    )
    assert shown == told
    assert ("MulBackward0", "mul₁") in shown
    assert "AddBackward0\nmul₁ + 1 = 1.9563" in op_labels(graph)


def test_an_expression_too_long_for_explain_is_its_short_name_and_the_output_is_cut():
    torch = pytest.importorskip("torch")

    def program(module):
        x = module.tensor(0.25, requires_grad=True)
        inner = (x.sin() + x.cos()) * (x.exp() - x.tanh()) + x.sigmoid()
        right = x.tanh() + x.sigmoid() + x.abs()
        return x, inner, (inner.exp() + inner.sin() + x.cos() + x.abs()) * right

    _, torch_inner, torch_y = program(torch)
    x, _, y = program(gradienti)
    labels = op_labels(make_dot(y, params={"x": x}, show_values=True).graph)
    second_lines = [label.split("\n")[1] for label in labels if label != "AccumulateGrad"]
    assert all(len(line.split(" = ")[0]) <= 40 for line in second_lines), second_lines
    # inner's expression is longer than explain writes out: explain calls it add₁.
    assert f"AddBackward0\nadd₁ = {torch_number(torch_inner)}" in labels
    assert f"ExpBackward0\nexp(add₁) = {torch_number(torch_inner.exp())}" in labels
    # The output's expression has no short name: it is cut with an ellipsis.
    (root,) = [line for line in second_lines if line.startswith("(exp(add₁) + ")]
    assert root == f"(exp(add₁) + sin(add₁) + cos(x) + |x|)·… = {torch_number(torch_y)}"


def test_unnamed_leaves_get_explains_names():
    a = gradienti.tensor(3.0, requires_grad=True)
    b = gradienti.tensor(4.0, requires_grad=True)
    y = a * b + a
    graph = make_dot(y, show_values=True).graph
    leaves = sorted(node.label for node in nodes_of_kind(graph, "tensor"))
    assert leaves == ["x0\n ()\nvalue: 3.", "x1\n ()\nvalue: 4."]
    assert set(gradienti.explain(y).leaf_totals) == {"x0", "x1"}
    assert "MulBackward0\nx0·x1 = 12" in op_labels(graph)
    assert "AddBackward0\nx0·x1 + x0 = 15" in op_labels(graph)


# ----------------------------------------------------------------- vectors and matrices


def test_vector_values_are_written_as_pytorch_prints_them():
    torch = pytest.importorskip("torch")

    def program(module):
        x = module.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x.exp()
        return x, h, (h * x).sum()

    _, torch_h, torch_y = program(torch)
    x, _, y = program(gradienti)
    labels = op_labels(make_dot(y, params={"x": x}, show_values=True).graph)
    assert f"ExpBackward0\nexp(x) = {torch_value_text(torch_h)}" in labels
    assert f"SumBackward0\nsum(exp(x)·x) = {torch_number(torch_y)}" in labels
    assert torch_value_text(torch_h) == "[1.6487, 0.3679, 7.3891]"


def test_matrix_values_take_lines_of_their_own():
    torch = pytest.importorskip("torch")

    def program(module):
        m = module.tensor([[1.0, -2.0], [3.0, 4.5]], requires_grad=True)
        e = m.exp()
        return m, e, (e * 2).sum()

    _, torch_e, _ = program(torch)
    m, _, total = program(gradienti)
    labels = op_labels(make_dot(total, names={"m": m}, show_values=True).graph)
    first, second = torch_value_text(torch_e).split("\n")
    # The continuation line keeps PyTorch's alignment under the first line's "= ".
    assert f"ExpBackward0\nexp(m)\n= {first}\n  {second}" in labels
    assert second.startswith(" [")


def test_large_values_are_summarised_as_the_tensor_boxes_summarise_them():
    torch = pytest.importorskip("torch")

    def program(module):
        w = module.linspace(-1, 1, 12, requires_grad=True)
        s = module.sin(w.reshape(3, 4))
        return w, s, s.sum()

    _, torch_s, _ = program(torch)
    w, _, y = program(gradienti)
    graph = make_dot(y, params={"w": w}, show_values=True).graph
    (label,) = [label for label in op_labels(graph) if label.startswith("SinBackward0")]
    found = re.fullmatch(
        r"SinBackward0\nsin\(w\.view\(…\)\)\n= \(3, 4\) mean (\S+) min (\S+) max (\S+)", label
    )
    assert found, label
    numbers = [float(number) for number in found.groups()]
    expected = [torch_s.mean().item(), torch_s.min().item(), torch_s.max().item()]
    assert numbers == pytest.approx(expected, abs=1e-4)  # shown to 4 significant digits
    assert found.group(2) == f"{expected[1]:.4g}" and found.group(3) == f"{expected[2]:.4g}"
    (leaf,) = [node for node in nodes_of_kind(graph, "tensor")]
    assert leaf.label == "w\n (12)\nvalue: (12) mean 0 min -1 max 1"


# Ops whose boxes the graph keeps no value for (a reduction, a view, indexing, a product with a
# bias, a maximum, a convolution, a join, a cast) between tensors it does keep: the value is
# replayed on a copy of the node. Each op's output is used by ``* 1.5`` (which keeps only the
# number), so that nothing else holds it.
REPLAYED_OPS = [
    ("SumBackward1", lambda lib, w: w.sum(dim=1)),
    ("MeanBackward0", lambda lib, w: w.mean()),
    ("MeanBackward1", lambda lib, w: w.mean(dim=0)),
    ("ViewBackward0", lambda lib, w: w.view(6)),
    ("SelectBackward0", lambda lib, w: w[1]),
    ("SliceBackward0", lambda lib, w: w[:, 1:]),
    ("IndexBackward0", lambda lib, w: w[[0, 1], [2, 0]]),
    ("TBackward0", lambda lib, w: w.t()),
    ("PermuteBackward0", lambda lib, w: w.permute(1, 0)),
    ("TransposeBackward0", lambda lib, w: w.transpose(0, 1)),
    ("ExpandBackward0", lambda lib, w: w.sum(dim=0, keepdim=True).expand(2, 3)),
    ("UnsqueezeBackward0", lambda lib, w: w.unsqueeze(0)),
    (
        "AddmmBackward0",
        lambda lib, w: lib.nn.functional.linear(
            lib.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]), w, w[1, :2]
        ),
    ),
    ("MaxBackward0", lambda lib, w: w.max(dim=1).values),
    ("MaxBackward1", lambda lib, w: w.max()),
    ("MinBackward0", lambda lib, w: w.min(dim=0).values),
    (
        "ConvolutionBackward0",
        lambda lib, w: lib.nn.functional.conv2d(
            lib.arange(9.0).reshape(1, 1, 3, 3), w[:, :2].reshape(1, 1, 2, 2)
        ),
    ),
    ("CatBackward0", lambda lib, w: lib.cat([w[0], w[1, :1]])),
    ("StackBackward0", lambda lib, w: lib.stack([w[0], w[1]])),
    ("CloneBackward0", lambda lib, w: w.clone()),
    ("ToCopyBackward0", lambda lib, w: w.to(lib.float64)),
    ("WhereBackward0", lambda lib, w: lib.where(w > 0.75, w, w[0])),
    ("GatherBackward0", lambda lib, w: w.gather(1, lib.tensor([[2, 0], [1, 1]]))),
    ("MaskedFillBackward0", lambda lib, w: w.masked_fill(w < 0, 0.5)),
    ("ProdBackward0", lambda lib, w: w.prod()),
    ("CumsumBackward0", lambda lib, w: w.cumsum(dim=1)),
    ("CumprodBackward0", lambda lib, w: w.cumprod(dim=0)),
    ("NativeLayerNormBackward0", lambda lib, w: lib.nn.functional.layer_norm(w, (3,))),
]


def shown_value(label: str) -> str:
    """The value an op box shows after its expression, its own lines' indent removed."""
    lines = label.split("\n")[1:]
    if " = " in lines[0]:
        return lines[0].rsplit(" = ", 1)[1]
    assert lines[1].startswith("= "), label
    return "\n".join([lines[1][2:], *(line[2:] for line in lines[2:])])


@pytest.mark.parametrize(("node_name", "op"), REPLAYED_OPS, ids=[name for name, _ in REPLAYED_OPS])
def test_values_the_graph_does_not_keep_are_replayed_as_pytorch_computes_them(node_name, op):
    torch = pytest.importorskip("torch")
    values = [[1.0, -2.0, 3.0], [4.0, 0.5, -6.0]]
    torch_w = torch.tensor(values, requires_grad=True)
    torch_out = op(torch, torch_w)
    assert type(torch_out.grad_fn).__name__ == node_name
    (torch_out * 1.5).sum().backward()
    w = gradienti.tensor(values, requires_grad=True)
    out = op(gradienti, w)
    node = out.grad_fn
    saved_before = node._saved
    attributes_before = {
        slot: getattr(node, slot)
        for cls in type(node).__mro__
        for slot in cls.__dict__.get("__slots__", ())
        if hasattr(node, slot)
    }
    y = (out * 1.5).sum()
    graph = make_dot(y, names={"w": w}, show_values=True).graph
    (label,) = [
        node.label for node in nodes_of_kind(graph, "op") if node.label.startswith(node_name)
    ]
    expected = torch_number(torch_out) if torch_out.dim() == 0 else torch_value_text(torch_out)
    assert shown_value(label) == expected.split(", dtype=")[0]  # boxes do not name the dtype
    # The graph's own node is untouched: its forward ran on a copy.
    assert node._saved is saved_before
    for slot, value in attributes_before.items():
        assert getattr(node, slot) is value, slot
    y.backward()
    assert w.grad.numpy() == pytest.approx(torch_w.grad.numpy(), abs=1e-6)


# ----------------------------------------------------------------------- after backward


def test_after_backward_freed_values_are_not_shown_and_nothing_raises():
    x, y = lesson()
    y.backward()
    graph = make_dot(y, params={"x": x}, show_values=True, show_grads=True).graph
    labels = op_labels(graph)
    # The constants 5, 2, 4, 8 were saved for backward and freed: explain writes them c, and
    # the values computed from them are unknown. x³ and x² replay from the leaf's value.
    assert labels == Counter(
        {
            "PowBackward0\nx³ = 8": 1,
            "PowBackward0\nx² = 4": 1,
            "MulBackward0\nc·x³": 1,
            "MulBackward0\nc·x²": 1,
            "MulBackward0\nc·x": 1,
            "AddBackward0\nc·x³ + c·x²": 1,
            "AddBackward0\nc·x³ + c·x² + c·x": 1,
            "AddBackward0\nc·x³ + c·x² + c·x + c = 64": 1,
            "AccumulateGrad": 1,
        }
    )
    assert gradienti.explain(y, names={"x": x}).freed
    assert legends(graph) == [FORWARD_LEGEND + "\n" + FREED_LINE]
    (output,) = nodes_of_kind(graph, "output")
    assert output.label == "y\n ()\nvalue: 64."
    assert any("freed" in note for note in graph.notes)


def test_after_backward_of_a_wider_graph_nothing_raises():
    x = gradienti.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = gradienti.randn(3, 3, requires_grad=True)
    y = (w @ x).tanh().sum()
    y.backward()
    dot = make_dot(y, show_values=True, gradient_arrows=True, show_attrs=True, show_saved=True)
    assert dot.source.startswith("digraph {")
    assert FREED_LINE.replace("\n", "\\n") in dot.source
    dot.pipe("svg", renderer="builtin")


# ------------------------------------------------------------------- gradient arrows


def test_gradient_arrows_reverse_every_edge_and_say_so():
    x, y = lesson()
    dot = make_dot(y, params={"x": x}, gradient_arrows=True)
    forward_edges = re.findall(r"^\t(\w+) -> (\w+)$", LESSON_DOT, re.M)
    expected_lines = LESSON_DOT.splitlines()
    expected_lines = [
        line.replace('n0 [label="\\n ()"', 'n0 [label="y\\n ()"') for line in expected_lines
    ]
    edges_at = next(index for index, line in enumerate(expected_lines) if "->" in line)
    expected_lines[edges_at:-1] = [
        '\tlegend [label="arrows: the way gradients flow,\\nfrom y back to the leaves" '
        "fillcolor=white shape=note]",
        *(f"\t{head} -> {tail}" for tail, head in forward_edges),
    ]
    assert dot.source == "\n".join(expected_lines) + "\n"
    assert "\tn0 -> n1\n" in dot.source and "\tn7 -> n8\n" in dot.source
    assert legends(dot.graph) == [GRADIENT_LEGEND.format("y")]


@pytest.mark.parametrize("renderer", RENDERERS)
def test_gradient_arrows_put_the_output_on_top_with_every_renderer(renderer):
    x, y = lesson()
    svg = make_dot(y, params={"x": x}, gradient_arrows=True).pipe("svg", renderer=renderer)
    tops = {node_id: box[1] for node_id, (box, _texts) in node_drawings(svg).items()}
    assert tops["n0"] < tops["n1"] < tops["n7"] < tops["n8"]  # y, ..., AccumulateGrad, x
    forward = make_dot(y, params={"x": x}).pipe("svg", renderer=renderer)
    forward_tops = {node_id: box[1] for node_id, (box, _texts) in node_drawings(forward).items()}
    assert forward_tops["n8"] < forward_tops["n7"] < forward_tops["n1"] < forward_tops["n0"]
    # The edges' titles (Graphviz writes the "-" of "->" as &#45;).
    down, up = rb"n1(-|&#45;)&gt;n0", rb"n0(-|&#45;)&gt;n1"
    assert re.search(down, forward) and not re.search(up, forward)
    assert re.search(up, svg) and not re.search(down, svg)


def test_saved_value_links_keep_their_direction():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    forward = make_dot(y, params={"x": x}, show_saved=True).graph
    backward = make_dot(y, params={"x": x}, show_saved=True, gradient_arrows=True).graph
    dotted = [(edge.tail, edge.head) for edge in forward.edges if edge.style == "dotted"]
    assert len(dotted) == 3
    assert [(edge.tail, edge.head) for edge in backward.edges if edge.style == "dotted"] == dotted
    solid = [(edge.head, edge.tail) for edge in forward.edges if edge.style == "solid"]
    assert [(edge.tail, edge.head) for edge in backward.edges if edge.style == "solid"] == solid


def test_gradient_legend_names_the_output():
    x, y = lesson()
    named = make_dot(y, names={"x": x, "loss": y}, gradient_arrows=True).graph
    assert legends(named) == [GRADIENT_LEGEND.format("loss")]
    several = make_dot((y, x * 3), gradient_arrows=True).graph
    assert legends(several) == [GRADIENT_LEGEND.format("the outputs")]


# ---------------------------------------------------------------- the output's name


def test_output_name_option():
    x, y = lesson()
    graph = make_dot(y, params={"x": x}, output_name="f").graph
    (output,) = nodes_of_kind(graph, "output")
    assert output.label == "f\n ()"
    assert legends(graph) == [FORWARD_LEGEND]
    # A name given through names= or params= wins over the default and the option.
    graph = make_dot(y, names={"x": x, "total": y}, show_values=True, output_name="f").graph
    (output,) = nodes_of_kind(graph, "output")
    assert output.label == "total\n ()\nvalue: 64."


def test_several_outputs_are_numbered_and_a_taken_name_is_not_reused():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * 2).sum(), x.exp().mean()
    graph = make_dot((a, b, a), show_values=True).graph
    assert sorted(node.label.split("\n")[0] for node in nodes_of_kind(graph, "output")) == [
        "y0",
        "y1",
    ]
    y = gradienti.tensor(5.0, requires_grad=True)
    graph = make_dot(x.sum() * y, names={"y": y}, show_values=True).graph
    (output,) = nodes_of_kind(graph, "output")
    assert output.label.split("\n")[0] == "y (output)"
    # A leaf given as an output keeps the name the expressions call it by.
    graph = make_dot((x, x * 2), show_values=True).graph
    assert [node.label for node in nodes_of_kind(graph, "output")] == [
        "x0\n (2)\nvalue: [1., 2.]",
        "y1\n (2)\nvalue: [2., 4.]",
    ]
    assert "MulBackward0\n2·x0 = [2., 4.]" in op_labels(graph)


# ------------------------------------------------------- legend, and torchviz's own calls


def test_torchvizs_calls_give_torchvizs_dot():
    x, y = lesson()
    assert make_dot(y, params={"x": x}).source == LESSON_DOT
    assert make_dot(y).source == LESSON_DOT.replace('"x\\n ()"', '"\\n ()"')
    for options in ({"show_attrs": True}, {"show_saved": True}, {"max_attr_chars": 10}):
        dot = make_dot(y, params={"x": x}, **options)
        assert legends(dot.graph) == [] and "legend" not in dot.source
        (output,) = nodes_of_kind(dot.graph, "output")
        assert output.label == "\n ()"
        assert not any(" = " in node.label for node in dot.graph.nodes)


def test_graph_size_is_written_as_torchviz_writes_it():
    # torchviz's resize_graph: str(max(12, statements * 0.15)) for both sides, so a graph of
    # more than 80 statements gets Python's float text ("13.049999999999999"), not a rounding.
    def torchviz_size(statements: int) -> str:
        size = str(max(12, statements * 0.15))
        return f"{size},{size}"

    for links in (1, 39, 40, 41, 60):
        x = gradienti.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(links):
            y = y * 1.5
        dot = make_dot(y, params={"x": x})
        statements = len(dot.graph.nodes) + len(dot.graph.edges)
        assert dot.graph.attributes["size"] == torchviz_size(statements)
        assert f'\tgraph [size="{torchviz_size(statements)}"]\n' in dot.source
    # 87 statements: a chain of 41 products (41 boxes, AccumulateGrad, x, y; 43 arrows).
    x = gradienti.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(41):
        y = y * 1.5
    assert make_dot(y).graph.attributes["size"] == "13.049999999999999,13.049999999999999"


def test_show_attrs_writes_arrays_as_torchviz_and_no_object_addresses():
    # torchviz writes a saved tensor's attribute as [saved tensor]; an attribute with no text
    # of its own (conv's geometry) is left out, not written as "<... object at 0x...>", which
    # changed the DOT from run to run.
    def conv_max_graph():
        image = gradienti.ones(1, 1, 4, 4)
        kernel = gradienti.ones(2, 1, 3, 3, requires_grad=True)
        out = F.conv2d(image, kernel).max(dim=1).values
        return make_dot(out.sum(), show_attrs=True).source

    source = conv_max_graph()
    assert " object at 0x" not in source
    assert source == conv_max_graph()
    assert "indices    : [saved tensor]" in source
    labels = make_dot(
        F.cross_entropy(gradienti.randn(2, 3, requires_grad=True), gradienti.tensor([0, 1])),
        show_attrs=True,
    ).source
    assert "array(" not in labels and "[saved tensors]" in labels


def test_legend_option_overrides_the_default():
    x, y = lesson()
    assert legends(make_dot(y, show_values=True, legend=False).graph) == []
    forced = make_dot(y, params={"x": x}, legend=True)
    assert legends(forced.graph) == [FORWARD_LEGEND]
    (output,) = nodes_of_kind(forced.graph, "output")
    assert output.label == "\n ()"  # the legend alone names nothing
    assert legends(make_dot(y, gradient_arrows=True, legend=False).graph) == []


def test_bad_options_raise_and_change_nothing():
    x, y = lesson()
    before = make_dot(y, params={"x": x}).source
    with pytest.raises(TypeError, match="output_name must be a string or None, not int"):
        make_dot(y, output_name=3)
    with pytest.raises(TypeError, match="legend must be True, False or None, not 'yes'"):
        make_dot(y, legend="yes")
    assert make_dot(y, params={"x": x}).source == before
    y.backward()
    assert x.grad.item() == 72.0


def test_show_values_with_attributes_and_explanation():
    x, y = lesson()
    labels = op_labels(make_dot(y, params={"x": x}, show_values=True, show_attrs=True).graph)
    rule = "-" * 24
    assert (
        f"PowBackward0\nx³ = 8\n{rule}\nexponent:              3\nself    : [saved tensor]"
        in labels
    )
    explained = op_labels(make_dot(y, params={"x": x}, show_values=True, explanation=True).graph)
    pow_label = next(label for label in explained if label.startswith("PowBackward0\nx³ = 8"))
    assert pow_label.split("\n")[2:] == ["grad in: 5", "∂/∂x: 3·x² = 12", "out: 60"]


def test_custom_function_and_split_nodes_are_drawn_with_values():
    class Cube(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * grad

    v = gradienti.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = v.split(2)
    y = Cube.apply(a).sum() + b.exp().sum()
    labels = op_labels(make_dot(y, names={"v": v}, show_values=True).graph)
    assert "CubeBackward\ncube(split₁[0])" in labels
    assert "SplitBackward0\nv.split([2, 2], dim=0)" in labels
    assert "ExpBackward0\nexp(split₁[1]) = [20.0855, 54.5981]" in labels


def test_a_replay_past_the_limit_is_left_out(monkeypatch):
    # A large network's picture must not cost a second forward pass: past REPLAY_LIMIT elements
    # (a convolution counts its input times its kernel's size) the value is left unknown.
    from gradienti.viz import explain_values

    monkeypatch.setattr(explain_values, "REPLAY_LIMIT", 100)
    image = gradienti.ones(1, 1, 4, 4)  # 16 elements, a 3x3 kernel: (16 + 9) * 9 > 100
    kernel = gradienti.ones(1, 1, 3, 3, requires_grad=True)
    small = gradienti.ones(12, requires_grad=True)
    y = F.conv2d(image, kernel).sum() + small.view(3, 4).sum()
    labels = op_labels(make_dot(y, show_values=True).graph)
    assert "ConvolutionBackward0\nconv2d(c, x0)" in labels
    assert "ViewBackward0\nx1.view(…) = (3, 4) mean 1 min 1 max 1" in labels


def test_what_a_custom_function_saved_gives_the_values_around_it():
    # Exp saves its output, Halve its input (the output of Quadruple, which saves nothing):
    # both are values the graph keeps, so the boxes around them show their numbers, and the
    # constant added to Exp's output is known (1, not explain's unknown c).
    torch = pytest.importorskip("torch")

    def build(lib):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                result = t.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad):
                (result,) = ctx.saved_tensors
                return grad * result

        class Quadruple(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t * 4

            @staticmethod
            def backward(ctx, grad):
                return grad * 4

        class Halve(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t / 2

            @staticmethod
            def backward(ctx, grad):
                return grad / 2

        x = lib.tensor(1.0, requires_grad=True)
        tripled = Exp.apply(x) * 3
        quadrupled = Quadruple.apply(x)
        return x, tripled, quadrupled, (tripled + 1, Halve.apply(quadrupled))

    _, torch_tripled, torch_quadrupled, _ = build(torch)
    x, _, _, outputs = build(gradienti)
    labels = op_labels(make_dot(outputs, names={"x": x}, show_values=True).graph)
    assert f"ExpBackward\nexp(x) = {torch_number(torch_tripled / 3)}" in labels
    assert f"MulBackward0\n3·exp(x) = {torch_number(torch_tripled)}" in labels
    assert f"AddBackward0\n3·exp(x) + 1 = {torch_number(torch_tripled + 1)}" in labels
    assert f"QuadrupleBackward\nquadruple(x) = {torch_number(torch_quadrupled)}" in labels


def test_values_vmap_batched_are_left_out_not_shown_as_question_marks():
    x = gradienti.randn(3, 2, requires_grad=True)
    y = gradienti.func.vmap(lambda row: (row * row).sum())(x)
    graph = make_dot(y, names={"x": x}, show_values=True).graph
    labels = op_labels(graph)
    assert "MulBackward0\nx·x" in labels  # the per-sample product: a batched value, not shown
    assert not any("?" in label for label in labels)
    (removed,) = [label for label in labels if label.startswith("RemoveBatchDimBackward0")]
    assert removed == f"RemoveBatchDimBackward0\nsum(x·x) = {torch_value_text(y)}"
