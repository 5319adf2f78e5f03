"""Learner code for issue 14's features, run as written against both libraries from the same
seed: the word-language-model example's training step (pytorch/examples word_language_model:
Embedding -> dropout -> LSTM/GRU/RNN_TANH with inter-layer dropout, or a TransformerEncoder with a
causal mask -> log_softmax, NLLLoss, clip_grad_norm_, a manual SGD step), nanoGPT's flash path
(scaled_dot_product_attention with dropout and is_causal), padded batches through a packed
bidirectional LSTM, char-rnn style generation with Categorical(logits), a REINFORCE step and a
VAE-style KL. The losses, gradients and drawn samples must be PyTorch's (same random streams)."""

import math
import subprocess
import sys

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle

LIBRARIES = (torch, gradienti)


def word_lm_losses(lib, rnn_type, steps=3, lr=2.0):
    """The word_language_model main.py training loop, shortened, on random token ids."""
    nn = lib.nn
    lib.manual_seed(1111)
    ntoken, ninp, nhid, nlayers, bptt, bsz = 30, 8, 8, 2, 6, 4
    encoder, drop, decoder = nn.Embedding(ntoken, ninp), nn.Dropout(0.2), nn.Linear(nhid, ntoken)
    if rnn_type == "Transformer":
        layer = nn.TransformerEncoderLayer(ninp, 2, nhid, 0.2)
        body = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
    elif rnn_type == "RNN_TANH":
        body = nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=0.2)
    else:
        body = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=0.2)
    modules = nn.ModuleList([encoder, body, decoder])
    nn.init.uniform_(encoder.weight, -0.1, 0.1)
    nn.init.uniform_(decoder.weight, -0.1, 0.1)
    nn.init.zeros_(decoder.bias)
    data = lib.randint(0, ntoken, (bptt + 1, bsz))
    hidden = None
    losses = []
    for _ in range(steps):
        emb = drop(encoder(data[:-1]))
        if rnn_type == "Transformer":
            mask = nn.Transformer.generate_square_subsequent_mask(bptt)
            output = body(emb * math.sqrt(ninp), mask)
        else:
            output, hidden = body(emb, hidden)
            # repackage_hidden: cut the graph between batches
            if isinstance(hidden, tuple):
                hidden = tuple(h.detach() for h in hidden)
            else:
                hidden = hidden.detach()
        log_probs = lib.nn.functional.log_softmax(decoder(drop(output)).view(-1, ntoken), dim=1)
        loss = nn.NLLLoss()(log_probs, data[1:].reshape(-1))
        modules.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(modules.parameters(), 0.25)
        for p in modules.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append((loss.item(), norm.item()))
    return np.array(losses)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH", "Transformer"])
def test_word_language_model_training_steps_match_pytorch(rnn_type):
    expected, actual = (word_lm_losses(lib, rnn_type) for lib in LIBRARIES)
    np.testing.assert_allclose(actual, expected, rtol=2e-5)


