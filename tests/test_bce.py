"""binary_cross_entropy (F and nn.BCELoss) against torch where probabilities are exactly 0 or
1, as a float32 sigmoid of a large logit gives: PyTorch's finite gradient (its EPSILON, not
0 * inf), the same values forward, backward (input and target, non-uniform upstream
gradient) and for second derivatives; PyTorch's errors, in its order, for probabilities
outside [0, 1] and other bad arguments; a logistic regression that stays finite."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle

REDUCTIONS = ["none", "mean", "sum"]
PROBABILITIES = [0.0, 1.0, 0.5, 1e-30, 1 - 1e-8, 0.3, 0.0, 1.0, 0.999, 0.02, 0.7, 1e-13]
TARGETS = [1.0, 0.0, 1.0, 1.0, 0.0, 0.2, 0.0, 1.0, 0.6, 0.0, 0.7, 0.5]
WEIGHTS = {
    "none": None,
    "full": np.linspace(0.5, 2.0, 12).reshape(4, 3),
    "row": np.array([0.5, 1.5, 3.0]),  # broadcast along the rows
}


def _run(lib, dtype, reduction, weight, target_grad):
    """Loss, first and second derivatives (with respect to input and target) as arrays."""
    np_dtype = getattr(np, dtype)
    x = lib.tensor(np.array(PROBABILITIES, np_dtype).reshape(4, 3), requires_grad=True)
    y = lib.tensor(np.array(TARGETS, np_dtype).reshape(4, 3), requires_grad=target_grad)
    kwargs = {} if weight is None else {"weight": lib.tensor(weight.astype(np_dtype))}
    loss = lib.nn.functional.binary_cross_entropy(x, y, reduction=reduction, **kwargs)
    shape = tuple(loss.shape)
    upstream = lib.tensor(
        np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape).astype(np_dtype)
    )
    inputs = [x, y] if target_grad else [x]
    grads = lib.autograd.grad(loss, inputs, upstream, create_graph=True)
    mixes = [lib.tensor(np.linspace(-1, 2, 12).reshape(4, 3).astype(np_dtype) + k) for k in (0, 1)]
    mixed = sum((grad * mix).sum() for grad, mix in zip(grads, mixes))
    seconds = lib.autograd.grad(mixed, inputs, allow_unused=True)
    names = [loss.grad_fn.name(), grads[0].grad_fn.name()]
    arrays = [loss.detach().numpy(), *(g.detach().numpy() for g in grads)]
    arrays += [None if s is None else s.numpy() for s in seconds]
    return names, arrays


@pytest.mark.parametrize("target_grad", [False, True], ids=["target", "target-grad"])
@pytest.mark.parametrize("weight", list(WEIGHTS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_saturated_probabilities_as_torch(dtype, reduction, weight, target_grad):
    names_g, ours = _run(gradienti, dtype, reduction, WEIGHTS[weight], target_grad)
    names_t, theirs = _run(torch, dtype, reduction, WEIGHTS[weight], target_grad)
    assert (
        names_g == names_t == ["BinaryCrossEntropyBackward0", "BinaryCrossEntropyBackwardBackward0"]
    )
    tolerance = {"float64": 1e-12, "float32": 1e-6, "float16": 2e-3}[dtype]
    for mine, reference in zip(ours, theirs):
        assert (mine is None) == (reference is None)
        if reference is not None:
            assert mine.dtype == reference.dtype and mine.shape == reference.shape
            np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=0, equal_nan=True)
    if dtype != "float16":  # (there PyTorch's EPSILON rounds to 0: an infinite gradient)
        assert np.isfinite(ours[1]).all()


def test_module_matches_functional_and_torch():
    p = np.array([[0.0, 1.0, 0.25], [1.0, 0.0, 0.75]], dtype=np.float32)
    y = np.array([[1.0, 0.0, 0.5], [1.0, 1.0, 0.0]], dtype=np.float32)
    w = np.array([2.0, 0.5, 1.0], dtype=np.float32)
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(p, requires_grad=True)
        loss = lib.nn.BCELoss(weight=lib.tensor(w), reduction="sum")(x, lib.tensor(y))
        loss.backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


def test_logistic_regression_stays_finite_as_torch():
    """sigmoid saturates to exactly 0.0 and 1.0 in float32 for |z| > ~17; the weights of a
    plain logistic regression must follow PyTorch's and stay finite."""
    rng = np.random.default_rng(0)
    features = rng.standard_normal((32, 3)).astype(np.float32) * 10
    labels = (features @ np.array([1.0, -2.0, 0.5], np.float32) > 0).astype(np.float32)
    weights = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 1)
        with lib.no_grad():
            model.weight.copy_(lib.tensor([[3.0, -6.0, 1.5]]))
            model.bias.zero_()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(20):
            optimizer.zero_grad()
            probabilities = model(lib.tensor(features)).sigmoid().reshape(-1)
            lib.nn.BCELoss()(probabilities, lib.tensor(labels)).backward()
            optimizer.step()
        assert probabilities.detach().numpy().min() == 0.0  # saturated, exactly
        weights.append(model.weight.detach().numpy().copy())
    assert np.isfinite(weights[0]).all()
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-5, atol=1e-6)


