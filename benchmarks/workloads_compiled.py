"""The compiled workloads: seed, chain and mlp with gradienti.compile (see workloads.py for
the format). PyTorch runs them eagerly, as in the eager workloads (the targets compare with
eager torch, not torch.compile), and NumPy is the eager workloads' hand-written
forward+backward: both are taken from those workloads' setups (the same seeded inputs).

gradienti's first call of a compiled function traces it (an eager call); each check makes
one call of every implementation first, so that the call checked is a replay of the compiled
program, and it fails if that call did not replay (``gradienti.compiler.stats``).
"""

from __future__ import annotations

import numpy as np
from harness import CheckError, Context, Prepared, Workload, run_check
from workloads import (
    CHAIN_C,
    CHAIN_CYCLES,
    CHAIN_D,
    CHAIN_N,
    CHAIN_OPS,
    MS,
    setup_chain,
    setup_seed,
)
from workloads_nn import MLP_LR, _sgd_step, mlp_data, mlp_model, setup_mlp

F32 = np.float32


def _prepared(ctx: Context, eager: Prepared, compiled_step, compiled, name, **check) -> Prepared:
    """gradienti's compiled step beside the eager setup's torch and NumPy steps."""
    fns = {"gradienti": compiled_step}
    fns.update((impl, fn) for impl, fn in eager.fns.items() if impl != "gradienti")
    prep = Prepared(fns, check=lambda: None)

    def check_replay():
        for fn in prep.fns.values():
            fn()  # gradienti's traces; every implementation takes its first step
        run_check(prep, name, **check)
        stats = ctx.gt.compiler.stats(compiled)
        if stats.graph_break is not None or stats.compiled_calls == 0:
            raise CheckError(f"{name}: gradienti.compile did not replay ({stats})")

    prep.check = check_replay
    return prep


# --------------------------------------------------------------------------- seed
def setup_seed_compiled(ctx: Context) -> Prepared:
    gt = ctx.gt

    @gt.compile
    def polynomial(x):
        return 5 * x**3 + 2 * x**2 + 4 * x + 8

    def seed_step():
        x = gt.tensor(2.0, requires_grad=True)
        y = polynomial(x)
        y.backward()
        return y, x.grad

    eager = setup_seed(ctx)
    return _prepared(
        ctx, eager, seed_step, polynomial, "seed_compiled", rtol=1e-5, expected_grad=72.0
    )


# --------------------------------------------------------------------------- chain
def setup_chain_compiled(ctx: Context) -> Prepared:
    gt = ctx.gt
    rng = ctx.rng()  # drawn as setup_chain draws them
    x0 = rng.uniform(-0.25, 0.25, CHAIN_N).astype(F32)
    c0 = rng.uniform(*CHAIN_C, CHAIN_N).astype(F32)
    c, d = gt.tensor(c0), gt.tensor(np.full(CHAIN_N, CHAIN_D, dtype=F32))

    @gt.compile
    def chain(x):
        y = x
        for _ in range(CHAIN_CYCLES):
            y = (y * c).tanh().exp().log().sigmoid() + d
        y = (y * c).tanh().exp().log()
        return y.sum()

    def chain_step():
        x = gt.tensor(x0, requires_grad=True)
        s = chain(x)
        s.backward()
        return s, x.grad

    eager = setup_chain(ctx)
    # The eager chain's tolerance (workloads.py says why).
    return _prepared(ctx, eager, chain_step, chain, "chain_compiled", rtol=5e-4)


# --------------------------------------------------------------------------- mlp
def setup_mlp_compiled(ctx: Context) -> Prepared:
    """The mlp SGD step with the model compiled; the loss and the optimizer eager."""
    gt = ctx.gt
    eager = setup_mlp(ctx)
    x0, labels, weights = mlp_data(ctx)  # setup_mlp's
    model = mlp_model(gt)
    compiled = gt.compile(model)
    sgd_step = _sgd_step(gt, model, weights, x0, labels, MLP_LR, run=compiled)
    return _prepared(
        ctx, eager, sgd_step, compiled, "mlp_compiled", rtol=2e-4, atol=1e-6, nonzero=False
    )


COMPILED_WORKLOADS: list[Workload] = [
    Workload(
        "seed_compiled", "µs/iter", 1, 0.05, setup_seed_compiled, "seed, the polynomial compiled"
    ),
    Workload(
        "chain_compiled",
        "µs/op",
        CHAIN_OPS,
        0.25,
        setup_chain_compiled,
        "chain's 1000 ops compiled",
    ),
    Workload(
        "mlp_compiled",
        "ms/step",
        1,
        None,
        setup_mlp_compiled,
        "mlp SGD step, the model compiled",
        1.0,
        MS,
    ),
]
