"""nn.RNN / nn.LSTM / nn.GRU against PyTorch: same-seed parameters (names, order, shapes,
values), outputs, final states and the gradients of the input, the initial states and every
parameter under non-uniform upstream gradients, over the options that change the computation
(layers, bidirectional, batch_first, proj_size, bias, relu, unbatched, dropout in training,
eval mode). Constructor and input errors, reprs and the fused graph are in test_rnn_module.py;
gradcheck, double backward and forward mode in test_rnn_derivatives.py."""

import numpy as np
import pytest
from torch_oracle import MKL_BERNOULLI, torch_draws_bernoulli_p_from_mt19937

import gradienti

torch = pytest.importorskip("torch")  # the oracle
# PyTorch's note that its oneDNN path lacks projections (it falls back), not about results
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

# (class, keyword arguments): each option that changes the computation, alone and together
CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("RNN", {"num_layers": 2, "bidirectional": True, "bias": False}),
    ("GRU", {}),
    ("GRU", {"bias": False}),
    ("GRU", {"num_layers": 2, "batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {}),
    ("LSTM", {"bias": False}),
    ("LSTM", {"num_layers": 2}),
    ("LSTM", {"bidirectional": True, "batch_first": True}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2, "bias": False}),
]


def _ids(config):
    name, kwargs = config
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


