"""The loss and distance modules of issue 13 against PyTorch: same constructor arguments give the
same ``repr``, attributes and state_dict keys; forward values for every reduction; gradients of
every input that takes one (targets included), with a non-uniform upstream gradient; and
PyTorch's exception class and text (or warning) for bad arguments, the functional forms too.
Their graphs and derivatives of every order are op cases (tests/op_cases_losses.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

REDUCTIONS = ("none", "mean", "sum")


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(-2, 2, (4, 5)),
        "y": rng.uniform(-2, 2, (4, 5)),
        "z": rng.uniform(-2, 2, (4, 5)),
        "positive": rng.uniform(0.2, 2, (4, 5)),
        "row": rng.uniform(-2, 2, 4),
        "row2": rng.uniform(-2, 2, 4),
        "row_signs": rng.choice([-1.0, 1.0], 4),
        "signs": rng.choice([-1.0, 1.0], (4, 5)),
        "labels": rng.choice([0.0, 1.0], (4, 5)),
        "class_weight": rng.uniform(0.5, 1.5, 5),
    }


# name: (module class name, constructor kwargs, inputs (names in _arrays; "*" = requires grad))
MODULES = {
    "L1Loss": ("L1Loss", {}, ("*x", "*y")),
    "SmoothL1Loss beta": ("SmoothL1Loss", {"beta": 0.5}, ("*x", "*y")),
    "HuberLoss delta": ("HuberLoss", {"delta": 0.7}, ("*x", "*y")),
    "SoftMarginLoss": ("SoftMarginLoss", {}, ("*x", "signs")),
    "KLDivLoss": ("KLDivLoss", {}, ("*x", "*positive")),
    "KLDivLoss log_target": ("KLDivLoss", {"log_target": True}, ("*x", "*y")),
    "GaussianNLLLoss": ("GaussianNLLLoss", {}, ("*x", "*y", "*positive")),
    "GaussianNLLLoss full eps": (
        "GaussianNLLLoss", {"full": True, "eps": 0.5}, ("*x", "*y", "*positive"),
    ),
    "PoissonNLLLoss": ("PoissonNLLLoss", {}, ("*x", "*positive")),
    "PoissonNLLLoss no log full": (
        "PoissonNLLLoss",
        {"log_input": False, "full": True, "eps": 1e-4},
        ("*positive", "*positive"),
    ),
    "MarginRankingLoss": (
        "MarginRankingLoss", {"margin": 0.2}, ("*row", "*row2", "row_signs"),
    ),
    "TripletMarginLoss": ("TripletMarginLoss", {}, ("*x", "*y", "*z")),
    "TripletMarginLoss swap p=1": (
        "TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, ("*x", "*y", "*z"),
    ),
    "HingeEmbeddingLoss": ("HingeEmbeddingLoss", {"margin": 0.5}, ("*x", "signs")),
    "CosineEmbeddingLoss": ("CosineEmbeddingLoss", {"margin": 0.1}, ("*x", "*y", "row_signs")),
    "MultiLabelSoftMarginLoss": ("MultiLabelSoftMarginLoss", {}, ("*x", "labels")),
    "MultiLabelSoftMarginLoss weight": (
        "MultiLabelSoftMarginLoss", {"weight": "class_weight"}, ("*x", "*positive"),
    ),
    "MSELoss": ("MSELoss", {}, ("*x", "*y")),
    "BCEWithLogitsLoss pos_weight": (
        "BCEWithLogitsLoss", {"pos_weight": "class_weight"}, ("*x", "labels"),
    ),
}  # fmt: skip

DISTANCES = {
    "CosineSimilarity": ("CosineSimilarity", {}, ("*x", "*y")),
    "CosineSimilarity dim 0 eps": ("CosineSimilarity", {"dim": 0, "eps": 0.5}, ("*x", "*y")),
    "PairwiseDistance": ("PairwiseDistance", {}, ("*x", "*y")),
    "PairwiseDistance p=1 keepdim": (
        "PairwiseDistance", {"p": 1.0, "eps": 1e-3, "keepdim": True}, ("*x", "*y"),
    ),
}  # fmt: skip


def _module(lib, class_name, kwargs, arrays, reduction=None):
    kwargs = {
        key: lib.tensor(arrays[value]) if isinstance(value, str) else value
        for key, value in kwargs.items()
    }
    if reduction is not None:
        kwargs["reduction"] = reduction
    return getattr(lib.nn, class_name)(**kwargs)


def _run(lib, spec, reduction=None):
    """The module, its output, and the gradients of the inputs that require grad (upstream: a
    fixed non-uniform tensor)."""
    class_name, kwargs, names = spec
    arrays = _arrays()
    module = _module(lib, class_name, kwargs, arrays, reduction)
    inputs = [lib.tensor(arrays[name.lstrip("*")], requires_grad=name[0] == "*") for name in names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (KLDivLoss's 'mean' warning: tested below)
        out = module(*inputs)
    upstream = np.random.default_rng(7).uniform(0.5, 1.5, tuple(out.shape))
    leaves = [x for x in inputs if x.requires_grad]
    grads = lib.autograd.grad(out, leaves, grad_outputs=lib.tensor(upstream))
    return module, out, grads


def _assert_same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", MODULES)
def test_loss_module_against_torch(name, reduction):
    our_module, ours, our_grads = _run(gradienti, MODULES[name], reduction)
    their_module, theirs, their_grads = _run(torch, MODULES[name], reduction)
    assert repr(our_module) == repr(their_module)
    assert list(our_module.state_dict()) == list(their_module.state_dict())
    assert our_module.reduction == their_module.reduction
    _assert_same(ours, theirs)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert len(our_grads) == len(their_grads)
    for mine, other in zip(our_grads, their_grads):
        _assert_same(mine, other)


@pytest.mark.parametrize("name", DISTANCES)
def test_distance_module_against_torch(name):
    our_module, ours, our_grads = _run(gradienti, DISTANCES[name])
    their_module, theirs, their_grads = _run(torch, DISTANCES[name])
    assert repr(our_module) == repr(their_module)
    public = {k: v for k, v in vars(their_module).items() if not k.startswith("_")}
    assert {k: getattr(our_module, k) for k in public} == public
    _assert_same(ours, theirs)
    for mine, other in zip(our_grads, their_grads):
        _assert_same(mine, other)


def test_module_attributes_are_pytorchs():
    for spec in MODULES.values():
        class_name, kwargs, _ = spec
        arrays = _arrays()
        ours = _module(gradienti, class_name, kwargs, arrays)
        theirs = _module(torch, class_name, kwargs, arrays)
        public = {
            k: v for k, v in vars(theirs).items() if not k.startswith("_") and k != "training"
        }
        assert {k: getattr(ours, k) for k in public} == public, class_name


# ---------------------------------------------------------------------- warnings and errors
def _outcome(lib, action):
    """What ``action(lib)`` gives: ('ok', shape), or the exception's class name and text;
    plus the texts of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", tuple(action(lib).shape))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            result = (type(error).__name__, pytorch_text(str(error)))
    warned = [pytorch_text(str(w.message)) for w in caught if w.category is not DeprecationWarning]
    return result, warned


