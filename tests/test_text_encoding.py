"""Output on any terminal: where a stream cannot encode the explanation's symbols (cp1252, ASCII),
the text is spelled in ASCII (``dy/dx``, ``x^3``) instead of raising UnicodeEncodeError; where it
can, the text is exactly as before."""

import ast
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gradienti
from gradienti._text_encoding import FittingWriter, can_encode, fit_to_stream, spell_ascii
from gradienti.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "gradienti"
LESSON = "5*x**3 + 2*x**2 + 4*x + 8"


@pytest.mark.parametrize(
    "text, ascii_text",
    [
        ("∂y/∂x = 72", "dy/dx = 72"),
        ("∂/∂a = 3·x²", "d/da = 3*x^2"),
        ("x³ + x⁻¹ + x¹⁰ + 2⁻¹²", "x^3 + x^-1 + x^10 + 2^-12"),
        ("ψ⁽ⁿ⁾(x)", "psi^(n)(x)"),
        ("-A⁺ᵀ g A⁺ᵀ", "-A^+^T g A^+^T"),
        ("mul₃, mul₁₂, ‖x‖ₚ", "mul_3, mul_12, ||x||_p"),
        ("Σ_o g_o · W_o, Π x_i", "sum_o g_o * W_o, prod x_i"),
        ("σ, π, λ = 0.5, Γ(a), Φ(x)", "sigma, pi, lambda = 0.5, Gamma(a), Phi(x)"),
        ("1 × 5 ÷ 2, P ⊙ N, dP − 1", "1 * 5 / 2, P * N, dP - 1"),
        ("0 if x ≤ -3, 1 if x ≥ 3, ½ if equal", "0 if x <= -3, 1 if x >= 3, 1/2 if equal"),
        ("x[…] ← v, a → b, p = ∞", "x[...] <- v, a -> b, p = inf"),
        ("ẋ = dx/dx = 1, J·ṫ, x̂", "x_dot = dx/dx = 1, J*t_dot, x_hat"),
        (
            "gradient × local ∂ = 5; ∂ computed by X",
            "gradient * local derivative = 5; derivative computed by X",
        ),
        ("Hörmann, Fréchet, ±1 ∓ 2", "Hormann, Frechet, +/-1 -/+ 2"),
        ("中", "\\u4e2d"),  # no spelling: Python's backslash escape, still ASCII
        ("plain ASCII", "plain ASCII"),
    ],
)
def test_spelled_in_ascii(text, ascii_text):
    assert spell_ascii(text) == ascii_text
    assert spell_ascii(text).isascii()


def _strings_in_source():
    """Every str constant of gradienti's code except docstrings: what it can print."""
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and not node.value.isascii()
            ):
                yield path.relative_to(SOURCE), node.value


# Strings that are never printed: a pattern of characters XML forbids, its replacement character.
NOT_TEXT = {"svg.py"}


def test_every_symbol_gradienti_writes_has_an_ascii_spelling():
    # explain's rules in ops/*.py, the explanation, the command: no symbol falls through to a
    # backslash escape (a new symbol needs its spelling in _text_encoding.SPELLINGS)
    found = 0
    for path, text in _strings_in_source():
        if path.name in NOT_TEXT:
            continue
        found += 1
        spelled = spell_ascii(text)
        assert spelled.isascii() and "\\u" not in spelled and "\\x" not in spelled, (path, text)
    assert found > 100  # the scan sees the rules' formulas


class Stream(io.StringIO):
    """A text stream with an encoding, as sys.stdout is."""

    def __init__(self, encoding):
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self):
        return self._encoding


def test_fit_to_stream_leaves_what_the_stream_can_encode():
    text = "∂y/∂x = 3·x²"
    assert fit_to_stream(text, Stream("utf-8")) == text
    assert fit_to_stream(text, io.StringIO()) == text  # no encoding: any str
    assert fit_to_stream(text, None) == text
    assert fit_to_stream(text, Stream("cp1252")) == "dy/dx = 3*x^2"  # cp1252 has · and ² only
    assert fit_to_stream("3·x²", Stream("cp1252")) == "3·x²"  # all of it encodes: as it is
    assert fit_to_stream(text, Stream("ascii")) == "dy/dx = 3*x^2"
    assert fit_to_stream(text, Stream("no-such-codec")) == "dy/dx = 3*x^2"
    assert fit_to_stream(text, Stream(b"utf-8")) == "dy/dx = 3*x^2"  # not a name: no TypeError
    assert can_encode("plain", Stream("ascii"))


def test_fitting_writer_writes_through_and_passes_the_rest_on():
    stream = Stream("ascii")
    writer = FittingWriter(stream)
    writer.write("∂y/∂x")
    writer.writelines(["\n", "x³"])
    assert stream.getvalue() == "dy/dx\nx^3"
    assert writer.encoding == "ascii" and writer.getvalue() == stream.getvalue()


