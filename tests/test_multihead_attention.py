"""nn.MultiheadAttention and F.multi_head_attention_forward against PyTorch: same-seed
parameters, repr, state_dict keys, outputs, returned weights and gradients (inputs and
parameters, non-uniform upstream) for every option, dropout's stream, errors."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

E, HEADS, L, S, N = 8, 2, 3, 5, 2


def _pair(**kwargs):
    """The same layer in both libraries, from the same seed."""
    torch.manual_seed(7)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **kwargs)
    gradienti.manual_seed(7)
    ours = gradienti.nn.MultiheadAttention(E, HEADS, **kwargs)
    return ours, theirs


def _inputs(shapes, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    ours = [gradienti.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _close(ours, theirs, tol=1e-5):
    if theirs is None:
        assert ours is None
        return
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol, equal_nan=True
    )


def _check(ours, theirs, call, shapes, seed=0, tol=1e-5):
    """Forward both layers, compare output and weights, then backward a non-uniform
    gradient and compare the inputs' and parameters' gradients."""
    our_inputs, their_inputs = _inputs(shapes, seed)
    our_out, our_weights = call(ours, gradienti, *our_inputs)
    their_out, their_weights = call(theirs, torch, *their_inputs)
    _close(our_out, their_out, tol)
    _close(our_weights, their_weights, tol)
    upstream = np.random.default_rng(seed + 1).standard_normal(tuple(their_out.shape))
    upstream = upstream.astype(np.float32)
    our_out.backward(gradienti.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    for a, b in zip(our_inputs, their_inputs):
        _close(a.grad, b.grad, tol)
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        _close(param.grad, their_params[name].grad, tol)
    return our_out, their_out


def _self_attention(**forward):
    def call(layer, lib, x):
        return layer(x, x, x, **forward)

    return call


def _cross_attention(**forward):
    def call(layer, lib, q, k, v):
        return layer(q, k, v, **forward)

    return call


def test_same_seed_parameters_repr_and_state_dict():
    ours, theirs = _pair()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert type(ours.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bias": False},
        {"add_bias_kv": True},
        {"kdim": 3, "vdim": 6},
        {"add_bias_kv": True, "add_zero_attn": True, "kdim": 4},
    ],
)
def test_same_seed_parameters_of_every_option(kwargs):
    ours, theirs = _pair(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert tuple(a.shape) == tuple(b.shape), name
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    for attribute in ("in_proj_weight", "q_proj_weight", "bias_k", "bias_v", "in_proj_bias"):
        assert (getattr(ours, attribute) is None) == (getattr(theirs, attribute) is None)


def test_module_paths():
    assert gradienti.nn.modules.activation.MultiheadAttention is gradienti.nn.MultiheadAttention
    linear = gradienti.nn.modules.linear.NonDynamicallyQuantizableLinear
    assert issubclass(linear, gradienti.nn.Linear)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_self_attention(need_weights, average):
    ours, theirs = _pair()
    call = _self_attention(need_weights=need_weights, average_attn_weights=average)
    _check(ours, theirs, call, [(L, N, E)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_batch_first(need_weights):
    ours, theirs = _pair(batch_first=True)
    out, _ = _check(ours, theirs, _self_attention(need_weights=need_weights), [(N, L, E)])
    assert tuple(out.shape) == (N, L, E)


@pytest.mark.parametrize("need_weights", [True, False])
def test_cross_attention_batch_first(need_weights):
    ours, theirs = _pair(batch_first=True)
    call = _cross_attention(need_weights=need_weights)
    _check(ours, theirs, call, [(N, L, E), (N, S, E), (N, S, E)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched(need_weights):
    ours, theirs = _pair()
    call = _cross_attention(need_weights=need_weights, average_attn_weights=False)
    _check(ours, theirs, call, [(L, E), (S, E), (S, E)])


def _masks(lib, kind):
    rng = np.random.default_rng(3)
    if kind == "bool":
        attn = rng.random((L, L)) > 0.7
        padding = np.array([[False, False, True], [False, True, True]])
    elif kind == "float":
        attn = rng.standard_normal((L, L)).astype(np.float32)
        padding = np.where(
            np.array([[False, False, True], [False, True, True]]), -np.inf, 0.0
        ).astype(np.float32)
    else:  # per batch and head
        attn = rng.random((N * HEADS, L, L)) > 0.6
        padding = None
    attn = lib.tensor(attn)
    return attn, None if padding is None else lib.tensor(padding)


@pytest.mark.parametrize("kind", ["bool", "float", "3d"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_masks(kind, need_weights):
    ours, theirs = _pair()

    def call(layer, lib, x):
        attn, padding = _masks(lib, kind)
        return layer(x, x, x, key_padding_mask=padding, attn_mask=attn, need_weights=need_weights)

    _check(ours, theirs, call, [(L, N, E)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_mask_with_is_causal(need_weights):
    ours, theirs = _pair(batch_first=True)

    def call(layer, lib, x):
        mask = lib.triu(lib.full((L, L), float("-inf")), diagonal=1)
        return layer(x, x, x, attn_mask=mask, is_causal=True, need_weights=need_weights)

    _check(ours, theirs, call, [(N, L, E)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_bias_kv_zero_attn_kdim_vdim(need_weights):
    ours, theirs = _pair(add_bias_kv=True, add_zero_attn=True, kdim=4, vdim=6)

    def call(layer, lib, q, k, v):
        padding = lib.tensor(np.array([[False] * (S - 1) + [True], [False] * S]))
        return layer(q, k, v, key_padding_mask=padding, need_weights=need_weights)

    _check(ours, theirs, call, [(L, N, E), (S, N, 4), (S, N, 6)])


def test_no_bias():
    ours, theirs = _pair(bias=False)
    _check(ours, theirs, _self_attention(), [(L, N, E)])


def test_dropout_in_training_same_stream_and_none_in_eval():
    for need_weights in (True, False):
        ours, theirs = _pair(dropout=0.4)
        torch.manual_seed(11)
        gradienti.manual_seed(11)
        _check(ours, theirs, _self_attention(need_weights=need_weights), [(L, N, E)])
        ours.eval()
        theirs.eval()
        with torch.no_grad(), gradienti.no_grad():
            x_ours, x_theirs = _inputs([(L, N, E)], seed=5)
            a = ours(x_ours[0], x_ours[0], x_ours[0], need_weights=need_weights)
            b = theirs(x_theirs[0], x_theirs[0], x_theirs[0], need_weights=need_weights)
        _close(a[0], b[0])


def test_fully_masked_row_nan_with_weights_and_zero_without():
    ours, theirs = _pair()

    def call(layer, lib, x, need_weights):
        padding = lib.tensor(np.array([[True] * L, [False] * L]))
        return layer(x, x, x, key_padding_mask=padding, need_weights=need_weights)

    for need_weights in (True, False):
        our_inputs, their_inputs = _inputs([(L, N, E)])
        a = call(ours, gradienti, our_inputs[0], need_weights)
        b = call(theirs, torch, their_inputs[0], need_weights)
        _close(a[0], b[0])
        _close(a[1], b[1])


def test_functional_form():
    ours, theirs = _pair()
    our_inputs, their_inputs = _inputs([(L, N, E)])
    results = []
    for layer, lib, x in ((ours, gradienti, our_inputs[0]), (theirs, torch, their_inputs[0])):
        results.append(
            lib.nn.functional.multi_head_attention_forward(
                x,
                x,
                x,
                E,
                HEADS,
                layer.in_proj_weight,
                layer.in_proj_bias,
                None,
                None,
                False,
                0.0,
                layer.out_proj.weight,
                layer.out_proj.bias,
                need_weights=True,
                average_attn_weights=False,
            )
        )
    _close(results[0][0], results[1][0])
    _close(results[0][1], results[1][1])


def test_gradcheck_and_gradgradcheck_float64():
    gradienti.manual_seed(0)
    layer = gradienti.nn.MultiheadAttention(4, 2, add_bias_kv=True, kdim=3, vdim=3).double()
    rng = np.random.default_rng(0)
    q = gradienti.tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    k = gradienti.tensor(rng.standard_normal((3, 1, 3)), requires_grad=True)
    mask = gradienti.tensor(np.array([[False, True, False]]))
    for need_weights in (True, False):

        def attend(q, k, need_weights=need_weights):
            return layer(q, k, k, key_padding_mask=mask, need_weights=need_weights)[0]

        assert gradienti.autograd.gradcheck(attend, (q, k))
        assert gradienti.autograd.gradgradcheck(attend, (q, k))


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)
    return None


@pytest.mark.parametrize(
    "construct",
    [
        lambda lib: lib.nn.MultiheadAttention(6, 4),
        lambda lib: lib.nn.MultiheadAttention(0, 2),
        lambda lib: lib.nn.MultiheadAttention(4, -1),
    ],
)
def test_constructor_errors(construct):
    ours, theirs = _error(lambda: construct(gradienti)), _error(lambda: construct(torch))
    assert theirs is not None
    assert ours == (theirs[0], theirs[1])


@pytest.mark.parametrize(
    "forward",
    [
        lambda lib, m, x: m(x[0], x, x),
        lambda lib, m, x: m(x, x[0], x[0]),
        lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(2, 2, dtype=lib.bool)),
        lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(5, L, L, dtype=lib.bool)),
        lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(L, L, dtype=lib.int64)),
        lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(N, L + 1, dtype=lib.bool)),
        lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(L, dtype=lib.bool)),
        lambda lib, m, x: m(x, x, x, is_causal=True),
        lambda lib, m, x: m(x, x[:, :, :4], x),
        lambda lib, m, x: m(x, x, x[:2]),
        lambda lib, m, x: m(x[None], x[None], x[None]),
    ],
)
def test_forward_errors(forward):
    ours, theirs = _pair()
    our_inputs, their_inputs = _inputs([(L, N, E)])
    mine = _error(lambda: forward(gradienti, ours, our_inputs[0]))
    expected = _error(lambda: forward(torch, theirs, their_inputs[0]))
    assert expected is not None
    assert mine == expected


def test_mismatched_mask_types_warn_as_pytorch():
    ours, theirs = _pair()
    our_inputs, their_inputs = _inputs([(L, N, E)])
    for layer, lib, x in ((ours, gradienti, our_inputs[0]), (theirs, torch, their_inputs[0])):
        padding = lib.zeros(N, L, dtype=lib.bool)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and"):
            layer(x, x, x, key_padding_mask=padding, attn_mask=lib.zeros(L, L))


@pytest.mark.parametrize("need_weights", [True, False])
def test_memory_as_key_and_value(need_weights):
    """key is value (a decoder attending to the encoder's memory): PyTorch projects them
    together; the same numbers either way."""
    ours, theirs = _pair(batch_first=True)

    def call(layer, lib, q, memory):
        return layer(q, memory, memory, need_weights=need_weights)

    _check(ours, theirs, call, [(N, L, E), (N, S, E)])


def test_second_derivatives_match_torch():
    """With weights (PyTorch's own ops; its fused CPU kernel of need_weights=False has no
    double backward: gradgradcheck covers that path above)."""
    results = []
    for lib, inputs in zip((gradienti, torch), _inputs([(L, N, E)], seed=4, dtype=np.float64)):
        lib.manual_seed(7)
        layer = lib.nn.MultiheadAttention(E, HEADS).double()
        (x,) = inputs
        out = layer(x, x, x)[0]
        (first,) = lib.autograd.grad(out, (x,), lib.ones_like(out) * 0.5, create_graph=True)
        weight = lib.tensor(np.random.default_rng(5).standard_normal((L, N, E)))
        second = lib.autograd.grad((first * weight).sum(), (x, layer.in_proj_weight))
        results.append([g.detach().numpy() for g in second])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("heads", [2, 1])
def test_eval_mode_fully_padded_sequence_as_pytorch(grad, need_weights, heads):
    """In eval mode without gradients PyTorch runs its native fast path (a fully padded
    sequence gives NaN even with need_weights=False); with gradients, or odd heads, the
    regular path (0 there without weights)."""
    outputs = []
    x = np.random.default_rng(6).standard_normal((N, L, E)).astype(np.float32)
    padding = np.array([[True] * L, [False, False, True]])
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        layer = lib.nn.MultiheadAttention(E, heads, batch_first=True).eval()
        with lib.set_grad_enabled(grad):
            inputs = lib.tensor(x)
            outputs.append(
                layer(
                    inputs,
                    inputs,
                    inputs,
                    key_padding_mask=lib.tensor(padding),
                    need_weights=need_weights,
                )
            )
    _close(outputs[0][0], outputs[1][0])
    _close(outputs[0][1], outputs[1][1])


@pytest.mark.parametrize("masks", ["none", "padding", "attn 2d", "attn 3d and padding"])
def test_merge_masks(masks):
    results = []
    rng = np.random.default_rng(8)
    attn_2d = rng.standard_normal((L, L)).astype(np.float32)
    attn_3d = rng.standard_normal((N * HEADS, L, L)).astype(np.float32)
    padding = rng.standard_normal((N, L)).astype(np.float32)
    query = np.zeros((N, L, E), np.float32)
    for lib, layer in zip((gradienti, torch), _pair(batch_first=True)):
        attn = {"attn 2d": attn_2d, "attn 3d and padding": attn_3d}.get(masks)
        pad = padding if masks in ("padding", "attn 3d and padding") else None
        results.append(
            layer.merge_masks(
                None if attn is None else lib.tensor(attn),
                None if pad is None else lib.tensor(pad),
                lib.tensor(query),
            )
        )
    (our_mask, our_type), (their_mask, their_type) = results
    assert our_type == their_type
    _close(our_mask, their_mask)
