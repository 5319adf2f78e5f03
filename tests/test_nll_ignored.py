"""nll_loss and cross_entropy where targets are ignored (ignore_index), against torch: a batch
of nothing but padding has a NaN mean, as in PyTorch, yet a zero gradient (not NaN), for
every reduction, class weights, label smoothing and spatial shapes; forward, gradient with a
non-uniform upstream gradient and second derivatives. Also the spatial path (PyTorch's
NllLoss2DBackward0, its checks in its order) and cross_entropy's choice between class
indices and class probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")  # the oracle

REDUCTIONS = ["none", "mean", "sum"]
SHAPES = [(3, 4), (4,), (2, 4, 3), (2, 4, 3, 2), (2, 4, 2, 1, 2)]
OPTIONS = {
    "plain": {},
    "weight": {"weight": [0.5, 2.0, 1.5, 3.0]},
    "smoothing": {"label_smoothing": 0.2},
    "weight-smoothing": {"weight": [0.5, 2.0, 1.5, 3.0], "label_smoothing": 0.3},
}


def _run(lib, loss_name, logits, target, options, reduction):
    """Loss, its gradient for a non-uniform upstream gradient (create_graph), and the
    gradient of a weighted sum of that gradient (the second derivative), as arrays."""
    x = lib.tensor(logits, requires_grad=True)
    kwargs = {k: lib.tensor(np.array(v)) if k == "weight" else v for k, v in options.items()}
    loss = getattr(lib.nn.functional, loss_name)(
        x, lib.tensor(target), reduction=reduction, **kwargs
    )
    upstream = lib.tensor(np.linspace(0.5, 2.0, loss.numel()).reshape(tuple(loss.shape)))
    (grad,) = lib.autograd.grad(loss, x, upstream, create_graph=True)
    mix = lib.tensor(np.random.default_rng(1).standard_normal(logits.shape))
    (second,) = lib.autograd.grad((grad * mix).sum(), x, allow_unused=True)
    arrays = [loss.detach().numpy(), grad.detach().numpy()]
    arrays.append(None if second is None else second.numpy())
    return loss.grad_fn.name(), arrays


def _compare(loss_name, logits, target, options, reduction):
    name_g, ours = _run(gradienti, loss_name, logits, target, options, reduction)
    name_t, theirs = _run(torch, loss_name, logits, target, options, reduction)
    assert name_g == name_t
    for mine, reference in zip(ours, theirs):
        assert (mine is None) == (reference is None)
        if reference is not None:
            assert mine.shape == reference.shape
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12, equal_nan=True)
    return ours


LOSS_OPTIONS = [
    (loss_name, option)
    for loss_name in ("cross_entropy", "nll_loss")
    for option in OPTIONS
    if loss_name == "cross_entropy" or "label_smoothing" not in OPTIONS[option]
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(("loss_name", "option"), LOSS_OPTIONS)
def test_all_targets_ignored_as_torch(loss_name, option, shape, reduction):
    options = OPTIONS[option]
    logits = np.random.default_rng(0).standard_normal(shape)
    target = np.full(shape[:1] + shape[2:] if len(shape) > 1 else (), -100, dtype=np.int64)
    loss, grad, _ = _compare(loss_name, logits, target, options, reduction)
    assert not np.isnan(grad).any() and not grad.any()  # no NaN: a zero gradient
    if reduction == "mean":
        assert np.isnan(loss)  # 0 / 0, as PyTorch's


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "weight-smoothing"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (2, 4, 3, 2)], ids=str)
def test_ignored_positions_are_never_read(shape, option, reduction):
    """An ignored position whose log-probabilities are -inf adds nothing (not 0 * inf)."""
    rng = np.random.default_rng(2)
    logits = rng.standard_normal(shape)
    target = rng.integers(0, 4, shape[:1] + shape[2:])
    target.reshape(-1)[::2] = 7
    logits[0] = -np.inf  # the first batch item is ignored everywhere
    target[0] = 7
    for loss_name in ("nll_loss", "cross_entropy"):
        if loss_name == "cross_entropy":
            logits[0] = 0.0  # log_softmax of -inf everywhere is NaN: ignored, but not a loss
        options = {"ignore_index": 7, **OPTIONS[option]}
        if loss_name == "nll_loss":
            options.pop("label_smoothing", None)
        loss, grad, _ = _compare(loss_name, logits, target, options, reduction)
        assert np.isfinite(loss).all() and np.isfinite(grad).all()


def test_zero_class_weight_is_not_ignoring():
    """Kept targets whose class weighs 0: the total weight is 0 and the gradient NaN at those
    targets, as PyTorch's (only ignored targets are left out)."""
    logits = np.random.default_rng(3).standard_normal((3, 4))
    options = {"weight": [0.0, 1.0, 1.0, 1.0]}
    _, grad, _ = _compare("nll_loss", logits, np.zeros(3, dtype=np.int64), options, "mean")
    assert np.isnan(grad[:, 0]).all() and not grad[:, 1:].any()