def _t(lib, *shape, grad=False, dtype=None, seed=0):
    values = np.random.default_rng(seed).uniform(0.1, 2, shape)
    return lib.tensor(values, dtype=dtype or lib.float32, requires_grad=grad)


ACTIONS = {
    # sizes, broadcasting and its warning
    "mse_loss target broadcast": lambda L: L.nn.functional.mse_loss(_t(L, 3, 4), _t(L, 4)),
    "mse_loss shapes": lambda L: L.nn.functional.mse_loss(_t(L, 3, 4), _t(L, 3, 5)),
    "l1_loss shapes": lambda L: L.nn.functional.l1_loss(_t(L, 3, 4), _t(L, 2, 4)),
    "huber_loss shapes": lambda L: L.nn.functional.huber_loss(_t(L, 3, 4), _t(L, 3, 5)),
    "smooth_l1_loss target broadcast": lambda L: L.nn.functional.smooth_l1_loss(
        _t(L, 3, 4), _t(L, 3, 1)
    ),
    "mse_loss weight size": lambda L: L.nn.functional.mse_loss(
        _t(L, 3, 4), _t(L, 3, 4), weight=_t(L, 4)
    ),
    # the weight is compared with the input as given, before it broadcasts with the target
    "mse_loss weight of the broadcast shape": lambda L: L.nn.functional.mse_loss(
        _t(L, 1, 4), _t(L, 3, 4), weight=_t(L, 3, 4)
    ),
    "l1_loss weight of the input's shape": lambda L: L.nn.functional.l1_loss(
        _t(L, 1, 4), _t(L, 3, 4), weight=_t(L, 1, 4)
    ),
    "huber_loss weight of the broadcast shape": lambda L: L.nn.functional.huber_loss(
        _t(L, 1, 4), _t(L, 3, 4), weight=_t(L, 3, 4)
    ),
    "mse_loss weight bad reduction": lambda L: L.nn.functional.mse_loss(
        _t(L, 3, 4), _t(L, 3, 4), reduction="avg", weight=_t(L, 3, 4)
    ),
    "bce_with_logits sizes": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4), _t(L, 4)
    ),
    "bce_with_logits weight requires grad": lambda L: (
        L.nn.functional.binary_cross_entropy_with_logits(
            _t(L, 3, 4), _t(L, 3, 4), weight=_t(L, 4, grad=True)
        )
    ),
    "bce_with_logits pos_weight requires grad": lambda L: (
        L.nn.functional.binary_cross_entropy_with_logits(
            _t(L, 3, 4), _t(L, 3, 4), pos_weight=_t(L, 4, grad=True)
        )
    ),
    "bce_with_logits pos_weight shape": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4), _t(L, 3, 4), pos_weight=_t(L, 3)
    ),
    "bce_with_logits weight shape": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4), _t(L, 3, 4), weight=_t(L, 3)
    ),
    "bce_with_logits weight widens": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4), _t(L, 3, 4), weight=_t(L, 2, 3, 4)
    ),
    "bce_with_logits integer logits": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        L.tensor([1, 0]), _t(L, 2)
    ),
    "bce_with_logits integer target": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 2, dtype=L.float64), L.tensor([1, 0])
    ),
    "bce_with_logits int32 target": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 2), L.tensor([1, 0], dtype=L.int32)
    ),
    "bce_with_logits bool target": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 2), L.tensor([True, False])
    ),
    "soft_margin_loss target requires grad": lambda L: L.nn.functional.soft_margin_loss(
        _t(L, 3, 4), _t(L, 3, 4, grad=True)
    ),
    "soft_margin_loss shapes": lambda L: L.nn.functional.soft_margin_loss(_t(L, 3, 4), _t(L, 3, 5)),
    "soft_margin_loss target widens": lambda L: L.nn.functional.soft_margin_loss(
        _t(L, 3, 4), _t(L, 2, 3, 4)
    ),
    # argument values
    "reduction invalid": lambda L: L.nn.functional.mse_loss(_t(L, 3), _t(L, 3), reduction="avg"),
    "reduction elementwise_mean": lambda L: L.nn.functional.l1_loss(
        _t(L, 3), _t(L, 3), reduction="elementwise_mean"
    ),
    "legacy size_average": lambda L: L.nn.functional.mse_loss(
        _t(L, 3), _t(L, 3), size_average=False
    ),
    "legacy reduce": lambda L: L.nn.functional.smooth_l1_loss(_t(L, 3), _t(L, 3), reduce=False),
    "cross_entropy legacy size_average": lambda L: L.nn.functional.cross_entropy(
        _t(L, 3, 4), L.tensor([0, 3, 1]), size_average=False
    ),
    "nll_loss legacy reduce": lambda L: L.nn.functional.nll_loss(
        _t(L, 3, 4), L.tensor([0, 3, 1]), reduce=False
    ),
    "binary_cross_entropy elementwise_mean": lambda L: L.nn.functional.binary_cross_entropy(
        _t(L, 3) / 3, _t(L, 3) / 3, reduction="elementwise_mean"
    ),
    "CrossEntropyLoss legacy reduce": lambda L: L.nn.CrossEntropyLoss(reduce=False)(
        _t(L, 3, 4), L.tensor([0, 3, 1])
    ),
    "smooth_l1 negative beta": lambda L: L.nn.functional.smooth_l1_loss(
        _t(L, 3), _t(L, 3), beta=-1.0
    ),
    "huber_loss integer input": lambda L: L.nn.functional.huber_loss(L.tensor([1, 2]), _t(L, 2)),
    "huber_loss bool input": lambda L: L.nn.functional.huber_loss(
        L.tensor([True, False]), _t(L, 2, dtype=L.float64)
    ),
    "huber zero delta": lambda L: L.nn.functional.huber_loss(_t(L, 3), _t(L, 3), delta=0.0),
    "mse_loss integers": lambda L: L.nn.functional.mse_loss(L.tensor([1, 2]), L.tensor([3, 4])),
    "kl_div mean warns": lambda L: L.nn.functional.kl_div(_t(L, 3, 4), _t(L, 3, 4)),
    "kl_div batchmean": lambda L: L.nn.functional.kl_div(
        _t(L, 3, 4), _t(L, 3, 4), reduction="batchmean"
    ),
    "kl_div integers": lambda L: L.nn.functional.kl_div(
        _t(L, 3, 4), L.tensor([[1, 2, 3, 4]] * 3), reduction="sum"
    ),
    "kl_div bad reduction": lambda L: L.nn.functional.kl_div(_t(L, 3), _t(L, 3), reduction="avg"),
    "gaussian_nll negative var": lambda L: L.nn.functional.gaussian_nll_loss(
        _t(L, 3, 4), _t(L, 3, 4), -_t(L, 3, 4)
    ),
    "gaussian_nll negative float var": lambda L: L.nn.functional.gaussian_nll_loss(
        _t(L, 3, 4), _t(L, 3, 4), -1.0
    ),
    "gaussian_nll var size": lambda L: L.nn.functional.gaussian_nll_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 3, 2)
    ),
    "gaussian_nll var two dims differ": lambda L: L.nn.functional.gaussian_nll_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 1, 1)
    ),
    "gaussian_nll bad reduction": lambda L: L.nn.functional.gaussian_nll_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 3, 4), reduction="avg"
    ),
    "margin_ranking dims": lambda L: L.nn.functional.margin_ranking_loss(
        _t(L, 3), _t(L, 3, 4), _t(L, 3)
    ),
    "margin_ranking sizes": lambda L: L.nn.functional.margin_ranking_loss(
        _t(L, 3), _t(L, 2), _t(L, 3)
    ),
    "triplet margin": lambda L: L.nn.functional.triplet_margin_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 3, 4), margin=0.0
    ),
    "triplet dims": lambda L: L.nn.functional.triplet_margin_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 4)
    ),
    "TripletMarginLoss margin": lambda L: L.nn.TripletMarginLoss(margin=-1.0),
    "cosine_embedding target dims": lambda L: L.nn.functional.cosine_embedding_loss(
        _t(L, 3, 4), _t(L, 3, 4), _t(L, 3, 1)
    ),
    "cosine_embedding 1-d target, 1-d inputs": lambda L: L.nn.functional.cosine_embedding_loss(
        _t(L, 4), _t(L, 4), _t(L, 3)
    ),
    "cosine_embedding 0-d target, 2-d inputs": lambda L: L.nn.functional.cosine_embedding_loss(
        _t(L, 3, 4), _t(L, 3, 4), L.tensor(1.0)
    ),
    "cosine_embedding 1-d target, 1-d second input": lambda L: (
        L.nn.functional.cosine_embedding_loss(_t(L, 3, 4), _t(L, 4), _t(L, 3))
    ),
    "cosine_embedding 0-d target, 2-d second input": lambda L: (
        L.nn.functional.cosine_embedding_loss(_t(L, 4), _t(L, 1, 4), L.tensor(1.0))
    ),
    "multilabel_soft_margin bad reduction": lambda L: L.nn.functional.multilabel_soft_margin_loss(
        _t(L, 3, 4), _t(L, 3, 4), reduction="avg"
    ),
    "poisson bad reduction": lambda L: L.nn.functional.poisson_nll_loss(
        _t(L, 3), _t(L, 3), reduction="avg"
    ),
    "cosine_similarity integers": lambda L: L.nn.functional.cosine_similarity(
        L.tensor([[1, 2]]), L.tensor([[3, 4]])
    ),
    "cosine_similarity integer and float": lambda L: L.nn.functional.cosine_similarity(
        L.tensor([[1, 2]]), _t(L, 1, 2)
    ),
    "cosine_similarity shapes": lambda L: L.nn.functional.cosine_similarity(
        _t(L, 3, 4), _t(L, 3, 5)
    ),
    "pairwise_distance shapes": lambda L: L.nn.functional.pairwise_distance(
        _t(L, 3, 4), _t(L, 3, 5)
    ),
    "pairwise_distance 0-d": lambda L: L.nn.functional.pairwise_distance(
        L.tensor(1.0), L.tensor(3.0)
    ),
    "normalize out": lambda L: L.nn.functional.normalize(_t(L, 3, 4), out=L.empty(3, 4)),
    "normalize out requires grad": lambda L: L.nn.functional.normalize(
        _t(L, 3, 4, grad=True), out=L.empty(3, 4)
    ),
    "normalize integers": lambda L: L.nn.functional.normalize(L.tensor([1, 2])),
    "MSELoss legacy size_average": lambda L: L.nn.MSELoss(size_average=False)(_t(L, 3), _t(L, 3)),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_errors_and_warnings_are_pytorchs(name):
    assert _outcome(gradienti, ACTIONS[name]) == _outcome(torch, ACTIONS[name])


