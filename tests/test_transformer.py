"""nn.TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder
and Transformer against torch: same-seed parameters and state_dict keys, reprs, outputs and
gradients of inputs and every parameter (a non-uniform upstream gradient) with masks of every
kind, norm_first, activations, batch_first and unbatched inputs; dropout in training from the
same seed; the eval-mode nested-tensor path's zeros; warnings and errors as PyTorch's."""

import warnings

import numpy as np
import pytest
from torch_oracle import (
    MKL_BERNOULLI,
    assert_close,
    to_g,
    torch_draws_bernoulli_p_from_mt19937,
)

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def build(torch, name, *args, seed=0, **kwargs):
    """(ours, theirs): the module made after the same seed in both libraries, warnings off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        theirs = make(torch, name, *args, **kwargs)
        gradienti.manual_seed(seed)
        ours = make(gradienti, name, *args, **kwargs)
    return ours, theirs


def make(lib, name, *args, **kwargs):
    """``lib.nn.<name>``; the encoder and decoder get a layer of ``lib`` made from ``layer``."""
    kwargs = dict(kwargs)
    if name in ("TransformerEncoder", "TransformerDecoder"):
        layer_name, layer_args, layer_kwargs = kwargs.pop("layer")
        layer = getattr(lib.nn, layer_name)(*layer_args, **layer_kwargs)
        norm = kwargs.pop("norm", None)
        if norm is not None:
            kwargs["norm"] = lib.nn.LayerNorm(norm)
        return getattr(lib.nn, name)(layer, *args, **kwargs)
    return getattr(lib.nn, name)(*args, **kwargs)


def same_state(ours, theirs, tol=0.0):
    gstate = ours.state_dict()
    tstate = theirs.state_dict()
    assert list(gstate) == list(tstate)
    for key, value in tstate.items():
        assert tuple(gstate[key].shape) == tuple(value.shape), key
        assert_close(gstate[key], value, tol)


def rand(torch, *shape, seed=1):
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return torch.tensor(values)


def run_both(torch, ours, theirs, inputs, tol=2e-5, **kwargs):
    """Outputs and the gradients of every input and parameter of both modules equal.
    ``inputs``: torch tensors (leaves); ``kwargs``: torch masks, given to ours converted."""
    tin = [t.clone().requires_grad_() for t in inputs]
    gin = [to_g(t, True) for t in inputs]
    gkwargs = {k: to_g(v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    yt = theirs(*tin, **kwargs)
    yg = ours(*gin, **gkwargs)
    assert_close(yg, yt, tol)
    upstream = rand(torch, *yt.shape, seed=7)
    yt.backward(upstream)
    yg.backward(to_g(upstream))
    for g, t in zip(gin, tin):
        assert_close(g.grad, t.grad, tol)
    gparams = dict(ours.named_parameters())
    for name, tparam in theirs.named_parameters():
        assert_close(gparams[name].grad, tparam.grad, tol)
    return yg, yt


def causal(torch, size):
    return torch.nn.Transformer.generate_square_subsequent_mask(size)


# ---------------------------------------------------------------------- construction
CONSTRUCTIONS = [
    ("TransformerEncoderLayer", (8, 2), {}),
    (
        "TransformerEncoderLayer",
        (8, 4),
        {
            "dim_feedforward": 16,
            "dropout": 0.2,
            "activation": "gelu",
            "layer_norm_eps": 1e-3,
            "batch_first": True,
            "norm_first": True,
            "bias": False,
        },
    ),
    ("TransformerDecoderLayer", (8, 2), {"dim_feedforward": 12}),
    ("TransformerDecoderLayer", (6, 3), {"dim_feedforward": 12, "bias": False}),
    (
        "TransformerEncoder",
        (2,),
        {"layer": ("TransformerEncoderLayer", (8, 2, 16), {"batch_first": True}), "norm": 8},
    ),
    ("TransformerDecoder", (3,), {"layer": ("TransformerDecoderLayer", (8, 2, 16), {})}),
    (
        "Transformer",
        (),
        {
            "d_model": 8,
            "nhead": 2,
            "num_encoder_layers": 2,
            "num_decoder_layers": 1,
            "dim_feedforward": 16,
        },
    ),
    (
        "Transformer",
        (),
        {
            "d_model": 8,
            "nhead": 4,
            "num_encoder_layers": 1,
            "num_decoder_layers": 2,
            "dim_feedforward": 8,
            "bias": False,
            "norm_first": True,
            "batch_first": True,
        },
    ),
]


@pytest.mark.parametrize("name, args, kwargs", CONSTRUCTIONS)
def test_same_seed_same_parameters_repr_and_state_dict_keys(torch, name, args, kwargs):
    ours, theirs = build(torch, name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    same_state(ours, theirs)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_default_transformer_same_seed_same_parameters(torch):
    ours, theirs = build(torch, "Transformer", num_encoder_layers=1, num_decoder_layers=1)
    assert repr(ours) == repr(theirs)
    same_state(ours, theirs)
    assert (ours.d_model, ours.nhead, ours.batch_first) == (512, 8, False)


def test_encoder_layers_are_deep_copies(torch):
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = nn.TransformerEncoder(layer, 2)
    assert encoder.layers[0] is not layer and encoder.layers[0] is not encoder.layers[1]
    first = encoder.layers[0].linear1.weight
    assert first is not encoder.layers[1].linear1.weight
    assert first is not layer.linear1.weight
    assert np.array_equal(first.detach().numpy(), layer.linear1.weight.detach().numpy())


def test_module_paths_are_torchs(torch):
    for name in nn.modules.transformer.__all__:
        assert getattr(nn.modules.transformer, name) is getattr(nn, name)
    assert sorted(nn.modules.transformer.__all__) == sorted(torch.nn.modules.transformer.__all__)


# ---------------------------------------------------------------------- forward, gradients
ENCODER_LAYER_RUNS = [
    ({}, {}),
    ({"norm_first": True}, {}),
    ({"activation": "gelu"}, {"src_mask": "float"}),
    ({"batch_first": True}, {"src_key_padding_mask": "bool"}),
    ({"batch_first": True, "bias": False}, {"src_mask": "causal", "is_causal": True}),
    (
        {"norm_first": True, "batch_first": True},
        {"src_mask": "bool", "src_key_padding_mask": "bool"},
    ),
]


def masks(torch, spec: dict, seq: int, batch: int, mem: int | None = None) -> dict:
    """Torch masks named by ``spec``: {argument: "float" | "bool" | "causal"}."""
    rng = np.random.default_rng(3)
    out = {}
    for name, kind in spec.items():
        if not isinstance(kind, str):
            out[name] = kind
            continue
        if "padding" in name:
            length = mem if name.startswith("memory") else seq
            padded = np.zeros((batch, length), dtype=bool)
            padded[0, -2:] = True
            padded[-1, -1] = True
            out[name] = torch.tensor(padded)
            continue
        cols = mem if name.startswith("memory") else seq
        if kind == "causal":
            out[name] = causal(torch, seq)
        elif kind == "bool":
            blocked = rng.random((seq, cols)) < 0.3
            blocked[:, 0] = False  # every row keeps a position
            out[name] = torch.tensor(blocked)
        else:
            out[name] = torch.tensor(rng.standard_normal((seq, cols)).astype(np.float32))
    return out


@pytest.mark.parametrize("layer_kwargs, mask_spec", ENCODER_LAYER_RUNS)
def test_encoder_layer_matches_torch(torch, layer_kwargs, mask_spec):
    ours, theirs = build(torch, "TransformerEncoderLayer", 8, 2, 16, dropout=0.0, **layer_kwargs)
    batch_first = layer_kwargs.get("batch_first", False)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    run_both(torch, ours, theirs, [rand(torch, *shape)], **masks(torch, mask_spec, 5, 3))


def test_encoder_layer_unbatched_and_callable_activation_match_torch(torch):
    ours, theirs = build(torch, "TransformerEncoderLayer", 8, 2, 16, dropout=0.0)
    ours.activation, theirs.activation = F.silu, torch.nn.functional.silu
    run_both(torch, ours, theirs, [rand(torch, 5, 8)], src_mask=causal(torch, 5))
    ours, theirs = build(torch, "TransformerEncoderLayer", 8, 2, 16, dropout=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, torch.nn.GELU())
        gradienti.manual_seed(0)
        ours = nn.TransformerEncoderLayer(8, 2, 16, 0.0, nn.GELU())
    assert repr(ours) == repr(theirs) and ours.activation_relu_or_gelu == 2
    run_both(torch, ours, theirs, [rand(torch, 5, 3, 8)])


DECODER_LAYER_RUNS = [
    ({}, {}),
    ({"norm_first": True}, {"tgt_mask": "causal", "tgt_is_causal": True}),
    ({"batch_first": True}, {"memory_mask": "float", "tgt_key_padding_mask": "bool"}),
    ({"activation": "gelu"}, {"memory_key_padding_mask": "bool", "tgt_mask": "bool"}),
]


@pytest.mark.parametrize("layer_kwargs, mask_spec", DECODER_LAYER_RUNS)
def test_decoder_layer_matches_torch(torch, layer_kwargs, mask_spec):
    ours, theirs = build(torch, "TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **layer_kwargs)
    batch_first = layer_kwargs.get("batch_first", False)
    tgt = (3, 4, 8) if batch_first else (4, 3, 8)
    memory = (3, 6, 8) if batch_first else (6, 3, 8)
    inputs = [rand(torch, *tgt), rand(torch, *memory, seed=2)]
    run_both(torch, ours, theirs, inputs, **masks(torch, mask_spec, 4, 3, 6))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    "mask_spec", [{}, {"mask": "causal"}, {"mask": "float", "src_key_padding_mask": "bool"}]
)
def test_encoder_stack_matches_torch(torch, batch_first, mask_spec):
    layer = ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0, "batch_first": batch_first})
    ours, theirs = build(torch, "TransformerEncoder", 2, layer=layer, norm=8)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    run_both(torch, ours, theirs, [rand(torch, *shape)], **masks(torch, mask_spec, 5, 3))


def test_decoder_stack_matches_torch(torch):
    layer = ("TransformerDecoderLayer", (8, 2, 16), {"dropout": 0.0})
    ours, theirs = build(torch, "TransformerDecoder", 2, layer=layer, norm=8)
    inputs = [rand(torch, 4, 3, 8), rand(torch, 6, 3, 8, seed=2)]
    spec = {"tgt_mask": "causal", "memory_key_padding_mask": "bool"}
    run_both(torch, ours, theirs, inputs, **masks(torch, spec, 4, 3, 6))


@pytest.mark.parametrize(
    "kwargs", [{}, {"norm_first": True, "batch_first": True, "activation": "gelu"}]
)
def test_transformer_matches_torch(torch, kwargs):
    ours, theirs = build(torch, "Transformer", 8, 2, 2, 2, 16, 0.0, **kwargs)
    batch_first = kwargs.get("batch_first", False)
    src = (3, 5, 8) if batch_first else (5, 3, 8)
    tgt = (3, 4, 8) if batch_first else (4, 3, 8)
    spec = {
        "tgt_mask": causal(torch, 4),
        "src_key_padding_mask": "bool",
        "memory_key_padding_mask": "bool",
    }
    mask_args = masks(torch, spec, 5, 3, 5)
    run_both(torch, ours, theirs, [rand(torch, *src), rand(torch, *tgt, seed=2)], **mask_args)


def test_transformer_unbatched_matches_torch(torch):
    ours, theirs = build(torch, "Transformer", 8, 2, 1, 1, 16, 0.0)
    run_both(
        torch,
        ours,
        theirs,
        [rand(torch, 5, 8), rand(torch, 4, 8, seed=2)],
        tgt_mask=causal(torch, 4),
    )


def test_training_with_dropout_matches_torch_from_the_same_seed(torch):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    layer = ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.3, "batch_first": True})
    ours, theirs = build(torch, "TransformerEncoder", 2, layer=layer)
    torch.manual_seed(5)
    gradienti.manual_seed(5)
    run_both(torch, ours, theirs, [rand(torch, 3, 5, 8)])


# ---------------------------------------------------------------------- eval mode
def test_eval_nested_tensor_path_zeroes_padded_positions_as_torch(torch):
    layer = ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0, "batch_first": True})
    ours, theirs = build(torch, "TransformerEncoder", 2, layer=layer, norm=8)
    with torch.no_grad():
        theirs.norm.bias.uniform_(-1, 1)  # the final norm runs after the padding: its bias
    ours.load_state_dict({k: to_g(v) for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    x = rand(torch, 3, 5, 8)
    padded = torch.tensor([[False] * 5, [False] * 3 + [True] * 2, [True] * 5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "nested tensors are a prototype"
        with torch.no_grad():
            expected = theirs(x, src_key_padding_mask=padded)
    with gradienti.no_grad():
        got = ours(to_g(x), src_key_padding_mask=to_g(padded))
    assert_close(got, expected, 2e-5)
    # With gradients the padded positions are computed as any other (no nested tensor).
    expected = theirs(x, src_key_padding_mask=padded)
    got = ours(to_g(x), src_key_padding_mask=to_g(padded))
    keep = ~padded.numpy()
    np.testing.assert_allclose(
        got.detach().numpy()[keep], expected.detach().numpy()[keep], rtol=2e-5, atol=2e-5
    )
    assert got.requires_grad


def test_eval_padding_not_left_aligned_takes_the_ordinary_path(torch):
    layer = ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0, "batch_first": True})
    ours, theirs = build(torch, "TransformerEncoder", 1, layer=layer)
    ours.eval()
    theirs.eval()
    x = rand(torch, 2, 4, 8)
    padded = torch.tensor([[True, False, False, False], [False, False, True, False]])
    with torch.no_grad():
        expected = theirs(x, src_key_padding_mask=padded)
    with gradienti.no_grad():
        got = ours(to_g(x), src_key_padding_mask=to_g(padded))
    assert_close(got, expected, 2e-5)


# ---------------------------------------------------------------------- warnings, errors, masks
NESTED_WARNINGS = [
    {"norm_first": True, "batch_first": True},
    {},
    {"batch_first": True, "bias": False},
    {"batch_first": True, "activation": "custom"},
    {"batch_first": True, "nhead": 1},
    {"batch_first": True},
]


@pytest.mark.parametrize("layer_kwargs", NESTED_WARNINGS)
def test_enable_nested_tensor_warning_as_torch(torch, layer_kwargs):
    kwargs = dict(layer_kwargs)
    nhead = kwargs.pop("nhead", 2)
    texts = []
    for lib in (torch, gradienti):
        if kwargs.get("activation") == "custom":
            kwargs["activation"] = lib.nn.functional.silu
        layer = lib.nn.TransformerEncoderLayer(8, nhead, 16, **kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoder = lib.nn.TransformerEncoder(layer, 1)
        texts.append(
            (
                [str(w.message) for w in caught],
                [w.category for w in caught],
                encoder.use_nested_tensor,
            )
        )
    assert texts[1] == texts[0]


def test_generate_square_subsequent_mask_as_torch(torch):
    for dtype in (None, "float64"):
        expected = torch.nn.Transformer.generate_square_subsequent_mask(
            4, dtype=getattr(torch, dtype) if dtype else None
        )
        got = nn.Transformer.generate_square_subsequent_mask(
            4, dtype=getattr(gradienti, dtype) if dtype else None
        )
        assert str(got) == str(expected)


def test_bad_activation_and_mismatched_inputs_raise_as_torch(torch):
    def raised(call):
        with pytest.raises(Exception) as info:
            call()
        return type(info.value), str(info.value)

    assert raised(lambda: nn.TransformerEncoderLayer(8, 2, activation="tanh")) == raised(
        lambda: torch.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    )
    ours, theirs = build(torch, "Transformer", 8, 2, 1, 1, 16, 0.0)
    cases = [((5, 3, 8), (4, 2, 8)), ((5, 3, 8), (4, 3, 6)), ((5, 3, 6), (4, 3, 8))]
    for src, tgt in cases:
        expected = raised(lambda s=src, t=tgt: theirs(torch.zeros(s), torch.zeros(t)))
        assert raised(lambda s=src, t=tgt: ours(gradienti.zeros(s), gradienti.zeros(t))) == expected


def test_dropout_mask_of_a_transposed_input_is_drawn_in_memory_order_as_torch(torch):
    # (batch_first attention returns a transposed view; PyTorch's mask follows its storage)
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    x = rand(torch, 4, 3, 5)
    for view in (lambda t: t.transpose(1, 0), lambda t: t.permute(2, 0, 1), lambda t: t):
        torch.manual_seed(5)
        expected = torch.nn.functional.dropout(view(x), 0.4)
        gradienti.manual_seed(5)
        got = F.dropout(view(to_g(x)), 0.4)
        assert_close(got, expected, 0.0)


@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_gradcheck_and_gradgradcheck_in_float64(norm_first):
    gradienti.manual_seed(0)
    kwargs = {"dropout": 0.0, "norm_first": norm_first, "dtype": gradienti.float64}
    encoder = nn.TransformerEncoderLayer(4, 2, 6, activation="gelu", **kwargs)
    decoder = nn.TransformerDecoderLayer(4, 2, 6, **kwargs)
    src = gradienti.randn(3, 2, 4, dtype=gradienti.float64, requires_grad=True)
    tgt = gradienti.randn(2, 2, 4, dtype=gradienti.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(2, dtype=gradienti.float64)

    def encode(x):
        return encoder(
            x, src_key_padding_mask=gradienti.tensor([[False] * 3, [False, False, True]])
        )

    def decode(y, memory):
        return decoder(y, memory, tgt_mask=mask)

    assert gradcheck(encode, (src,))
    assert gradgradcheck(encode, (src,))
    assert gradcheck(decode, (tgt, src))
    assert gradgradcheck(decode, (tgt, src))


MASK_ERRORS = [
    lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0), 1)(
        lib.ones(3, 2, 8), is_causal=True
    ),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0)(
        lib.ones(3, 2, 8), src_mask=lib.ones(2, 2)
    ),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0)(
        lib.ones(3, 2, 8), src_key_padding_mask=lib.ones(2, 2, dtype=lib.bool)
    ),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0)(
        lib.ones(3, 2, 8), src_key_padding_mask=lib.ones(2, 3, dtype=lib.long)
    ),
    lambda lib: lib.nn.TransformerDecoderLayer(8, 2, 16, 0.0)(
        lib.ones(3, 2, 8), lib.ones(4, 2, 8), memory_mask=lib.ones(3, 3)
    ),
    lambda lib: lib.nn.TransformerEncoderLayer(8, 3, 16, 0.0),
]


@pytest.mark.parametrize("index", range(len(MASK_ERRORS)))
def test_bad_masks_and_sizes_raise_as_torch(torch, index):
    raised = []
    for lib in (torch, gradienti):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                MASK_ERRORS[index](lib)
        raised.append((type(info.value), str(info.value)))
    assert raised[1] == raised[0]


def test_custom_encoder_and_decoder_are_used_and_reset_as_torch(torch):
    def make_custom(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoder = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 12, 0.0), 1)
        decoder = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 12, 0.0), 1)
        return lib.nn.Transformer(8, 2, custom_encoder=encoder, custom_decoder=decoder)

    torch.manual_seed(3)
    theirs = make_custom(torch)
    gradienti.manual_seed(3)
    ours = make_custom(gradienti)
    assert repr(ours) == repr(theirs)
    same_state(ours, theirs)
    run_both(torch, ours, theirs, [rand(torch, 5, 2, 8), rand(torch, 3, 2, 8, seed=2)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_training_with_dropout_matches_torch(torch, batch_first):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip(MKL_BERNOULLI)
    ours, theirs = build(torch, "Transformer", 8, 2, 1, 2, 16, 0.25, batch_first=batch_first)
    torch.manual_seed(9)
    gradienti.manual_seed(9)
    src, tgt = (2, 5, 8), (2, 4, 8)
    if not batch_first:
        src, tgt = (5, 2, 8), (4, 2, 8)
    run_both(
        torch,
        ours,
        theirs,
        [rand(torch, *src), rand(torch, *tgt, seed=2)],
        tgt_mask=causal(torch, 4),
    )
