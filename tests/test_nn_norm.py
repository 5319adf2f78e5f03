"""Batch and layer normalisation (F.batch_norm, F.layer_norm, BatchNorm1d/2d, LayerNorm).

Against torch (weights copied with load_state_dict, a random non-uniform upstream gradient):
outputs, input/weight/bias gradients, running statistics over several steps, train/eval,
second derivatives, reprs, state_dict keys and error texts. Always: float64 finite
differences (gradcheck, gradgradcheck) of both fused ops, in training and eval mode.
"""

import itertools

import numpy as np
import pytest
from torch_oracle import assert_close, copy_weights, to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def close(g, t, tol=1e-5):
    assert_close(g, t, tol)


def randomize_affine(torch, tmodule):
    with torch.no_grad():
        if getattr(tmodule, "weight", None) is not None:
            tmodule.weight.uniform_(0.5, 1.5)
        if getattr(tmodule, "bias", None) is not None:
            tmodule.bias.uniform_(-1.0, 1.0)


def step_and_compare(torch, gmodule, tmodule, x, tol=1e-5):
    """One forward and backward of both modules on ``x``; outputs and all gradients equal."""
    xt = x.clone().requires_grad_()
    xg = to_g(x, True)
    yt = tmodule(xt)
    yg = gmodule(xg)
    close(yg, yt, tol)
    upstream = torch.randn(yt.shape, dtype=yt.dtype)
    yt.backward(upstream)
    yg.backward(to_g(upstream))
    close(xg.grad, xt.grad, tol)
    for name, tparam in tmodule.named_parameters():
        gparam = dict(gmodule.named_parameters())[name]
        close(gparam.grad, tparam.grad, tol)
    gmodule.zero_grad()
    tmodule.zero_grad()
    return yg


def compare_buffers(gmodule, tmodule):
    for name, tbuf in tmodule.named_buffers():
        gbuf = dict(gmodule.named_buffers())[name]
        assert gbuf.dtype.name == str(tbuf.dtype).replace("torch.", "")
        close(gbuf, tbuf, 1e-6)


# ---------------------------------------------------------------------- BatchNorm vs torch
BATCH_NORM_CASES = [
    ("BatchNorm1d", (8, 3)),
    ("BatchNorm1d", (4, 3, 5)),
    ("BatchNorm2d", (4, 3, 5, 6)),
]


@pytest.mark.parametrize("name, shape", BATCH_NORM_CASES)
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batch_norm_training_steps_then_eval_match_torch(torch, name, shape, momentum):
    torch.manual_seed(0)
    tmodule = getattr(torch.nn, name)(3, momentum=momentum)
    randomize_affine(torch, tmodule)
    gmodule = getattr(nn, name)(3, momentum=momentum)
    copy_weights(gmodule, tmodule)
    for step in range(4):
        x = torch.randn(shape) * (step + 1) + step  # statistics that move from step to step
        y = step_and_compare(torch, gmodule, tmodule, x)
        assert y.grad_fn.name() == "NativeBatchNormBackward0"
        compare_buffers(gmodule, tmodule)
    assert gmodule.num_batches_tracked.item() == 4
    gmodule.eval()
    tmodule.eval()
    for _ in range(2):  # eval mode: running statistics normalise and stay as they are
        step_and_compare(torch, gmodule, tmodule, torch.randn(shape) * 3)
        compare_buffers(gmodule, tmodule)
    assert gmodule.num_batches_tracked.item() == 4
    gmodule.train()
    tmodule.train()
    step_and_compare(torch, gmodule, tmodule, torch.randn(shape))
    compare_buffers(gmodule, tmodule)