def test_normalize_writes_into_out():
    results = []
    for lib in (gradienti, torch):
        out = lib.empty(3, 4)
        returned = lib.nn.functional.normalize(_t(lib, 3, 4), p=1, dim=0, out=out)
        assert returned is out
        results.append(out.numpy())
    np.testing.assert_allclose(*results, rtol=1e-6)


def test_a_refused_call_records_nothing():
    x = gradienti.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError):
        gradienti.nn.functional.triplet_margin_loss(x, x, x[0])
    assert x.grad is None


MIXED_DTYPES = {
    "mse_loss float32, float64": lambda L: L.nn.functional.mse_loss(
        _t(L, 3, 4), _t(L, 3, 4, dtype=L.float64, seed=1)
    ),
    "bce_with_logits float32, float64": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4), _t(L, 3, 4, dtype=L.float64, seed=1) / 2
    ),
    "bce_with_logits float64 weights": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4),
        _t(L, 3, 4, seed=1) / 2,
        weight=_t(L, 4, dtype=L.float64, seed=2),
        pos_weight=_t(L, 4, dtype=L.float64, seed=3),
    ),
    "soft_margin_loss float64 target": lambda L: L.nn.functional.soft_margin_loss(
        _t(L, 3, 4), _t(L, 3, 4, dtype=L.float64, seed=1)
    ),
    "pairwise_distance float32, float64": lambda L: L.nn.functional.pairwise_distance(
        _t(L, 3, 4), _t(L, 3, 4, dtype=L.float64, seed=1)
    ),
    # huber_loss writes into a tensor like its input: the input's dtype
    "huber_loss float32, float64": lambda L: L.nn.functional.huber_loss(
        _t(L, 3, 4), _t(L, 3, 4, dtype=L.float64, seed=1), reduction="none"
    ),
    "huber_loss float16, float32 summed": lambda L: L.nn.functional.huber_loss(
        _t(L, 3, 4, dtype=L.float16), _t(L, 3, 4, seed=1), reduction="sum"
    ),
    # the loss is computed in place on ``1 - target``: the target's dtype
    "bce_with_logits float64, float32": lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        _t(L, 3, 4, dtype=L.float64), _t(L, 3, 4, seed=1) / 2, pos_weight=_t(L, 4, seed=2)
    ),
    # integral tensors meeting ATen's float scalars compute in the default float dtype
    "pairwise_distance integers": lambda L: L.nn.functional.pairwise_distance(
        L.tensor([[1, 2, 5]]), L.tensor([[0, 4, 1]])
    ),
    "poisson_nll_loss full, integer target": lambda L: L.nn.functional.poisson_nll_loss(
        _t(L, 2, 3), L.tensor([[0, 1, 2], [3, 5, 8]]), full=True, reduction="none"
    ),
    "margin_ranking_loss integers": lambda L: L.nn.functional.margin_ranking_loss(
        L.tensor([1, 2, 3]), L.tensor([2, 0, 3]), L.tensor([1, -1, 1]), margin=0.5
    ),
    "margin_ranking_loss integers, default margin": lambda L: L.nn.functional.margin_ranking_loss(
        L.tensor([1, 2, 3]), L.tensor([2, 0, 3]), L.tensor([1, -1, 1])
    ),
    "cosine_embedding_loss integers": lambda L: L.nn.functional.cosine_embedding_loss(
        L.tensor([[1, 2], [3, 4]]), L.tensor([[1, 0], [0, 1]]), L.tensor([1, -1])
    ),
}


