"""The interactive page's Python side: the step model against ``explain`` and PyTorch, the page's
escaping, files written only where asked, and Jupyter's inline view (viz/interactive.py,
page_html.py, page_model.py). The page in a real browser is tested in test_page_browser*.py."""

import json
import os
import re
from importlib import resources

import numpy as np
import pytest

import gradienti
from gradienti.viz import BackwardView, explain, make_dot, page_html, show
from gradienti.viz.explain_text import show as show_value
from gradienti.viz.page_model import backward_model

# A stand-in with the contract's placeholders, for a checkout without viz/page/ (the real
# template is used where it is there: the tests then check what users get).
PLACEHOLDER_PAGE = (
    "<!DOCTYPE html><html><head><title>{{TITLE}}</title></head><body>"
    "<!--gd-view-begin--><style>{{CSS}}</style>"
    '<div class="gradienti-view" id="gd-{{UID}}" data-mode="backward">{{SVG}}'
    '<script type="application/json" class="gd-model">{{MODEL_JSON}}</script></div>'
    "<script>{{JS}}</script><!--gd-view-end--></body></html>"
)


@pytest.fixture(autouse=True)
def template(monkeypatch):
    folder = resources.files("gradienti.viz") / "page"
    if not all(folder.joinpath(name).is_file() for name in page_html.TEMPLATE_FILES):
        monkeypatch.setattr(page_html, "load_template", lambda: (PLACEHOLDER_PAGE, "", ""))


def lesson(lib=gradienti):
    """The lesson's y = 5x³ + 2x² + 4x + 8 at x = 2, its parts kept (for PyTorch's grads)."""
    x = lib.tensor(2.0, requires_grad=True)
    parts = {"x³": x**3, "x²": x**2, "4·x": None}
    parts["5·x³"] = 5 * parts["x³"]
    parts["2·x²"] = 2 * parts["x²"]
    parts["4·x"] = 4 * x
    parts["5·x³ + 2·x²"] = parts["5·x³"] + parts["2·x²"]
    parts["5·x³ + 2·x² + 4·x"] = parts["5·x³ + 2·x²"] + parts["4·x"]
    y = parts["5·x³ + 2·x² + 4·x"] + 8
    return x, y, parts


def model_of(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" class="gd-model">(.*?)</script>', html, re.S
    )
    assert found is not None
    return json.loads(found.group(1))


def svg_titles(html: str) -> set:
    return set(re.findall(r"<title>([^<]*)</title>", html))


def edge_titles(html: str) -> set:
    return {title.replace("-&gt;", "->") for title in svg_titles(html) if "-&gt;" in title}


def test_the_lessons_model_follows_explain_step_by_step():
    x, y, _ = lesson()
    view = show(y, params={"x": x}, names={"y": y})
    model = view.model
    told = explain(y, names={"x": x, "y": y})
    assert model["version"] == 1 and model["mode"] == "backward"
    assert model["title"] == "y = 5·x³ + 2·x² + 4·x + 8 (backward pass)"
    assert len(model["steps"]) == len(told.steps) == 9
    # The page's JSON is the model; every step's text is its block of print(explain(y)).
    assert model_of(view.html) == model
    for step in model["steps"]:
        assert step["text"] in told.text
        assert step["title"] == step["text"].split("\n")[0]
        assert step["title"].startswith(f"Step {model['steps'].index(step) + 1} of 9 · ")
    assert model["header"] == told.text.split("\n\nStep 1 of 9")[0]
    assert told.text.endswith(model["footer"]) and "∂y/∂x = 72" in model["footer"]
    # Every node and edge named exists in the SVG; the leaf x gets the sum of what it received.
    titles, edges = svg_titles(view.html), edge_titles(view.html)
    for step in model["steps"]:
        assert step["node"] in titles and step["node"] in model["nodes"]
        assert all(send["edge"] in edges for send in step["sends"])
    last = model["steps"][-1]
    assert model["nodes"][last["node"]]["name"] == "AccumulateGrad"
    assert last["total"]["text"] == "60 + 8 + 4 = 72"
    leaf = model["nodes"][last["total"]["node"]]
    assert leaf == {"kind": "leaf", "name": "x", "value": "2"}
    arriving = [
        send["grad"]
        for step in model["steps"]
        for send in step["sends"]
        if send["edge"].startswith(last["node"] + "->")
    ]
    assert arriving == ["4", "8", "60"]  # in the order the engine runs: 4·x first, x³ last
    assert model["nodes"]["n0"] == {"kind": "output", "name": "y", "value": "64"}
    # Step 1 starts with ∂y/∂y = 1 coming from y's box, then passes 1 on to its two inputs.
    first = model["steps"][0]
    assert first["sends"][0] == {"edge": first["node"] + "->n0", "grad": "1"}
    assert [send["grad"] for send in first["sends"][1:]] == ["1"]