@pytest.mark.parametrize("affine, bias", [(False, True), (True, False)])
@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_options_match_torch(torch, affine, bias, track):
    torch.manual_seed(1)
    tmodule = torch.nn.BatchNorm2d(2, affine=affine, bias=bias, track_running_stats=track)
    randomize_affine(torch, tmodule)
    gmodule = nn.BatchNorm2d(2, affine=affine, bias=bias, track_running_stats=track)
    copy_weights(gmodule, tmodule)
    assert list(gmodule.state_dict()) == list(tmodule.state_dict())
    assert repr(gmodule) == repr(tmodule)
    for training in (True, False, True):
        gmodule.train(training)
        tmodule.train(training)
        step_and_compare(torch, gmodule, tmodule, torch.randn(3, 2, 4, 4) * 2 - 1)
        compare_buffers(gmodule, tmodule)


def test_batch_norm_float64_module(torch):
    torch.manual_seed(2)
    tmodule = torch.nn.BatchNorm1d(4).double()
    randomize_affine(torch, tmodule)
    gmodule = nn.BatchNorm1d(4).double()
    assert gmodule.num_batches_tracked.dtype == gradienti.int64  # not converted
    assert gmodule.running_mean.dtype == gradienti.float64
    copy_weights(gmodule, tmodule)
    for _ in range(3):
        step_and_compare(torch, gmodule, tmodule, torch.randn(6, 4, 3, dtype=torch.float64), 1e-12)
        compare_buffers(gmodule, tmodule)


def test_functional_batch_norm_matches_torch(torch):
    torch.manual_seed(3)
    x = torch.randn(5, 3, 4, dtype=torch.float64) * 2 + 1
    w = torch.rand(3, dtype=torch.float64) + 0.5
    b = torch.randn(3, dtype=torch.float64)
    for training in (True, False):
        for weight, bias in ((w, b), (w, None), (None, b), (None, None)):
            t_mean = torch.randn(3, dtype=torch.float64)
            t_var = torch.rand(3, dtype=torch.float64) + 0.5
            g_mean, g_var = to_g(t_mean), to_g(t_var)
            xt = x.clone().requires_grad_()
            xg = to_g(x, True)
            params_t = [
                p.clone().requires_grad_() if p is not None else None for p in (weight, bias)
            ]
            params_g = [to_g(p, True) if p is not None else None for p in (weight, bias)]
            yt = torch.nn.functional.batch_norm(
                xt, t_mean, t_var, *params_t, training=training, momentum=0.3, eps=1e-3
            )
            yg = F.batch_norm(
                xg, g_mean, g_var, *params_g, training=training, momentum=0.3, eps=1e-3
            )
            close(yg, yt, 1e-12)
            close(g_mean, t_mean, 1e-12)
            close(g_var, t_var, 1e-12)
            upstream = torch.randn(yt.shape, dtype=torch.float64)
            yt.backward(upstream)
            yg.backward(to_g(upstream))
            close(xg.grad, xt.grad, 1e-12)
            for pg, pt in zip(params_g, params_t):
                if pt is not None:
                    close(pg.grad, pt.grad, 1e-12)


def test_batch_norm_without_running_stats_in_training(torch):
    torch.manual_seed(4)
    x = torch.randn(6, 2, 3)
    yt = torch.nn.functional.batch_norm(x, None, None, training=True)
    yg = F.batch_norm(to_g(x), None, None, training=True)
    close(yg, yt)


def test_batch_norm_empty_batch_leaves_running_stats(torch):
    gmodule = nn.BatchNorm1d(3)
    tmodule = torch.nn.BatchNorm1d(3)
    yg = gmodule(gradienti.zeros(0, 3))
    yt = tmodule(torch.zeros(0, 3))
    assert tuple(yg.shape) == tuple(yt.shape) == (0, 3)
    compare_buffers(gmodule, tmodule)


