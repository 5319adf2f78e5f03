"""Dropout, Embedding and nn.utils (gradient clipping, parameters as a vector) against torch.

Same-seed randomness is compared bit for bit: Embedding's N(0, 1) initialisation, and the
dropout mask where PyTorch draws it from its mt19937 generator (every CPU but Intel's, where
PyTorch's MKL build uses an MKL stream instead).
"""

import warnings

import numpy as np
import pytest
from torch_oracle import assert_close, to_g, torch_draws_bernoulli_p_from_mt19937

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def close(g, t, tol=1e-6):
    assert_close(g, t, tol)


def _same_error(g_call, t_call):
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as g_info:
        g_call()
    assert str(g_info.value) == str(t_info.value)


# ---------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_same_seed_same_mask_as_torch(torch, p, dtype):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip("PyTorch draws dropout masks from MKL's stream on this CPU")
    for seed in (0, 123):
        torch.manual_seed(seed)
        xt = torch.randn(7, 33, dtype=getattr(torch, dtype))
        yt = torch.nn.functional.dropout(xt, p)
        after_t = torch.rand(3, dtype=getattr(torch, dtype))  # the generator moved alike
        gradienti.manual_seed(seed)
        xg = gradienti.randn(7, 33, dtype=getattr(gradienti, dtype))
        yg = F.dropout(xg, p)
        after_g = gradienti.rand(3, dtype=getattr(gradienti, dtype))
        assert np.array_equal(yg.numpy(), yt.numpy())
        assert np.array_equal(after_g.numpy(), after_t.numpy())


def test_dropout_module_and_gradient_match_torch(torch):
    if not torch_draws_bernoulli_p_from_mt19937(torch):
        pytest.skip("PyTorch draws dropout masks from MKL's stream on this CPU")
    x = torch.randn(4, 50)
    torch.manual_seed(3)
    gradienti.manual_seed(3)
    t_layer, g_layer = torch.nn.Dropout(0.3), nn.Dropout(0.3)
    xt, xg = x.clone().requires_grad_(), to_g(x, True)
    yt, yg = t_layer(xt), g_layer(xg)
    assert yg.grad_fn.name() == yt.grad_fn.name() == "MulBackward0"
    upstream = torch.randn(4, 50)
    yt.backward(upstream)
    yg.backward(to_g(upstream))
    assert np.array_equal(xg.grad.numpy(), xt.grad.numpy())
    assert np.array_equal(yg.detach().numpy(), yt.detach().numpy())


def test_dropout_scales_kept_values_and_zeroes_the_rest():
    gradienti.manual_seed(0)
    x = gradienti.ones(20000, requires_grad=True)
    y = F.dropout(x, 0.25)
    values = y.detach().numpy()
    kept = values != 0
    assert np.allclose(values[kept], np.float32(1) / np.float32(0.75))
    assert abs(kept.mean() - 0.75) < 0.02  # a Bernoulli(0.75) fraction of 20000
    y.sum().backward()
    assert np.array_equal(x.grad.numpy() != 0, kept)


def test_dropout_identity_cases_return_the_input():
    x = gradienti.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.9).eval()
    assert layer(x) is x
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.eval()
    assert not model[1].training
    y = model(x)
    assert np.allclose(y.detach().numpy(), model[0](x).detach().numpy())


def test_dropout_p_one_gives_zeros(torch):
    x = gradienti.randn(2, 3, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert y.grad_fn.name() == "MulBackward0"
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()
    yt = torch.nn.functional.dropout(torch.randn(2, 3, requires_grad=True), 1.0)
    assert not yt.detach().numpy().any()


def test_dropout_inplace():
    gradienti.manual_seed(1)
    base = gradienti.randn(4, 6, requires_grad=True)
    h = base * 1.0
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h
    gradienti.manual_seed(1)
    gradienti.randn(4, 6)
    expected = F.dropout(base.detach() * 1.0, 0.5)
    assert np.array_equal(out.detach().numpy(), expected.numpy())
    out.sum().backward()
    assert np.array_equal(base.grad.numpy(), (expected.numpy() != 0) * np.float32(2.0))


def test_dropout_errors_and_repr_match_torch(torch):
    x = torch.randn(3)
    for p in (1.5, -0.1):
        _same_error(
            lambda p=p: F.dropout(to_g(x), p), lambda p=p: torch.nn.functional.dropout(x, p)
        )
        _same_error(lambda p=p: nn.Dropout(p), lambda p=p: torch.nn.Dropout(p))
    ints = torch.tensor([1, 2, 3])
    _same_error(lambda: F.dropout(to_g(ints), 0.5), lambda: torch.nn.functional.dropout(ints, 0.5))
    assert repr(nn.Dropout()) == repr(torch.nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.2, True)) == repr(torch.nn.Dropout(0.2, True))


