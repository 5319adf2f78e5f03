"""How cost grows: forward+backward time and peak memory per node, and per tensor element.

    python benchmarks/scaling.py [--quick | --full] [--sizes N,N,...] [--elements N,N,...]
                                 [--rounds R] [--threads N] [--plot PATH] [--check]
                                 [--compiled-up-to N]

Three series, each for gradienti eager, gradienti compiled (``gradienti.compile``) and PyTorch
(when importable) side by side in one process:

- chain: ``y = y * a + b`` repeated on a 0-d tensor, 2 nodes per step (every node depends on the
  previous one), from 10^3 to 10^6 nodes (10^5 with --quick, 10^7 with --full);
- wide: ``stack([x * c_i + d_i for i in ...]).sum()``, independent 2-node branches of one leaf
  joined by one stack and one sum (one node with as many inputs as branches, and a leaf whose
  gradient gathers as many contributions), same node counts;
- elements: the chain's first 8 steps (16 nodes, then ``.sum()``) on float32 tensors from 10 to
  10^7 elements (10^5 with --quick): time per element, where the per-op overhead fades out and
  NumPy's own speed remains.

Every size is first checked (gradients of the two libraries agree, and agree with the closed
form; the compiled column's output and gradient equal eager gradienti's bit for bit and its
call replayed the trace), then timed as benchmarks/run.py does (harness.measure: calibrated
blocks, libraries interleaved round-robin, median over rounds), with BLAS and torch on one
thread. Memory, in an untimed run: gradienti's peak during forward+backward as tracemalloc sees
it (Python objects and NumPy's buffers, which NumPy reports to tracemalloc); PyTorch builds its
graph in C++, invisible to tracemalloc, so its column is how much malloc's in-use bytes (glibc
mallinfo2) grew while the forward's graph was alive, not a peak. The compiled column times the
calls after the first (the trace, untimed): the compiled function is the graph's forward with
the leaf as its argument; its memory is the peak of one replayed call and its backward. It is
measured for graphs of up to --compiled-up-to nodes (default 10^4): tracing a graph takes time
that grows faster than its size today (10^5 nodes: minutes), so larger sizes print n/a.

Time per node must stay flat: a point of the chain or wide series of 10^4 nodes or more that
takes more than 2x the median time per node of those sizes is a super-linear step (a bug); it is
printed, and with --check the exit status is 1 (for gradienti eager or compiled; torch's is
information).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import harness as h  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402  (also puts this checkout's src/ on sys.path)
from workloads import DEEP_A, DEEP_B  # noqa: E402

FLAT_FROM = 10**4  # below this, a backward call's fixed cost still shows in the time per node
FLAT_FACTOR = 2.0
ELEMENT_STEPS = 8  # (mul, add) steps of the elements series: 16 nodes, then the sum


COMPILED = "compiled"  # the column of gradienti.compile'd forwards (lib is gradienti)


@dataclass
class Series:
    name: str
    unit: str  # "µs/node" or "ns/element"
    time_unit_s: float
    sizes: list[int]
    build: Callable[[Any, int], Callable[[], tuple[Any, Any]]]  # (lib, size) -> one fwd+bwd
    forward: Callable[[Any, int], Any]  # (lib, size) -> what keeps the forward's graph alive
    # (gradienti, size) -> one fwd+bwd through gradienti.compile (the leaf is the argument)
    compiled_build: Callable[[Any, int], Callable[[], tuple[Any, Any]]]
    expected_grad: Callable[[int], np.ndarray | float]
    expected_rtol: Callable[[int], float]
    points: list[Point] = field(default_factory=list)


@dataclass
class Point:
    size: int  # nodes or elements
    times: dict[str, h.Timing]
    ratio_torch: float | None
    ratio_compiled_torch: float | None
    memory: dict[str, float | None]  # bytes per unit


# --------------------------------------------------------------------------- the graphs


def chain_steps(nodes: int) -> int:
    return max(1, nodes // 2)


def chain_from(x, nodes: int):
    y = x
    for _ in range(chain_steps(nodes)):
        y = y * DEEP_A + DEEP_B
    return y


def chain_forward(lib, nodes: int):
    x = lib.tensor(0.5, requires_grad=True)
    return x, chain_from(x, nodes)


def wide_branches(nodes: int) -> int:
    return max(1, (nodes - 2) // 2)  # 2 nodes per branch, plus the stack and the sum


def wide_scales(nodes: int) -> list[float]:
    # multiples of 1/64: exact in float32, so only the order of the gradient's sum differs
    return [(i % 15 + 1) / 64 for i in range(wide_branches(nodes))]


def wide_from(lib, x, nodes: int):
    return lib.stack([x * c + DEEP_B for c in wide_scales(nodes)]).sum()


def wide_forward(lib, nodes: int):
    x = lib.tensor(0.5, requires_grad=True)
    return x, wide_from(lib, x, nodes)


def elements_leaf(lib, size: int):
    return lib.tensor(np.linspace(0.25, 0.75, size, dtype=np.float32), requires_grad=True)


def elements_from(x):
    y = x
    for _ in range(ELEMENT_STEPS):
        y = y * DEEP_A + DEEP_B
    return y.sum()


def elements_forward(lib, size: int):
    x = elements_leaf(lib, size)
    return x, elements_from(x)


def fwd_bwd(forward: Callable[[Any, int], Any]) -> Callable[[Any, int], Callable[[], Any]]:
    def build(lib, size: int) -> Callable[[], tuple[Any, Any]]:
        def step():
            x, y = forward(lib, size)
            y.backward()
            return y, x.grad

        return step

    return build


def compiled_fwd_bwd(
    leaf: Callable[[Any, int], Any], graph: Callable[[Any, Any, int], Any]
) -> Callable[[Any, int], Callable[[], tuple[Any, Any]]]:
    """One forward+backward of ``graph(gt, x, size)`` compiled once per build: its first call
    traces, later calls replay the trace and backward runs its one compiled node."""

    def build(gt, size: int) -> Callable[[], tuple[Any, Any]]:
        forward = gt.compile(lambda x: graph(gt, x, size))

        def step():
            x = leaf(gt, size)
            y = forward(x)
            y.backward()
            return y, x.grad

        step.compiled = forward  # for compiler.stats
        return step

    return build


def scalar_leaf(lib, size: int):
    return lib.tensor(0.5, requires_grad=True)


def chain_series(sizes: list[int]) -> Series:
    return Series(
        "chain",
        "µs/node",
        1e-6,
        sizes,
        fwd_bwd(chain_forward),
        chain_forward,
        compiled_fwd_bwd(scalar_leaf, lambda lib, x, n: chain_from(x, n)),
        lambda n: DEEP_A ** chain_steps(n),
        # each backward step rounds once in float32: at most steps * 2^-24 apart from the exact
        # power; the two libraries round identically, checked tightly against each other
        lambda n: 1e-4 + chain_steps(n) * 2.0**-24,
    )


def wide_series(sizes: list[int]) -> Series:
    return Series(
        "wide",
        "µs/node",
        1e-6,
        sizes,
        fwd_bwd(wide_forward),
        wide_forward,
        compiled_fwd_bwd(scalar_leaf, wide_from),
        lambda n: sum(wide_scales(n)),
        lambda n: 1e-3,  # float32 sums of up to 10^7 terms, in each library's own order
    )


def elements_series(sizes: list[int]) -> Series:
    return Series(
        "elements",
        "ns/element",
        1e-9,
        sizes,
        fwd_bwd(elements_forward),
        elements_forward,
        compiled_fwd_bwd(elements_leaf, lambda lib, x, n: elements_from(x)),
        lambda n: np.full(n, DEEP_A**ELEMENT_STEPS, dtype=np.float64),
        lambda n: 1e-5,
    )


def graph_nodes(series: Series, size: int) -> int:
    """The unit count one iteration is divided by: nodes built, or elements."""
    if series.name == "chain":
        return 2 * chain_steps(size)
    if series.name == "wide":
        return 2 * wide_branches(size) + 2
    return size


# --------------------------------------------------------------------------- measuring


def peak_bytes_gradienti(step: Callable[[], Any]) -> int:
    """tracemalloc's peak over one forward+backward, above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def c_heap_growth_torch(series: Series, torch, size: int) -> int | None:
    """malloc in-use bytes (mallinfo2) grown while torch's forward graph is alive."""
    gc.collect()
    before = h.c_heap_in_use()
    x, y = series.forward(torch, size)
    after = h.c_heap_in_use()
    y.backward()  # backward frees the saved buffers first, then the nodes go with y
    del x, y
    return None if before is None or after is None else after - before


