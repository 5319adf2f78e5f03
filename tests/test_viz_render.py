"""Dot (save, render, pipe, Jupyter) and the renderer chain: graphviz-pure, dot, built-in SVG.

No real Graphviz is needed: the programs are small fake scripts in a temporary folder, put on
PATH or in a fake scripts folder (where pip would install graphviz-pure), and each records how
it was called.
"""

import json
import os
import stat
import sys
import sysconfig
import xml.etree.ElementTree as ET

import pytest

import gradienti
from gradienti.viz import Dot, make_dot
from gradienti.viz import render as render_module
from gradienti.viz.graph import Graph

posix_only = pytest.mark.skipif(sys.platform.startswith("win"), reason="fake programs are scripts")

FAKE_PROGRAM = """\
#!{python}
import json, sys, time
NAME = {name!r}
FORMATS = {formats!r}
BEHAVIOUR = {behaviour!r}
if sys.argv[1:] == ["-T?"]:
    sys.stderr.write('Format: "?" not recognized. Use one of: ' + FORMATS + "\\n")
    sys.exit(1)
source = sys.stdin.read()
with open({log!r}, "a") as log:
    log.write(json.dumps({{"name": NAME, "argv": sys.argv[1:], "source": source}}) + "\\n")
if BEHAVIOUR == "fail":
    sys.stderr.write("Error: syntax error in line 1\\n")
    sys.exit(1)
if BEHAVIOUR == "sleep":
    time.sleep(30)
fmt = sys.argv[1][2:]
if fmt == "svg":
    sys.stdout.write('<svg xmlns="http://www.w3.org/2000/svg"><title>' + NAME + "</title></svg>")
else:
    sys.stdout.write("fake " + fmt + " from " + NAME)
"""