def test_nll_second_derivative_with_respect_to_input_is_zeros():
    """PyTorch's NllLossBackwardBackward0 takes the input too (its gradient is zeros), so the
    gradient of nll_loss's gradient with respect to the input is zeros, not an error."""
    for lib in (gradienti, torch):
        x = lib.tensor(np.ones((3, 4)), requires_grad=True)
        loss = lib.nn.functional.nll_loss(x, lib.tensor([0, 1, -100]))
        (grad,) = lib.autograd.grad(loss, x, create_graph=True)
        assert [type(node).__name__ for node, _ in grad.grad_fn.next_functions[1:]] == [
            "AccumulateGrad"
        ]
        (second,) = lib.autograd.grad(grad.sum(), x)
        assert second.shape == (3, 4) and not second.numpy().any()


def _outcome(lib, make):
    x, target, kwargs = make(lib)
    try:
        loss = lib.nn.functional.cross_entropy(x, target, **kwargs)
    except Exception as error:  # noqa: BLE001 - the error itself is compared
        return type(error).__name__, pytorch_text(str(error))
    return "ok", tuple(loss.shape), np.round(loss.detach().numpy().astype(np.float64), 6)


def _floats(lib, *shape):
    return lib.tensor(np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: (_floats(lib, 3, 4), lib.tensor([0.0, 1.0, 2.0]), {}),
        lambda lib: (_floats(lib, 3, 4), lib.zeros(3, 4, dtype=lib.int64), {}),
        lambda lib: (_floats(lib, 3, 4), lib.zeros(3, 4, dtype=lib.bool), {}),
        lambda lib: (_floats(lib, 3, 4), lib.zeros(3, 3), {}),
        lambda lib: (_floats(lib, 3, 4), lib.full((3, 4), 0.25), {"ignore_index": 0}),
        lambda lib: (_floats(lib, 3, 4), lib.full((3, 4), 0.25), {"ignore_index": -1}),
        lambda lib: (_floats(lib, 3, 4), lib.full((3, 4), 0.25), {"weight": lib.ones(3)}),
        lambda lib: (_floats(lib, 3, 4), lib.tensor([0, 1, 2]), {"label_smoothing": -0.1}),
        lambda lib: (_floats(lib, 3, 4), lib.tensor([0, 1, 2]), {"label_smoothing": 1.5}),
        lambda lib: (_floats(lib, 3, 4), lib.full((3, 4), 0.25), {"label_smoothing": 1.5}),
        lambda lib: (_floats(lib, 0, 4), lib.zeros(0, 4), {}),
        lambda lib: (_floats(lib, 4), lib.tensor(1.0), {}),
        lambda lib: (_floats(lib, 2, 3, 4), lib.zeros(2, 5, dtype=lib.int64), {}),
        lambda lib: (_floats(lib, 2, 3, 4, 5), lib.zeros(2, 4, dtype=lib.int64), {}),
        lambda lib: (_floats(lib, 2, 3, 4, 5), lib.zeros(2, 4, 6, dtype=lib.int64), {}),
        lambda lib: (_floats(lib, 2, 3, 4, 5), lib.full((2, 4, 5), 3), {}),
        lambda lib: (_floats(lib, 2, 3, 4), lib.zeros(2, 4, dtype=lib.int32), {}),
        lambda lib: (_floats(lib, 2, 3, 4), lib.zeros(2, 4, dtype=lib.uint8), {}),
        lambda lib: (_floats(lib, 0, 3, 4), lib.zeros(0, 4, dtype=lib.uint8), {}),
        lambda lib: (
            _floats(lib, 2, 3, 4, 5),
            lib.zeros(2, 4, 5, dtype=lib.int64),
            {"weight": lib.ones(2)},
        ),
        lambda lib: (
            _floats(lib, 2, 3, 4),
            lib.zeros(2, 4, dtype=lib.int64),
            {"weight": lib.ones(1, 3)},
        ),
        lambda lib: (
            _floats(lib, 2, 3, 4),
            lib.zeros(2, 4, dtype=lib.int64),
            {"weight": lib.ones(3).float()},
        ),
        lambda lib: (
            _floats(lib, 2, 3, 4),
            lib.zeros(2, 4, dtype=lib.int64),
            {"weight": lib.ones(3, requires_grad=True)},
        ),
        lambda lib: (_floats(lib, 2, 0, 4), lib.zeros(2, 4, dtype=lib.int64), {}),
        lambda lib: (
            _floats(lib, 2, 3, 0),
            lib.zeros(2, 0, dtype=lib.int64),
            {"reduction": "none"},
        ),
        lambda lib: (
            _floats(lib, 0, 3, 4, 5),
            lib.zeros(0, 4, 5, dtype=lib.int64),
            {"reduction": "sum"},
        ),
    ],
)
def test_cross_entropy_outcomes_as_torch(make):
    """The target of the input's shape is probabilities, else indices; checks in PyTorch's
    order, with its exception classes and texts."""
    ours, theirs = _outcome(gradienti, make), _outcome(torch, make)
    assert ours[:2] == theirs[:2]
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6, atol=1e-6, equal_nan=True)
