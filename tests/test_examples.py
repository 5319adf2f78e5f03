"""The scripts in examples/ run, in this process, with tiny settings, and do what they claim."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gradienti

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_example(name):
    """Import examples/<name>.py as a fresh module (the folder is not a package; its scripts
    import their shared helper, output_paths.py, from beside them, as a script run does)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def last_line(text):
    return text.strip().splitlines()[-1]


# --- gradient descent -------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "minimum", "value"), [(3.0, 2.0, -27.0), (-2.0, -1.0, 0.0)])
def test_gradient_descent_walks_down_into_the_analytic_minimum(capsys, start, minimum, value):
    path = load_example("gradient_descent").main(["--start", str(start)])
    _, x, fx, grad = path[-1]
    assert x == pytest.approx(minimum, abs=1e-4)
    assert fx == pytest.approx(value, abs=1e-4)
    assert abs(grad) < 1e-4  # stopped because the gradient vanished, not because steps ran out
    assert len(path) < 100
    values = [step[2] for step in path]
    assert all(later <= earlier + 1e-5 for earlier, later in zip(values, values[1:]))
    out = capsys.readouterr().out
    assert f"analytic minimum: x = {minimum:.6f}" in out
    assert re.search(r"f''\(x\) = \d+\.\d{4}: a minimum$", out.strip())


def test_gradient_descent_path_gradients_are_the_derivative(capsys):
    path = load_example("gradient_descent").main(["--steps", "5"])
    assert len(path) == 6  # the start and five steps
    for _, x, _, grad in path:
        assert grad == pytest.approx(12 * x * (x - 2) * (x + 1), rel=1e-4)
    # Each step moves x by -lr * grad.
    for (_, x, _, grad), (_, x_next, _, _) in zip(path, path[1:]):
        assert x_next == pytest.approx(x - 0.01 * grad, rel=1e-5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["0", "3.000000", "32.000000", "144.000000"]


def test_gradient_descent_runs_as_a_script():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "gradient_descent.py"), "--steps", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "found minimum:    x = " in done.stdout


def test_gradient_descent_gives_pytorchs_path():
    pytest.importorskip("torch")
    example = load_example("gradient_descent")
    ours = example.main(["--steps", "20"])
    theirs = example.main(["--steps", "20", "--backend", "torch"])
    # The same float32 path to the last bit: pow and its gradient round as PyTorch's do.
    assert ours == theirs


# --- sin(x) with a cubic ------------------------------------------------------------------------


def test_sin_polynomial_losses_fall_in_both_parts(capsys):
    result = load_example("sin_polynomial").main(["--steps", "300", "--print-every", "100"])
    for part in ("autograd", "nn"):
        losses, _ = result[part]
        assert len(losses) == 300
        assert losses[-1] < losses[0] / 20
    out = capsys.readouterr().out
    assert out.count(" loss ") == 6  # steps 100, 200, 300 of each part
    assert re.search(r"Result \(autograd\): y = -?\d\.\d{4} [+-] \d\.\d{4} x ", out)
    assert re.search(r"Result \(nn \+ optim\): y = -?\d\.\d{4} [+-] \d\.\d{4} x ", out)


def test_sin_polynomial_default_run_finds_the_least_squares_cubic(capsys):
    # Least squares of sin on 2000 points of [-pi, pi]: 0.8567 x - 0.0933 x^3, loss 8.817.
    result = load_example("sin_polynomial").main([])
    nn_losses, (a, b, c, d) = result["nn"]
    assert nn_losses[-1] < 9.5
    assert (a, b, c, d) == pytest.approx((0.0, 0.8567, 0.0, -0.0933), abs=5e-3)
    autograd_losses, (_, b, _, d) = result["autograd"]
    assert autograd_losses[-1] < 20  # plain gradient descent at lr 1e-6 is slower
    assert (b, d) == pytest.approx((0.8567, -0.0933), abs=0.03)
    capsys.readouterr()


def test_sin_polynomial_matches_pytorch_from_the_same_seed(capsys):
    pytest.importorskip("torch")
    example = load_example("sin_polynomial")
    settings = ["--steps", "100", "--print-every", "100", "--seed", "3"]
    ours = example.main(settings)
    theirs = example.main([*settings, "--backend", "torch"])
    for part in ("autograd", "nn"):
        assert ours[part][0] == pytest.approx(theirs[part][0], rel=1e-4)
        assert ours[part][1] == pytest.approx(theirs[part][1], rel=1e-4, abs=1e-6)
    capsys.readouterr()


# --- digits -------------------------------------------------------------------------------------


@pytest.fixture
def digits_example():
    for needed in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(needed)
    return load_example("digits")


def needs_conv_layers():
    return pytest.mark.skipif(
        not (hasattr(gradienti.nn, "Conv2d") and hasattr(gradienti.nn, "MaxPool2d")),
        reason="gradienti.nn has no Conv2d / MaxPool2d yet",
    )


TINY = ["--subset", "400", "--epochs", "5", "--batch-size", "32"]


