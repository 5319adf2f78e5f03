"""The ``gradienti`` command and its streams: a reader of stdout that goes away, usage errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradienti.cli import main


def _environment():
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.pop("GRADIENTI_TRACEBACK", None)
    return env


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "x**2", "x=3"],  # a few lines: the pipe breaks when they are flushed at the end
        ["grad", "sum(v)*v", "v=" + ",".join(["1"] * 5000)],  # more than a buffer: while printing
        ["demo"],
    ],
)
def test_a_reader_that_went_away_ends_the_command_quietly(tmp_path, argv):
    # as `gradienti grad ... | head -1` once head has exited: nobody reads the pipe
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gradienti", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_environment(),
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


class ClosedPipe:
    """A stdout whose reader has gone: every write fails as a pipe's would."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        pass


def test_a_broken_pipe_is_not_an_internal_error(capsys, monkeypatch):
    monkeypatch.delenv("GRADIENTI_TRACEBACK", raising=False)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["grad", "x**2", "x=3"]) == 1
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv, start",
    [
        (["grad", "x", "x=1", "--order", "3"], "gradienti grad: error: argument --order: invalid"),
        (["grad", "x", "x=1", "--dtype", "f16"], "gradienti grad: error: argument --dtype: inval"),
        (["grad", "x", "x=1", "--graph"], "gradienti grad: error: argument --graph: expected one"),
        (["grad"], "gradienti grad: error: the following arguments are required: EXPR"),
        (["demo", "--out"], "gradienti demo: error: argument --out/--output/-o: expected one"),
        (["frobnicate"], "gradienti: error: argument COMMAND: invalid choice: 'frobnicate'"),
        (["demo", "--bogus"], "gradienti: error: unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(capsys, argv, start):
    status = main(argv)
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(start), err
    prog = start.partition(": error")[0]
    assert err.endswith(f" (see {prog} --help)\n")


def test_usage_error_of_the_installed_command_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gradienti", "grad", "x", "x=1", "--order", "3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "usage:" not in done.stderr