def check_compiled(name: str, results: dict[str, tuple[Any, Any]], compiled) -> None:
    """The compiled call gives eager gradienti's output and gradient bit for bit, and a second
    call replays the trace (no graph break, no eager fallback)."""
    eager, ours = results["gradienti"], results[COMPILED]
    for what, a, b in (("output", ours[0], eager[0]), ("gradient", ours[1], eager[1])):
        a, b = h.to_numpy(a), h.to_numpy(b)
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            raise h.CheckError(f"{name}: compiled {what} {a!r} is not eager's {b!r} bit for bit")
    stats = compiled_stats(compiled)
    if stats.graph_break is not None or stats.compiled_calls < 1:
        raise h.CheckError(f"{name}: the compiled call did not replay: {stats}")


def compiled_stats(compiled):
    return importlib.import_module("gradienti.compiler").stats(compiled)


def paired_ratio_of(times: dict[str, h.Timing], mine: str, other: str) -> float | None:
    """The median over rounds of ``mine``'s time / ``other``'s in the same round."""
    if mine not in times or other not in times:
        return None
    pairs = zip(times[mine].per_unit, times[other].per_unit, strict=True)
    return statistics.median(a / b for a, b in pairs)


def measure_point(
    series: Series,
    libs: dict[str, Any],
    size: int,
    rounds: int,
    block_s: float,
    compiled_up_to: int,
):
    units = graph_nodes(series, size)
    fns = {k: series.build(lib, size) for k, lib in libs.items()}
    with_compiled = series.unit != "µs/node" or size <= compiled_up_to
    if with_compiled:
        fns[COMPILED] = series.compiled_build(libs["gradienti"], size)
    prep = h.Prepared(fns, lambda: None)
    name = f"{series.name} {size:,}"
    results = h.run_check(
        prep,
        name,
        rtol=1e-4,
        expected_grad=series.expected_grad(size),
        expected_rtol=series.expected_rtol(size),
    )
    if with_compiled:
        results[COMPILED] = fns[COMPILED]()  # the first call traced; this one replays
        check_compiled(name, results, fns[COMPILED].compiled)
        prep.first_call_s[COMPILED] = h.timed_call(fns[COMPILED])[1]  # a replay's, not a trace's
    times = h.measure(prep.fns, units, rounds, block_s, prep.first_call_s, series.time_unit_s)
    memory: dict[str, float | None] = {
        "gradienti": peak_bytes_gradienti(series.build(libs["gradienti"], size)) / units
    }
    if with_compiled:
        memory[COMPILED] = peak_bytes_gradienti(fns[COMPILED]) / units  # traced: a replay
    if "torch" in libs:
        grown = c_heap_growth_torch(series, libs["torch"], size)
        memory["torch"] = None if grown is None else grown / units
    return Point(
        size,
        times,
        report.paired_ratio(times, "torch"),
        paired_ratio_of(times, COMPILED, "torch"),
        memory,
    )