def test_batch_norm_double_backward_matches_torch(torch):
    """Second derivatives (create_graph) in x, weight and the upstream gradient, vs torch."""
    torch.manual_seed(5)
    x = torch.randn(4, 3, 2, dtype=torch.float64)
    w = torch.rand(3, dtype=torch.float64) + 0.5
    b = torch.randn(3, dtype=torch.float64)
    u = torch.randn(4, 3, 2, dtype=torch.float64)
    v = torch.randn(4, 3, 2, dtype=torch.float64)
    for training in (True, False):
        mean_t, var_t = torch.randn(3, dtype=torch.float64), torch.rand(3, dtype=torch.float64) + 1
        ts = [t.clone().requires_grad_() for t in (x, w, b, u)]
        gs = [to_g(t, True) for t in (x, w, b, u)]
        yt = torch.nn.functional.batch_norm(ts[0], mean_t, var_t, ts[1], ts[2], training)
        yg = F.batch_norm(gs[0], to_g(mean_t), to_g(var_t), gs[1], gs[2], training)
        first_t = torch.autograd.grad(yt, ts[:2], ts[3], create_graph=True)
        first_g = gradienti.autograd.grad(yg, gs[:2], gs[3], create_graph=True)
        scalar_t = (first_t[0] * v).sum() + (first_t[1] * v[0, :, 0]).sum()
        scalar_g = (first_g[0] * to_g(v)).sum() + (first_g[1] * to_g(v[0, :, 0])).sum()
        second_t = torch.autograd.grad(scalar_t, [ts[0], ts[1], ts[3]], allow_unused=True)
        second_g = gradienti.autograd.grad(scalar_g, [gs[0], gs[1], gs[3]], allow_unused=True)
        for sg, st in zip(second_g, second_t):
            if st is None:
                assert sg is None or np.allclose(sg.numpy(), 0)
            else:
                close(sg, st, 1e-10)


# ---------------------------------------------------------------------- finite differences
def _f64(*shape, positive=False):
    values = gradienti.rand(*shape, dtype=gradienti.float64) + 0.5
    if not positive:
        values = gradienti.randn(*shape, dtype=gradienti.float64)
    return values.requires_grad_()


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 4), (2, 2, 2, 3)])
def test_batch_norm_gradcheck_and_gradgradcheck(training, shape):
    gradienti.manual_seed(6)
    x, w, b = _f64(*shape), _f64(2, positive=True), _f64(2)
    mean = gradienti.randn(2, dtype=gradienti.float64)
    var = gradienti.rand(2, dtype=gradienti.float64) + 0.5

    def fn(x, w, b):
        # copies: the running statistics must not move between finite-difference evaluations
        return F.batch_norm(x, mean.clone(), var.clone(), w, b, training=training, eps=1e-3)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, mean.clone(), var.clone(), training=training), (x,))
    assert gradgradcheck(
        lambda x: F.batch_norm(x, mean.clone(), var.clone(), training=training), (x,)
    )


@pytest.mark.parametrize("normalized", [(4,), (3, 4)])
def test_layer_norm_gradcheck_and_gradgradcheck(normalized):
    gradienti.manual_seed(7)
    x = _f64(2, 3, 4)
    w, b = _f64(*normalized, positive=True), _f64(*normalized)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, normalized), (x,))
    assert gradgradcheck(lambda x, w: F.layer_norm(x, normalized, w), (x, w))


def test_gradcheck_detects_a_wrong_statistics_gradient():
    """The checks above can fail: detaching the statistics (a classic mistake) is caught."""
    gradienti.manual_seed(8)
    x = _f64(4, 3)

    def wrong(x):
        mean = x.detach().mean(1, keepdim=True)
        return (x - mean) / (x.detach().var(1, unbiased=False, keepdim=True) + 1e-5).sqrt()

    assert not gradcheck(wrong, (x,), raise_exception=False)
    assert gradcheck(lambda x: F.layer_norm(x, (3,)), (x,))


