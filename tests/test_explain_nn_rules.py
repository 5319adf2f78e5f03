"""The explain rules declared by ops/linalg.py, ops/products.py, ops/binary_cross_entropy.py,
ops/pooling.py, ops/normalization.py and ops/embedding.py: every node class of these modules
is recorded by some call below (first and second derivatives), and its declared rule, evaluated
on that node, fits it (one text per input, the form's slots) and is not the generic one.
The explanation of each call keeps its lines short and gives the engine's gradients."""

from __future__ import annotations

import string

import numpy as np
import pytest

import gradienti
import gradienti.nn.functional as F
from gradienti.autograd.function import Node
from gradienti.ops import (
    binary_cross_entropy,
    composite_nodes,
    embedding,
    linalg,
    normalization,
    pooling,
    products,
    regression_losses,
)
from gradienti.ops.explain_rule import GENERIC, Rule
from gradienti.viz.explain import explain
from gradienti.viz.explain_rules import slot_names

MODULES = (linalg, products, binary_cross_entropy, pooling, normalization, embedding)
MODULES += (regression_losses, composite_nodes)
MODULE_NAMES = {module.__name__ for module in MODULES}


def _declared_rules() -> dict:
    """{node class name: rule} from the modules' own declarations."""
    rules = {}
    for module in MODULES:
        for declaration in module.DECLARATIONS:
            rules.update(declaration.explain)
    return rules


def _node_classes() -> set:
    """The node class names these modules define (private bases excluded)."""
    seen, stack = set(), [Node]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__ in MODULE_NAMES and not sub.__name__.startswith("_"):
                seen.add(sub.__name__)
    return seen


