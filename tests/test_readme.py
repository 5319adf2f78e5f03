"""The README's code blocks do what the README says they do.

Every ```python block runs, in order, in one fresh interpreter (as a reader pasting them one
after the other), in a scratch directory so the files they write land there. What each block
promises is checked against what it prints:

- a ``print(...)  # text`` call must print exactly ``text`` (one line);
- a ```text block right after a python block is that block's whole output, where a line
  ``...`` stands for any number of lines.

The ```bash blocks are not run (they install things and train models), but every script,
module, ``gradienti`` subcommand, extra and ``--flag`` they name must exist.
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import gradienti

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)

# Runs in the subprocess: each block's code, with every commented print wrapped so that its own
# output can be told apart, in one namespace; writes what was printed to a JSON file.
DRIVER = r'''
import contextlib, io, json, sys

blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
results = []


class Capture:
    """Collects one print call's text and still shows it in the block's output."""

    def __init__(self, record, line, block_output):
        self.record, self.line, self.block_output = record, line, block_output

    def __enter__(self):
        self.buffer = io.StringIO()
        self.redirect = contextlib.redirect_stdout(self.buffer)
        self.redirect.__enter__()

    def __exit__(self, *exc):
        self.redirect.__exit__(*exc)
        self.record[str(self.line)] = self.buffer.getvalue()
        self.block_output.write(self.buffer.getvalue())
        return False


for number, source in enumerate(blocks):
    block_output, printed = io.StringIO(), {}
    namespace["__readme_print__"] = lambda line: Capture(printed, line, block_output)
    with contextlib.redirect_stdout(block_output):
        exec(compile(source, f"README python block {number + 1}", "exec"), namespace)
    results.append({"output": block_output.getvalue(), "printed": printed})
json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))
'''


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(text)]


def print_comments(source: str) -> dict[int, str]:
    """The ``# comment`` on the last line of each top-level or nested ``print(...)`` call."""
    comments = {
        token.start[0]: token.string[1:].strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    return {
        node.end_lineno: comments[node.end_lineno]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
        and node.end_lineno in comments
    }


class _WrapCommentedPrints(ast.NodeTransformer):
    """``print(...)  # text`` becomes ``with __readme_print__(line): print(...)``."""

    def __init__(self, lines):
        self.lines = lines

    def visit_Expr(self, node):
        if node.end_lineno not in self.lines or not isinstance(node.value, ast.Call):
            return node
        marker = ast.Call(
            ast.Name("__readme_print__", ast.Load()), [ast.Constant(node.end_lineno)], []
        )
        return ast.copy_location(ast.With([ast.withitem(marker)], [node]), node)


def instrumented(source: str) -> str:
    tree = _WrapCommentedPrints(set(print_comments(source))).visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def python_blocks_with_expected_text(text: str) -> list[tuple[str, str | None]]:
    """Each python block and the ```text block right after it (None when there is none)."""
    blocks = fenced_blocks(text)
    return [
        (body, blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None)
        for i, (language, body) in enumerate(blocks)
        if language == "python"
    ]


def matches_with_ellipsis(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` line standing for 0 or more lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches_with_ellipsis(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and actual[0] == expected[0]
        and matches_with_ellipsis(expected[1:], actual[1:])
    )


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """Every python block run in order in one fresh interpreter; what each printed."""
    blocks = python_blocks_with_expected_text(README.read_text(encoding="utf-8"))
    scratch = tmp_path_factory.mktemp("readme")
    (scratch / "blocks.json").write_text(
        json.dumps([instrumented(body) for body, _ in blocks]), encoding="utf-8"
    )
    (scratch / "driver.py").write_text(DRIVER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "driver.py", "blocks.json", "results.json"],
        cwd=scratch,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},  # the README's text is UTF-8
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((scratch / "results.json").read_text(encoding="utf-8"))
    return blocks, results, scratch


def test_every_commented_print_prints_its_comment(readme_run):
    blocks, results, _ = readme_run
    checked = 0
    for number, ((body, _), result) in enumerate(zip(blocks, results), start=1):
        for line, expected in print_comments(body).items():
            printed = result["printed"][str(line)]
            assert printed == expected + "\n", f"README python block {number}, line {line}"
            checked += 1
    assert checked >= 6  # the lesson's two prints and the func/forward-mode block's four


def test_every_text_block_is_the_output_of_the_python_block_before_it(readme_run):
    blocks, results, _ = readme_run
    checked = 0
    for number, ((_, expected), result) in enumerate(zip(blocks, results), start=1):
        if expected is None:
            continue
        actual = result["output"].rstrip("\n").split("\n")
        assert matches_with_ellipsis(expected.rstrip("\n").split("\n"), actual), (
            f"README python block {number} printed:\n{result['output']}"
        )
        checked += 1
    assert checked >= 1  # the explanation of the backward pass


def test_the_explanation_comes_from_a_graph_no_backward_has_freed(readme_run):
    # The issue this guards: run after the first block's backward(), explain once read the
    # freed graph and printed "values freed" instead of the lesson's numbers.
    _, results, scratch = readme_run
    everything = "".join(result["output"] for result in results)
    assert "60 + 8 + 4 = 72" in everything
    assert "freed" not in everything
    # render("graph", format="svg") as with graphviz: the DOT source in graph, the picture in
    # graph.svg.
    assert (scratch / "graph").read_text(encoding="utf-8").startswith("digraph {")
    assert (scratch / "graph.svg").read_text(encoding="utf-8").lstrip().startswith("<")


def test_pytorch_reads_the_checkpoint_the_readme_saves(readme_run):
    # The README says real PyTorch loads model.pt with weights_only=True: the same tensors.
    torch = pytest.importorskip("torch")
    _, _, scratch = readme_run
    loaded = torch.load(scratch / "model.pt", weights_only=True)
    assert list(loaded) == ["weight", "bias"]
    assert loaded["weight"].shape == (1, 3) and loaded["weight"].dtype == torch.float32
    ours = gradienti.load(scratch / "model.pt")
    for name in ("weight", "bias"):
        assert loaded[name].tolist() == ours[name].tolist()
    model = torch.nn.Linear(3, 1)
    model.load_state_dict(loaded)
    assert torch.equal(model.bias, loaded["bias"])


def test_the_ellipsis_matcher_can_fail():
    assert matches_with_ellipsis(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches_with_ellipsis(["a", "...", "b"], ["a", "b"])
    assert not matches_with_ellipsis(["a", "...", "d"], ["a", "b", "c"])
    assert not matches_with_ellipsis(["a", "b"], ["a", "b", "c"])


def test_commented_prints_are_found_and_wrapped_at_any_depth():
    source = 'x = 2\nprint(x + 1)  # 4\nif x:\n    print("yes")  # yes\n'
    assert print_comments(source) == {2: "4", 4: "yes"}
    assert instrumented(source).count("__readme_print__") == 2


# --- bash blocks: what they name must exist ---------------------------------------------------


def bash_commands(text: str) -> list[list[str]]:
    """Each command of every ```bash block (split at ``&&``), as shell words, comments cut."""
    commands = []
    for language, body in fenced_blocks(text):
        if language != "bash":
            continue
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                commands.append(words[:end])
                words = words[end + 1 :]
    return commands


def flags(words: list[str]) -> list[str]:
    return [word.split("=")[0] for word in words if word.startswith("--")]


def _help(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("page", ["README.md", "docs/performance.md"])
def test_bash_blocks_name_only_existing_scripts_commands_and_flags(page):
    commands = bash_commands((ROOT / page).read_text(encoding="utf-8"))
    extras = importlib.metadata.metadata("gradienti").get_all("Provides-Extra")
    cli_help = _help("-m", "gradienti.cli")
    seen = set()
    for words in commands:
        program = Path(words[0]).name
        if program in ("python", "python3") and words[1:2] == ["-m"]:
            seen.add("module")
            if words[2] == "venv":
                continue
            assert words[2] in ("pytest", "pip"), words
        elif program in ("python", "python3"):
            seen.add("script")
            assert (ROOT / words[1]).is_file(), words
            script_help = _help(words[1])
            for flag in flags(words[2:]):
                assert flag in script_help, (words, flag)
            if "--only" in words:  # the workloads named after it must be the script's choices
                after = words[words.index("--only") + 1 :]
                for name in itertools.takewhile(lambda word: not word.startswith("-"), after):
                    assert f"'{name}'" in script_help, (words, name)
        elif program == "gradienti":
            seen.add("gradienti")
            if words[1].startswith("-"):
                assert all(flag in cli_help for flag in flags(words[1:])), words
                continue
            assert re.search(rf"^\s+{words[1]}\s", cli_help, re.M), words
            command_help = _help("-m", "gradienti.cli", words[1])
            for flag in flags(words[2:]):
                assert flag in command_help, (words, flag)
        elif program == "pip":
            seen.add("pip")
            for word in words[2:]:
                if word.startswith(".") or word.startswith('".'):
                    for extra in re.findall(r"\[(.*)\]", word)[:1]:
                        assert set(extra.split(",")) <= set(extras), word
    assert {"script", "gradienti", "pip", "module"} <= seen if page == "README.md" else seen


def test_the_developer_set_up_command_is_the_one_ci_runs():
    # .ci/run copies the README's set-up command; one changed without the other breaks CI's
    # promise that the README's steps work on a fresh clone.
    readme = README.read_text(encoding="utf-8")
    setup = next(
        body.strip()
        for language, body in fenced_blocks(readme)
        if language == "bash" and "python3 -m venv" in body
    )
    assert len(setup.splitlines()) == 1
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert f"{setup} || exit 1" in ci_lines


@pytest.mark.parametrize("page", ["README.md", "docs/performance.md", "docs/lesson.md"])
def test_relative_links_point_to_files_that_exist(page):
    path = ROOT / page
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8"))
    assert links
    for link in links:
        assert (path.parent / link).exists(), f"{page} links {link}"


def test_every_extra_the_prose_names_exists():
    """``pip install ".[name]"`` in a sentence (not only in a bash block) names a real extra."""
    extras = set(importlib.metadata.metadata("gradienti").get_all("Provides-Extra"))
    named = re.findall(r'pip install "?\.\[([\w,-]+)\]', (ROOT / "README.md").read_text("utf-8"))
    assert named
    for extra in named:
        assert set(extra.split(",")) <= extras, extra