# ---------------------------------------------------------------------- LayerNorm vs torch
@pytest.mark.parametrize(
    "normalized, kwargs",
    [
        (8, {}),
        ((3, 8), {}),
        (8, {"elementwise_affine": False}),
        (8, {"bias": False}),
        ([8], {"eps": 1e-3}),
    ],
)
def test_layer_norm_module_matches_torch(torch, normalized, kwargs):
    torch.manual_seed(9)
    tmodule = torch.nn.LayerNorm(normalized, **kwargs)
    randomize_affine(torch, tmodule)
    gmodule = nn.LayerNorm(normalized, **kwargs)
    assert repr(gmodule) == repr(tmodule)
    assert list(gmodule.state_dict()) == list(tmodule.state_dict())
    copy_weights(gmodule, tmodule)
    y = step_and_compare(torch, gmodule, tmodule, torch.randn(2, 3, 8) * 3 + 1)
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    step_and_compare(torch, gmodule, tmodule, torch.randn(3, 8))


def test_layer_norm_double_backward_matches_torch(torch):
    torch.manual_seed(10)
    x, u, v = (torch.randn(3, 5, dtype=torch.float64) for _ in range(3))
    w, b = torch.rand(5, dtype=torch.float64) + 0.5, torch.randn(5, dtype=torch.float64)
    ts = [t.clone().requires_grad_() for t in (x, w, b, u)]
    gs = [to_g(t, True) for t in (x, w, b, u)]
    yt = torch.nn.functional.layer_norm(ts[0], (5,), ts[1], ts[2])
    yg = F.layer_norm(gs[0], (5,), gs[1], gs[2])
    (dxt,) = torch.autograd.grad(yt, ts[0], ts[3], create_graph=True)
    (dxg,) = gradienti.autograd.grad(yg, gs[0], gs[3], create_graph=True)
    second_t = torch.autograd.grad((dxt * v).sum(), [ts[0], ts[1], ts[3]])
    second_g = gradienti.autograd.grad((dxg * to_g(v)).sum(), [gs[0], gs[1], gs[3]])
    for sg, st in zip(second_g, second_t):
        close(sg, st, 1e-10)


def test_layer_norm_matches_torch_for_a_1d_input(torch):
    x = torch.tensor([1.0, 2.0, 4.0, 8.0])
    close(F.layer_norm(to_g(x), (4,)), torch.nn.functional.layer_norm(x, (4,)))


# ---------------------------------------------------------------------- repr and state_dict
def test_reprs_match_torch(torch):
    pairs = [
        (nn.BatchNorm2d(16), torch.nn.BatchNorm2d(16)),
        (
            nn.BatchNorm1d(4, eps=1e-3, momentum=None),
            torch.nn.BatchNorm1d(4, eps=1e-3, momentum=None),
        ),
        (
            nn.BatchNorm1d(4, affine=False, track_running_stats=False),
            torch.nn.BatchNorm1d(4, affine=False, track_running_stats=False),
        ),
        (nn.LayerNorm(8), torch.nn.LayerNorm(8)),
        (
            nn.LayerNorm([2, 3], elementwise_affine=False),
            torch.nn.LayerNorm([2, 3], elementwise_affine=False),
        ),
    ]
    for gmodule, tmodule in pairs:
        assert repr(gmodule) == repr(tmodule)
    assert repr(nn.BatchNorm2d(16)) == (
        "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert repr(nn.LayerNorm(8)) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"


def test_state_dict_keys_and_buffers_match_torch(torch):
    gmodule = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4))
    tmodule = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.LayerNorm(4)
    )
    assert list(gmodule.state_dict()) == list(tmodule.state_dict())
    assert [name for name, _ in gmodule.named_buffers()] == [
        name for name, _ in tmodule.named_buffers()
    ]
    assert [name for name, _ in gmodule.named_parameters()] == [
        name for name, _ in tmodule.named_parameters()
    ]
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"]


