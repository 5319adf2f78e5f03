"""optim.LBFGS against PyTorch: whole trajectories on Rosenbrock's function and on a small
least-squares model (fixed step and strong-Wolfe line search; float64 through autograd, float32
with the objective evaluated by the same NumPy code for both so only the optimizers' arithmetic
differs), function-evaluation counts, stopping rules, state_dict and errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import gradienti
import gradienti.optim as goptim

torch = pytest.importorskip("torch")

rng = np.random.default_rng(3)
X = rng.standard_normal((20, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(20)
ROSENBROCK_START = [-1.2, 1.0, -0.5, 0.8]

CONFIGS = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.1, "max_iter": 5, "history_size": 3},
    {"lr": 0.5, "max_iter": 7, "max_eval": 9, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"max_iter": 4, "tolerance_change": 1e-3, "line_search_fn": "strong_wolfe"},
    {"tolerance_grad": 1e-2, "history_size": 5},
]
CONFIG_IDS = [str(c) for c in CONFIGS]


def rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def make_problem(lib, problem):
    """The parameters and a function of them returning the loss (autograd, float64)."""
    if problem == "rosenbrock":
        x = lib.tensor(ROSENBROCK_START, dtype=lib.float64, requires_grad=True)
        return [x], lambda: rosenbrock(lib, x)
    model = lib.nn.Linear(3, 1).double()
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, 0.2, -0.3]], dtype=lib.float64))
        model.bias.fill_(0.5)
    inputs = lib.tensor(X, dtype=lib.float64)
    targets = lib.tensor(Y[:, None], dtype=lib.float64)
    return list(model.parameters()), lambda: lib.nn.functional.mse_loss(model(inputs), targets)


def run(lib, module, problem, kwargs, steps=8):
    params, objective = make_problem(lib, problem)
    opt = module.LBFGS(params, **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        calls.append(lib.is_grad_enabled())
        return loss

    trajectory, losses = [], []
    for _ in range(steps):
        losses.append(opt.step(closure).item())
        trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    assert all(calls)
    return np.array(trajectory), np.array(losses), opt, params


def state_of(opt):
    return opt.state[opt.param_groups[0]["params"][0]]


@pytest.mark.parametrize("problem", ["rosenbrock", "least_squares"])
@pytest.mark.parametrize("kwargs", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch_float64(problem, kwargs):
    ours, our_losses, opt, _ = run(gradienti, goptim, problem, kwargs)
    theirs, their_losses, topt, _ = run(torch, torch.optim, problem, kwargs)
    # The same iterations and function evaluations, so the same branches were taken ...
    for key in ("func_evals", "n_iter"):
        assert state_of(opt)[key] == state_of(topt)[key], key
    # ... and the same points after every step. (Rosenbrock's valley amplifies a rounding
    # difference of 1e-16 over its ~100 iterations to about 1e-6 when the steps overshoot,
    # without line search; test_first_iterations_match_torch_tightly looks closer.)
    tolerance = 1e-5 if problem == "rosenbrock" else 1e-12
    for k in range(len(theirs)):
        np.testing.assert_allclose(ours[k], theirs[k], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(our_losses, their_losses, rtol=tolerance, atol=tolerance * 1e-2)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_first_iterations_match_torch_tightly(line_search_fn):
    kwargs = {"max_iter": 1, "line_search_fn": line_search_fn}
    ours, our_losses, _, _ = run(gradienti, goptim, "rosenbrock", kwargs, steps=20)
    theirs, their_losses, _, _ = run(torch, torch.optim, "rosenbrock", kwargs, steps=20)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-12)


def test_rosenbrock_converges_to_its_minimum():
    ours, _, opt, _ = run(gradienti, goptim, "rosenbrock", {"line_search_fn": "strong_wolfe"})
    np.testing.assert_allclose(ours[-1], np.ones(4), atol=1e-5)
    assert state_of(opt)["n_iter"] > 20


# ---------------------------------------------------------------------- float32
def rosenbrock_numpy(x):
    a, b = x[:-1], x[1:]
    value = ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum()
    grad = np.zeros_like(x)
    grad[:-1] += -2 * (1 - a) - 400 * a * (b - a * a)
    grad[1:] += 200 * (b - a * a)
    return value, grad


def least_squares_numpy(w):
    x, y = X.astype(w.dtype), Y.astype(w.dtype)
    residual = x @ w[:3] + w[3] - y
    grad = np.concatenate([2 * x.T @ residual / len(y), [2 * residual.mean()]])
    return (residual * residual).mean(), grad.astype(w.dtype)


def run_numpy_objective(lib, module, problem, kwargs, steps):
    """LBFGS in float32 on an objective both libraries evaluate with the same NumPy code."""
    start = ROSENBROCK_START if problem == "rosenbrock" else [0.0, 0.0, 0.0, 0.0]
    objective = rosenbrock_numpy if problem == "rosenbrock" else least_squares_numpy
    w = lib.tensor(start, dtype=lib.float32, requires_grad=True)
    opt = module.LBFGS([w], **kwargs)

    def closure():
        value, grad = objective(w.detach().numpy().copy())
        w.grad = lib.tensor(grad)
        return lib.tensor(np.float32(value))

    trajectory = []
    for _ in range(steps):
        opt.step(closure)
        trajectory.append(w.detach().numpy().copy())
    assert w.dtype == lib.float32
    return np.array(trajectory), state_of(opt)


@pytest.mark.parametrize(
    ("problem", "kwargs", "steps"),
    [
        ("least_squares", {}, 8),
        ("least_squares", {"lr": 0.1, "max_iter": 5, "history_size": 3}, 8),
        # In float32 a last-bit difference (PyTorch fuses the multiply-adds of its vector
        # updates) turns into a different path once the loss changes by no more than its
        # rounding (least squares: after 8 iterations), or along Rosenbrock's valley after about
        # a dozen iterations: the iterations before are compared.
        ("least_squares", {"line_search_fn": "strong_wolfe", "max_iter": 4}, 2),
        ("rosenbrock", {"max_iter": 3}, 3),
        ("rosenbrock", {"max_iter": 4, "line_search_fn": "strong_wolfe"}, 2),
        ("rosenbrock", {"lr": 0.1, "max_iter": 5, "history_size": 3}, 8),
    ],
    ids=str,
)
def test_trajectory_matches_torch_float32(problem, kwargs, steps):
    ours, our_state = run_numpy_objective(gradienti, goptim, problem, kwargs, steps)
    theirs, their_state = run_numpy_objective(torch, torch.optim, problem, kwargs, steps)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-6)
    assert our_state["func_evals"] == their_state["func_evals"]
    assert our_state["n_iter"] == their_state["n_iter"]
    # The scalar state is float32 as in PyTorch.
    assert str(our_state["H_diag"].dtype) == str(their_state["H_diag"].dtype) == "torch.float32"


# ---------------------------------------------------------------------- state and stopping
def test_state_dict_keys_types_and_round_trip():
    kwargs = {"max_iter": 3, "history_size": 4, "line_search_fn": "strong_wolfe"}
    _, _, opt, params = run(gradienti, goptim, "least_squares", kwargs, steps=2)
    _, _, topt, tparams = run(torch, torch.optim, "least_squares", kwargs, steps=2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["state"]) == list(tsd["state"]) == [0]

    def layout(value):
        if isinstance(value, list):
            return [layout(item) for item in value]
        if isinstance(value, (gradienti.Tensor, torch.Tensor)):
            return ("Tensor", str(value.dtype), tuple(value.shape))
        return type(value).__name__

    def values(value):
        if isinstance(value, list):
            return [values(item) for item in value if item is not None]
        if isinstance(value, (gradienti.Tensor, torch.Tensor)):
            return value.numpy()
        return value

    ours, theirs = sd["state"][0], tsd["state"][0]
    assert list(ours) == list(theirs)
    for key in theirs:
        assert layout(ours[key]) == layout(theirs[key]), key
        if key != "al":  # (al: scratch space of the last iteration)
            a, b = values(ours[key]), values(theirs[key])
            np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float))

    # A new optimizer continues from the loaded state as the first one does.
    copies = [gradienti.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    fresh = goptim.LBFGS(copies, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    fresh.load_state_dict(copy.deepcopy(sd))
    tcopies = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in tparams]
    tfresh = torch.optim.LBFGS(tcopies, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    tfresh.load_state_dict(copy.deepcopy(tsd))

    def more_steps(lib, opt, params):
        inputs = lib.tensor(X, dtype=lib.float64)
        targets = lib.tensor(Y[:, None], dtype=lib.float64)

        def closure():
            opt.zero_grad()
            loss = ((inputs @ params[0].T + params[1] - targets) ** 2).mean()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        return np.concatenate([p.detach().numpy().ravel() for p in params])

    continued = more_steps(gradienti, fresh, copies)
    np.testing.assert_array_equal(continued, more_steps(gradienti, opt, params))
    np.testing.assert_allclose(continued, more_steps(torch, tfresh, tcopies), rtol=1e-12)
    assert state_of(fresh)["n_iter"] == state_of(tfresh)["n_iter"] > 6


def test_stops_at_once_when_the_gradient_is_small():
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        x = lib.tensor([1.0, 1.0, 1.0], dtype=lib.float64, requires_grad=True)
        opt = module.LBFGS([x])

        def closure(lib=lib, x=x, opt=opt):
            opt.zero_grad()
            loss = rosenbrock(lib, x)
            loss.backward()
            return loss

        loss = opt.step(closure)
        assert loss.item() == 0.0
        assert dict(state_of(opt)) == {"func_evals": 1, "n_iter": 0}
        np.testing.assert_array_equal(x.detach().numpy(), [1.0, 1.0, 1.0])


def test_a_parameter_without_gradient_counts_as_zero():
    results = []
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        x = lib.tensor(ROSENBROCK_START, dtype=lib.float64, requires_grad=True)
        unused = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = module.LBFGS([unused, x], max_iter=5)

        def closure(lib=lib, x=x, opt=opt):
            opt.zero_grad()
            loss = rosenbrock(lib, x)
            loss.backward()
            return loss

        opt.step(closure)
        results.append((x.detach().numpy().copy(), unused.detach().numpy().copy()))
        # The state sits under the first parameter.
        assert opt.state[unused]["n_iter"] == 5
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_array_equal(results[0][1], [2.0, 3.0])


def test_step_size_follows_an_lr_scheduler():
    results = []
    for lib, module in ((gradienti, goptim), (torch, torch.optim)):
        params, objective = make_problem(lib, "least_squares")
        opt = module.LBFGS(params, lr=0.5, max_iter=2)
        sched = module.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def closure(opt=opt, objective=objective):
            opt.zero_grad()
            loss = objective()
            loss.backward()
            return loss

        trajectory = []
        for _ in range(6):
            opt.step(closure)
            sched.step()
            trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
        results.append((np.array(trajectory), sched.get_last_lr()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1] == results[1][1] == [0.0625]


def test_errors_as_torch():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    message = "^LBFGS doesn't support per-parameter options \\(parameter groups\\)$"
    with pytest.raises(ValueError, match=message):
        torch.optim.LBFGS([{"params": [tx]}, {"params": [torch.tensor(1.0, requires_grad=True)]}])
    with pytest.raises(ValueError, match=message):
        goptim.LBFGS([{"params": [x]}, {"params": [gradienti.tensor(1.0, requires_grad=True)]}])
    with pytest.raises(TypeError):
        goptim.LBFGS([x]).step()

    def closure_for(lib, x):
        def closure():
            loss = (x**2).sum()
            loss.backward()
            return loss

        return closure

    for lib, module, param in ((gradienti, goptim, x), (torch, torch.optim, tx)):
        opt = module.LBFGS([param], line_search_fn="wolfe")
        with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
            opt.step(closure_for(lib, param))


def test_max_eval_defaults_to_five_quarters_of_max_iter():
    x = gradienti.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert goptim.LBFGS([x]).defaults["max_eval"] == 25
        assert goptim.LBFGS([x], max_iter=7).defaults["max_eval"] == 8
        assert goptim.LBFGS([x], max_iter=7, max_eval=3).defaults["max_eval"] == 3
