"""Side-by-side speed benchmark: gradienti vs PyTorch vs hand-written NumPy gradients.

    python benchmarks/run.py [--quick] [--threads N] [--only NAME ...] [--rounds R]

For every workload (see workloads.py) the three implementations are first checked against each
other (a mismatch prints the problem and exits 1), then each is calibrated once so that a timed
block of inner iterations takes ~30 ms (~10 ms with --quick), then the blocks are run
interleaved round-robin for 9 rounds (3 with --quick); the median per unit is reported, and each
ratio is the median of the per-round ratios (see report.paired_ratio).
BLAS (threadpoolctl) and torch run on one thread unless --threads says otherwise. Targets are
informational: missing one never changes the exit status.

torch is optional (its columns print n/a). GRADIENTI_BENCH_FAKE=1 substitutes torch for
gradienti -- a debugging aid for the harness itself, not a measurement of gradienti.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if (SRC / "gradienti").is_dir() and str(SRC) not in sys.path:
    sys.path.insert(1, str(SRC))  # benchmark this checkout's gradienti

import harness as h  # noqa: E402
import report  # noqa: E402
from workloads import WORKLOADS as ORDINARY_WORKLOADS  # noqa: E402
from workloads_compiled import COMPILED_WORKLOADS  # noqa: E402
from workloads_func import FUNC_WORKLOADS  # noqa: E402
from workloads_layers import LAYER_WORKLOADS  # noqa: E402
from workloads_seq import SEQ_WORKLOADS  # noqa: E402

WORKLOADS = (
    ORDINARY_WORKLOADS + FUNC_WORKLOADS + SEQ_WORKLOADS + LAYER_WORKLOADS + COMPILED_WORKLOADS
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [w.name for w in WORKLOADS]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 rounds of ~10 ms blocks, skip 1M run")
    p.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    p.add_argument("--only", nargs="+", metavar="NAME", choices=names, help=f"among {names}")
    p.add_argument("--rounds", type=int, default=None, help="override the number of rounds")
    p.add_argument(
        "--gc-freeze",
        action="store_true",
        help="hide the imported libraries' objects from the cyclic GC (see freeze_import_objects);"
        " the default leaves the GC as a user has it, which is how the targets are judged",
    )
    return p.parse_args(argv)


def import_libs() -> tuple[object, object | None, bool]:
    try:
        import torch
    except ImportError:
        torch = None
    fake = os.environ.get("GRADIENTI_BENCH_FAKE", "") not in ("", "0")
    if fake:
        if torch is None:
            report.eprint("GRADIENTI_BENCH_FAKE=1 needs torch, which is not installed")
            sys.exit(2)
        return torch, torch, True
    try:
        import gradienti as gt
    except Exception:
        traceback.print_exc()
        report.eprint("cannot import gradienti (set GRADIENTI_BENCH_FAKE=1 to test the harness)")
        sys.exit(2)
    if not hasattr(gt, "tensor"):
        report.eprint(
            f"gradienti at {getattr(gt, '__path__', '?')} has no `tensor` yet "
            "(set GRADIENTI_BENCH_FAKE=1 to test the harness)"
        )
        sys.exit(2)
    return gt, torch, False


def limit_threads(n: int, torch) -> tuple[object | None, str]:
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return None, "threadpoolctl missing, BLAS threads not limited"
    limiter = threadpool_limits(limits=n)  # NumPy's BLAS (and any OpenMP runtime loaded)
    pools = sorted(
        f"{i.get('internal_api')} {i.get('version') or ''}".strip()
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    return limiter, ", ".join(pools) or "no BLAS pool found"


def freeze_import_objects() -> str:
    """Move the objects that exist after the imports out of the cyclic GC's sight (--gc-freeze).

    Importing torch creates ~150,000 GC-tracked Python objects (gradienti and NumPy alone,
    ~20,000). Every full collection walks all of them, and only gradienti's workloads allocate
    enough Python objects to trigger collections, so in the side-by-side process gradienti pays
    for torch's import (on the deep graph, about twice the time). That is the setting the
    targets are judged in (a learner comparing the two has both loaded), so it is the default;
    ``gc.freeze()`` shows what the collector costs. gradienti itself never changes the GC.
    """
    gc.collect()
    gc.freeze()
    return f"gc: {gc.get_freeze_count():,} import-time objects frozen (--gc-freeze)"


def fail(msg: str) -> None:
    print(f"\nCORRECTNESS CHECK FAILED\n{msg}", flush=True)
    report.eprint("correctness check failed; see stdout")
    sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gt, torch, fake = import_libs()
    ctx = h.Context(gt=gt, torch=torch, quick=args.quick)
    limiter, blas = limit_threads(args.threads, torch)
    rounds = args.rounds or (3 if args.quick else 9)
    block_s = 0.010 if args.quick else 0.030
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]

    print(report.machine_header(ctx, fake, args.threads, blas))
    if args.gc_freeze:
        print(freeze_import_objects())
    else:
        print("gc: as a user has it, import-time objects included (--gc-freeze hides them)")
    print(f"timing: {rounds} rounds, blocks of ~{block_s * 1e3:.0f} ms, median reported\n")
    sys.stdout.flush()

    rows: list[h.Row] = []
    details: list[str] = []
    notes_fns = []
    t_start = time.perf_counter()
    for w in workloads:
        report.eprint(f"[{time.perf_counter() - t_start:6.1f} s] {w.name}: check")
        try:
            prep = w.setup(ctx)
            prep.check()
        except h.CheckError as e:
            fail(str(e))
        except Exception:
            fail(f"{w.name}: exception during setup/check\n{traceback.format_exc()}")
        report.eprint(f"[{time.perf_counter() - t_start:6.1f} s] {w.name}: timing")
        timings = h.measure(
            prep.fns, w.units_per_iter, rounds, block_s, prep.first_call_s, w.time_unit_s
        )
        rows.append(report.timing_row(w, timings))
        details.append(
            f"{w.name}: "
            + "; ".join(
                f"{k} {t.inner} iter/block, spread {t.spread * 100:.0f}%"
                for k, t in timings.items()
            )
        )
        if prep.extra_rows is not None:
            report.eprint(f"[{time.perf_counter() - t_start:6.1f} s] {w.name}: memory")
            try:
                rows.extend(prep.extra_rows())
            except h.CheckError as e:
                fail(str(e))
        if prep.notes is not None:
            notes_fns.append((w.name, prep.notes))

    print(report.markdown_table(rows))
    print()
    for line in details:
        print(line)
    sys.stdout.flush()
    for name, fn in notes_fns:
        report.eprint(f"[{time.perf_counter() - t_start:6.1f} s] {name}: untimed extras")
        try:
            for line in fn():
                print(line, flush=True)
        except h.CheckError as e:
            fail(str(e))
    if torch is None:
        print("torch is not installed: torch columns are n/a, targets cannot be judged.")
    if fake:
        print("NOTE: GRADIENTI_BENCH_FAKE=1 -- the gradienti column is torch; ratios are ~1.")
    print(f"total wall time {time.perf_counter() - t_start:.1f} s")
    del limiter
    return 0


if __name__ == "__main__":
    sys.exit(main())