def test_the_gradients_sent_are_pytorchs():
    """Each step's gradient in is PyTorch's ∂y/∂(that node's output), and what reaches x adds
    up to PyTorch's x.grad (a non-uniform start: y's gradient 3)."""
    torch = pytest.importorskip("torch")
    x, y, parts = lesson()
    start = gradienti.tensor(3.0)
    tx, ty, tparts = lesson(torch)
    expected = torch.autograd.grad(ty, list(tparts.values()), torch.tensor(3.0), retain_graph=True)
    by_expression = dict(zip(tparts, expected))
    ty.backward(torch.tensor(3.0))
    told = explain(y, gradient=start, names={"x": x, "y": y})
    model = show(y, params={"x": x}, names={"y": y}).model  # (the model's start is 1)
    checked = 0
    for step in told.steps:
        expression = step.expression.split(" = ")[0]
        if expression in by_expression:
            assert float(step.grad_in) == pytest.approx(float(by_expression[expression]))
            checked += 1
    assert checked == 7
    assert float(told.leaf_totals["x"][1]) == pytest.approx(float(tx.grad)) == 216.0
    assert model["steps"][-1]["total"]["text"] == "60 + 8 + 4 = 72"


def test_a_name_that_closes_the_script_stays_inside_the_json():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * 3
    name = "</script><!--<b>&"
    html = make_dot(y, params={name: x}, show_values=True).to_html()
    assert html.count("</script>") == html.count("<script")  # none but the real closers
    assert "<!--<b>" not in html
    model = model_of(html)
    assert any(node["name"] == name for node in model["nodes"].values())
    assert name in model["steps"][-1]["text"]
    assert "&lt;/script&gt;" in html  # the SVG's label, escaped


def test_a_title_with_markup_is_escaped():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * 3
    html = show(y, names={"<i>": x}).html
    assert "<i>" not in html.split("<body")[0]
    assert "&lt;i&gt;" in html


def test_vectors_show_summaries_and_the_gradients_pytorch_computes():
    torch = pytest.importorskip("torch")
    data = np.arange(12, dtype=np.float32).reshape(3, 4) / 7 - 0.5
    w_data = np.linspace(-1, 1, 4, dtype=np.float32)
    x = gradienti.tensor(data, requires_grad=True)
    w = gradienti.tensor(w_data, requires_grad=True)
    y = (gradienti.tanh(x * w) * x).sum()
    model = show(y, params={"x": x, "w": w}).model
    tx = torch.tensor(data, requires_grad=True)
    tw = torch.tensor(w_data, requires_grad=True)
    (torch.tanh(tx * tw) * tx).sum().backward()
    totals = {
        model["nodes"][step["total"]["node"]]["name"]: step["total"]["text"]
        for step in model["steps"]
        if step["total"] is not None
    }
    assert totals["w"] == show_value(tw.grad.numpy())
    assert totals["x"].endswith(" = " + show_value(tx.grad.numpy()))  # two paths into x
    assert totals["x"].count("(shape (3, 4): mean") == 3
    assert model["nodes"][_box(model, "x")]["value"].startswith("(shape (3, 4): mean ")
    sends = [send["grad"] for step in model["steps"] for send in step["sends"]]
    assert any(text.startswith("(shape (3, 4)") for text in sends)


def _box(model, name):
    return next(box for box, node in model["nodes"].items() if node["name"] == name)


def test_forward_mode_sends_tangents_along_the_arrows():
    torch = pytest.importorskip("torch")
    from torch.func import jvp

    x, y, _ = lesson()
    view = show(y, params={"x": x}, names={"y": y}, mode="forward")
    model = view.model
    told = explain(y, names={"x": x, "y": y}, mode="forward")
    assert model["mode"] == "forward"
    assert 'data-mode="forward"' in view.html
    assert model["title"] == "y = 5·x³ + 2·x² + 4·x + 8 (forward mode)"
    assert len(model["steps"]) == len(told.passes[0].steps) == 8
    edges = edge_titles(view.html)
    first = model["steps"][0]
    seed = [send for send in first["sends"] if not send["edge"].startswith(first["node"] + "->")]
    # The seed ẋ = 1 leaves x: to its AccumulateGrad box, on to x³, x² and 4·x.
    assert [send["grad"] for send in seed] == ["1"] * 4
    assert model["nodes"][seed[0]["edge"].split("->")[0]]["name"] == "x"
    for step in model["steps"]:
        assert step["text"] in told.text and step["total"] is None
        for send in step["sends"]:
            assert send["edge"] in edges
            assert send in seed or send["edge"].startswith(step["node"] + "->")
    _, tangent = jvp(
        lambda t: 5 * t**3 + 2 * t**2 + 4 * t + 8, (torch.tensor(2.0),), (torch.tensor(1.0),)
    )
    assert model["steps"][-1]["sends"] == [{"edge": "n1->n0", "grad": show_value(tangent.numpy())}]
    assert model["steps"][-1]["sends"][0]["grad"] == "72"
    assert model["header"].startswith("How forward mode computes the derivative of y")
    assert "Reverse mode (backward()) gives the same ∂y/∂x = 72." in model["footer"]