class Programs:
    """Fake programs in a temporary scripts folder and a temporary PATH folder."""

    def __init__(self, tmp_path):
        self.scripts = tmp_path / "scripts"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "calls.jsonl"
        self.scripts.mkdir()
        self.bin.mkdir()

    def add(self, name, where="bin", formats="svg png dot", behaviour="ok"):
        folder = self.scripts if where == "scripts" else self.bin
        path = folder / name
        path.write_text(
            FAKE_PROGRAM.format(
                python=sys.executable,
                name=f"{name} in {where}",
                formats=formats,
                behaviour=behaviour,
                log=str(self.log),
            )
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return str(path)

    def calls(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def programs(tmp_path, monkeypatch):
    """No Graphviz anywhere but the fakes this test adds; no renderer forced."""
    found = Programs(tmp_path)
    monkeypatch.setenv("PATH", str(found.bin))
    monkeypatch.setattr(sysconfig, "get_path", lambda *args, **kwargs: str(found.scripts))
    monkeypatch.delenv(render_module.RENDERER_ENV, raising=False)
    monkeypatch.setattr(render_module, "_formats_cache", {})
    return found


@pytest.fixture
def stub_builtin(monkeypatch):
    """The built-in layout replaced by a stub that says it drew (the chain's tests)."""
    drawn = []

    def fake_svg(graph):
        drawn.append(graph)
        return '<svg xmlns="http://www.w3.org/2000/svg"><title>builtin</title></svg>'

    monkeypatch.setattr(render_module, "builtin_svg", fake_svg)
    return drawn


def lesson_dot(**options) -> Dot:
    x = gradienti.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return make_dot(y, params={"x": x}, **options)


def parse_svg(text):
    root = ET.fromstring(text)
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")
    return root


def svg_text(root) -> str:
    return " ".join(element.text or "" for element in root.iter())


# ------------------------------------------------------------------------- the chain


def test_nothing_installed_svg_is_builtin_and_png_pdf_name_the_extra(programs):
    assert render_module.find_renderer("svg") == render_module.Renderer("builtin")
    with pytest.raises(RuntimeError, match=r"png needs Graphviz: pip install 'gradienti\[viz\]'"):
        render_module.find_renderer("png")
    with pytest.raises(RuntimeError, match=r"pdf needs Graphviz's dot.*gradienti\[viz\]"):
        render_module.find_renderer("pdf")


def test_png_without_graphviz_raises_and_writes_nothing(programs, tmp_path):
    dot = lesson_dot()
    with pytest.raises(RuntimeError, match=r"gradienti\[viz\]"):
        dot.render("lesson", directory=tmp_path / "out", format="png")
    with pytest.raises(RuntimeError, match=r"gradienti\[viz\]"):
        dot.pipe("png")
    assert not (tmp_path / "out").exists()


@posix_only
def test_graphviz_pure_beside_the_interpreter_comes_first(programs, stub_builtin):
    program = programs.add("graphviz-pure", where="scripts")
    programs.add("graphviz-pure", where="bin")
    programs.add("dot", where="bin")
    assert render_module.find_renderer("svg") == render_module.Renderer("graphviz-pure", program)
    dot = lesson_dot()
    assert dot.pipe("svg") == (
        b'<svg xmlns="http://www.w3.org/2000/svg"><title>graphviz-pure in scripts</title></svg>'
    )
    (call,) = programs.calls()
    assert call["argv"] == ["-Tsvg"]
    assert call["source"] == dot.source  # the DOT text on stdin, dot's command line
    assert stub_builtin == []


@posix_only
def test_graphviz_pure_on_path_then_dot_then_builtin(programs, stub_builtin):
    assert render_module.find_renderer("svg").name == "builtin"
    dot_program = programs.add("dot")
    assert render_module.find_renderer("svg") == render_module.Renderer("dot", dot_program)
    pure = programs.add("graphviz-pure")
    assert render_module.find_renderer("svg") == render_module.Renderer("graphviz-pure", pure)
    assert [r.name for r in render_module.candidates("svg")] == ["graphviz-pure", "dot", "builtin"]
    assert [r.name for r in render_module.candidates("png")] == ["graphviz-pure", "dot"]


@posix_only
def test_pdf_skips_graphviz_pure_which_does_not_write_it(programs):
    programs.add("graphviz-pure", formats="canon dot gv json png svg xdot")
    with pytest.raises(RuntimeError, match="pdf needs Graphviz's dot"):
        render_module.find_renderer("pdf")
    dot_program = programs.add("dot", formats="bmp canon dot pdf png:cairo svg:cairo svg")
    assert render_module.find_renderer("pdf") == render_module.Renderer("dot", dot_program)
    assert render_module.find_renderer("png").name == "graphviz-pure"
    assert lesson_dot().pipe("pdf") == b"fake pdf from dot in bin"
    assert [call["argv"] for call in programs.calls()] == [["-Tpdf"]]


@posix_only
def test_a_failing_program_warns_and_the_next_one_draws(programs, stub_builtin):
    programs.add("graphviz-pure", behaviour="fail")
    with pytest.warns(RuntimeWarning, match="graphviz-pure could not draw.*syntax error"):
        picture = lesson_dot().pipe("svg")
    assert b"<title>builtin</title>" in picture
    assert len(stub_builtin) == 1
    # Forced, the failure is the answer.
    with pytest.raises(RuntimeError, match=r"graphviz-pure -Tsvg failed \(exit status 1\)"):
        lesson_dot().pipe("svg", renderer="graphviz-pure")


@posix_only
def test_every_program_failing_for_png_raises_with_each_reason(programs):
    programs.add("graphviz-pure", behaviour="fail")
    programs.add("dot", behaviour="fail")
    with (
        pytest.warns(RuntimeWarning, match="trying dot"),
        pytest.raises(RuntimeError, match="could not render png: graphviz-pure: .*; dot: "),
    ):
        lesson_dot().pipe("png")


@posix_only
def test_a_program_that_hangs_is_stopped(programs):
    programs.add("dot", behaviour="sleep")
    with pytest.raises(RuntimeError, match="took longer than 0.5 s"):
        lesson_dot().pipe("png", renderer="dot", timeout=0.5)


@posix_only
def test_environment_variable_and_argument_choose_the_renderer(programs, stub_builtin, monkeypatch):
    programs.add("graphviz-pure")
    dot_program = programs.add("dot")
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "builtin")
    assert render_module.find_renderer("svg").name == "builtin"
    assert b"<title>builtin</title>" in lesson_dot().pipe("svg")
    with pytest.raises(RuntimeError, match=r"built-in renderer.*svg only.*gradienti\[viz\]"):
        lesson_dot().pipe("png")
    # The argument wins over the environment.
    assert render_module.find_renderer("svg", renderer="dot").program == dot_program
    assert lesson_dot().pipe("png", renderer="dot") == b"fake png from dot in bin"
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "DOT")
    assert render_module.find_renderer("svg").name == "dot"
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "cairo")
    with pytest.raises(ValueError, match="GRADIENTI_VIZ_RENDERER='cairo' is not a renderer"):
        render_module.find_renderer("svg")
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "auto")
    assert render_module.find_renderer("svg").name == "graphviz-pure"


