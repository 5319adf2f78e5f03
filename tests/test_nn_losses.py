"""gradienti.nn losses (functional and modules) against torch: values and gradients."""

import pytest
from torch_oracle import assert_close, to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F

torch = pytest.importorskip("torch")  # the oracle (these tests compare with PyTorch)

REDUCTIONS = ["none", "mean", "sum"]


def close(g, t, tol=1e-10):
    assert_close(g, t, tol)


def check(g_fn, t_fn, input_t, *others_t):
    """Value and input gradient of a loss, against torch (float64)."""
    xt = input_t.clone().requires_grad_()
    xg = to_g(input_t, True)
    lt = t_fn(xt, *others_t)
    lg = g_fn(xg, *[to_g(o) if isinstance(o, torch.Tensor) else o for o in others_t])
    close(lg, lt)
    w = torch.rand(lt.shape, dtype=torch.float64) + 0.5
    (lt * w).sum().backward()
    (lg * to_g(w)).sum().backward()
    close(xg.grad, xt.grad)


def data(seed=0):
    torch.manual_seed(seed)
    return torch.randn(6, 4, dtype=torch.float64) * 2, torch.randn(6, 4, dtype=torch.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    x, y = data()
    tf = torch.nn.functional
    check(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: tf.mse_loss(a, b, reduction=reduction),
        x,
        y,
    )
    check(
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: tf.l1_loss(a, b, reduction=reduction),
        x,
        y,
    )
    for beta in (1.0, 0.5, 0.0):
        check(
            lambda a, b, beta=beta: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            lambda a, b, beta=beta: tf.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            x,
            y,
        )
    for delta in (1.0, 2.5):
        check(
            lambda a, b, d=delta: F.huber_loss(a, b, reduction=reduction, delta=d),
            lambda a, b, d=delta: tf.huber_loss(a, b, reduction=reduction, delta=d),
            x,
            y,
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_loss_modules(reduction):
    x, y = data(1)
    for name, kw in [
        ("MSELoss", {}),
        ("L1Loss", {}),
        ("SmoothL1Loss", {"beta": 0.3}),
        ("HuberLoss", {"delta": 0.7}),
    ]:
        mg = getattr(nn, name)(reduction=reduction, **kw)
        mt = getattr(torch.nn, name)(reduction=reduction, **kw)
        check(mg, mt, x, y)


def test_invalid_reduction():
    x, y = data()
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.mse_loss(to_g(x), to_g(y), reduction="avg")


def class_data(seed=0, shape=(7, 5)):
    torch.manual_seed(seed)
    logits = torch.randn(*shape, dtype=torch.float64) * 2
    n, c = shape[0], shape[1]
    target = torch.randint(0, c, (n,) + tuple(shape[2:]))
    return logits, target


CE_OPTIONS = [
    {},
    {"weight": torch.tensor([0.5, 2.0, 1.0, 0.1, 3.0], dtype=torch.float64)},
    {"ignore_index": 2},
    {"label_smoothing": 0.2},
    {
        "weight": torch.tensor([0.5, 2.0, 1.0, 0.1, 3.0], dtype=torch.float64),
        "ignore_index": 1,
        "label_smoothing": 0.15,
    },
]


def _g_kwargs(kw):
    return {k: to_g(v) if isinstance(v, torch.Tensor) else v for k, v in kw.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", range(len(CE_OPTIONS)))
def test_cross_entropy_indices(reduction, options):
    kw = CE_OPTIONS[options]
    logits, target = class_data(options)
    target[0] = kw.get("ignore_index", 0)
    gkw = _g_kwargs(kw)
    check(
        lambda a, t: F.cross_entropy(a, t, reduction=reduction, **gkw),
        lambda a, t: torch.nn.functional.cross_entropy(a, t, reduction=reduction, **kw),
        logits,
        target,
    )
    check(
        nn.CrossEntropyLoss(reduction=reduction, **gkw),
        torch.nn.CrossEntropyLoss(reduction=reduction, **kw),
        logits,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(reduction):
    logits, target = class_data(3, (3, 5, 2, 4))
    tf = torch.nn.functional
    check(
        lambda a, t: F.cross_entropy(a, t, reduction=reduction, label_smoothing=0.1),
        lambda a, t: tf.cross_entropy(a, t, reduction=reduction, label_smoothing=0.1),
        logits,
        target,
    )
    x = torch.randn(5, dtype=torch.float64)
    t = torch.tensor(3)
    check(
        lambda a, b: F.cross_entropy(a, b, reduction=reduction),
        lambda a, b: tf.cross_entropy(a, b, reduction=reduction),
        x,
        t,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probabilities(reduction, smoothing, weighted):
    logits, _ = class_data(5)
    probs = torch.softmax(torch.randn(7, 5, dtype=torch.float64), 1)
    kw = {"weight": torch.rand(5, dtype=torch.float64) + 0.1} if weighted else {}
    gkw = _g_kwargs(kw)
    check(
        lambda a, p: F.cross_entropy(a, p, reduction=reduction, label_smoothing=smoothing, **gkw),
        lambda a, p: torch.nn.functional.cross_entropy(
            a, p, reduction=reduction, label_smoothing=smoothing, **kw
        ),
        logits,
        probs,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [0, 1, 2])
def test_nll_loss(reduction, options):
    kw = CE_OPTIONS[options]
    logits, target = class_data(10 + options)
    target[1] = kw.get("ignore_index", 4)
    logp = torch.log_softmax(logits, 1)
    gkw = _g_kwargs(kw)
    check(
        lambda a, t: F.nll_loss(a, t, reduction=reduction, **gkw),
        lambda a, t: torch.nn.functional.nll_loss(a, t, reduction=reduction, **kw),
        logp,
        target,
    )
    check(
        nn.NLLLoss(reduction=reduction, **gkw),
        torch.nn.NLLLoss(reduction=reduction, **kw),
        logp,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    torch.manual_seed(7)
    p = torch.rand(5, 3, dtype=torch.float64) * 0.98 + 0.01
    y = torch.rand(5, 3, dtype=torch.float64)
    kw = {"weight": torch.rand(5, 3, dtype=torch.float64)} if weighted else {}
    gkw = _g_kwargs(kw)
    check(
        lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction, **gkw),
        lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction=reduction, **kw),
        p,
        y,
    )
    check(nn.BCELoss(reduction=reduction, **gkw), torch.nn.BCELoss(reduction=reduction, **kw), p, y)


def test_binary_cross_entropy_clamps_log():
    p = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    close(F.binary_cross_entropy(to_g(p), to_g(y)), torch.nn.functional.binary_cross_entropy(p, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits(reduction, weighted, pos):
    torch.manual_seed(8)
    x = torch.randn(5, 3, dtype=torch.float64) * 30  # large logits: must stay finite
    y = torch.rand(5, 3, dtype=torch.float64)
    kw = {}
    if weighted:
        kw["weight"] = torch.rand(3, dtype=torch.float64)
    if pos:
        kw["pos_weight"] = torch.rand(3, dtype=torch.float64) * 3
    gkw = _g_kwargs(kw)
    check(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **gkw),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, **kw
        ),
        x,
        y,
    )
    check(
        nn.BCEWithLogitsLoss(reduction=reduction, **gkw),
        torch.nn.BCEWithLogitsLoss(reduction=reduction, **kw),
        x,
        y,
    )


def test_loss_reprs_and_buffers():
    w = torch.ones(3)
    assert repr(nn.CrossEntropyLoss(weight=to_g(w))) == repr(torch.nn.CrossEntropyLoss(weight=w))
    assert list(nn.CrossEntropyLoss(weight=to_g(w)).state_dict()) == list(
        torch.nn.CrossEntropyLoss(weight=w).state_dict()
    )
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []


def test_classifier_training_matches_torch():
    torch.manual_seed(11)
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    g = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).double()
    g.load_state_dict({k: to_g(v) for k, v in t.state_dict().items()})
    x = torch.randn(12, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (12,))
    opt_t = torch.optim.SGD(t.parameters(), lr=0.2)
    opt_g = gradienti.optim.SGD(g.parameters(), lr=0.2)
    lt_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    lg_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    for _ in range(20):
        opt_t.zero_grad()
        opt_g.zero_grad()
        lt = lt_fn(t(x), y)
        lg = lg_fn(g(to_g(x)), to_g(y))
        lt.backward()
        lg.backward()
        opt_t.step()
        opt_g.step()
        assert abs(lt.item() - lg.item()) < 1e-12
