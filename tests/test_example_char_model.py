"""examples/char_model.py trains each of its models with tiny settings, writes its loss curve
and a sample, and gives PyTorch's losses and sample from the same seed."""

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gradienti

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "char_model.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODELS = ("lstm", "gru", "transformer")


def tiny(model, plot, steps=30):
    """Settings small enough for a test: a short text, narrow one-layer models."""
    return [
        *("--model", model, "--steps", str(steps), "--eval-every", "10"),
        *("--chars", "20000", "--context", "16", "--batch-size", "8", "--width", "32"),
        *("--layers", "1", "--sample-chars", "40", "--prompt", "The "),
        *("--plot", str(plot), "--no-progress"),
    ]


@pytest.fixture
def char_model():
    for needed in ("tqdm", "matplotlib"):
        pytest.importorskip(needed)
    if str(EXAMPLE.parent) not in sys.path:  # the script imports output_paths.py beside it
        sys.path.insert(0, str(EXAMPLE.parent))
    spec = importlib.util.spec_from_file_location("example_char_model", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", MODELS)
def test_char_model_trains_plots_and_samples(char_model, tmp_path, capsys, model):
    plot = tmp_path / "curve.png"
    history, sample = char_model.main(tiny(model, plot))
    out = capsys.readouterr().out
    vocab_size = int(out.split(" distinct")[0].split(", ")[-1])
    # An untrained model predicts nearly uniformly: about ln(vocabulary) nats per character;
    # 30 steps of AdamW bring the loss well below that.
    assert history["train"][0] == pytest.approx(math.log(vocab_size), abs=0.6)
    assert sum(history["train"][-5:]) / 5 < history["train"][0] - 0.5
    assert history["val_step"] == [10, 20, 30]
    assert out.count("val loss") == 3
    assert plot.read_bytes().startswith(PNG_SIGNATURE)
    assert sample.startswith("The ") and len(sample) == len("The ") + 40
    assert out.rstrip().endswith(sample.rstrip())


@pytest.mark.parametrize("model", MODELS)
def test_char_model_gives_pytorchs_losses_and_sample(char_model, tmp_path, capsys, model):
    pytest.importorskip("torch")
    ours = char_model.main(tiny(model, tmp_path / "ours.png", steps=15))
    theirs = char_model.main(
        [*tiny(model, tmp_path / "theirs.png", steps=15), "--backend", "torch"]
    )
    assert ours[0]["train"] == pytest.approx(theirs[0]["train"], rel=1e-4)
    assert ours[0]["val"] == pytest.approx(theirs[0]["val"], rel=1e-4)
    assert ours[1] == theirs[1]  # the same characters drawn from the same seed
    capsys.readouterr()


@pytest.fixture
def default_dtypes_kept():
    """``--dtype float64`` sets the process's default dtype: put both libraries' back."""
    torch = pytest.importorskip("torch")
    yield
    torch.set_default_dtype(torch.float32)
    gradienti.set_default_dtype(gradienti.float32)


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_char_model_in_float64_gives_pytorchs_losses_to_the_last_digits(
    char_model, tmp_path, capsys, default_dtypes_kept, model
):
    settings = [*tiny(model, tmp_path / "curve.png", steps=15), "--dtype", "float64"]
    ours = char_model.main(settings)
    theirs = char_model.main([*settings, "--backend", "torch"])
    assert ours[0]["train"] == pytest.approx(theirs[0]["train"], rel=1e-12)
    assert ours[1] == theirs[1]
    capsys.readouterr()


def test_char_model_out_may_name_an_existing_directory(char_model, tmp_path, capsys):
    settings = tiny("gru", "", steps=3)
    settings[settings.index("--plot") + 1] = str(tmp_path)
    char_model.main([*settings, "--eval-every", "3"])
    written = tmp_path / "char_gru.png"
    assert written.read_bytes().startswith(PNG_SIGNATURE)
    assert f"loss curve saved to {written}\n" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["char_gru.png"]


def test_char_model_creates_no_directory(char_model, tmp_path, capsys):
    path = tmp_path / "runs" / "curve.png"
    with pytest.raises(SystemExit) as exit:
        char_model.main([*tiny("lstm", ""), "--out", str(path)])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the text is read or a model built
    assert captured.err.endswith(
        f"error: --out {path}: parent directory {path.parent} does not exist\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_char_model_sample_prints_on_an_ascii_terminal(char_model, tmp_path):
    # the text has curly quotes and dashes; the prompt starts with one: shown as '?'
    settings = [*tiny("lstm", "", steps=2), "--eval-every", "2", "--prompt", "\u201cThe "]
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *settings],
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    lines = done.stdout.decode("ascii").splitlines()
    assert lines[lines.index("sample:") + 1].startswith("?The ")