def test_forward_mode_with_two_inputs_tells_one_pass_after_the_other():
    a = gradienti.tensor(2.0, requires_grad=True)
    b = gradienti.tensor(3.0, requires_grad=True)
    y = a * b + a
    model = show(y, names={"a": a, "b": b, "y": y}, mode="forward").model
    titles = [step["title"] for step in model["steps"]]
    assert titles[0].startswith("Pass 1 of 2 (d/da) · Step 1 of 2")
    assert titles[-1].startswith("Pass 2 of 2 (d/db) · Step 2 of 2")
    only_b = show(y, names={"a": a, "b": b, "y": y}, mode="forward", inputs=[b]).model
    assert [step["sends"][-1]["grad"] for step in only_b["steps"]] == ["2", "2"]
    assert only_b["steps"][0]["sends"][0]["grad"] == "1"  # the seed ḃ = 1, from b's box
    assert only_b["nodes"][only_b["steps"][0]["sends"][0]["edge"].split("->")[0]]["name"] == "b"


def test_a_value_used_twice_sends_both_gradients_along_its_one_edge():
    x = gradienti.tensor(3.0, requires_grad=True)
    y = x * x
    model = show(y, params={"x": x}).model
    mul = model["steps"][0]
    assert [send["grad"] for send in mul["sends"]] == ["1", "3 + 3"]  # from y; to x, twice
    assert model["steps"][1]["total"]["text"] == "3 + 3 = 6"


def test_after_backward_freed_the_values_the_page_shows_the_structure_and_says_so():
    x, y, _ = lesson()
    y.backward()
    view = show(y, params={"x": x}, names={"y": y})
    model = view.model
    assert "freed by an earlier backward()" in model["header"]
    assert len(model["steps"]) == 9
    assert all(step["node"] in svg_titles(view.html) for step in model["steps"])
    assert {send["grad"] for step in model["steps"] for send in step["sends"]} == {"?"}


def test_max_nodes_keeps_the_steps_and_lights_only_drawn_boxes():
    x, y, _ = lesson()
    view = show(y, params={"x": x}, names={"y": y}, max_nodes=3)
    model = view.model
    assert len(model["steps"]) == 9
    drawn = [step for step in model["steps"] if step["node"] is not None]
    assert 0 < len(drawn) < 9
    titles, edges = svg_titles(view.html), edge_titles(view.html)
    assert all(step["node"] in titles for step in drawn)
    assert all(send["edge"] in edges for step in model["steps"] for send in step["sends"])


def test_a_graph_of_hundreds_of_nodes_is_modelled_step_for_step():
    # (Its speed, about 0.1 s on one core, is a benchmark's business, not a test's.)
    w = gradienti.tensor(1.5, requires_grad=True)
    z = w
    for _ in range(110):
        z = gradienti.sin(z) * 1.01 + w
    dot = make_dot(z, params={"w": w}, show_values=True)
    assert len(dot.graph.nodes) > 300
    told = explain(z, names={"w": w})
    model = backward_model(told, dot.graph, z, "t")
    assert len(model["steps"]) == len(told.steps) > 300


def test_to_html_returns_the_page_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, y, _ = lesson()
    html = make_dot(y, params={"x": x}, show_values=True).to_html()
    assert html.startswith("<!DOCTYPE html>") and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert os.listdir(tmp_path) == []
    assert show(y).html == show(y).html  # a file's page is the same text for the same graph


def test_to_html_and_save_write_exactly_the_path_given(tmp_path):
    x, y, _ = lesson()
    path = tmp_path / "page.html"
    assert make_dot(y, params={"x": x}).to_html(path) == str(path)
    assert model_of(path.read_text(encoding="utf-8"))["steps"][-1]["total"]["text"] == (
        "60 + 8 + 4 = 72"
    )
    other = tmp_path / "view"
    assert show(y, params={"x": x}).save(str(other)) == str(other)
    assert sorted(os.listdir(tmp_path)) == ["page.html", "view"]


