"""The explain rules declared by the reduction, shape, joining, diagonal, einsum and scatter
ops: every node class has one, and each node of a real graph (and of its recorded backward)
is told by its own rule, not generically."""

import pytest
from explain_helpers import leaf, nodes_below, told_generically
from explain_helpers import node_classes as module_node_classes

import gradienti
from gradienti.ops import (
    api,
    diagonal,
    einsum,
    extrema,
    join,
    norm,
    rearrange,
    reduce,
    scatter,
    shape,
    softmax,
)
from gradienti.viz.explain import explain

MODULES = (reduce, norm, extrema, softmax, shape, rearrange, join, diagonal, einsum, scatter)


def node_classes():
    return module_node_classes(*MODULES)


x, y, v, m, s = leaf(2, 3), leaf(2, 3), leaf(3), leaf(3, 3), leaf()
index = gradienti.tensor([[0, 1, 0], [1, 0, 1]])
mask = gradienti.tensor([[True, False, True], [False, True, False]])

GRAPHS = {
    "sum": lambda: x.sum(1),
    "mean": lambda: x.mean(),
    "prod": lambda: x.prod(1),
    "var": lambda: x.var(1),
    "std": lambda: x.std(),
    "norm": lambda: x.norm(3, dim=1),
    "max": lambda: x.max() + x.max(1).values.sum() + x.amin(0).sum(),
    "softmax": lambda: x.softmax(1) * x.log_softmax(0),
    "logsumexp": lambda: x.logsumexp(1),
    "cumulative": lambda: x.cumsum(1) * x.cumprod(0),
    "reshape": lambda: x.t().reshape(6).view(1, 6).squeeze().unsqueeze(0),
    "expand": lambda: v.expand(2, 3) * x[1] * x[:, 1:2],
    "rearrange": lambda: x.transpose(0, 1).t().permute(1, 0).flip(1).roll(1, 1).repeat(2, 1),
    "join": lambda: gradienti.cat([x, y], 0) * gradienti.stack([y, x]).sum(0).repeat(2, 1),
    "split": lambda: x.split([1, 2], 1)[1].sum() + x.chunk(3, 1)[2].sum() + x.unbind(0)[1],
    "diagonal": lambda: m.trace() * m.tril() * m.triu(1) * m.diag() * v.diag() * m.diagonal(),
    "einsum": lambda: gradienti.einsum("ij,jk->ik", x, m) * gradienti.einsum("ii->i", m),
    "read": lambda: x.index_select(1, index[0]) * x.gather(1, index) * x.take(index),
    "write": lambda: x.scatter(1, index, y) * x.scatter(1, index, 2.0) * x.masked_fill(mask, s),
    "add": lambda: x.scatter_add(1, index, y) * x.index_add(1, index[0, :2], y[:, :2], alpha=2),
    "masked": lambda: x.masked_select(mask).sum() * x.masked_fill(mask, 0.5),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_and_recorded_backward_are_told_by_their_rules(name):
    out = GRAPHS[name]()
    nodes = nodes_below(out)
    gradients = gradienti.autograd.grad(
        out, [x, y, v, m, s], gradienti.ones_like(out), create_graph=True, allow_unused=True
    )
    for gradient in gradients:
        if gradient is not None and gradient.grad_fn is not None:
            nodes += nodes_below(gradient)
    ours = {cls.__name__ for cls in node_classes()}
    checked = [node for node in nodes if type(node).__name__ in ours]
    assert checked
    assert [type(node).__name__ for node in checked if told_generically(node)] == []
    text = explain(out.sum(), names={"x": x, "y": y, "v": v, "m": m, "s": s}).text
    assert "∂ computed by" not in text.replace("∂ computed by IndexPutBackward0", "")


def test_rules_tell_the_parameters():
    step = explain(x.norm(3, dim=1).sum(), names={"x": x}).steps[1]
    assert step.formula == "norm(x, p=3, dim=(1,))"
    assert step.contributions[0].text.startswith("the gradient times sign(x)·|x|²/norm²")
    step = explain(x.var(1, correction=0).sum(), names={"x": x}).steps[1]
    assert step.formula == "var(x, dim=(1,), correction=0)"
    step = explain(gradienti.cat([x, y, x], 1).sum(), names={"x": x, "y": y}).steps[1]
    assert step.formula == "cat([a, b, c], dim=1)"
    step = explain(gradienti.einsum("ij,jk->ik", x, m).sum(), names={"x": x, "m": m}).steps[1]
    assert step.formula == "einsum('ij,jk->ik', a, b)"
    assert [c.text.split(" =")[0] for c in step.contributions] == [
        "einsum('ik,jk->ij', gradient, b)",
        "einsum('ik,ij->jk', gradient, a)",
    ]


def test_cli_offers_the_reductions():
    from gradienti.expression_functions import FUNCTIONS

    for name, summary in {
        "sum": "sum of the elements",
        "mean": "mean of the elements",
        "prod": "product of the elements",
        "norm": "Euclidean norm",
    }.items():
        assert name in api.CLI_FUNCTIONS
        assert FUNCTIONS[name].summary == summary
        assert FUNCTIONS[name].signature == f"{name}(x)"
