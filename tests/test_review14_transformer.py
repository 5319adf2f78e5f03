"""Review of issue 14's normalisation layers and transformer: regression tests, against torch,
for the wrong results the review found (each test failed before its fix)."""

import numpy as np
import pytest

import gradienti
import gradienti.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def test_group_norm_half_precision_accumulates_in_float32_as_torch(torch):
    """float16 statistics summed in float16 overflowed (6000 values near 200: NaN) and
    rounded each step; ATen sums in float32 and rounds the result once."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 4, 3000)) * 3 + 200).astype(np.float16)
    w = rng.standard_normal(4).astype(np.float16)
    b = rng.standard_normal(4).astype(np.float16)
    upstream = rng.standard_normal(x.shape).astype(np.float16)
    results = []
    for lib in (torch, gradienti):
        inputs = [lib.tensor(array, requires_grad=True) for array in (x, w, b)]
        y = lib.nn.functional.group_norm(*inputs[:1], 2, *inputs[1:])
        y.backward(lib.tensor(upstream))
        assert str(y.dtype) == "torch.float16"
        assert all(str(t.grad.dtype) == "torch.float16" for t in inputs)
        results.append([y.detach().float().numpy()] + [t.grad.float().numpy() for t in inputs])
    for got, expected in zip(results[1], results[0]):
        assert np.isfinite(got).all()
        # float16 rounding of the same float32 values: within a unit in the last place
        np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3)


def test_group_norm_half_precision_small_input_rounds_as_torch(torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 300)).astype(np.float16)
    expected = torch.nn.functional.group_norm(torch.tensor(x), 2).numpy()
    got = F.group_norm(gradienti.tensor(x), 2).numpy()
    # one rounding of float32 statistics: (almost) every element as torch's, not half of them
    assert (got != expected).mean() < 0.01


@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 4), (2, 6), (5,), (2, 5, 1)])
@pytest.mark.parametrize("mask_check, with_mask", [(True, False), (True, True), (False, False)])
def test_eval_encoder_bad_padding_mask_raises_as_torch(torch, mask_shape, mask_check, with_mask):
    """The eval-mode encoder checks the padding mask as ATen's nested-tensor packing does
    (before looking at ``mask`` when mask_check): a 1-D mask failed inside NumPy with an
    IndexError, a wrong-sized one with the attention's AssertionError."""
    errors = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        encoder = lib.nn.TransformerEncoder(layer, 2, mask_check=mask_check).eval()
        extra = {"mask": lib.zeros(5, 5)} if with_mask else {}
        with lib.no_grad(), pytest.raises(Exception) as caught:
            encoder(
                lib.randn(2, 5, 8),
                src_key_padding_mask=lib.zeros(*mask_shape, dtype=lib.bool),
                **extra,
            )
        errors.append((caught.type, str(caught.value)))
    assert errors[1] == errors[0]


@pytest.mark.parametrize("src_shape, tgt_shape", [((8,), (8,)), ((5, 8), (8,)), ((8,), (5, 8))])
def test_transformer_one_dimensional_input_raises_as_torch(torch, src_shape, tgt_shape):
    """PyTorch reads ``src.size(1)``/``tgt.size(1)`` before testing ``is_batched``: a 1-D
    input raises its IndexError there, not the attention's AssertionError later."""
    errors = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        model = lib.nn.Transformer(8, 2, 1, 1, 16, 0.0)
        with pytest.raises(Exception) as caught:
            model(lib.randn(*src_shape), lib.randn(*tgt_shape))
        errors.append((caught.type, str(caught.value)))
    assert errors[1] == errors[0]
    assert errors[0][0] is IndexError


ARGUMENT_ERRORS = [
    lambda lib, x: lib.group_norm(x, 2.0),
    lambda lib, x: lib.group_norm(x, True),
    lambda lib, x: lib.group_norm(x, None),
    lambda lib, x: lib.nn.functional.group_norm(x, 2.0),
    lambda lib, x: lib.nn.GroupNorm(2.0, 4)(x),
    lambda lib, x: lib.nn.functional.group_norm(x, 2, eps=None),
    lambda lib, x: lib.nn.functional.instance_norm(x, momentum=None),
    lambda lib, x: lib.nn.functional.instance_norm(x, eps=None),
    lambda lib, x: lib.instance_norm(x, None, None, None, None, True, "0.1", 1e-5, False),
]


@pytest.mark.parametrize("index", range(len(ARGUMENT_ERRORS)))
def test_norm_argument_types_raise_as_torchs_parser(torch, index):
    """num_groups, momentum and eps of the wrong type: PyTorch's argument-parser TypeErrors
    (they failed later, inside NumPy or batch_norm's arithmetic, with other texts)."""
    call = ARGUMENT_ERRORS[index]
    errors = []
    for lib in (torch, gradienti):
        with pytest.raises(Exception) as caught:
            call(lib, lib.ones(2, 4, 3))
        errors.append((caught.type, str(caught.value)))
    assert errors[1] == errors[0]
    assert errors[0][0] is TypeError


