"""The array-heavy workloads: mlp, matmul, bcast, cnn (see workloads.py for the format).

Here the arithmetic, not Python, should dominate: gradienti is compared with hand-written NumPy
(the same BLAS calls, nothing else) and with PyTorch. Every implementation starts from the same
float32 arrays, so the first call of each is checked against the others before timing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from harness import Context, Prepared, run_check

F32 = np.float32


def _fns(ctx: Context, make_lib, numpy_fn=None) -> dict[str, Any]:
    fns = {"gradienti": make_lib(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make_lib(ctx.torch)
    if numpy_fn is not None:
        fns["numpy"] = numpy_fn
    return fns


def _load(lib, module, arrays: dict[str, np.ndarray]) -> None:
    """Give ``module`` (gradienti or torch) the shared initial weights."""
    module.load_state_dict({name: lib.tensor(value.copy()) for name, value in arrays.items()})


def _sgd_step(lib, model, weights: dict, x0: np.ndarray, labels: np.ndarray, lr: float, run=None):
    """One training step of ``model`` (shared initial ``weights``): zero_grad, cross-entropy,
    backward, SGD step; returns (loss, the first layer's weight gradient). ``run`` calls the
    model in the step (``gradienti.compile(model)``); None: the model itself."""
    _load(lib, model, weights)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr)
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = lib.tensor(x0), lib.tensor(labels)
    first = model[0].weight
    forward = model if run is None else run

    def sgd_step():
        optimizer.zero_grad()
        loss = loss_fn(forward(x), y)
        loss.backward()
        optimizer.step()
        return loss, first.grad

    return sgd_step


def _uniform(rng, shape, fan_in: int) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(F32)


# --------------------------------------------------------------------------- mlp
# One SGD step of a 784-256-10 MLP (ReLU, cross-entropy) on a batch of 128.
MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT = 128, 784, 256, 10
MLP_LR = 0.01


def mlp_data(ctx: Context) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The mlp workloads' inputs, labels and initial weights (the same for each that draws
    them from a fresh ``ctx.rng()``)."""
    rng = ctx.rng()
    x0 = rng.standard_normal((MLP_BATCH, MLP_IN)).astype(F32)
    labels = rng.integers(0, MLP_OUT, MLP_BATCH)
    weights = {
        "0.weight": _uniform(rng, (MLP_HIDDEN, MLP_IN), MLP_IN),
        "0.bias": _uniform(rng, (MLP_HIDDEN,), MLP_IN),
        "2.weight": _uniform(rng, (MLP_OUT, MLP_HIDDEN), MLP_HIDDEN),
        "2.bias": _uniform(rng, (MLP_OUT,), MLP_HIDDEN),
    }
    return x0, labels, weights


def mlp_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(MLP_IN, MLP_HIDDEN), nn.ReLU(), nn.Linear(MLP_HIDDEN, MLP_OUT))


def setup_mlp(ctx: Context) -> Prepared:
    x0, labels, weights = mlp_data(ctx)

    def make(lib):
        return _sgd_step(lib, mlp_model(lib), weights, x0, labels, MLP_LR)

    w1, b1 = weights["0.weight"].copy(), weights["0.bias"].copy()
    w2, b2 = weights["2.weight"].copy(), weights["2.bias"].copy()
    rows = np.arange(MLP_BATCH)

    def mlp_numpy():
        # forward
        pre = x0 @ w1.T + b1
        hidden = np.maximum(pre, 0)
        logits = hidden @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = np.log(total[:, 0]).mean() - shifted[rows, labels].mean()
        # backward: d loss / d logits = (softmax - one_hot) / batch
        d_logits = exp / total
        d_logits[rows, labels] -= 1
        d_logits /= MLP_BATCH
        d_w2 = d_logits.T @ hidden
        d_b2 = d_logits.sum(axis=0)
        d_hidden = d_logits @ w2
        d_hidden *= pre > 0
        d_w1 = d_hidden.T @ x0
        d_b1 = d_hidden.sum(axis=0)
        # SGD step, in place
        for param, grad in ((w1, d_w1), (b1, d_b1), (w2, d_w2), (b2, d_b2)):
            param -= MLP_LR * grad
        return loss, d_w1

    prep = Prepared(_fns(ctx, make, mlp_numpy), check=lambda: None)
    prep.check = lambda: run_check(prep, "mlp", rtol=2e-4, atol=1e-6, nonzero=False)
    return prep


# --------------------------------------------------------------------------- matmul
# sum(A @ B @ C) for 2048x2048 float32 matrices, all three requiring grad: 2 matmuls forward,
# 4 backward (the gradient of the sum is a matrix of ones).
MATMUL_N = 2048