# --------------------------------------------------------------------------- reporting


def flatness_problems(points: list[tuple[int, float]], label: str) -> list[str]:
    """Super-linear steps among (nodes, time per node) points of FLAT_FROM nodes or more.

    A point more than FLAT_FACTOR times the median time per node of those sizes is one.
    """
    checked = [(n, t) for n, t in points if n >= FLAT_FROM]
    if len(checked) < 2:
        return []
    reference = statistics.median(t for _, t in checked)
    return [
        f"{label}: {t:.3g} µs/node at {n:,} nodes is {t / reference:.1f}x the median "
        f"{reference:.3g} µs/node of the sizes >= {FLAT_FROM:,} (limit {FLAT_FACTOR:g}x)"
        for n, t in checked
        if t > FLAT_FACTOR * reference
    ]


def flatness_report(all_series: list[Series]) -> tuple[list[str], bool]:
    """Lines to print, and whether gradienti grew super-linearly (torch's is information)."""
    lines, failed = [], False
    for series in all_series:
        if series.unit != "µs/node":
            continue
        for impl in ("gradienti", COMPILED, "torch"):
            points = [(p.size, p.times[impl].median) for p in series.points if impl in p.times]
            if len([n for n, _ in points if n >= FLAT_FROM]) < 2:
                lines.append(
                    f"flat check {series.name}/{impl}: not judged "
                    f"(fewer than two sizes >= {FLAT_FROM:,} nodes)"
                )
                continue
            problems = flatness_problems(points, f"{series.name}/{impl}")
            if not problems:
                lines.append(f"flat check {series.name}/{impl}: ok (no point above 2x the median)")
            for problem in problems:
                lines.append(f"SUPER-LINEAR STEP {problem}")
            failed |= bool(problems) and impl != "torch"
    return lines, failed


