"""The sequence-model workloads: lstm, transformer (see workloads.py for the format).

One SGD training step of a recurrent and of an attention model, at sizes a learner trains on a
laptop. Both libraries start from the same weights (gradienti's same-seed initialisation, loaded
into PyTorch's module through its ``state_dict``, so the parameter names must match too) and
the same batch; the loss and one weight gradient are checked against each other before timing.
"""

from __future__ import annotations

import numpy as np
from harness import Context, Prepared, Workload, run_check

F32 = np.float32
MS = 1e-3
SEQ_LR = 0.01


def _shared_weights(ctx: Context, make_module) -> dict[str, np.ndarray]:
    """gradienti's same-seed initial weights of ``make_module(gradienti)``, as arrays."""
    ctx.gt.manual_seed(0)
    return {name: value.numpy().copy() for name, value in make_module(ctx.gt).state_dict().items()}


def _training_step(lib, module, weights, inputs, target, watched: str):
    """One step: zero_grad, MSE of the module's output against ``target``, backward, SGD step;
    returns (loss, the gradient of the parameter ``watched``)."""
    module.load_state_dict({name: lib.tensor(value.copy()) for name, value in weights.items()})
    optimizer = lib.optim.SGD(module.parameters(), lr=SEQ_LR)
    x, y = lib.tensor(inputs), lib.tensor(target)
    parameter = dict(module.named_parameters())[watched]

    def step():
        optimizer.zero_grad()
        out = module(x)
        if isinstance(out, tuple):  # a recurrent module also returns its final state
            out = out[0]
        loss = lib.nn.functional.mse_loss(out, y)
        loss.backward()
        optimizer.step()
        return loss, parameter.grad

    return step


def _prepared(ctx: Context, name: str, make_module, inputs, target, watched, **tolerance):
    weights = _shared_weights(ctx, make_module)

    def make(lib):
        return _training_step(lib, make_module(lib), weights, inputs, target, watched)

    fns = {"gradienti": make(ctx.gt)}
    if ctx.torch is not None:
        fns["torch"] = make(ctx.torch)
    prep = Prepared(fns, check=lambda: None)
    prep.check = lambda: run_check(prep, name, nonzero=False, **tolerance)
    return prep


# --------------------------------------------------------------------------- lstm
# One SGD step of a 2-layer LSTM (input 64, hidden 256) over 64 steps of a batch of 32.
LSTM_INPUT, LSTM_HIDDEN, LSTM_LAYERS, LSTM_SEQ, LSTM_BATCH = 64, 256, 2, 64, 32


def setup_lstm(ctx: Context) -> Prepared:
    rng = ctx.rng()
    inputs = rng.standard_normal((LSTM_SEQ, LSTM_BATCH, LSTM_INPUT)).astype(F32)
    target = rng.standard_normal((LSTM_SEQ, LSTM_BATCH, LSTM_HIDDEN)).astype(F32)

    def make_module(lib):
        return lib.nn.LSTM(LSTM_INPUT, LSTM_HIDDEN, num_layers=LSTM_LAYERS)

    return _prepared(ctx, "lstm", make_module, inputs, target, "weight_ih_l0", rtol=2e-3, atol=1e-6)


# --------------------------------------------------------------------------- transformer
# One SGD step of a 2-layer transformer encoder (d_model 128, 4 heads, feed-forward 512, no
# dropout) on a batch of 16 sequences of 64 tokens.
MODEL_DIM, HEADS, FEEDFORWARD, ENCODER_LAYERS = 128, 4, 512, 2
TOKENS, SEQUENCES = 64, 16


def setup_transformer(ctx: Context) -> Prepared:
    rng = ctx.rng()
    inputs = rng.standard_normal((SEQUENCES, TOKENS, MODEL_DIM)).astype(F32)
    target = rng.standard_normal((SEQUENCES, TOKENS, MODEL_DIM)).astype(F32)

    def make_module(lib):
        nn = lib.nn
        layer = nn.TransformerEncoderLayer(
            MODEL_DIM, HEADS, dim_feedforward=FEEDFORWARD, dropout=0.0, batch_first=True
        )
        return nn.TransformerEncoder(layer, ENCODER_LAYERS, enable_nested_tensor=False)

    watched = "layers.0.self_attn.in_proj_weight"
    return _prepared(ctx, "transformer", make_module, inputs, target, watched, rtol=2e-3, atol=1e-6)


SEQ_WORKLOADS: list[Workload] = [
    Workload(
        "lstm", "ms/step", 1, 1.5, setup_lstm, "2-layer LSTM 64->256, seq 64, batch 32", None, MS
    ),
    Workload(
        "transformer",
        "ms/step",
        1,
        1.5,
        setup_transformer,
        "2-layer encoder, d_model 128, 4 heads, seq 64, batch 16",
        None,
        MS,
    ),
]