def _t(shape, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return gradienti.tensor(rng.uniform(low, high, shape), requires_grad=True)


def _with_second(build):
    """The call, and the sum of its squared first derivatives (recording the VJP nodes)."""

    def both():
        inputs, out = build()
        firsts = gradienti.autograd.grad((out * out).sum(), inputs, create_graph=True)
        total = sum(first.sum() for first in firsts)
        return inputs, total

    return both


def _probabilities(shape, seed):
    return _t(shape, seed, 0.05, 0.95)


def _bce(reduction, weighted=False):
    def build():
        p, y = _probabilities((2, 3), 1), _probabilities((2, 3), 2)
        weight = gradienti.tensor(np.linspace(0.5, 1.5, 3)) if weighted else None
        return [p, y], F.binary_cross_entropy(p, y, weight, reduction=reduction)

    return build


def _folded_non_contiguous():
    # A sliced (non-contiguous, still viewable) batch times a matrix: ReshapeAliasBackward0.
    base, w = _t((2, 3, 5), 3), _t((4, 2), 4)
    return [base, w], base[:, :, :4] @ w


def _norm(kind, weight, bias, training=True):
    def build():
        x = _t((4, 3, 2), 5)
        params = [_t((3,) if kind == "batch" else (3, 2), seed) for seed in (6, 7)]
        w, b = (params[0] if weight else None), (params[1] if bias else None)
        if kind == "batch":
            stats = (gradienti.zeros(3, dtype=x.dtype), gradienti.ones(3, dtype=x.dtype))
            out = F.batch_norm(x, *stats, w, b, training=training)
        else:
            out = F.layer_norm(x, (3, 2), w, b)
        return [x] + [p for p in (w, b) if p is not None], out

    return build


def _pool(call):
    def build():
        x = _t((1, 2, 5, 5), 8)
        return [x], call(x)

    return build


def _embedding(**options):
    def build():
        weight = _t((5, 3), 9)
        indices = gradienti.tensor([[0, 2, 2], [4, 1, 0]])
        return [weight], F.embedding(indices, weight, **options)

    return build


def _call(function, *shapes):
    """``function`` of random tensors of ``shapes`` (that require grad)."""

    def build():
        inputs = [_t(shape, seed) for seed, shape in enumerate(shapes)]
        return inputs, function(*inputs)

    return build


CALLS = {
    "mm": _call(lambda a, b: a.mm(b), (2, 3), (3, 4)),
    "addmm": _call(lambda bias, x, w: F.linear(x, w, bias), (4,), (2, 3), (4, 3)),
    "bmm": _call(lambda a, b: a.bmm(b), (2, 2, 3), (2, 3, 2)),
    "mv": _call(lambda a, b: a.mv(b), (2, 3), (3,)),
    "dot": _call(gradienti.dot, (3,), (3,)),
    "vector @ matrix": _call(lambda a, b: a @ b, (3,), (3, 2)),
    "sliced batch @ matrix": _folded_non_contiguous,
    "bce mean": _bce("mean"),
    "bce sum weighted": _bce("sum", weighted=True),
    "bce none": _bce("none"),
    "bce second": _with_second(_bce("mean")),
    "bce logits": _call(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid(), reduction="sum"),
        (2, 3),
        (2, 3),
    ),
    "bce logits pos_weight": _call(
        lambda x: F.binary_cross_entropy_with_logits(
            x, _probabilities((2, 3), 4).detach(), pos_weight=_probabilities((3,), 5).detach() * 2
        ),
        (2, 3),
    ),
    "mse": _call(F.mse_loss, (2, 3), (2, 3)),
    "pairwise_distance": _call(lambda x, y: F.pairwise_distance(x, y, p=3), (2, 3), (2, 3)),
    "cosine_embedding_loss": _call(
        lambda x, y: F.cosine_embedding_loss(x, y, gradienti.tensor([1.0, -1.0]), margin=-0.5),
        (2, 3),
        (2, 3),
    ),
    "cross_entropy probabilities": _call(
        lambda x, y: F.cross_entropy(x, y.softmax(1), label_smoothing=0.1), (2, 3), (2, 3)
    ),
    "poisson_nll_loss full": _call(
        lambda x, y: F.poisson_nll_loss(x, y * y + 1.5, full=True), (2, 3), (2, 3)
    ),
    "huber sum": _call(lambda x, y: F.huber_loss(x, y, reduction="sum", delta=0.5), (2, 3), (2, 3)),
    "smooth_l1 none": _call(lambda x, y: F.smooth_l1_loss(x, y, reduction="none"), (2, 3), (2, 3)),
    "soft_margin": _call(
        lambda x: F.soft_margin_loss(x, (_probabilities((2, 3), 4) - 0.5).sign().detach()), (2, 3)
    ),
    "max_pool2d": _pool(lambda x: F.max_pool2d(x, 2)),
    "max_pool2d overlapping": _pool(lambda x: F.max_pool2d(x, 3, stride=1, padding=1)),
    "max_pool2d second": _with_second(_pool(lambda x: F.max_pool2d(x, 2, ceil_mode=True))),
    "max_pool1d": _pool(lambda x: F.max_pool1d(x[0], 2, dilation=2)),
    "avg_pool2d": _pool(lambda x: F.avg_pool2d(x, 2)),
    "avg_pool2d padded": _pool(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    "avg_pool2d second": _with_second(_pool(lambda x: F.avg_pool2d(x, (2, 1), divisor_override=3))),
    "avg_pool1d": _pool(lambda x: F.avg_pool1d(x[0], 3)),
    "adaptive_avg_pool2d": _pool(lambda x: F.adaptive_avg_pool2d(x, 3)),
    "adaptive_avg_pool2d second": _with_second(_pool(lambda x: F.adaptive_avg_pool2d(x, (2, 4)))),
    "adaptive_avg_pool1d": _pool(lambda x: F.adaptive_avg_pool1d(x[0], 2)),
    "batch_norm": _norm("batch", True, True),
    "batch_norm bare": _norm("batch", False, False),
    "batch_norm eval bias": _norm("batch", False, True, training=False),
    "batch_norm second": _with_second(_norm("batch", True, False)),
    "layer_norm": _norm("layer", True, True),
    "layer_norm weight": _norm("layer", True, False),
    "layer_norm second": _with_second(_norm("layer", False, True)),
    "embedding": _embedding(),
    "embedding padding": _embedding(padding_idx=0, scale_grad_by_freq=True),
    "embedding second": _with_second(_embedding(padding_idx=2)),
}


def _nodes(out) -> list:
    seen, stack = [], [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or any(node is other for other in seen):
            continue
        seen.append(node)
        stack.extend(child for child, _ in node.next_functions)
    return seen


def _fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_rule(node, rule) -> None:
    assert rule is not GENERIC
    if callable(rule):
        rule = rule(node)
    assert isinstance(rule, Rule)
    slots = set(slot_names(len(node._next)))
    assert _fields(rule.form) <= slots, rule.form
    per_input = rule.local or rule.passes
    assert len(per_input) == len(node._next), rule
    for text in (rule.words, *per_input):
        assert _fields(text) <= slots, text
    string.Formatter().format(rule.form, **dict.fromkeys(slots, "x"))


@pytest.mark.parametrize("name", CALLS)
def test_each_node_is_told_by_its_declared_rule(name):
    rules = _declared_rules()
    inputs, out = CALLS[name]()
    mine = [node for node in _nodes(out) if type(node).__module__ in MODULE_NAMES]
    assert mine, f"{name} records none of these modules' nodes"
    for node in mine:
        _check_rule(node, rules[type(node).__name__])
    names = {f"in{i}": x for i, x in enumerate(inputs)}
    explanation = explain(out.sum(), names=names)
    assert all(len(line) <= 100 for line in str(explanation).splitlines())
    expected = gradienti.autograd.grad(out.sum(), inputs, allow_unused=True)
    for i, grad in enumerate(expected):
        if grad is not None:
            np.testing.assert_array_equal(
                np.asarray(explanation.leaf_totals[f"in{i}"][1]), grad.numpy()
            )


def test_every_node_class_is_recorded_above_and_has_a_declared_rule():
    rules = _declared_rules()
    recorded = {
        type(node).__name__ for build in CALLS.values() for node in _nodes(build()[1])
    } & _node_classes()
    assert sorted(_node_classes() - set(rules)) == []
    assert sorted(_node_classes() - recorded) == []


def test_the_rules_read_the_nodes_parameters():
    x = _t((1, 1, 6, 6), 1)
    rules = _declared_rules()
    node = F.max_pool2d(x, 3, stride=2, padding=1).grad_fn
    rule = rules[type(node).__name__](node)
    assert rule.words == "max pooling over 3×3 windows, stride 2, padding 1"
    assert rule.form == "max_pool2d({x:0}, 3)"
    assert rule.passes[0].endswith("(added up where windows overlap)")
    node = F.avg_pool2d(x, 2).grad_fn
    assert "÷ 4" in rules[type(node).__name__](node).passes[0]
    node = F.adaptive_avg_pool2d(x, (2, 3)).grad_fn
    assert rules[type(node).__name__](node).words == "adaptive average pooling to 2×3"
    p = _probabilities((3,), 2)
    node = F.binary_cross_entropy(p, p.detach(), reduction="sum").grad_fn
    assert rules[type(node).__name__](node).words == "summed binary cross-entropy"
    node = F.layer_norm(_t((2, 3), 1), (3,), _t((3,), 2)).grad_fn
    rule = rules[type(node).__name__](node)
    assert rule.form == "layer_norm({a:0}, weight={b:0})"
    assert rule.passes[1] == "gradient·x̂ summed over the leading dims"


def test_dot_is_a_function_of_gradienti_grad():
    from gradienti.expression_functions import FUNCTIONS

    function = FUNCTIONS["dot"]
    assert (function.signature, function.summary) == ("dot(x, y)", "dot product of two vectors")
    x = gradienti.tensor([1.0, 2.0])
    assert function.call([x, gradienti.tensor([3.0, 4.0])], gradienti.float64).item() == 11.0
