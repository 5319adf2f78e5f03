"""The torch.func workloads: per-sample gradients, a Jacobian, a forward-mode JVP, and the memory
that checkpointing saves (see workloads.py for the format).

gradienti runs ``gradienti.func`` and torch runs ``torch.func`` on the same float32 arrays. The
third column differs per row and is named in its description: for ``per_sample`` it is
gradienti's own ordinary batched backward of the same model (the issue's target: vmap(grad) at
most 3x of it), for ``jacrev`` and ``jvp`` hand-written NumPy.
"""

from __future__ import annotations

from typing import Any

import checkpoint_memory
import numpy as np
from harness import CheckError, Context, Prepared, Workload, to_numpy
from workloads import CHAIN_C, CHAIN_CYCLES, CHAIN_D, CHAIN_N, CHAIN_OPS

F32 = np.float32


def _close(name: str, what: str, ours, theirs, rtol: float, atol: float = 1e-6) -> None:
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=rtol, atol=atol):
        worst = np.max(np.abs(ours - theirs)) if ours.shape == theirs.shape else "shape"
        raise CheckError(f"{name}: {what} differ (max abs difference {worst})")


def _check_all(prep: Prepared, name: str, compare) -> None:
    results = {}
    for impl, fn in prep.fns.items():
        results[impl] = fn()
    compare(results)


# --------------------------------------------------------------------------- per_sample
# Per-sample gradients of a 784-256-10 MLP (ReLU, cross-entropy) over a batch of 64:
# vmap(grad(loss of one sample)) with functional_call, as PyTorch's per-sample-gradients
# tutorial writes it.
PS_BATCH, PS_IN, PS_HIDDEN, PS_OUT = 64, 784, 256, 10


def setup_per_sample(ctx: Context) -> Prepared:
    rng = ctx.rng()
    x0 = rng.standard_normal((PS_BATCH, PS_IN)).astype(F32)
    labels = rng.integers(0, PS_OUT, PS_BATCH)
    bound1, bound2 = 1 / np.sqrt(PS_IN), 1 / np.sqrt(PS_HIDDEN)
    weights = {
        "0.weight": rng.uniform(-bound1, bound1, (PS_HIDDEN, PS_IN)).astype(F32),
        "0.bias": rng.uniform(-bound1, bound1, PS_HIDDEN).astype(F32),
        "2.weight": rng.uniform(-bound2, bound2, (PS_OUT, PS_HIDDEN)).astype(F32),
        "2.bias": rng.uniform(-bound2, bound2, PS_OUT).astype(F32),
    }

    def model_of(lib):
        nn = lib.nn
        model = nn.Sequential(nn.Linear(PS_IN, PS_HIDDEN), nn.ReLU(), nn.Linear(PS_HIDDEN, PS_OUT))
        model.load_state_dict({k: lib.tensor(v.copy()) for k, v in weights.items()})
        return model

    def make(lib):
        model = model_of(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}
        cross_entropy = lib.nn.functional.cross_entropy

        def loss_of_one(p, x, y):
            out = lib.func.functional_call(model, p, (x.unsqueeze(0),))
            return cross_entropy(out, y.unsqueeze(0))

        per_sample = lib.func.vmap(lib.func.grad(loss_of_one), in_dims=(None, 0, 0))
        x, y = lib.tensor(x0), lib.tensor(labels)

        def per_sample_step():
            grads = per_sample(params, x, y)
            return grads["2.bias"], grads["0.weight"]

        return per_sample_step

    gt = ctx.gt
    batched_model = model_of(gt)
    bx, by = gt.tensor(x0), gt.tensor(labels)
    first = batched_model[0].weight

    def batched_backward():  # the ordinary batched backward of the mean loss, for the ratio
        batched_model.zero_grad()
        loss = gt.nn.functional.cross_entropy(batched_model(bx), by)
        loss.backward()
        return loss, first.grad

    fns: dict[str, Any] = {"gradienti": make(gt)}
    if ctx.torch is not None:
        fns["torch"] = make(ctx.torch)
    fns["numpy"] = batched_backward

    def compare(results):
        ours = results["gradienti"]
        if "torch" in results:
            _close("per_sample", "per-sample bias gradients", ours[0], results["torch"][0], 1e-4)
            _close("per_sample", "per-sample weight gradients", ours[1], results["torch"][1], 1e-4)
        # The batched backward of the mean loss is the mean of the per-sample gradients.
        mean = to_numpy(ours[1]).mean(axis=0)
        _close("per_sample", "mean per-sample vs batched gradient", mean, results["numpy"][1], 1e-3)

    return _prepared(fns, compare, "per_sample")


