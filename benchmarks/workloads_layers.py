"""The layer workloads: layernorm, dwconv, conv2d, batchnorm, attention (see workloads.py).

Forward and backward of one layer where PyTorch runs a fused kernel: each library's module (or
expression) gets the same weights and input, the loss is ``(output * upstream).sum()`` with a
non-uniform ``upstream`` gradient, and the hand-written NumPy reference does the same forward
and backward by hand. Before timing, the loss, the input's gradient and the weight's gradient
of the three implementations are checked against each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from harness import Context, Prepared, Workload, check_results, timed_call

F32 = np.float32
MS = 1e-3


def _uniform(rng, shape, fan_in: int) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(F32)


def _module_step(lib, module, state: dict[str, Any], x0: np.ndarray, upstream: np.ndarray):
    """One forward+backward of ``module`` at ``x0``; returns (loss, x.grad, weight.grad)."""
    module.load_state_dict({name: lib.tensor(np.copy(value)) for name, value in state.items()})
    x = lib.tensor(x0, requires_grad=True)
    up = lib.tensor(upstream)

    def layer_step():
        x.grad = None
        module.zero_grad()
        loss = (module(x) * up).sum()
        loss.backward()
        return loss, x.grad, module.weight.grad

    return layer_step


def _prepared(ctx: Context, name: str, make_lib, numpy_fn, **tolerance) -> Prepared:
    """The three implementations and a check of (loss, input gradient, weight gradient)."""
    fns = {"gradienti": make_lib(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make_lib(ctx.torch)
    fns["numpy"] = numpy_fn
    prep = Prepared(fns, check=lambda: None)

    def check():
        results = {}
        for impl, fn in prep.fns.items():
            results[impl], prep.first_call_s[impl] = timed_call(fn)
        for label, index in (("input gradient", 1), ("weight gradient", 2)):
            pairs = {impl: (r[0], r[index]) for impl, r in results.items()}
            check_results(f"{name} ({label})", pairs, **tolerance)

    prep.check = check
    return prep


# --------------------------------------------------------------------------- layernorm
# nn.LayerNorm(256) on (64, 128, 256): per row, mean and biased variance over the last axis,
# x̂ = (x - mean) / sqrt(var + eps), y = x̂ w + b.
LN_SHAPE, LN_EPS = (64, 128, 256), 1e-5


def setup_layernorm(ctx: Context) -> Prepared:
    rng = ctx.rng()
    features = LN_SHAPE[-1]
    x0 = rng.standard_normal(LN_SHAPE).astype(F32)
    upstream = rng.standard_normal(LN_SHAPE).astype(F32)
    state = {
        "weight": rng.uniform(0.5, 1.5, features).astype(F32),
        "bias": rng.uniform(-0.5, 0.5, features).astype(F32),
    }

    def make(lib):
        return _module_step(lib, lib.nn.LayerNorm(features), state, x0, upstream)

    weight, bias = state["weight"], state["bias"]

    def layernorm_numpy():
        mean = x0.mean(axis=-1, keepdims=True)
        centred = x0 - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        rstd = 1 / np.sqrt(var + F32(LN_EPS))
        x_hat = centred * rstd
        loss = ((x_hat * weight + bias) * upstream).sum()
        # backward: dx = rstd (g - mean(g) - x̂ mean(g x̂)) with g = dy w, means over the row
        d_weight = (upstream * x_hat).sum(axis=(0, 1))
        d_bias = upstream.sum(axis=(0, 1))
        g = upstream * weight
        d_x = rstd * (
            g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True)
        )
        assert d_bias.shape == bias.shape  # computed, as the libraries compute it
        return loss, d_x, d_weight

    return _prepared(ctx, "layernorm", make, layernorm_numpy, rtol=1e-3, atol=1e-4)


# --------------------------------------------------------------------------- dwconv
# Depthwise nn.Conv2d(64, 64, 3, groups=64) on (32, 64, 28, 28), no padding: every channel is
# convolved with its own 3x3 kernel, y[n,c] = b[c] + sum_ij w[c,0,i,j] x[n,c,i:i+26,j:j+26].
DW_SHAPE, DW_K = (32, 64, 28, 28), 3


def setup_dwconv(ctx: Context) -> Prepared:
    rng = ctx.rng()
    batch, channels, size, _ = DW_SHAPE
    out_size = size - DW_K + 1
    x0 = rng.standard_normal(DW_SHAPE).astype(F32)
    upstream = rng.standard_normal((batch, channels, out_size, out_size)).astype(F32)
    state = {
        "weight": _uniform(rng, (channels, 1, DW_K, DW_K), DW_K * DW_K),
        "bias": _uniform(rng, (channels,), DW_K * DW_K),
    }

    def make(lib):
        module = lib.nn.Conv2d(channels, channels, DW_K, groups=channels)
        return _module_step(lib, module, state, x0, upstream)

    taps = [(i, j) for i in range(DW_K) for j in range(DW_K)]
    weight = state["weight"][:, 0]  # (channels, 3, 3)
    bias = state["bias"][:, None, None]

    def window(array, i, j):
        return array[:, :, i : i + out_size, j : j + out_size]

    def dwconv_numpy():
        # forward: the sum of 9 shifted slices, each scaled per channel
        out = np.empty_like(upstream)
        out[...] = bias
        for i, j in taps:
            out += window(x0, i, j) * weight[:, i, j, None, None]
        loss = (out * upstream).sum()
        # backward: each tap scatters upstream * w back onto its slice; dw[c,i,j] is the
        # per-channel dot product of upstream with that slice
        d_x = np.zeros_like(x0)
        d_weight = np.empty((channels, 1, DW_K, DW_K), dtype=F32)
        for i, j in taps:
            window(d_x, i, j)[...] += upstream * weight[:, i, j, None, None]
            d_weight[:, 0, i, j] = np.einsum("nchw,nchw->c", upstream, window(x0, i, j))
        d_bias = upstream.sum(axis=(0, 2, 3))
        assert d_bias.shape == (channels,)  # computed, as the libraries compute it
        return loss, d_x, d_weight

    return _prepared(ctx, "dwconv", make, dwconv_numpy, rtol=1e-3, atol=1e-3)


# --------------------------------------------------------------------------- conv2d
# nn.Conv2d(16, 32, 3, padding=1) on (64, 16, 14, 14); the NumPy reference is im2col: the
# windows as a (N*14*14, 16*9) matrix, one product forward and two backward.
CONV_SHAPE, CONV_OUT, CONV_K = (64, 16, 14, 14), 32, 3


def setup_conv2d(ctx: Context) -> Prepared:
    rng = ctx.rng()
    batch, channels, size, _ = CONV_SHAPE
    fan_in = channels * CONV_K * CONV_K
    x0 = rng.standard_normal(CONV_SHAPE).astype(F32)
    upstream = rng.standard_normal((batch, CONV_OUT, size, size)).astype(F32)
    state = {
        "weight": _uniform(rng, (CONV_OUT, channels, CONV_K, CONV_K), fan_in),
        "bias": _uniform(rng, (CONV_OUT,), fan_in),
    }

    def make(lib):
        module = lib.nn.Conv2d(channels, CONV_OUT, CONV_K, padding=1)
        return _module_step(lib, module, state, x0, upstream)

    weight_matrix = state["weight"].reshape(CONV_OUT, fan_in)
    bias = state["bias"]
    rows = batch * size * size
    # upstream as (N*H*W, out channels), the layout of the product's result
    upstream_rows = np.ascontiguousarray(upstream.transpose(0, 2, 3, 1)).reshape(rows, CONV_OUT)

    def conv2d_numpy():
        padded = np.pad(x0, ((0, 0), (0, 0), (1, 1), (1, 1)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (CONV_K, CONV_K), axis=(2, 3))
        columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(rows, fan_in)  # copies
        out_rows = columns @ weight_matrix.T + bias
        loss = (out_rows * upstream_rows).sum()
        # backward: dW = dyᵀ cols, dcols = dy W, then each window's gradient added back
        d_weight = (upstream_rows.T @ columns).reshape(state["weight"].shape)
        d_bias = upstream_rows.sum(axis=0)
        d_columns = (upstream_rows @ weight_matrix).reshape(
            batch, size, size, channels, CONV_K, CONV_K
        )
        d_padded = np.zeros_like(padded)
        for i in range(CONV_K):
            for j in range(CONV_K):
                d_padded[:, :, i : i + size, j : j + size] += d_columns[..., i, j].transpose(
                    0, 3, 1, 2
                )
        assert d_bias.shape == bias.shape  # computed, as the libraries compute it
        return loss, d_padded[:, :, 1:-1, 1:-1], d_weight

    return _prepared(ctx, "conv2d", make, conv2d_numpy, rtol=1e-3, atol=2e-3)


# --------------------------------------------------------------------------- batchnorm
# nn.BatchNorm2d(32) in training mode on (64, 32, 14, 14): batch statistics over (N, H, W),
# x̂ = (x - mean) / sqrt(var + eps), y = x̂ w + b, and the running statistics updated with
# momentum 0.1 (the running variance unbiased).
BN_SHAPE, BN_EPS, BN_MOMENTUM = (64, 32, 14, 14), 1e-5, 0.1


def setup_batchnorm(ctx: Context) -> Prepared:
    rng = ctx.rng()
    channels = BN_SHAPE[1]
    x0 = rng.standard_normal(BN_SHAPE).astype(F32)
    upstream = rng.standard_normal(BN_SHAPE).astype(F32)
    state = {
        "weight": rng.uniform(0.5, 1.5, channels).astype(F32),
        "bias": rng.uniform(-0.5, 0.5, channels).astype(F32),
        "running_mean": np.zeros(channels, dtype=F32),
        "running_var": np.ones(channels, dtype=F32),
        "num_batches_tracked": np.array(0, dtype=np.int64),
    }

    def make(lib):
        return _module_step(lib, lib.nn.BatchNorm2d(channels), state, x0, upstream)

    weight = state["weight"][:, None, None]
    bias = state["bias"][:, None, None]
    running_mean, running_var = state["running_mean"].copy(), state["running_var"].copy()
    axes = (0, 2, 3)
    count = x0.size // channels
    momentum = F32(BN_MOMENTUM)

    def batchnorm_numpy():
        mean = x0.mean(axis=axes, keepdims=True)
        centred = x0 - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        rstd = 1 / np.sqrt(var + F32(BN_EPS))
        x_hat = centred * rstd
        loss = ((x_hat * weight + bias) * upstream).sum()
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean.ravel()
        running_var[...] = (1 - momentum) * running_var + momentum * var.ravel() * F32(
            count / (count - 1)
        )
        # backward: dx = w rstd (dy - mean(dy) - x̂ mean(dy x̂)), means over (N, H, W)
        d_bias = upstream.sum(axis=axes)
        d_weight = (upstream * x_hat).sum(axis=axes)
        d_x = (weight * rstd) * (
            upstream
            - (d_bias / F32(count))[:, None, None]
            - x_hat * (d_weight / F32(count))[:, None, None]
        )
        return loss, d_x, d_weight

    return _prepared(ctx, "batchnorm", make, batchnorm_numpy, rtol=1e-3, atol=1e-4)


# --------------------------------------------------------------------------- attention
# softmax(Q Kᵀ / √d) V for Q, K, V of shape (16, 4, 64, 32) (batch, heads, tokens, d), all
# requiring grad; the checked gradients are dQ and dK (dV is computed as well).
ATTN_SHAPE = (16, 4, 64, 32)


def setup_attention(ctx: Context) -> Prepared:
    rng = ctx.rng()
    q0, k0, v0 = (rng.standard_normal(ATTN_SHAPE).astype(F32) for _ in range(3))
    upstream = rng.standard_normal(ATTN_SHAPE).astype(F32)
    scale = F32(1 / np.sqrt(ATTN_SHAPE[-1]))

    def make(lib):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in (q0, k0, v0))
        up = lib.tensor(upstream)

        def attention_step():
            q.grad = k.grad = v.grad = None
            scores = (q @ k.transpose(-2, -1)) * float(scale)
            loss = (scores.softmax(-1) @ v * up).sum()
            loss.backward()
            return loss, q.grad, k.grad

        return attention_step

    def attention_numpy():
        scores = (q0 @ k0.swapaxes(-2, -1)) * scale
        exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = exp / exp.sum(axis=-1, keepdims=True)
        loss = (probs @ v0 * upstream).sum()
        # backward: softmax's VJP is P (dP - rowsum(dP P))
        d_v = probs.swapaxes(-2, -1) @ upstream
        d_probs = upstream @ v0.swapaxes(-2, -1)
        d_scores = probs * (d_probs - (d_probs * probs).sum(axis=-1, keepdims=True))
        d_scores *= scale
        d_q = d_scores @ k0
        d_k = d_scores.swapaxes(-2, -1) @ q0
        assert d_v.shape == ATTN_SHAPE  # computed, as the libraries compute it
        return loss, d_q, d_k

    return _prepared(ctx, "attention", make, attention_numpy, rtol=1e-3, atol=1e-4)


LAYER_WORKLOADS: list[Workload] = [
    Workload(
        "layernorm", "ms/iter", 1, 2.0, setup_layernorm, "LayerNorm(256), (64,128,256)", 1.2, MS
    ),
    Workload(
        "dwconv",
        "ms/iter",
        1,
        2.0,
        setup_dwconv,
        "Conv2d(64,64,3,groups=64), (32,64,28,28)",
        1.2,
        MS,
    ),
    Workload(
        "conv2d",
        "ms/iter",
        1,
        1.2,
        setup_conv2d,
        "Conv2d(16,32,3,padding=1), (64,16,14,14)",
        1.2,
        MS,
    ),
    Workload(
        "batchnorm", "ms/iter", 1, 1.2, setup_batchnorm, "BatchNorm2d(32), (64,32,14,14)", 1.2, MS
    ),
    Workload(
        "attention", "ms/iter", 1, 1.2, setup_attention, "softmax(QKᵀ/√d)V, (16,4,64,32)", 1.2, MS
    ),
]