def nanogpt_flash_attention_step(lib):
    """nanoGPT's CausalSelfAttention with self.flash = True, dropout 0.1 while training."""
    lib.manual_seed(1337)
    nn = lib.nn
    n_embd, n_head, T = 16, 2, 8
    c_attn, c_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
    x = lib.randn(2, T, n_embd, requires_grad=True)
    q, k, v = c_attn(x).split(n_embd, dim=2)
    q, k, v = (t.view(2, T, n_head, n_embd // n_head).transpose(1, 2) for t in (q, k, v))
    y = nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=None, dropout_p=0.1, is_causal=True
    )
    y = c_proj(y.transpose(1, 2).contiguous().view(2, T, n_embd))
    y.backward(lib.linspace(-1, 1, y.numel()).view(y.shape))
    return y.detach().numpy(), x.grad.numpy(), c_attn.weight.grad.numpy()


def test_nanogpt_flash_path_with_dropout_matches_pytorch():
    for expected, actual in zip(*(nanogpt_flash_attention_step(lib) for lib in LIBRARIES)):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def packed_bidirectional_lstm(lib):
    """Variable-length sequences: pad_sequence, pack_padded_sequence, LSTM, pad_packed_sequence."""
    lib.manual_seed(0)
    utils = lib.nn.utils.rnn
    seqs = [lib.randn(5, 3), lib.randn(3, 3), lib.randn(2, 3)]
    lstm = lib.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    padded = utils.pad_sequence(seqs, batch_first=True)
    packed = utils.pack_padded_sequence(
        padded[[2, 0, 1]], [2, 5, 3], batch_first=True, enforce_sorted=False
    )
    out, (h, _) = lstm(packed)
    unpacked, lengths = utils.pad_packed_sequence(out, batch_first=True)
    (unpacked.sum() + h.pow(2).sum()).backward()
    return (
        unpacked.detach().numpy(),
        lengths.numpy(),
        h.detach().numpy(),
        lstm.weight_hh_l1_reverse.grad.numpy(),
    )


def test_packed_bidirectional_lstm_matches_pytorch():
    for expected, actual in zip(*(packed_bidirectional_lstm(lib) for lib in LIBRARIES)):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def char_rnn_generation_and_reinforce(lib):
    """Sampling characters with Categorical(logits / temperature) from a GRU, then a REINFORCE
    step on a softmax policy and a reparameterised Normal KL as a VAE writes it."""
    lib.manual_seed(42)
    nn, dist = lib.nn, lib.distributions
    gru, emb, head = nn.GRU(6, 8, batch_first=True), nn.Embedding(10, 6), nn.Linear(8, 10)
    idx, hidden, drawn = lib.tensor([[3]]), None, []
    with lib.no_grad():
        for _ in range(8):
            out, hidden = gru(emb(idx), hidden)
            idx = dist.Categorical(logits=head(out[:, -1]) / 0.8).sample().unsqueeze(0)
            drawn.append(idx.item())
    policy = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Softmax(dim=-1))
    m = dist.Categorical(policy(lib.randn(4)))
    action = m.sample()
    (-m.log_prob(action) * 1.5).backward()
    enc = nn.Linear(6, 4)
    h = enc(lib.randn(5, 6))
    q = dist.Normal(h[:, :2], lib.exp(0.5 * h[:, 2:]))
    z = q.rsample()
    kl = dist.kl_divergence(q, dist.Normal(lib.zeros(5, 2), lib.ones(5, 2))).sum(-1).mean()
    (kl + z.sum()).backward()
    return (
        np.array(drawn),
        policy[0].weight.grad.numpy(),
        z.detach().numpy(),
        np.array(kl.item()),
        enc.weight.grad.numpy(),
    )


def test_char_rnn_sampling_reinforce_and_vae_kl_match_pytorch():
    for expected, actual in zip(*(char_rnn_generation_and_reinforce(lib) for lib in LIBRARIES)):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


NESTED_WARNING_SCRIPT = """
import sys, warnings
import numpy as np
lib = __import__(sys.argv[1])
lib.manual_seed(0)
layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
encoder = lib.nn.TransformerEncoder(layer, 2).eval()
x = lib.randn(2, 5, 8)
pad = lib.tensor([[False, False, False, True, True], [False] * 5])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with lib.no_grad():
        encoder(x, src_key_padding_mask=pad)
        out = encoder(x, src_key_padding_mask=pad)
print(np.abs(out[0, 3:].numpy()).max())
for warning in caught:
    print(warning.category.__name__, str(warning.message).split(" (Triggered internally")[0])
"""


def test_eval_encoder_packing_a_nested_tensor_warns_once_as_pytorch():
    """Tutorial inference (eval, no_grad, a key padding mask): PyTorch packs the batch into a
    nested tensor, warns once per process that nested tensors are a prototype, and returns
    zeros at the padded positions."""
    outputs = [
        subprocess.run(
            [sys.executable, "-c", NESTED_WARNING_SCRIPT, lib.__name__],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for lib in LIBRARIES
    ]
    assert outputs[1] == outputs[0]
    assert outputs[0].count("UserWarning The PyTorch API of nested tensors") == 1


def linalg_error_names(lib):
    """How learner code reports a failed factorisation: ``type(error).__name__`` and the text."""
    reported = []
    for call in (
        lambda: lib.linalg.cholesky(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
        lambda: lib.linalg.inv(lib.zeros(2, 2)),
    ):
        try:
            call()
        except RuntimeError as error:
            reported.append(
                (type(error).__name__, str(error), isinstance(error, lib.linalg.LinAlgError))
            )
    return reported


def test_linalg_error_class_name_as_printed_by_learner_code():
    expected, actual = (linalg_error_names(lib) for lib in LIBRARIES)
    assert actual == expected
    assert [name for name, _, _ in actual] == ["_LinAlgError", "_LinAlgError"]