@pytest.mark.parametrize("model", ["mlp", pytest.param("cnn", marks=needs_conv_layers())])
def test_digits_trains_writes_the_curves_and_ends_with_the_accuracy(
    digits_example, tmp_path, capsys, model
):
    plot = tmp_path / "curves.png"
    history = digits_example.main([*TINY, "--model", model, "--out", str(plot)])
    captured = capsys.readouterr()

    final = last_line(captured.out)
    assert re.fullmatch(r"test accuracy: 0\.\d{4}", final)
    assert float(final.split(": ")[1]) == pytest.approx(history["test_accuracy"][-1], abs=5e-5)
    assert history["test_accuracy"][-1] > 0.6  # 80 test images, 10 classes: chance is 0.1
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert all(len(curve) == 5 for curve in history.values())
    assert plot.read_bytes().startswith(PNG_SIGNATURE)
    assert "320 training and 80 test images" in captured.out
    assert "100%" in captured.err  # the tqdm bar ran to the end


def test_digits_without_progress_bar_or_plot(digits_example, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    digits_example.main([*TINY, "--epochs", "1", "--no-progress", "--plot", ""])
    captured = capsys.readouterr()
    assert captured.err == ""
    assert list(tmp_path.iterdir()) == []
    assert re.fullmatch(r"test accuracy: 0\.\d{4}", last_line(captured.out))


@pytest.mark.parametrize("model", ["mlp", pytest.param("cnn", marks=needs_conv_layers())])
def test_digits_trains_as_pytorch_does_from_the_same_seed(digits_example, capsys, model):
    pytest.importorskip("torch")
    settings = [*TINY, "--epochs", "3", "--model", model, "--plot", "", "--no-progress"]
    ours = digits_example.main(settings)
    theirs = digits_example.main([*settings, "--backend", "torch"])
    assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-4)
    assert ours["test_loss"] == pytest.approx(theirs["test_loss"], rel=1e-4)
    assert ours["test_accuracy"] == theirs["test_accuracy"]
    capsys.readouterr()


# --- where the files go --------------------------------------------------------------------------

REPOSITORY = EXAMPLES.parent


def test_digits_out_may_name_an_existing_directory(digits_example, tmp_path, capsys):
    digits_example.main([*TINY, "--epochs", "1", "--no-progress", "--out", str(tmp_path)])
    written = tmp_path / "digits_mlp.png"
    assert written.read_bytes().startswith(PNG_SIGNATURE)
    assert f"curves saved to {written}" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["digits_mlp.png"]


@pytest.mark.parametrize("where", ["no/such/curves.png", "no/such/"])
def test_digits_creates_no_directory_and_says_which_is_missing(
    digits_example, tmp_path, capsys, where
):
    path = str(tmp_path / where) + (os.sep if where.endswith("/") else "")
    with pytest.raises(SystemExit) as exit:
        digits_example.main([*TINY, "--out", path])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before any training
    missing = path if where.endswith("/") else os.path.dirname(path)
    kind = "directory" if where.endswith("/") else "parent directory"
    assert captured.err.endswith(f"error: --out {path}: {kind} {missing} does not exist\n")
    assert list(tmp_path.iterdir()) == []


def _names_in(folder):
    return {p.name for p in folder.iterdir()}


SCRIPT_RUNS = {
    "gradient_descent": (["--steps", "3"], set()),
    "sin_polynomial": (["--steps", "5", "--print-every", "5"], set()),
    "digits": ([*TINY, "--epochs", "1", "--no-progress"], {"digits_mlp.png"}),
    "char_model": (
        [
            *("--steps", "3", "--eval-every", "3", "--chars", "5000", "--context", "8"),
            *("--batch-size", "4", "--width", "8", "--layers", "1", "--sample-chars", "5"),
            "--no-progress",
        ],
        {"char_lstm.png"},
    ),
}


@pytest.mark.parametrize("name", list(SCRIPT_RUNS))
def test_each_example_writes_only_into_the_current_directory(tmp_path, name):
    argv, expected = SCRIPT_RUNS[name]
    if expected:
        for needed in ("tqdm", "matplotlib", *(("sklearn",) if name == "digits" else ())):
            pytest.importorskip(needed)
    before = {folder: _names_in(folder) for folder in (REPOSITORY, EXAMPLES)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert _names_in(tmp_path) == expected
    for written in expected:
        assert (tmp_path / written).read_bytes().startswith(PNG_SIGNATURE)
        assert f"saved to {written}\n" in done.stdout  # the path it wrote, as the user reads it
    for folder, names in before.items():  # nothing new beside the code (others' files aside)
        assert not (_names_in(folder) - names) & expected


@pytest.mark.parametrize(
    "name", ["gradient_descent", "sin_polynomial", "digits", "char_model", "continue_in_pytorch"]
)
def test_help_describes_the_example_with_its_docstrings_whole_first_sentence(capsys, name):
    module = load_example(name)
    with pytest.raises(SystemExit):
        module.main(["--help"])
    help_words = " ".join(capsys.readouterr().out.split())
    first_paragraph = " ".join(module.__doc__.split("\n\n")[0].split())
    assert first_paragraph in help_words