@pytest.mark.parametrize("name", MIXED_DTYPES)
def test_mixed_dtypes_give_pytorchs_dtype(name):
    ours, theirs = MIXED_DTYPES[name](gradienti), MIXED_DTYPES[name](torch)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_bce_with_logits_gradients_keep_each_inputs_dtype():
    """A float64 logit and a float32 target: a float32 loss, each gradient in its input's
    dtype (the target's is computed in float64 and must come back as float32)."""
    results = []
    for lib in (gradienti, torch):
        logits = _t(lib, 3, 4, dtype=lib.float64, grad=True)
        target = (_t(lib, 3, 4, seed=1) / 2).requires_grad_()
        loss = lib.nn.functional.binary_cross_entropy_with_logits(
            logits, target, pos_weight=_t(lib, 4, seed=2), reduction="none"
        )
        upstream = lib.tensor(np.random.default_rng(3).uniform(0.5, 2, (3, 4)), dtype=lib.float32)
        grads = lib.autograd.grad(loss, (logits, target), upstream)
        results.append([(str(t.dtype), t.detach().numpy()) for t in (loss, *grads)])
    for (our_dtype, ours), (their_dtype, theirs) in zip(*results):
        assert our_dtype == their_dtype
        # (PyTorch forms pos_weight·target in float32: near-cancelling elements differ there)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_huber_loss_gradient_keeps_the_inputs_dtype():
    """A float32 input and a float64 target: a float32 loss and input gradient. PyTorch's
    backward refuses the wider target ("Found dtype Double but expected Float"); the gradient
    here is the one PyTorch gives for the target rounded to float32."""
    upstream = np.random.default_rng(3).uniform(0.5, 2, (3, 4))
    input = _t(gradienti, 3, 4, grad=True)
    loss = gradienti.nn.functional.huber_loss(
        input, _t(gradienti, 3, 4, dtype=gradienti.float64, seed=1), reduction="none", delta=0.5
    )
    (grad,) = gradienti.autograd.grad(loss, input, gradienti.tensor(upstream, dtype=input.dtype))
    their_input = _t(torch, 3, 4, grad=True)
    their_loss = torch.nn.functional.huber_loss(
        their_input, _t(torch, 3, 4, seed=1), reduction="none", delta=0.5
    )
    (their_grad,) = torch.autograd.grad(their_loss, their_input, torch.tensor(upstream).float())
    assert (loss.dtype, grad.dtype) == (gradienti.float32, gradienti.float32)
    np.testing.assert_allclose(grad.numpy(), their_grad.numpy(), rtol=1e-5)  # (the rounding)