def markdown_table(all_series: list[Series]) -> str:
    head = [
        "graph",
        "size",
        "unit",
        "gradienti",
        "torch",
        "gradienti/torch",
        "compiled",
        "compiled/torch",
        "gradienti peak B/unit",
        "compiled peak B/unit",
        "torch C heap B/unit",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for series in all_series:
        for p in series.points:
            cells = [
                series.name,
                f"{p.size:,}",
                series.unit,
                report.fmt(p.times["gradienti"].median),
                report.fmt(p.times["torch"].median if "torch" in p.times else None),
                report.fmt(p.ratio_torch),
                report.fmt(p.times[COMPILED].median if COMPILED in p.times else None),
                report.fmt(p.ratio_compiled_torch),
                report.fmt(p.memory.get("gradienti")),
                report.fmt(p.memory.get(COMPILED)),
                report.fmt(p.memory.get("torch")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


STYLES = {"gradienti": "-", COMPILED: ":", "torch": "--"}
COLOURS = {"chain": "tab:blue", "wide": "tab:orange", "elements": "tab:green"}


def write_plot(path: Path, all_series: list[Series], header: str) -> None:
    import matplotlib  # the examples extra; only needed with --plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (per_node, per_element) = plt.subplots(1, 2, figsize=(11, 4.4))
    for series in all_series:
        ax = per_element if series.unit == "ns/element" else per_node
        for impl, style in STYLES.items():
            points = [(p.size, p.times[impl].median) for p in series.points if impl in p.times]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(
                    xs,
                    ys,
                    style,
                    marker="o",
                    color=COLOURS[series.name],
                    label=f"{series.name}, {'gradienti compiled' if impl == COMPILED else impl}",
                )
    per_node.set(
        xlabel="nodes in the graph",
        ylabel="forward + backward, µs per node",
        title="Graphs of 0-d tensors: time per node",
    )
    per_element.set(
        xlabel="elements per tensor",
        ylabel="forward + backward, ns per element",
        title=f"{2 * ELEMENT_STEPS} elementwise ops and a sum on growing tensors",
    )
    for ax in (per_node, per_element):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(header, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def size_list(text: str) -> list[int]:
    try:
        sizes = [int(float(part)) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of sizes: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers: {text!r}")
    return sorted(set(sizes))


def decades(low: int, high: int) -> list[int]:
    return [10**e for e in range(low, high + 1)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    span = p.add_mutually_exclusive_group()
    span.add_argument("--quick", action="store_true", help="up to 10^5 nodes and elements")
    span.add_argument(
        "--full", action="store_true", help="up to 10^7 nodes (slow; ~10 GB of memory)"
    )
    p.add_argument("--sizes", type=size_list, help="node counts, e.g. 1000,10000 (overrides)")
    p.add_argument("--elements", type=size_list, help="tensor sizes, e.g. 10,1000 (overrides)")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds (default 3, quick 1)")
    p.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    p.add_argument("--plot", type=Path, metavar="PATH", help="write a log-log PNG plot there")
    p.add_argument("--check", action="store_true", help="exit 1 on a super-linear step")
    p.add_argument(
        "--compiled-up-to",
        type=int,
        default=10**4,
        metavar="N",
        help="measure gradienti.compile on graphs of up to N nodes (default 10000; tracing "
        "larger ones takes minutes)",
    )
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="hide the imported libraries' objects from the cyclic GC (as run.py's option)",
    )
    args = p.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.compiled_up_to < 0:
        p.error("--compiled-up-to must be 0 or more")
    if args.plot is not None and not args.plot.parent.is_dir():
        p.error(f"--plot: no such directory: {args.plot.parent}")
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        p.error('--plot needs matplotlib (pip install -e ".[examples]")')  # before any timing
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gt, torch, fake = run.import_libs()
    ctx = h.Context(gt=gt, torch=torch, quick=args.quick)
    limiter, blas = run.limit_threads(args.threads, torch)
    rounds = args.rounds or (1 if args.quick else 3)
    block_s = 0.010 if args.quick else 0.030
    top_nodes = 5 if args.quick else 7 if args.full else 6
    node_sizes = args.sizes or decades(3, top_nodes)
    element_sizes = args.elements or decades(1, 5 if args.quick else 7)
    all_series = [chain_series(node_sizes), wide_series(node_sizes), elements_series(element_sizes)]
    libs = {"gradienti": gt} | ({"torch": torch} if torch is not None else {})

    header = report.machine_header(ctx, fake, args.threads, blas)
    print(header)
    if args.gc_freeze:
        print(run.freeze_import_objects())
    else:
        print("gc: as a user has it, import-time objects included (--gc-freeze hides them)")
    print(f"timing: {rounds} rounds, blocks of ~{block_s * 1e3:.0f} ms, median reported")
    print(
        "compiled: gradienti.compile'd forward (traced on its first call, untimed), then "
        f"backward; graphs of up to {args.compiled_up_to:,} nodes (--compiled-up-to)\n",
        flush=True,
    )

    t_start = time.perf_counter()
    for series in all_series:
        for size in series.sizes:
            report.eprint(f"[{time.perf_counter() - t_start:6.1f} s] {series.name} {size:,}")
            try:
                point = measure_point(series, libs, size, rounds, block_s, args.compiled_up_to)
                series.points.append(point)
            except h.CheckError as e:
                run.fail(str(e))

    print(markdown_table(all_series))
    print(
        f"\ngradienti peak: tracemalloc's peak over one forward+backward, per unit. torch C heap: "
        f"glibc mallinfo2 in-use bytes grown while the forward's graph was alive (torch's graph "
        f"is C++, invisible to tracemalloc), per unit; not a peak. compiled peak: the same for a "
        f"replayed compiled call and its backward. elements: {ELEMENT_STEPS} "
        f"(mul, add) steps and a sum on float32 tensors."
    )
    lines, failed = flatness_report(all_series)
    for line in lines:
        print(line)
    if args.plot is not None:
        short_header = header.splitlines()[1] + f" | {args.threads} thread(s)"
        write_plot(args.plot, all_series, short_header)
        print(f"plot: {args.plot}")
    if torch is None:
        print("torch is not installed: torch columns are n/a.")
    print(f"total wall time {time.perf_counter() - t_start:.1f} s")
    del limiter
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
