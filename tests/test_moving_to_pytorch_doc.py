"""docs/moving-to-pytorch.md: its Python blocks run, in order, in one fresh directory, and print
what the page says they print.

Each ```python block is a complete script, run in a fresh interpreter (the files one writes are
read by the next). A ```text block right after it is its output: the words must match exactly,
the numbers to rounding (the last digits depend on the machine's BLAS). A block marked
``<!-- run with torchrun: NAME -->`` is saved as NAME and started with
``torchrun --standalone --nproc_per_node=2 NAME`` (on the CPU it uses the gloo backend). One
marked ``<!-- not run: why -->`` needs a GPU or a shell: a Python one must still compile.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "moving-to-pytorch.md"
BLOCK = re.compile(
    r"(?:<!-- (?P<marker>[^\n]*?) -->\n)?```(?P<language>\w+)\n(?P<body>.*?)```\n"
    r"(?:\n```text\n(?P<output>.*?)```\n)?",
    re.DOTALL,
)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def blocks():
    """(marker, language, source, expected output) of every block but the output blocks."""
    return [
        (m["marker"] or "", m["language"], m["body"], m["output"])
        for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))
        if m["language"] != "text"
    ]


def assert_same_output(actual, expected):
    """Words exactly, numbers to 2 % or 2e-5 (a loss of 0.00019 may print as 0.00020)."""
    assert NUMBER.sub("#", actual) == NUMBER.sub("#", expected), actual
    for got, want in zip(NUMBER.findall(actual), NUMBER.findall(expected), strict=True):
        assert float(got) == pytest.approx(float(want), rel=0.02, abs=2e-5), actual


def test_the_page_has_the_blocks_this_test_expects():
    """The parsing must see every block: a format slip would otherwise skip them silently."""
    found = blocks()
    fences = DOC.read_text(encoding="utf-8").count("```") // 2
    outputs = sum(1 for *_, output in found if output is not None)
    assert len(found) + outputs == fences
    kinds = [(marker.split(":")[0], language) for marker, language, *_ in found]
    assert kinds.count(("", "python")) == 3  # gradienti, PyTorch, back to gradienti
    assert kinds.count(("not run", "python")) == 1  # the GPU script
    assert kinds.count(("run with torchrun", "python")) == 1
    assert outputs == 3


def test_the_scripts_not_run_here_compile():
    for marker, language, source, _ in blocks():
        if marker.startswith("not run") and language == "python":
            compile(source, f"{DOC.name}: {marker}", "exec")


def test_the_python_blocks_run_in_order_and_print_what_the_page_shows(tmp_path):
    torch = pytest.importorskip("torch")
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    for index, (marker, language, source, expected) in enumerate(blocks()):
        if marker.startswith("not run") or language != "python":
            continue
        if marker.startswith("run with torchrun:"):
            if not torch.distributed.is_available() or not Path(torchrun).exists():
                continue
            script = tmp_path / marker.split(":", 1)[1].strip()
            command = [torchrun, "--standalone", "--nproc_per_node=2", script.name]
        else:
            script = tmp_path / f"block_{index}.py"
            command = [sys.executable, script.name]
        script.write_text(source, encoding="utf-8")
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"block {index}:\n{done.stderr}"
        if expected is not None:
            assert_same_output(done.stdout, expected)
        if script.name == "train_ddp.py":
            assert len(re.findall(r"^epoch \d: loss \d\.\d{5}$", done.stdout, re.M)) == 5
            state = torch.load(tmp_path / "checkpoint_ddp.pt", weights_only=True)
            assert list(state["model"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    written = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".pt")
    assert written[:2] == ["checkpoint.pt", "checkpoint_ddp.pt"] or written[0] == "checkpoint.pt"
    assert "checkpoint_torch.pt" in written
