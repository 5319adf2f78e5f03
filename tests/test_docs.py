"""The lesson page in docs/ is generated from real runs and must not be stale."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import gradienti as torch
from gradienti.viz import make_dot

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_lesson_page_and_picture_are_up_to_date():
    done = subprocess.run(
        [sys.executable, str(DOCS / "build_lesson.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + "\nrun: python docs/build_lesson.py"


def test_lesson_page_shows_the_lessons_numbers():
    page = (DOCS / "lesson.md").read_text(encoding="utf-8")
    for text in (
        "tensor(2., requires_grad=True)",
        "Function output: 64.0",
        "Gradient of x: 72.0",
        "60 + 8 + 4 = 72",
        "![The lesson's graph](lesson_graph.svg)",
    ):
        assert text in page
    assert (DOCS / "lesson_graph.svg").read_text(encoding="utf-8").lstrip().startswith("<")


def test_lesson_page_shows_errors_that_say_why():
    # Two real hinted errors (the page is generated from runs) and the switch that names lines.
    page = (DOCS / "lesson.md").read_text(encoding="utf-8")
    section = page.split("## When something goes wrong", 1)[1]
    assert "with torch.set_explain_errors(True):" in section
    output = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert output.startswith("Trying to backward through the graph a second time")
    assert "element 0 of tensors does not require grad and does not have a grad_fn\n\n" in output
    assert "cut from the graph by .detach() at lesson.py:12" in output
    assert output.count("\n\ngradienti: ") == 2


# torchviz's make_dot and graphviz's Digraph.render keyword arguments: the lesson's picture code
# must run under torchviz too, apart from what the page names as gradienti's own.
TORCHVIZ_MAKE_DOT = {"params", "show_attrs", "show_saved", "max_attr_chars"}
GRAPHVIZ_RENDER = {"filename", "directory", "view", "cleanup", "format", "outfile", "engine"}
GRADIENTI_OWN = {"show_values"}


def test_lesson_picture_code_uses_torchvizs_arguments():
    page = (DOCS / "lesson.md").read_text(encoding="utf-8")
    calls = [
        node
        for block in re.findall(r"```python\n(.*?)```", page, re.S)
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
    ]
    names = {"make_dot": TORCHVIZ_MAKE_DOT | GRADIENTI_OWN, "render": GRAPHVIZ_RENDER}
    checked = 0
    for call in calls:
        name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr
        if name in names:
            assert {keyword.arg for keyword in call.keywords} <= names[name], ast.unparse(call)
            checked += 1
    assert checked == 2
    for own in GRADIENTI_OWN:
        assert f"`{own}=True` writes" in page and "gradienti's own" in page
    assert "renderer=" not in page


def test_lesson_page_explains_how_to_read_the_picture():
    page = (DOCS / "lesson.md").read_text(encoding="utf-8")
    for text in (
        "**`()` in a box** is the tensor's shape: `()` is the shape of a 0-dimensional tensor",
        "**`AccumulateGrad`** is the node for a leaf: it adds the gradient that reaches it into",
        "**The arrows** point the way the values flowed, the forward direction",
        "`backward()` walks\n  them in reverse",
    ):
        assert text in page


def test_the_arrows_run_forward_as_the_lesson_page_says():
    # DOT's "tail -> head": the leaf's box feeds AccumulateGrad, AccumulateGrad feeds the three
    # operations that used x, and the output box (labelled with its shape "()") only receives.
    x = torch.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    source = make_dot(y, params={"x": x}).source
    found = re.findall(r'^\t(\w+) \[label=(?:"([^"]*)"|(\w+))', source, re.M)
    labels = {node: quoted or bare for node, quoted, bare in found}
    edges = re.findall(r"^\t(\w+) -> (\w+)", source, re.M)
    (leaf,) = [node for node, label in labels.items() if label.startswith("x\\n ()")]
    (accumulate,) = [node for node, label in labels.items() if label == "AccumulateGrad"]
    (output,) = [node for node, label in labels.items() if label == "\\n ()"]
    assert (leaf, accumulate) in edges
    users = sorted(labels[head] for tail, head in edges if tail == accumulate)
    assert users == ["MulBackward0", "PowBackward0", "PowBackward0"]
    assert [tail for tail, _ in edges if tail == output] == []
    assert any(head == output for _, head in edges)