def _lesson():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_explanation_follows_the_encoding_of_stdout(monkeypatch, mode):
    x, y = _lesson()
    explanation = gradienti.explain(y, names={"x": x, "y": y}, mode=mode)
    monkeypatch.setattr(sys, "stdout", Stream("utf-8"))
    assert str(explanation) == repr(explanation) == explanation.text
    assert "∂y/∂x = 72" in explanation.text
    monkeypatch.setattr(sys, "stdout", Stream("cp1252"))
    plain = str(explanation)
    assert plain == repr(explanation) == explanation.plain_text
    assert plain.isascii()
    assert "dy/dx = 72" in plain and "x^3" in plain
    print(explanation)  # as a script does: no UnicodeEncodeError
    assert sys.stdout.getvalue() == plain + "\n"


def test_ascii_explanation_keeps_the_layout():
    x, y = _lesson()
    explanation = gradienti.explain(y, names={"x": x, "y": y})
    plain = explanation.plain_text.splitlines()
    text = explanation.text.splitlines()
    assert len(plain) == len(text)
    # the values after the labels stay in their column although x³ became x^3
    assert "    to x^3:       d/da = b = 5;  1 * 5 = 5" in plain
    assert "    to x:         d/dx = 3*x^2 = 3*2^2 = 12;  5 * 12 = 60" in plain
    assert "Step 8 of 9 - PowBackward0 - x^3 = 8" in plain  # the title's separator is no product
    assert (
        "    gradients in: 60 from x^3 (step 8), 8 from x^2 (step 6), 4 from 4*x (step 3)" in plain
    )
    assert "    sum:          60 + 8 + 4 = 72" in plain
    assert max(len(line) for line in plain) <= 98


def test_long_ascii_lines_are_folded_to_the_page_width():
    names = {f"a_very_long_input_name_{i}": None for i in range(6)}
    inputs = [gradienti.tensor(float(i + 1), requires_grad=True) for i in range(6)]
    for name, tensor in zip(names, inputs):
        names[name] = tensor
    total = inputs[0] ** 2
    for tensor in inputs[1:]:
        total = total + tensor**3
    plain = gradienti.explain(total, names=names).plain_text
    assert max(len(line) for line in plain.splitlines()) <= 98
    assert "a_very_long_input_name_5^3" in plain


# ----------------------------------------------------------------------------- processes


def _environment(encoding):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = encoding
    env["GRADIENTI_VIZ_RENDERER"] = "builtin"  # the demo's picture needs no Graphviz program
    env.pop("GRADIENTI_TRACEBACK", None)
    return env


SCRIPT = f"""
import gradienti as torch
from gradienti.viz import make_dot
x = torch.tensor(2.0, requires_grad=True)
y = {LESSON}
print(torch.explain(y, names={{"x": x, "y": y}}))
print(torch.explain(y, names={{"x": x, "y": y}}, mode="forward"))
make_dot(y, params={{"x": x}}, show_values=True).save("graph.gv")
"""


def _run(argv, encoding, tmp_path, to):
    """Run with stdout to a file or a pipe; what stdout received, as bytes, and stderr."""
    env = _environment(encoding)
    if to == "file":
        with open(tmp_path / "out.txt", "wb") as out:
            done = subprocess.run(
                argv, stdout=out, stderr=subprocess.PIPE, cwd=tmp_path, env=env, timeout=120
            )
        return done.returncode, (tmp_path / "out.txt").read_bytes(), done.stderr
    done = subprocess.run(argv, capture_output=True, cwd=tmp_path, env=env, timeout=120)
    return done.returncode, done.stdout, done.stderr


COMMANDS = {
    "demo": ["-m", "gradienti", "demo"],
    "grad --explain": ["-m", "gradienti", "grad", LESSON, "x=2", "--explain"],
    "forward --explain": [
        "-m",
        "gradienti",
        "grad",
        LESSON,
        "x=2",
        "--mode",
        "forward",
        "--explain",
    ],
    "script": ["-c", SCRIPT],
}


@pytest.mark.parametrize("to", ["file", "pipe"])
@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_commands_on_a_terminal_without_the_symbols(tmp_path, command, encoding, to):
    argv = [sys.executable, *COMMANDS[command]]
    status, out, err = _run(argv, encoding, tmp_path, to)
    assert (status, err) == (0, b""), err.decode(errors="replace")
    assert out.isascii()
    text = out.decode("ascii")
    utf_status, utf_out, _ = _run(argv, "utf-8", tmp_path, to)
    assert utf_status == 0 and not utf_out.isascii()
    # the same words, spelled in ASCII (the titles' " · " is a dash; lines may fold elsewhere)
    expected = spell_ascii(utf_out.decode("utf-8").replace(" · ", " - "))
    assert text.split() == expected.split()
    if command != "forward --explain":
        assert ("df/dx = 72" if command == "grad --explain" else "dy/dx = 72") in text
        assert "60 + 8 + 4 = 72" in text
    else:
        assert "df/dx = 72  (the tangent of f)" in text and "x_dot = dx/dx = 1" in text


