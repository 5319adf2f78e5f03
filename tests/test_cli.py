"""The ``gradienti`` command: demo, grad, their errors and their help."""

import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

import gradienti
from gradienti.cli import main

LESSON = "5*x**3 + 2*x**2 + 4*x + 8"
LESSON_LINES = ["tensor(2., requires_grad=True)", "Function output: 64.0", "Gradient of x: 72.0"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def grad_lines(capsys, *argv):
    status, out, err = run(capsys, "grad", *argv)
    assert (status, err) == (0, "")
    return out.splitlines()


def refused(capsys, *argv, status=2):
    """The command fails with one line on stderr, no traceback and nothing on stdout."""
    got, out, err = run(capsys, *argv)
    assert got == status
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


# ----------------------------------------------------------------------------- fake viz


class FakeDot:
    def __init__(self, log):
        self.log = log

    def pipe(self, format="svg"):
        self.log.append(("pipe", format))
        return b"digraph {}" if format in ("dot", "gv") else b"<svg/>"


@pytest.fixture
def fake_viz(monkeypatch):
    """gradienti.viz.dot and gradienti.viz.explain as stand-ins that record their calls."""
    log = []

    def make_dot(var, params=None, show_values=False, show_grads=False, **kwargs):
        log.append(("make_dot", var, dict(params or {}), show_values, show_grads))
        return FakeDot(log)

    def explain(output, names=None):
        log.append(("explain", output, dict(names or {})))
        return "EXPLANATION OF THE BACKWARD PASS"

    dot = types.ModuleType("gradienti.viz.dot")
    dot.make_dot = make_dot
    explanation = types.ModuleType("gradienti.viz.explain")
    explanation.explain = explain
    monkeypatch.setitem(sys.modules, "gradienti.viz.dot", dot)
    monkeypatch.setitem(sys.modules, "gradienti.viz.explain", explanation)
    return log


@pytest.fixture
def no_viz(monkeypatch):
    """As if gradienti.viz.dot and gradienti.viz.explain were not installed."""
    monkeypatch.setitem(sys.modules, "gradienti.viz.dot", None)
    monkeypatch.setitem(sys.modules, "gradienti.viz.explain", None)


# ----------------------------------------------------------------------------- demo


def test_demo_prints_the_lessons_three_lines_first(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the demo may write its picture here
    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert out.splitlines()[:3] == LESSON_LINES


def test_demo_explains_and_writes_the_picture(capsys, tmp_path, monkeypatch, fake_viz):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == LESSON_LINES
    assert "EXPLANATION OF THE BACKWARD PASS" in lines
    assert lines[-1] == "The picture of the graph: gradienti_demo.svg"
    assert (tmp_path / "gradienti_demo.svg").read_text() == "<svg/>"
    calls = {entry[0]: entry for entry in fake_viz}
    _, y, names = calls["explain"]
    assert y.item() == 64.0 and names["x"].grad.item() == 72.0
    _, y, params, show_values, show_grads = calls["make_dot"]
    assert y.item() == 64.0 and list(params) == ["x"] and show_values and show_grads
    assert calls["pipe"] == ("pipe", "svg")
    assert [p.name for p in tmp_path.iterdir()] == ["gradienti_demo.svg"]


def test_demo_output_option(capsys, tmp_path, fake_viz):
    target = tmp_path / "lesson.svg"
    status, out, _ = run(capsys, "demo", "--output", str(target))
    assert status == 0
    assert out.splitlines()[-1] == f"The picture of the graph: {target}"
    assert target.read_text() == "<svg/>"
    status, out, _ = run(capsys, "demo", "-o", str(tmp_path / "lesson.dot"))
    assert fake_viz[-1] == ("pipe", "dot")
    assert (tmp_path / "lesson.dot").read_text() == "digraph {}"


def test_demo_without_viz_says_so_and_succeeds(capsys, tmp_path, monkeypatch, no_viz):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert status == 0
    assert out.splitlines() == LESSON_LINES
    assert err == (
        "gradienti demo: the explanation and the picture need gradienti.viz, "
        "which this installation does not have\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_demo_out_option_names_the_file(capsys, tmp_path, fake_viz):
    target = tmp_path / "lesson.svg"
    status, out, _ = run(capsys, "demo", "--out", str(target))
    assert status == 0
    assert out.splitlines()[-1] == f"The picture of the graph: {target}"
    assert target.read_text() == "<svg/>"
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.svg"]


def test_demo_out_option_may_name_an_existing_directory(capsys, tmp_path, fake_viz):
    folder = tmp_path / "pictures"
    folder.mkdir()
    status, out, _ = run(capsys, "demo", "--out", str(folder))
    assert status == 0
    assert out.splitlines()[-1] == f"The picture of the graph: {folder / 'gradienti_demo.svg'}"
    assert (folder / "gradienti_demo.svg").read_text() == "<svg/>"
    assert [p.name for p in tmp_path.iterdir()] == ["pictures"]


@pytest.mark.parametrize("where", ["no/such/dir.svg", "no/such/", "new.svg/"])
def test_demo_creates_no_directory_and_says_which_is_missing(capsys, tmp_path, fake_viz, where):
    # as torch.save: "Parent directory ... does not exist.", before anything is computed
    path = str(tmp_path / where)
    if where.endswith("/"):
        path += os.sep
        message = f"gradienti demo: error: --out {path}: directory {path} does not exist"
    else:
        message = (
            f"gradienti demo: error: --out {path}: parent directory "
            f"{os.path.dirname(path)} does not exist"
        )
    assert refused(capsys, "demo", "--out", path, status=1) == message
    assert list(tmp_path.iterdir()) == [] and fake_viz == []


def test_grad_graph_in_a_missing_directory_is_refused_before_computing(capsys, tmp_path, fake_viz):
    path = tmp_path / "no" / "g.svg"
    assert refused(capsys, "grad", "x", "x=1", "--graph", str(path), status=1) == (
        f"gradienti grad: error: --graph {path}: parent directory {path.parent} does not exist"
    )
    assert list(tmp_path.iterdir()) == [] and fake_viz == []


def test_demo_picture_that_cannot_be_written(capsys, tmp_path, monkeypatch, fake_viz):
    def refuse(self, format="svg"):
        raise OSError("disk full")

    monkeypatch.setattr(FakeDot, "pipe", refuse)
    status, out, err = run(capsys, "demo", "--out", str(tmp_path / "lesson.svg"))
    assert status == 1
    assert out.splitlines()[:3] == LESSON_LINES
    assert (
        err
        == f"gradienti demo: error: cannot write the picture {tmp_path / 'lesson.svg'}: disk full\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    assert gradienti.__version__ == "0.1.0"
    status, out, err = run(capsys, "--version")
    assert (status, out, err) == (0, f"gradienti {gradienti.__version__}\n", "")


# ----------------------------------------------------------------------------- grad


def test_grad_of_the_lesson(capsys):
    assert grad_lines(capsys, LESSON, "x=2") == [
        f"f = {LESSON}",
        "f(x=2) = 64.0",
        "df/dx = 72.0",
    ]


def test_grad_second_order_of_the_lesson(capsys):
    # d2/dx2 (5x^3 + 2x^2 + 4x + 8) = 30x + 4 = 64 at x = 2
    assert grad_lines(capsys, LESSON, "x=2", "--order", "2")[-2:] == [
        "df/dx = 72.0",
        "d2f/dx^2 = 64.0",
    ]


def test_grad_two_variables_first_and_second_order(capsys):
    lines = grad_lines(capsys, "x**2*y + 3*y", "x=3", "y=-2", "--order", "2")
    assert lines == [
        "f = x**2*y + 3*y",
        "f(x=3, y=-2) = -24.0",
        "df/dx = -12.0",  # 2xy
        "df/dy = 12.0",  # x^2 + 3
        "d2f/dx^2 = -4.0",  # 2y
        "d2f/dx dy = 6.0",  # 2x
        "d2f/dy^2 = 0.0",
    ]


def test_grad_of_a_vector_expression_is_the_gradient_of_its_sum(capsys):
    lines = grad_lines(capsys, "x**2 * w", "x=1,2,3", "w=2")
    assert lines == [
        "f = x**2 * w",
        "f(x=[1,2,3], w=2) = tensor([ 2.,  8., 18.])",
        "f is not a scalar: the derivatives are those of sum(f) = 28.0",
        "d(sum f)/dx = tensor([ 4.,  8., 12.])",
        "d(sum f)/dw = 14.0",
    ]


def test_long_vectors_are_shown_by_their_first_and_last_entries(capsys):
    lines = grad_lines(capsys, "sum(v)", "v=" + ",".join(str(i) for i in range(1, 101)))
    assert lines[1] == "f(v=[1,2,3,...,100]) = 5050.0"
    assert lines[2] == "df/dv =" and lines[3].startswith("tensor([1., 1., 1.,")


def test_grad_vector_hessian_matches_torch(capsys):
    torch = pytest.importorskip("torch")
    out = "\n".join(
        grad_lines(capsys, "x**2*y + sin(x*y)", "x=1,2", "y=[2,3]", "--order", "2")
        + grad_lines(capsys, "x**2*y + sin(x*y)", "x=1,2", "y=2,3", "--order", "2")
    )

    def f(x, y):
        return (x**2 * y + torch.sin(x * y)).sum()

    inputs = (torch.tensor([1.0, 2.0]), torch.tensor([2.0, 3.0]))
    (hxx, hxy), (_, hyy) = torch.autograd.functional.hessian(f, inputs)
    assert f"d2(sum f)/dx^2 =\n{hxx}\n" in out
    assert f"d2(sum f)/dx dy =\n{hxy}\n" in out
    assert f"d2(sum f)/dy^2 =\n{hyy}\n" in out
    gx, gy = torch.autograd.grad(f(*[t.requires_grad_() for t in inputs]), inputs)
    assert f"d(sum f)/dx = {gx}\n" in out and f"d(sum f)/dy = {gy}\n" in out


def test_grad_functions_constants_and_float64(capsys):
    lines = grad_lines(capsys, "sin(x)**2 + cos(x)**2 + pi", "x=0.7", "--dtype", "float64")
    assert lines[1:] == ["f(x=0.7) = 4.141592653589793", "df/dx = 0.0"]
    lines = grad_lines(capsys, "sigmoid(x) + relu(-x) + tanh(0*x)", "x=0")
    assert lines[1:] == ["f(x=0) = 0.5", "df/dx = 0.25"]  # relu'(0) = 0, tanh'(0)*0 = 0


def test_grad_variable_not_in_the_expression_and_constant_expression(capsys):
    assert grad_lines(capsys, "3*x", "x=1", "y=5", "--order", "2")[2:] == [
        "df/dx = 3.0",
        "df/dy = 0.0",
        "d2f/dx^2 = 0.0",
        "d2f/dx dy = 0.0",
        "d2f/dy^2 = 0.0",
    ]
    assert grad_lines(capsys, "2 + 3") == ["f = 2 + 3", "f() = 5.0"]


def test_expression_may_start_with_minus_and_options_may_come_last(capsys):
    assert grad_lines(capsys, "-x**2", "x=3")[1:] == ["f(x=3) = -9.0", "df/dx = -6.0"]
    assert grad_lines(capsys, "x**3", "--order", "2", "x=-1")[1:] == [
        "f(x=-1) = -1.0",
        "df/dx = 3.0",
        "d2f/dx^2 = -6.0",
    ]
    assert grad_lines(capsys, "--order=2", "--", "-x", "x=1")[-1] == "d2f/dx^2 = 0.0"


def test_huge_powers_are_inf_and_finish(capsys):
    lines = grad_lines(capsys, "9**9**9**9 * x", "x=1")
    assert lines[1:] == ["f(x=1) = inf", "df/dx = inf"]
    assert grad_lines(capsys, "x**9**9**9", "x=2")[1] == "f(x=2) = inf"


def test_grad_explain_and_graph(capsys, tmp_path, fake_viz):
    target = tmp_path / "g.svg"
    lines = grad_lines(capsys, "x*y", "x=2", "y=3", "--explain", "--graph", str(target))
    assert lines[:4] == ["f = x*y", "f(x=2, y=3) = 6.0", "df/dx = 3.0", "df/dy = 2.0"]
    assert "EXPLANATION OF THE BACKWARD PASS" in lines
    assert lines[-1] == f"The picture of the graph: {target}"
    assert target.read_text() == "<svg/>"
    calls = {entry[0]: entry for entry in fake_viz}
    _, y, params, show_values, show_grads = calls["make_dot"]
    assert y.item() == 6.0 and show_values and show_grads
    assert [(k, v.item(), v.grad.item()) for k, v in params.items()] == [
        ("x", 2.0, 3.0),
        ("y", 3.0, 2.0),
    ]
    _, output, names = calls["explain"]
    assert output.item() == 6.0 and set(names) == {"x", "y", "f"}


def test_grad_explain_of_a_constant_says_there_is_nothing_to_explain(capsys, fake_viz):
    lines = grad_lines(capsys, "3", "x=1", "--explain")
    assert lines[-1] == (
        "Nothing to explain: f does not depend on the variables, so there is no graph."
    )
    assert [e for e in fake_viz if e[0] == "explain"] == []


def test_grad_graph_formats(capsys, tmp_path, fake_viz):
    last_lines = [
        grad_lines(capsys, "x", "x=1", "--graph", str(tmp_path / name))[-1]
        for name in ("a.dot", "b", "c.PNG", "d.gv")
    ]
    assert [e for e in fake_viz if e[0] == "pipe"] == [
        ("pipe", "dot"),
        ("pipe", "svg"),
        ("pipe", "png"),
        ("pipe", "gv"),
    ]
    assert last_lines == [
        f"The picture of the graph: {tmp_path / 'a.dot'}",
        f"The picture of the graph: {tmp_path / 'b.svg'} (the path had no suffix: .svg added)",
        f"The picture of the graph: {tmp_path / 'c.PNG'}",
        f"The picture of the graph: {tmp_path / 'd.gv'}",
    ]
    # exactly the paths given (or with .svg added), and nothing else: no DOT source beside them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dot", "b.svg", "c.PNG", "d.gv"]
    assert refused(capsys, "grad", "x", "x=1", "--graph", str(tmp_path / "d.jpg")) == (
        f"gradienti grad: error: cannot write a picture as '.jpg' ({tmp_path / 'd.jpg'}); "
        "use one of .svg, .png, .pdf, .dot, .gv"
    )


def test_grad_graph_to_a_special_file_writes_into_it_and_nothing_beside_it(
    capsys, tmp_path, fake_viz
):
    fifo = tmp_path / "picture"  # a named pipe: written as it is, like /dev/null or /dev/stdout
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    lines = grad_lines(capsys, "x", "x=1", "--graph", str(fifo))
    reader.join(timeout=60)
    assert received == [b"<svg/>"]
    assert lines[-1] == f"The picture of the graph: {fifo}"
    assert [p.name for p in tmp_path.iterdir()] == ["picture"]


def test_grad_graph_to_dev_null_creates_no_file(capsys, fake_viz):
    beside = os.devnull + ".svg"
    if not os.path.exists(os.devnull) or os.path.exists(beside):
        pytest.skip(f"needs {os.devnull} and no {beside}")
    lines = grad_lines(capsys, "x", "x=1", "--graph", os.devnull)
    assert lines[-1] == f"The picture of the graph: {os.devnull}"
    assert not os.path.exists(beside)


def test_grad_graph_that_is_no_file_name_is_refused_before_computing(capsys, tmp_path, fake_viz):
    assert refused(capsys, "grad", "x", "x=1", "--graph", str(tmp_path)) == (
        f"gradienti grad: error: --graph {tmp_path} names a directory; give the picture's file name"
    )
    assert refused(capsys, "grad", "x", "x=1", "--graph", str(tmp_path / "new") + os.sep) == (
        f"gradienti grad: error: --graph {tmp_path / 'new'}{os.sep} names a directory; "
        "give the picture's file name"
    )
    assert refused(capsys, "grad", "x", "x=1", "--graph", "") == (
        "gradienti grad: error: --graph needs a file name"
    )
    assert list(tmp_path.iterdir()) == [] and fake_viz == []


def test_grad_render_failure_is_one_line(capsys, tmp_path, monkeypatch, fake_viz):
    def no_png(self, format="svg"):
        raise RuntimeError("png needs Graphviz:\n pip install gradienti[viz]")

    monkeypatch.setattr(FakeDot, "pipe", no_png)
    status, out, err = run(capsys, "grad", "x", "x=1", "--graph", str(tmp_path / "g.png"))
    assert status == 1
    assert out.splitlines()[-1] == "df/dx = 1.0"  # the numbers come first
    assert err == (
        f"gradienti grad: error: cannot write the picture {tmp_path / 'g.png'}: "
        "png needs Graphviz: pip install gradienti[viz]\n"
    )
    assert list(tmp_path.iterdir()) == []  # drawn before the file is opened: nothing written


def test_grad_graph_and_explain_need_viz(capsys, no_viz):
    assert refused(capsys, "grad", "x", "x=1", "--graph", "g.svg", status=1) == (
        "gradienti grad: error: --graph needs gradienti.viz.dot.make_dot, "
        "which this installation does not have"
    )
    assert refused(capsys, "grad", "x", "x=1", "--explain", status=1) == (
        "gradienti grad: error: --explain needs gradienti.viz.explain.explain, "
        "which this installation does not have"
    )


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv, message",
    [
        (["x +* 2", "x=1"], "syntax error: invalid syntax at column 4"),
        (["sin(x", "x=1"], "syntax error: '(' was never closed at column 4"),
        (["x + foo(x)", "x=1"], "unknown function 'foo' (did you mean 'floor'?) at column 5"),
        (["x + y", "x=1"], "variable 'y' has no value (give y=...) at column 5"),
        (["x", "x=abc"], "in 'x=abc': 'abc' is not a number"),
        (["x", "x=1e"], "in 'x=1e': '1e' is not a number"),
        (["x", "x"], "'x' is not NAME=VALUE (e.g. x=2 or v=1,2,3)"),
        (["x", "x=1", "x=2"], "variable 'x' is given twice"),
        (
            ["x=2"],
            "'x=2' is a NAME=VALUE; the expression comes first: gradienti grad EXPR NAME=VALUE ...",
        ),
        (["x", "1x=2"], "'1x' is not a valid variable name"),
        (["x", "pi=3"], "'pi' is a constant and cannot be a variable name"),
        (["x", "x=1", "--oder", "2"], "unknown option '--oder'"),
        (["x//2", "x=1"], "'//' is not allowed (use /) at column 2"),
        (
            ["x if x else 1", "x=1"],
            "conditional expressions (a if c else b) are not allowed at column 1",
        ),
        (
            ["x + v", "x=1,2", "v=1,2,3"],
            "at column 1, x + v: The size of tensor a (2) must match the size of tensor b (3) "
            "at non-singleton dimension 0",
        ),
        (
            ["x", "x=" + ",".join(["1"] * 100_001)],
            "variable 'x' has 100001 elements; the limit is 100000",
        ),
        (
            ["sum(x)", "x=" + ",".join(["1"] * 1001), "--order", "2"],
            "--order 2 takes at most 1000 elements in all the variables (one backward pass each); "
            "these have 1001",
        ),
        (
            ["x" + "+x" * 5000, "x=1"],
            "the expression is too long (10001 characters; the limit is 10000)",
        ),
    ],
)
def test_grad_errors_are_one_line_with_status_2(capsys, argv, message):
    assert refused(capsys, "grad", *argv) == f"gradienti grad: error: {message}"


HOSTILE = [
    ("x.__class__", "attribute access ('.__class__') is not allowed at column 2"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access ('.__subclasses__')"),
    ("open('/etc/passwd').read()", "attribute access ('.read') is not allowed at column 20"),
    ("open('/etc/passwd')", "unknown function 'open' at column 1"),
    ("lambda: 1", "lambda is not allowed at column 1"),
    ("[1,2]", "lists are not allowed"),
    ('"a"', "strings are not allowed at column 1"),
    ("x if x else 1", "conditional expressions (a if c else b) are not allowed at column 1"),
    ("x.real.imag.__class__", "attribute access ('.__class__')"),
    ("globals()", "unknown function 'globals' at column 1"),
    ("__builtins__", "names starting with '_' are not allowed ('__builtins__') at column 1"),
]


@pytest.mark.parametrize("text, message", HOSTILE)
def test_hostile_expressions_are_refused(capsys, text, message):
    assert refused(capsys, "grad", text, "x=1").startswith(f"gradienti grad: error: {message}")


def test_import_system_runs_nothing(capsys, tmp_path):
    marker = tmp_path / "pwned"
    text = f"__import__('os').system('touch {marker}')"
    assert refused(capsys, "grad", text) == (
        "gradienti grad: error: attribute access ('.system') is not allowed at column 17"
    )
    assert refused(capsys, "grad", f"__import__('os').system('touch {marker}')*x", "x=1")
    assert not marker.exists()


def test_a_bug_is_one_line_with_status_1(capsys, monkeypatch):
    import gradienti.cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gradienti.cli, "_second_derivatives", broken)
    monkeypatch.delenv("GRADIENTI_TRACEBACK", raising=False)
    status, out, err = run(capsys, "grad", "x", "x=1", "--order", "2")
    assert status == 1
    assert err == (
        "gradienti grad: internal error: ZeroDivisionError: boom "
        "(run with GRADIENTI_TRACEBACK=1 for details)\n"
    )
    monkeypatch.setenv("GRADIENTI_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["grad", "x", "x=1", "--order", "2"])


# ----------------------------------------------------------------------------- help


def test_help_for_the_command_and_each_subcommand(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "demo" in out and "grad" in out
    status, out, _ = run(capsys, "demo", "--help")
    assert status == 0 and "--out PATH, --output PATH, -o PATH" in out
    assert "gradienti_demo.svg in the current directory" in " ".join(out.split())
    assert "none is created" in " ".join(out.split())
    assert "--version" in run(capsys, "--help")[1]
    status, out, _ = run(capsys, "grad", "--help")
    assert status == 0
    for word in ("--order", "--graph", "--explain", "NAME=VALUE", "atan2(y, x)", "sigmoid(x)"):
        assert word in out


def test_no_command_and_usage_errors(capsys):
    status, _, err = run(capsys)
    assert status == 2 and "usage: gradienti" in err
    assert "the following arguments are required: EXPR" in refused(capsys, "grad")
    assert "invalid choice: 3" in refused(capsys, "grad", "x", "x=1", "--order", "3")


# ----------------------------------------------------------------------------- processes


def _environment():
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def test_python_dash_m_gradienti(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gradienti", "grad", LESSON, "x=2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [f"f = {LESSON}", "f(x=2) = 64.0", "df/dx = 72.0"]


def test_console_script(tmp_path):
    script = Path(sys.executable).with_name("gradienti")
    if not script.exists():
        pytest.skip("the gradienti console script is not installed beside this Python")
    done = subprocess.run(
        [str(script), "grad", "x.__class__", "x=1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "gradienti grad: error: attribute access ('.__class__') is not allowed at column 2\n"
    )
    done = subprocess.run(
        [str(script), "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0
    assert done.stdout.splitlines()[:3] == LESSON_LINES


def test_with_the_real_viz_modules(capsys, tmp_path, monkeypatch):
    pytest.importorskip("gradienti.viz.dot")
    pytest.importorskip("gradienti.viz.explain")
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "builtin")  # no Graphviz program needed
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    assert "60 + 8 + 4 = 72" in out
    assert out.splitlines()[-1] == "The picture of the graph: gradienti_demo.svg"
    assert "<svg" in (tmp_path / "gradienti_demo.svg").read_text()
    lines = grad_lines(capsys, LESSON, "x=2", "--explain", "--graph", "lesson.svg")
    assert lines[:3] == [f"f = {LESSON}", "f(x=2) = 64.0", "df/dx = 72.0"]
    assert any("60 + 8 + 4 = 72" in line for line in lines)
    assert "<svg" in (tmp_path / "lesson.svg").read_text()
    assert grad_lines(capsys, "x*y", "x=1", "y=2", "--graph", "xy.gv")[-1].endswith(": xy.gv")
    assert (tmp_path / "xy.gv").read_text().startswith("digraph")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gradienti_demo.svg",
        "lesson.svg",
        "xy.gv",
    ]


def test_demo_writes_its_picture_into_the_current_directory_only(tmp_path):
    pytest.importorskip("gradienti.viz.dot")
    repository = Path(__file__).resolve().parents[1]
    had_picture = (repository / "gradienti_demo.svg").exists()
    env = {**_environment(), "GRADIENTI_VIZ_RENDERER": "builtin"}
    done = subprocess.run(
        [sys.executable, "-m", "gradienti", "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == "The picture of the graph: gradienti_demo.svg"
    assert [p.name for p in tmp_path.iterdir()] == ["gradienti_demo.svg"]
    assert (repository / "gradienti_demo.svg").exists() == had_picture
