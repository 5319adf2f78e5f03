"""The packed path of nn.RNN / nn.LSTM / nn.GRU against PyTorch: a PackedSequence in, a
PackedSequence out (same batch_sizes and indices), each sequence's final state taken after its
own last step (in its original batch position), gradients of the padded input, the initial
states and the parameters under non-uniform upstream gradients."""

import numpy as np
import pytest
from torch_oracle import MKL_BERNOULLI, torch_draws_bernoulli_p_from_mt19937

import gradienti

torch = pytest.importorskip("torch")  # the oracle
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
    ("GRU", {"num_layers": 2}),
    ("GRU", {"bidirectional": True, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "batch_first": True}),
]


def _ids(config):
    name, kwargs = config
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


def _run(lib, name, kwargs, x, lengths, enforce_sorted, states, seed=1, dropout_seed=0):
    """Pack, run, pad back; backward with the same random weights on the padded output and
    the final states. Returns the values to compare."""
    lib.manual_seed(0)
    layer = getattr(lib.nn, name)(5, 4, **kwargs)
    lib.manual_seed(dropout_seed)  # (the stream dropout's masks are drawn from)
    batch_first = kwargs.get("batch_first", False)
    padded = lib.tensor(x, requires_grad=True)
    packed = lib.nn.utils.rnn.pack_padded_sequence(
        padded, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    given = [lib.tensor(s, requires_grad=True) for s in states]
    if given:
        packed_out, hidden = layer(packed, tuple(given) if name == "LSTM" else given[0])
    else:
        packed_out, hidden = layer(packed)
    assert type(packed_out).__name__ == "PackedSequence"
    hidden = list(hidden) if name == "LSTM" else [hidden]
    output, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=batch_first)
    rng = np.random.default_rng(seed)
    total = (output * lib.tensor(rng.standard_normal(tuple(output.shape)).astype(x.dtype))).sum()
    for h in hidden:
        total = total + (h * lib.tensor(rng.standard_normal(tuple(h.shape)).astype(x.dtype))).sum()
    total.backward()
    values = [packed_out.data, packed_out.batch_sizes, output, out_lengths, *hidden, padded.grad]
    if packed_out.sorted_indices is not None:
        values += [packed_out.sorted_indices, packed_out.unsorted_indices]
    values += [s.grad for s in given]
    values += [p.grad for p in layer.parameters()]
    return [v.detach().numpy() for v in values]


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
@pytest.mark.parametrize("given_states", [False, True], ids=["zero-states", "given-states"])
def test_packed_input_matches_pytorch(config, given_states):
    name, kwargs = config
    rng = np.random.default_rng(9)
    batch, steps = 4, 6
    shape = (batch, steps, 5) if kwargs.get("batch_first") else (steps, batch, 5)
    x = rng.standard_normal(shape).astype(np.float32)
    lengths = [4, 6, 1, 3]  # unsorted: the layer sees the sorted batch, states come back
    states = []
    if given_states:
        count = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        h_size = kwargs.get("proj_size") or 4
        shapes = [(count, batch, h_size)] + ([(count, batch, 4)] if name == "LSTM" else [])
        states = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    theirs = _run(torch, name, kwargs, x, lengths, False, states)
    ours = _run(gradienti, name, kwargs, x, lengths, False, states)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


@pytest.mark.skipif(not torch_draws_bernoulli_p_from_mt19937(torch), reason=MKL_BERNOULLI)
@pytest.mark.parametrize(
    "config",
    [("LSTM", {"num_layers": 2, "dropout": 0.5}), ("GRU", {"num_layers": 3, "dropout": 0.3})],
    ids=_ids,
)
def test_packed_input_sorted_with_dropout_matches_pytorch(config):
    """enforce_sorted (no indices) and dropout on the packed rows between layers."""
    name, kwargs = config
    x = np.random.default_rng(4).standard_normal((5, 3, 5)).astype(np.float32)
    theirs = _run(torch, name, kwargs, x, [5, 3, 2], True, [], dropout_seed=6)
    ours = _run(gradienti, name, kwargs, x, [5, 3, 2], True, [], dropout_seed=6)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


def test_sorted_packed_input_of_full_length_equals_the_padded_run():
    gradienti.manual_seed(0)
    layer = gradienti.nn.LSTM(5, 4, bidirectional=True)
    x = gradienti.randn(6, 3, 5)
    packed = gradienti.nn.utils.rnn.pack_padded_sequence(x, [6, 6, 6])
    packed_out, (h_p, c_p) = layer(packed)
    out, (h, c) = layer(x)
    np.testing.assert_allclose(
        packed_out.data.detach().numpy(), out.reshape(18, 8).detach().numpy()
    )
    np.testing.assert_allclose(h_p.detach().numpy(), h.detach().numpy())
    np.testing.assert_allclose(c_p.detach().numpy(), c.detach().numpy())
