"""The benchmark workloads: one ``Workload`` entry per row of the results table.

Each ``setup_*`` builds shared inputs from a seeded NumPy generator and returns a ``Prepared``
with three zero-argument callables -- gradienti, torch (absent without torch) and hand-written
NumPy forward+backward -- each running ONE iteration and returning ``(output, gradient)``.
The array-heavy workloads (mlp, matmul, bcast, cnn) are in workloads_nn.py.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from harness import (
    CheckError,
    Context,
    Prepared,
    Row,
    Workload,
    c_heap_in_use,
    check_results,
    python_heap_growth,
    run_check,
    to_numpy,
)
from workloads_nn import BCAST_A, BCAST_B, setup_bcast, setup_cnn, setup_matmul, setup_mlp

F32 = np.float32


def _fns(ctx: Context, make_lib, numpy_fn) -> dict[str, Any]:
    fns = {"gradienti": make_lib(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make_lib(ctx.torch)
    fns["numpy"] = numpy_fn
    return fns


# --------------------------------------------------------------------------- seed
# The lesson's computation: y = 5x^3 + 2x^2 + 4x + 8 at x = 2, dy/dx = 15x^2 + 4x + 4 = 72.
# 8 autograd nodes per iteration (2 pow, 3 mul, 3 add) plus the leaf.


def setup_seed(ctx: Context) -> Prepared:
    def make(lib):
        def seed_step():
            x = lib.tensor(2.0, requires_grad=True)
            y = 5 * x**3 + 2 * x**2 + 4 * x + 8
            y.backward()
            return y, x.grad

        return seed_step

    def seed_numpy():
        x = F32(2.0)
        y = 5 * x**3 + 2 * x**2 + 4 * x + 8  # forward
        g = 15 * x * x + 4 * x + 4  # backward, by hand
        return y, g

    prep = Prepared(_fns(ctx, make, seed_numpy), check=lambda: None)
    prep.check = lambda: run_check(prep, "seed", rtol=1e-5, expected_grad=72.0)
    return prep


# --------------------------------------------------------------------------- chain
# 1000 elementwise ops on a 16-element float32 tensor: the cycle
#   mul c -> tanh -> exp -> log -> sigmoid -> add d
# 166 times (996 ops) plus mul, tanh, exp, log (4 ops); then .sum() (not counted) and backward.
# Per cycle the derivative is c * tanh'(c u) * sigmoid'(.) <= c / 4 (exp and log cancel), so
# c near 1 makes the gradient underflow to exactly 0 in float32 (0.25^166 ~ 1e-100). With
# d = -0.5, u = 0 is a fixed point whose derivative is c/4: c in [3.9, 4.1] keeps the map near
# neutral. x in [-0.25, 0.25] keeps tanh away from saturation, where 1 - tanh^2 loses float32
# digits; values stay in about [-0.2, 0.2] and the gradient in about [1e-5, 10] (seeds 0-5).

CHAIN_OPS = 1000
CHAIN_N = 16
CHAIN_C = (3.9, 4.1)  # c ~ U(3.9, 4.1)
CHAIN_D = -0.5
CHAIN_CYCLES, CHAIN_TAIL = divmod(CHAIN_OPS, 6)
assert CHAIN_TAIL == 4, "the tail below is written for 4 ops (mul, tanh, exp, log)"


def setup_chain(ctx: Context) -> Prepared:
    rng = ctx.rng()
    x0 = rng.uniform(-0.25, 0.25, CHAIN_N).astype(F32)
    c0 = rng.uniform(*CHAIN_C, CHAIN_N).astype(F32)
    d0 = np.full(CHAIN_N, CHAIN_D, dtype=F32)

    def make(lib, cycles=CHAIN_CYCLES):
        c, d = lib.tensor(c0), lib.tensor(d0)

        def chain_step():
            x = lib.tensor(x0, requires_grad=True)
            y = x
            for _ in range(cycles):
                y = (y * c).tanh().exp().log().sigmoid() + d
            y = (y * c).tanh().exp().log()
            s = y.sum()
            s.backward()
            return s, x.grad

        return chain_step

    def chain_numpy(cycles=CHAIN_CYCLES):
        # forward, saving what each op's VJP needs
        c, d = c0, d0
        y = x0
        tape = []
        for _ in range(cycles):
            t = np.tanh(y * c)  # mul (needs c), tanh (needs output t)
            e = np.exp(t)  # exp (needs output e)
            l = np.log(e)  # log (needs input e)
            s = 1 / (1 + np.exp(-l))  # sigmoid (needs output s)
            y = s + d  # add (needs nothing)
            tape.append((t, e, s))
        t = np.tanh(y * c)
        e = np.exp(t)
        y = np.log(e)
        out = y.sum()
        # reverse pass: vector-Jacobian products, last op first
        g = np.ones_like(y)  # d out / d y for the sum
        g = g / e  # log
        g = g * e  # exp
        g = g * (1 - t * t)  # tanh
        g = g * c  # mul
        for t, e, s in reversed(tape):
            # add: identity
            g = g * (s * (1 - s))  # sigmoid
            g = g / e  # log
            g = g * e  # exp
            g = g * (1 - t * t)  # tanh
            g = g * c  # mul
        return out, g

    prep = Prepared(_fns(ctx, make, chain_numpy), check=lambda: None)

    def check():
        # Per-op correctness, tight: a 16-op prefix (2 cycles + the 4-op tail) at rtol 1e-5.
        short = _fns(ctx, lambda lib: make(lib, 2), lambda: chain_numpy(2))
        check_results("chain (16 ops)", {k: f() for k, f in short.items()}, rtol=1e-5)
        # The 1000-op chain: float32 tanh/exp/log/sigmoid differ by ~1 ulp between torch and
        # NumPy, systematically, and tanh' = 1 - t^2 amplifies it; over 166 cycles the gradients
        # measured 6e-5..1.2e-4 apart (seeds 0-2), so rtol is 5e-4 here.
        run_check(prep, "chain", rtol=5e-4)

    prep.check = check
    return prep


# --------------------------------------------------------------------------- deep
# A scalar chain of DEEP_STEPS steps y = y * A + B: 2 ops per step, so 50,000 steps create
# exactly 100,000 backward nodes (50,000 Mul + 50,000 Add; torch adds 1 AccumulateGrad for x).
# A = 1 - 2^-17 and B = 2^-17 are exact in float32, so every implementation does the same
# float32 arithmetic; y goes from 0.5 towards 1 and dy/dx = A^50000 = exp(-0.38) ~ 0.683.

DEEP_STEPS = 50_000
DEEP_NODES = 2 * DEEP_STEPS
DEEP_A = 1.0 - 2.0**-17
DEEP_B = 2.0**-17
MILLION_STEPS = 500_000  # the untimed 1,000,000-node check


def _deep_forward(lib, steps: int):
    x = lib.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(steps):
        y = y * DEEP_A + DEEP_B
    return x, y


def _deep_numpy_forward(steps: int):
    a, b = F32(DEEP_A), F32(DEEP_B)
    y = F32(0.5)
    tape = []  # one stored value per node, as a tape would keep them
    push = tape.append
    for _ in range(steps):
        m = y * a
        push(m)
        y = m + b
        push(y)
    return y, tape


def _deep_numpy(steps: int):
    y, tape = _deep_numpy_forward(steps)
    a = F32(DEEP_A)
    g = F32(1.0)
    for _ in range(steps):  # reverse: add passes the gradient through, mul multiplies by a
        g = g * a
    return y, g


def count_graph_nodes(y) -> int | None:
    """Autograd nodes behind y (torch-style grad_fn.next_functions), AccumulateGrad excluded."""
    root = getattr(y, "grad_fn", None)
    if root is None or not hasattr(root, "next_functions"):
        return None
    keep, seen, stack, count = [], set(), [root], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        keep.append(node)  # keeps wrapper objects alive so ids stay unique
        if type(node).__name__ != "AccumulateGrad":
            count += 1
        stack.extend(nf[0] for nf in getattr(node, "next_functions", ()))
    return count


def setup_deep(ctx: Context) -> Prepared:
    def make(lib):
        def deep_step():
            x, y = _deep_forward(lib, DEEP_STEPS)
            y.backward()
            return y, x.grad

        return deep_step

    prep = Prepared(_fns(ctx, make, lambda: _deep_numpy(DEEP_STEPS)), check=lambda: None)
    prep.check = lambda: run_check(
        prep, "deep", rtol=1e-5, expected_grad=DEEP_A**DEEP_STEPS, expected_rtol=1e-3
    )
    notes: list[str] = []

    def extra_rows() -> list[Row]:
        per_node: dict[str, float | None] = {"torch": None}
        grown, (_, y) = python_heap_growth(lambda: _deep_forward(ctx.gt, DEEP_STEPS))
        per_node["gradienti"] = grown / DEEP_NODES
        del y
        grown, _tape = python_heap_growth(lambda: _deep_numpy_forward(DEEP_STEPS))
        per_node["numpy"] = grown / DEEP_NODES
        del _tape
        if ctx.torch is not None:
            c0 = c_heap_in_use()
            grown, (_, y) = python_heap_growth(lambda: _deep_forward(ctx.torch, DEEP_STEPS))
            c1 = c_heap_in_use()
            del y
            c_txt = "n/a" if c0 is None or c1 is None else f"{(c1 - c0) / DEEP_NODES:.0f}"
            notes.append(
                f"deep memory: torch builds its graph in C++, invisible to tracemalloc "
                f"({grown / DEEP_NODES:.1f} B/node seen), so its column is n/a; malloc in-use "
                f"bytes (glibc mallinfo2) grew {c_txt} B/node while its graph was alive."
            )
        # Node count per step, on a short chain: walking a 100,000-node torch graph from Python
        # creates node wrappers whose presence makes the graph's later deletion recurse (segfault).
        steps = 1000
        counts = {}
        for impl, lib in (("gradienti", ctx.gt), ("torch", ctx.torch)):
            if lib is not None:
                _, y = _deep_forward(lib, steps)
                counts[impl] = count_graph_nodes(y)
                del y
        if counts.get("torch") not in (None, 2 * steps):
            raise CheckError(f"deep: torch built {counts['torch']} nodes for {steps} steps")
        shown = ", ".join(
            f"{k} {'n/a (no grad_fn.next_functions)' if v is None else f'{v:,}'}"
            for k, v in counts.items()
        )
        notes.append(
            f"deep graph: {DEEP_NODES:,} nodes = {DEEP_STEPS:,} steps x (mul, add); grad_fn walk "
            f"of a {steps:,}-step chain counted: {shown} (expected {2 * steps:,})."
        )
        g = per_node["gradienti"]
        met = g <= 200
        return [Row("deep (memory)", "B/node", per_node, "≤ 200 B/node", met)]

    def million() -> list[str]:
        if ctx.quick:
            return notes + ["deep-1M: skipped (--quick)"]
        nodes = 2 * MILLION_STEPS
        t0 = time.perf_counter()
        try:
            x, y = _deep_forward(ctx.gt, MILLION_STEPS)
            y.backward()
            g = to_numpy(x.grad)
        except RecursionError as e:
            raise CheckError(f"deep-1M: RecursionError in gradienti backward: {e}") from e
        dt = time.perf_counter() - t0
        del x, y
        _, ref = _deep_numpy(MILLION_STEPS)
        try:
            np.testing.assert_allclose(g, np.asarray(ref), rtol=1e-4)
        except AssertionError as e:
            raise CheckError(f"deep-1M: gradienti gradient vs numpy:{e}") from e
        return notes + [
            f"deep-1M (untimed, single run): gradienti ran a {nodes:,}-node chain forward + "
            f"backward in {dt:.2f} s ({dt / nodes * 1e6:.2f} µs/node), no RecursionError; "
            f"dx = {float(g):.6g} (numpy {float(ref):.6g})"
        ]

    prep.extra_rows = extra_rows
    prep.notes = million
    return prep


# --------------------------------------------------------------------------- bcast_self
# s = a + b; (s * s).mean((0, 2)).sum() with a (512,1,64), b (1,256,64): the SAME tensor is both
# operands of ``*``, so its backward is one product 2*s*g, and both gradients are broadcast sums.
# d out / d s = 2 s / (512 * 64), the mean's divisor being the two reduced dimensions' sizes.


def setup_bcast_self(ctx: Context) -> Prepared:
    rng = ctx.rng()
    a0 = rng.standard_normal(BCAST_A).astype(F32)
    b0 = rng.standard_normal(BCAST_B).astype(F32)
    count = BCAST_A[0] * BCAST_A[2]

    def make(lib):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)

        def bcast_self_step():
            a.grad = b.grad = None
            total = a + b
            out = (total * total).mean((0, 2)).sum()
            out.backward()
            return out, b.grad

        return bcast_self_step

    def bcast_self_numpy():
        total = a0 + b0
        out = (total * total).mean(axis=(0, 2)).sum()
        d_total = total * F32(2.0 / count)
        d_a = d_total.sum(axis=1, keepdims=True)
        d_b = d_total.sum(axis=0, keepdims=True)
        assert d_a.shape == BCAST_A  # computed, as the libraries compute it; d_b is checked
        return out, d_b

    prep = Prepared(_fns(ctx, make, bcast_self_numpy), check=lambda: None)
    prep.check = lambda: run_check(prep, "bcast_self", rtol=1e-4, atol=1e-7)
    return prep


MS = 1e-3  # the array-heavy workloads report milliseconds

WORKLOADS: list[Workload] = [
    Workload("seed", "µs/iter", 1, 0.12, setup_seed, "5x^3+2x^2+4x+8 at x=2, backward"),
    Workload("chain", "µs/op", CHAIN_OPS, 0.35, setup_chain, "1000 elementwise ops on 16 floats"),
    Workload("deep", "µs/node", DEEP_NODES, 0.25, setup_deep, "100,000-node scalar chain"),
    Workload("mlp", "ms/step", 1, 0.95, setup_mlp, "784-256-10 MLP SGD step", 1.10, MS),
    Workload("matmul", "ms/iter", 1, None, setup_matmul, "sum(A @ B @ C), 2048²", 1.05, MS),
    Workload("bcast", "ms/iter", 1, None, setup_bcast, "(512,1,64)+(1,256,64)", 1.3, MS),
    Workload(
        "bcast_self", "ms/iter", 1, None, setup_bcast_self, "s=a+b; (s*s).mean((0,2))", 1.3, MS
    ),
    Workload("cnn", "ms/step", 1, 1.0, setup_cnn, "two-conv CNN SGD step", None, MS),
]
