"""examples/continue_in_pytorch.py, run as a user runs it: a subprocess in a fresh directory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "examples" / "continue_in_pytorch.py"
LOSS_LINE = re.compile(r"^\s*(gradienti|PyTorch)  step\s+(\d+)  loss (\d+\.\d+)$")


def run_example(cwd, *arguments, env=None):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def losses(output, label):
    found = [LOSS_LINE.match(line) for line in output.splitlines()]
    return [(int(m.group(2)), float(m.group(3))) for m in found if m and m.group(1) == label]


def files_under(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_training_continues_in_pytorch_from_the_gradienti_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    repo_root_before = set(os.listdir(REPO))
    output = run_example(tmp_path, "--steps", "40", "--every", "10")

    ours, theirs = losses(output, "gradienti"), losses(output, "PyTorch")
    assert [step for step, _ in ours] == [0, 10, 20, 30, 39]
    assert [step for step, _ in theirs] == [40, 50, 60, 70, 79]  # numbering carries on
    # Smoothly: PyTorch's first loss is next to gradienti's last one (a fresh start, or an
    # optimizer state lost on the way, would jump), and training goes on lowering it.
    assert theirs[0][1] == pytest.approx(ours[-1][1], rel=0.05)
    assert theirs[-1][1] < theirs[0][1] < ours[0][1]
    assert f"PyTorch {torch.__version__}: torch.load('checkpoint.pt', weights_only=True)" in output
    assert re.search(
        r"^one step from the checkpoint: gradienti and PyTorch parameters are the same "
        r"\(largest difference \d\.\de-\d\d\)$",
        output,
        re.MULTILINE,
    )

    # The checkpoint lands in the current directory, and nowhere else.
    assert files_under(tmp_path) == ["checkpoint.pt"]
    assert "checkpoint.pt" not in set(os.listdir(REPO)) - repo_root_before
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert sorted(state) == ["model", "optimizer", "step"]
    assert state["step"] == 40
    assert list(state["model"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["optimizer"]["state"][0]["step"].item() == 40.0


@pytest.mark.parametrize(
    ("where", "lands"),
    [("runs", "runs/checkpoint.pt"), ("runs/", "runs/checkpoint.pt"), ("runs/a.pt", "runs/a.pt")],
)
def test_out_names_a_file_or_an_existing_directory(tmp_path, where, lands):
    pytest.importorskip("torch")
    (tmp_path / "runs").mkdir()
    output = run_example(tmp_path, "--steps", "2", "--out", where)
    assert files_under(tmp_path) == [os.path.normpath(lands)]
    assert f"saved the model and optimizer state to {os.path.join(*where.split('/'))}" in output


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("missing/", "--out missing/: directory missing/ does not exist"),
        ("missing/a.pt", "--out missing/a.pt: parent directory missing does not exist"),
    ],
)
def test_out_never_makes_a_directory(tmp_path, where, error):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", where], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stdout == ""  # refused before any training
    assert done.stderr.rstrip().endswith(error)
    assert files_under(tmp_path) == []


def test_without_pytorch_it_trains_saves_and_says_how_to_continue(tmp_path):
    # A module named torch that fails to import hides an installed PyTorch from the script.
    hidden = tmp_path / "hide_torch"
    hidden.mkdir()
    (hidden / "torch.py").write_text("raise ImportError('hidden for this test')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hidden), os.environ.get("PYTHONPATH", "")]),
    }
    work = tmp_path / "work"
    work.mkdir()
    output = run_example(work, "--steps", "5", env=env)
    assert len(losses(output, "gradienti")) == 5
    assert losses(output, "PyTorch") == []
    assert output.strip().splitlines()[-1] == (
        "PyTorch is not installed: pip install torch, then run this again to continue there"
    )
    assert files_under(work) == ["checkpoint.pt"]


def test_steps_must_be_positive(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "0"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--steps must be at least 1" in done.stderr
    assert files_under(tmp_path) == []