def test_asking_for_a_missing_program_says_so(programs):
    with pytest.raises(RuntimeError, match=r"'graphviz-pure' was asked for.*gradienti\[viz\]"):
        render_module.find_renderer("svg", renderer="graphviz-pure")
    with pytest.raises(RuntimeError, match="'dot' was asked for"):
        lesson_dot().pipe("svg", renderer="dot")


def test_dot_and_gv_formats_are_the_source_without_any_program(programs, tmp_path):
    dot = lesson_dot()
    assert dot.pipe("dot") == dot.source.encode()
    assert dot.pipe("gv") == dot.source.encode()
    assert render_module.find_renderer("gv").name == "source"
    path = dot.render(tmp_path / "lesson.dot", format="dot")
    assert path == str(tmp_path / "lesson.dot")
    assert (tmp_path / "lesson.dot").read_text() == dot.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "lesson.dot", "scripts"]


def test_a_gv_name_keeps_the_source_and_the_picture_goes_beside_it(
    programs, stub_builtin, tmp_path
):
    dot = lesson_dot()
    path = dot.render(tmp_path / "lesson.gv")  # as graphviz: lesson.gv and lesson.gv.svg
    assert path == str(tmp_path / "lesson.gv.svg")
    assert (tmp_path / "lesson.gv").read_text() == dot.source


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format: 'jpg'"):
        lesson_dot().pipe("jpg")


def test_builtin_layout_failing_is_a_clear_error(monkeypatch, programs):
    def broken(graph):
        raise ValueError("no room")

    monkeypatch.setattr(render_module, "render_svg", broken)
    with pytest.raises(RuntimeError, match="the built-in layout failed: ValueError: no room"):
        render_module.render_graph(Graph(), "svg", renderer="builtin")


# --------------------------------------------------------------- Dot: save and render


def test_save_writes_the_source(tmp_path, monkeypatch):
    dot = lesson_dot()
    path = dot.save("lesson.gv", directory=tmp_path / "sub")
    assert path == str(tmp_path / "sub" / "lesson.gv")
    assert (tmp_path / "sub" / "lesson.gv").read_text(encoding="utf-8") == dot.source
    monkeypatch.chdir(tmp_path)
    dot = lesson_dot()  # save() remembers filename and directory, as graphviz does
    assert dot.save() == "Digraph.gv"
    assert (tmp_path / "Digraph.gv").read_text(encoding="utf-8") == dot.source