def test_a_missing_directory_is_an_error_and_is_not_created(tmp_path):
    x, y, _ = lesson()
    missing = tmp_path / "no" / "page.html"
    with pytest.raises(RuntimeError, match=r"^Parent directory .*no does not exist\.$"):
        make_dot(y).to_html(missing)
    with pytest.raises(RuntimeError, match=r"^Parent directory .*no does not exist\.$"):
        show(y).save(missing)
    assert os.listdir(tmp_path) == []


def test_each_inline_view_has_its_own_ids():
    x, y, _ = lesson()
    view = show(y, params={"x": x})
    assert isinstance(view, BackwardView)
    first, second = view._repr_html_(), view._repr_html_()
    roots = [
        re.search(r'class="gradienti-view" id="gd-([0-9a-f]+)"', html) for html in (first, second)
    ]
    assert roots[0] and roots[1] and roots[0].group(1) != roots[1].group(1)
    assert "<html" not in first and "<body" not in first and "<script>" in first
    ids = re.findall(r'\sid="([^"]*)"', first + second)
    assert len(ids) == len(set(ids))  # no element id twice on a page showing both
    assert model_of(first) == model_of(second) == view.model
    assert "BackwardView" in repr(view) and "9 steps" in repr(view)


def test_bad_arguments_are_refused_with_the_reason():
    x, y, _ = lesson()
    with pytest.raises(ValueError, match=r"^mode must be 'backward' or 'forward', not 'sideways'$"):
        show(y, mode="sideways")
    with pytest.raises(ValueError, match=r"^mode must be 'backward' or 'forward'"):
        make_dot(y).to_html(mode="reverse")
    with pytest.raises(ValueError, match="make_dot"):
        gradienti.viz.Dot().to_html()


def test_a_tensor_without_a_graph_gets_pytorchs_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        torch.tensor(2.0).backward()
    with pytest.raises(RuntimeError) as got:
        show(gradienti.tensor(2.0))
    assert str(got.value) == str(expected.value)


def test_every_placeholder_is_filled_in_the_page_and_the_inline_view():
    x, y, _ = lesson()
    view = show(y, params={"x": x}, names={"y": y})
    for html in (view.html, view._repr_html_()):
        assert re.search(r"\{\{[A-Z_]+\}\}", html) is None
        assert html.count('class="gd-model"') == 1
        assert html.count('class="gradienti-view"') == 1


def test_a_picture_with_gradient_arrows_gets_its_own_edge_ids():
    """make_dot(gradient_arrows=True) turns every arrow around: the sends name the edges as
    that SVG draws them, which then point the way each gradient goes."""
    x, y, _ = lesson()
    dot = make_dot(y, params={"x": x}, names={"y": y}, show_values=True, gradient_arrows=True)
    html = dot.to_html()
    model, edges = model_of(html), edge_titles(html)
    sends = [send for step in model["steps"] for send in step["sends"]]
    assert len(sends) == 11 and all(send["edge"] in edges for send in sends)
    first = model["steps"][0]
    assert first["sends"][0] == {"edge": "n0->" + first["node"], "grad": "1"}  # from y
    for step in model["steps"]:
        later = step["sends"][1:] if step is first else step["sends"]
        assert all(send["edge"].startswith(step["node"] + "->") for send in later)
    into_x = [
        send["grad"] for send in sends if send["edge"].endswith("->" + model["steps"][-1]["node"])
    ]
    assert into_x == ["4", "8", "60"]
    forward = model_of(dot.to_html(mode="forward"))
    for step in forward["steps"][1:]:
        assert all(send["edge"].endswith("->" + step["node"]) for send in step["sends"])
        assert all(send["edge"] in edges for send in step["sends"])


def test_the_output_is_called_what_its_box_says_in_the_panel_too():
    """show(y, params={"x": x}) names y nowhere: make_dot's box reads y, and so do explain's
    header, steps and footer on the page (not "the output", ∂output/∂x)."""
    x, y, _ = lesson()
    model = show(y, params={"x": x}).model
    told = explain(y, names={"x": x, "y": y})
    assert model["nodes"]["n0"]["name"] == "y"
    assert model["header"] == told.text.split("\n\nStep 1 of 9")[0]
    assert "where y = 64" in model["header"]
    assert model["footer"].endswith("∂y/∂x = 72")
    assert all(step["text"] in told.text for step in model["steps"])
    assert "∂output" not in json.dumps(model, ensure_ascii=False)
    assert "the output" not in model["header"]
    forward = show(y, params={"x": x}, mode="forward").model
    assert "∂y/∂x = 72" in forward["footer"] and "∂output" not in forward["footer"]
    # A name the user gave the output wins, in the box and the text alike.
    named = show(y, params={"x": x}, names={"loss": y}).model
    assert named["nodes"]["n0"]["name"] == "loss" and "∂loss/∂x = 72" in named["footer"]