def test_empty_mean_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lib in (gradienti, torch):
            x = lib.zeros(0, requires_grad=True)
            loss = lib.nn.functional.binary_cross_entropy(x, lib.zeros(0))
            assert np.isnan(loss.item())
            loss.backward()
            assert x.grad.shape == (0,)


def _outcome(lib, make):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            arguments, kwargs, leaves = make(lib)
            loss = lib.nn.functional.binary_cross_entropy(*arguments, **kwargs)
    except Exception as error:  # noqa: BLE001 - the error itself is compared
        assert all(leaf.grad is None for leaf in leaves)  # a failed call changes nothing
        return type(error).__name__, str(error)
    return "ok", tuple(loss.shape), np.round(loss.detach().numpy().astype(np.float64), 5)


def _pair(lib, p, y, dtype=None, requires_grad=False):
    x = lib.tensor(p, dtype=dtype or lib.float32, requires_grad=requires_grad)
    return x, lib.tensor(y, dtype=dtype or lib.float32)


BAD_ARGUMENTS = {
    "input-above-1": lambda lib: ((*_pair(lib, [0.5, 1.5], [0.5, 0.5], None, True),), {}),
    "input-below-0": lambda lib: ((*_pair(lib, [-0.1, 0.5], [0.5, 0.5]),), {}),
    "input-nan": lambda lib: ((*_pair(lib, [0.5, float("nan")], [0.5, 0.5]),), {}),
    "target-above-1": lambda lib: ((*_pair(lib, [0.5, 0.5], [0.5, 1.5]),), {}),
    "target-nan": lambda lib: ((*_pair(lib, [0.5, 0.5], [float("nan"), 0.5]),), {}),
    "target-first": lambda lib: ((*_pair(lib, [0.5, 1.5], [2.0, 0.5]),), {}),
    "input-first": lambda lib: ((*_pair(lib, [1.5, 0.5], [0.5, 2.0]),), {}),
    "float64-target": lambda lib: ((lib.tensor([0.5]), lib.tensor([0.5], dtype=lib.float64)), {}),
    "dtype-before-range": lambda lib: (
        (lib.tensor([1.5]), lib.tensor([2.0], dtype=lib.float64)),
        {},
    ),
    "long-input": lambda lib: ((lib.tensor([1, 0]), lib.tensor([1, 0])), {}),
    "long-target": lambda lib: ((lib.tensor([0.5, 0.5]), lib.tensor([1, 0])), {}),
    "bool-target": lambda lib: ((lib.tensor([0.5]), lib.tensor([True])), {}),
    "size": lambda lib: ((lib.tensor([0.5, 0.2]), lib.tensor([1.0])), {}),
    "weight-grad": lambda lib: (
        (*_pair(lib, [1.5, 0.5], [0.5, 0.5]),),
        {"weight": lib.tensor([1.0, 2.0], requires_grad=True)},
    ),
    "weight-broadcast": lambda lib: (
        (*_pair(lib, [[0.5, 0.2]] * 3, [[1.0, 0.0]] * 3),),
        {"weight": lib.tensor([2.0, 3.0, 4.0])},
    ),
    "weight-grows": lambda lib: (
        (*_pair(lib, [0.5, 0.2], [1.0, 0.0]),),
        {"weight": lib.tensor([[2.0, 3.0]] * 3)},
    ),
    "range-before-weight-grows": lambda lib: (
        (*_pair(lib, [1.5, 0.2], [1.0, 0.0]),),
        {"weight": lib.tensor([[2.0, 3.0]] * 3)},
    ),
    "weight-number": lambda lib: ((*_pair(lib, [0.5], [1.0]),), {"weight": 2.0}),
    "target-number": lambda lib: ((lib.tensor([0.5]), 1.0), {}),
    "reduction": lambda lib: ((*_pair(lib, [1.5], [1.0]),), {"reduction": "avg"}),
    # accepted
    "float64-weight": lambda lib: (
        (*_pair(lib, [0.3, 0.5], [1.0, 0.0]),),
        {"weight": lib.tensor([1.1, 2.3], dtype=lib.float64)},
    ),
    "long-weight": lambda lib: (
        (*_pair(lib, [0.3, 0.5], [1.0, 0.0]),),
        {"weight": lib.tensor([1, 2])},
    ),
    "scalar-weight": lambda lib: (
        (*_pair(lib, [0.3, 0.5], [1.0, 0.0]),),
        {"weight": lib.tensor(2.0)},
    ),
    "zero-d": lambda lib: ((lib.tensor(0.0), lib.tensor(1.0)), {}),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_arguments_as_torch(case):
    def make(lib):
        arguments, kwargs = BAD_ARGUMENTS[case](lib)
        leaves = [a for a in (*arguments, *kwargs.values()) if getattr(a, "requires_grad", False)]
        return arguments, kwargs, leaves

    ours, theirs = _outcome(gradienti, make), _outcome(torch, make)
    assert ours[:2] == theirs[:2]
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)


def test_weight_that_requires_grad_is_fine_without_grad_mode():
    for lib in (gradienti, torch):
        weight = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            loss = lib.nn.functional.binary_cross_entropy(
                lib.tensor([0.4, 0.5]), lib.tensor([0.5, 0.5]), weight=weight
            )
        assert abs(loss.item() - 1.0499) < 1e-4
