"""The explain rules declared by the convolution, indexing and nll_loss ops: every node class has
one, and each node of a real graph (and of its recorded backward) is told by its own rule, not
generically."""

import pytest
from explain_helpers import leaf, nodes_below, told_generically
from explain_helpers import node_classes as module_node_classes

import gradienti
import gradienti.nn.functional as F
from gradienti.ops import conv, indexing, nll_loss
from gradienti.viz.explain import explain

MODULES = (conv, indexing, nll_loss)


def node_classes():
    return module_node_classes(*MODULES)


x, v, image, w, b = leaf(2, 3), leaf(3), leaf(2, 2, 4, 4), leaf(2, 2, 2, 2), leaf(2)
signal, w1, wg = leaf(1, 2, 5), leaf(2, 2, 3), leaf(2, 1, 2, 2)
rows, pairs = gradienti.tensor([0, 1, 1]), gradienti.tensor([2, 0])
targets = gradienti.tensor([[[0, 1, 1, 0]], [[1, 0, -100, 1]]])


def written(index, value):
    y = x * 1
    y[index] = value
    return y


GRAPHS = {
    "index": lambda: x[rows].sum() * x[:, [2, 0, 1]],
    "copy_slices": lambda: written((0, slice(1, 3)), v[:2]),
    "copy_slices_number": lambda: written(1, 2.5),
    "index_put": lambda: written((rows, gradienti.tensor([0, 2, 1])), v),
    "accumulate": lambda: x.index_put((rows,), v, accumulate=True),
    "copy": lambda: written(Ellipsis, v),
    "fill": lambda: written(Ellipsis, 2.5),
    "conv2d": lambda: F.conv2d(image, w, b, stride=2, padding=1),
    "conv2d_no_bias": lambda: F.conv2d(image, wg, groups=2, dilation=(1, 2), padding="same"),
    "conv1d": lambda: F.conv1d(signal, w1, padding=1) * F.conv1d(signal, w1, stride=1, padding=1),
    "nll_loss": lambda: F.nll_loss(x.log_softmax(1), pairs, reduction="sum"),
    "nll_loss2d": lambda: F.nll_loss(image.log_softmax(1)[:, :, :1], targets),
}
LEAVES = {"x": x, "v": v, "image": image, "w": w, "b": b, "signal": signal, "w1": w1, "wg": wg}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_and_recorded_backward_are_told_by_their_rules(name):
    out = GRAPHS[name]()
    nodes = nodes_below(out)
    leaves = list(LEAVES.values())
    gradients = gradienti.autograd.grad(
        out, leaves, gradienti.ones_like(out), create_graph=True, allow_unused=True
    )
    for gradient in gradients:
        if gradient is not None and gradient.grad_fn is not None:
            nodes += nodes_below(gradient)
    ours = {cls.__name__ for cls in node_classes()}
    checked = [node for node in nodes if type(node).__name__ in ours]
    assert checked
    assert [type(node).__name__ for node in checked if told_generically(node)] == []
    assert "∂ computed by" not in explain(out.sum(), names=LEAVES).text


def test_second_derivatives_are_told_by_the_vjp_ops_rules():
    """The recorded VJPs of nll_loss and conv are ops of their own: NllLossBackwardBackward0,
    Col2ImBackward0 and Im2ColBackward0."""
    logp = x.log_softmax(1)
    (grad,) = gradienti.autograd.grad(F.nll_loss(logp, pairs), [logp], create_graph=True)
    text = explain((grad * logp).sum(), names={"x": x}).text
    assert "NllLossBackwardBackward0" in text and "∂ computed by" not in text
    out = F.conv2d(image, w, b, padding=1)
    grads = gradienti.autograd.grad(out.pow(2).sum(), [image, w], create_graph=True)
    text = "".join(explain(g.sum(), names=LEAVES).text for g in grads)
    assert "Col2ImBackward0" in text and "Im2ColBackward0" in text
    assert "∂ computed by" not in text


def told(out, node_name) -> str:
    """The node's output in its inputs' names (without the short name of a long one)."""
    steps = explain(out.sum(), names=LEAVES).steps
    step = next(step for step in steps if step.name == node_name)
    return step.expression.split(" = ")[-1]


def test_rules_tell_the_parameters():
    out = F.conv2d(image, w, b, stride=2, padding=1)
    assert told(out, "ConvolutionBackward0") == "conv2d(image, w, b, stride=2, padding=1)"
    out = F.conv2d(image, wg, groups=2, dilation=(1, 2), padding="same")
    assert told(out, "ConvolutionBackward0") == (
        "conv2d(image, wg, padding='same', dilation=(1, 2), groups=2)"
    )
    assert told(F.conv1d(signal, w1), "ConvolutionBackward0") == "conv1d(signal, w1)"
    assert told(written(Ellipsis, x), "CopyBackwards") == "(1·x)[...] ← x"
    assert told(written(Ellipsis, 2.5) * 2, "FillBackward3") == "(1·x)[...] ← c"
    accumulated = x.index_put((rows,), v, accumulate=True)
    assert told(accumulated, "IndexPutBackward0") == "x.index_put(indices, v, accumulate=True)"


def test_a_missing_bias_is_not_shown_as_an_unknown_constant():
    x = gradienti.randn(1, 1, 4, 4, requires_grad=True)
    w = gradienti.randn(1, 1, 3, 3, requires_grad=True)
    text = str(
        gradienti.explain(gradienti.nn.functional.conv2d(x, w).sum(), names={"x": x, "w": w})
    )
    assert "b = w" in text
    assert "c = c" not in text and "c: a constant" not in text