def test_render_names_files_as_the_graphviz_package_does(programs, stub_builtin, tmp_path):
    dot = lesson_dot()
    path = dot.render("lesson", directory=tmp_path)
    assert path == os.path.join(str(tmp_path), "lesson.svg")
    assert (tmp_path / "lesson").read_text() == dot.source  # the source is kept
    assert "<title>builtin</title>" in (tmp_path / "lesson.svg").read_text()
    path = dot.render(tmp_path / "clean", cleanup=True)
    assert path == str(tmp_path / "clean.svg")
    assert not (tmp_path / "clean").exists()
    # A name that ends in the format is the picture itself; no source file beside it.
    path = dot.render(str(tmp_path / "picture.svg"))
    assert path == str(tmp_path / "picture.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bin",
        "clean.svg",
        "lesson",
        "lesson.svg",
        "picture.svg",
        "scripts",
    ]


@posix_only
def test_render_takes_the_format_from_the_name(programs, tmp_path):
    programs.add("graphviz-pure")
    path = lesson_dot().render(tmp_path / "picture.png")
    assert path == str(tmp_path / "picture.png")
    assert (tmp_path / "picture.png").read_bytes() == b"fake png from graphviz-pure in bin"


def test_view_opens_the_picture(programs, stub_builtin, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("gradienti.viz.dotfile._open_in_viewer", opened.append)
    path = lesson_dot().render(tmp_path / "seen.svg", view=True)
    assert opened == [path]


# ------------------------------------------------------------------ the built-in layout


def test_render_svg_with_the_builtin_renderer_writes_xml(tmp_path, monkeypatch):
    pytest.importorskip("gradienti.viz.layout")
    monkeypatch.setenv("GRADIENTI_VIZ_RENDERER", "builtin")
    dot = lesson_dot(show_values=True, show_grads=True)
    path = dot.render(tmp_path / "lesson.svg")
    root = parse_svg((tmp_path / "lesson.svg").read_text(encoding="utf-8"))
    text = svg_text(root)
    for word in ("AccumulateGrad", "PowBackward0", "MulBackward0", "AddBackward0", "64."):
        assert word in text
    assert path == str(tmp_path / "lesson.svg")


# -------------------------------------------------------------------------- Jupyter


def test_repr_svg_is_an_svg(programs):
    # With nothing installed the built-in layout draws; if it cannot, the error picture.
    svg = lesson_dot()._repr_svg_()
    parse_svg(svg)
    bundle = lesson_dot()._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    parse_svg(bundle["image/svg+xml"])
    assert bundle["text/plain"] == "<gradienti.viz.Dot: 11 nodes, 12 edges>"


def test_repr_never_raises_when_the_renderer_fails(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("the renderer <broke> & stopped")

    monkeypatch.setattr(render_module, "render_graph", broken)
    dot = lesson_dot()
    svg = dot._repr_svg_()
    text = svg_text(parse_svg(svg))
    assert "could not draw this graph: ValueError: the renderer <broke> & stopped" in text
    bundle = dot._repr_mimebundle_(include={"image/svg+xml"})
    assert list(bundle) == ["image/svg+xml"]
    assert "ValueError" in bundle["image/svg+xml"]
    assert list(dot._repr_mimebundle_(exclude={"image/svg+xml"})) == ["text/plain"]


def test_repr_never_raises_on_a_broken_graph(programs):
    dot = lesson_dot()
    dot.graph = None  # nothing a renderer can draw
    svg_text(parse_svg(dot._repr_svg_()))
    bundle = dot._repr_mimebundle_()
    parse_svg(bundle["image/svg+xml"])
    assert repr(dot) == "<gradienti.viz.Dot>"

    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no text")

    def weird(*args, **kwargs):
        raise Weird

    dot = lesson_dot()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render_module, "render_graph", weird)
        assert "could not draw this graph" in svg_text(parse_svg(dot._repr_svg_()))


def test_program_formats_reads_what_the_program_lists(programs):
    if sys.platform.startswith("win"):
        pytest.skip("fake programs are scripts")
    program = programs.add("dot", formats="bmp canon pdf png:cairo:cairo svg:core svg")
    assert render_module.program_formats(program) == frozenset(
        {"bmp", "canon", "pdf", "png", "svg"}
    )
    assert render_module.program_formats(str(programs.bin / "missing")) is None
