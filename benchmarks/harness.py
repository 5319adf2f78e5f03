"""Timing, checking and reporting machinery shared by the benchmark workloads.

A workload (see ``workloads.py``) is one entry of a table: a name, a unit, how many units one
iteration performs, the target ratios (gradienti/torch and/or gradienti/numpy), and a
``setup(ctx)`` that returns a
:class:`Prepared` -- one zero-argument callable per implementation (each runs ONE iteration of
the workload and returns ``(output, gradient)``), a ``check`` callable, and optional untimed
extras (rows for the table, lines printed after it).
"""

from __future__ import annotations

import ctypes
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

IMPLS = ("gradienti", "torch", "numpy")


class CheckError(Exception):
    """A correctness check failed: the benchmark must exit non-zero."""


@dataclass
class Context:
    gt: Any  # the gradienti module (or torch when GRADIENTI_BENCH_FAKE=1)
    torch: Any  # the torch module, or None when torch is not installed
    quick: bool
    seed: int = 0

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


@dataclass
class Row:
    """One line of the results table; values are in the row's unit, None prints n/a."""

    workload: str
    unit: str
    values: dict[str, float | None]
    target: str
    met: bool | None
    ratio_torch: float | None = None
    ratio_numpy: float | None = None


@dataclass
class Prepared:
    fns: dict[str, Callable[[], Any]]  # keys from IMPLS; "torch" absent without torch
    check: Callable[[], None]  # raises CheckError on a mismatch; also warms every fn up
    extra_rows: Callable[[], list[Row]] | None = None  # untimed measurements
    notes: Callable[[], list[str]] | None = None  # untimed lines printed after the table
    first_call_s: dict[str, float] = field(default_factory=dict)  # filled by check()


@dataclass
class Workload:
    name: str
    unit: str  # e.g. "µs/iter"; timings are reported in µs per unit
    units_per_iter: int  # e.g. 1000 ops per iteration of `chain`
    target: float | None  # max gradienti/torch time ratio (lower is better); None: no target
    setup: Callable[[Context], Prepared]
    description: str = ""
    numpy_target: float | None = None  # max gradienti/numpy time ratio, where there is one
    time_unit_s: float = 1e-6  # the unit's time in seconds: 1e-6 for "µs/...", 1e-3 for "ms/..."


# --------------------------------------------------------------------------- conversions


