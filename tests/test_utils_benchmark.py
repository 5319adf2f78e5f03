"""gradienti.utils.benchmark (Timer, Measurement) against torch.utils.benchmark: what a
Measurement prints for given times, and that Timer measures and labels as PyTorch's."""

from __future__ import annotations

import re

import pytest

from gradienti.utils import benchmark as ours

torch = pytest.importorskip("torch")
theirs = pytest.importorskip("torch.utils.benchmark")


def _without_address(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x", text)


MEASUREMENTS = [
    ([1e-3], 500, "compute_jac(xp)", "pass", {}),
    ([2.5e-8], 100, "x + 1", "pass", {}),
    ([4e-6, 4.1e-6, 4.5e-6, 3.9e-6, 9e-6], 10, "f(x)", "x = 1", {"label": "L"}),
    ([1.0, 1.01, 0.99, 1.02], 1, "a\nb", "a = 1\nb = 2", {"sub_label": "S", "description": "D"}),
    ([3.0, 3.0], 7, "g()", "pass", {"num_threads": 4, "label": "L", "sub_label": "S"}),
]


@pytest.mark.parametrize(("times", "number", "stmt", "setup", "labels"), MEASUREMENTS)
def test_measurement_prints_as_pytorch(times, number, stmt, setup, labels):
    mine = ours.Measurement(number, times, ours.TaskSpec(stmt, setup, **labels))
    reference = theirs.Measurement(number, times, theirs.TaskSpec(stmt, setup, **labels))
    assert _without_address(repr(mine)) == _without_address(repr(reference))
    assert _without_address(str(mine)) == _without_address(str(reference))
    for name in ("times", "median", "mean", "iqr", "has_warnings", "title", "stmt"):
        assert getattr(mine, name) == pytest.approx(getattr(reference, name)), name
    assert mine.meets_confidence(0.05) == reference.meets_confidence(0.05)


def test_timer_timeit_as_pytorch():
    counter = {"runs": 0}

    def step():
        counter["runs"] += 1

    measurement = ours.Timer("step()", globals={"step": step}).timeit(50)
    assert counter["runs"] == 50 + 2  # the warm-up: a hundredth of the runs, at least 2
    assert measurement.number_per_run == 50
    assert len(measurement.times) == 1 and measurement.times[0] > 0
    assert measurement.stmt == "step()"
    reference = theirs.Timer("step()", globals={"step": step}).timeit(50)
    first_lines = [_without_address(repr(m)).splitlines()[:2] for m in (measurement, reference)]
    assert first_lines[0] == first_lines[1]
    assert repr(measurement).splitlines()[-1] == "  1 measurement, 50 runs , 1 thread"


@pytest.mark.parametrize("method", ["blocked_autorange", "adaptive_autorange"])
def test_autorange_repeats_blocks_until_enough_time(method):
    measurement = getattr(ours.Timer("sum(range(50))"), method)(min_run_time=0.01)
    assert sum(measurement.raw_times) >= 0.01
    assert measurement.number_per_run >= 1
    if method == "adaptive_autorange":
        assert len(measurement.times) > 3


def test_the_statement_is_dedented_and_the_globals_copied():
    names = {"value": 1}
    timer = ours.Timer("\n    y = value\n", globals=names)
    assert timer.timeit(3).stmt == "y = value"
    assert names == {"value": 1}


@pytest.mark.parametrize(
    "arguments",
    [{"stmt": len}, {"global_setup": "int x;"}, {"language": "fortran"}],
    ids=["stmt not a str", "global_setup", "language"],
)
def test_errors_as_pytorch(arguments):
    with pytest.raises(ValueError) as reference:
        theirs.Timer(**arguments)
    with pytest.raises(ValueError) as mine:
        ours.Timer(**arguments)
    assert str(mine.value) == str(reference.value)
