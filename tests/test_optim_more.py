"""Adadelta, Adamax, NAdam, RAdam, ASGD and Rprop against PyTorch: the parameters after every
step (float64 and float32, PyTorch's single-tensor path as the reference), constructor
signatures, defaults and errors, param groups, state_dict keys/values/round trip, repr, and the
lr schedulers driving them. (LBFGS: test_optim_lbfgs.py.)"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import gradienti
import gradienti.optim as goptim

torch = pytest.importorskip("torch")

STEPS = 12
# Both follow PyTorch's formulas operation by operation; what is left is rounding (PyTorch's
# kernels fuse some multiply-adds) and, in float32, the model's own forward.
TOLERANCE = {"float64": {"rtol": 1e-11, "atol": 1e-13}, "float32": {"rtol": 2e-6, "atol": 2e-7}}

rng = np.random.default_rng(7)
X = rng.standard_normal((16, 4))
Y_REG = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 + 0.1 * rng.standard_normal(16)
Y_CLS = (rng.random(16) < 0.5).astype(np.float64)
W0 = rng.standard_normal((4, 2))
V0 = rng.standard_normal(2)
B0 = np.array(0.1)

NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]

CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adadelta", {"maximize": True, "weight_decay": 0.05}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "betas": (0.8, 0.99), "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "maximize": True, "weight_decay": 0.05}),
    # beta2 = 0.999 rectifies from step 6 on (rho_t > 5), beta2 = 0.9 from step 3 on: both
    # branches run within the steps.
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    # t0 = 5: averaging (mu < 1) from step 6 on.
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5}),
    ("ASGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.002, "maximize": True, "t0": 3}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"lr": 0.001, "maximize": True}),
]
CASE_IDS = [f"{name}-{kwargs}" for name, kwargs in CASES]


def make_params(lib, dtype="float64"):
    return [
        lib.tensor(a.copy(), dtype=getattr(lib, dtype), requires_grad=True) for a in (W0, V0, B0)
    ]


def loss_fn(lib, params, problem="lsq"):
    w, v, b = params
    x = lib.tensor(X, dtype=w.dtype)
    z = (x @ w) @ v + b
    if problem == "lsq":
        return ((z - lib.tensor(Y_REG, dtype=w.dtype)) ** 2).mean()
    y = lib.tensor(Y_CLS, dtype=w.dtype)
    p = lib.sigmoid(z)
    return -(y * lib.log(p) + (1 - y) * lib.log(1 - p)).mean()


def train(lib, params, opt, steps=STEPS, problem="lsq"):
    """The parameters (one flat vector) after every step."""
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(lib, params, problem).backward()
        opt.step()
        trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(trajectory)


def both(name, kwargs, dtype="float64", problem="lsq", groups=None, torch_kwargs=None):
    """The trajectories of gradienti's and PyTorch's optimizer (foreach=False unless told)."""
    results = []
    for lib, module, extra in (
        (gradienti, goptim, {}),
        (torch, torch.optim, torch_kwargs or {"foreach": False}),
    ):
        params = make_params(lib, dtype)
        spec = params if groups is None else groups(params)
        opt = getattr(module, name)(spec, **kwargs, **extra)
        results.append(train(lib, params, opt, problem=problem))
        assert all(p.dtype == getattr(lib, dtype) for p in params)
    return results


@pytest.mark.parametrize("problem", ["lsq", "logistic"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_every_step_matches_torch_float64(name, kwargs, problem):
    ours, theirs = both(name, kwargs, "float64", problem)
    # Every step compared: a difference at step k is reported there.
    for k in range(STEPS):
        np.testing.assert_allclose(ours[k], theirs[k], **TOLERANCE["float64"], err_msg=f"step {k}")
    assert np.abs(theirs[-1] - theirs[0]).max() > 1e-3  # the parameters did move


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_every_step_matches_torch_float32(name, kwargs):
    ours, theirs = both(name, kwargs, "float32")
    assert ours.dtype == np.float32
    for k in range(STEPS):
        np.testing.assert_allclose(ours[k], theirs[k], **TOLERANCE["float32"], err_msg=f"step {k}")


@pytest.mark.parametrize("name", NAMES)
def test_torch_foreach_path_gives_the_same_numbers(name):
    kwargs = {"lr": 0.05} if name != "Adadelta" else {}
    ours, theirs = both(name, kwargs, torch_kwargs={"foreach": True})
    # PyTorch's foreach ASGD is about 1e-8 (relative) away from its own single-tensor path, the
    # reference; the other foreach paths round like it.
    tolerance = {"rtol": 1e-6, "atol": 1e-8} if name == "ASGD" else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(ours, theirs, **tolerance)


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options(name):
    extra = {
        "Adadelta": {"rho": 0.5},
        "Adamax": {"betas": (0.5, 0.9)},
        "NAdam": {"momentum_decay": 0.02, "weight_decay": 0.1},
        "RAdam": {"betas": (0.5, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True},
        "ASGD": {"t0": 2, "lambd": 0.1},
        "Rprop": {"etas": (0.2, 1.1)},
    }[name]

    def groups(params):
        return [{"params": params[:2]}, {"params": [params[2]], "lr": 0.2, **extra}]

    ours, theirs = both(name, {"lr": 0.03}, groups=groups)
    np.testing.assert_allclose(ours, theirs, **TOLERANCE["float64"])


def test_a_parameter_without_gradient_is_left_alone():
    for name in NAMES:
        states = []
        for lib, module in ((gradienti, goptim), (torch, torch.optim)):
            params = make_params(lib)
            opt = getattr(module, name)(params, lr=0.1)
            (params[0] ** 2).sum().backward()
            opt.step()
            np.testing.assert_array_equal(params[1].detach().numpy(), V0)
            states.append([len(opt.state[p]) for p in params])
        assert states[0] == states[1], name


# ---------------------------------------------------------------------- constructor
@pytest.mark.parametrize("name", [*NAMES, "LBFGS"])
def test_signature_and_defaults_as_torch(name):
    def shape(cls):
        return [
            (p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()
        ]

    assert shape(getattr(goptim, name)) == shape(getattr(torch.optim, name))
    ours = getattr(goptim, name)(make_params(gradienti))
    theirs = getattr(torch.optim, name)(make_params(torch))
    assert ours.defaults == theirs.defaults
    assert list(ours.defaults) == list(theirs.defaults)
    assert ours.state_dict() == theirs.state_dict()


@pytest.mark.parametrize("name", [*NAMES, "LBFGS"])
def test_repr_as_torch(name):
    kwargs = {
        "Adadelta": {"rho": 0.5, "weight_decay": 0.1},
        "Adamax": {"betas": (0.5, 0.9), "maximize": True},
        "NAdam": {"decoupled_weight_decay": True, "momentum_decay": 0.01},
        "RAdam": {"eps": 1e-5, "weight_decay": 0.2},
        "ASGD": {"t0": 100.0, "lambd": 0.5},
        "Rprop": {"etas": (0.4, 1.3), "step_sizes": (1e-4, 10)},
        "LBFGS": {"line_search_fn": "strong_wolfe", "history_size": 7, "max_iter": 9},
    }[name]
    for args in ({}, kwargs):
        ours = getattr(goptim, name)(make_params(gradienti), **args)
        theirs = getattr(torch.optim, name)(make_params(torch), **args)
        assert repr(ours) == repr(theirs)
    if name != "LBFGS":
        groups = [{"params": make_params(gradienti)[:1]}, {"params": [], "lr": 0.5}]
        ours = getattr(goptim, name)(groups, lr=0.25)
        groups = [{"params": make_params(torch)[:1]}, {"params": [], "lr": 0.5}]
        assert repr(ours) == repr(getattr(torch.optim, name)(groups, lr=0.25))


BAD_ARGUMENTS = [
    ("Adadelta", {"lr": -1.0}),
    ("Adadelta", {"rho": 1.5}),
    ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"eps": -1e-6}),
    ("Adadelta", {"weight_decay": -0.1}),
    ("Adamax", {"lr": -0.5}),
    ("Adamax", {"eps": -1.0}),
    ("Adamax", {"betas": (1.0, 0.9)}),
    ("Adamax", {"betas": (0.9, -0.1)}),
    ("Adamax", {"weight_decay": -1}),
    ("NAdam", {"lr": -1}),
    ("NAdam", {"eps": -1e-8}),
    ("NAdam", {"betas": (-0.1, 0.9)}),
    ("NAdam", {"betas": (0.9, 1.0)}),
    ("NAdam", {"weight_decay": -0.5}),
    ("NAdam", {"momentum_decay": -0.004}),
    ("RAdam", {"lr": -1e-3}),
    ("RAdam", {"eps": -1.0}),
    ("RAdam", {"betas": (1.5, 0.9)}),
    ("RAdam", {"betas": (0.9, 2.0)}),
    ("RAdam", {"weight_decay": -0.1}),
    ("ASGD", {"lr": -0.01}),
    ("ASGD", {"weight_decay": -1.0}),
    ("Rprop", {"lr": -1.0}),
    ("Rprop", {"etas": (1.5, 1.2)}),
    ("Rprop", {"etas": (0.5, 0.9)}),
    ("Rprop", {"etas": (0.0, 1.2)}),
    ("LBFGS", {"lr": -1.0}),
    ("Adamax", {"lr": float("nan")}),
]


@pytest.mark.parametrize(("name", "kwargs"), BAD_ARGUMENTS, ids=[str(c) for c in BAD_ARGUMENTS])
def test_bad_arguments_raise_as_torch(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)(make_params(torch), **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(goptim, name)(make_params(gradienti), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_tensor_learning_rate():
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        goptim.NAdam(make_params(gradienti), lr=gradienti.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        torch.optim.NAdam(make_params(torch), lr=torch.tensor([0.1, 0.2]))
    results = []
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        params = make_params(lib)
        opt = module.NAdam(params, lr=lib.tensor(0.05), foreach=False)
        results.append(train(lib, params, opt))
    np.testing.assert_allclose(results[0], results[1], **TOLERANCE["float64"])


# ---------------------------------------------------------------------- state
STATE_CASES = [
    ("Adadelta", {"weight_decay": 0.1}, ["step", "square_avg", "acc_delta"]),
    ("Adamax", {"lr": 0.05}, ["step", "exp_avg", "exp_inf"]),
    ("NAdam", {"lr": 0.05}, ["step", "mu_product", "exp_avg", "exp_avg_sq"]),
    ("RAdam", {"lr": 0.05}, ["step", "exp_avg", "exp_avg_sq"]),
    ("ASGD", {"lr": 0.05, "t0": 3}, ["step", "eta", "mu", "ax"]),
    ("Rprop", {"lr": 0.05}, ["step", "prev", "step_size"]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs", "keys"), STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_state_dict_as_torch_and_round_trip(name, kwargs, keys, dtype):
    tparams = make_params(torch, dtype)
    topt = getattr(torch.optim, name)(tparams, foreach=False, **kwargs)
    train(torch, tparams, topt, 6)
    tsd = topt.state_dict()

    params = make_params(gradienti, dtype)
    opt = getattr(goptim, name)(params, foreach=False, **kwargs)
    train(gradienti, params, opt, 6)
    sd = opt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["state"]) == list(tsd["state"]) == [0, 1, 2]
    for index, per_param in sd["state"].items():
        assert list(per_param) == list(tsd["state"][index]) == keys
        for key, value in per_param.items():
            expected = tsd["state"][index][key]
            assert isinstance(value, gradienti.Tensor)
            assert str(value.dtype) == str(expected.dtype), key
            assert tuple(value.shape) == tuple(expected.shape), key
            np.testing.assert_allclose(value.numpy(), expected.numpy(), **TOLERANCE[dtype])

    # A fresh optimizer loading the state dict continues as PyTorch's does. (Loading casts the
    # floating state but "step" to the parameter's dtype, NAdam's mu_product and ASGD's eta and
    # mu included, so those two then round a little differently than without the reload.)
    def reloaded(lib, module, params, state_dict):
        copies = [lib.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
        fresh = getattr(module, name)(copies, lr=123.0, foreach=False)
        fresh.load_state_dict(copy.deepcopy(state_dict))
        assert fresh.param_groups[0]["lr"] == kwargs.get("lr", 1.0)
        assert fresh.param_groups[0]["params"][0] is copies[0]
        loaded = {k: str(v.dtype) for k, v in fresh.state[copies[0]].items()}
        return copies, fresh, loaded

    params2, opt2, loaded = reloaded(gradienti, goptim, params, sd)
    tparams2, topt2, tloaded = reloaded(torch, torch.optim, tparams, tsd)
    assert loaded == tloaded
    continued = train(gradienti, params2, opt2, 6)
    np.testing.assert_allclose(continued, train(torch, tparams2, topt2, 6), **TOLERANCE[dtype])
    uninterrupted = train(gradienti, params, opt, 6)
    np.testing.assert_allclose(uninterrupted, train(torch, tparams, topt, 6), **TOLERANCE[dtype])
    if name not in ("NAdam", "ASGD") or dtype == "float32":
        np.testing.assert_array_equal(continued, uninterrupted)
    # The loaded state is a copy.
    assert opt.state[params[0]]["step"] is not opt2.state[params2[0]]["step"]
    assert not np.shares_memory(
        opt.state[params[0]]["step"].numpy(), opt2.state[params2[0]]["step"].numpy()
    )


def test_scalar_state_follows_the_default_dtype():
    previous = (gradienti.get_default_dtype(), torch.get_default_dtype())
    gradienti.set_default_dtype(gradienti.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for name in ("NAdam", "ASGD"):
            dtypes = []
            for lib, module in ((gradienti, goptim), (torch, torch.optim)):
                params = make_params(lib, "float32")
                opt = getattr(module, name)(params)
                train(lib, params, opt, 1)
                dtypes.append({k: str(v.dtype) for k, v in opt.state[params[0]].items()})
            assert dtypes[0] == dtypes[1]
            assert dtypes[0]["step"] == "torch.float64"
    finally:
        gradienti.set_default_dtype(previous[0])
        torch.set_default_dtype(previous[1])


# ---------------------------------------------------------------------- closure, schedulers
@pytest.mark.parametrize("name", NAMES)
def test_step_with_closure_returns_its_loss(name):
    losses = []
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        params = make_params(lib)
        opt = getattr(module, name)(params, lr=0.05)
        grad_enabled = []

        def closure(lib=lib, params=params, opt=opt, grad_enabled=grad_enabled):
            opt.zero_grad()
            loss = loss_fn(lib, params)
            loss.backward()
            grad_enabled.append(lib.is_grad_enabled())
            return loss

        with lib.no_grad():
            losses.append([float(opt.step(closure)) for _ in range(5)])
        assert grad_enabled == [True] * 5
    np.testing.assert_allclose(losses[0], losses[1], **TOLERANCE["float64"])


SCHEDULED = [
    ("NAdam", {"lr": 0.05}, "StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ASGD", {"lr": 0.05, "t0": 4}, "CosineAnnealingLR", {"T_max": 6}),
    ("RAdam", {"lr": 0.05}, "ExponentialLR", {"gamma": 0.8}),
    ("Adadelta", {}, "MultiStepLR", {"milestones": [2, 5], "gamma": 0.3}),
    ("Adamax", {"lr": 0.05}, "OneCycleLR", {"max_lr": 0.1, "total_steps": STEPS}),
    ("NAdam", {"lr": 0.05}, "OneCycleLR", {"max_lr": 0.1, "total_steps": STEPS}),
    ("Rprop", {"lr": 0.05}, "MultiStepLR", {"milestones": [3], "gamma": 0.1}),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "scheduler", "scheduler_kwargs"),
    SCHEDULED,
    ids=[f"{c[2]}-{c[0]}" for c in SCHEDULED],
)
def test_lr_schedulers_drive_the_new_optimizers(name, kwargs, scheduler, scheduler_kwargs):
    results = []
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        params = make_params(lib)
        opt = getattr(module, name)(params, **kwargs)
        sched = getattr(module.lr_scheduler, scheduler)(opt, **scheduler_kwargs)
        trajectory, lrs, betas = [], [], []
        for _ in range(STEPS):
            opt.zero_grad()
            loss_fn(lib, params).backward()
            opt.step()
            sched.step()
            trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
            lrs.append(opt.param_groups[0]["lr"])
            betas.append(opt.param_groups[0].get("betas"))
        results.append((np.array(trajectory), lrs, betas, sched.get_last_lr()))
    np.testing.assert_allclose(results[0][0], results[1][0], **TOLERANCE["float64"])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-15)
    assert results[0][2] == results[1][2]
    assert results[0][3] == results[1][3]
