"""gradienti.optim against PyTorch: same losses and weights over 20 steps, state_dict, groups."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
import gradienti.optim as goptim

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-5, 1e-8
STEPS = 20

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 4))
Y_REG = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 + 0.1 * rng.standard_normal(16)
Y_CLS = (rng.random(16) < 0.5).astype(np.float64)
W0 = rng.standard_normal((4, 2))
V0 = rng.standard_normal(2)
B0 = np.array(0.1)


def make_params(lib):
    return [lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True) for a in (W0, V0, B0)]


def loss_fn(lib, params, problem="lsq"):
    w, v, b = params
    x = lib.tensor(X, dtype=lib.float64)
    z = (x @ w) @ v + b
    if problem == "lsq":
        y = lib.tensor(Y_REG, dtype=lib.float64)
        return ((z - y) ** 2).mean()
    y = lib.tensor(Y_CLS, dtype=lib.float64)
    p = lib.sigmoid(z)
    return -(y * lib.log(p) + (1 - y) * lib.log(1 - p)).mean()


def run(lib, optim_mod, name, kwargs, problem="lsq", steps=STEPS, groups=None):
    params = make_params(lib)
    spec = params if groups is None else groups(params)
    opt = getattr(optim_mod, name)(spec, **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(lib, params, problem)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return np.array(losses), [np.array(p.detach().numpy()) for p in params], opt


def assert_same(name, kwargs, problem="lsq", groups=None):
    g_losses, g_params, _ = run(gradienti, goptim, name, kwargs, problem, groups=groups)
    t_losses, t_params, _ = run(
        torch, torch.optim, name, dict(kwargs, foreach=False), problem, groups=groups
    )
    np.testing.assert_allclose(g_losses, t_losses, rtol=RTOL, atol=ATOL)
    for gp, tp in zip(g_params, t_params):
        np.testing.assert_allclose(gp, tp, rtol=RTOL, atol=ATOL)


CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.001, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize("problem", ["lsq", "logistic"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch(name, kwargs, problem):
    assert_same(name, kwargs, problem)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_different_lrs(name):
    def groups(params):
        return [
            {"params": params[:2]},
            {"params": [params[2]], "lr": 0.2, "momentum": 0.5}
            if name != "Adam"
            else {"params": [params[2]], "lr": 0.2},
        ]

    assert_same(
        name, {"lr": 0.02, "momentum": 0.9} if name != "Adam" else {"lr": 0.02}, groups=groups
    )


def test_defaults_and_groups_layout():
    params = make_params(gradienti)
    opt = goptim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    tparams = make_params(torch)
    topt = torch.optim.SGD([{"params": tparams[:2]}, {"params": tparams[2:], "lr": 0.5}], lr=0.1)
    assert opt.defaults == topt.defaults
    assert [sorted(g) for g in opt.param_groups] == [sorted(g) for g in topt.param_groups]
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["lr"] == 0.1
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_zero_grad():
    params = make_params(gradienti)
    opt = goptim.SGD(params, lr=0.1)
    loss_fn(gradienti, params).backward()
    assert all(p.grad is not None for p in params)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_without_grad_skips_param():
    params = make_params(gradienti)
    opt = goptim.Adam(params, lr=0.1)
    params[0].sum().backward()
    opt.step()
    np.testing.assert_array_equal(params[1].detach().numpy(), V0)
    assert len(opt.state[params[1]]) == 0 and len(opt.state[params[0]]) == 3


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_closure(name):
    results = []
    for lib, mod in ((gradienti, goptim), (torch, torch.optim)):
        params = make_params(lib)
        opt = getattr(mod, name)(params, lr=0.01)
        calls = []

        def closure(lib=lib, params=params, opt=opt, calls=calls):
            opt.zero_grad()
            loss = loss_fn(lib, params)
            loss.backward()
            calls.append(lib.is_grad_enabled())
            return loss

        with lib.no_grad():
            losses = [float(opt.step(closure).item()) for _ in range(5)]
        assert calls == [True] * 5
        results.append((losses, [p.detach().numpy().copy() for p in params]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=RTOL, atol=ATOL)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    assert goptim.SGD(make_params(gradienti), lr=0.1).step() is None


def _train(lib, params, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(lib, params, "logistic")
        loss.backward()
        opt.step()


STATE_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize(("name", "kwargs"), STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_round_trip(name, kwargs):
    # Reference: 20 uninterrupted steps in PyTorch.
    tparams = make_params(torch)
    topt = getattr(torch.optim, name)(tparams, foreach=False, **kwargs)
    _train(torch, tparams, topt, 10)
    tsd = topt.state_dict()

    params = make_params(gradienti)
    opt = getattr(goptim, name)(params, foreach=False, **kwargs)
    _train(gradienti, params, opt, 10)
    sd = opt.state_dict()
    # PyTorch's layout: integer indices, same keys per parameter, same groups.
    assert sd["param_groups"] == tsd["param_groups"]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for k, st in sd["state"].items():
        assert sorted(st) == sorted(tsd["state"][k])
        for key, value in st.items():
            np.testing.assert_allclose(
                value.numpy(), tsd["state"][k][key].numpy(), rtol=RTOL, atol=ATOL
            )
            assert str(value.dtype) == str(tsd["state"][k][key].dtype)

    # A fresh optimizer on copies of the weights continues identically.
    params2 = [
        gradienti.tensor(p.detach().numpy().copy(), dtype=gradienti.float64, requires_grad=True)
        for p in params
    ]
    opt2 = getattr(goptim, name)(params2, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    assert opt2.param_groups[0]["params"][0] is params2[0]
    _train(gradienti, params, opt, 10)
    _train(gradienti, params2, opt2, 10)
    _train(torch, tparams, topt, 10)
    for a, b, t in zip(params, params2, tparams):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL)
    # Loading copied the state: the two optimizers do not share it.
    assert opt.state[params[0]] is not opt2.state[params2[0]]


def test_load_state_dict_validates_groups():
    params = make_params(gradienti)
    sd = goptim.SGD(params, lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        goptim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        goptim.SGD(params[:2], lr=0.1).load_state_dict(sd)


def test_add_param_group():
    params = make_params(gradienti)
    opt = goptim.SGD(params[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[2], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["params"] == [params[2]]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [params[0]]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([params[0]])
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {params[0]}})

    def groups(ps):
        return [{"params": ps[:2]}]

    # Same result as PyTorch when the group is added mid-training.
    results = []
    for lib, mod in ((gradienti, goptim), (torch, torch.optim)):
        ps = make_params(lib)
        o = mod.SGD(ps[:2], lr=0.05, momentum=0.9)
        _train(lib, ps, o, 5)
        o.add_param_group({"params": [ps[2]], "lr": 0.2})
        _train(lib, ps, o, 5)
        results.append([p.detach().numpy().copy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_constructor_errors():
    params = make_params(gradienti)
    with pytest.raises(ValueError, match="empty parameter list"):
        goptim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        goptim.SGD(params[0], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        goptim.Adam(params, lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        goptim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        goptim.SGD([params[0] * 2], lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        goptim.SGD([params[0], params[0]], lr=0.1)
    assert any("duplicate parameters" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"lr": 0.05, "amsgrad": True}),
        ("AdamW", {"lr": 0.05}),
        ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
        ("Adagrad", {"lr": 0.1}),
    ],
)
def test_float32_parameters_match_torch(name, kwargs):
    x = X.astype(np.float32)
    y = Y_REG.astype(np.float32)
    results = []
    for lib, mod in ((gradienti, goptim), (torch, torch.optim)):
        w = lib.tensor(W0[:, 0].astype(np.float32), requires_grad=True)
        opt = getattr(mod, name)([w], **kwargs)
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((lib.tensor(x) @ w - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
        assert w.dtype == lib.float32
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=RTOL, atol=1e-6)