HALF_MEANS = {
    "mse_loss": lambda F, x, y: F.mse_loss(x, y),
    "huber_loss": lambda F, x, y: F.huber_loss(x, y, delta=0.5),
    "smooth_l1_loss": lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "soft_margin_loss": lambda F, x, y: F.soft_margin_loss(x, y * 0 + 1),
    "binary_cross_entropy_with_logits": lambda F, x, y: F.binary_cross_entropy_with_logits(x, y),
    "binary_cross_entropy": lambda F, x, y: F.binary_cross_entropy(x, y),
}


@pytest.mark.parametrize("name", HALF_MEANS)
def test_float16_mean_over_more_elements_than_float16_counts(name):
    """70000 elements: PyTorch averages a float16 loss in float32 (the count overflows
    float16, which made the mean 0)."""
    rng = np.random.default_rng(5)
    x, y = (rng.uniform(0.05, 0.95, 70000).astype(np.float16) for _ in range(2))
    ours = HALF_MEANS[name](gradienti.nn.functional, gradienti.tensor(x), gradienti.tensor(y))
    theirs = HALF_MEANS[name](torch.nn.functional, torch.tensor(x), torch.tensor(y))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-3)


@pytest.mark.parametrize("name", HALF_MEANS)
def test_float16_mean_gradient_over_more_elements_than_float16_counts(name):
    """Each element's share of a float16 mean is computed in float32, as PyTorch's: divided
    in float16, the count of 70000 overflowed and every gradient was 0."""
    rng = np.random.default_rng(6)
    x, y = (rng.uniform(0.05, 0.95, 70000).astype(np.float16) for _ in range(2))
    grads = []
    for lib in (gradienti, torch):
        input = lib.tensor(x, requires_grad=True)
        loss = HALF_MEANS[name](lib.nn.functional, input, lib.tensor(y))
        (grad,) = lib.autograd.grad(loss, input, lib.tensor(1000.0, dtype=lib.float16))
        grads.append(grad.float().numpy())
    ours, theirs = grads
    assert np.abs(theirs).max() > 1e-3  # (the test reads gradients that are not all 0)
    np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=1e-4)


def test_float16_cross_entropy_mean_over_many_rows_of_probabilities():
    """The mean over 70000 positions (DivBackward1) is divided in float32 as PyTorch's: in
    float16 the count is inf, and the loss and its gradient were 0."""
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(70000, 2)).astype(np.float16)
    probabilities = rng.dirichlet([1.0, 1.0], 70000).astype(np.float16)
    results = []
    for lib in (gradienti, torch):
        input = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(input, lib.tensor(probabilities))
        (grad,) = lib.autograd.grad(loss, input, lib.tensor(100.0, dtype=lib.float16))
        results.append((float(loss.detach()), grad.float().numpy()))
    (our_loss, ours), (their_loss, theirs) = results
    assert their_loss > 0.5
    np.testing.assert_allclose(our_loss, their_loss, rtol=1e-3)
    np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=1e-5)