# ---------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_init_same_seed_bitwise(torch, dtype):
    for seed, kwargs in ((0, {}), (42, {"padding_idx": 3}), (7, {"padding_idx": -1})):
        torch.manual_seed(seed)
        t_layer = torch.nn.Embedding(10, 5, dtype=getattr(torch, dtype), **kwargs)
        gradienti.manual_seed(seed)
        g_layer = nn.Embedding(10, 5, dtype=getattr(gradienti, dtype), **kwargs)
        assert np.array_equal(g_layer.weight.detach().numpy(), t_layer.weight.detach().numpy())
        assert g_layer.padding_idx == t_layer.padding_idx
        if g_layer.padding_idx is not None:
            assert not g_layer.weight.detach().numpy()[g_layer.padding_idx].any()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 2},
        {"scale_grad_by_freq": True},
        {"padding_idx": 7, "scale_grad_by_freq": True},
    ],
)
def test_embedding_forward_and_gradient_match_torch(torch, kwargs):
    torch.manual_seed(1)
    t_layer = torch.nn.Embedding(10, 4, **kwargs)
    g_layer = nn.Embedding(10, 4, **kwargs)
    g_layer.load_state_dict({k: to_g(v) for k, v in t_layer.state_dict().items()})
    indices = torch.tensor([[0, 2, 2, 7], [7, 1, 2, 7], [9, 9, 9, 0]])
    yt = t_layer(indices)
    yg = g_layer(to_g(indices))
    assert yg.grad_fn.name() == yt.grad_fn.name() == "EmbeddingBackward0"
    assert tuple(yg.shape) == (3, 4, 4)
    close(yg, yt, 0)
    upstream = torch.randn(yt.shape)
    yt.backward(upstream)
    yg.backward(to_g(upstream))
    close(g_layer.weight.grad, t_layer.weight.grad)
    if kwargs.get("padding_idx") is not None:
        assert not g_layer.weight.grad.numpy()[kwargs["padding_idx"]].any()


def test_embedding_gradient_adds_up_repeated_indices():
    weight = gradienti.zeros(4, 2, requires_grad=True)
    out = F.embedding(gradienti.tensor([1, 3, 1, 1]), weight)
    out.backward(gradienti.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]))
    assert weight.grad.tolist() == [[0.0, 0.0], [13.0, 16.0], [0.0, 0.0], [3.0, 4.0]]
    out = F.embedding(gradienti.tensor([1, 3, 1, 1]), weight, padding_idx=1)
    weight.grad = None
    out.backward(gradienti.ones(4, 2))
    assert weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]


def test_embedding_int32_and_scalar_indices(torch):
    w = torch.randn(6, 3)
    for indices in (torch.tensor([[1, 5], [0, 0]], dtype=torch.int32), torch.tensor(4)):
        yt = torch.nn.functional.embedding(indices, w)
        yg = F.embedding(to_g(indices), to_g(w))
        assert tuple(yg.shape) == tuple(yt.shape)
        close(yg, yt, 0)


def test_embedding_gradcheck_and_double_backward():
    gradienti.manual_seed(2)
    weight = gradienti.randn(6, 3, dtype=gradienti.float64, requires_grad=True)
    indices = gradienti.tensor([[0, 5, 5], [2, 0, 1]])
    assert gradcheck(lambda w: F.embedding(indices, w), (weight,))
    assert gradgradcheck(lambda w: F.embedding(indices, w), (weight,))