def _prepared(fns, compare, name) -> Prepared:
    prep = Prepared(fns, check=lambda: None)
    prep.check = lambda: _check_all(prep, name, compare)
    return prep


def _compare_pairwise(name: str, rtol: float):
    """Every implementation's (output, derivative) against gradienti's."""

    def compare(results):
        out, derivative = results["gradienti"]
        for impl, (other_out, other_derivative) in results.items():
            _close(name, f"outputs (gradienti vs {impl})", out, other_out, rtol)
            _close(name, f"derivatives (gradienti vs {impl})", derivative, other_derivative, rtol)

    return compare


# --------------------------------------------------------------------------- jacrev
# The Jacobian of a 100 -> 100 tanh MLP, f(x) = W2 tanh(W1 x + b1) + b2, by jacrev.
JAC_N = 100


def setup_jacrev(ctx: Context) -> Prepared:
    rng = ctx.rng()
    bound = 1 / np.sqrt(JAC_N)
    w1, w2 = (rng.uniform(-bound, bound, (JAC_N, JAC_N)).astype(F32) for _ in range(2))
    b1, b2 = (rng.uniform(-bound, bound, JAC_N).astype(F32) for _ in range(2))
    x0 = rng.standard_normal(JAC_N).astype(F32)

    def make(lib):
        W1, W2, B1, B2, x = (lib.tensor(a) for a in (w1, w2, b1, b2, x0))

        def f(x):
            return W2 @ (W1 @ x + B1).tanh() + B2

        jacobian = lib.func.jacrev(f)

        def jacrev_step():
            return f(x), jacobian(x)

        return jacrev_step

    def jacrev_numpy():
        hidden = np.tanh(w1 @ x0 + b1)
        return w2 @ hidden + b2, (w2 * (1 - hidden * hidden)) @ w1  # W2 diag(tanh') W1

    fns: dict[str, Any] = {"gradienti": make(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make(ctx.torch)
    fns["numpy"] = jacrev_numpy
    return _prepared(fns, _compare_pairwise("jacrev", 1e-4), "jacrev")


# --------------------------------------------------------------------------- jvp
# The chain workload (1000 elementwise ops on 16 floats, see workloads.py) differentiated in
# forward mode: jvp(f, (x,), (v,)) carries one tangent through the 1000 ops.


def setup_jvp(ctx: Context) -> Prepared:
    rng = ctx.rng()
    x0 = rng.uniform(-0.25, 0.25, CHAIN_N).astype(F32)
    c0 = rng.uniform(*CHAIN_C, CHAIN_N).astype(F32)
    d0 = np.full(CHAIN_N, CHAIN_D, dtype=F32)
    v0 = rng.uniform(0.5, 1.5, CHAIN_N).astype(F32)

    def make(lib):
        c, d, x, v = lib.tensor(c0), lib.tensor(d0), lib.tensor(x0), lib.tensor(v0)

        def chain(y):
            for _ in range(CHAIN_CYCLES):
                y = (y * c).tanh().exp().log().sigmoid() + d
            return (y * c).tanh().exp().log()

        def jvp_step():
            return lib.func.jvp(chain, (x,), (v,))

        return jvp_step

    def jvp_numpy():  # the tangent carried by hand: each op's derivative times the tangent
        y, t = x0, v0
        for cycle in range(CHAIN_CYCLES + 1):
            y, t = y * c0, t * c0
            y = np.tanh(y)
            t = t * (1 - y * y)
            y = np.exp(y)
            t = t * y
            t = t / y
            y = np.log(y)
            if cycle == CHAIN_CYCLES:
                break
            y = 1 / (1 + np.exp(-y))
            t = t * y * (1 - y)
            y = y + d0
        return y, t

    fns: dict[str, Any] = {"gradienti": make(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make(ctx.torch)
    fns["numpy"] = jvp_numpy
    return _prepared(fns, _compare_pairwise("jvp", 1e-4), "jvp")


JVP_OPS = CHAIN_OPS


# --------------------------------------------------------------------------- checkpoint
# Forward + backward of a deep MLP through checkpoint_sequential (non-reentrant): the time the
# recomputation costs, against torch.utils.checkpoint and (numpy column) gradienti without
# checkpointing; the notes give the peak memory with and without (checkpoint_memory.py).
CK_LAYERS, CK_WIDTH, CK_BATCH, CK_SEGMENTS = 16, 256, 512, 4


def setup_checkpoint(ctx: Context) -> Prepared:
    rng = ctx.rng()
    x0 = rng.standard_normal((CK_BATCH, CK_WIDTH)).astype(F32)
    bound = 1 / np.sqrt(CK_WIDTH)
    arrays = {}
    for layer in range(CK_LAYERS):
        arrays[f"{2 * layer}.weight"] = rng.uniform(-bound, bound, (CK_WIDTH, CK_WIDTH))
        arrays[f"{2 * layer}.bias"] = rng.uniform(-bound, bound, CK_WIDTH)

    def model_of(lib):
        blocks = []
        for _ in range(CK_LAYERS):
            blocks += [lib.nn.Linear(CK_WIDTH, CK_WIDTH), lib.nn.ReLU()]
        model = lib.nn.Sequential(*blocks)
        model.load_state_dict({k: lib.tensor(v.astype(F32)) for k, v in arrays.items()})
        return model

    def make(lib, checkpointed=True):
        model, x = model_of(lib), lib.tensor(x0)
        first = model[0].weight
        sequential = lib.utils.checkpoint.checkpoint_sequential

        def checkpoint_step():
            model.zero_grad()
            if checkpointed:
                out = sequential(model, CK_SEGMENTS, x, use_reentrant=False)
            else:
                out = model(x)
            loss = out.square().mean()
            loss.backward()
            return loss, first.grad

        return checkpoint_step

    fns: dict[str, Any] = {"gradienti": make(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make(ctx.torch)
    fns["numpy"] = make(ctx.gt, checkpointed=False)
    prep = _prepared(fns, _compare_pairwise("checkpoint", 1e-4), "checkpoint")
    prep.notes = _memory_notes
    return prep


def _memory_notes() -> list[str]:
    result = checkpoint_memory.measure()
    mib = 1024 * 1024
    return [
        f"checkpoint memory: MLP of {result['layers']} Linear({result['width']}) + ReLU blocks, "
        f"batch {result['batch']}, {result['segments']} segments: peak "
        f"{result['peak_bytes_without'] / mib:.1f} MiB without, "
        f"{result['peak_bytes_with'] / mib:.1f} MiB with checkpointing "
        f"(ratio {result['ratio']:.2f}; the same gradients)"
    ]


MS = 1e-3

FUNC_WORKLOADS: list[Workload] = [
    Workload(
        "per_sample",
        "ms/batch",
        1,
        1.5,
        setup_per_sample,
        "vmap(grad) of a 784-256-10 MLP, batch 64 (numpy column: one batched backward)",
        3.0,
        MS,
    ),
    Workload("jacrev", "ms/iter", 1, 1.0, setup_jacrev, "jacrev of a 100->100 tanh MLP", None, MS),
    Workload("jvp", "µs/op", JVP_OPS, 0.5, setup_jvp, "jvp through the chain workload's 1000 ops"),
    Workload(
        "checkpoint",
        "ms/step",
        1,
        None,
        setup_checkpoint,
        "16x256 MLP fwd+bwd, checkpoint_sequential (numpy column: gradienti unchecked)",
        None,
        MS,
    ),
]
