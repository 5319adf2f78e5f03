"""Reporting for the benchmark: machine header, number formatting and the markdown table."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from typing import Any

import numpy as np
from harness import IMPLS, Context, Row, Timing, Workload


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_header(ctx: Context, fake: bool, threads: int, blas: str) -> str:
    torch_v = ctx.torch.__version__ if ctx.torch is not None else "not installed"
    if fake:
        gt_v = "FAKE (torch substituted, GRADIENTI_BENCH_FAKE=1)"
    else:
        gt_v = getattr(ctx.gt, "__version__", "?")
    return (
        f"machine: {platform.platform()} | {cpu_model()} ({os.cpu_count()} logical CPUs)\n"
        f"python {platform.python_version()} | numpy {np.__version__} | torch {torch_v} | "
        f"gradienti {gt_v}\n"
        f"threads: {threads} (BLAS: {blas}{'; torch.set_num_threads' if ctx.torch else ''}) | "
        f"mode: {'quick' if ctx.quick else 'full'}"
    )


def fmt(v: float | None) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:#.3g}" if abs(v) < 1 else f"{v:.2f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def paired_ratio(timings: dict[str, Timing], other: str) -> float | None:
    """The median over rounds of gradienti's time / ``other``'s time in the same round.

    The blocks of one round run back to back, so a machine-wide slowdown (a noisy neighbour)
    hits both sides of each ratio alike; a ratio of the two medians would not cancel it.
    """
    if "gradienti" not in timings or other not in timings:
        return None
    mine, theirs = timings["gradienti"].per_unit, timings[other].per_unit
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def timing_row(w: Workload, timings: dict[str, Timing]) -> Row:
    vals = {k: (timings[k].median if k in timings else None) for k in IMPLS}
    r_t = paired_ratio(timings, "torch")
    r_n = paired_ratio(timings, "numpy")
    goals = [(w.target, r_t, "torch"), (w.numpy_target, r_n, "numpy")]
    goals = [(limit, measured, ref) for limit, measured, ref in goals if limit is not None]
    target = ", ".join(f"≤ {limit:g}× {ref}" for limit, _, ref in goals)
    verdicts = [None if measured is None else measured <= limit for limit, measured, _ in goals]
    # met only when every target could be judged and each was met
    met = None if None in verdicts or not verdicts else all(verdicts)
    return Row(w.name, w.unit, vals, target, met, r_t, r_n)


def markdown_table(rows: list[Row]) -> str:
    head = [
        "workload",
        "unit",
        "gradienti",
        "torch",
        "numpy",
        "gradienti/torch",
        "gradienti/numpy",
        "target",
        "met?",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        met = "n/a" if r.met is None else ("yes" if r.met else "NO")
        r_t = (
            r.ratio_torch
            if r.ratio_torch is not None
            else ratio(r.values.get("gradienti"), r.values.get("torch"))
        )
        r_n = (
            r.ratio_numpy
            if r.ratio_numpy is not None
            else ratio(r.values.get("gradienti"), r.values.get("numpy"))
        )
        cells = [r.workload, r.unit, *(fmt(r.values.get(k)) for k in IMPLS)]
        cells += [fmt(r_t), fmt(r_n), r.target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)