def test_initial_values_and_resets():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1.0, 1.0, 1.0] and bn.bias.tolist() == [0.0, 0.0, 0.0]
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == gradienti.int64
    bn(gradienti.randn(2, 3, 2, 2) * 5 + 3)
    with gradienti.no_grad():
        bn.weight.fill_(2.0)
    assert bn.num_batches_tracked.item() == 1 and bn.running_mean.abs().sum().item() > 0
    bn.reset_parameters()
    assert bn.weight.tolist() == [1.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.num_batches_tracked.item() == 0
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and ln.weight.sum().item() == 6 and ln.bias.sum().item() == 0


def test_load_state_dict_without_step_counter():
    """A state dict without num_batches_tracked loads (read as a pre-version-2 one)."""
    source = nn.BatchNorm1d(3)
    source(gradienti.randn(4, 3) + 2)
    state = source.state_dict()
    del state["num_batches_tracked"]
    target = nn.BatchNorm1d(3)
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.running_mean.tolist() == source.running_mean.tolist()
    assert target.num_batches_tracked.item() == 0


def test_eval_without_running_stats_uses_batch_statistics(torch):
    torch.manual_seed(11)
    tmodule = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    gmodule = nn.BatchNorm1d(3, track_running_stats=False).eval()
    step_and_compare(torch, gmodule, tmodule, torch.randn(5, 3) * 4)


# ---------------------------------------------------------------------- errors
def _same_error(torch, g_call, t_call):
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as g_info:
        g_call()
    assert str(g_info.value) == str(t_info.value)


def test_errors_match_torch(torch):
    tF = torch.nn.functional
    x = torch.randn(4, 3)
    ones3, ones4 = torch.ones(3), torch.ones(4)
    g = to_g
    cases = [
        (
            lambda: nn.BatchNorm1d(3)(g(torch.randn(2, 3, 4, 5))),
            lambda: torch.nn.BatchNorm1d(3)(torch.randn(2, 3, 4, 5)),
        ),
        (
            lambda: nn.BatchNorm2d(3)(g(torch.randn(2, 3, 4))),
            lambda: torch.nn.BatchNorm2d(3)(torch.randn(2, 3, 4)),
        ),
        (
            lambda: nn.BatchNorm1d(3)(g(torch.randn(1, 3))),
            lambda: torch.nn.BatchNorm1d(3)(torch.randn(1, 3)),
        ),
        (
            lambda: nn.BatchNorm1d(3)(g(torch.randn(1, 3, 1))),
            lambda: torch.nn.BatchNorm1d(3)(torch.randn(1, 3, 1)),
        ),
        (
            lambda: nn.BatchNorm2d(3)(g(torch.randn(2, 4, 3, 3))),
            lambda: torch.nn.BatchNorm2d(3)(torch.randn(2, 4, 3, 3)),
        ),
        (lambda: F.batch_norm(g(x), None, None), lambda: tF.batch_norm(x, None, None)),
        (lambda: F.batch_norm(g(x), g(ones3), None), lambda: tF.batch_norm(x, ones3, None)),
        (
            lambda: F.batch_norm(g(x), g(ones3), None, training=True),
            lambda: tF.batch_norm(x, ones3, None, training=True),
        ),
        (lambda: F.batch_norm(g(x), g(ones4), g(ones4)), lambda: tF.batch_norm(x, ones4, ones4)),
        (
            lambda: F.batch_norm(g(x), g(ones3), g(ones4)),
            lambda: tF.batch_norm(x, ones3, ones4),
        ),
        (
            lambda: F.batch_norm(g(x), g(ones3), g(ones3), g(ones4)),
            lambda: tF.batch_norm(x, ones3, ones3, ones4),
        ),
        (
            lambda: F.batch_norm(g(x), g(ones3), g(ones3), None, g(ones4)),
            lambda: tF.batch_norm(x, ones3, ones3, None, ones4),
        ),
        (
            lambda: F.batch_norm(g(x), None, None, training=True, eps=0.0),
            lambda: tF.batch_norm(x, None, None, training=True, eps=0.0),
        ),
        (
            lambda: F.batch_norm(g(x), g(ones3), g(ones3), eps=-1.0),
            lambda: tF.batch_norm(x, ones3, ones3, eps=-1.0),
        ),
        (
            lambda: F.batch_norm(g(x.long()), g(ones3), g(ones3)),
            lambda: tF.batch_norm(x.long(), ones3, ones3),
        ),
        (
            lambda: F.batch_norm(g(x), None, None, g(ones3.double()), training=True),
            lambda: tF.batch_norm(x, None, None, ones3.double(), training=True),
        ),
        (lambda: F.layer_norm(g(x), (8,)), lambda: tF.layer_norm(x, (8,))),
        (lambda: F.layer_norm(g(x), (2, 4, 3)), lambda: tF.layer_norm(x, (2, 4, 3))),
        (lambda: F.layer_norm(g(x), ()), lambda: tF.layer_norm(x, ())),
        (lambda: F.layer_norm(g(x), 3), lambda: tF.layer_norm(x, 3)),
        (lambda: F.layer_norm(g(x), (3,), g(ones4)), lambda: tF.layer_norm(x, (3,), ones4)),
        (
            lambda: F.layer_norm(g(x), (3,), None, g(ones4)),
            lambda: tF.layer_norm(x, (3,), None, ones4),
        ),
        (lambda: F.layer_norm(g(x.long()), (3,)), lambda: tF.layer_norm(x.long(), (3,))),
    ]
    for g_call, t_call in cases:
        _same_error(torch, g_call, t_call)


def test_a_failed_call_changes_nothing():
    bn = nn.BatchNorm1d(3)
    bn(gradienti.randn(4, 3) * 2 + 1)
    before = (bn.running_mean.tolist(), bn.running_var.tolist(), bn.num_batches_tracked.item())
    for bad in (gradienti.randn(1, 3), gradienti.randn(4, 5), gradienti.randn(4, 3, 2, 2)):
        with pytest.raises((ValueError, RuntimeError)):
            bn(bad)
        after = (bn.running_mean.tolist(), bn.running_var.tolist(), bn.num_batches_tracked.item())
        assert after == before


@pytest.mark.parametrize("input_dtype", ["float32", "float64"])
def test_mixed_dtype_errors_match_torch(torch, input_dtype):
    """Every combination of float32/float64 parameters: the same verdict and text as torch."""
    x = torch.randn(4, 3, dtype=getattr(torch, input_dtype))
    for dtypes in itertools.product(("float32", "float64"), repeat=4):
        if all(name == input_dtype for name in dtypes):
            continue
        params = [torch.rand(3, dtype=getattr(torch, name)) + 0.5 for name in dtypes]
        _same_error(
            torch,
            lambda params=params: F.batch_norm(to_g(x), *[to_g(p) for p in params]),
            lambda params=params: torch.nn.functional.batch_norm(x, *params),
        )
    for weight_dtype, bias_dtype in (("float64", "float32"), ("float32", "float64")):
        weight = torch.ones(3, dtype=getattr(torch, weight_dtype))
        bias = torch.zeros(3, dtype=getattr(torch, bias_dtype))
        if weight.dtype == x.dtype and bias.dtype == x.dtype:
            continue
        _same_error(
            torch,
            lambda w=weight, b=bias: F.layer_norm(to_g(x), (3,), to_g(w), to_g(b)),
            lambda w=weight, b=bias: torch.nn.functional.layer_norm(x, (3,), w, b),
        )


def test_eval_graph_keeps_its_statistics_when_training_moves_them():
    """Backward of an eval-mode output uses the running statistics of its forward, even after
    a training step changed the buffers in place."""
    gradienti.manual_seed(12)
    bn = nn.BatchNorm1d(2)
    bn(gradienti.randn(5, 2) * 3 + 2)
    bn.eval()
    x = gradienti.randn(4, 2, requires_grad=True)
    y = bn(x)
    invstd = 1 / (bn.running_var + bn.eps).sqrt()
    expected_x = (bn.weight * invstd).detach().numpy()
    expected_w = ((x - bn.running_mean) * invstd).sum(0).detach().numpy()
    bn.train()
    bn(gradienti.randn(5, 2) * 10 - 7)
    bn.zero_grad()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected_x, (4, 2)), rtol=1e-6)
    np.testing.assert_allclose(bn.weight.grad.numpy(), expected_w, rtol=1e-5, atol=1e-6)