def test_dot_source_is_written_in_utf8_whatever_the_terminal(tmp_path):
    status, _, err = _run([sys.executable, "-c", SCRIPT], "ascii", tmp_path, "pipe")
    assert (status, err) == (0, b"")
    (tmp_path / "graph.gv").read_bytes().decode("utf-8")


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_errors_and_help_on_a_terminal_without_the_symbols(tmp_path, encoding):
    # a user's Greek variable is echoed in errors and results: spelled, not a crash
    status, out, err = _run(
        [sys.executable, "-m", "gradienti", "grad", "θ**2 +", "θ=1"], encoding, tmp_path, "pipe"
    )
    assert (status, out) == (2, b"")
    assert err.isascii() and err.startswith(b"gradienti grad: error: syntax error")
    status, out, err = _run(
        [sys.executable, "-m", "gradienti", "grad", "θ**2", "θ=3"], encoding, tmp_path, "pipe"
    )
    assert (status, err) == (0, b"")
    assert out.decode("ascii").splitlines() == [
        "f = theta**2",
        "f(theta=3) = 9.0",
        "df/dtheta = 6.0",
    ]
    for argv in (["--help"], ["demo", "--help"], ["grad", "--help"], ["--version"]):
        status, out, err = _run(
            [sys.executable, "-m", "gradienti", *argv], encoding, tmp_path, "pipe"
        )
        assert (status, err) == (0, b"") and out.isascii() and out


WARNING_SCRIPT = """
import sys
import warnings

import gradienti.cli as cli
from gradienti.expression import ExpressionError


def parse(*args, **kwargs):  # stands in for a part of gradienti that warns, then refuses
    warnings.warn("\u2202 of x\u00b3 grows fast")
    raise ExpressionError("\u2202y/\u2202x is not defined here")


cli.parse = parse
sys.exit(cli.main(["grad", "x", "x=1"]))
"""


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_warnings_and_errors_the_command_prints_are_spelled_too(tmp_path, encoding):
    status, out, err = _run([sys.executable, "-c", WARNING_SCRIPT], encoding, tmp_path, "pipe")
    assert (status, out) == (2, b"")
    lines = err.decode("ascii").splitlines()
    assert "UserWarning: derivative of x^3 grows fast" in lines[0]
    assert lines[-1] == "gradienti grad: error: dy/dx is not defined here"
    status, _, err = _run([sys.executable, "-c", WARNING_SCRIPT], "utf-8", tmp_path, "pipe")
    assert (
        err.decode("utf-8").splitlines()[-1] == "gradienti grad: error: ∂y/∂x is not defined here"
    )


def test_the_command_gives_its_streams_back(monkeypatch):
    stdout, stderr = Stream("ascii"), Stream("ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["grad", "x**3", "x=2", "--explain"]) == 0
    assert sys.stdout is stdout and sys.stderr is stderr
    assert "    to x:         d/dx = 3*x^2 = 3*2^2 = 12;  1 * 12 = 12\n" in stdout.getvalue()
    assert stdout.getvalue().isascii() and stderr.getvalue() == ""


def test_printing_a_dot_follows_the_encoding_of_stdout(monkeypatch, tmp_path):
    # print(make_dot(y, explanation=True)) or a Greek name raised UnicodeEncodeError on cp1252
    x, y = _lesson()
    dot = gradienti.viz.make_dot(y, params={"α": x}, explanation=True)
    assert "α" in dot.source and "∂" in dot.source
    monkeypatch.setattr(sys, "stdout", Stream("utf-8"))
    assert str(dot) == dot.source
    for encoding in ("cp1252", "ascii"):
        monkeypatch.setattr(sys, "stdout", Stream(encoding))
        print(dot)
        printed = sys.stdout.getvalue()
        assert printed == spell_ascii(dot.source) + "\n" and printed.isascii()
        assert 'label="alpha' in printed and "d/dalpha: 3*alpha^2 = 12" in printed
    assert "α" in dot.source  # the source and the files keep the symbols
    dot.save(tmp_path / "g.gv")
    assert (tmp_path / "g.gv").read_text(encoding="utf-8") == dot.source


def test_a_dot_printed_in_ascii_is_still_valid_dot(monkeypatch):
    # a curly quote spelled '"' inside a quoted label ended the string early; a character with
    # no spelling (\u4e2d) is escaped too, so the printed text reads back as the source's labels
    from gradienti.viz.dot_statements import parse_statement

    x = gradienti.tensor(2.0, requires_grad=True)
    dot = gradienti.viz.make_dot(x**3, params={"“q” 中 α": x})
    monkeypatch.setattr(sys, "stdout", Stream("cp1252"))
    printed = str(dot)
    assert printed.isascii()
    leaf = [line for line in printed.splitlines() if "lightblue" in line]
    assert parse_statement(leaf[0]) == (
        "node",
        "n3",
        {"label": '"q" \\u4e2d alpha\n ()', "fillcolor": "lightblue"},
    )