def test_embedding_double_backward_matches_torch(torch):
    """The weight gradient is linear in the upstream gradient; its own gradient (the padding
    row zeroed) matches torch's EmbeddingDenseBackwardBackward0."""
    torch.manual_seed(3)
    w = torch.randn(6, 3, dtype=torch.float64)
    u = torch.randn(2, 3, 3, dtype=torch.float64)
    v = torch.randn(6, 3, dtype=torch.float64)
    indices = torch.tensor([[0, 5, 5], [2, 0, 1]])
    wt, ut = w.clone().requires_grad_(), u.clone().requires_grad_()
    wg, ug = to_g(w, True), to_g(u, True)
    yt = torch.nn.functional.embedding(indices, wt, padding_idx=1)
    (gt,) = torch.autograd.grad(yt, wt, ut, create_graph=True)
    yg = F.embedding(to_g(indices), wg, padding_idx=1)
    (gg,) = gradienti.autograd.grad(yg, wg, ug, create_graph=True)
    assert gg.grad_fn.name() == gt.grad_fn.name() == "EmbeddingDenseBackwardBackward0"
    close(gg, gt, 1e-12)
    (second_t,) = torch.autograd.grad((gt * v).sum(), ut)
    (second_g,) = gradienti.autograd.grad((gg * to_g(v)).sum(), ug)
    close(second_g, second_t, 1e-12)


def test_embedding_scaled_gradient_is_differentiable_in_the_upstream_gradient():
    """With scale_grad_by_freq the weight gradient is sum_i u_i / count(index_i) per row: its
    derivative in u, checked by finite differences, includes the 1 / count. (PyTorch 2.13's
    double backward leaves the scaling out, so it is not the oracle here.)"""
    gradienti.manual_seed(4)
    weight = gradienti.randn(6, 3, dtype=gradienti.float64, requires_grad=True)
    upstream = gradienti.randn(2, 3, 3, dtype=gradienti.float64, requires_grad=True)
    indices = gradienti.tensor([[0, 5, 5], [2, 0, 1]])

    def weight_gradient(u):
        out = F.embedding(indices, weight, padding_idx=1, scale_grad_by_freq=True)
        return gradienti.autograd.grad(out, weight, u, create_graph=True)[0]

    assert gradcheck(weight_gradient, (upstream,))
    grad = weight_gradient(upstream).detach().numpy()
    u = upstream.detach().numpy()
    np.testing.assert_allclose(grad[5], (u[0, 1] + u[0, 2]) / 2)
    np.testing.assert_allclose(grad[2], u[1, 0])
    assert not grad[1].any()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_embedding_max_norm_renormalises_rows_like_torch(torch, norm_type):
    torch.manual_seed(4)
    w = torch.randn(8, 3) * 2
    indices = torch.tensor([[0, 2, 2], [5, 7, 0]])
    t_layer = torch.nn.Embedding.from_pretrained(w.clone(), max_norm=1.5, norm_type=norm_type)
    g_layer = nn.Embedding.from_pretrained(to_g(w), max_norm=1.5, norm_type=norm_type)
    yt = t_layer(indices)
    yg = g_layer(to_g(indices))
    close(yg, yt)
    close(g_layer.weight, t_layer.weight)  # the looked-up rows changed in place, others not
    assert np.array_equal(g_layer.weight.detach().numpy()[1], w.numpy()[1])


