"""``gradienti demo --html PATH`` and ``gradienti grad EXPR x=2 --html PATH``: the interactive page
of the pass, written to exactly PATH, never into a directory that does not exist."""

import json
import os
import re
from importlib import resources

import pytest
from test_interactive_model import PLACEHOLDER_PAGE

from gradienti.cli import main
from gradienti.viz import page_html

LESSON = "5*x**3 + 2*x**2 + 4*x + 8"


@pytest.fixture(autouse=True)
def template(monkeypatch):
    folder = resources.files("gradienti.viz") / "page"
    if not all(folder.joinpath(name).is_file() for name in page_html.TEMPLATE_FILES):
        monkeypatch.setattr(page_html, "load_template", lambda: (PLACEHOLDER_PAGE, "", ""))


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def model_in(path) -> dict:
    with open(path, encoding="utf-8") as file:
        html = file.read()
    found = re.search(
        r'<script type="application/json" class="gd-model">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1))


def test_demo_writes_the_lessons_page(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo", "--html", "lesson.html")
    assert (status, err) == (0, "")
    assert out.endswith("The interactive page: lesson.html\n")
    assert "Gradient of x: 72.0" in out
    model = model_in(tmp_path / "lesson.html")
    assert len(model["steps"]) == 9
    assert model["steps"][-1]["total"]["text"] == "60 + 8 + 4 = 72"
    assert model["title"] == "y = 5·x³ + 2·x² + 4·x + 8 (backward pass)"
    # The demo's picture is written as always (the page comes beside it, not instead).
    assert sorted(os.listdir(tmp_path)) == ["gradienti_demo.svg", "lesson.html"]


def test_demo_html_into_a_directory_uses_the_default_name(tmp_path, capsys):
    status, out, _ = run(capsys, "demo", "--out", str(tmp_path), "--html", str(tmp_path))
    assert status == 0
    page = tmp_path / "gradienti_demo.html"
    assert f"The interactive page: {page}" in out
    assert len(model_in(page)["steps"]) == 9


def test_grad_html_backward_and_forward(tmp_path, capsys):
    path = tmp_path / "grad.html"
    status, out, err = run(capsys, "grad", LESSON, "x=2", "--html", str(path))
    assert (status, err) == (0, "")
    assert out.splitlines()[-1] == f"The interactive page: {path}"
    model = model_in(path)
    assert model["mode"] == "backward"
    assert model["steps"][-1]["total"]["text"] == "60 + 8 + 4 = 72"
    assert model["title"] == "f = 5·x³ + 2·x² + 4·x + 8 (backward pass)"

    status, out, err = run(capsys, "grad", LESSON, "x=2", "--mode", "forward", "--html", str(path))
    assert (status, err) == (0, "")
    model = model_in(path)
    assert model["mode"] == "forward"
    assert model["steps"][-1]["sends"][-1]["grad"] == "72"


def test_grad_html_of_a_vector_expression_explains_the_sum(tmp_path, capsys):
    path = tmp_path / "v.html"
    status, _, err = run(capsys, "grad", "x*x", "x=1,2,3", f"--html={path}")
    assert (status, err) == (0, "")
    model = model_in(path)
    assert model["title"] == "sum(f) (backward pass)"
    total = next(step["total"] for step in model["steps"] if step["total"])
    assert total["text"] == "[1, 2, 3] + [1, 2, 3] = [2, 4, 6]"


def test_a_missing_directory_is_refused_before_anything_runs(tmp_path, capsys):
    missing = tmp_path / "no" / "page.html"
    status, out, err = run(capsys, "grad", LESSON, "x=2", "--html", str(missing))
    assert status == 1 and out == ""
    assert err == (
        f"gradienti grad: error: --html {missing}: parent directory {missing.parent} "
        "does not exist\n"
    )
    status, out, err = run(capsys, "demo", "--html", str(missing))
    assert status == 1 and out == "" and "parent directory" in err
    assert os.listdir(tmp_path) == []


def test_grad_html_needs_a_file_name_and_a_graph(tmp_path, capsys):
    status, _, err = run(capsys, "grad", LESSON, "x=2", "--html", str(tmp_path))
    assert status == 2
    assert err == (
        f"gradienti grad: error: --html {tmp_path} names a directory; give the page's file name\n"
    )
    path = tmp_path / "c.html"
    status, out, err = run(capsys, "grad", "2 + 3", "--html", str(path))
    assert status == 2
    assert err == (
        "gradienti grad: error: --html: f does not depend on the variables, so there is no graph\n"
    )
    assert not path.exists()


def test_a_page_too_large_to_lay_out_is_refused_before_anything_runs(tmp_path, capsys):
    path = tmp_path / "big.html"
    long = " + ".join(["sin(x)"] * 300)  # 300 sines and 299 additions
    status, out, err = run(capsys, "grad", long, "x=1", "--html", str(path))
    assert (status, out) == (2, "")
    assert err == (
        "gradienti grad: error: --html would show about 600 steps (one per operation and "
        "variable); the limit is 500 (use a shorter expression)\n"
    )
    assert not path.exists()
    # Just under the limit, the page is written.
    status, _, err = run(capsys, "grad", " + ".join(["sin(x)"] * 200), "x=1", "--html", str(path))
    assert (status, err) == (0, "")
    assert len(model_in(path)["steps"]) > 300