def make_pair(name, kwargs, input_size=5, hidden_size=4, seed=0, dtype=None):
    """The same layer in both libraries, each built after the same seed."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(input_size, hidden_size, **kwargs)
    gradienti.manual_seed(seed)
    ours = getattr(gradienti.nn, name)(input_size, hidden_size, **kwargs)
    if dtype == "float64":
        theirs, ours = theirs.double(), ours.double()
    return ours, theirs


def state_shapes(name, kwargs, batch, hidden_size=4):
    """The shapes of h0 (and c0) the layer expects (batch None: unbatched)."""
    count = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    lead = (count,) if batch is None else (count, batch)
    h_size = kwargs.get("proj_size") or hidden_size
    shapes = [lead + (h_size,)]
    if name == "LSTM":
        shapes.append(lead + (hidden_size,))
    return shapes


def flat_outputs(name, result):
    output, hidden = result
    return [output] + (list(hidden) if name == "LSTM" else [hidden])


def run_both(ours, theirs, name, x, states, seed=1):
    """Forward both layers on the same input (and initial states, if given), backward with
    the same random upstream gradients on every output; returns (ours, theirs) pairs of the
    outputs, then the gradients of the input, the states and every parameter."""
    tx = torch.tensor(x, requires_grad=True)
    gx = gradienti.tensor(x, requires_grad=True)
    t_states = [torch.tensor(s, requires_grad=True) for s in states]
    g_states = [gradienti.tensor(s, requires_grad=True) for s in states]

    def call(layer, lib_x, lib_states):
        if not lib_states:
            return layer(lib_x)
        hx = tuple(lib_states) if name == "LSTM" else lib_states[0]
        return layer(lib_x, hx)

    t_out = flat_outputs(name, call(theirs, tx, t_states))
    g_out = flat_outputs(name, call(ours, gx, g_states))
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(tuple(t.shape)).astype(x.dtype) for t in t_out]
    sum(((t * torch.tensor(u)).sum() for t, u in zip(t_out, upstream)), torch.zeros(())).backward()
    total = gradienti.zeros((), dtype=g_out[0].dtype)
    for g, u in zip(g_out, upstream):
        total = total + (g * gradienti.tensor(u)).sum()
    total.backward()
    pairs = list(zip(g_out, t_out))
    pairs.append((gx.grad, tx.grad))
    pairs += [(g.grad, t.grad) for g, t in zip(g_states, t_states)]
    pairs += [(g.grad, t.grad) for g, t in zip(ours.parameters(), theirs.parameters())]
    return pairs


def assert_pairs_close(pairs, tol):
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(
            ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol
        )


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_same_seed_gives_pytorchs_parameters(config):
    name, kwargs = config
    ours, theirs = make_pair(name, kwargs)
    t_named = list(theirs.named_parameters())
    g_named = list(ours.named_parameters())
    assert [n for n, _ in g_named] == [n for n, _ in t_named]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (_, g), (_, t) in zip(g_named, t_named):
        np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy())
    # the draw after initialisation is the same too: the stream advanced alike
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
@pytest.mark.parametrize("given_states", [False, True], ids=["zero-states", "given-states"])
def test_forward_and_gradients_match_pytorch(config, given_states):
    name, kwargs = config
    ours, theirs = make_pair(name, kwargs)
    rng = np.random.default_rng(7)
    batch, steps = 3, 6
    shape = (batch, steps, 5) if kwargs.get("batch_first") else (steps, batch, 5)
    x = rng.standard_normal(shape).astype(np.float32)
    states = []
    if given_states:
        states = [
            rng.standard_normal(s).astype(np.float32) for s in state_shapes(name, kwargs, batch)
        ]
    pairs = run_both(ours, theirs, name, x, states)
    assert_pairs_close(pairs, 2e-5)
    # the outputs' layout too: it is what strides, views and dropout's mask order see
    for ours_out, theirs_out in pairs[: 3 if name == "LSTM" else 2]:
        assert ours_out.stride() == theirs_out.stride()


@pytest.mark.parametrize("config", CONFIGS[::2], ids=_ids)
def test_float64_matches_pytorch_closely(config):
    name, kwargs = config
    ours, theirs = make_pair(name, kwargs, dtype="float64")
    x = np.random.default_rng(3).standard_normal((5, 2, 5))
    if kwargs.get("batch_first"):
        x = x.transpose(1, 0, 2).copy()
    assert_pairs_close(run_both(ours, theirs, name, x, []), 1e-12)


@pytest.mark.parametrize(
    "config", CONFIGS[::3] + [("LSTM", {"batch_first": True, "proj_size": 2})], ids=_ids
)
@pytest.mark.parametrize("given_states", [False, True], ids=["zero-states", "given-states"])
def test_unbatched_input(config, given_states):
    name, kwargs = config
    ours, theirs = make_pair(name, kwargs)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    states = []
    if given_states:
        states = [
            rng.standard_normal(s).astype(np.float32) for s in state_shapes(name, kwargs, None)
        ]
    pairs = run_both(ours, theirs, name, x, states)
    assert tuple(pairs[0][0].shape) == tuple(pairs[0][1].shape)
    assert_pairs_close(pairs, 2e-5)


@pytest.mark.skipif(not torch_draws_bernoulli_p_from_mt19937(torch), reason=MKL_BERNOULLI)
@pytest.mark.parametrize(
    "config",
    [
        ("LSTM", {"num_layers": 3, "dropout": 0.5}),
        ("GRU", {"num_layers": 2, "dropout": 0.3, "bidirectional": True}),
        ("RNN", {"num_layers": 2, "dropout": 0.4, "batch_first": True}),
        ("LSTM", {"num_layers": 2, "dropout": 0.25, "proj_size": 2}),
    ],
    ids=_ids,
)
def test_dropout_between_layers_draws_pytorchs_masks(config):
    name, kwargs = config
    ours, theirs = make_pair(name, kwargs)
    x = np.random.default_rng(5).standard_normal((6, 3, 5)).astype(np.float32)
    torch.manual_seed(3)
    gradienti.manual_seed(3)
    pairs = run_both(ours, theirs, name, x, [])
    assert_pairs_close(pairs, 2e-5)
    # as many draws as PyTorch's: the streams agree afterwards
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


def test_eval_mode_has_no_dropout_and_draws_nothing():
    ours, theirs = make_pair("LSTM", {"num_layers": 2, "dropout": 0.5})
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(5).standard_normal((6, 3, 5)).astype(np.float32)
    torch.manual_seed(4)
    gradienti.manual_seed(4)
    assert_pairs_close(run_both(ours, theirs, "LSTM", x, []), 2e-5)
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())
    # training mode differs from eval mode (the dropout ran)
    ours.train()
    trained = ours(gradienti.tensor(x))[0]
    evaluated = ours.eval()(gradienti.tensor(x))[0]
    assert not np.allclose(trained.detach().numpy(), evaluated.detach().numpy())


def test_a_layer_used_twice_accumulates_the_gradients_of_both_calls():
    ours, theirs = make_pair("GRU", {"num_layers": 2})
    rng = np.random.default_rng(2)
    x1, x2 = (rng.standard_normal((4, 2, 5)).astype(np.float32) for _ in range(2))
    t_out = theirs(torch.tensor(x1))[0].sum() + (theirs(torch.tensor(x2))[0] ** 2).sum()
    g_out = ours(gradienti.tensor(x1))[0].sum() + (ours(gradienti.tensor(x2))[0] ** 2).sum()
    t_out.backward()
    g_out.backward()
    assert_pairs_close(
        [(g.grad, t.grad) for g, t in zip(ours.parameters(), theirs.parameters())], 2e-5
    )