def test_from_pretrained(torch):
    w = torch.randn(5, 2)
    gw = to_g(w)
    frozen = nn.Embedding.from_pretrained(gw)
    assert not frozen.weight.requires_grad
    with gradienti.no_grad():
        gw.mul_(2)  # shared, not copied
    assert np.array_equal(frozen.weight.detach().numpy(), w.numpy() * 2)
    trainable = nn.Embedding.from_pretrained(to_g(w), freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    assert repr(trainable) == repr(
        torch.nn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    )
    assert np.array_equal(trainable.weight.detach().numpy(), w.numpy())  # no zeroed row


def test_embedding_repr_and_state_dict_match_torch(torch):
    cases = [
        ((10, 3), {}),
        ((10, 3), {"padding_idx": 0}),
        ((10, 3), {"padding_idx": -2}),
        ((10, 3), {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True}),
    ]
    for args, kwargs in cases:
        g_layer, t_layer = nn.Embedding(*args, **kwargs), torch.nn.Embedding(*args, **kwargs)
        assert repr(g_layer) == repr(t_layer)
        assert list(g_layer.state_dict()) == list(t_layer.state_dict()) == ["weight"]
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


def test_embedding_errors_match_torch(torch):
    w = torch.randn(5, 3)
    indices = torch.tensor([[0, 2], [4, 1]])
    tF = torch.nn.functional
    cases = [
        (
            lambda: F.embedding(to_g(indices.float()), to_g(w)),
            lambda: tF.embedding(indices.float(), w),
        ),
        (
            lambda: F.embedding(to_g(indices.bool()), to_g(w)),
            lambda: tF.embedding(indices.bool(), w),
        ),
        (
            lambda: F.embedding(gradienti.tensor([5]), to_g(w)),
            lambda: tF.embedding(torch.tensor([5]), w),
        ),
        (
            lambda: F.embedding(gradienti.tensor([-1]), to_g(w)),
            lambda: tF.embedding(torch.tensor([-1]), w),
        ),
        (lambda: F.embedding(to_g(indices), to_g(w[0])), lambda: tF.embedding(indices, w[0])),
        (
            lambda: F.embedding(to_g(indices), to_g(w), padding_idx=5),
            lambda: tF.embedding(indices, w, padding_idx=5),
        ),
        (
            lambda: F.embedding(to_g(indices), to_g(w), padding_idx=-6),
            lambda: tF.embedding(indices, w, padding_idx=-6),
        ),
        (
            lambda: nn.Embedding(5, 3, padding_idx=5),
            lambda: torch.nn.Embedding(5, 3, padding_idx=5),
        ),
        (
            lambda: nn.Embedding(5, 3, _weight=to_g(w.t())),
            lambda: torch.nn.Embedding(5, 3, _weight=w.t()),
        ),
        (
            lambda: nn.Embedding.from_pretrained(to_g(w[0])),
            lambda: torch.nn.Embedding.from_pretrained(w[0]),
        ),
    ]
    for g_call, t_call in cases:
        _same_error(g_call, t_call)


def test_embedding_failed_lookup_changes_nothing():
    weight = gradienti.randn(4, 2) * 5
    before = weight.numpy().copy()
    with pytest.raises(IndexError):
        F.embedding(gradienti.tensor([0, 9]), weight, max_norm=0.1)
    assert np.array_equal(weight.numpy(), before)


def test_embedding_sparse_is_refused():
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(4, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(gradienti.tensor([0]), gradienti.randn(4, 2), sparse=True)


# ---------------------------------------------------------------------- gradient clipping
def _model_pair(torch, seed=0):
    torch.manual_seed(seed)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    g_model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    g_model.load_state_dict({k: to_g(v) for k, v in t_model.state_dict().items()})
    x = torch.randn(6, 4) * 3
    (t_model(x) ** 2).sum().backward()
    (g_model(to_g(x)) ** 2).sum().backward()
    return g_model, t_model


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    g_model, t_model = _model_pair(torch)
    total_t = torch.nn.utils.clip_grad_norm_(t_model.parameters(), max_norm, norm_type)
    total_g = nn.utils.clip_grad_norm_(g_model.parameters(), max_norm, norm_type)
    assert isinstance(total_g, gradienti.Tensor) and total_g.dim() == 0
    close(total_g, total_t, 1e-5)
    for pg, pt in zip(g_model.parameters(), t_model.parameters()):
        close(pg.grad, pt.grad, 1e-6)
    if max_norm > 1e5:  # the coefficient is clamped to 1: nothing is scaled up
        g_fresh, _ = _model_pair(torch)
        for pg, pf in zip(g_model.parameters(), g_fresh.parameters()):
            assert np.array_equal(pg.grad.numpy(), pf.grad.numpy())
    else:
        assert nn.utils.get_total_norm(
            [p.grad for p in g_model.parameters()], norm_type
        ).item() <= (max_norm * (1 + 1e-5))


def test_clip_grad_norm_single_tensor_skips_missing_grads_and_no_graph(torch):
    p = gradienti.tensor([3.0, 4.0], requires_grad=True)
    (p * p).sum().backward()  # grad [6, 8], norm 10
    no_grad_param = gradienti.zeros(3, requires_grad=True)
    total = nn.utils.clip_grad_norm_([p, no_grad_param], 5.0)
    assert total.item() == pytest.approx(10.0)
    assert total.grad_fn is None and not total.requires_grad
    np.testing.assert_allclose(p.grad.numpy(), np.array([6.0, 8.0]) * 5 / (10 + 1e-6), rtol=1e-6)
    assert no_grad_param.grad is None
    q = gradienti.tensor([1.0, -2.0], requires_grad=True)
    q.sum().backward()
    assert nn.utils.clip_grad_norm_(q, 1.0).item() == pytest.approx(2**0.5)
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    assert repr(nn.utils.clip_grad_norm_([], 1.0)) == repr(torch.nn.utils.clip_grad_norm_([], 1.0))


def test_clip_grad_norm_nonfinite(torch):
    for inf_grad in ([1.0, float("inf"), 2.0], [float("nan"), 1.0, 1.0]):
        pt = torch.nn.Parameter(torch.ones(3))
        pt.grad = torch.tensor(inf_grad)
        pg = nn.Parameter(gradienti.ones(3))
        pg.grad = gradienti.tensor(inf_grad)
        _same_error(
            lambda pg=pg: nn.utils.clip_grad_norm_(pg, 1.0, error_if_nonfinite=True),
            lambda pt=pt: torch.nn.utils.clip_grad_norm_(pt, 1.0, error_if_nonfinite=True),
        )
        assert pg.grad.tolist()[1:] == pt.grad.tolist()[1:] or np.isnan(inf_grad[0])
        total_t = torch.nn.utils.clip_grad_norm_(pt, 1.0)
        total_g = nn.utils.clip_grad_norm_(pg, 1.0)
        np.testing.assert_array_equal(total_g.numpy(), total_t.numpy())
        np.testing.assert_array_equal(pg.grad.numpy(), pt.grad.numpy())


def test_clip_grad_norm_warns_for_an_empty_generator():
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_norm_([], 1.0)


def test_clip_grad_value_matches_torch(torch):
    g_model, t_model = _model_pair(torch, seed=1)
    torch.nn.utils.clip_grad_value_(t_model.parameters(), 0.3)
    result = nn.utils.clip_grad_value_(g_model.parameters(), 0.3)
    assert result is None
    for pg, pt in zip(g_model.parameters(), t_model.parameters()):
        close(pg.grad, pt.grad, 1e-6)
        assert np.abs(pg.grad.numpy()).max() <= np.float32(0.3)
    single = gradienti.tensor([1.0, -1.0], requires_grad=True)
    (single * gradienti.tensor([5.0, -0.1])).sum().backward()
    nn.utils.clip_grad_value_(single, 1)
    assert single.grad.tolist() == pytest.approx([1.0, -0.1])


def test_parameters_to_vector_and_back_match_torch(torch):
    g_model, t_model = _model_pair(torch, seed=2)
    vt = torch.nn.utils.parameters_to_vector(t_model.parameters())
    vg = nn.utils.parameters_to_vector(g_model.parameters())
    close(vg, vt, 0)
    assert vg.grad_fn is not None  # in the graph, as torch's (CatBackward0)
    new = torch.randn(vt.shape)
    torch.nn.utils.vector_to_parameters(new, t_model.parameters())
    nn.utils.vector_to_parameters(to_g(new), g_model.parameters())
    for pg, pt in zip(g_model.parameters(), t_model.parameters()):
        close(pg, pt, 0)
        assert isinstance(pg, nn.Parameter)
    _same_error(
        lambda: nn.utils.vector_to_parameters([1.0], g_model.parameters()),
        lambda: torch.nn.utils.vector_to_parameters([1.0], t_model.parameters()),
    )