def to_numpy(value: Any) -> np.ndarray:
    """Tensor (gradienti or torch), NumPy array or scalar -> NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy") and not isinstance(value, np.generic | np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def timed_call(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def check_results(
    name: str,
    results: dict[str, tuple[Any, Any]],
    *,
    rtol: float,
    atol: float = 0.0,
    out_atol: float | None = None,
    expected_grad: np.ndarray | float | None = None,
    expected_rtol: float = 1e-5,
    nonzero: bool = True,
) -> None:
    """Compare (output, gradient) pairs of all implementations; raise CheckError on a mismatch.

    Gradients must be finite, float32 for the tensor libraries, (all) nonzero if ``nonzero``, and
    agree pairwise (gradienti-torch, gradienti-numpy, torch-numpy) within ``rtol``/``atol``.
    Outputs are compared the same way with ``out_atol`` (default ``atol``).
    """
    conv = {k: (to_numpy(o), to_numpy(g)) for k, (o, g) in results.items()}
    problems = []
    for impl, (out, grad) in conv.items():
        if not np.all(np.isfinite(out)) or not np.all(np.isfinite(grad)):
            problems.append(f"{impl}: non-finite output or gradient")
        if nonzero and not np.all(grad != 0):
            problems.append(f"{impl}: gradient has zeros ({np.count_nonzero(grad == 0)})")
        if impl != "numpy" and grad.dtype != np.float32:
            problems.append(f"{impl}: gradient dtype {grad.dtype}, expected float32")
    if expected_grad is not None:
        for impl, (_, grad) in conv.items():
            try:
                np.testing.assert_allclose(grad, expected_grad, rtol=expected_rtol)
            except AssertionError as e:
                problems.append(f"{impl} gradient vs closed form:{e}")
    pairs = [(a, b) for i, a in enumerate(IMPLS) for b in IMPLS[i + 1 :]]
    for a, b in pairs:
        if a not in conv or b not in conv:
            continue
        for what, idx, at in (("gradient", 1, atol), ("output", 0, out_atol)):
            try:
                np.testing.assert_allclose(
                    conv[a][idx].astype(np.float64),
                    conv[b][idx].astype(np.float64),
                    rtol=rtol,
                    atol=atol if at is None else at,
                    err_msg=f"{name}: {what} of {a} vs {b}",
                )
                if conv[a][idx].shape != conv[b][idx].shape:
                    raise AssertionError(f"shape {conv[a][idx].shape} vs {conv[b][idx].shape}")
            except AssertionError as e:
                problems.append(f"{what} {a} vs {b}:{e}")
    if problems:
        raise CheckError(f"{name}: " + "\n".join(problems))


def run_check(prep: Prepared, name: str, **kwargs: Any) -> dict[str, tuple[Any, Any]]:
    """Call every implementation once (timing the call as a calibration hint), then compare."""
    results = {}
    for impl, fn in prep.fns.items():
        results[impl], prep.first_call_s[impl] = timed_call(fn)
    check_results(name, results, **kwargs)
    return results


# --------------------------------------------------------------------------- timing


def time_block(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - t0


def calibrate(fn: Callable[[], Any], block_s: float, hint_s: float | None = None) -> int:
    """Inner iterations so that one timed block takes about ``block_s`` seconds.

    Uses the fastest of a few trials, so that one slow call (a GC pass, a noisy neighbour) does
    not shrink every later block.
    """
    if hint_s is not None and hint_s >= 2 * block_s:
        return 1  # a single (cold) call already takes far longer than a block
    t1 = float("inf")
    for _ in range(3):
        t1 = min(t1, time_block(fn, 1))
        if t1 >= block_s:
            return 1
    n = max(1, round(block_s / max(t1, 1e-7)))
    t = min(time_block(fn, n), time_block(fn, n))
    return max(1, round(n * block_s / max(t, 1e-9)))


@dataclass
class Timing:
    inner: int
    per_unit: list[float]  # in the workload's unit, one value per round

    @property
    def median(self) -> float:
        return statistics.median(self.per_unit)

    @property
    def spread(self) -> float:
        """(max - min) / median over rounds: a rough noise indicator."""
        return (max(self.per_unit) - min(self.per_unit)) / self.median


def measure(
    fns: dict[str, Callable[[], Any]],
    units_per_iter: int,
    rounds: int,
    block_s: float,
    hints: dict[str, float] | None = None,
    time_unit_s: float = 1e-6,
) -> dict[str, Timing]:
    """Calibrate each implementation once, then time them interleaved round-robin."""
    hints = hints or {}
    names = list(fns)
    inner = {k: calibrate(fns[k], block_s, hints.get(k)) for k in names}
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate the start
        for k in order:
            t = time_block(fns[k], inner[k])
            samples[k].append(t / inner[k] / units_per_iter / time_unit_s)
    return {k: Timing(inner[k], samples[k]) for k in names}


# --------------------------------------------------------------------------- memory


def python_heap_growth(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes the Python heap (tracemalloc) grows by while ``build()``'s result is alive.

    Untimed. Returns (bytes, result); the caller drops the result when done with it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, result


_MALLINFO2_FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS.split()]


def c_heap_in_use() -> int | None:
    """Bytes malloc has handed out and not had back (glibc mallinfo2), else None.

    This sees C/C++ allocations (torch's autograd nodes and TensorImpls) that tracemalloc cannot.
    """
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _Mallinfo2
    info = fn()
    return info.uordblks + info.hblkhd