def test_norm_numeric_argument_types_accepted_as_torch(torch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    for call in (
        lambda lib, t: lib.group_norm(t, np.int64(2), None, None, 1),
        lambda lib, t: lib.instance_norm(
            t, None, None, None, None, True, True, np.float32(1e-3), False
        ),
    ):
        expected = call(torch, torch.tensor(x)).numpy()
        np.testing.assert_allclose(
            call(gradienti, gradienti.tensor(x)).numpy(), expected, 1e-5, 1e-6
        )


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("keys", [("running_mean", "running_var"), ("running_var",)])
def test_instance_norm_without_tracking_refuses_running_statistics_as_torch(torch, strict, keys):
    """A state dict without metadata holding running statistics for an instance norm that
    does not track them: PyTorch's error (even when not strict), the keys dropped; it was
    "Unexpected key(s)", and nothing at all when not strict."""
    outcomes = []
    for lib in (torch, gradienti):
        module = lib.nn.InstanceNorm2d(3, affine=True)
        state = dict(module.state_dict())
        state.update({key: lib.ones(3) for key in keys})
        given = dict(state)
        with pytest.raises(RuntimeError) as caught:
            module.load_state_dict(state, strict=strict)
        assert state == given  # the caller's dict is not changed
        outcomes.append(str(caught.value))
    assert outcomes[1] == outcomes[0]


def test_instance_norm_state_dict_round_trips_from_torch(torch):
    tmodule = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    tmodule(torch.randn(2, 3, 5))
    gmodule = gradienti.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    state = {key: gradienti.tensor(value.numpy()) for key, value in tmodule.state_dict().items()}
    assert str(gmodule.load_state_dict(state)) == "<All keys matched successfully>"
    for key, value in tmodule.state_dict().items():
        np.testing.assert_array_equal(gmodule.state_dict()[key].numpy(), value.numpy())


def test_instance_norm_takes_eps_zero_as_torch(torch):
    """ATen's instance_norm calls its batch_norm, without F.batch_norm's Python check that
    eps is positive in training: InstanceNorm with eps=0 works (it raised ValueError)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    upstream = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for lib in (torch, gradienti):
        module = lib.nn.InstanceNorm2d(3, eps=0.0, affine=True, track_running_stats=True)
        xs = lib.tensor(x, requires_grad=True)
        y = module(xs)
        y.backward(lib.tensor(upstream))
        module.eval()
        evaluated = module(lib.tensor(x))
        results.append(
            [y.detach().numpy(), xs.grad.numpy(), evaluated.detach().numpy()]
            + [buffer.numpy() for buffer in (module.running_mean, module.running_var)]
        )
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_torch_instance_norm_of_one_spatial_position_is_not_refused(torch):
    """torch.instance_norm (not F.instance_norm) has no Python check of the batch size:
    each channel's single value normalises to zero (it raised F.batch_norm's ValueError)."""
    x = np.random.default_rng(4).standard_normal((1, 4, 1)).astype(np.float32)
    expected = torch.instance_norm(torch.tensor(x), None, None, None, None, True, 0.1, 1e-5, False)
    got = gradienti.instance_norm(
        gradienti.tensor(x), None, None, None, None, True, 0.1, 1e-5, False
    )
    assert tuple(got.shape) == tuple(expected.shape)
    # (torch's values are rounding errors of x - mean times 1/sqrt(eps) ~ 316)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-3)


RUNNING_STATS_REQUIRING_GRAD = [
    lambda lib, x, stat: lib.nn.functional.batch_norm(x, stat, lib.ones(3), training=True),
    lambda lib, x, stat: lib.nn.functional.batch_norm(x, stat, lib.ones(3), training=False),
    lambda lib, x, stat: lib.nn.functional.batch_norm(x, lib.zeros(3), stat + 1, training=True),
    lambda lib, x, stat: lib.nn.functional.instance_norm(x, stat, lib.ones(3)),
    lambda lib, x, stat: lib.nn.functional.instance_norm(x, lib.zeros(3), stat + 1),
]


@pytest.mark.parametrize("index", range(len(RUNNING_STATS_REQUIRING_GRAD)))
def test_running_statistics_requiring_grad_raise_as_torch(torch, index):
    """Running statistics that require grad: PyTorch's error (in eval mode gradienti took
    them as constants, a gradient silently missing); under no_grad both accept them."""
    call = RUNNING_STATS_REQUIRING_GRAD[index]
    x = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    errors, outputs = [], []
    for lib in (torch, gradienti):
        stat = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError) as caught:
            call(lib, lib.tensor(x), stat)
        errors.append(str(caught.value))
        assert stat.grad is None and not stat.detach().numpy().any()  # nothing changed
        with lib.no_grad():
            outputs.append(call(lib, lib.tensor(x), lib.zeros(3, requires_grad=True)).numpy())
    assert errors[1] == errors[0]
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)