def test_the_page_has_one_legend_which_says_which_way_the_arrows_point():
    """The page's legend under the graph, not also make_dot's note box in the SVG; a
    gradient_arrows drawing gets the legend of turned arrows."""
    x, y, _ = lesson()
    for html in (show(y, params={"x": x}).html, make_dot(y, show_values=True).to_html()):
        assert "legend" not in svg_titles(html) and "arrows: the" not in html
        assert 'data-arrows="forward"' in html and model_of(html)["arrows"] == "forward"
    turned = make_dot(y, show_values=True, gradient_arrows=True).to_html()
    assert "legend" not in svg_titles(turned) and model_of(turned)["arrows"] == "gradient"
    assert 'data-mode="backward" data-arrows="gradient"' in turned
    assert model_of(make_dot(y, gradient_arrows=True).to_html(mode="forward"))["arrows"] == (
        "gradient"
    )
    assert page_html.LEGEND_ID == gradienti.viz.dot.LEGEND_ID


def test_several_outputs_or_no_tensor_are_refused_with_the_reason():
    """The page tells one tensor's pass: a second output's steps would be missing silently."""
    a = gradienti.tensor(2.0, requires_grad=True)
    with pytest.raises(ValueError, match="the graph has 2 outputs: show one of them"):
        show((a * 2, a * 3))
    with pytest.raises(ValueError, match="the graph has 2 outputs"):
        make_dot([a * 2, a * 3], show_values=True).to_html()
    twice = a * 2
    assert show((twice, twice)).model == show(twice).model  # the same tensor twice is one
    for wrong in (3, None, [1.0], ()):
        with pytest.raises(TypeError, match=r"show\(\) expects a Tensor, got "):
            show(wrong)


def test_a_million_elements_make_a_small_page_of_summaries():
    weights = gradienti.randn(1000, 1000, requires_grad=True)
    html = show((weights * 2).sum(), params={"W": weights}).html
    assert len(html.encode()) < 120_000  # summaries (shape, mean, min, max), not the values
    assert "(shape (1000, 1000): mean" in html


def test_every_forward_pass_shows_its_own_header_and_result():
    """With two inputs the page told ∂y/∂a nowhere (only the last pass's result, at the end)
    and never said the second pass starts over at b: each pass's header and result are in
    the text of its first and last step, as explain prints them."""
    a = gradienti.tensor(2.0, requires_grad=True)
    b = gradienti.tensor(3.0, requires_grad=True)
    y = a * b + a
    model = show(y, params={"a": a, "b": b}, mode="forward").model
    told = explain(y, names={"a": a, "b": b, "y": y}, mode="forward").text
    texts = [step["text"] for step in model["steps"]]
    assert all(text in told for text in texts)
    assert "∂y/∂a = 4" in texts[1] and "∂y/∂b" not in texts[1]
    assert texts[2].startswith("How forward mode computes the derivative of y = a·b + a with")
    assert "with respect to b" in texts[2] and "∂y/∂b = 2" in model["footer"]
    page = "\n".join([model["header"], *texts, model["footer"]])
    assert page.count("Result:") == 2 and page.count("How forward mode computes") == 2


def test_the_page_tells_exactly_what_explain_prints():
    """Header, every step's text and footer, joined as print(explain(y)) joins them, are its
    text to the character (a tiny MLP's cross-entropy loss: matrices, summaries)."""
    gen = gradienti.Generator().manual_seed(0)
    inputs = gradienti.randn(4, 3, generator=gen)
    first = gradienti.randn(3, 5, generator=gen, requires_grad=True)
    second = gradienti.randn(5, 3, generator=gen, requires_grad=True)
    target = gradienti.tensor([0, 1, 2, 1])
    loss = gradienti.nn.functional.cross_entropy((inputs @ first).relu() @ second, target)
    params = {"W1": first, "W2": second}
    model = show(loss, params=params).model
    told = explain(loss, names={**params, "y": loss}).text
    texts = [step["text"] for step in model["steps"]]
    assert "\n\n".join([model["header"], *texts, model["footer"]]) == told
