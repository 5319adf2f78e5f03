"""``Tensor.register_post_accumulate_grad_hook`` against PyTorch: what a hook may return (the
error classes and texts), and the grad mode the hooks run in (on only under create_graph; a
backward pass run inside a dual level, on Tensors so that its gradients carry tangents, is not
create_graph)."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

LIBS = (torch, gradienti)


def outcome(call):
    try:
        return ("returned", call())
    except Exception as error:  # noqa: BLE001 - the outcome is the comparison
        return ("raised", type(error).__name__, str(error))


@pytest.mark.parametrize(
    "returned",
    [
        lambda lib: lib.ones(2),
        lambda lib: (1,),
        lambda lib: 5,
        lambda lib: np.ones(2),
    ],
    ids=["tensor", "tuple", "int", "ndarray"],
)
def test_a_hook_that_returns_something_raises_as_torch(returned):
    outcomes = []
    for lib in LIBS:
        leaf = lib.ones(2, requires_grad=True)
        leaf.register_post_accumulate_grad_hook(lambda tensor, lib=lib: returned(lib))
        outcomes.append(outcome(lambda leaf=leaf: (leaf * 2).sum().backward()))
    theirs, ours = outcomes
    assert ours == theirs


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
@pytest.mark.parametrize("how", ["backward in a dual level", "create_graph", "plain"])
def test_grad_mode_inside_the_hooks_is_torch_s(how):
    seen = {}
    for lib in LIBS:
        forward_ad = lib.autograd.forward_ad
        record = seen.setdefault(lib.__name__, [])
        leaf = lib.ones(2, requires_grad=True)
        leaf.register_hook(lambda g, record=record, lib=lib: record.append(lib.is_grad_enabled()))
        leaf.register_post_accumulate_grad_hook(
            lambda tensor, record=record, lib=lib: record.append(lib.is_grad_enabled())
        )
        if how == "backward in a dual level":
            with forward_ad.dual_level():
                dual = forward_ad.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 1.0]))
                (leaf * dual * leaf).sum().backward()
        else:
            (leaf * leaf).sum().backward(create_graph=how == "create_graph")
        leaf.grad = None  # (create_graph: the cycle between the leaf and its gradient)
    assert seen["gradienti"] == seen["torch"]