def setup_matmul(ctx: Context) -> Prepared:
    rng = ctx.rng()
    scale = 1.0 / np.sqrt(MATMUL_N)
    a0, b0, c0 = ((rng.standard_normal((MATMUL_N, MATMUL_N)) * scale).astype(F32) for _ in range(3))

    def make(lib):
        a, b, c = (lib.tensor(m, requires_grad=True) for m in (a0, b0, c0))

        def matmul_step():
            a.grad = b.grad = c.grad = None
            out = (a @ b @ c).sum()
            out.backward()
            return out, a.grad

        return matmul_step

    def matmul_numpy():
        ab = a0 @ b0
        out = (ab @ c0).sum()
        ones = np.ones((MATMUL_N, MATMUL_N), dtype=F32)  # d out / d (ab @ c)
        d_ab = ones @ c0.T
        d_c = ab.T @ ones
        d_a = d_ab @ b0.T
        d_b = a0.T @ d_ab
        assert d_b.shape == d_c.shape  # computed, as the libraries compute them; d_a is checked
        return out, d_a

    prep = Prepared(_fns(ctx, make, matmul_numpy), check=lambda: None)
    prep.check = lambda: run_check(prep, "matmul", rtol=2e-3, atol=1e-3, nonzero=False)
    return prep


# --------------------------------------------------------------------------- bcast
# ((a + b) ** 2).mean over the two broadcast dimensions, summed; a (512,1,64), b (1,256,64):
# the (512,256,64) intermediate is 32 MiB of float32, and both gradients are broadcast sums.
BCAST_A, BCAST_B = (512, 1, 64), (1, 256, 64)


def setup_bcast(ctx: Context) -> Prepared:
    rng = ctx.rng()
    a0 = rng.standard_normal(BCAST_A).astype(F32)
    b0 = rng.standard_normal(BCAST_B).astype(F32)
    count = BCAST_A[0] * BCAST_B[1]

    def make(lib):
        a, b = lib.tensor(a0, requires_grad=True), lib.tensor(b0, requires_grad=True)

        def bcast_step():
            a.grad = b.grad = None
            out = ((a + b) ** 2).mean(dim=(0, 1)).sum()
            out.backward()
            return out, b.grad

        return bcast_step

    def bcast_numpy():
        total = a0 + b0
        out = (total * total).mean(axis=(0, 1)).sum()
        d_total = total * F32(2.0 / count)
        d_a = d_total.sum(axis=1, keepdims=True)
        d_b = d_total.sum(axis=0, keepdims=True)
        assert d_a.shape == BCAST_A  # computed, as the libraries compute it; d_b is checked
        return out, d_b

    prep = Prepared(_fns(ctx, make, bcast_numpy), check=lambda: None)
    prep.check = lambda: run_check(prep, "bcast", rtol=1e-4, atol=1e-7)
    return prep


# --------------------------------------------------------------------------- cnn
# One SGD step of conv(1->16, 3x3, pad 1) - ReLU - maxpool 2 - conv(16->32, 3x3, pad 1) - ReLU -
# maxpool 2 - linear(32*7*7 -> 10), cross-entropy, on a batch of 64 28x28 images.
CNN_BATCH, CNN_SIZE, CNN_CLASSES = 64, 28, 10
CNN_LR = 0.01


def setup_cnn(ctx: Context) -> Prepared:
    rng = ctx.rng()
    x0 = rng.standard_normal((CNN_BATCH, 1, CNN_SIZE, CNN_SIZE)).astype(F32)
    labels = rng.integers(0, CNN_CLASSES, CNN_BATCH)
    flat = 32 * (CNN_SIZE // 4) ** 2
    weights = {
        "0.weight": _uniform(rng, (16, 1, 3, 3), 9),
        "0.bias": _uniform(rng, (16,), 9),
        "3.weight": _uniform(rng, (32, 16, 3, 3), 16 * 9),
        "3.bias": _uniform(rng, (32,), 16 * 9),
        "7.weight": _uniform(rng, (CNN_CLASSES, flat), flat),
        "7.bias": _uniform(rng, (CNN_CLASSES,), flat),
    }

    def make(lib):
        nn = lib.nn
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(flat, CNN_CLASSES),
        )
        return _sgd_step(lib, model, weights, x0, labels, CNN_LR)

    prep = Prepared(_fns(ctx, make), check=lambda: None)
    prep.check = lambda: run_check(prep, "cnn", rtol=1e-3, atol=1e-5, nonzero=False)
    return prep
