"""gradienti.utils._pytree against torch.utils._pytree: the leaves and their order, the
structure's repr and pretty print (the func transforms' error messages show them), equality
of structures, unflattening and tree_map."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import pytest

from gradienti.utils import _pytree as ours

torch = pytest.importorskip("torch")
theirs = pytest.importorskip("torch.utils._pytree")

Point = namedtuple("Point", "x y")

TREES = [
    1,
    None,
    (1,),
    [1, 2],
    (None, 1),
    (),
    [],
    {"a": 1, "b": (2, [3, 4])},
    {"b": 1, "a": 2},
    Point(1, (2, 3)),
    OrderedDict(z=1, y=[2]),
    ([1, {"k": (2,)}], Point(3, 4), {}),
]


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_flatten_as_pytorch(tree):
    our_leaves, our_spec = ours.tree_flatten(tree)
    their_leaves, their_spec = theirs.tree_flatten(tree)
    assert our_leaves == their_leaves
    assert repr(our_spec) == repr(their_spec)
    assert ours.treespec_pprint(our_spec) == theirs.treespec_pprint(their_spec)
    assert our_spec.num_leaves == their_spec.num_leaves
    rebuilt = ours.tree_unflatten(our_leaves, our_spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)


@pytest.mark.parametrize(("a", "b"), [(t, u) for t in TREES for u in TREES], ids=repr)
def test_structures_equal_as_pytorch(a, b):
    same_ours = ours.tree_structure(a) == ours.tree_structure(b)
    assert same_ours == (theirs.tree_structure(a) == theirs.tree_structure(b))


def test_tree_map_and_leaves():
    tree = {"a": (1, 2), "b": [3]}
    assert ours.tree_map(lambda x: x * 10, tree) == {"a": (10, 20), "b": [30]}
    assert ours.tree_map(lambda x, y: x + y, tree, tree) == {"a": (2, 4), "b": [6]}
    assert ours.tree_leaves(tree) == theirs.tree_leaves(tree) == [1, 2, 3]


def test_unflatten_with_the_wrong_number_of_leaves_as_pytorch():
    messages = []
    for module in (ours, theirs):
        with pytest.raises(ValueError) as error:
            module.tree_unflatten([1, 2, 3], module.tree_structure((1, 2)))
        messages.append(str(error.value))
    assert messages[0] == messages[1]
